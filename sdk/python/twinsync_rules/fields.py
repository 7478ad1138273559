"""Names for the issue fields a rule keeps or drops, and how config spells them."""

import enum


class Field(enum.Enum):
    """An issue field, as `only` and `without` keep or drop it.

    Its value is the field's name as the WIT spells it (`issue-type`); `attr`
    is the attribute of the generated dataclasses (`issue_type`).
    """

    KEY = "key"  # replica only: the host decides the local key
    PROJECT = "project"
    ISSUE_TYPE = "issue-type"
    SUMMARY = "summary"
    DESCRIPTION = "description"
    STATUS = "status"
    PRIORITY = "priority"
    LABELS = "labels"
    COMPONENTS = "components"
    ASSIGNEE = "assignee"
    REPORTER = "reporter"
    DUE_DATE = "due-date"
    PARENT = "parent"
    COMMENTS = "comments"
    ATTACHMENTS = "attachments"
    CUSTOM_FIELDS = "custom-fields"  # all custom fields; drop single ones with without_custom_fields
    CREATED = "created"  # replica only
    UPDATED = "updated"  # replica only
    WORKLOGS = "worklogs"  # contract 0.3, like the three below
    LINKS = "links"
    FIX_VERSIONS = "fix-versions"
    AFFECTED_VERSIONS = "affected-versions"

    @property
    def attr(self) -> str:
        """The dataclass attribute, e.g. `issue_type`."""
        return self.value.replace("-", "_")

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, name: str) -> "Field | None":
        """Parses a field name, ignoring case, `-`, `_` and spaces, so `issue-type`,
        `issuetype`, `Issue Type` and `type` all name `Field.ISSUE_TYPE`.
        Returns None for anything else (e.g. a custom field's id or name)."""
        # Per character, like the Rust SDK (no context-dependent case rules).
        folded = "".join(c.lower() for c in name if c not in "-_ ")
        return _NAMES.get(folded)

    @classmethod
    def of(cls, field: "Field | str") -> "Field":
        """`field` itself, or the field a name parses to; ValueError for anything else."""
        if isinstance(field, Field):
            return field
        parsed = cls.parse(field) if isinstance(field, str) else None
        if parsed is None:
            raise ValueError(f"not a field name: {field!r} (custom fields: use without_custom_fields)")
        return parsed


ALL = tuple(Field)
"""Every field, in WIT order."""

_NAMES = {f.value.replace("-", ""): f for f in Field}
_NAMES.update(
    {
        "type": Field.ISSUE_TYPE,
        "label": Field.LABELS,
        "component": Field.COMPONENTS,
        "due": Field.DUE_DATE,
        "comment": Field.COMMENTS,
        "attachment": Field.ATTACHMENTS,
        "worklog": Field.WORKLOGS,
        "link": Field.LINKS,
    }
)
