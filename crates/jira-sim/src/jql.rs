//! JQL: a small parser, validation against the instance's data, and evaluation over issues.
//!
//! What it does not understand it rejects with Jira's 400 message; it never guesses.

use std::cmp::Ordering;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

use super::error::ApiError;
use super::model::{CustomKind, Issue, StatusCategory, UserId};
use super::state::State;

const OPERATORS: &str = "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'.";

/// A JQL error; becomes Jira's 400 `errorMessages` entry.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct JqlError(pub String);

impl From<JqlError> for ApiError {
    fn from(e: JqlError) -> Self {
        ApiError::bad_request(e.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    LParen,
    RParen,
    Comma,
    Op(&'static str),
}

fn tokenize(s: &str) -> Result<Vec<(Tok, usize)>, JqlError> {
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

/// A value on the right of an operator.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Str(String),
    Empty,
    Func(String, Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
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
    fn text(self) -> &'static str {
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
enum Ast {
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
struct Parsed {
    where_: Ast,
    order: Vec<(String, bool)>,
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

fn parse(s: &str) -> Result<Parsed, JqlError> {
    let toks = tokenize(s)?;
    let mut p = Parser {
        toks,
        i: 0,
        end: s.chars().count() + 1,
    };
    p.query()
}

/// Fields JQL can name, resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Field {
    Project,
    Key,
    IssueType,
    Status,
    StatusCategory,
    Priority,
    Resolution,
    Labels,
    Component,
    Assignee,
    Reporter,
    Creator,
    Parent,
    Created,
    Updated,
    Resolved,
    DueDate,
    Text,
    Summary,
    Description,
    Comment,
    Custom(usize),
}

impl Field {
    fn name(self, state: &State) -> String {
        match self {
            Field::Project => "project".into(),
            Field::Key => "key".into(),
            Field::IssueType => "issuetype".into(),
            Field::Status => "status".into(),
            Field::StatusCategory => "statusCategory".into(),
            Field::Priority => "priority".into(),
            Field::Resolution => "resolution".into(),
            Field::Labels => "labels".into(),
            Field::Component => "component".into(),
            Field::Assignee => "assignee".into(),
            Field::Reporter => "reporter".into(),
            Field::Creator => "creator".into(),
            Field::Parent => "parent".into(),
            Field::Created => "created".into(),
            Field::Updated => "updated".into(),
            Field::Resolved => "resolved".into(),
            Field::DueDate => "due".into(),
            Field::Text => "text".into(),
            Field::Summary => "summary".into(),
            Field::Description => "description".into(),
            Field::Comment => "comment".into(),
            Field::Custom(i) => state.custom_fields[i].name.clone(),
        }
    }
}

fn resolve_field(name: &str, state: &State) -> Result<Field, JqlError> {
    let f = match name.to_ascii_lowercase().as_str() {
        "project" => Field::Project,
        "key" | "issuekey" | "id" | "issue" => Field::Key,
        "issuetype" | "type" => Field::IssueType,
        "status" => Field::Status,
        "statuscategory" => Field::StatusCategory,
        "priority" => Field::Priority,
        "resolution" => Field::Resolution,
        "labels" | "label" => Field::Labels,
        "component" | "components" => Field::Component,
        "assignee" => Field::Assignee,
        "reporter" => Field::Reporter,
        "creator" => Field::Creator,
        "parent" => Field::Parent,
        "created" | "createddate" => Field::Created,
        "updated" | "updateddate" => Field::Updated,
        "resolved" | "resolutiondate" => Field::Resolved,
        "due" | "duedate" => Field::DueDate,
        "text" => Field::Text,
        "summary" => Field::Summary,
        "description" => Field::Description,
        "comment" => Field::Comment,
        lower => {
            let num = lower
                .strip_prefix("cf[")
                .and_then(|r| r.strip_suffix(']'))
                .or_else(|| lower.strip_prefix("customfield_"));
            let found = state.custom_fields.iter().position(|cf| match num {
                Some(n) => cf.id == format!("customfield_{n}"),
                None => cf.name.eq_ignore_ascii_case(name),
            });
            match found {
                Some(i) => Field::Custom(i),
                None => {
                    return Err(JqlError(format!(
                        "Field '{name}' does not exist or you do not have permission to view it."
                    )));
                }
            }
        }
    };
    Ok(f)
}

/// How a field's values compare.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Ids in a set: =, !=, IN, NOT IN, IS.
    Set,
    Date,
    Text,
    /// Text that also supports = and IN (select/short text custom fields).
    TextSet,
    Number,
}

fn kind(f: Field, state: &State) -> Kind {
    match f {
        Field::Created | Field::Updated | Field::Resolved | Field::DueDate => Kind::Date,
        Field::Text | Field::Summary | Field::Description | Field::Comment => Kind::Text,
        Field::Custom(i) => match state.custom_fields[i].kind {
            CustomKind::Text | CustomKind::Textarea => Kind::Text,
            CustomKind::Select | CustomKind::Labels | CustomKind::User => Kind::TextSet,
            CustomKind::Date => Kind::Date,
            CustomKind::Number => Kind::Number,
        },
        _ => Kind::Set,
    }
}

fn op_allowed(f: Field, k: Kind, op: Op) -> bool {
    use Op::*;
    match k {
        Kind::Set => matches!(op, Eq | Ne | In | NotIn | Is | IsNot),
        Kind::TextSet => matches!(op, Eq | Ne | In | NotIn | Is | IsNot | Like | NotLike),
        Kind::Date | Kind::Number => {
            matches!(op, Eq | Ne | Gt | Ge | Lt | Le | Is | IsNot | In | NotIn)
        }
        Kind::Text => match f {
            Field::Text => matches!(op, Like | NotLike),
            _ => matches!(op, Like | NotLike | Is | IsNot),
        },
    }
}

/// A compiled predicate over one issue.
#[derive(Debug, Clone)]
enum Pred {
    All,
    And(Box<Pred>, Box<Pred>),
    Or(Box<Pred>, Box<Pred>),
    Not(Box<Pred>),
    /// Field values (canonical strings) against wanted values; `None` in the list = EMPTY.
    In {
        field: Field,
        wanted: Vec<Option<String>>,
        negate: bool,
    },
    Cmp {
        field: Field,
        op: Op,
        at: Cmpable,
    },
    Like {
        field: Field,
        terms: Vec<String>,
        negate: bool,
    },
    Empty {
        field: Field,
        negate: bool,
    },
}

#[derive(Debug, Clone, Copy)]
enum Cmpable {
    Time(DateTime<Utc>),
    Num(f64),
}

/// A validated query, ready to run over issues.
#[derive(Debug, Clone)]
pub struct Query {
    pred: Pred,
    order: Vec<(Field, bool)>,
}

/// Parses and validates `jql` against `state`; `actor` answers `currentUser()`.
pub fn compile(jql: &str, state: &State, actor: Option<UserId>) -> Result<Query, JqlError> {
    let parsed = parse(jql)?;
    let now = Utc::now();
    let pred = compile_ast(&parsed.where_, state, actor, now)?;
    let mut order = Vec::new();
    for (name, asc) in &parsed.order {
        let f = resolve_field(name, state)?;
        if matches!(f, Field::Text | Field::Comment | Field::Description) {
            return Err(JqlError(format!(
                "Field '{name}' does not support sorting."
            )));
        }
        order.push((f, *asc));
    }
    Ok(Query { pred, order })
}

fn compile_ast(
    a: &Ast,
    state: &State,
    actor: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<Pred, JqlError> {
    Ok(match a {
        Ast::All => Pred::All,
        Ast::And(l, r) => Pred::And(
            Box::new(compile_ast(l, state, actor, now)?),
            Box::new(compile_ast(r, state, actor, now)?),
        ),
        Ast::Or(l, r) => Pred::Or(
            Box::new(compile_ast(l, state, actor, now)?),
            Box::new(compile_ast(r, state, actor, now)?),
        ),
        Ast::Not(x) => Pred::Not(Box::new(compile_ast(x, state, actor, now)?)),
        Ast::Clause { field, op, values } => compile_clause(field, *op, values, state, actor, now)?,
    })
}

fn compile_clause(
    name: &str,
    op: Op,
    values: &[Val],
    state: &State,
    actor: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<Pred, JqlError> {
    let field = resolve_field(name, state)?;
    let k = kind(field, state);
    if !op_allowed(field, k, op) {
        return Err(JqlError(format!(
            "The operator '{}' is not supported by the '{}' field.",
            op.text(),
            field.name(state)
        )));
    }
    if matches!(op, Op::Is | Op::IsNot) {
        return Ok(Pred::Empty {
            field,
            negate: op == Op::IsNot,
        });
    }
    if matches!(op, Op::Like | Op::NotLike) {
        let text = match values.first() {
            Some(Val::Str(s)) => s.clone(),
            _ => {
                return Err(JqlError(format!(
                    "The operator '{}' is not supported by the '{}' field with this value.",
                    op.text(),
                    field.name(state)
                )));
            }
        };
        let terms = text
            .split_whitespace()
            .map(|t| t.trim_matches('"').trim_end_matches('*').to_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        return Ok(Pred::Like {
            field,
            terms,
            negate: op == Op::NotLike,
        });
    }
    if k == Kind::Date || k == Kind::Number {
        if matches!(op, Op::In | Op::NotIn) {
            let mut p: Option<Pred> = None;
            for v in values {
                let at = cmp_value(field, k, v, now, state)?;
                let c = Pred::Cmp {
                    field,
                    op: Op::Eq,
                    at,
                };
                p = Some(match p {
                    None => c,
                    Some(prev) => Pred::Or(Box::new(prev), Box::new(c)),
                });
            }
            let p = p.unwrap_or(Pred::All);
            return Ok(if op == Op::NotIn {
                Pred::Not(Box::new(p))
            } else {
                p
            });
        }
        let v = values.first().cloned().unwrap_or(Val::Empty);
        if v == Val::Empty {
            return Ok(Pred::Empty {
                field,
                negate: op == Op::Ne,
            });
        }
        let at = cmp_value(field, k, &v, now, state)?;
        return Ok(Pred::Cmp { field, op, at });
    }
    let mut wanted = Vec::new();
    for v in values {
        match v {
            Val::Empty => wanted.push(None),
            Val::Func(f, _)
                if f.eq_ignore_ascii_case("currentuser")
                    && matches!(field, Field::Assignee | Field::Reporter | Field::Creator) =>
            {
                wanted.push(actor.map(|u| u.to_string()));
            }
            Val::Func(f, _) => {
                return Err(JqlError(format!("Unable to find JQL function '{f}()'.")));
            }
            Val::Str(s) => wanted.push(Some(canonical(field, s, state)?)),
        }
    }
    Ok(Pred::In {
        field,
        wanted,
        negate: matches!(op, Op::Ne | Op::NotIn),
    })
}

fn not_exist(s: &str, field: Field, state: &State) -> JqlError {
    JqlError(format!(
        "The value '{s}' does not exist for the field '{}'.",
        field.name(state)
    ))
}

/// The canonical form of a query value (ids, lowercased labels, user indexes).
fn canonical(field: Field, s: &str, state: &State) -> Result<String, JqlError> {
    let eq = |a: &str| a.eq_ignore_ascii_case(s);
    let found = match field {
        Field::Project => state
            .projects
            .iter()
            .find(|p| eq(&p.id) || eq(&p.key) || eq(&p.name))
            .map(|p| p.id.clone()),
        Field::IssueType => state
            .issue_types
            .iter()
            .find(|t| eq(&t.id) || eq(&t.name))
            .map(|t| t.id.clone()),
        Field::Status => state
            .statuses
            .iter()
            .find(|t| eq(&t.id) || eq(&t.name))
            .map(|t| t.id.clone()),
        Field::StatusCategory => match s.to_ascii_lowercase().as_str() {
            "new" | "to do" | "2" => Some("new".into()),
            "indeterminate" | "in progress" | "4" => Some("indeterminate".into()),
            "done" | "3" => Some("done".into()),
            _ => None,
        },
        Field::Priority => state
            .priorities
            .iter()
            .find(|t| eq(&t.id) || eq(&t.name))
            .map(|t| t.id.clone()),
        Field::Resolution => {
            if eq("unresolved") {
                return Ok(String::new());
            }
            state
                .resolutions
                .iter()
                .find(|t| eq(&t.id) || eq(&t.name))
                .map(|t| t.id.clone())
        }
        Field::Component => state
            .projects
            .iter()
            .flat_map(|p| p.components.iter())
            .find(|c| eq(&c.id) || eq(&c.name))
            .map(|c| c.id.clone()),
        Field::Labels => Some(s.to_lowercase()),
        Field::Assignee | Field::Reporter | Field::Creator => {
            state.find_user(s).map(|u| u.to_string())
        }
        Field::Key | Field::Parent => match state.find_issue(s) {
            Some(id) => Some(id.to_string()),
            None => {
                return Err(JqlError(format!(
                    "An issue with key '{s}' does not exist for field '{}'.",
                    field.name(state)
                )));
            }
        },
        Field::Custom(_) => Some(s.to_lowercase()),
        _ => None,
    };
    found.ok_or_else(|| not_exist(s, field, state))
}

fn cmp_value(
    field: Field,
    k: Kind,
    v: &Val,
    now: DateTime<Utc>,
    state: &State,
) -> Result<Cmpable, JqlError> {
    if k == Kind::Number {
        return match v {
            Val::Str(s) => s
                .parse::<f64>()
                .map(Cmpable::Num)
                .map_err(|_| not_exist(s, field, state)),
            _ => Err(not_exist("function", field, state)),
        };
    }
    let t = match v {
        Val::Str(s) => parse_date(s, now).ok_or_else(|| {
            JqlError(format!(
                "Date value '{s}' for field '{}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.",
                field.name(state)
            ))
        })?,
        Val::Func(f, _) => {
            let day = now.date_naive().and_time(NaiveTime::MIN).and_utc();
            match f.to_ascii_lowercase().as_str() {
                "now" => now,
                "startofday" => day,
                "endofday" => day + Duration::days(1) - Duration::milliseconds(1),
                _ => return Err(JqlError(format!("Unable to find JQL function '{f}()'."))),
            }
        }
        Val::Empty => return Err(not_exist("EMPTY", field, state)),
    };
    Ok(Cmpable::Time(t))
}

/// Absolute (`2026-01-01`, `2026/01/01 10:00`) or relative (`-5m`, `2d`, `-1w 2d`) dates, in UTC.
pub fn parse_date(s: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let s = s.trim();
    for fmt in ["%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    for fmt in ["%Y-%m-%d", "%Y/%m/%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, fmt) {
            return Some(d.and_time(NaiveTime::MIN).and_utc());
        }
    }
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => (-1, r),
        None => (1, s.strip_prefix('+').unwrap_or(s)),
    };
    let mut total = Duration::zero();
    let mut any = false;
    for part in rest.split_whitespace() {
        let unit = part.chars().last()?;
        let n: i64 = part[..part.len() - unit.len_utf8()].parse().ok()?;
        total += match unit {
            'm' => Duration::minutes(n),
            'h' => Duration::hours(n),
            'd' => Duration::days(n),
            'w' => Duration::weeks(n),
            _ => return None,
        };
        any = true;
    }
    any.then(|| now + total * sign)
}

impl Query {
    /// Whether `issue` matches the query's WHERE part.
    pub fn matches(&self, issue: &Issue, state: &State) -> bool {
        eval(&self.pred, issue, state)
    }

    /// Sorts issues as ORDER BY asks; without ORDER BY, newest first (Jira's default is by key, descending).
    pub fn sort(&self, issues: &mut [&Issue], state: &State) {
        issues.sort_by(|a, b| {
            for (f, asc) in &self.order {
                let o = order_key(*f, a, state).cmp(&order_key(*f, b, state));
                let o = if *asc { o } else { o.reverse() };
                if o != Ordering::Equal {
                    return o;
                }
            }
            b.id.cmp(&a.id)
        });
    }
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    Empty,
    Num(i64),
    Str(String),
}

fn order_key(f: Field, i: &Issue, state: &State) -> SortKey {
    match f {
        // Keys sort by project key, then by number.
        Field::Key => match i.key.rsplit_once('-') {
            Some((p, n)) => SortKey::Str(format!("{p}-{:012}", n.parse::<u64>().unwrap_or(0))),
            None => SortKey::Str(i.key.clone()),
        },
        Field::Created => SortKey::Num(i.created.timestamp_millis()),
        Field::Updated => SortKey::Num(i.updated.timestamp_millis()),
        Field::Resolved => i
            .resolution_date
            .map_or(SortKey::Empty, |t| SortKey::Num(t.timestamp_millis())),
        Field::DueDate => i
            .due_date
            .map_or(SortKey::Empty, |d| SortKey::Str(d.to_string())),
        Field::Priority => i.priority.as_ref().map_or(SortKey::Empty, |p| {
            // Jira sorts priorities by their scheme order, highest first.
            SortKey::Num(
                state
                    .priorities
                    .iter()
                    .position(|x| &x.id == p)
                    .unwrap_or(0) as i64,
            )
        }),
        Field::Summary => SortKey::Str(i.summary.to_lowercase()),
        _ => match field_values(f, i, state).into_iter().next() {
            Some(v) => SortKey::Str(v),
            None => SortKey::Empty,
        },
    }
}

fn eval(p: &Pred, i: &Issue, state: &State) -> bool {
    match p {
        Pred::All => true,
        Pred::And(a, b) => eval(a, i, state) && eval(b, i, state),
        Pred::Or(a, b) => eval(a, i, state) || eval(b, i, state),
        Pred::Not(a) => !eval(a, i, state),
        Pred::Empty { field, negate } => field_empty(*field, i, state) != *negate,
        Pred::In {
            field,
            wanted,
            negate,
        } => {
            let have = field_values(*field, i, state);
            let hit = wanted.iter().any(|w| match w {
                None => have.is_empty(),
                Some(w) => have.iter().any(|h| h == w),
            });
            if *negate {
                // Jira's != and NOT IN never match issues where the field is empty.
                !have.is_empty() && !hit
            } else {
                hit
            }
        }
        Pred::Cmp { field, op, at } => {
            let have = match (field, at) {
                (_, Cmpable::Num(_)) => field_values(*field, i, state)
                    .first()
                    .and_then(|s| s.parse::<f64>().ok())
                    .map(Cmpable::Num),
                _ => field_time(*field, i, state).map(Cmpable::Time),
            };
            let Some(have) = have else { return false };
            let ord = match (have, at) {
                (Cmpable::Time(a), Cmpable::Time(b)) => a.cmp(b),
                (Cmpable::Num(a), Cmpable::Num(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
                _ => return false,
            };
            match op {
                Op::Eq => ord == Ordering::Equal,
                Op::Ne => ord != Ordering::Equal,
                Op::Gt => ord == Ordering::Greater,
                Op::Ge => ord != Ordering::Less,
                Op::Lt => ord == Ordering::Less,
                Op::Le => ord != Ordering::Greater,
                _ => false,
            }
        }
        Pred::Like {
            field,
            terms,
            negate,
        } => {
            let text = field_text(*field, i, state).to_lowercase();
            let hit = !terms.is_empty() && terms.iter().all(|t| text.contains(t.as_str()));
            hit != *negate
        }
    }
}

fn field_time(f: Field, i: &Issue, state: &State) -> Option<DateTime<Utc>> {
    match f {
        Field::Created => Some(i.created),
        Field::Updated => Some(i.updated),
        Field::Resolved => i.resolution_date,
        Field::DueDate => i.due_date.map(|d| d.and_time(NaiveTime::MIN).and_utc()),
        Field::Custom(_) => field_values(f, i, state)
            .first()
            .and_then(|s| parse_date(s, Utc::now())),
        _ => None,
    }
}

fn field_empty(f: Field, i: &Issue, state: &State) -> bool {
    match f {
        Field::Created | Field::Updated => false,
        Field::Resolved | Field::DueDate => field_time(f, i, state).is_none(),
        Field::Summary | Field::Description | Field::Comment | Field::Text => {
            field_text(f, i, state).trim().is_empty()
        }
        _ => field_values(f, i, state).is_empty(),
    }
}

fn field_values(f: Field, i: &Issue, state: &State) -> Vec<String> {
    match f {
        Field::Project => vec![i.project.clone()],
        Field::Key => vec![i.id.to_string()],
        Field::IssueType => vec![i.issue_type.clone()],
        Field::Status => vec![i.status.clone()],
        Field::StatusCategory => state
            .status(&i.status)
            .map(|s| match s.category {
                StatusCategory::New => "new",
                StatusCategory::Indeterminate => "indeterminate",
                StatusCategory::Done => "done",
            })
            .map(|s| vec![s.to_string()])
            .unwrap_or_default(),
        Field::Priority => i.priority.iter().cloned().collect(),
        Field::Resolution => vec![i.resolution.clone().unwrap_or_default()],
        Field::Labels => i.labels.iter().map(|l| l.to_lowercase()).collect(),
        Field::Component => i.components.clone(),
        Field::Assignee => i.assignee.iter().map(|u| u.to_string()).collect(),
        Field::Reporter => i.reporter.iter().map(|u| u.to_string()).collect(),
        Field::Creator => vec![i.creator.to_string()],
        Field::Parent => i.parent.iter().map(|p| p.to_string()).collect(),
        Field::Custom(idx) => {
            let cf = &state.custom_fields[idx];
            match i.custom.get(&cf.id) {
                None | Some(serde_json::Value::Null) => Vec::new(),
                Some(v) => custom_strings(v),
            }
        }
        _ => Vec::new(),
    }
}

fn custom_strings(v: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    match v {
        Value::String(s) => vec![s.to_lowercase()],
        Value::Number(n) => vec![n.to_string()],
        Value::Array(a) => a.iter().flat_map(custom_strings).collect(),
        Value::Object(o) => {
            if o.get("type").and_then(Value::as_str) == Some("doc") {
                return vec![super::adf::to_plain(v).to_lowercase()];
            }
            o.get("value")
                .or_else(|| o.get("accountId"))
                .or_else(|| o.get("name"))
                .map(custom_strings)
                .unwrap_or_default()
        }
        _ => Vec::new(),
    }
}

fn field_text(f: Field, i: &Issue, state: &State) -> String {
    let desc = || {
        i.description
            .as_ref()
            .map(|d| state.plain_text(d))
            .unwrap_or_default()
    };
    match f {
        Field::Summary => i.summary.clone(),
        Field::Description => desc(),
        Field::Comment => i
            .comments
            .iter()
            .map(|c| state.plain_text(&c.body))
            .collect::<Vec<_>>()
            .join("\n"),
        Field::Text => {
            let mut t = format!("{}\n{}", i.summary, desc());
            for c in &i.comments {
                t.push('\n');
                t.push_str(&state.plain_text(&c.body));
            }
            for (id, v) in &i.custom {
                if state.custom_fields.iter().any(|cf| {
                    &cf.id == id && matches!(cf.kind, CustomKind::Text | CustomKind::Textarea)
                }) {
                    t.push('\n');
                    t.push_str(&custom_strings(v).join(" "));
                }
            }
            t
        }
        Field::Custom(_) => field_values(f, i, state).join(" "),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st() -> State {
        State::new(
            super::super::model::Flavour::Cloud,
            "http://x".into(),
            super::super::seed::Seed::default_seed(),
        )
        .expect("default seed loads")
    }

    fn keys(state: &State, q: &str) -> Vec<String> {
        let q = compile(q, state, Some(0)).expect("valid query");
        let mut v: Vec<&Issue> = state
            .issues
            .values()
            .filter(|i| q.matches(i, state))
            .collect();
        q.sort(&mut v, state);
        v.iter().map(|i| i.key.clone()).collect()
    }

    #[test]
    fn parses_and_filters() {
        let s = st();
        let all = keys(&s, "");
        assert!(!all.is_empty());
        let p = keys(&s, "project = SUP ORDER BY key ASC");
        assert!(p.iter().all(|k| k.starts_with("SUP-")));
        assert!(!p.is_empty());
        let not_p = keys(&s, "project != SUP");
        assert_eq!(p.len() + not_p.len(), all.len());
        let both = keys(&s, "project in (SUP, DEV) AND NOT (status = Done)");
        assert!(both.len() <= all.len());
        assert!(keys(&s, "created >= -5m").len() == all.len());
        assert!(keys(&s, "created < -1d").is_empty());
        assert!(keys(&s, "updated > \"2020-01-01 10:00\"").len() == all.len());
    }

    #[test]
    fn rejects_unknown_things() {
        let s = st();
        let e = compile("foo = bar", &s, None).unwrap_err();
        assert!(e.0.contains("Field 'foo' does not exist"), "{e}");
        let e = compile("project ~ SUP", &s, None).unwrap_err();
        assert!(e.0.contains("operator '~' is not supported"), "{e}");
        let e = compile("project = NOPE", &s, None).unwrap_err();
        assert!(e.0.contains("The value 'NOPE' does not exist"), "{e}");
        let e = compile("project SUP", &s, None).unwrap_err();
        assert!(e.0.contains("Expecting operator"), "{e}");
        let e = compile("created > startOfMonth()", &s, None).unwrap_err();
        assert!(e.0.contains("Unable to find JQL function"), "{e}");
        let e = compile("project = SUP ORDER BY text", &s, None).unwrap_err();
        assert!(e.0.contains("does not support sorting"), "{e}");
    }

    #[test]
    fn relative_dates() {
        let now = Utc::now();
        assert_eq!(parse_date("-5m", now), Some(now - Duration::minutes(5)));
        assert_eq!(parse_date("-1w 2d", now), Some(now - Duration::days(9)));
        assert!(parse_date("2026-01-01 10:00", now).is_some());
        assert!(parse_date("yesterday", now).is_none());
    }
}
