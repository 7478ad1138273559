//! `twinsync connect`: propose pairs of issues that already exist on both sides of a
//! connection, print them for review, and link the approved ones. It works on the node's
//! store directly (SQLite in WAL mode), so it works beside a running node, whose workers run
//! the first sync of each linked pair.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use twinsync::config::NodeConfig;
use twinsync::sync::connect::{self, ApprovedPair, LinkOutcome, MatchBy, Proposal};
use twinsync::sync::node::Node;

/// Which pairs to link.
pub(crate) enum Approval<'a> {
    /// None: print the proposal for review.
    Review,
    /// Every pair proposed.
    All,
    /// The pairs listed in a file.
    File(&'a Path),
}

impl<'a> Approval<'a> {
    pub(crate) fn of(yes: bool, file: Option<&'a Path>) -> Self {
        match (yes, file) {
            (_, Some(f)) => Approval::File(f),
            (true, None) => Approval::All,
            (false, None) => Approval::Review,
        }
    }
}

/// `LEFT RIGHT` per line; blank lines and `#` comments pass.
fn read_pairs(path: &Path) -> anyhow::Result<Vec<ApprovedPair>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut pairs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let [left, right, ..] = words.as_slice() else {
            anyhow::bail!(
                "{}:{}: want `LEFT-KEY RIGHT-KEY`, found {line:?}",
                path.display(),
                n + 1
            );
        };
        pairs.push(ApprovedPair {
            left: left.to_string(),
            right: right.to_string(),
        });
    }
    Ok(pairs)
}

/// The proposal as a review table.
fn table(p: &Proposal) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let cut = |s: &str| -> String {
        if s.chars().count() > 32 {
            s.chars().take(31).chain(['…']).collect()
        } else {
            s.to_string()
        }
    };
    let _ = writeln!(
        out,
        "{:<12} {:<12} {:<32}  {:<32}",
        p.left_side.to_uppercase(),
        p.right_side.to_uppercase(),
        "SUMMARY (LEFT)",
        "SUMMARY (RIGHT)"
    );
    for pair in &p.pairs {
        let _ = writeln!(
            out,
            "{:<12} {:<12} {:<32}  {:<32}",
            pair.left.key,
            pair.right.key,
            cut(&pair.left.summary),
            cut(&pair.right.summary)
        );
    }
    let n = |m: &std::collections::BTreeMap<String, usize>, s: &str| m.get(s).copied().unwrap_or(0);
    let _ = writeln!(
        out,
        "{} pairs by {}; unmatched: {} on {}, {} on {}; already twins: {} on {}, {} on {}",
        p.pairs.len(),
        p.by,
        n(&p.unmatched, &p.left_side),
        p.left_side,
        n(&p.unmatched, &p.right_side),
        p.right_side,
        n(&p.already_twins, &p.left_side),
        p.left_side,
        n(&p.already_twins, &p.right_side),
        p.right_side,
    );
    out
}

/// `twinsync connect -C NAME [--jql Q] [--match M] [--yes | --approve FILE] [--json]`.
pub(crate) fn connect(
    config_path: &Path,
    connection: &str,
    jql: &str,
    match_by: &str,
    approval: Approval<'_>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let by: MatchBy = match_by.parse()?;
    let node = Node::build(NodeConfig::load(config_path)?)?;
    super::super::runtime()?.block_on(async {
        let approved = match approval {
            Approval::File(path) => read_pairs(path)?,
            Approval::Review | Approval::All => {
                let proposal = connect::propose(&node, connection, jql, &by).await?;
                if matches!(approval, Approval::Review) {
                    if json {
                        out!("{}", serde_json::to_string_pretty(&proposal)?);
                    } else {
                        out_raw!("{}", table(&proposal));
                        out!(
                            "nothing linked yet: run again with --yes to link every pair, or list the pairs to link in a file for --approve FILE"
                        );
                    }
                    return Ok(ExitCode::SUCCESS);
                }
                proposal
                    .pairs
                    .iter()
                    .map(|p| ApprovedPair {
                        left: p.left.key.clone(),
                        right: p.right.key.clone(),
                    })
                    .collect()
            }
        };
        let report = connect::link(&node, connection, &approved).await?;
        if json {
            out!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            for p in &report.pairs {
                if let Some(why) = &p.reason {
                    out!("{} {}: not linked: {why}", p.left, p.right);
                }
            }
            out!(
                "{} pairs linked on {connection}, {} already linked, {} refused; their first sync is queued",
                report.count(LinkOutcome::Linked),
                report.count(LinkOutcome::AlreadyLinked),
                report.count(LinkOutcome::Refused)
            );
        }
        Ok(if report.count(LinkOutcome::Refused) == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    })
}
