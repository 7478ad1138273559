"""The WIT types of `twinsync:rules/types` as the generated bindings define them,
plus the host's log `Level` and componentize-py's `Err`, `Ok` and `Some`.

Records are dataclasses (`Issue`, `Replica`, `Changes`, `RichText`, ...);
variant cases are classes named `<Variant>_<Case>` with one field `value`
(`Value_Choice("Blue")`, `UserRef_Email("ada@example.com")`,
`RuleError_Fail("...")`); enums are `Enum`s (`SyncEvent.REPLICA`). An
`option<T>` is `T` or `None`; a nested option (`changes.assignee`,
`changes.due_date`) is `None` (leave alone) or `Some(x)` (set to `x`, where
`Some(None)` clears).
"""

from typing import Union as _Union

from ._bindings import Err, Ok, Some, types as _types
from ._bindings import host as _host

Level = _host.Level

__all__ = ["Err", "Ok", "Some", "Level"]

for _name, _value in vars(_types).items():
    # The module's own classes and the unions of variant cases; not what it imports.
    own = isinstance(_value, type) and _value.__module__ == _types.__name__
    union = getattr(_value, "__origin__", None) is _Union
    if not _name.startswith("_") and (own or union):
        globals()[_name] = _value
        __all__.append(_name)
del _name, _value
