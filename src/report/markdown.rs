//! Text made safe for the job summary and the pull request comment: titles and descriptions
//! come from GitHub and from files anyone with push access writes, and must show as the
//! literal text they are.

/// The most characters of one value a summary shows; longer text ends with `…`.
const CELL_MAX: usize = 300;

/// Makes text safe inside a Markdown table cell (or a list item): it shows as the literal
/// text it is. No line breaks, no pipes, no HTML, no Markdown (emphasis, links, images,
/// headings, code spans), bounded length. Titles and descriptions come from GitHub and from
/// files anyone with push access writes: they must never break the summary's table.
pub fn cell(text: &str) -> String {
    cell_to(text, CELL_MAX)
}

/// [`cell`] for a longer text, such as a message a person must read whole (up to `max`
/// characters).
pub fn cell_to(text: &str, max: usize) -> String {
    bounded_to(text, max, |ch, out| match ch {
        '|' => out.push_str("\\|"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '&' => out.push_str("&amp;"),
        '\\' | '`' | '*' | '_' | '[' | ']' | '~' | '#' | '!' => {
            out.push('\\');
            out.push(ch);
        }
        c => out.push(c),
    })
}

/// Makes text safe inside a code span (`` `…` `` in a table cell): backslash escapes and
/// entities would show literally there, so only what ends the span or the cell is changed.
pub fn code(text: &str) -> String {
    bounded(text, |ch, out| match ch {
        '|' => out.push_str("\\|"),
        '`' => out.push('\''),
        c => out.push(c),
    })
}

/// Applies `escape` to every character of the first [`CELL_MAX`] of `text`, with line breaks
/// turned into spaces (a line break ends a table row).
fn bounded(text: &str, escape: impl Fn(char, &mut String)) -> String {
    bounded_to(text, CELL_MAX, escape)
}

/// [`bounded`] with another bound.
fn bounded_to(text: &str, max: usize, escape: impl Fn(char, &mut String)) -> String {
    let mut out = String::with_capacity(text.len().min(max + 8));
    for (i, ch) in text.chars().enumerate() {
        if i >= max {
            out.push('…');
            break;
        }
        match ch {
            '\r' => {}
            '\n' | '\u{2028}' | '\u{2029}' => out.push(' '),
            c => escape(c, &mut out),
        }
    }
    out
}

/// A URL made safe as a Markdown link target inside a table cell.
pub(crate) fn link_target(url: &str) -> String {
    url.chars()
        .map(|c| match c {
            '(' => "%28".to_string(),
            ')' => "%29".to_string(),
            '|' => "%7C".to_string(),
            '<' => "%3C".to_string(),
            '>' => "%3E".to_string(),
            c if c.is_whitespace() => "%20".to_string(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_cannot_break_a_table_cell() {
        let c = cell("a | b\n<script>x</script> `c`");
        assert_eq!(c, "a \\| b &lt;script&gt;x&lt;/script&gt; \\`c\\`");
        assert!(cell(&"x".repeat(1000)).chars().count() <= 301);
        assert_eq!(
            cell("**bold** _it_ [link](javascript:x) ![img](http://t/x.png) ~~s~~ # h \\"),
            "\\*\\*bold\\*\\* \\_it\\_ \\[link\\](javascript:x) \\!\\[img\\](http://t/x.png) \\~\\~s\\~\\~ \\# h \\\\"
        );
        assert_eq!(code("a|b`c\r\nd <e>"), "a\\|b'c d <e>");
        assert_eq!(link_target("https://x/m/1) | y"), "https://x/m/1%29%20%7C%20y");
    }
}
