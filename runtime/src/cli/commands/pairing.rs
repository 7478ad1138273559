//! `twinsync connection invite|accept`: pair a remote connection with a peer node through a
//! one-time invitation code.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use twinsync::config::NodeConfig;
use twinsync::peer::enroll;

/// `connection invite`: prints a code that pairs `connection` with a peer node.
pub(crate) fn invite(
    config_path: &Path,
    connection: &str,
    expires_in_minutes: u64,
) -> anyhow::Result<()> {
    let config = NodeConfig::load(config_path)?;
    let store = enroll::open_store(&config)?;
    let code = enroll::invite(
        &config,
        &store,
        connection,
        Duration::from_secs(expires_in_minutes.saturating_mul(60)),
    )?;
    out!("{code}");
    Ok(())
}

/// `connection accept`: pairs with the peer node that made the code.
pub(crate) fn accept(
    config_path: &Path,
    code: Option<String>,
    code_file: Option<&Path>,
) -> anyhow::Result<()> {
    let code = invitation_code(code, code_file)?;
    let config = NodeConfig::load(config_path)?;
    let store = enroll::open_store(&config)?;
    let peer = crate::cli::runtime()?.block_on(enroll::accept(&config, &store, &code))?;
    out!(
        "connection {} paired with the peer at {}",
        peer.connection,
        peer.url
    );
    Ok(())
}

/// The invitation code for `connection accept`: from a file, the command line (with a
/// warning), or standard input (prompting when it is a terminal).
fn invitation_code(arg: Option<String>, file: Option<&Path>) -> anyhow::Result<String> {
    use std::io::{IsTerminal, Read};
    // A code is a few hundred bytes; reading stops well past that.
    const MAX_CODE_BYTES: u64 = 64 << 10;
    let (text, from) = match (arg, file) {
        (Some(code), _) => {
            eprintln!(
                "warning: a code on the command line is visible to other users (ps) and stays \
                 in shell history; pipe it in instead: twinsync connection accept < code.txt"
            );
            (code, "the command line".to_string())
        }
        (None, Some(path)) => {
            let mut text = String::new();
            std::fs::File::open(path)
                .and_then(|f| f.take(MAX_CODE_BYTES).read_to_string(&mut text))
                .with_context(|| {
                    format!("cannot read the invitation code from {}", path.display())
                })?;
            (text, path.display().to_string())
        }
        (None, None) => {
            let stdin = std::io::stdin();
            let mut text = String::new();
            if stdin.is_terminal() {
                eprint!("paste the invitation code, then press Enter: ");
                stdin
                    .read_line(&mut text)
                    .context("cannot read the invitation code")?;
            } else {
                stdin
                    .lock()
                    .take(MAX_CODE_BYTES)
                    .read_to_string(&mut text)
                    .context("cannot read the invitation code from standard input")?;
            }
            (text, "standard input".to_string())
        }
    };
    let code = text.trim();
    if code.is_empty() {
        anyhow::bail!(
            "no invitation code in {from}: give it on standard input or with --code-file"
        );
    }
    Ok(code.to_string())
}
