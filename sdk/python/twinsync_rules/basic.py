"""The stock `basic` behaviour as two functions, so a rule that changes one thing
starts from what the stock rule syncs and adds one line beside it (the Rust SDK's
`twinsync_sdk::basic`)."""

from .config import config, fail, local_project
from .fields import Field
from .log import info
from .records import changes_from, only, replica_from

# The fields `basic` sends and applies.
FIELDS = (
    Field.SUMMARY,
    Field.DESCRIPTION,
    Field.ISSUE_TYPE,
    Field.PRIORITY,
    Field.LABELS,
    Field.STATUS,
    Field.COMMENTS,
    Field.ATTACHMENTS,
)


def basic_outgoing(issue):
    """What `basic` lets leave this side: FIELDS, plus the key and the parent's key."""
    return only(replica_from(issue), *FIELDS, Field.KEY, Field.PARENT)


def basic_incoming(replica, local, ctx):
    """How `basic` lands a replica: FIELDS as the replica has them, the twin created in
    config `project` on first sync (of config `issue-type` when the replica has no
    type), and the parent linked."""
    changes = only(changes_from(replica), *FIELDS)
    changes.project = local_project(ctx)
    if ctx.first_sync:
        info(
            f"first sync of {ctx.remote_key or '(unknown key)'}: "
            f"creating its twin in project {changes.project or '(none)'}"
        )
    changes.parent = replica.parent
    if ctx.first_sync and changes.issue_type is None:
        issue_type = config("issue-type")
        if issue_type is None:
            raise fail("the replica has no issue type and config key `issue-type` is not set")
        changes.issue_type = issue_type
    return changes
