"""A Twinsync rule in Python: start here.

It starts from the stock `basic` rule (summary, description, issue type,
priority, labels, status, comments and attachments, both ways) and changes two
things beside it: internal comments stay home, and status names are mapped
through config (`map.status.<theirs>` = `<ours>`). The twin is created in the
project named by config `project`.

Import every module the rule needs here, at the top: inside the component
there is no file system, so an `import` that runs later fails.
"""

import wit_world

from twinsync_rules import basic_incoming, basic_outgoing, map_option


class WitWorld(wit_world.WitWorld):
    """The rule; componentize-py exports the class of this name."""

    def outgoing(self, issue, ctx):
        replica = basic_outgoing(issue)
        replica.comments = [c for c in replica.comments if not c.internal]
        return replica

    def incoming(self, replica, local, ctx):
        changes = basic_incoming(replica, local, ctx)
        # Status names differ between the sites: `map.status.<theirs>` in this side's config.
        changes.status = map_option("status", replica.status)
        return changes
