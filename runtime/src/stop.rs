//! The node's stop signal: once raised, intake ends (no new claims, polls or sends) while the
//! work in hand runs on to a durable step; the daemon bounds how long it waits.

use tokio::sync::watch;

/// Raises the stop signal for every [`Stop`] made from it.
#[derive(Debug)]
pub struct StopSender(watch::Sender<bool>);

/// A task's view of the stop signal; cheap to clone, and it never misses a stop raised
/// before it looked (unlike a bare `Notify`).
#[derive(Debug, Clone)]
pub struct Stop(watch::Receiver<bool>);

/// A signal not yet raised, and the first view of it.
pub fn channel() -> (StopSender, Stop) {
    let (tx, rx) = watch::channel(false);
    (StopSender(tx), Stop(rx))
}

/// A signal nobody raises, for work outside a running node.
pub fn never() -> Stop {
    static NEVER: std::sync::OnceLock<watch::Sender<bool>> = std::sync::OnceLock::new();
    Stop(NEVER.get_or_init(|| watch::channel(false).0).subscribe())
}

impl StopSender {
    /// Raises the signal; every view sees it from now on.
    pub fn stop(&self) {
        self.0.send_replace(true);
    }

    /// Another view of this signal.
    pub fn subscribe(&self) -> Stop {
        Stop(self.0.subscribe())
    }
}

impl Stop {
    /// Whether the signal is raised.
    pub fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the signal is raised (at once if it already is).
    pub async fn stopped(&mut self) {
        // An error means every sender is gone: nobody can stop us any more, so treat it as stop.
        let _ = self.0.wait_for(|stopped| *stopped).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_view_made_after_the_stop_still_sees_it() {
        let (tx, mut early) = channel();
        tx.stop();
        let mut late = tx.subscribe();
        assert!(early.is_stopped() && late.is_stopped());
        early.stopped().await;
        late.stopped().await;
    }

    #[tokio::test]
    async fn a_dropped_sender_counts_as_stop() {
        let (tx, mut view) = channel();
        drop(tx);
        view.stopped().await;
    }
}
