"""Writing to the node's log (and the admin UI) from a rule.

The host caps the bytes of log lines per call. In native tests the lines are
captured instead; read them with `twinsync_rules.testing.take_logs()`.
"""

from ._bindings import host as _wit_host
from . import _host

Level = _wit_host.Level


def log(level, message: str) -> None:
    """Writes `message` at `level` (a `Level`)."""
    _host.log(level, str(message))


def trace(message: str) -> None:
    """A trace line: detail only useful while debugging a rule."""
    log(Level.TRACE, message)


def debug(message: str) -> None:
    """A debug line."""
    log(Level.DEBUG, message)


def info(message: str) -> None:
    """An info line."""
    log(Level.INFO, message)


def warn(message: str) -> None:
    """A warning: something the admin may want to fix, though the sync goes on."""
    log(Level.WARN, message)


def error(message: str) -> None:
    """An error line. To stop the sync of this change, `raise fail(...)` instead."""
    log(Level.ERROR, message)
