"""Native tests of the rule: `python -m unittest` in this directory."""

import unittest

from twinsync_rules.testing import (
    context,
    incoming_context,
    rule_error,
    sample_issue,
    with_config,
)

from app import WitWorld

rule = WitWorld()


class RuleTest(unittest.TestCase):
    def test_internal_comments_and_the_assignee_stay_home(self):
        replica = rule.outgoing(sample_issue(), context(False))
        self.assertTrue(all(not c.internal for c in replica.comments))
        self.assertIsNone(replica.assignee)

    def test_statuses_are_mapped(self):
        replica = rule.outgoing(sample_issue(), context(False))
        with with_config({"map.status.In Progress": "Doing", "project": "GLX"}):
            changes = rule.incoming(replica, None, incoming_context(True))
        self.assertEqual(changes.status, "Doing")
        self.assertEqual(changes.project, "GLX")

    def test_a_first_sync_without_a_project_fails(self):
        replica = rule.outgoing(sample_issue(), context(False))
        with with_config({}):
            err = rule_error(rule.incoming, replica, None, incoming_context(True))
        self.assertIn("`project`", err.value)


if __name__ == "__main__":
    unittest.main()
