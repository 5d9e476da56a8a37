//! The sync base: for each linked pair, the synced fields as they were when the two sides
//! last agreed. With it each field's change is attributed to a side: changed only in the file
//! → write to GitHub; changed only on GitHub → write to the file; changed on both to
//! different values → a conflict for the policy. Without it no sync can tell an edit from a
//! revert.
//!
//! The base travels with the writes the sync makes anyway, so that keeping it never costs a
//! commit. It is kept in two records of the same form, each with a generation number:
//!
//! - on the milestone, as a hidden line after the marker lines (an HTML comment renders as
//!   nothing), rewritten whenever the sync writes the milestone:
//!   `<!-- milestone-sync base v1 gen=4 file=3 title=5f1c2a9e0b7d … -->`;
//! - in the artifact's front matter, rewritten only in commits the sync makes anyway (a value
//!   flowing in from GitHub, a new link, a conflict flag):
//!   `milestone_sync_base = "v1 gen=3 title=5f1c2a9e0b7d description=0c4e9b1a2f3d state=open due=2026-05-23"`.
//!
//! The record with the higher generation is the base ([`newer`]); a run that writes either
//! side writes the new base with the next generation. A push that changes a title thus
//! updates the milestone, whose record now holds the new base, and makes no commit. The
//! milestone's record also says which generation of the file record the sync last wrote or
//! saw (`file=`): a checkout whose file record is older than that was made before a commit of
//! the sync's, so the run reads the branch head before it writes ([`Staleness`]).
//!
//! Text fields are stored as fingerprints; a field missing from a record is unknown (a file
//! linked before the base existed); `due=none` records "no due date". Records written before
//! generations existed read as generation 0.

use chrono::NaiveDate;

use crate::artifact::normalize_text;

/// The front-matter key that holds the file's record.
pub const KEY: &str = "milestone_sync_base";

/// The front-matter key that flags an unresolved `manual_flag` conflict.
pub const CONFLICT_KEY: &str = "sync_conflict";

/// The synced fields when both sides last agreed; `None` = unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncBase {
    /// The record's generation: one more than the newer record the run that wrote it read.
    pub generation: u64,
    /// Only in the milestone's record: the generation of the file record the sync last wrote
    /// (or, when it did not write the file, saw).
    pub file_generation: Option<u64>,
    pub title: Option<String>,
    pub description: Option<String>,
    /// `true` when closed.
    pub closed: Option<bool>,
    /// `Some(None)`: no due date.
    pub due: Option<Option<NaiveDate>>,
}

/// The synced values of one side, normalised for comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Values {
    pub title: String,
    /// Normalised with [`normalize_text`], marker lines excluded.
    pub description: String,
    pub closed: bool,
    pub due: Option<NaiveDate>,
}

/// A short, stable fingerprint of a text (FNV-1a 64 over the normalised text, 12 hex digits):
/// enough to tell whether a side changed, at a fraction of the text's size. A collision
/// (one in 2^48) would hide one change until the next edit of that field.
pub fn fingerprint(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in normalize_text(text).bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{:012x}", hash >> 16)
}

impl SyncBase {
    /// The base recording `values` for every field (generation 0).
    pub fn of(values: &Values) -> SyncBase {
        SyncBase {
            title: Some(fingerprint(&values.title)),
            description: Some(fingerprint(&values.description)),
            closed: Some(values.closed),
            due: Some(values.due),
            ..SyncBase::default()
        }
    }

    /// Reads a record; unknown words are ignored, an unknown version gives an empty base
    /// (every field unknown).
    pub fn parse(text: &str) -> SyncBase {
        let mut words = text.split_whitespace();
        if words.next() != Some("v1") {
            return SyncBase::default();
        }
        let mut base = SyncBase::default();
        for word in words {
            let Some((key, value)) = word.split_once('=') else { continue };
            match key {
                "gen" => base.generation = value.parse().unwrap_or(0),
                "file" => base.file_generation = value.parse().ok(),
                "title" => base.title = Some(value.to_string()),
                "description" => base.description = Some(value.to_string()),
                "state" => base.closed = Some(value == "closed"),
                "due" if value == "none" => base.due = Some(None),
                "due" => base.due = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok().map(Some),
                _ => {}
            }
        }
        base
    }

    /// The record as stored.
    pub fn format(&self) -> String {
        let mut out = String::from("v1");
        if self.generation > 0 {
            out.push_str(&format!(" gen={}", self.generation));
        }
        if let Some(f) = self.file_generation {
            out.push_str(&format!(" file={f}"));
        }
        if let Some(t) = &self.title {
            out.push_str(&format!(" title={t}"));
        }
        if let Some(d) = &self.description {
            out.push_str(&format!(" description={d}"));
        }
        if let Some(c) = self.closed {
            out.push_str(if c { " state=closed" } else { " state=open" });
        }
        match self.due {
            Some(Some(d)) => out.push_str(&format!(" due={}", d.format("%Y-%m-%d"))),
            Some(None) => out.push_str(" due=none"),
            None => {}
        }
        out
    }

    /// Whether the two record the same values (generations aside).
    pub fn same_values(&self, other: &SyncBase) -> bool {
        (&self.title, &self.description, self.closed, self.due)
            == (&other.title, &other.description, other.closed, other.due)
    }

    /// Whether no field is known.
    pub fn is_unknown(&self) -> bool {
        self.title.is_none() && self.description.is_none() && self.closed.is_none() && self.due.is_none()
    }
}

/// The base of a pair: the newer of the file's record and the milestone's (the higher
/// generation; the milestone's on a tie, as both come from one run then). Either may be
/// missing; with neither, every field is unknown.
pub fn newer<'r>(file: Option<&'r SyncBase>, milestone: Option<&'r SyncBase>) -> Option<&'r SyncBase> {
    match (file, milestone) {
        (Some(f), Some(m)) => Some(if f.generation > m.generation { f } else { m }),
        (f, m) => m.or(f),
    }
}

/// Whether a checkout's file is older than one the sync has committed: the milestone's record
/// names a file generation above the file's own record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staleness {
    /// Nothing suggests the checkout is behind the branch.
    Fresh,
    /// The sync committed a newer version of the file than the checkout holds.
    Behind,
}

impl Staleness {
    pub fn of(file: Option<&SyncBase>, milestone: Option<&SyncBase>) -> Staleness {
        let seen = file.map_or(0, |f| f.generation);
        match milestone.and_then(|m| m.file_generation) {
            Some(written) if written > seen => Staleness::Behind,
            _ => Staleness::Fresh,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_tolerates_unknowns() {
        let v = Values {
            title: "Alpha".into(),
            description: "Text\r\n".into(),
            closed: false,
            due: NaiveDate::from_ymd_opt(2026, 5, 23),
        };
        let b = SyncBase::of(&v);
        assert_eq!(SyncBase::parse(&b.format()), b);
        assert_eq!(b.description, Some(fingerprint("Text")), "normalised before hashing");
        assert_eq!(b.format().split_whitespace().count(), 5, "generation 0 is not written");
        let partial = SyncBase::parse("v1 state=closed due=none future=1");
        assert_eq!(partial, SyncBase { closed: Some(true), due: Some(None), ..Default::default() });
        assert_eq!(SyncBase::parse("v9 title=x"), SyncBase::default());
        let with_gen = SyncBase { generation: 7, file_generation: Some(6), ..b.clone() };
        assert!(with_gen.format().starts_with("v1 gen=7 file=6 title="), "{}", with_gen.format());
        assert_eq!(SyncBase::parse(&with_gen.format()), with_gen);
        assert!(with_gen.same_values(&b) && !with_gen.is_unknown() && SyncBase::default().is_unknown());
    }

    #[test]
    fn the_newer_record_wins_and_the_milestone_breaks_ties() {
        let rec = |generation, title: &str| SyncBase { generation, title: Some(title.into()), ..Default::default() };
        let (old, new) = (rec(0, "file"), rec(1, "milestone"));
        assert_eq!(newer(Some(&old), Some(&new)), Some(&new));
        assert_eq!(newer(Some(&rec(3, "f")), Some(&rec(2, "m"))).unwrap().title.as_deref(), Some("f"));
        assert_eq!(newer(Some(&rec(2, "f")), Some(&rec(2, "m"))).unwrap().title.as_deref(), Some("m"));
        assert_eq!(newer(Some(&old), None), Some(&old));
        assert_eq!(newer(None, None), None);
    }

    #[test]
    fn a_file_record_older_than_the_one_the_sync_wrote_is_behind() {
        let file = SyncBase { generation: 3, ..Default::default() };
        let wrote = |f| SyncBase { generation: 5, file_generation: Some(f), ..Default::default() };
        assert_eq!(Staleness::of(Some(&file), Some(&wrote(3))), Staleness::Fresh);
        assert_eq!(Staleness::of(Some(&file), Some(&wrote(4))), Staleness::Behind);
        assert_eq!(Staleness::of(None, Some(&wrote(1))), Staleness::Behind);
        assert_eq!(Staleness::of(Some(&file), None), Staleness::Fresh);
    }

    #[test]
    fn fingerprints_differ_for_different_texts() {
        assert_ne!(fingerprint("Alpha"), fingerprint("Alpha 2"));
        assert_eq!(fingerprint("a\r\nb"), fingerprint("a\nb"));
        assert_eq!(fingerprint("x").len(), 12);
    }
}
