//! Two node processes paired through the CLI, the invitation code on standard input.

use reqwest::Method;
use twinsync::peer::Identity;
use twinsync::peer::protocol::REPLICA_PATH;
use twinsync::store::now_ms;
use twinsync_e2e::node_process::{cli, cli_with_input};
use twinsync_e2e::pair::Org;
use twinsync_e2e::wait::wait_for;

use super::raw;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_node_processes_pair_through_the_cli_and_sync_an_issue() {
    let a = Org::prepared("a").await;
    let b = Org::prepared("b").await;
    let node_a = a.node_process("a").await;
    let node_b = b.node_process("b").await;
    let (config_a, config_b) = (&node_a.config.path, &node_b.config.path);

    let out = cli(&["connection", "invite", "-C", "ab"], config_a);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = String::from_utf8_lossy(&out.stdout).trim().to_string();
    // The code goes in on standard input: never in argv, where `ps` and the history see it.
    let out = cli_with_input(&["connection", "accept"], config_b, &code);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The secret works once: another node (its own data directory, so its own key) is refused.
    let config_c = b.dir.path().join("other.toml");
    let text_b = std::fs::read_to_string(config_b).expect("config b");
    let data_b = b.dir.path().join("data").display().to_string();
    let data_c = b.dir.path().join("other-data").display().to_string();
    std::fs::write(&config_c, text_b.replace(&data_b, &data_c)).expect("config c");
    let code_file = b.dir.path().join("code.txt");
    std::fs::write(&code_file, format!("{code}\n")).expect("code file");
    let code_file = code_file.display().to_string();
    let again = cli(
        &["connection", "accept", "--code-file", &code_file],
        &config_c,
    );
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already used"), "{stderr}");
    // On the command line it still works, with a warning that says why not to.
    let argv = cli(&["connection", "accept", &code], &config_c);
    let stderr = String::from_utf8_lossy(&argv.stderr);
    assert!(
        stderr.contains("visible to other users") && stderr.contains("already used"),
        "{stderr}"
    );
    let none = cli_with_input(&["connection", "accept"], &config_c, "\n");
    let stderr = String::from_utf8_lossy(&none.stderr);
    assert!(
        !none.status.success() && stderr.contains("no invitation code in standard input"),
        "{stderr}"
    );

    // A forged request to A's node process is refused, and the node says so in its log.
    let stranger_dir = tempfile::tempdir().expect("tempdir");
    let stranger = Identity::load_or_create(stranger_dir.path()).expect("identity");
    let (status, _) = raw(
        &a,
        &stranger,
        Method::POST,
        REPLICA_PATH,
        b"{}".to_vec(),
        (now_ms(), "n-log"),
        |_, _| {},
    )
    .await;
    assert_eq!(status, 403);
    // The node says so in its log.
    node_a.logged(&["peer request refused", "403"]).await;

    a.create_synced("Across two processes").await;
    wait_for("the issue on B's Jira, made by B's node", || async {
        let n = b
            .sim
            .state()
            .issues
            .values()
            .filter(|i| i.summary == "Across two processes")
            .count();
        (n == 1).then_some(())
    })
    .await;
}
