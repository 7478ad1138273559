//! The two host imports (`config`, `log`): the real ones inside a component,
//! a thread-local config map and log capture when the rule runs natively in tests.

use crate::types::Level;

/// Reads one setting of this connection side.
#[cfg(target_arch = "wasm32")]
pub(crate) fn config(key: &str) -> Option<String> {
    crate::bindings::twinsync::rules::host::config(key)
}

/// Writes one line to the node's log.
#[cfg(target_arch = "wasm32")]
pub(crate) fn log(level: Level, message: &str) {
    crate::bindings::twinsync::rules::host::log(level, message)
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native::{config, log};

/// The stand-in host for native builds; `testing` fills and reads it.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) mod native {
    use super::Level;
    use std::cell::RefCell;
    use std::collections::HashMap;

    thread_local! {
        // Per thread, because `cargo test` runs tests on parallel threads.
        pub(crate) static CONFIG: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
        pub(crate) static LOGS: RefCell<Vec<(Level, String)>> = const { RefCell::new(Vec::new()) };
    }

    /// Reads the test config map of this thread.
    pub(crate) fn config(key: &str) -> Option<String> {
        CONFIG.with(|c| c.borrow().get(key).cloned())
    }

    /// Appends to the captured log of this thread.
    pub(crate) fn log(level: Level, message: &str) {
        LOGS.with(|l| l.borrow_mut().push((level, message.to_owned())));
    }
}
