"""The two host imports (`config`, `log`).

Inside a component (`sys.platform == "wasi"`) they are the real imports; run
natively, as in unit tests, they read a config dict and capture log lines,
which `twinsync_rules.testing` fills and reads.
"""

import sys

from ._bindings import host as _wit_host

IN_COMPONENT = sys.platform == "wasi"

# The stand-in host of native runs.
CONFIG: dict = {}
LOGS: list = []


def config(key: str):
    """One setting of this connection side, or None."""
    if IN_COMPONENT:
        return _wit_host.config(key)
    return CONFIG.get(key)


def log(level, message: str) -> None:
    """One line to the node's log (captured when native)."""
    if IN_COMPONENT:
        _wit_host.log(level, message)
    else:
        LOGS.append((level, message))
