//! JQL's parser: tokens into a WHERE tree and an ORDER BY list, with Jira's messages for what it cannot read.

use super::JqlError;
use super::lexer::{Tok, tokenize};

const OPERATORS: &str = "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'.";

/// A value on the right of an operator.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Val {
    Str(String),
    Empty,
    Func(String, Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Op {
    Eq,
    Ne,
    Like,
    NotLike,
    Gt,
    Ge,
    Lt,
    Le,
    In,
    NotIn,
    Is,
    IsNot,
}

impl Op {
    pub(super) fn text(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Like => "~",
            Op::NotLike => "!~",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::In => "in",
            Op::NotIn => "not in",
            Op::Is => "is",
            Op::IsNot => "is not",
        }
    }
}

#[derive(Debug, Clone)]
pub(super) enum Ast {
    And(Box<Ast>, Box<Ast>),
    Or(Box<Ast>, Box<Ast>),
    Not(Box<Ast>),
    Clause {
        field: String,
        op: Op,
        values: Vec<Val>,
    },
    All,
}

/// A parsed, unvalidated query.
#[derive(Debug, Clone)]
pub(super) struct Parsed {
    pub(super) where_: Ast,
    pub(super) order: Vec<(String, bool)>,
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    i: usize,
    end: usize,
}

fn kw(t: &Tok, k: &str) -> bool {
    matches!(t, Tok::Word(w) if w.eq_ignore_ascii_case(k))
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.0)
    }
    fn pos(&self) -> usize {
        self.toks.get(self.i).map(|t| t.1).unwrap_or(self.end)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.i).map(|t| t.0.clone());
        self.i += 1;
        t
    }
    fn err(&self, what: &str) -> JqlError {
        let got = match self.toks.get(self.i) {
            Some((Tok::Word(w), _)) | Some((Tok::Quoted(w), _)) => format!("but got '{w}'"),
            Some((Tok::LParen, _)) => "but got '('".into(),
            Some((Tok::RParen, _)) => "but got ')'".into(),
            Some((Tok::Comma, _)) => "but got ','".into(),
            Some((Tok::Op(o), _)) => format!("but got '{o}'"),
            None => "but reached the end of the query".into(),
        };
        JqlError(format!(
            "Error in the JQL Query: Expecting {what} {got}. (line 1, character {})",
            self.pos()
        ))
    }

    fn query(&mut self) -> Result<Parsed, JqlError> {
        let where_ = if self.peek().is_none() || self.peek().is_some_and(|t| kw(t, "order")) {
            Ast::All
        } else {
            self.or()?
        };
        let mut order = Vec::new();
        if self.peek().is_some_and(|t| kw(t, "order")) {
            self.next();
            if !self.peek().is_some_and(|t| kw(t, "by")) {
                return Err(self.err("'by'"));
            }
            self.next();
            loop {
                let field = match self.next() {
                    Some(Tok::Word(w)) | Some(Tok::Quoted(w)) => w,
                    _ => {
                        self.i -= 1;
                        return Err(self.err("a field name"));
                    }
                };
                let mut asc = true;
                if self.peek().is_some_and(|t| kw(t, "asc")) {
                    self.next();
                } else if self.peek().is_some_and(|t| kw(t, "desc")) {
                    self.next();
                    asc = false;
                }
                order.push((field, asc));
                if self.peek() == Some(&Tok::Comma) {
                    self.next();
                } else {
                    break;
                }
            }
        }
        if self.peek().is_some() {
            return Err(self.err("either 'OR' or 'AND'"));
        }
        Ok(Parsed { where_, order })
    }

    fn or(&mut self) -> Result<Ast, JqlError> {
        let mut left = self.and()?;
        while self.peek().is_some_and(|t| kw(t, "or")) {
            self.next();
            let right = self.and()?;
            left = Ast::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Ast, JqlError> {
        let mut left = self.not()?;
        while self.peek().is_some_and(|t| kw(t, "and")) {
            self.next();
            let right = self.not()?;
            left = Ast::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Ast, JqlError> {
        if self.peek().is_some_and(|t| kw(t, "not")) {
            self.next();
            return Ok(Ast::Not(Box::new(self.not()?)));
        }
        if self.peek() == Some(&Tok::LParen) {
            self.next();
            let inner = self.or()?;
            if self.peek() != Some(&Tok::RParen) {
                return Err(self.err("')'"));
            }
            self.next();
            return Ok(inner);
        }
        self.clause()
    }

    fn clause(&mut self) -> Result<Ast, JqlError> {
        let field = match self.peek() {
            Some(Tok::Word(w))
                if !["and", "or", "order"]
                    .iter()
                    .any(|k| w.eq_ignore_ascii_case(k)) =>
            {
                w.clone()
            }
            Some(Tok::Quoted(w)) => w.clone(),
            _ => return Err(self.err("a field name")),
        };
        self.next();
        let op = match self.peek() {
            Some(Tok::Op(o)) => {
                let op = match *o {
                    "=" => Op::Eq,
                    "!=" => Op::Ne,
                    "~" => Op::Like,
                    "!~" => Op::NotLike,
                    ">" => Op::Gt,
                    ">=" => Op::Ge,
                    "<" => Op::Lt,
                    _ => Op::Le,
                };
                self.next();
                op
            }
            Some(t) if kw(t, "in") => {
                self.next();
                Op::In
            }
            Some(t) if kw(t, "is") => {
                self.next();
                if self.peek().is_some_and(|t| kw(t, "not")) {
                    self.next();
                    Op::IsNot
                } else {
                    Op::Is
                }
            }
            Some(t) if kw(t, "not") => {
                self.next();
                if self.peek().is_some_and(|t| kw(t, "in")) {
                    self.next();
                    Op::NotIn
                } else {
                    return Err(self.err("'IN'"));
                }
            }
            _ => {
                let e = self.err("operator");
                return Err(JqlError(e.0.replacen(
                    ". (line",
                    &format!(". {OPERATORS} (line"),
                    1,
                )));
            }
        };
        let values = match op {
            Op::In | Op::NotIn => {
                if self.peek() != Some(&Tok::LParen) {
                    return Err(self.err("'('"));
                }
                self.next();
                let mut vals = Vec::new();
                loop {
                    vals.push(self.value()?);
                    match self.next() {
                        Some(Tok::Comma) => continue,
                        Some(Tok::RParen) => break,
                        _ => {
                            self.i -= 1;
                            return Err(self.err("')'"));
                        }
                    }
                }
                vals
            }
            Op::Is | Op::IsNot => {
                let v = self.value()?;
                if v != Val::Empty {
                    return Err(JqlError(format!(
                        "The operator '{}' only supports the 'EMPTY' or 'NULL' values.",
                        op.text()
                    )));
                }
                vec![v]
            }
            _ => vec![self.value()?],
        };
        Ok(Ast::Clause { field, op, values })
    }

    fn value(&mut self) -> Result<Val, JqlError> {
        match self.next() {
            Some(Tok::Quoted(s)) => Ok(Val::Str(s)),
            Some(Tok::Word(w)) => {
                if w.eq_ignore_ascii_case("empty") || w.eq_ignore_ascii_case("null") {
                    return Ok(Val::Empty);
                }
                if self.peek() == Some(&Tok::LParen) {
                    self.next();
                    let mut args = Vec::new();
                    loop {
                        match self.next() {
                            Some(Tok::RParen) => break,
                            Some(Tok::Comma) => continue,
                            Some(Tok::Word(a)) | Some(Tok::Quoted(a)) => args.push(a),
                            _ => {
                                self.i -= 1;
                                return Err(self.err("')'"));
                            }
                        }
                    }
                    return Ok(Val::Func(w, args));
                }
                Ok(Val::Str(w))
            }
            _ => {
                self.i -= 1;
                Err(self.err("either a value, list or function"))
            }
        }
    }
}

pub(super) fn parse(s: &str) -> Result<Parsed, JqlError> {
    let toks = tokenize(s)?;
    let mut p = Parser {
        toks,
        i: 0,
        end: s.chars().count() + 1,
    };
    p.query()
}
