//! Emoji damaged by a wrong encoding: a UTF-8 file opened as Windows-1252 and saved again
//! turns `🟢` into `ðŸŸ¢`. Real IntelliManage files hold such values. The sync still reads
//! them ([`super::normalize_label`] drops the debris), but the file deserves a warning that
//! says what the value should be.

/// The characters Windows-1252 gives bytes 0x80–0x9F; `None` where the code page has none
/// (such bytes come back as the C1 control of the same number).
const CP1252_80_9F: [Option<char>; 32] = [
    Some('€'),
    None,
    Some('‚'),
    Some('ƒ'),
    Some('„'),
    Some('…'),
    Some('†'),
    Some('‡'),
    Some('ˆ'),
    Some('‰'),
    Some('Š'),
    Some('‹'),
    Some('Œ'),
    None,
    Some('Ž'),
    None,
    None,
    Some('‘'),
    Some('’'),
    Some('“'),
    Some('”'),
    Some('•'),
    Some('–'),
    Some('—'),
    Some('˜'),
    Some('™'),
    Some('š'),
    Some('›'),
    Some('œ'),
    None,
    Some('ž'),
    Some('Ÿ'),
];

/// The byte Windows-1252 (or Latin-1, for the C1 controls) decodes to `c`, for non-ASCII
/// characters only.
fn cp1252_byte(c: char) -> Option<u8> {
    match u32::from(c) {
        0x80..=0xFF => u8::try_from(u32::from(c)).ok(),
        _ => CP1252_80_9F.iter().position(|&x| x == Some(c)).and_then(|i| u8::try_from(0x80 + i).ok()),
    }
}

/// What a value's encoding damage looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Damage {
    /// The value is what it seems.
    None,
    /// UTF-8 read as Windows-1252: the value as it was meant (bytes the round trip lost, such
    /// as the last byte of a variation selector, are left out).
    Repairable(String),
    /// Holds U+FFFD: the original characters are gone.
    Lost,
}

/// Looks for runs of two or more characters that, encoded back to Windows-1252, are UTF-8
/// for at least one non-ASCII character. A lone accented letter (`é` in `Café`) is never a
/// run that decodes, so ordinary text is not taken for damage.
pub(crate) fn damage(value: &str) -> Damage {
    let mut out = String::with_capacity(value.len());
    let mut run: Vec<(char, u8)> = Vec::new();
    let mut repaired = false;
    let mut flush = |run: &mut Vec<(char, u8)>, out: &mut String| {
        let bytes: Vec<u8> = run.iter().map(|&(_, b)| b).collect();
        let decoded = String::from_utf8_lossy(&bytes);
        if run.len() >= 2 && decoded.chars().any(|c| !c.is_ascii() && c != char::REPLACEMENT_CHARACTER) {
            out.extend(decoded.chars().filter(|&c| c != char::REPLACEMENT_CHARACTER));
            repaired = true;
        } else {
            out.extend(run.iter().map(|&(c, _)| c));
        }
        run.clear();
    };
    for c in value.chars() {
        match cp1252_byte(c) {
            Some(b) => run.push((c, b)),
            None => {
                flush(&mut run, &mut out);
                out.push(c);
            }
        }
    }
    flush(&mut run, &mut out);
    if repaired {
        Damage::Repairable(out)
    } else if value.contains(char::REPLACEMENT_CHARACTER) {
        Damage::Lost
    } else {
        Damage::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_read_as_windows_1252_are_repaired() {
        assert_eq!(damage("ðŸŸ¢ Done"), Damage::Repairable("🟢 Done".into()));
        // The variation selector's last byte (0x8F) has no Windows-1252 character and was lost.
        assert_eq!(damage("ðŸ—ºï¸ Epic"), Damage::Repairable("🗺 Epic".into()));
        assert_eq!(damage("âšªï¸ Planned"), Damage::Repairable("⚪ Planned".into()));
        // Kept as the C1 control U+008F, the selector comes back whole.
        assert_eq!(damage("ðŸ—ºï¸\u{8f} Epic"), Damage::Repairable("🗺️ Epic".into()));
    }

    #[test]
    fn ordinary_text_is_not_damage() {
        for ok in ["🟢 Done", "🗺️ Epic", "Café crème", "Ångström über naïve", "—", "€ 5", "Straße", ""]
        {
            assert_eq!(damage(ok), Damage::None, "{ok}");
        }
        assert_eq!(damage("\u{fffd}\u{fffd} Done"), Damage::Lost);
    }
}
