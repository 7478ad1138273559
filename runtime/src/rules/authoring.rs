//! What rule authors run from the command line: check a component against the contract, run it on a sample.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::engine::{CallReport, EngineSettings, RuleEngine, RuleInfo};
use super::error::{CallError, LoadError};
use super::limits::RuleLimits;
use crate::model::{Issue, Replica, SyncCause, SyncContext};

/// Errors of `rules test` before the rule runs.
#[derive(Debug, thiserror::Error)]
pub enum AuthoringError {
    /// The rule does not load.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// An input file cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// An input file is not the JSON of the type it should hold.
    #[error("{path} is not a valid {what} in the JSON form of the WIT types: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The type it should hold (issue, replica).
        what: &'static str,
        /// The parser's complaint.
        source: serde_json::Error,
    },
    /// A config entry is not `key=value`.
    #[error("config entry {0:?} is not of the form key=value")]
    Config(String),
}

/// A one-off engine for the CLI: no pooling (one call). A Python or JavaScript rule takes
/// seconds to compile, so compiled code is cached; an unusable cache is only a warning.
fn cli_engine() -> Result<RuleEngine, LoadError> {
    let settings = EngineSettings {
        pooling: false,
        ..EngineSettings::default()
    };
    if let Some(dir) = super::cache::user_cache_dir() {
        match RuleEngine::new(EngineSettings {
            cache_dir: Some(dir.clone()),
            ..settings.clone()
        }) {
            Ok(engine) => return Ok(engine),
            Err(e) => {
                tracing::warn!(cache = %dir.display(), error = %e, "compiling without a cache")
            }
        }
    }
    RuleEngine::new(settings)
}

/// `twinsync rules check`: loads and type-checks the file, returns its world version, imports, exports and hash.
pub fn check(path: &Path) -> Result<RuleInfo, LoadError> {
    let engine = cli_engine()?;
    Ok(engine.load_file(path)?.info())
}

/// The sample issue `rules check --round-trip` runs on when given none.
const SAMPLE_ISSUE: &str = include_str!("../../../example-rules/samples/issue.json");

/// Inputs of `twinsync rules check --round-trip`.
#[derive(Debug, Clone, Default)]
pub struct RoundTripRun {
    /// This side's rule.
    pub rule: PathBuf,
    /// The other side's rule; `None`: the same rule on both sides.
    pub other: Option<PathBuf>,
    /// Sample issues of this side; none: the stock sample.
    pub issues: Vec<PathBuf>,
    /// This side's rule config, as `key=value` entries.
    pub config: Vec<String>,
    /// The other side's rule config, as `key=value` entries.
    pub other_config: Vec<String>,
}

/// One sample issue's name and its round trips (or the call that failed).
pub(crate) type SampleRoundTrip = (
    String,
    Result<super::round_trip::RoundTrip, super::round_trip::RoundTripError>,
);

/// `twinsync rules check --round-trip`: each sample issue's round trips, by file name.
pub fn round_trip(run: &RoundTripRun) -> Result<Vec<SampleRoundTrip>, AuthoringError> {
    use super::round_trip::{self, PairSide};
    let engine = cli_engine()?;
    let rule = engine.load_file(&run.rule)?;
    let other = match &run.other {
        Some(path) => engine.load_file(path)?,
        None => rule.clone(),
    };
    // Either side creates its twin on first sync: a project the rule can name.
    let with_project = |entries: &[String], project: &str| -> Result<_, AuthoringError> {
        let mut config = parse_config(entries)?;
        config
            .entry("project".into())
            .or_insert_with(|| project.into());
        Ok(Arc::new(config))
    };
    let here = PairSide {
        rule: &rule,
        config: with_project(&run.config, "HERE")?,
    };
    let there = PairSide {
        rule: &other,
        config: with_project(&run.other_config, "THERE")?,
    };
    let samples: Vec<(String, Issue)> = if run.issues.is_empty() {
        let issue = serde_json::from_str(SAMPLE_ISSUE).map_err(|source| AuthoringError::Json {
            path: "example-rules/samples/issue.json".into(),
            what: "issue",
            source,
        })?;
        vec![("the stock sample issue".into(), issue)]
    } else {
        run.issues
            .iter()
            .map(|p| Ok((p.display().to_string(), read_json(p, "issue")?)))
            .collect::<Result<_, AuthoringError>>()?
    };
    Ok(samples
        .into_iter()
        .map(|(name, issue)| (name, round_trip::run(&here, &there, issue)))
        .collect())
}

/// Inputs of `twinsync rules test`.
#[derive(Debug, Clone, Default)]
pub struct TestRun {
    /// The rule to run.
    pub rule: PathBuf,
    /// The issue (outgoing) or the replica (incoming); an issue's JSON also reads as a replica.
    pub input: PathBuf,
    /// Run `incoming` instead of `outgoing`.
    pub incoming: bool,
    /// The local twin for `incoming`, as JSON; without it the call is a first sync.
    pub local: Option<PathBuf>,
    /// The rule config, as `key=value` entries.
    pub config: Vec<String>,
    /// Mark the call as a first sync.
    pub first_sync: bool,
}

/// The answer of `twinsync rules test`, ready to print.
pub struct TestOutcome {
    /// The answer as JSON: the replica or the changes (null when the call failed).
    pub json: serde_json::Value,
    /// Why the call gave no answer, if it did not.
    pub error: Option<CallError>,
    /// The lines the rule logged.
    pub report_logs: Vec<super::engine::RuleLogLine>,
    /// The rule version that ran.
    pub rule: super::error::RuleId,
    /// Fuel the call used.
    pub fuel_used: u64,
    /// Linear memory the call's instance held at its end.
    pub memory_bytes: u64,
}

fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    what: &'static str,
) -> Result<T, AuthoringError> {
    let text = std::fs::read_to_string(path).map_err(|source| AuthoringError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| AuthoringError::Json {
        path: path.to_path_buf(),
        what,
        source,
    })
}

/// Parses `key=value` entries into a rule config.
pub(crate) fn parse_config(entries: &[String]) -> Result<HashMap<String, String>, AuthoringError> {
    entries
        .iter()
        .map(|e| {
            e.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .ok_or_else(|| AuthoringError::Config(e.clone()))
        })
        .collect()
}

/// `twinsync rules test`: runs the rule once on a sample, as the node would.
pub fn test(run: &TestRun) -> Result<TestOutcome, AuthoringError> {
    let config = Arc::new(parse_config(&run.config)?);
    let engine = cli_engine()?;
    let rule = engine.load_file(&run.rule)?;
    let limits = RuleLimits::default();
    let mut ctx = SyncContext {
        connection: "test".into(),
        local_side: "local".into(),
        remote_side: "remote".into(),
        first_sync: run.first_sync,
        cause: if run.incoming {
            SyncCause::Replica
        } else {
            SyncCause::Manual
        },
        ..SyncContext::default()
    };
    fn finish<T: serde::Serialize>(report: CallReport<T>) -> TestOutcome {
        let (json, error) = match report.result {
            Ok(v) => (
                serde_json::to_value(v).unwrap_or(serde_json::Value::Null),
                None,
            ),
            Err(e) => (serde_json::Value::Null, Some(e)),
        };
        TestOutcome {
            json,
            error,
            report_logs: report.logs,
            rule: report.rule,
            fuel_used: report.fuel_used,
            memory_bytes: report.memory_bytes,
        }
    }
    if run.incoming {
        let replica: Replica = read_json(&run.input, "replica")?;
        let local: Option<Issue> = match &run.local {
            Some(p) => Some(read_json(p, "issue")?),
            None => None,
        };
        ctx.first_sync = run.first_sync || local.is_none();
        ctx.local_key = local.as_ref().map(|l| l.key.clone());
        ctx.remote_key = replica.key.clone();
        Ok(finish(rule.incoming(replica, local, ctx, &limits, &config)))
    } else {
        let issue: Issue = read_json(&run.input, "issue")?;
        ctx.local_key = Some(issue.key.clone());
        Ok(finish(rule.outgoing(issue, ctx, &limits, &config)))
    }
}
