//! Jira wiki markup within one line or cell: marks, code, links, mentions and emoticons.

use super::super::Warnings;
use super::super::doc::{Cell, Inline, Marks};
use super::super::emoji::emoticon_at;
use super::*;

/// Searches one inline run for closers, remembering where a search failed: a search walks
/// the run deterministically, so one that reaches a position a failed search passed through
/// fails too. Without this, a run of openers with no closer costs time quadratic in its length
/// (a hostile replica of a few MiB would hold a worker for hours).
struct Scanner<'a> {
    chars: &'a [char],
    /// Per position, a bit per search kind that is known to fail from there.
    dead: Vec<u8>,
}

/// The search bit for `}}`; markers take bits 0..4 by their index in `MARKERS`.
const CODE_END: u8 = 1 << 4;

impl<'a> Scanner<'a> {
    fn new(chars: &'a [char]) -> Self {
        Scanner {
            chars,
            dead: vec![0; chars.len() + 1],
        }
    }

    /// Ends a search: a failed one marks every position it passed through.
    fn finish<T>(&mut self, found: Option<T>, trail: &[usize], bit: u8) -> Option<T> {
        if found.is_none() {
            for &j in trail {
                self.dead[j] |= bit;
            }
        }
        found
    }

    /// The first unescaped `}}` at or after `from`.
    fn code_end(&mut self, from: usize) -> Option<usize> {
        let chars = self.chars;
        let mut trail = Vec::new();
        let mut j = from;
        let mut found = None;
        while j < chars.len() && self.dead[j] & CODE_END == 0 {
            trail.push(j);
            if chars[j] == '\\' {
                j += 2;
                continue;
            }
            if chars[j..].starts_with(&['}', '}']) {
                found = Some(j);
                break;
            }
            j += 1;
        }
        self.finish(found, &trail, CODE_END)
    }

    /// Where the closer of marker `m` is: (start, end) of the closing token.
    fn closer(&mut self, from: usize, m: char) -> Option<(usize, usize)> {
        let chars = self.chars;
        let bit = 1 << MARKERS.iter().position(|c| *c == m).unwrap_or(0);
        let mut trail = Vec::new();
        let mut j = from;
        let mut found = None;
        while j < chars.len() && self.dead[j] & bit == 0 {
            trail.push(j);
            let c = chars[j];
            if c == '\\' {
                j += 2;
                continue;
            }
            if c == '['
                && let Some(e) = bracket_end(chars, j + 1)
            {
                j = e + 1;
                continue;
            }
            if c == '{' && chars.get(j + 1) == Some(&m) && chars.get(j + 2) == Some(&'}') {
                found = Some((j, j + 3));
                break;
            }
            if c == '{'
                && chars.get(j + 1) == Some(&'{')
                && let Some(e) = self.code_end(j + 2)
            {
                j = e + 2;
                continue;
            }
            if c == m && closer_at(chars, j) {
                found = Some((j, j + 1));
                break;
            }
            if c == '\n' && chars.get(j + 1) == Some(&'\n') {
                break;
            }
            j += 1;
        }
        self.finish(found, &trail, bit)
    }
}

/// The index of the `]` closing a `[` opened just before `from`.
fn bracket_end(chars: &[char], from: usize) -> Option<usize> {
    let mut j = from;
    while j < chars.len() {
        match chars[j] {
            '\\' => j += 2,
            ']' => return Some(j),
            '[' | '\n' => return None,
            _ => j += 1,
        }
    }
    None
}

pub(super) fn parse_inline_str(s: &str, warn: &mut Warnings) -> Vec<Inline> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    parse_inline(&chars, &Marks::default(), &mut out, warn);
    out
}

fn unescape(chars: &[char]) -> String {
    let mut s = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\'
            && chars
                .get(i + 1)
                .is_some_and(|c| c.is_ascii_punctuation() && *c != '\\')
        {
            s.push(chars[i + 1]);
            i += 2;
        } else {
            s.push(chars[i]);
            i += 1;
        }
    }
    s
}

pub(super) fn parse_inline(
    chars: &[char],
    marks: &Marks,
    out: &mut Vec<Inline>,
    warn: &mut Warnings,
) {
    let mut buf = String::new();
    let flush = |buf: &mut String, out: &mut Vec<Inline>| {
        if !buf.is_empty() {
            out.push(Inline::marked(std::mem::take(buf), marks.clone()));
        }
    };
    let n = chars.len();
    let mut scan = Scanner::new(chars);
    let mut i = 0;
    while i < n {
        let c = chars[i];
        match c {
            '\\' => {
                match chars.get(i + 1) {
                    Some('\\') => {
                        flush(&mut buf, out);
                        out.push(Inline::HardBreak);
                    }
                    Some(p) if p.is_ascii_punctuation() => buf.push(*p),
                    _ => {
                        buf.push('\\');
                        i += 1;
                        continue;
                    }
                }
                i += 2;
            }
            '\n' => {
                flush(&mut buf, out);
                out.push(Inline::HardBreak);
                i += 1;
            }
            '{' => {
                if chars.get(i + 1) == Some(&'{')
                    && let Some(end) = scan.code_end(i + 2)
                {
                    flush(&mut buf, out);
                    let mut m = marks.clone();
                    m.code = true;
                    out.push(Inline::marked(unescape(&chars[i + 2..end]), m));
                    i = end + 2;
                    continue;
                }
                if let (Some(m), Some('}')) = (chars.get(i + 1), chars.get(i + 2))
                    && MARKERS.contains(m)
                    && let Some((cs, ce)) = scan.closer(i + 3, *m)
                    && cs > i + 3
                {
                    flush(&mut buf, out);
                    parse_inline(&chars[i + 3..cs], &set_mark(marks, *m), out, warn);
                    i = ce;
                    continue;
                }
                let rest: String = chars[i..n.min(i + 7)].iter().collect();
                if (rest.starts_with("{color") || rest.starts_with("{anchor"))
                    && let Some(e) = chars[i..].iter().position(|c| *c == '}')
                {
                    warn.push("wiki text colour or anchor dropped; its text is kept".into());
                    i += e + 1;
                    continue;
                }
                buf.push('{');
                i += 1;
            }
            '[' => {
                if let Some(end) = bracket_end(chars, i + 1) {
                    let inner = &chars[i + 1..end];
                    if let Some(inline) = bracket(inner, marks, warn) {
                        flush(&mut buf, out);
                        out.extend(inline);
                        i = end + 1;
                        continue;
                    }
                }
                buf.push('[');
                i += 1;
            }
            m if MARKERS.contains(&m) && opener_at(chars, i) => {
                if let Some((cs, ce)) = scan.closer(i + 1, m)
                    && cs > i + 1
                {
                    flush(&mut buf, out);
                    parse_inline(&chars[i + 1..cs], &set_mark(marks, m), out, warn);
                    i = ce;
                    continue;
                }
                buf.push(m);
                i += 1;
            }
            _ => {
                if let Some((wiki, short, text)) = emoticon_at(&chars[i..]) {
                    flush(&mut buf, out);
                    out.push(Inline::Emoji {
                        short_name: short.to_string(),
                        text: (!text.is_empty()).then(|| text.to_string()),
                    });
                    i += wiki.chars().count();
                    continue;
                }
                // The scheme first: collecting the word at every `h` is quadratic in `h-h-h-...`.
                let scheme: String = chars[i..].iter().take(8).collect();
                let scheme = scheme.to_ascii_lowercase();
                if (c == 'h' || c == 'H')
                    && (i == 0 || !chars[i - 1].is_alphanumeric())
                    && marks.link.is_none()
                    && (scheme.starts_with("http://") || scheme.starts_with("https://"))
                {
                    let word: String = chars[i..]
                        .iter()
                        // Braces end a bare URL: `{panel}` after one is the macro's, not the URL's.
                        .take_while(|c| {
                            !c.is_whitespace() && !matches!(c, '|' | ']' | '[' | '\\' | '{' | '}')
                        })
                        .collect();
                    let lower = word.to_ascii_lowercase();
                    if lower.starts_with("http://") || lower.starts_with("https://") {
                        // A trailing full stop or comma ends the sentence, not the URL.
                        let url = word.trim_end_matches(['.', ',', ';', ':', ')', '!', '?']);
                        flush(&mut buf, out);
                        let mut m = marks.clone();
                        m.link = Some(url.to_string());
                        out.push(Inline::marked(url, m));
                        i += url.chars().count();
                        continue;
                    }
                }
                buf.push(c);
                i += 1;
            }
        }
    }
    flush(&mut buf, out);
}

/// The content of `[...]`: a mention, a link, or nothing (then it stays text).
fn bracket(inner: &[char], marks: &Marks, warn: &mut Warnings) -> Option<Vec<Inline>> {
    let s: String = inner.iter().collect();
    if let Some(who) = s.strip_prefix('~') {
        let (account_id, username) = match who.strip_prefix("accountid:") {
            Some(id) => (Some(id.trim().to_string()), None),
            None => (None, Some(who.trim().to_string())),
        };
        return Some(vec![Inline::Mention {
            text: String::new(),
            account_id,
            username,
        }]);
    }
    // The last unescaped `|` separates the text from the target.
    let mut split = None;
    let mut j = 0;
    while j < inner.len() {
        match inner[j] {
            '\\' => j += 2,
            '|' => {
                split = Some(j);
                j += 1
            }
            _ => j += 1,
        }
    }
    match split {
        Some(p) => {
            let target: String = inner[p + 1..].iter().collect();
            let target = target.trim().to_string();
            // `[text|]` links nowhere: it stays text, as a link without a target cannot be written.
            if target.is_empty() {
                return None;
            }
            if target.starts_with('^') || target.starts_with('#') {
                warn.push(format!("wiki link to '{target}' kept as its text"));
                let mut out = Vec::new();
                parse_inline(&inner[..p], marks, &mut out, warn);
                return Some(out);
            }
            let mut m = marks.clone();
            m.link = Some(target);
            let mut out = Vec::new();
            parse_inline(&inner[..p], &m, &mut out, warn);
            Some(out)
        }
        None if is_url_like(s.trim()) => {
            let mut m = marks.clone();
            m.link = Some(s.trim().to_string());
            Some(vec![Inline::marked(s.trim(), m)])
        }
        None => None,
    }
}

/// A table row's cells (`|a|b|`, `||head||`): a `|` inside a link, code or an escape is not a cell border.
pub(super) fn parse_row(line: &str, warn: &mut Warnings) -> Vec<Cell> {
    let chars: Vec<char> = line.chars().collect();
    let mut scan = Scanner::new(&chars);
    let mut cells = Vec::new();
    let mut i = 0;
    while i < chars.len() && chars[i] == '|' {
        let header = chars.get(i + 1) == Some(&'|');
        i += if header { 2 } else { 1 };
        let start = i;
        while i < chars.len() && chars[i] != '|' {
            match chars[i] {
                '\\' => i += 2,
                '[' => i = bracket_end(&chars, i + 1).map_or(i + 1, |e| e + 1),
                '{' if chars.get(i + 1) == Some(&'{') => {
                    i = scan.code_end(i + 2).map_or(i + 2, |e| e + 2)
                }
                _ => i += 1,
            }
        }
        let i_end = i.min(chars.len());
        if i_end == start && i >= chars.len() {
            break;
        }
        let content: String = chars[start..i_end].iter().collect();
        if i >= chars.len() && content.trim().is_empty() {
            break;
        }
        cells.push(Cell {
            header,
            content: parse_inline_str(content.trim(), warn),
        });
    }
    cells
}
