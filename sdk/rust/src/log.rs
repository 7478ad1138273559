//! Writing to the node's log (and the admin UI) from a rule.
//!
//! The host caps each line's size. In native tests the lines are captured
//! instead; read them with [`crate::testing::take_logs`].

pub use crate::types::Level;

/// Writes `message` at `level`.
pub fn log(level: Level, message: impl AsRef<str>) {
    crate::host::log(level, message.as_ref());
}

/// Writes a trace line: detail only useful while debugging a rule.
pub fn trace(message: impl AsRef<str>) {
    log(Level::Trace, message);
}

/// Writes a debug line.
pub fn debug(message: impl AsRef<str>) {
    log(Level::Debug, message);
}

/// Writes an info line.
pub fn info(message: impl AsRef<str>) {
    log(Level::Info, message);
}

/// Writes a warning: something the admin may want to fix, though the sync goes on.
pub fn warn(message: impl AsRef<str>) {
    log(Level::Warn, message);
}

/// Writes an error line. To stop the sync of this change, return [`crate::fail`] instead.
pub fn error(message: impl AsRef<str>) {
    log(Level::Error, message);
}
