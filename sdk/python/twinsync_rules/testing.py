"""Running a rule natively under `python -m unittest`: a config dict in place of
the host's, captured log lines, and sample issues and contexts.

A rule's tests call its `WitWorld` methods directly:

    from twinsync_rules import local_project, info, Level
    from twinsync_rules.testing import context, take_logs, with_config

    with with_config({"project": "DEST"}):
        assert local_project(context(True)) == "DEST"
    info("hello")
    assert take_logs() == [(Level.INFO, "hello")]

A rule that raises `skip` or `fail` raises `Err`; its `value` is a
`RuleError_Skip` or `RuleError_Fail` (see `rule_error`).

The JSON helpers read and write the JSON form `twinsync rules test` uses, so a
test can run on `example-rules/samples/issue.json` and compare with what the
component answers under the host.
"""

import contextlib
import dataclasses
import enum
import json
import typing

from . import _host
from ._bindings import Err, Some, types
from .records import make, rich_text


@contextlib.contextmanager
def with_config(pairs=()):
    """Runs the `with` block with exactly `pairs` (a dict or (key, value) pairs)
    as the config, then restores the previous config (also on an exception)."""
    previous = dict(_host.CONFIG)
    _host.CONFIG.clear()
    _host.CONFIG.update(dict(pairs))
    try:
        yield
    finally:
        _host.CONFIG.clear()
        _host.CONFIG.update(previous)


def set_config(key: str, value: str) -> None:
    """Sets one config key until `clear_config` (see `with_config` for a scoped one)."""
    _host.CONFIG[key] = value


def clear_config() -> None:
    """Removes every config key."""
    _host.CONFIG.clear()


def take_logs() -> list:
    """The (Level, message) lines written since the last call, oldest first."""
    lines = list(_host.LOGS)
    _host.LOGS.clear()
    return lines


def rule_error(call, *args, **kwargs):
    """Calls `call(*args, **kwargs)` expecting a rule error; returns the
    `RuleError_Skip` or `RuleError_Fail` it raised. AssertionError if it returned."""
    try:
        result = call(*args, **kwargs)
    except Err as err:
        return err.value
    raise AssertionError(f"expected a rule error, got {result!r}")


def user(name: str, email: str):
    """A user with display name `name`, email `email`, account id `acc-<name>`
    and user name `<name>`, both lower-cased."""
    lower = name.lower()
    return types.User(account_id=f"acc-{lower}", name=lower, display_name=name, email=email)


def comment(id: str, body: str, internal: bool):
    """A plain-text comment by Ada."""
    return types.Comment(
        id=id,
        author=user("Ada", "ada@example.com"),
        body=rich_text(body),
        internal=internal,
        created="2026-11-20T09:00:00.000+0000",
        updated="2026-11-20T09:00:00.000+0000",
    )


def attachment(id: str, filename: str):
    """Attachment metadata for a 1 KiB file uploaded by Ada."""
    return types.Attachment(
        id=id,
        filename=filename,
        mime_type="application/octet-stream",
        size=1024,
        author=user("Ada", "ada@example.com"),
        created="2026-11-20T09:30:00.000+0000",
    )


def custom_field(id: str, name: str, value):
    """A custom field with a value (e.g. `types.Value_Choice("Blue")`)."""
    return types.CustomField(id=id, name=name, value=value)


def sample_issue():
    """The Rust SDK's sample: issue `SRC-1` of project `SRC`, type Bug, status
    "In Progress", priority High, two labels, one component, assignee Ada
    (ada@example.com), reporter Bob, a due date, a public comment `10001`, an
    internal comment `10002`, an attachment `20001` (`trace.log`) and custom
    fields `Team` (customfield_10010, choice "Blue"), `Story Points`
    (customfield_10020, 5) and `Customer` (customfield_10030, text "ACME Corp");
    no security level."""
    return make(
        types.Issue,
        key="SRC-1",
        id="10000",
        project="SRC",
        issue_type="Bug",
        summary="Checkout fails for ACME Corp",
        description=rich_text("Paying with a saved card returns HTTP 500 for ACME Corp."),
        status="In Progress",
        priority="High",
        labels=["checkout", "payments"],
        components=["Web"],
        assignee=user("Ada", "ada@example.com"),
        reporter=user("Bob", "bob@example.com"),
        due_date="2026-12-01",
        parent=None,
        comments=[
            comment("10001", "Reproduced on staging.", False),
            comment("10002", "Internal: ACME is on the enterprise plan.", True),
        ],
        attachments=[attachment("20001", "trace.log")],
        custom_fields=[
            custom_field("customfield_10010", "Team", types.Value_Choice("Blue")),
            custom_field("customfield_10020", "Story Points", types.Value_Number(5.0)),
            custom_field("customfield_10030", "Customer", types.Value_Text("ACME Corp")),
        ],
        created="2026-11-19T08:00:00.000+0000",
        updated="2026-11-20T09:30:00.000+0000",
    )


def context(first_sync: bool):
    """A context on connection `test` between sides `left` (local) and `right`;
    on first sync no keys are known yet, otherwise `SRC-1` and `DEST-1`."""
    return types.SyncContext(
        connection="test",
        local_side="left",
        remote_side="right",
        first_sync=first_sync,
        local_key=None if first_sync else "SRC-1",
        remote_key=None if first_sync else "DEST-1",
        event=types.SyncEvent.CREATED if first_sync else types.SyncEvent.UPDATED,
    )


def incoming_context(first_sync: bool):
    """Like `context`, with event `replica`."""
    return dataclasses.replace(context(first_sync), event=types.SyncEvent.REPLICA)


# ---- The JSON form of `twinsync rules test` ----
#
# Field names are the WIT names in snake_case; an option is the value or null; a
# variant is an object with one key, the case name in snake_case; an enum is its
# case name; `changes.assignee` and `changes.due_date` omit the key to leave the
# field alone and give null to clear it.


def _case_name(cls) -> str:
    # Value_Datetime -> datetime, UserRef_AccountId -> account_id
    case = cls.__name__.split("_", 1)[1]
    return "".join("_" + c.lower() if c.isupper() else c for c in case).lstrip("_")


def to_json(value):
    """`value` (a generated dataclass, list, enum, ...) in the JSON form, as plain Python data."""
    if isinstance(value, Some):
        return to_json(value.value)
    if isinstance(value, enum.Enum):
        return value.name.lower()
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if dataclasses.is_dataclass(value):
        fields = dataclasses.fields(value)
        if [f.name for f in fields] == ["value"] and "_" in type(value).__name__:
            return {_case_name(type(value)): to_json(value.value)}
        out = {}
        for f in fields:
            v = getattr(value, f.name)
            if isinstance(value, types.Changes) and f.name in ("assignee", "due_date") and v is None:
                continue  # absent: leave the field alone
            out[f.name] = to_json(v)
        return out
    return value


def dumps(value) -> str:
    """`value` in the JSON form, as `rules test` prints it (sorted keys, two-space indent)."""
    return json.dumps(to_json(value), indent=2, sort_keys=True, ensure_ascii=False)


def _from_json(hint, data):
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union:
        options = [a for a in args if a is not type(None)]
        if type(None) in args and len(options) == 1:
            if typing.get_origin(options[0]) is Some:
                # A nested option: the key is present (absent keys never get here).
                return Some(_from_json(typing.get_args(options[0])[0], data))
            return None if data is None else _from_json(options[0], data)
        if type(None) in args and data is None:
            return None
        (case, inner), = data.items()
        for cls in options:
            if _case_name(cls) == case:
                return cls(_from_json(typing.get_type_hints(cls)["value"], inner))
        raise ValueError(f"unknown case {case!r} of {hint}")
    if origin in (list, typing.List):
        return [_from_json(args[0], d) for d in data]
    if origin in (tuple, typing.Tuple):
        return tuple(_from_json(a, d) for a, d in zip(args, data))
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint[data.upper()]
    if dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        values = {}
        for f in dataclasses.fields(hint):
            if f.name in data:
                values[f.name] = _from_json(hints[f.name], data[f.name])
            elif typing.get_origin(hints[f.name]) in (list, typing.List):
                values[f.name] = []
        return make(hint, **values)
    if hint is float:
        return float(data)
    return data


def from_json(cls, data):
    """A `cls` (e.g. `types.Issue`, `types.Replica`) from its JSON form (a dict, a
    JSON string or a path ending in `.json`). Absent keys become None."""
    if isinstance(data, str):
        if data.endswith(".json"):
            with open(data, encoding="utf-8") as f:
                data = json.load(f)
        else:
            data = json.loads(data)
    return _from_json(cls, data)
