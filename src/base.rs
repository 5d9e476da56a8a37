//! The sync base: for each linked artifact, the synced fields as they were after the last
//! successful sync, stored in the artifact's own front matter so the action stays stateless
//! between runs.
//!
//! With it, each field's change is attributed to a side: changed only in the file → write to
//! GitHub; changed only on GitHub → write to the file; changed on both to different values →
//! a conflict for the policy to resolve. Without it, no sync can tell an edit from a revert.
//!
//! Stored compactly in one string, text fields as fingerprints:
//!
//! ```toml
//! milestone_sync_base = "v1 title=5f1c2a9e0b7d description=0c4e9b1a2f3d state=open due=2026-05-23"
//! ```
//!
//! A field missing from the string is unknown (for example a file linked before the base
//! existed); `due=none` records "no due date".

use chrono::NaiveDate;

use crate::artifact::normalize_text;

/// The front-matter key that holds the base.
pub const KEY: &str = "milestone_sync_base";

/// The front-matter key that flags an unresolved `manual_flag` conflict.
pub const CONFLICT_KEY: &str = "sync_conflict";

/// The synced fields after the last sync; `None` = unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncBase {
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
    /// The base recording `values` for every field.
    pub fn of(values: &Values) -> SyncBase {
        SyncBase {
            title: Some(fingerprint(&values.title)),
            description: Some(fingerprint(&values.description)),
            closed: Some(values.closed),
            due: Some(values.due),
        }
    }

    /// Reads the stored string; unknown words are ignored, an unknown version gives an empty
    /// base (every field unknown).
    pub fn parse(text: &str) -> SyncBase {
        let mut words = text.split_whitespace();
        if words.next() != Some("v1") {
            return SyncBase::default();
        }
        let mut base = SyncBase::default();
        for word in words {
            let Some((key, value)) = word.split_once('=') else { continue };
            match key {
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

    /// The stored string.
    pub fn format(&self) -> String {
        let mut out = String::from("v1");
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
        assert_eq!(b.format().split_whitespace().count(), 5);
        let partial = SyncBase::parse("v1 state=closed due=none future=1");
        assert_eq!(partial, SyncBase { closed: Some(true), due: Some(None), ..Default::default() });
        assert_eq!(SyncBase::parse("v9 title=x"), SyncBase::default());
    }

    #[test]
    fn fingerprints_differ_for_different_texts() {
        assert_ne!(fingerprint("Alpha"), fingerprint("Alpha 2"));
        assert_eq!(fingerprint("a\r\nb"), fingerprint("a\nb"));
        assert_eq!(fingerprint("x").len(), 12);
    }
}
