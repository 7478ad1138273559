//! The node's two HTTP listeners, tried over real HTTP(S) on loopback: the public one answers
//! Jira's webhooks and the health check and nothing else (every admin route is 404 there,
//! token or not); the admin one serves the admin API, page and metrics, on loopback unless
//! told otherwise; and the public one speaks TLS from certificate files, taking a renewed
//! certificate without a restart.

use std::path::Path;

use base64::Engine as _;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use twinsync_jira_sim::{Flavour, SimOptions, Simulator};

use twinsync_e2e::wait::wait_for;
use twinsync_e2e::world::{World, with_node_setting};

const TOKEN: &str = "listeners-admin-token";

/// Every admin route a browser or script reads.
const ADMIN_GETS: [&str; 18] = [
    "/",
    "/ui.js",
    "/ui-setup.js",
    "/ui-connection.js",
    "/ui-issue.js",
    "/ui-visual.js",
    "/api/status",
    "/api/events?state=failed",
    "/api/rules",
    "/api/triggers",
    "/api/bulk",
    "/api/twins?connection=ab",
    "/api/issues/ab/SUP-1",
    "/api/openapi.json",
    "/api/connections/ab/sides/a/rule/versions",
    "/api/instances",
    "/api/connections",
    "/metrics",
];

/// Every admin route that changes something.
const ADMIN_POSTS: [&str; 13] = [
    "/api/connections/ab/pause",
    "/api/connections/ab/resume",
    "/api/events/1/retry",
    "/api/rules/try?connection=ab&side=a&issue=SUP-1",
    "/api/connections/ab/sides/a/rule",
    "/api/connections/ab/sides/a/rule/rollback",
    "/api/instances",
    "/api/connections",
    "/api/connections/ab/invitation",
    "/api/invitations/accept",
    "/api/connections/ab/triggers",
    "/api/triggers/1/bulk",
    "/api/connections/ab/sync",
];

/// Asserts that `base` (a public listener) answers 404 to every admin route, with the right
/// token and the node's own address as `Host`, and leaks nothing of the node.
async fn admin_routes_are_missing(http: &reqwest::Client, base: &str) {
    for path in ADMIN_GETS {
        let resp = http
            .get(format!("{base}{path}"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("reach the public listener");
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap_or_default();
        assert_eq!(status, 404, "GET {path} on the public listener: {body}");
        assert!(
            !body.contains("\"ab\"") && !body.contains("twinsync"),
            "GET {path} leaked: {body}"
        );
    }
    for path in ADMIN_POSTS {
        let resp = http
            .post(format!("{base}{path}"))
            .bearer_auth(TOKEN)
            .header("content-type", "application/wasm")
            .body(b"x".to_vec())
            .send()
            .await
            .expect("reach the public listener");
        assert_eq!(
            resp.status().as_u16(),
            404,
            "POST {path} on the public listener"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_listener_serves_webhooks_and_the_health_check_only() {
    let mut w = World::new().await;
    w.restart_with_node_setting(&format!("admin_token = {{ value = \"{TOKEN}\" }}"))
        .await;
    let node = w.node.as_ref().expect("node");
    let (public, admin) = (node.url(), node.admin_url());
    assert_ne!(node.addr.port(), node.admin_addr.port(), "two listeners");
    let http = reqwest::Client::new();

    admin_routes_are_missing(&http, &public).await;
    assert_eq!(
        w.node().store.connection_state("ab").expect("state"),
        twinsync::store::ConnectionState::Active,
        "nothing was paused"
    );
    // The same routes answer on the admin listener, with the token.
    for path in ADMIN_GETS {
        let resp = http
            .get(format!("{admin}{path}"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("reach the admin listener");
        assert_eq!(
            resp.status().as_u16(),
            200,
            "GET {path} on the admin listener"
        );
    }
    // Webhooks are not the admin listener's business: 404 there, nothing queued.
    let hook = http
        .post(format!(
            "{admin}/webhooks/jira/a?secret=s3cret-s3cret-s3cret"
        ))
        .json(
            &serde_json::json!({"webhookEvent": "jira:issue_updated", "timestamp": 1,
            "issue": {"key": "SUP-1", "fields": {}}}),
        )
        .send()
        .await
        .expect("reach");
    assert_eq!(hook.status().as_u16(), 404, "webhook on the admin listener");
    assert_eq!(
        w.node().store.queue_stats(None).expect("stats").pending,
        0,
        "nothing queued"
    );
    // The health check answers on both, without a token.
    for base in [&public, &admin] {
        let health = http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .expect("reach");
        assert_eq!(health.status().as_u16(), 200, "{base}/healthz");
    }
    // Jira's webhooks reach the public listener (the node does not poll): an issue syncs.
    let key = w.create_on_a("Through the public door", &["sync"]).await;
    w.twin_of(&key).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_listener_stays_on_loopback_when_the_public_one_opens_to_the_network() {
    let a = twinsync_e2e::rest::start(Flavour::Cloud).await;
    let b = twinsync_e2e::rest::start(Flavour::DataCenter).await;
    let mut w = World::unstarted(a, b);
    // An operator opens webhooks to the network and says nothing of the admin listener; the
    // node has no admin token (the public listener needs none).
    w.config = w
        .config
        .replacen("admin_listen = \"127.0.0.1:0\"\n", "", 1)
        .replacen("listen = \"127.0.0.1:0\"", "listen = \"0.0.0.0:0\"", 1);
    assert!(!w.config.contains("admin_listen"), "{}", w.config);
    w.start_node().await;
    let node = w.node.as_ref().expect("node");
    assert!(node.addr.ip().is_unspecified(), "public on every address");
    assert!(
        node.admin_addr.ip().is_loopback(),
        "admin on loopback by default: {}",
        node.admin_addr
    );
    let http = reqwest::Client::new();
    let public = format!("http://127.0.0.1:{}", node.addr.port());
    admin_routes_are_missing(&http, &public).await;
    let status = http
        .get(format!("{}/api/status", node.admin_url()))
        .send()
        .await
        .expect("reach");
    assert_eq!(status.status().as_u16(), 200, "the admin API, on loopback");
    let key = w.create_on_a("Webhooks from the network", &["sync"]).await;
    w.twin_of(&key).await;
}

/// A certificate authority for a test: what a Jira site's admin would trust.
fn authority(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA")
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// Writes a certificate for 127.0.0.1 and localhost signed by `ca`, with its key, as PEM.
fn write_leaf(ca: &CertifiedIssuer<'static, KeyPair>, cert: &Path, key: &Path) {
    let params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .expect("params");
    let pair = KeyPair::generate().expect("key");
    let leaf = params.signed_by(&pair, ca).expect("leaf");
    std::fs::write(cert, pem("CERTIFICATE", leaf.der())).expect("write cert");
    std::fs::write(key, pem("PRIVATE KEY", &pair.serialize_der())).expect("write key");
}

/// A client that trusts only `ca`, with a fresh connection per request. Take a new client to
/// see which certificate serves now: an old one may resume an earlier TLS session.
fn trusting(ca: &CertifiedIssuer<'static, KeyPair>) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let root = reqwest::Certificate::from_der(ca.der()).expect("root");
    reqwest::Client::builder()
        .tls_certs_only([root])
        .pool_max_idle_per_host(0)
        .build()
        .expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_reach_the_public_listener_over_tls_and_a_renewed_certificate_serves_without_a_restart()
 {
    let ca = authority("Acme test CA");
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    write_leaf(&ca, &cert, &key);

    // Jira Cloud's side trusts the CA, as a site trusts a public one; it sends webhooks over https.
    let mut oa = SimOptions::new(Flavour::Cloud);
    oa.webhook_roots = vec![ca.der().to_vec()];
    oa.webhook_retry.base_delay = std::time::Duration::from_millis(20);
    let a = Simulator::start(oa).await.expect("simulator");
    let b = twinsync_e2e::rest::start(Flavour::DataCenter).await;
    let mut w = World::unstarted(a, b);
    w.config = with_node_setting(
        &w.config,
        &format!(
            "tls = {{ cert = \"{}\", key = \"{}\" }}",
            cert.display(),
            key.display()
        ),
    );
    w.start_node().await;
    let node = w.node.as_ref().expect("node");
    let public = node.url();
    assert!(public.starts_with("https://"), "{public}");

    // A webhook over TLS (the node does not poll) puts the issue under sync.
    let issue = w.create_on_a("Sent over TLS", &["sync"]).await;
    w.twin_of(&issue).await;

    // Plain HTTP gets no answer from the TLS listener; the admin listener stays plain HTTP
    // on loopback; admin routes are 404 over TLS too.
    let plain = reqwest::get(format!("http://{}/healthz", node.addr)).await;
    assert!(plain.is_err(), "plain HTTP answered: {plain:?}");
    let admin = reqwest::get(format!("{}/healthz", node.admin_url()))
        .await
        .expect("admin listener");
    assert_eq!(admin.status().as_u16(), 200);
    let old = trusting(&ca);
    admin_routes_are_missing(&old, &public).await;

    // Renewal: a certificate from another CA replaces the files; the next handshakes serve it.
    let renewed_ca = authority("Acme renewed CA");
    let new = trusting(&renewed_ca);
    assert!(
        new.get(format!("{public}/healthz")).send().await.is_err(),
        "the renewed CA's client cannot trust the first certificate"
    );
    write_leaf(&renewed_ca, &cert, &key);
    wait_for("the renewed certificate to serve", || async {
        let r = new.get(format!("{public}/healthz")).send().await.ok()?;
        r.status().is_success().then_some(())
    })
    .await;
    assert!(
        trusting(&ca)
            .get(format!("{public}/healthz"))
            .send()
            .await
            .is_err(),
        "the first certificate no longer serves"
    );

    // A renewal that does not load (a key of another certificate) keeps the last good one.
    let stray = dir.path().join("stray.pem");
    write_leaf(&renewed_ca, &stray, &key);
    let health = trusting(&renewed_ca)
        .get(format!("{public}/healthz"))
        .send()
        .await
        .expect("the last good certificate still serves");
    assert_eq!(health.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_with_unusable_certificate_files_does_not_start() {
    let a = twinsync_e2e::rest::start(Flavour::Cloud).await;
    let b = twinsync_e2e::rest::start(Flavour::DataCenter).await;
    let ca = authority("Acme test CA");
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let (other_cert, other_key) = (dir.path().join("o.pem"), dir.path().join("o.key"));
    write_leaf(&ca, &cert, &key);
    write_leaf(&ca, &other_cert, &other_key);
    let w = World::unstarted(a, b);
    for (c, k, says) in [
        (&cert, &dir.path().join("missing.pem"), "node.tls.key"),
        (&dir.path().join("missing.pem"), &key, "node.tls.cert"),
        (&cert, &other_key, "does not fit"),
    ] {
        let text = with_node_setting(
            &w.config,
            &format!(
                "tls = {{ cert = \"{}\", key = \"{}\" }}",
                c.display(),
                k.display()
            ),
        );
        let config = twinsync::config::NodeConfig::parse(
            &text,
            Path::new("twinsync.toml"),
            std::path::PathBuf::from("."),
        )
        .expect("config parses");
        let node = twinsync::sync::node::Node::build(config).expect("node builds");
        let err = twinsync::daemon::start(node)
            .await
            .err()
            .expect("refused")
            .to_string();
        assert!(err.contains(says), "{says}: {err}");
    }
}
