"""A Twinsync rule in Python: start here.

Sends everything but the assignee and internal comments; on the incoming side
takes summary, status and comments, mapping status names through config
(`map.status.<theirs>` = `<ours>`), and creates the twin in the project named
by config `project`.

Import every module the rule needs here, at the top: inside the component
there is no file system, so an `import` that runs later fails.
"""

import wit_world

from twinsync_rules import (
    Field,
    changes_from,
    local_project,
    map_option,
    only,
    replica_from,
    without,
)


class WitWorld(wit_world.WitWorld):
    """The rule; componentize-py exports the class of this name."""

    def outgoing(self, issue, ctx):
        replica = without(replica_from(issue), Field.ASSIGNEE)
        replica.comments = [c for c in replica.comments if not c.internal]
        return replica

    def incoming(self, replica, local, ctx):
        changes = only(changes_from(replica), Field.SUMMARY, Field.STATUS, Field.COMMENTS)
        # Status names differ between the sites: `map.status.<theirs>` in this side's config.
        changes.status = map_option("status", replica.status)
        changes.project = local_project(ctx)  # config `project`, needed on first sync
        return changes
