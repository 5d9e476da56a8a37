//! Round trips over files other people wrote: the corpus of real Markdown files with TOML front
//! matter in tests/fixtures/corpus (IntelliManage and Roo Commander files, Zola and Hugo
//! sites, the Rust blog; sources and licences in its README and MANIFEST.tsv).
//!
//! Each file that parses is turned into an Epic by adding the keys an Epic needs (`id` and
//! `type` set, `title` and `status` added where missing) and all of them go into one project.
//! Then, through the real binary and the stand-in, one reconcile after each step:
//!
//! 1. the first sync (milestones created, the links written);
//! 2. title, due date and state edited on GitHub;
//! 3. a paragraph appended to each description on GitHub, sent with CRLF as the web form does;
//! 4. a line in the middle of each description edited;
//! 5. a line deleted;
//! 6. each description emptied.
//!
//! After each step every file may differ from before only in the lines that step changed:
//! compared line by line (a line's ending is part of it), everything else is byte for byte.
//! The test prints, for each step, how many files changed a line they had no reason to.

use crate::common::Repo;
use milestone_sync::artifact::{self, FieldEdit};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Keys the sync writes for its own bookkeeping on any step that writes the file.
const BOOKKEEPING: [&str; 3] = ["milestone_sync_base", "updated_date", "related_milestone"];

struct Epic {
    /// Where the file came from (corpus path), for messages.
    source: String,
    /// Project-relative path in the test repository.
    path: String,
}

/// The corpus files listed in MANIFEST.tsv, as (corpus path, bytes).
fn corpus() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus");
    let manifest = std::fs::read_to_string(root.join("MANIFEST.tsv")).unwrap();
    let files: Vec<(String, Vec<u8>)> = manifest
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let rel = l.split('\t').next().unwrap().to_string();
            let bytes = std::fs::read(root.join(&rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
            (rel, bytes)
        })
        .collect();
    assert!(files.len() >= 200, "corpus missing: {} files", files.len());
    let sources: BTreeSet<&str> = files.iter().map(|(p, _)| p.split('/').next().unwrap()).collect();
    assert!(sources.len() >= 4, "{sources:?}");
    files
}

/// The front matter of a corpus file as a TOML table, when it has `+++` fences and parses.
fn front_matter(bytes: &[u8]) -> Option<toml_edit::DocumentMut> {
    let text = std::str::from_utf8(bytes).ok()?.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    let rest = text.strip_prefix("+++\n")?;
    // An empty front matter: the closing fence straight after the opening one.
    let end = if rest.starts_with("+++") { 0 } else { rest.find("\n+++")? };
    rest[..end].parse().ok()
}

/// The file turned into an Epic with ID `id`: `id` and `type` set, `title` and `status` added
/// where missing. `None` when its front matter does not parse.
fn as_epic(name: &str, bytes: &[u8], id: &str, titles: &mut BTreeSet<String>) -> Option<Vec<u8>> {
    let doc = front_matter(bytes)?;
    let mut edits = vec![
        FieldEdit::SetString { key: "id".into(), value: id.into() },
        FieldEdit::SetString { key: "type".into(), value: "🗺️ Epic".into() },
    ];
    // Milestone titles are unique per repository; files from different sites share some
    // ("Overview", "About"), so a repeated one gets the ID added.
    match doc.get("title").and_then(|t| t.as_str()).map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) if titles.insert(t.to_lowercase()) => {}
        Some(t) => edits.push(FieldEdit::SetString { key: "title".into(), value: format!("{t} ({id})") }),
        None => edits.push(FieldEdit::SetString { key: "title".into(), value: format!("Corpus file {id}") }),
    }
    if doc.get("status").and_then(|t| t.as_str()).is_none() {
        edits.push(FieldEdit::SetString { key: "status".into(), value: "🟡 To Do".into() });
    }
    let out = artifact::edit(name, bytes, &edits).ok()?;
    artifact::parse(name, &out).ok().map(|_| out)
}

/// A line's key in the front matter (`title = …` → `title`), if it is a key line.
fn key_of(line: &str) -> Option<&str> {
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')).then_some(key)
}

/// The lines removed and added between two versions of a file (each line with its ending),
/// and whether each sits in the front matter (before the closing `+++`) of its version.
#[derive(Default, Debug)]
struct Changes {
    removed: Vec<(String, bool)>,
    added: Vec<(String, bool)>,
}

fn front_end(lines: &[&str]) -> usize {
    // The closing fence: the second `+++` line.
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.trim_start_matches('\u{feff}').trim_end() == "+++")
        .nth(1)
        .map_or(0, |(i, _)| i)
}

fn changes(old: &str, new: &str) -> Changes {
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let (fa, fb) = (front_end(&a), front_end(&b));
    let mut out = Changes::default();
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &a, &b) {
        let (tag, o, n) = op.as_tag_tuple();
        if tag == similar::DiffTag::Equal {
            continue;
        }
        out.removed.extend(o.map(|i| (a[i].to_string(), i < fa)));
        out.added.extend(n.map(|i| (b[i].to_string(), i < fb)));
    }
    out
}

/// What a step may change in one file; `Err` names the first line it had no reason to touch.
type Check<'a> = dyn Fn(&str, &str, &Changes) -> Result<(), String> + 'a;

/// Front-matter changes only on bookkeeping keys and `also`; no body line.
fn front_only(c: &Changes, also: &[&str]) -> Result<(), String> {
    for (line, front) in c.removed.iter().chain(&c.added) {
        if !front {
            return Err(format!("body line {line:?}"));
        }
        if !key_of(line).is_some_and(|k| BOOKKEEPING.contains(&k) || also.contains(&k)) {
            return Err(format!("front-matter line {line:?}"));
        }
    }
    Ok(())
}

/// `c` without the pair a body ending without a newline causes: when the last line moves, the
/// old last line gains its newline and the new last line loses it (or back), so it shows as
/// removed and added with only its newline different.
fn without_moved_final_newline(c: &Changes, new: &str) -> Changes {
    let mut c = Changes { removed: c.removed.clone(), added: c.added.clone() };
    if new.ends_with('\n') {
        return c;
    }
    let same = |a: &str, b: &str| a.trim_end_matches(['\r', '\n']) == b.trim_end_matches(['\r', '\n']);
    if let Some(ai) = c.added.iter().rposition(|(l, f)| !f && !l.ends_with('\n')) {
        if let Some(ri) = c.removed.iter().position(|(l, f)| !f && same(l, &c.added[ai].0)) {
            c.removed.remove(ri);
            c.added.remove(ai);
        }
    }
    c
}

/// The body lines among the changes.
fn body(lines: &[(String, bool)]) -> Vec<&str> {
    lines.iter().filter(|(_, f)| !f).map(|(l, _)| l.as_str()).collect()
}

fn front(c: &Changes) -> Changes {
    Changes {
        removed: c.removed.iter().filter(|(_, f)| *f).cloned().collect(),
        added: c.added.iter().filter(|(_, f)| *f).cloned().collect(),
    }
}

/// The user's part of a milestone description (the marker lines and the record cut off), and
/// the rest, from the first marker line on.
fn split_description(d: &str) -> (String, String) {
    let d = d.replace("\r\n", "\n");
    match d.find("IntelliManage-ID:") {
        Some(i) => (d[..i].trim_end().to_string(), d[i..].to_string()),
        None => (d.trim_end().to_string(), String::new()),
    }
}

fn join(text: &str, markers: &str) -> String {
    if text.trim().is_empty() { markers.to_string() } else { format!("{text}\n\n{markers}") }
}

/// The line of `text` a step edits or deletes: the middle one of the lines that are not blank,
/// not a code fence and not a heading, so that the edit changes one line's meaning only.
fn middle_line(text: &str) -> Option<usize> {
    let candidates: Vec<usize> = text
        .split('\n')
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim_start();
            !t.is_empty() && !t.starts_with("```") && !t.starts_with("~~~") && !t.starts_with('#')
        })
        .map(|(i, _)| i)
        .collect();
    candidates.get(candidates.len() / 2).copied()
}

struct Corpus {
    repo: Repo,
    epics: Vec<Epic>,
    /// Milestone number by project-relative path.
    numbers: BTreeMap<String, u64>,
    report: Vec<String>,
    /// Files that changed lines a step did not, with why.
    failures: Vec<String>,
}

impl Corpus {
    fn files(&self) -> BTreeMap<String, String> {
        self.epics.iter().map(|e| (e.path.clone(), self.repo.file_at_head(&e.path).unwrap())).collect()
    }

    fn reconcile(&self) -> crate::common::Run {
        self.repo.pull();
        let run = self.repo.run("workflow_dispatch", "{}", &[]);
        assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
        run
    }

    /// Runs `step` (edits on GitHub), reconciles, and checks every file with `check`.
    fn step(&mut self, name: &str, edit: impl Fn(&str, &mut github_standin::MilestoneRecord), check: &Check) {
        let before = self.files();
        for e in &self.epics {
            let number = self.numbers[&e.path];
            self.repo.standin.edit_milestone(number, |m| edit(&e.path, m));
        }
        self.reconcile();
        let after = self.files();
        let mut bad = Vec::new();
        for e in &self.epics {
            let (old, new) = (&before[&e.path], &after[&e.path]);
            let c = without_moved_final_newline(&changes(old, new), new);
            // A new line ends like the file's lines (its first line's ending), never in the
            // form GitHub sent it.
            let eol = if old.split_inclusive('\n').next().is_some_and(|l| l.ends_with("\r\n")) { "\r\n" } else { "\n" };
            let wrong_end = c
                .added
                .iter()
                .find(|(l, _)| l.ends_with('\n') && !l.ends_with(eol) || (eol == "\n" && l.ends_with("\r\n")));
            if let Some((l, _)) = wrong_end {
                bad.push(format!("{} ({}): {l:?} does not end with {eol:?}", e.source, e.path));
            } else if let Err(why) = check(old, new, &c) {
                bad.push(format!("{} ({}): {why}", e.source, e.path));
            }
        }
        self.report.push(format!("{name}: {} of {} files changed lines the step did not", bad.len(), self.epics.len()));
        self.failures.extend(bad.into_iter().map(|b| format!("{name}: {b}")));
    }
}

#[test]
fn every_step_changes_only_the_lines_it_changed() {
    let mut prepared = Vec::new();
    let mut skipped = 0;
    let mut titles = BTreeSet::new();
    for (i, (source, bytes)) in corpus().into_iter().enumerate() {
        let id = format!("EPIC-{:03}", i + 1);
        match as_epic(&source, &bytes, &id, &mut titles) {
            Some(out) => prepared.push((source, format!("epics/{id}.md"), out)),
            None => skipped += 1,
        }
    }
    assert!(prepared.len() >= 200, "only {} corpus files became Epics", prepared.len());
    let files: Vec<(&str, &str)> =
        prepared.iter().map(|(_, p, b)| (p.as_str(), std::str::from_utf8(b).unwrap())).collect();
    let repo = Repo::new(&files);
    let epics: Vec<Epic> = prepared.iter().map(|(s, p, _)| Epic { source: s.clone(), path: p.clone() }).collect();
    let mut corpus = Corpus { repo, epics, numbers: BTreeMap::new(), report: Vec::new(), failures: Vec::new() };
    corpus.report.push(format!("{} files, {} with front matter that does not parse left out", prepared.len(), skipped));

    // 1. The first sync: the links and the base are added; nothing else changes.
    let initial: BTreeMap<String, String> =
        prepared.iter().map(|(_, p, b)| (p.clone(), String::from_utf8(b.clone()).unwrap())).collect();
    corpus.reconcile();
    let mut bad = Vec::new();
    for e in &corpus.epics {
        let new = corpus.repo.file_at_head(&e.path).unwrap();
        let c = changes(&initial[&e.path], &new);
        let ok = c.removed.is_empty()
            && c.added.iter().all(|(l, f)| *f && key_of(l).is_some_and(|k| BOOKKEEPING.contains(&k)));
        if !ok {
            bad.push(format!("{}: {c:?}", e.source));
        }
        let url = new.lines().find_map(|l| l.strip_prefix("related_milestone = \"")).unwrap_or_else(|| {
            panic!("{} ({}) was not linked:\n{new}", e.source, e.path);
        });
        let number = url.trim_end_matches('"').rsplit('/').next().unwrap().parse().unwrap();
        corpus.numbers.insert(e.path.clone(), number);
    }
    corpus.report.push(format!("first sync: {} of {} files changed other lines", bad.len(), corpus.epics.len()));
    corpus.failures.extend(bad.into_iter().map(|b| format!("first sync: {b}")));

    // 2. Title, due date and state on GitHub: only those keys' lines (and the bookkeeping).
    corpus.step(
        "title, due date, state",
        |_, m| {
            m.title = format!("{} (GitHub)", m.title);
            m.due_on = Some("2027-03-01T08:00:00Z".into());
            m.state = if m.state == "open" { "closed".into() } else { "open".into() };
        },
        &|_, _, c| {
            if !body(&c.removed).is_empty() || !body(&c.added).is_empty() {
                return Err(format!("body lines {c:?}"));
            }
            if !c.added.iter().any(|(l, _)| key_of(l) == Some("title")) {
                return Err("the title did not change".into());
            }
            front_only(c, &["title", "target_date", "milestone_target_date", "status"])
        },
    );

    // 3. A paragraph appended in the browser: CRLF everywhere, as the web form sends it.
    corpus.step(
        "paragraph appended with CRLF",
        |_, m| {
            let (text, markers) = split_description(m.description.as_deref().unwrap_or_default());
            let text =
                if text.is_empty() { "Added on GitHub.".to_string() } else { format!("{text}\n\nAdded on GitHub.") };
            m.description = Some(join(&text, &markers).replace('\n', "\r\n"));
        },
        &|old, _, c| {
            front_only(&front(c), &[])?;
            let removed = body(&c.removed);
            let added: Vec<&str> = body(&c.added).into_iter().map(|l| l.trim_end_matches(['\r', '\n'])).collect();
            // The new paragraph and the blank line before it; a body that ended without a
            // newline gets one on its old last line (that line then shows as removed and added).
            let mut extra: Vec<&str> =
                added.iter().copied().filter(|l| *l != "Added on GitHub." && !l.is_empty()).collect();
            for r in &removed {
                let r = r.trim_end_matches(['\r', '\n']);
                match extra.iter().position(|a| *a == r) {
                    Some(i) if !old.ends_with('\n') => {
                        extra.remove(i);
                    }
                    _ => return Err(format!("removed {r:?}")),
                }
            }
            if !added.contains(&"Added on GitHub.") || !extra.is_empty() {
                return Err(format!("added {added:?}"));
            }
            Ok(())
        },
    );

    // 4. A line in the middle edited.
    corpus.step(
        "middle line edited",
        |_, m| {
            let (text, markers) = split_description(m.description.as_deref().unwrap_or_default());
            let Some(i) = middle_line(&text) else { return };
            let mut lines: Vec<&str> = text.split('\n').collect();
            lines[i] = "Edited on GitHub.";
            m.description = Some(join(&lines.join("\n"), &markers));
        },
        &|_, _, c| {
            front_only(&front(c), &[])?;
            let (removed, added) = (body(&c.removed), body(&c.added));
            match (removed.as_slice(), added.as_slice()) {
                ([_], [a]) if a.trim_end() == "Edited on GitHub." => Ok(()),
                _ => Err(format!("removed {removed:?}, added {added:?}")),
            }
        },
    );

    // 5. A line deleted.
    corpus.step(
        "line deleted",
        |_, m| {
            let (text, markers) = split_description(m.description.as_deref().unwrap_or_default());
            let Some(i) = middle_line(&text) else { return };
            let mut lines: Vec<&str> = text.split('\n').collect();
            lines.remove(i);
            m.description = Some(join(&lines.join("\n"), &markers));
        },
        &|_, _, c| {
            front_only(&front(c), &[])?;
            let (removed, added) = (body(&c.removed), body(&c.added));
            // The line, and when it was the text's first or last, the blank line that parted
            // it from the rest (a text has no blank lines at its ends).
            let blank = removed.iter().filter(|l| l.trim().is_empty()).count();
            match removed.len() - blank {
                1 if added.is_empty() && blank <= 1 => Ok(()),
                _ => Err(format!("removed {removed:?}, added {added:?}")),
            }
        },
    );

    // 6. Emptied: the section's lines go, every other line stays.
    corpus.step(
        "description emptied",
        |_, m| {
            let (_, markers) = split_description(m.description.as_deref().unwrap_or_default());
            m.description = Some(markers);
        },
        &|old, new, c| {
            front_only(&front(c), &[])?;
            let section =
                |f: &str| artifact::description_section(f.split_once("\n+++").map_or("", |(_, b)| b)).to_string();
            if !artifact::normalize_text(&section(new)).is_empty() {
                return Err(format!("the section still holds {:?}", section(new)));
            }
            if !body(&c.added).iter().all(|l| l.trim().is_empty()) {
                return Err(format!("added {:?}", body(&c.added)));
            }
            let old_section = section(old);
            if let Some(r) =
                body(&c.removed).iter().find(|r| !r.trim().is_empty() && !old_section.contains(r.trim_end()))
            {
                return Err(format!("removed {r:?}, which is not in the section"));
            }
            Ok(())
        },
    );

    eprintln!("corpus round trip:\n  {}", corpus.report.join("\n  "));
    assert!(
        corpus.failures.is_empty(),
        "{} changes of lines no step changed:\n{}",
        corpus.failures.len(),
        corpus.failures.join("\n")
    );
}
