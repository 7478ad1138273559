//! A node as its own process: the built `twinsync node` on a config file with fixed ports
//! (so a restart keeps the URLs webhooks and peers point at), its log in a file, killed with
//! SIGKILL when a test says so and always when the handle drops. Also the CLI run against
//! such a config.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use crate::fixtures::twinsync_binary;
use crate::ports::free_port;
use crate::wait::Wait;

/// A node's config file with both listeners on fixed loopback ports, and where its log goes.
#[derive(Debug, Clone)]
pub struct ProcessConfig {
    /// Where the config file is.
    pub path: PathBuf,
    /// Where the node's output goes.
    pub log: PathBuf,
    /// The public listener (webhooks, health check, peer API unless set apart).
    pub url: String,
    /// The admin listener (admin API, page, metrics).
    pub admin: String,
}

impl ProcessConfig {
    /// Writes `config` as `dir/twinsync.toml`, its `listen = "127.0.0.1:0"` and
    /// `admin_listen = "127.0.0.1:0"` moved to free ports; the log will be `dir/node.log`.
    pub fn write(dir: &Path, config: &str) -> ProcessConfig {
        let (port, admin_port) = (free_port(), free_port());
        // The admin line first: its text holds the public one's.
        let config = config
            .replacen(
                "admin_listen = \"127.0.0.1:0\"",
                &format!("admin_listen = \"127.0.0.1:{admin_port}\""),
                1,
            )
            .replacen(
                "\nlisten = \"127.0.0.1:0\"",
                &format!("\nlisten = \"127.0.0.1:{port}\""),
                1,
            );
        for (line, port) in [("admin_listen", admin_port), ("\nlisten", port)] {
            assert!(
                config.contains(&format!("{line} = \"127.0.0.1:{port}\"")),
                "the config names its listener {line:?} on 127.0.0.1:0:\n{config}"
            );
        }
        let path = dir.join("twinsync.toml");
        std::fs::write(&path, config).expect("write config");
        ProcessConfig {
            path,
            log: dir.join("node.log"),
            url: format!("http://127.0.0.1:{port}"),
            admin: format!("http://127.0.0.1:{admin_port}"),
        }
    }
}

/// A `twinsync node` process, killed when dropped; its output appended to its log.
pub struct NodeProcess {
    child: Child,
    /// The config the process was started with.
    pub config: ProcessConfig,
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl NodeProcess {
    /// Starts the node on `config`, armed with crash point `failpoint` if given, and waits
    /// until it serves.
    pub async fn start(config: &ProcessConfig, failpoint: Option<&str>) -> NodeProcess {
        let mut node = NodeProcess::spawn(config, failpoint);
        node.serving().await;
        node
    }

    /// Starts the node without waiting for it. It runs under umask 022 as a service would,
    /// so whatever the node keeps private it keeps so by its own doing.
    pub fn spawn(config: &ProcessConfig, failpoint: Option<&str>) -> NodeProcess {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&config.log)
            .expect("node log");
        let err = out.try_clone().expect("node log");
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg("umask 022 && exec \"$0\" node -c \"$1\"")
            .arg(twinsync_binary())
            .arg(&config.path)
            .env("TWINSYNC_LOG", "info")
            .env_remove("TWINSYNC_FAILPOINT")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        if let Some(point) = failpoint {
            cmd.env("TWINSYNC_FAILPOINT", point);
        }
        let child = cmd.spawn().expect("node process starts");
        NodeProcess {
            child,
            config: config.clone(),
        }
    }

    /// Waits until the node answers its health check (its store is open and migrated by
    /// then); panics with its log if it exits first or takes over 30 s.
    pub async fn serving(&mut self) {
        let http = reqwest::Client::new();
        let health = format!("{}/healthz", self.config.url);
        let log = self.config.log.clone();
        let child = &mut self.child;
        Wait::new("the node process to serve")
            .within(Duration::from_secs(30))
            .every(Duration::from_millis(10))
            .until(|| {
                let exited = child.try_wait().ok().flatten();
                let probe = http.get(&health).send();
                let log = &log;
                async move {
                    if let Some(status) = exited {
                        panic!(
                            "the node exited ({status}) before serving:\n{}",
                            tail(log, 40)
                        );
                    }
                    match probe.await {
                        Ok(r) if r.status().is_success() => Ok(()),
                        _ => Err(tail(log, 40)),
                    }
                }
            })
            .await;
    }

    /// Starts the node again, unarmed, if it died; whether it had.
    pub fn revive(&mut self) -> bool {
        let died = matches!(self.child.try_wait(), Ok(Some(_)));
        if died {
            *self = NodeProcess::spawn(&self.config, None);
        }
        died
    }

    /// SIGKILL (on unix): no shutdown code runs. Panics if the node had exited on its own.
    pub fn kill(mut self) {
        assert!(
            self.child.try_wait().expect("node status").is_none(),
            "the node exited on its own before it was killed:\n{}",
            self.tail(40)
        );
        self.child.kill().expect("kill the node");
        let _ = self.child.wait();
    }

    /// SIGTERM: the node's own stop runs.
    pub fn terminate(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid");
        // SAFETY: kill(2) with a pid this test spawned and has not reaped yet.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "SIGTERM sent");
    }

    /// The exit status once the node has exited, or `None` if it still runs after `within`.
    pub async fn exited_within(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("node status") {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Ends the node, whatever its state.
    pub fn stop(self) {
        drop(self);
    }

    /// The public listener's URL.
    pub fn url(&self) -> &str {
        &self.config.url
    }

    /// The admin listener's URL.
    pub fn admin(&self) -> &str {
        &self.config.admin
    }

    /// The node's whole log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.config.log).unwrap_or_default()
    }

    /// The last `lines` lines of the node's log.
    pub fn tail(&self, lines: usize) -> String {
        tail(&self.config.log, lines)
    }

    /// Waits for a log line holding every one of `words`; giving up, prints the log.
    pub async fn logged(&self, words: &[&str]) {
        Wait::new(&format!("a log line with {words:?}"))
            .every(Duration::from_millis(50))
            .until(|| async {
                let log = self.log();
                if log.lines().any(|l| words.iter().all(|w| l.contains(w))) {
                    Ok(())
                } else {
                    Err(log)
                }
            })
            .await;
    }
}

/// The last `lines` lines of the log file at `log`.
pub fn tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Runs the `twinsync` CLI with `args` against the node config at `config`.
pub fn cli(args: &[&str], config: &Path) -> Output {
    Command::new(twinsync_binary())
        .args(args)
        .arg("-c")
        .arg(config)
        .output()
        .expect("the CLI runs")
}

/// Like [`cli`], with `input` on standard input.
pub fn cli_with_input(args: &[&str], config: &Path, input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(twinsync_binary())
        .args(args)
        .arg("-c")
        .arg(config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the CLI runs");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes()).expect("write the code");
    }
    child.wait_with_output().expect("the CLI ends")
}
