//! Tests of config parsing and validation, from one good file and its variations.

use super::*;
use crate::rules::RuleLimits;

const GOOD: &str = r#"
[node]
data_dir = "data"
workers = 2

[instances.acme]
url = "http://127.0.0.1:8081"
flavour = "cloud"
user = "admin@example.com"
token = { env = "ACME_TOKEN" }

[instances.globex]
url = "http://127.0.0.1:8082"
flavour = "dc"
token = { value = "admin" }

[[connection]]
name = "acme-globex"

[[connection.side]]
name = "acme"
instance = "acme"
project = "ACME"
rule = "rules/acme.wasm"
config = { project = "ACME" }
limits = { fuel = 1000000 }

[[connection.side]]
name = "globex"
instance = "globex"
project = "GLX"
rule = "rules/globex.wasm"
"#;

fn parse(text: &str) -> Result<NodeConfig, ConfigError> {
    NodeConfig::parse(text, Path::new("twinsync.toml"), PathBuf::from("."))
}

#[test]
fn a_remote_connection_has_one_side_and_a_peer_endpoint() {
    let remote = GOOD.replace(
        "name = \"acme-globex\"\n",
        "name = \"acme-globex\"\npeer = \"globex\"\n",
    );
    let one_side = remote[..remote.rfind("[[connection.side]]").unwrap()].to_string();
    let e = parse(&one_side).unwrap_err().to_string();
    assert!(e.contains("peer_listen"), "{e}");
    let with_listen = one_side.replace(
        "workers = 2",
        "workers = 2\npeer_listen = \"127.0.0.1:7701\"",
    );
    let c = parse(&with_listen).unwrap();
    assert_eq!(c.connections[0].peer.as_deref(), Some("globex"));
    assert_eq!(c.peer_url().as_deref(), Some("https://127.0.0.1:7701"));
    let two_sides = remote.replace(
        "workers = 2",
        "workers = 2\npeer_listen = \"127.0.0.1:7701\"",
    );
    assert!(
        parse(&two_sides)
            .unwrap_err()
            .to_string()
            .contains("exactly 1")
    );
}

#[test]
fn a_good_config_parses() {
    let c = parse(GOOD).unwrap();
    assert_eq!(c.connections[0].sides[0].limits.fuel, 1_000_000);
    assert_eq!(
        c.connections[0].sides[0].limits.memory_bytes,
        RuleLimits::default().memory_bytes
    );
    assert_eq!(c.instances["globex"].flavour, Flavour::Dc);
    assert_eq!(format!("{:?}", c.instances["globex"].token), "<redacted>");
}

#[test]
fn an_unknown_key_is_named_with_its_line() {
    let bad = GOOD.replace("workers = 2", "workers = 2\nwrokers = 3");
    let e = parse(&bad).unwrap_err().to_string();
    assert!(e.contains("wrokers"), "{e}");
    assert!(e.contains("line 5"), "{e}");
}

#[test]
fn a_missing_instance_is_named() {
    let bad = GOOD.replace("instance = \"globex\"", "instance = \"initech\"");
    let e = parse(&bad).unwrap_err().to_string();
    assert!(e.contains("initech") && e.contains("globex"), "{e}");
}

#[test]
fn a_wrong_type_is_named_with_its_line() {
    let bad = GOOD.replace("workers = 2", "workers = \"two\"");
    let e = parse(&bad).unwrap_err().to_string();
    assert!(e.contains("line 4"), "{e}");
}

#[test]
fn an_empty_or_short_door_secret_is_refused_naming_its_key() {
    let empty = GOOD.replace("workers = 2", "workers = 2\nadmin_token = { value = \"\" }");
    let e = parse(&empty).unwrap_err().to_string();
    assert!(e.contains("node.admin_token is empty"), "{e}");
    let short = GOOD.replace(
        "token = { value = \"admin\" }",
        "token = { value = \"admin\" }\nwebhook_secret = { value = \"s3cret\" }",
    );
    let e = parse(&short).unwrap_err().to_string();
    assert!(
        e.contains("instances.globex.webhook_secret is only 6 characters long"),
        "{e}"
    );
    assert!(!e.contains("\"s3cret\""), "the value is never shown: {e}");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), "\n").unwrap();
    let e = SecretRef::File("token".into())
        .resolve_strong("node.admin_token", dir.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("node.admin_token is empty"), "{e}");
    std::fs::write(dir.path().join("token"), "0123456789abcdef\n").unwrap();
    let t = SecretRef::File("token".into())
        .resolve_strong("node.admin_token", dir.path())
        .unwrap();
    assert_eq!(t, "0123456789abcdef");
}

#[test]
fn admin_hosts_are_names_without_scheme_or_port() {
    let bad = GOOD.replace(
        "workers = 2",
        "workers = 2\nadmin_hosts = [\"https://twinsync.example\"]",
    );
    let e = parse(&bad).unwrap_err().to_string();
    assert!(e.contains("node.admin_hosts"), "{e}");
    let good = GOOD.replace(
        "workers = 2",
        "workers = 2\nadmin_hosts = [\"twinsync.example\"]",
    );
    assert_eq!(parse(&good).unwrap().node.admin_hosts, ["twinsync.example"]);
}

#[test]
fn the_admin_listener_defaults_to_loopback_on_its_own_port() {
    let c = parse(GOOD).unwrap();
    assert_eq!(c.node.listen.to_string(), "127.0.0.1:7700");
    assert_eq!(c.node.admin_listen().to_string(), "127.0.0.1:7702");
    // An existing config that opens `listen` to the network keeps its admin API local.
    let open =
        parse(&GOOD.replace("workers = 2", "workers = 2\nlisten = \"0.0.0.0:7700\"")).unwrap();
    assert_eq!(open.node.admin_listen().to_string(), "127.0.0.1:7702");
    let any = parse(&GOOD.replace("workers = 2", "workers = 2\nlisten = \"127.0.0.1:0\"")).unwrap();
    assert_eq!(any.node.admin_listen().to_string(), "127.0.0.1:0");
    let set = parse(&GOOD.replace(
        "workers = 2",
        "workers = 2\nadmin_listen = \"10.0.0.5:9000\"",
    ))
    .unwrap();
    assert_eq!(set.node.admin_listen().to_string(), "10.0.0.5:9000");
}

#[test]
fn listeners_that_would_share_a_socket_are_refused() {
    for lines in [
        "admin_listen = \"127.0.0.1:7700\"",
        "listen = \"0.0.0.0:7702\"",
        "peer_listen = \"0.0.0.0:7700\"",
        "peer_listen = \"127.0.0.1:7702\"",
    ] {
        let bad = GOOD.replace("workers = 2", &format!("workers = 2\n{lines}"));
        let e = parse(&bad).unwrap_err().to_string();
        assert!(e.contains("listen"), "{lines}: {e}");
    }
    // Different addresses may share a port.
    let ok = GOOD.replace(
        "workers = 2",
        "workers = 2\nlisten = \"10.0.0.5:7702\"\nadmin_listen = \"127.0.0.1:7702\"",
    );
    assert!(parse(&ok).is_ok());
}

#[test]
fn a_missing_env_secret_names_the_variable_not_a_value() {
    let c = parse(GOOD).unwrap();
    let e = c.instances["acme"]
        .token
        .resolve("instance acme token", Path::new("."))
        .unwrap_err()
        .to_string();
    assert!(e.contains("ACME_TOKEN"), "{e}");
}

#[test]
fn a_sync_method_sends_by_cause() {
    use crate::config::SyncMethod;
    use crate::model::SyncCause;
    for cause in [
        SyncCause::Created,
        SyncCause::Updated,
        SyncCause::Trigger,
        SyncCause::Manual,
    ] {
        assert!(SyncMethod::Automatic.sends(cause));
        assert!(!SyncMethod::Disabled.sends(cause));
    }
    assert!(SyncMethod::Manual.sends(SyncCause::Manual));
    assert!(SyncMethod::Manual.sends(SyncCause::Bulk));
    assert!(!SyncMethod::Manual.sends(SyncCause::Updated));
    assert!(!SyncMethod::Manual.sends(SyncCause::Trigger));
}
