//! The polling wait: a test waits for a condition, never for a fixed time. A wait polls its
//! probe until it answers or the deadline passes; giving up, it panics with what it last saw.

use std::fmt::Display;
use std::future::Future;
use std::time::{Duration, Instant};

/// How long a wait lasts unless told otherwise.
pub const DEFAULT_WITHIN: Duration = Duration::from_secs(20);

/// A wait for `what`: its deadline and how often it looks.
#[derive(Debug, Clone, Copy)]
pub struct Wait<'a> {
    what: &'a str,
    within: Duration,
    every: Duration,
}

impl<'a> Wait<'a> {
    /// A wait of 20 s that looks every 25 ms.
    pub fn new(what: &'a str) -> Wait<'a> {
        Wait {
            what,
            within: DEFAULT_WITHIN,
            every: Duration::from_millis(25),
        }
    }

    /// Gives up after `within`.
    pub fn within(self, within: Duration) -> Wait<'a> {
        Wait { within, ..self }
    }

    /// Looks every `every`.
    pub fn every(self, every: Duration) -> Wait<'a> {
        Wait { every, ..self }
    }

    /// Polls `probe` until it answers `Ok`; giving up, panics with the last `Err` it saw.
    pub async fn until<T, S, F, Fut>(self, mut probe: F) -> T
    where
        S: Display,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, S>>,
    {
        let deadline = Instant::now() + self.within;
        loop {
            match probe().await {
                Ok(v) => return v,
                Err(seen) if Instant::now() >= deadline => self.give_up(seen),
                Err(_) => tokio::time::sleep(self.every).await,
            }
        }
    }

    /// Like [`Wait::until`], for a test without an async runtime: sleeps the thread.
    pub fn until_blocking<T, S: Display>(self, mut probe: impl FnMut() -> Result<T, S>) -> T {
        let deadline = Instant::now() + self.within;
        loop {
            match probe() {
                Ok(v) => return v,
                Err(seen) if Instant::now() >= deadline => self.give_up(seen),
                Err(_) => std::thread::sleep(self.every),
            }
        }
    }

    fn give_up(self, seen: impl Display) -> ! {
        panic!(
            "timed out after {:?} waiting for {}; last seen:\n{seen}",
            self.within, self.what
        )
    }

    /// Polls `probe` until it yields a value; giving up, panics.
    pub async fn until_some<T, F, Fut>(self, mut probe: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        self.until(|| {
            let answer = probe();
            async move { answer.await.ok_or("no answer yet") }
        })
        .await
    }
}

/// Polls `probe` until it yields a value (20 s at most).
pub async fn wait_for<T, F, Fut>(what: &str, probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    Wait::new(what).until_some(probe).await
}
