//! The summary's picture: a Mermaid `gantt` of milestones (GitHub draws ```` ```mermaid ````
//! blocks in job summaries and comments), each bar from the day the milestone was made to its
//! due date, closed ones done, overdue ones critical; milestones without a due date are listed
//! beside it. Each carries its progress from the issue counts the milestone list already
//! returns, so the picture costs no request.

use std::fmt::Write as _;

use chrono::NaiveDate;

use crate::due_date;
use crate::milestone::{Milestone, MilestoneState};

/// One milestone as the roadmap draws it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    /// The repository's name (`api` of `acme/api`) when the run syncs milestones in more than
    /// one repository, to tell `api#3` from `web#3`; empty otherwise.
    pub repository: String,
    pub number: u64,
    pub title: String,
    pub url: String,
    pub closed: bool,
    /// When it was made (today for one the run is about to make).
    pub start: Option<NaiveDate>,
    pub due: Option<NaiveDate>,
    pub open_issues: u64,
    pub closed_issues: u64,
}

impl Bar {
    /// How the chart names it: `#3` (`api#3` across repositories), or `new` for one not made
    /// yet (a dry run). Mermaid shows a `#` as typed unless it starts an entity code (`#35;`),
    /// and a number is followed by a space.
    fn label(&self) -> String {
        match (self.url.is_empty(), self.repository.is_empty()) {
            (true, _) => "new".into(),
            (false, true) => format!("#{}", self.number),
            (false, false) => format!("{}#{}", self.repository, self.number),
        }
    }

    /// The chart's id for its task.
    fn id(&self) -> String {
        let repository: String = self.repository.chars().filter(char::is_ascii_alphanumeric).collect();
        if self.url.is_empty() {
            format!("new{repository}{}", u64::MAX - self.number)
        } else {
            format!("m{repository}{}", self.number)
        }
    }

    /// `m` as drawn; `repository` as [`Bar::repository`] says.
    pub fn of(m: &Milestone, repository: &str) -> Bar {
        Bar {
            repository: repository.to_string(),
            number: m.number,
            title: m.title.clone(),
            url: m.html_url.clone(),
            closed: m.state == MilestoneState::Closed,
            start: m.created_at.map(due_date::from_github),
            due: m.due_on.map(due_date::from_github),
            open_issues: m.open_issues,
            closed_issues: m.closed_issues,
        }
    }
}

/// The most bars one chart draws; past it the soonest due are drawn and the rest counted.
pub const BARS_MAX: usize = 100;

/// `▓▓▓░░ 3/5`: the share of the milestone's issues closed, in five cells; empty when the
/// milestone has no issues.
pub fn progress(open: u64, closed: u64) -> String {
    let total = open + closed;
    if total == 0 {
        return String::new();
    }
    // Rounded down, so that a bar is full only when every issue is closed.
    let full = (closed * 5 / total) as usize;
    format!("{}{} {closed}/{total}", "▓".repeat(full), "░".repeat(5 - full))
}

/// Text made safe for a Mermaid gantt task name, shown as typed. A `:` ends the name, `#…;`
/// is an entity code, `%%` starts a comment or a directive (`%%{init…}%%`), `;` ends a
/// statement in other diagrams: these, and brackets, double quotes and angle brackets, are
/// written as Mermaid's numeric entity codes (`#58;` for `:`), which it draws as the character.
/// Line breaks and control characters become spaces; a keyword at the start (`section`,
/// `click`, `title`…) cannot apply because every name starts with the milestone's number. At
/// most 60 characters are shown.
fn chart_text(text: &str) -> String {
    let cleaned: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    let mut shown = words.join(" ");
    if shown.chars().count() > 60 {
        shown = format!("{}…", shown.chars().take(59).collect::<String>());
    }
    shown
        .chars()
        .map(|c| match c {
            ':' | ';' | '#' | '%' | '"' | '`' | '<' | '>' | '{' | '}' | '[' | ']' | '(' | ')' | '\\' | '|' => {
                format!("#{};", u32::from(c))
            }
            c => c.to_string(),
        })
        .collect()
}

/// The roadmap in Markdown: the chart of the dated milestones and the list of the undated
/// ones; empty when there are none. `today` marks overdue bars.
pub fn roadmap(bars: &[Bar], today: NaiveDate, cell: impl Fn(&str) -> String) -> String {
    let mut dated: Vec<&Bar> = bars.iter().filter(|b| b.due.is_some()).collect();
    let undated: Vec<&Bar> = bars.iter().filter(|b| b.due.is_none()).collect();
    if dated.is_empty() && undated.is_empty() {
        return String::new();
    }
    dated.sort_by_key(|b| (b.due, b.number));
    let mut s = String::new();
    if !dated.is_empty() {
        let left = dated.len().saturating_sub(BARS_MAX);
        // No "today" line: Mermaid draws it at the reader's clock, not the run's, and on a first
        // import it sits on every bar's start and over the first date.
        let _ =
            writeln!(s, "```mermaid\ngantt\n    dateFormat YYYY-MM-DD\n    axisFormat %Y-%m-%d\n    todayMarker off");
        let (open, closed): (Vec<&&Bar>, Vec<&&Bar>) = dated.iter().take(BARS_MAX).partition(|b| !b.closed);
        for (name, group) in [("Open", open), ("Closed", closed)] {
            if group.is_empty() {
                continue;
            }
            let _ = writeln!(s, "    section {name}");
            for b in group {
                let Some(due) = b.due else { continue };
                // A bar needs a start before its end: a milestone made on or after its due
                // date is drawn as its last day.
                let start = b.start.filter(|s| *s < due).unwrap_or(due - chrono::Days::new(1));
                let tag = if b.closed {
                    "done, "
                } else if due < today {
                    "crit, "
                } else if b.closed_issues > 0 {
                    "active, "
                } else {
                    ""
                };
                let issues = match b.open_issues + b.closed_issues {
                    0 => String::new(),
                    total => format!(" {}/{total}", b.closed_issues),
                };
                let _ = writeln!(
                    s,
                    "    {} {}{issues} :{tag}{}, {}, {}",
                    b.label(),
                    chart_text(&b.title),
                    b.id(),
                    start.format("%Y-%m-%d"),
                    due.format("%Y-%m-%d")
                );
            }
        }
        let _ = writeln!(s, "```\n");
        if left > 0 {
            let _ = writeln!(s, "{left} more dated milestone(s), due later, are not drawn.\n");
        }
    }
    if !undated.is_empty() {
        let items: Vec<String> = undated
            .iter()
            .map(|b| {
                let p = progress(b.open_issues, b.closed_issues);
                let name = if b.url.is_empty() {
                    "new:".to_string()
                } else {
                    let name = if b.repository.is_empty() { String::new() } else { b.repository.clone() };
                    format!("[{name}#{}]({})", b.number, crate::report::link_target(&b.url))
                };
                format!(
                    "{name} {}{}{}",
                    cell(&b.title),
                    if b.closed { " (closed)" } else { "" },
                    if p.is_empty() { String::new() } else { format!(" {p}") }
                )
            })
            .collect();
        let _ = writeln!(s, "No due date: {}.\n", items.join(" · "));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(number: u64, title: &str, due: Option<&str>, closed: bool) -> Bar {
        Bar {
            repository: String::new(),
            number,
            title: title.into(),
            url: format!("https://github.com/acme/plan/milestone/{number}"),
            closed,
            start: Some(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()),
            due: due.map(|d| d.parse().unwrap()),
            open_issues: 2,
            closed_issues: 3,
        }
    }

    #[test]
    fn progress_fills_a_cell_per_fifth_closed() {
        assert_eq!(progress(2, 3), "▓▓▓░░ 3/5");
        assert_eq!(progress(0, 4), "▓▓▓▓▓ 4/4");
        assert_eq!(progress(1, 99), "▓▓▓▓░ 99/100");
        assert_eq!(progress(0, 0), "");
    }

    #[test]
    fn a_title_cannot_break_the_chart() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let hostile = "section Evil: x; ``` click m1 call alert() %%{init} #35; \"q\"\n    title Hijack";
        let s = roadmap(&[bar(1, hostile, Some("2026-07-01"), false)], today, |t| t.to_string());
        let task = s.lines().find(|l| l.contains(":m1") || l.contains(":active, m1")).expect(&s);
        assert_eq!(task.matches(':').count(), 1, "{task}");
        assert_eq!(
            task.trim_start(),
            "#1 section Evil#58; x#59; #96;#96;#96; click m1 call alert#40;#41; #37;#37;#123;init#125; #35;35#59; #34;q… 3/5 :active, m1, 2026-01-01, 2026-07-01"
        );
        assert!(!s.lines().any(|l| l.trim_start().starts_with("title") || l.trim_start().starts_with("click")), "{s}");
        assert!(!task.contains('%') && !task.contains('`'), "{task}");
    }

    /// Mermaid draws `#58;` as `:` and `#3` as typed: the bar reads as the milestone's title.
    #[test]
    fn a_bar_is_named_by_its_number_and_whole_title() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let mut api = bar(3, "Mobile app: offline mode (v1)", Some("2026-07-01"), false);
        let mut web = api.clone();
        web.repository = "web".into();
        api.repository = "api".into();
        let s =
            roadmap(&[bar(3, "Mobile app: offline mode (v1)", Some("2026-07-01"), false)], today, |t| t.to_string());
        assert!(
            s.contains("    #3 Mobile app#58; offline mode #40;v1#41; 3/5 :active, m3, 2026-01-01, 2026-07-01\n"),
            "{s}"
        );
        let s = roadmap(&[api, web], today, |t| t.to_string());
        assert!(s.contains("    api#3 Mobile app#58; offline mode #40;v1#41; 3/5 :active, mapi3, "), "{s}");
        assert!(s.contains("    web#3 Mobile app#58; offline mode #40;v1#41; 3/5 :active, mweb3, "), "{s}");
    }

    /// Mermaid's "today" line is the reader's clock: it covered the first date and the labels
    /// near it, and a summary read later would draw it against the run's bars.
    #[test]
    fn no_today_line() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let s = roadmap(&[bar(1, "Done", Some("2026-03-01"), true)], today, |t| t.to_string());
        assert!(
            s.starts_with(
                "```mermaid\ngantt\n    dateFormat YYYY-MM-DD\n    axisFormat %Y-%m-%d\n    todayMarker off\n"
            ),
            "{s}"
        );
    }

    #[test]
    fn bars_are_tagged_and_undated_ones_listed() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let bars = [
            bar(1, "Done", Some("2026-03-01"), true),
            bar(2, "Late", Some("2026-05-01"), false),
            bar(3, "Going", Some("2026-09-01"), false),
            bar(4, "Someday", None, false),
        ];
        let s = roadmap(&bars, today, |t| t.to_string());
        assert!(s.contains("#1 Done 3/5 :done, m1, 2026-01-01, 2026-03-01"), "{s}");
        assert!(s.contains("#2 Late 3/5 :crit, m2, 2026-01-01, 2026-05-01"), "{s}");
        assert!(s.contains("#3 Going 3/5 :active, m3, 2026-01-01, 2026-09-01"), "{s}");
        assert!(s.contains("No due date: [#4](https://github.com/acme/plan/milestone/4) Someday ▓▓▓░░ 3/5."), "{s}");
        assert!(roadmap(&[], today, |t| t.to_string()).is_empty());
    }
}
