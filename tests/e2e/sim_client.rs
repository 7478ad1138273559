//! A real outside client: PyPI's `jira` package (in the repository's .venv) drives the simulator
//! on both flavours through create, edit, transition, comment, attach, download and search.

use std::path::PathBuf;
use std::process::Command;

use twinsync_jira_sim::Flavour;

use twinsync_e2e::rest::start;

/// The virtualenv's Python, or a failure naming the setup command.
pub fn venv_python() -> PathBuf {
    let root = twinsync_e2e::fixtures::root();
    let py = root.join(".venv").join("bin").join("python");
    assert!(
        py.is_file(),
        "{} is missing: create the Python virtualenv with scripts/setup-python.sh (the README's test command runs it)",
        py.display()
    );
    py
}

async fn drive(flavour: Flavour) {
    let h = start(flavour).await;
    let py = venv_python();
    let script = twinsync_e2e::fixtures::root()
        .join("tests")
        .join("outside-client")
        .join("jira_client.py");
    let name = if flavour == Flavour::Cloud {
        "cloud"
    } else {
        "dc"
    };
    let args = vec![
        script.display().to_string(),
        "--flavour".into(),
        name.into(),
        "--url".into(),
        h.url().to_string(),
        "--user".into(),
        h.user().to_string(),
        "--token".into(),
        h.token().to_string(),
    ];
    let out = tokio::task::spawn_blocking(move || Command::new(py).args(args).output())
        .await
        .expect("join")
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "jira client on {name} failed:\n{stdout}\n{stderr}"
    );
    assert_eq!(stdout.trim(), "ok");
    assert!(
        h.count("POST", "/attachments") >= 1,
        "the client really called the simulator"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_python_jira_client_cloud() {
    drive(Flavour::Cloud).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_python_jira_client_dc() {
    drive(Flavour::DataCenter).await;
}
