"""Reading the connection side's settings: plain values, lists, flags and value maps.

Config is a flat map of string keys to string values that the node keeps per
connection side, so one rule module can serve many connections. Values are
trimmed of Unicode White_Space, exactly as the Rust SDK trims them, so a rule
reads the same config the same way in either language.
"""

from ._bindings import Err, types
from . import _host

# Unicode White_Space, what Rust's str::trim removes (Python's str.strip also
# removes U+001C..U+001F, which Rust keeps).
_WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def trim(s: str) -> str:
    """`s` without leading and trailing Unicode White_Space."""
    return s.strip(_WHITE_SPACE)


def skip(reason: str) -> Err:
    """`raise skip("...")`: this change does not sync, and that is not an error."""
    return Err(types.RuleError_Skip(reason))


def fail(reason: str) -> Err:
    """`raise fail("...")`: an error the admin must see; the issue's queue waits for a retry."""
    return Err(types.RuleError_Fail(reason))


def config(key: str):
    """The setting `key` of this connection side, or None when it is not set."""
    return _host.config(key)


def config_or(key: str, default: str) -> str:
    """The setting `key`, or `default` when it is not set."""
    value = config(key)
    return default if value is None else value


def require_config(key: str) -> str:
    """The setting `key`, trimmed; raises `fail` naming the key when it is not set or blank."""
    value = config(key)
    if value is None or not trim(value):
        raise fail(f"config key `{key}` is not set for this connection side")
    return trim(value)


def config_list(key: str) -> list:
    """The setting `key` read as a comma-separated list: items trimmed, empty
    items dropped. Empty when the key is not set."""
    value = config(key)
    if value is None:
        return []
    return [item for item in (trim(part) for part in value.split(",")) if item]


def config_flag(key: str, default: bool) -> bool:
    """The setting `key` read as a flag: true/yes/on/1 or false/no/off/0 (any
    case); `default` when not set; raises `fail` for anything else."""
    value = config(key)
    if value is None:
        return default
    folded = ascii_lower(trim(value))
    if folded in ("true", "yes", "on", "1"):
        return True
    if folded in ("false", "no", "off", "0"):
        return False
    raise fail(f"config key `{key}` must be true or false, not {_quoted(folded)}")


def local_project(ctx):
    """The project to create the local twin in: on first sync the setting
    `project` (raises `fail` when it is missing), otherwise None, since an
    existing twin stays where it is."""
    if not ctx.first_sync:
        return None
    value = config("project")
    if value is None or not trim(value):
        raise fail(
            "config key `project` is not set for this connection side: "
            "it names the project in which the first sync creates the local twin"
        )
    return trim(value)


class Unmapped:
    """What `map_value` does with a value that has no `map.<field>.<value>`
    entry, set per field by the config key `unmapped.<field>`: `keep` (the
    default: use the value unchanged), `skip-field` (leave the local field
    alone), `fail`, or `default:<value>` (use `<value>`)."""

    KEEP = "keep"
    SKIP_FIELD = "skip-field"
    FAIL = "fail"
    DEFAULT = "default"

    def __init__(self, kind: str, value: str = ""):
        self.kind = kind
        self.value = value

    def __eq__(self, other):
        return isinstance(other, Unmapped) and (self.kind, self.value) == (other.kind, other.value)

    def __repr__(self):
        return f"Unmapped({self.kind!r}, {self.value!r})"

    @classmethod
    def for_field(cls, field: str) -> "Unmapped":
        """The policy for `field`, from the config key `unmapped.<field>`."""
        key = f"unmapped.{field}"
        raw = config(key)
        if raw is None:
            return cls(cls.KEEP)
        raw = trim(raw)
        if raw.startswith("default:"):
            return cls(cls.DEFAULT, trim(raw[len("default:"):]))
        if raw in (cls.KEEP, cls.SKIP_FIELD, cls.FAIL):
            return cls(raw)
        raise fail(
            f"config key `{key}` must be keep, skip-field, fail or default:<value>, not {_quoted(raw)}"
        )


def map_value(field: str, value: str):
    """Maps `value` of `field` through config: the key `map.<field>.<value>`
    (looked up as written, then lower-cased) gives the value to use, e.g.
    `map.status.In Progress` = `Doing`.

    Returns the value to set, None to leave the local field alone (an empty map
    entry, or `unmapped.<field>` = `skip-field`), and raises `fail` when
    `unmapped.<field>` = `fail` and there is no entry."""
    exact = f"map.{field}.{value}"
    found = config(exact)
    if found is None:
        folded = trim(value).lower()
        if folded != value:
            found = config(f"map.{field}.{folded}")
    if found is not None:
        mapped = trim(found)
        return mapped if mapped else None
    policy = Unmapped.for_field(field)
    if policy.kind == Unmapped.KEEP:
        return value
    if policy.kind == Unmapped.SKIP_FIELD:
        return None
    if policy.kind == Unmapped.DEFAULT:
        return policy.value if policy.value else None
    raise fail(
        f"no mapping for {field} {_quoted(value)}: set config key `{exact}` (or `unmapped.{field}`)"
    )


def map_option(field: str, value):
    """`map_value` for an optional value: None stays None (the local field is left alone)."""
    return None if value is None else map_value(field, value)


def ascii_lower(s: str) -> str:
    """`s` with A-Z lower-cased and nothing else: Rust's `to_ascii_lowercase`, for
    comparing like its `eq_ignore_ascii_case`."""
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in s)


def _quoted(s: str) -> str:
    """`s` in double quotes with escapes, as Rust's `{:?}` writes it in the same messages."""
    out = ['"']
    for c in s:
        if c in "\"\\":
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif c == "\0":
            out.append("\\0")
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{{{ord(c):x}}}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)
