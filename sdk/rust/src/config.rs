//! Reading the connection side's settings: plain values, lists, flags and value maps.
//!
//! Config is a flat map of string keys to string values that the node keeps per
//! connection side, so one rule module can serve many connections.

use crate::types::{RuleError, SyncContext};
use crate::{RuleResult, fail};

/// The setting `key` of this connection side, if set.
pub fn config(key: &str) -> Option<String> {
    crate::host::config(key)
}

/// The setting `key`, or `default` when it is not set.
pub fn config_or(key: &str, default: &str) -> String {
    config(key).unwrap_or_else(|| default.to_owned())
}

/// The setting `key`, or a `fail` naming the missing key.
pub fn require_config(key: &str) -> RuleResult<String> {
    match config(key) {
        Some(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
        _ => Err(fail(format!(
            "config key `{key}` is not set for this connection side"
        ))),
    }
}

/// The setting `key` read as a comma-separated list: items trimmed, empty
/// items dropped. Empty when the key is not set.
pub fn config_list(key: &str) -> Vec<String> {
    config(key)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The setting `key` read as a flag: `true`/`yes`/`on`/`1` or
/// `false`/`no`/`off`/`0` (any case); `default` when not set; a `fail` for anything else.
pub fn config_flag(key: &str, default: bool) -> RuleResult<bool> {
    let Some(value) = config(key) else {
        return Ok(default);
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        other => Err(fail(format!(
            "config key `{key}` must be true or false, not {other:?}"
        ))),
    }
}

/// The project to create the local twin in: on first sync the setting
/// `project` (a `fail` when it is missing), otherwise `None`, since an
/// existing twin stays where it is.
pub fn local_project(ctx: &SyncContext) -> RuleResult<Option<String>> {
    if !ctx.first_sync {
        return Ok(None);
    }
    match config("project") {
        Some(p) if !p.trim().is_empty() => Ok(Some(p.trim().to_owned())),
        _ => Err(fail(
            "config key `project` is not set for this connection side: \
             it names the project in which the first sync creates the local twin",
        )),
    }
}

/// What [`map_value`] does with a value that has no `map.<field>.<value>` entry,
/// set per field by the config key `unmapped.<field>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unmapped {
    /// `keep` (the default): use the value unchanged.
    Keep,
    /// `skip-field`: leave the local field as it is.
    SkipField,
    /// `fail`: stop with an error naming the missing map entry.
    Fail,
    /// `default:<value>`: use `<value>`.
    Default(String),
}

impl Unmapped {
    /// The policy for `field`, from the config key `unmapped.<field>`.
    pub fn for_field(field: &str) -> RuleResult<Unmapped> {
        let key = format!("unmapped.{field}");
        let Some(raw) = config(&key) else {
            return Ok(Unmapped::Keep);
        };
        let raw = raw.trim();
        if let Some(value) = raw.strip_prefix("default:") {
            return Ok(Unmapped::Default(value.trim().to_owned()));
        }
        match raw {
            "keep" => Ok(Unmapped::Keep),
            "skip-field" => Ok(Unmapped::SkipField),
            "fail" => Ok(Unmapped::Fail),
            other => Err(fail(format!(
                "config key `{key}` must be keep, skip-field, fail or default:<value>, not {other:?}"
            ))),
        }
    }
}

/// Maps `value` of `field` through config: the key `map.<field>.<value>`
/// (looked up as written, then lower-cased) gives the value to use, e.g.
/// `map.status.In Progress` = `Doing`.
///
/// Returns `Ok(Some(mapped))` to set the field, `Ok(None)` to leave the local
/// field alone (an empty map entry, or `unmapped.<field>` = `skip-field`), and
/// a `fail` when `unmapped.<field>` = `fail` and there is no entry. See [`Unmapped`].
pub fn map_value(field: &str, value: &str) -> RuleResult<Option<String>> {
    let exact = format!("map.{field}.{value}");
    let found = config(&exact).or_else(|| {
        let folded = value.trim().to_lowercase();
        (folded != value)
            .then(|| config(&format!("map.{field}.{folded}")))
            .flatten()
    });
    if let Some(mapped) = found {
        let mapped = mapped.trim();
        return Ok((!mapped.is_empty()).then(|| mapped.to_owned()));
    }
    match Unmapped::for_field(field)? {
        Unmapped::Keep => Ok(Some(value.to_owned())),
        Unmapped::SkipField => Ok(None),
        Unmapped::Default(d) if d.is_empty() => Ok(None),
        Unmapped::Default(d) => Ok(Some(d)),
        Unmapped::Fail => Err(unmapped_error(field, value, &exact)),
    }
}

/// [`map_value`] for an optional value: `None` stays `None` (the local field is left alone).
pub fn map_option(field: &str, value: Option<&str>) -> RuleResult<Option<String>> {
    match value {
        Some(v) => map_value(field, v),
        None => Ok(None),
    }
}

fn unmapped_error(field: &str, value: &str, key: &str) -> RuleError {
    fail(format!(
        "no mapping for {field} {value:?}: set config key `{key}` (or `unmapped.{field}`)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{context, with_config};

    #[test]
    fn map_value_uses_the_entry_then_the_lower_cased_entry() {
        with_config(
            &[
                ("map.status.In Progress", "Doing"),
                ("map.status.done", "Closed"),
            ],
            || {
                assert_eq!(map_value("status", "In Progress"), Ok(Some("Doing".into())));
                assert_eq!(map_value("status", "Done"), Ok(Some("Closed".into())));
                assert_eq!(map_value("status", "Open"), Ok(Some("Open".into())));
            },
        );
    }

    #[test]
    fn unmapped_policies() {
        with_config(&[("unmapped.status", "skip-field")], || {
            assert_eq!(map_value("status", "Open"), Ok(None));
        });
        with_config(&[("unmapped.status", "default: To Do")], || {
            assert_eq!(map_value("status", "Open"), Ok(Some("To Do".into())));
        });
        with_config(&[("unmapped.priority", "fail")], || {
            let err = map_value("priority", "Blocker").expect_err("unmapped must fail");
            assert!(
                matches!(&err, RuleError::Fail(m) if m.contains("map.priority.Blocker")),
                "{err:?}"
            );
        });
        with_config(&[("unmapped.status", "explode")], || {
            assert!(matches!(
                map_value("status", "Open"),
                Err(RuleError::Fail(_))
            ));
        });
        with_config(&[("map.status.Open", "")], || {
            assert_eq!(map_value("status", "Open"), Ok(None));
        });
    }

    #[test]
    fn lists_flags_and_required_keys() {
        with_config(
            &[
                ("l", " a, b ,,c "),
                ("f", "Yes"),
                ("bad", "maybe"),
                ("blank", " "),
            ],
            || {
                assert_eq!(config_list("l"), vec!["a", "b", "c"]);
                assert!(config_list("missing").is_empty());
                assert_eq!(config_flag("f", false), Ok(true));
                assert_eq!(config_flag("missing", true), Ok(true));
                assert!(config_flag("bad", false).is_err());
                assert!(require_config("blank").is_err());
                assert_eq!(config_or("missing", "x"), "x");
            },
        );
    }

    #[test]
    fn local_project_is_required_on_first_sync_only() {
        with_config(&[], || {
            assert_eq!(local_project(&context(false)), Ok(None));
            let err = local_project(&context(true)).expect_err("no project configured");
            assert!(matches!(&err, RuleError::Fail(m) if m.contains("`project`")));
        });
        with_config(&[("project", "DEST")], || {
            assert_eq!(local_project(&context(true)), Ok(Some("DEST".into())));
        });
    }
}
