"""Write Twinsync rules in Python, built into components with componentize-py.

A rule is a WebAssembly component that one side of a connection runs on every
sync event: `outgoing` turns a local issue into the replica that may leave this
side, and `incoming` turns a replica from the other side into the desired state
(`Changes`) of the local twin. This package mirrors the Rust SDK (`sdk/rust`):

- `basic_outgoing` and `basic_incoming` are the stock `basic` rule, to start
  from and change one thing;
- `replica_from` and `changes_from` copy every field; `only` and `without`
  then keep or drop fields by `Field` or by name;
- `config`, `config_or`, `config_list`, `config_flag`, `require_config`,
  `local_project` and `map_value` read the connection side's settings;
- `skip` and `fail` are the rule's errors: `raise fail("...")`;
- `log` (and `info`, `warn`, ...) write to the node's log;
- `twinsync_rules.testing` runs a rule natively under `python -m unittest`,
  with a config dict and captured log lines instead of the host.

The types are the dataclasses componentize-py generates from the WIT
(`twinsync_rules.types`, also exported here). A rule module defines the class componentize-py
exports, `WitWorld`:

    import wit_world
    from twinsync_rules import *

    class WitWorld(wit_world.WitWorld):
        def outgoing(self, issue, ctx):
            return without(replica_from(issue), Field.ASSIGNEE)

        def incoming(self, replica, local, ctx):
            changes = only(changes_from(replica), Field.SUMMARY, Field.STATUS, Field.COMMENTS)
            changes.status = map_option("status", replica.status)
            changes.project = local_project(ctx)
            return changes

Inside a component there is no file system: import every module a rule needs
at the top of its files (componentize-py snapshots the interpreter after those
imports; an `import` run later fails).
"""

from .basic import FIELDS as BASIC_FIELDS, basic_incoming, basic_outgoing
from .config import (
    Unmapped,
    ascii_lower,
    config,
    config_flag,
    config_list,
    config_or,
    fail,
    local_project,
    map_option,
    map_value,
    require_config,
    skip,
    trim,
)
from .fields import ALL as ALL_FIELDS, Field
from .log import Level, debug, error, info, log, trace, warn
from .records import (
    changes_from,
    clone,
    make,
    only,
    replica_from,
    rich_text,
    user_ref,
    with_property,
    without,
    without_custom_fields,
)
from . import types as _types
from .types import *  # noqa: F401,F403 - the WIT types, as in the Rust prelude

__all__ = [
    "ALL_FIELDS",
    "BASIC_FIELDS",
    "basic_incoming",
    "basic_outgoing",
    "Err",
    "Field",
    "Level",
    "Ok",
    "Some",
    "Unmapped",
    "ascii_lower",
    "changes_from",
    "clone",
    "config",
    "config_flag",
    "config_list",
    "config_or",
    "debug",
    "error",
    "fail",
    "info",
    "local_project",
    "log",
    "make",
    "map_option",
    "map_value",
    "only",
    "replica_from",
    "require_config",
    "rich_text",
    "skip",
    "trace",
    "trim",
    "user_ref",
    "warn",
    "with_property",
    "without",
    "without_custom_fields",
] + [n for n in _types.__all__ if n not in ("Err", "Ok", "Some", "Level")]
