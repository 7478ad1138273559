//! JQL's lexer: words, quoted strings, parentheses, commas and operators, with their positions.

use super::JqlError;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Word(String),
    Quoted(String),
    LParen,
    RParen,
    Comma,
    Op(&'static str),
}

pub(super) fn tokenize(s: &str) -> Result<Vec<(Tok, usize)>, JqlError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
        let op2 = match two.as_str() {
            "!=" => Some("!="),
            "!~" => Some("!~"),
            ">=" => Some(">="),
            "<=" => Some("<="),
            _ => None,
        };
        if let Some(op) = op2 {
            out.push((Tok::Op(op), pos));
            i += 2;
            continue;
        }
        match c {
            '(' => out.push((Tok::LParen, pos)),
            ')' => out.push((Tok::RParen, pos)),
            ',' => out.push((Tok::Comma, pos)),
            '=' => out.push((Tok::Op("="), pos)),
            '>' => out.push((Tok::Op(">"), pos)),
            '<' => out.push((Tok::Op("<"), pos)),
            '~' => out.push((Tok::Op("~"), pos)),
            '"' | '\'' => {
                let mut v = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(JqlError(format!(
                                "Error in the JQL Query: The quoted string '{v}' has not been completed. (line 1, character {pos})"
                            )));
                        }
                        Some('\\') => {
                            if let Some(n) = chars.get(i + 1) {
                                v.push(*n);
                            }
                            i += 2;
                        }
                        Some(q) if *q == c => break,
                        Some(x) => {
                            v.push(*x);
                            i += 1;
                        }
                    }
                }
                out.push((Tok::Quoted(v), pos));
            }
            '!' => {
                return Err(JqlError(format!(
                    "Error in the JQL Query: The character '!' is a reserved JQL character. You must enclose it in a string or use the escape '\\u0021' instead. (line 1, character {pos})"
                )));
            }
            _ => {
                let mut v = String::new();
                while let Some(&x) = chars.get(i) {
                    if x.is_whitespace() || "()=,!<>~\"'".contains(x) {
                        break;
                    }
                    v.push(x);
                    i += 1;
                }
                out.push((Tok::Word(v), pos));
                continue;
            }
        }
        i += 1;
    }
    Ok(out)
}
