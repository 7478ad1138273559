"""The Python bindings of the `twinsync:rules` WIT world, as componentize-py generates them.

Inside a component, componentize-py generates them while it builds. For native
tests they must be on the Python path: `componentize-py -d WIT_DIR -w rule
bindings DIR` writes them to DIR (scripts/build-rules-py.sh does it for the
repository's rules).
"""

try:
    from componentize_py_types import Err, Ok, Some
    from wit_world.imports import host
    from wit_world.imports import types
except ImportError as missing:  # pragma: no cover - a setup error, not a rule error
    raise ImportError(
        "twinsync_rules needs the Python bindings of the twinsync:rules WIT world "
        f"({missing}): generate them with `componentize-py -d path/to/wit -w rule "
        "bindings DIR` and put DIR on the Python path (for example DIR = . in the rule's "
        "directory)"
    ) from missing

__all__ = ["Err", "Ok", "Some", "host", "types"]
