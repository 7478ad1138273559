//! Connect: link issues that already exist on both sides of a local connection as twins,
//! creating nothing. [`propose`] pairs the issues a JQL query matches on each side (by key
//! number, by summary, or by an issue property); an admin reviews the pairs; [`link`] links
//! the approved ones. Each pair is marked in Jira first (the `twinsync.origin` property the
//! node puts on every twin), then linked in the store with an outgoing event per side in one
//! transaction, so a crash leaves a pair wholly linked or not at all and running `link` again
//! finishes the rest. The first sync of a linked pair follows the conflict rules: each side's
//! values carry its issue's last update as their version, so the newer edit wins per field.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::node::Node;
use super::side::{Side, SideError, TwinOrigin};
use crate::jira::PageCursor;
use crate::store::StoreError;

/// The most issues one side may offer a proposal; past it, narrow the query.
pub const MAX_CANDIDATES: usize = 5000;

/// Issues read per search page.
const PAGE: u32 = 100;

/// Why a proposal or a link could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// No connection by that name runs on this node.
    #[error("no connection named {0:?} runs on this node")]
    UnknownConnection(String),
    /// The connection's other side is on a peer node.
    #[error(
        "connection {0:?} has a side on another node; connect links issues of a connection whose two sides run on this node"
    )]
    NotLocal(String),
    /// The match rule cannot be read.
    #[error("unknown match {0:?}: use key, summary or property:NAME")]
    BadMatch(String),
    /// A side matches more issues than a review can take.
    #[error("side {side} matches more than {MAX_CANDIDATES} issues; narrow the query")]
    TooMany {
        /// The side.
        side: String,
    },
    /// A side's Jira failed.
    #[error("side {side}: {source}")]
    Jira {
        /// The side.
        side: String,
        /// What Jira or the side's guard said.
        #[source]
        source: Box<SideError>,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How two issues are recognised as the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchBy {
    /// The number of the key: `SUP-12` and `DEV-12`.
    Key,
    /// The summary, ignoring case and runs of white space; only summaries unique on each side.
    Summary,
    /// The value of an issue property of this name, equal on both sides.
    Property(String),
}

impl FromStr for MatchBy {
    type Err = ConnectError;

    fn from_str(s: &str) -> Result<Self, ConnectError> {
        match s.trim() {
            "key" => Ok(MatchBy::Key),
            "summary" => Ok(MatchBy::Summary),
            other => match other.strip_prefix("property:") {
                Some(name) if !name.trim().is_empty() => {
                    Ok(MatchBy::Property(name.trim().to_string()))
                }
                _ => Err(ConnectError::BadMatch(s.to_string())),
            },
        }
    }
}

impl std::fmt::Display for MatchBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MatchBy::Key => f.write_str("key"),
            MatchBy::Summary => f.write_str("summary"),
            MatchBy::Property(p) => write!(f, "property:{p}"),
        }
    }
}

/// One issue of a proposed pair, as its side's Jira has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// The issue's key.
    pub key: String,
    /// Its summary.
    pub summary: String,
    /// When it was last updated, as Jira gives it.
    pub updated: String,
}

/// Two issues proposed as a twin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposedPair {
    /// The issue on the connection's first side.
    pub left: Candidate,
    /// The issue on its second side.
    pub right: Candidate,
}

/// What [`propose`] found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Proposal {
    /// The connection.
    pub connection: String,
    /// The first side's name.
    pub left_side: String,
    /// The second side's name.
    pub right_side: String,
    /// How the pairs were matched.
    pub by: String,
    /// The pairs, for review.
    pub pairs: Vec<ProposedPair>,
    /// Issues the query matched on each side that are already under sync (left out).
    pub already_twins: BTreeMap<String, usize>,
    /// Issues the query matched on each side that pair with none, or with more than one.
    pub unmatched: BTreeMap<String, usize>,
}

/// A pair an admin approved: the left side's key and the right side's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovedPair {
    /// The key on the connection's first side.
    pub left: String,
    /// The key on its second side.
    pub right: String,
}

/// What became of one approved pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkOutcome {
    /// Linked now; its first sync is queued.
    Linked,
    /// Already linked with each other (an earlier run).
    AlreadyLinked,
    /// Not linked (the reason says why).
    Refused,
}

/// One approved pair and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairOutcome {
    /// The key on the connection's first side.
    pub left: String,
    /// The key on its second side.
    pub right: String,
    /// What became of it.
    pub outcome: LinkOutcome,
    /// Why it was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The outcome of each approved pair, in order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkReport {
    /// Each pair with its outcome.
    pub pairs: Vec<PairOutcome>,
}

impl LinkReport {
    /// How many pairs ended as `outcome`.
    pub fn count(&self, outcome: LinkOutcome) -> usize {
        self.pairs.iter().filter(|p| p.outcome == outcome).count()
    }
}

/// A pair's outcome before it is reported: refused carries the reason.
enum Linking {
    Linked,
    AlreadyLinked,
    Refused(String),
}

/// The connection's two sides on this node, in the order its setup lists them.
fn sides_of(node: &Node, connection: &str) -> Result<(Arc<Side>, Arc<Side>), ConnectError> {
    let mut sides: Vec<Arc<Side>> = node
        .pipeline
        .sides()
        .into_iter()
        .filter(|s| s.connection == connection)
        .collect();
    if sides.is_empty() {
        return Err(ConnectError::UnknownConnection(connection.to_string()));
    }
    if sides.len() != 2 {
        return Err(ConnectError::NotLocal(connection.to_string()));
    }
    if let Ok(stored) = node.stored()
        && let Some((conn, _)) = stored.connections.get(connection)
    {
        let at = |s: &Side| conn.sides.iter().position(|c| c.name == s.name);
        sides.sort_by_key(|s| at(s));
    }
    let right = sides
        .pop()
        .ok_or_else(|| ConnectError::NotLocal(connection.to_string()))?;
    let left = sides
        .pop()
        .ok_or_else(|| ConnectError::NotLocal(connection.to_string()))?;
    Ok((left, right))
}

fn jira(side: &Side) -> impl FnOnce(SideError) -> ConnectError + '_ {
    move |source| ConnectError::Jira {
        side: side.name.clone(),
        source: Box::new(source),
    }
}

/// Every issue of `side` that `jql` matches (scoped to its project) and that is no twin yet;
/// and how many were twins already.
async fn candidates(
    node: &Node,
    side: &Side,
    jql: &str,
) -> Result<(Vec<Candidate>, usize), ConnectError> {
    let (mut out, mut twins) = (Vec::new(), 0);
    let mut cursor = PageCursor::Start;
    loop {
        let (issues, next) = side
            .jira
            .search_summaries(jql, &cursor, PAGE)
            .await
            .map_err(jira(side))?;
        for issue in issues {
            let twin = node
                .store
                .twin_by_local(&side.connection, &side.name, &issue.key)?;
            // Under sync already, linked or with its twin on its way: not a candidate.
            if twin.is_some() {
                twins += 1;
                continue;
            }
            out.push(Candidate {
                key: issue.key,
                summary: issue.summary,
                updated: issue.updated,
            });
            if out.len() > MAX_CANDIDATES {
                return Err(ConnectError::TooMany {
                    side: side.name.clone(),
                });
            }
        }
        match next {
            Some(n) => cursor = n,
            None => return Ok((out, twins)),
        }
    }
}

/// What a candidate is matched by, if it has anything to match by.
async fn match_value(
    side: &Side,
    c: &Candidate,
    by: &MatchBy,
) -> Result<Option<String>, ConnectError> {
    Ok(match by {
        MatchBy::Key => c
            .key
            .rsplit_once('-')
            .map(|(_, n)| n.trim_start_matches('0').to_string()),
        MatchBy::Summary => {
            let s = c.summary.split_whitespace().collect::<Vec<_>>().join(" ");
            (!s.is_empty()).then(|| s.to_lowercase())
        }
        MatchBy::Property(name) => side
            .jira
            .issue_property(&c.key, name)
            .await
            .map_err(jira(side))?
            .filter(|v| !v.is_null())
            .map(|v| v.to_string()),
    })
}

/// Candidates by the value they match by; a value two candidates share is ambiguous and
/// kept apart.
async fn by_value(
    side: &Side,
    cands: Vec<Candidate>,
    by: &MatchBy,
) -> Result<(BTreeMap<String, Candidate>, usize), ConnectError> {
    let mut groups: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
    let mut unmatched = 0;
    for c in cands {
        match match_value(side, &c, by).await? {
            Some(v) => groups.entry(v).or_default().push(c),
            None => unmatched += 1,
        }
    }
    let mut unique = BTreeMap::new();
    for (v, mut g) in groups {
        match g.len() {
            1 => {
                if let Some(c) = g.pop() {
                    unique.insert(v, c);
                }
            }
            n => unmatched += n,
        }
    }
    Ok((unique, unmatched))
}

/// The number of an issue key, for ordering pairs.
fn key_number(key: &str) -> u64 {
    key.rsplit_once('-')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(u64::MAX)
}

/// Proposes pairs of issues that exist on both sides of `connection` and match `jql` there.
pub async fn propose(
    node: &Node,
    connection: &str,
    jql: &str,
    by: &MatchBy,
) -> Result<Proposal, ConnectError> {
    let (left, right) = sides_of(node, connection)?;
    let (lc, ltwins) = candidates(node, &left, jql).await?;
    let (rc, rtwins) = candidates(node, &right, jql).await?;
    let (mut lv, mut lun) = by_value(&left, lc, by).await?;
    let (rv, mut run) = by_value(&right, rc, by).await?;
    let mut pairs = Vec::new();
    for (v, r) in rv {
        match lv.remove(&v) {
            Some(l) => pairs.push(ProposedPair { left: l, right: r }),
            None => run += 1,
        }
    }
    lun += lv.len();
    pairs.sort_by_key(|p| (key_number(&p.left.key), p.left.key.clone()));
    Ok(Proposal {
        connection: connection.to_string(),
        left_side: left.name.clone(),
        right_side: right.name.clone(),
        by: by.to_string(),
        pairs,
        already_twins: BTreeMap::from([(left.name.clone(), ltwins), (right.name.clone(), rtwins)]),
        unmatched: BTreeMap::from([(left.name.clone(), lun), (right.name.clone(), run)]),
    })
}

/// Links each approved pair, in order; a pair that cannot be linked is refused with the
/// reason and the others go on. Running it again after a crash finishes what was left.
pub async fn link(
    node: &Node,
    connection: &str,
    approved: &[ApprovedPair],
) -> Result<LinkReport, ConnectError> {
    let (left, right) = sides_of(node, connection)?;
    let mut report = LinkReport { pairs: Vec::new() };
    for pair in approved {
        let (outcome, reason) = match link_one(node, &left, &right, pair).await? {
            Linking::Linked => {
                tracing::info!(connection, left = %pair.left, right = %pair.right, "linked an existing pair as a twin");
                (LinkOutcome::Linked, None)
            }
            Linking::AlreadyLinked => (LinkOutcome::AlreadyLinked, None),
            Linking::Refused(why) => {
                tracing::warn!(connection, left = %pair.left, right = %pair.right, reason = %why, "pair not linked");
                (LinkOutcome::Refused, Some(why))
            }
        };
        report.pairs.push(PairOutcome {
            left: pair.left.clone(),
            right: pair.right.clone(),
            outcome,
            reason,
        });
    }
    node.pipeline.wake.notify_waiters();
    Ok(report)
}

/// Links one pair: mark both issues in Jira, then link and queue in one store transaction.
async fn link_one(
    node: &Node,
    left: &Side,
    right: &Side,
    pair: &ApprovedPair,
) -> Result<Linking, ConnectError> {
    let conn = &left.connection;
    let (lk, rk) = (pair.left.trim(), pair.right.trim());
    let already = |key: &str, remote: Option<&String>| match remote {
        Some(remote) => format!("{key} is already the twin of {remote}"),
        None => format!("{key} is already under sync; its twin is on its way"),
    };
    if let Some(t) = node.store.twin_by_local(conn, &left.name, lk)? {
        return Ok(match t.remote_key.as_deref() {
            Some(remote) if remote == rk => Linking::AlreadyLinked,
            _ => Linking::Refused(already(lk, t.remote_key.as_ref())),
        });
    }
    if let Some(t) = node.store.twin_by_local(conn, &right.name, rk)? {
        return Ok(Linking::Refused(already(rk, t.remote_key.as_ref())));
    }
    // Both must exist in their side's project; a refusal by the side's guard is the pair's.
    for (side, key) in [(left, lk), (right, rk)] {
        match side.jira.issue_updated(key).await {
            Ok(_) => {}
            Err(SideError::Refused(why)) => return Ok(Linking::Refused(why)),
            Err(SideError::Jira(e)) if e.is_not_found() => {
                return Ok(Linking::Refused(format!(
                    "{key} does not exist on side {}",
                    side.name
                )));
            }
            Err(e) => return Err(jira(side)(e)),
        }
    }
    for (side, key, other, other_key) in [(left, lk, right, rk), (right, rk, left, lk)] {
        let origin = TwinOrigin {
            connection: conn,
            side: &other.name,
            key: other_key,
        };
        side.jira
            .mark_origin(key, &origin)
            .await
            .map_err(jira(side))?;
    }
    crate::failpoint!("connect-marked");
    let linked = node
        .store
        .connect_twins(conn, (&left.name, lk), (&right.name, rk))?;
    crate::failpoint!("connect-linked");
    Ok(if linked {
        Linking::Linked
    } else {
        Linking::Refused("one of the two became a twin meanwhile".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_rules_read_as_written() {
        assert_eq!("key".parse::<MatchBy>().unwrap(), MatchBy::Key);
        assert_eq!("summary".parse::<MatchBy>().unwrap(), MatchBy::Summary);
        assert_eq!(
            "property:legacy.id".parse::<MatchBy>().unwrap(),
            MatchBy::Property("legacy.id".into())
        );
        assert!("property:".parse::<MatchBy>().is_err());
        assert!("keys".parse::<MatchBy>().is_err());
        assert_eq!(MatchBy::Property("x".into()).to_string(), "property:x");
    }

    #[test]
    fn pairs_order_by_key_number() {
        assert!(key_number("SUP-9") < key_number("SUP-10"));
        assert_eq!(key_number("odd"), u64::MAX);
    }
}
