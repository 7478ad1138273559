//! How the CLI writes to standard output: the `out!` macros, which treat a closed pipe as
//! the end of the command, and an admin API answer as JSON or a table.

/// Writes a line to standard output; a closed pipe (`twinsync … | head`) ends the command
/// quietly instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            $crate::cli::output::stdout_failed(e)
        }
    }};
}

/// [`out!`] without the newline.
macro_rules! out_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = write!(std::io::stdout().lock(), $($arg)*) {
            $crate::cli::output::stdout_failed(e)
        }
    }};
}

/// A reader that stopped reading (`head`) is not an error; anything else is.
pub(crate) fn stdout_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("error: cannot write to standard output: {e}");
    std::process::exit(1);
}

/// Prints an admin API answer as JSON or through `table`.
pub(crate) fn print_answer(
    json: bool,
    answer: &serde_json::Value,
    table: impl Fn(&serde_json::Value) -> String,
) {
    if json {
        out!(
            "{}",
            serde_json::to_string_pretty(answer).unwrap_or_else(|_| answer.to_string())
        );
    } else {
        out_raw!("{}", table(answer));
    }
}
