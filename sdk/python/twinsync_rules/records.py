"""Building what a rule returns: copy everything (`replica_from`, `changes_from`),
then keep or drop fields (`only`, `without`).

`only`, `without`, `without_custom_fields` and `with_property` change the record
in place and return it, so calls chain:
`without(replica_from(issue), Field.ASSIGNEE)`.
"""

import copy
import dataclasses

from ._bindings import Some, types
from .config import ascii_lower
from .fields import ALL, Field

# Replica fields that are lists: emptied, not set to None.
_REPLICA_LISTS = frozenset(
    {
        Field.LABELS,
        Field.COMPONENTS,
        Field.COMMENTS,
        Field.ATTACHMENTS,
        Field.CUSTOM_FIELDS,
        Field.WORKLOGS,
        Field.LINKS,
        Field.FIX_VERSIONS,
        Field.AFFECTED_VERSIONS,
    }
)
# Fields that changes do not carry.
_NOT_IN_CHANGES = frozenset({Field.KEY, Field.CREATED, Field.UPDATED})


def make(cls, **values):
    """An instance of the generated dataclass `cls` with `values`; fields not given
    are None (so code written for one contract version runs on the next, which
    only adds optional fields), names `cls` does not have are ignored."""
    names = [f.name for f in dataclasses.fields(cls)]
    return cls(**{n: values.get(n) for n in names})


_ATOMS = (str, int, float, bool, type(None))
_FIELD_NAMES: dict = {}


def clone(value):
    """A deep copy of `value` (generated dataclasses, lists, tuples, strings,
    numbers): what `copy.deepcopy` gives, about three times faster, which counts
    against a rule's fuel."""
    if isinstance(value, _ATOMS):
        return value
    if isinstance(value, list):
        return [clone(v) for v in value]
    if isinstance(value, tuple):
        return tuple(clone(v) for v in value)
    cls = type(value)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        if not dataclasses.is_dataclass(cls):
            return copy.deepcopy(value)
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return cls(*[clone(getattr(value, n)) for n in names])


def rich_text(text: str):
    """Plain rich text: `text` set, no ADF and no wiki markup."""
    return types.RichText(text=text, adf=None, wiki=None)


def replica_from(issue):
    """A replica carrying every field of `issue` (copies), with no properties.

    Drop what must not leave with `without` or keep a chosen set with `only`;
    what a replica leaves out never crosses the connection."""
    values = {}
    for f in dataclasses.fields(types.Replica):
        if f.name == "properties":
            values[f.name] = []
        elif hasattr(issue, f.name):
            values[f.name] = clone(getattr(issue, f.name))
    return make(types.Replica, **values)


def user_ref(user):
    """How the host should find `user` locally: by email when known, else by
    account id (Cloud), else by user name (Data Center); None when the user
    carries none of them."""
    if user.email:
        return types.UserRef_Email(user.email)
    if user.account_id:
        return types.UserRef_AccountId(user.account_id)
    if user.name:
        return types.UserRef_Name(user.name)
    return None


def changes_from(replica):
    """Changes that make the local twin mirror `replica`.

    - Summary, description, issue type, status and priority are set when the
      replica has them and left alone when it does not.
    - Labels and components are set to the replica's lists (empty clears them).
    - Assignee and due date mirror the replica: absent there means unassigned
      or no due date here (`Some(None)`). The reporter is set only when the
      replica has one. Users are referred to by `user_ref`.
    - Comments and attachments become the desired set, keyed by their id on
      the replica's side (`remote_id`).
    - Custom fields are set by display name (their id when the name is empty).
    - `project` and `parent` are left alone: the replica's values are keys on
      the other side. Set `project` on first sync with `local_project(ctx)`.

    Keep only what this side syncs with `only`."""
    r = clone(replica)
    return make(
        types.Changes,
        project=None,
        issue_type=r.issue_type,
        summary=r.summary,
        description=r.description,
        status=r.status,
        priority=r.priority,
        labels=r.labels,
        components=r.components,
        assignee=Some(user_ref(r.assignee) if r.assignee is not None else None),
        reporter=user_ref(r.reporter) if r.reporter is not None else None,
        due_date=Some(r.due_date),
        parent=None,
        comments=[
            types.CommentChange(remote_id=c.id, body=c.body, internal=c.internal)
            for c in r.comments
        ],
        attachments=[
            types.AttachmentChange(remote_id=a.id, filename=a.filename) for a in r.attachments
        ],
        custom_fields=[
            types.CustomFieldChange(field=f.name if f.name else f.id, value=f.value)
            for f in r.custom_fields
        ],
    )


def _clear(record, field: Field) -> None:
    if isinstance(record, types.Replica):
        setattr(record, field.attr, [] if field in _REPLICA_LISTS else None)
    elif isinstance(record, types.Changes):
        if field is Field.CUSTOM_FIELDS:
            record.custom_fields = []
        elif field not in _NOT_IN_CHANGES:
            setattr(record, field.attr, None)
    else:
        raise TypeError(f"only and without take a Replica or Changes, not {type(record).__name__}")


def without(record, *fields):
    """`record` (a Replica or Changes) with `fields` emptied: None, or an empty
    list. In changes, None leaves the local field alone. Fields are `Field`s
    or names (`"assignee"`, `"due-date"`); a replica's properties stay."""
    for field in fields:
        _clear(record, Field.of(field))
    return record


def only(record, *fields):
    """`record` (a Replica or Changes) with every field but `fields` emptied."""
    keep = {Field.of(f) for f in fields}
    for field in ALL:
        if field not in keep:
            _clear(record, field)
    return record


def without_custom_fields(replica, *ids_or_names):
    """`replica` without the custom fields whose id or name (ignoring ASCII case)
    is in `ids_or_names`, e.g. `without_custom_fields(r, "customfield_10010", "Team")`."""
    drop = {ascii_lower(n) for n in ids_or_names}
    replica.custom_fields = [
        f
        for f in replica.custom_fields
        if ascii_lower(f.id) not in drop and ascii_lower(f.name) not in drop
    ]
    return replica


def with_property(replica, name: str, value: str):
    """`replica` with one more `(name, value)` property for the other side's incoming rule."""
    replica.properties.append((name, value))
    return replica
