"""Tests of the Python SDK: the Rust SDK's tests, case for case, plus the JSON form.

Run with `python -m unittest discover -s tests` in sdk/python (with the
bindings on the path; scripts/build-rules-py.sh sets that up).
"""

import json
import os
import unittest

from twinsync_rules import (
    ALL_FIELDS,
    Field,
    Issue,
    CustomFieldChange,
    Level,
    Replica,
    RuleError_Fail,
    RuleError_Skip,
    Some,
    Unmapped,
    UserRef_AccountId,
    UserRef_Email,
    UserRef_Name,
    Value_Number,
    changes_from,
    clone,
    config,
    config_flag,
    config_list,
    config_or,
    debug,
    fail,
    local_project,
    map_option,
    map_value,
    only,
    replica_from,
    require_config,
    skip,
    trim,
    user_ref,
    warn,
    with_property,
    without,
    without_custom_fields,
)
from twinsync_rules import testing
from twinsync_rules.testing import (
    clear_config,
    context,
    incoming_context,
    rule_error,
    sample_issue,
    set_config,
    take_logs,
    user,
    with_config,
)

SAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "example-rules", "samples")


def drop_nulls(data):
    """`data` without null-valued keys: the sample leaves out what it does not have."""
    if isinstance(data, dict):
        return {k: drop_nulls(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [drop_nulls(v) for v in data]
    return data


class FieldTest(unittest.TestCase):
    def test_every_name_parses_back_to_its_field(self):
        for field in ALL_FIELDS:
            self.assertIs(Field.parse(field.value), field)
        self.assertEqual(len(ALL_FIELDS), 22)

    def test_parse_accepts_other_spellings_and_refuses_custom_fields(self):
        self.assertIs(Field.parse("Issue Type"), Field.ISSUE_TYPE)
        self.assertIs(Field.parse("type"), Field.ISSUE_TYPE)
        self.assertIs(Field.parse("due_date"), Field.DUE_DATE)
        self.assertIsNone(Field.parse("customfield_10010"))
        self.assertIsNone(Field.parse("Team"))

    def test_of_takes_fields_and_names_and_refuses_the_rest(self):
        self.assertIs(Field.of("Due Date"), Field.DUE_DATE)
        self.assertIs(Field.of(Field.LABELS), Field.LABELS)
        with self.assertRaises(ValueError):
            Field.of("Team")


class ReplicaTest(unittest.TestCase):
    def test_replica_from_copies_every_field(self):
        issue = sample_issue()
        r = replica_from(issue)
        self.assertIsInstance(r, Replica)
        self.assertEqual(r.key, issue.key)
        self.assertEqual(r.summary, issue.summary)
        self.assertEqual(r.description, issue.description)
        self.assertEqual(r.labels, issue.labels)
        self.assertEqual(r.comments, issue.comments)
        self.assertEqual(r.attachments, issue.attachments)
        self.assertEqual(r.custom_fields, issue.custom_fields)
        self.assertEqual(r.assignee, issue.assignee)
        self.assertEqual(r.updated, issue.updated)
        self.assertEqual(r.properties, [])

    def test_replica_from_copies_deeply(self):
        issue = sample_issue()
        r = replica_from(issue)
        r.comments[0].body.text = "changed"
        r.labels.append("more")
        self.assertEqual(issue.comments[0].body.text, "Reproduced on staging.")
        self.assertEqual(issue.labels, ["checkout", "payments"])

    def test_clone_is_a_deep_copy(self):
        issue = testing.from_json(Issue, os.path.join(SAMPLES, "issue.json"))
        copied = clone(issue)
        self.assertEqual(copied, issue)
        self.assertIsNot(copied.comments[0].body, issue.comments[0].body)
        self.assertIsNot(copied.custom_fields[0].value, issue.custom_fields[0].value)
        self.assertEqual(clone(Some([("a", "b")])), Some([("a", "b")]))

    def test_only_keeps_the_named_fields_and_properties(self):
        r = only(with_property(replica_from(sample_issue()), "origin", "test"), Field.SUMMARY, "labels")
        self.assertIsNotNone(r.summary)
        self.assertTrue(r.labels)
        self.assertIsNone(r.key)
        self.assertIsNone(r.description)
        self.assertEqual(r.comments, [])
        self.assertEqual(r.custom_fields, [])
        self.assertEqual(r.properties, [("origin", "test")])

    def test_without_drops_fields_and_custom_fields_by_id_or_name(self):
        issue = sample_issue()
        before = len(issue.custom_fields)
        r = without(replica_from(issue), Field.ASSIGNEE, "attachments")
        r = without_custom_fields(r, "TEAM", "customfield_10020")
        self.assertIsNone(r.assignee)
        self.assertEqual(r.attachments, [])
        self.assertIsNotNone(r.reporter)
        self.assertEqual(len(r.custom_fields), before - 2)
        self.assertTrue(all(f.name != "Team" and f.id != "customfield_10020" for f in r.custom_fields))

    def test_only_and_without_refuse_other_records(self):
        with self.assertRaises(TypeError):
            without(sample_issue(), Field.SUMMARY)


class ChangesTest(unittest.TestCase):
    def test_changes_from_mirrors_the_replica(self):
        issue = sample_issue()
        c = changes_from(replica_from(issue))
        self.assertIsNone(c.project, "the remote project means nothing here")
        self.assertIsNone(c.parent)
        self.assertEqual(c.summary, issue.summary)
        self.assertEqual(c.status, issue.status)
        self.assertEqual(c.labels, issue.labels)
        self.assertEqual(len(c.comments), len(issue.comments))
        for change, comment in zip(c.comments, issue.comments):
            self.assertEqual(change.remote_id, comment.id)
            self.assertEqual(change.body, comment.body)
            self.assertEqual(change.internal, comment.internal)
        self.assertEqual(c.attachments[0].remote_id, issue.attachments[0].id)
        self.assertEqual(c.attachments[0].filename, issue.attachments[0].filename)
        self.assertEqual(c.custom_fields[0].field, issue.custom_fields[0].name)
        self.assertEqual(c.assignee, Some(UserRef_Email("ada@example.com")))

    def test_an_absent_assignee_unassigns_and_an_absent_summary_is_left_alone(self):
        c = changes_from(only(replica_from(sample_issue())))
        self.assertEqual(c.assignee, Some(None))
        self.assertEqual(c.due_date, Some(None))
        self.assertIsNone(c.summary)
        self.assertIsNone(c.reporter)
        self.assertEqual(c.comments, [])

    def test_only_leaves_every_other_field_alone(self):
        c = only(changes_from(replica_from(sample_issue())), Field.SUMMARY)
        self.assertIsNotNone(c.summary)
        self.assertIsNone(c.assignee)
        self.assertIsNone(c.comments)
        self.assertIsNone(c.labels)
        self.assertEqual(c.custom_fields, [])

    def test_user_ref_prefers_email_then_account_id_then_name(self):
        u = user("Ada", "ada@example.com")
        self.assertEqual(user_ref(u), UserRef_Email("ada@example.com"))
        u.email = ""
        self.assertEqual(user_ref(u), UserRef_AccountId("acc-ada"))
        u.account_id = None
        self.assertEqual(user_ref(u), UserRef_Name("ada"))
        u.name = None
        self.assertIsNone(user_ref(u))


class ConfigTest(unittest.TestCase):
    def test_map_value_uses_the_entry_then_the_lower_cased_entry(self):
        with with_config({"map.status.In Progress": "Doing", "map.status.done": "Closed"}):
            self.assertEqual(map_value("status", "In Progress"), "Doing")
            self.assertEqual(map_value("status", "Done"), "Closed")
            self.assertEqual(map_value("status", "Open"), "Open")
            self.assertIsNone(map_option("status", None))

    def test_unmapped_policies(self):
        with with_config({"unmapped.status": "skip-field"}):
            self.assertIsNone(map_value("status", "Open"))
        with with_config({"unmapped.status": "default: To Do"}):
            self.assertEqual(map_value("status", "Open"), "To Do")
            self.assertEqual(Unmapped.for_field("status"), Unmapped(Unmapped.DEFAULT, "To Do"))
        with with_config({"unmapped.priority": "fail"}):
            err = rule_error(map_value, "priority", "Blocker")
            self.assertIsInstance(err, RuleError_Fail)
            self.assertEqual(
                err.value,
                'no mapping for priority "Blocker": set config key `map.priority.Blocker` '
                "(or `unmapped.priority`)",
            )
        with with_config({"unmapped.status": "explode"}):
            self.assertIsInstance(rule_error(map_value, "status", "Open"), RuleError_Fail)
        with with_config({"map.status.Open": ""}):
            self.assertIsNone(map_value("status", "Open"))

    def test_lists_flags_and_required_keys(self):
        pairs = [("l", " a, b ,,c "), ("f", "Yes"), ("bad", "maybe"), ("blank", " ")]
        with with_config(pairs):
            self.assertEqual(config_list("l"), ["a", "b", "c"])
            self.assertEqual(config_list("missing"), [])
            self.assertIs(config_flag("f", False), True)
            self.assertIs(config_flag("missing", True), True)
            err = rule_error(config_flag, "bad", False)
            self.assertEqual(err.value, 'config key `bad` must be true or false, not "maybe"')
            self.assertIsInstance(rule_error(require_config, "blank"), RuleError_Fail)
            self.assertEqual(config_or("missing", "x"), "x")
            self.assertEqual(require_config("l"), "a, b ,,c")

    def test_trim_is_rusts(self):
        self.assertEqual(trim("\u3000 a \xa0\n"), "a")
        self.assertEqual(trim("\x1fa\x1f"), "\x1fa\x1f", "not White_Space, so Rust keeps it")

    def test_local_project_is_required_on_first_sync_only(self):
        with with_config({}):
            self.assertIsNone(local_project(context(False)))
            err = rule_error(local_project, context(True))
            self.assertIsInstance(err, RuleError_Fail)
            self.assertIn("`project`", err.value)
        with with_config({"project": " DEST "}):
            self.assertEqual(local_project(context(True)), "DEST")

    def test_skip_and_fail_are_raised(self):
        def rule():
            raise skip("not ours")

        self.assertEqual(rule_error(rule), RuleError_Skip("not ours"))
        self.assertEqual(fail("x").value, RuleError_Fail("x"))
        with self.assertRaises(AssertionError):
            rule_error(lambda: 1)


class TestingTest(unittest.TestCase):
    def test_with_config_restores_the_previous_config_even_after_an_exception(self):
        set_config("outer", "1")
        with with_config({"inner": "2"}):
            self.assertEqual(config("inner"), "2")
            self.assertIsNone(config("outer"))
        self.assertEqual(config("outer"), "1")
        with self.assertRaises(RuntimeError):
            with with_config({"inner": "2"}):
                raise RuntimeError("boom")
        self.assertIsNone(config("inner"))
        self.assertEqual(config("outer"), "1")
        clear_config()
        self.assertIsNone(config("outer"))

    def test_logs_are_captured_in_order_and_taken_once(self):
        warn("first")
        debug(f"second {2}")
        self.assertEqual(take_logs(), [(Level.WARN, "first"), (Level.DEBUG, "second 2")])
        self.assertEqual(take_logs(), [])

    def test_contexts(self):
        self.assertEqual(context(False).remote_key, "DEST-1")
        self.assertIsNone(context(True).local_key)
        self.assertEqual(incoming_context(True).event.name, "REPLICA")


class JsonTest(unittest.TestCase):
    def test_the_sample_issue_reads_and_writes_back_unchanged(self):
        path = os.path.join(SAMPLES, "issue.json")
        issue = testing.from_json(Issue, path)
        self.assertEqual(issue.key, "ACME-42")
        self.assertIsNone(issue.assignee.name, "absent keys read as None")
        with open(path, encoding="utf-8") as f:
            original = json.load(f)
        self.assertEqual(drop_nulls(testing.to_json(issue)), drop_nulls(original))

    def test_changes_tell_leave_alone_from_clear(self):
        c = changes_from(only(replica_from(sample_issue()), Field.SUMMARY))
        c.custom_fields = [CustomFieldChange(field="Points", value=Value_Number(5.0))]
        data = testing.to_json(c)
        self.assertIsNone(data["assignee"], "Some(None) clears: null")
        c.assignee = None
        data = testing.to_json(c)
        self.assertNotIn("assignee", data, "None leaves alone: no key")
        self.assertEqual(data["custom_fields"], [{"field": "Points", "value": {"number": 5.0}}])
        c.assignee = Some(UserRef_AccountId("acc"))
        back = testing.from_json(type(c), testing.dumps(c))
        self.assertEqual(back, c)




class BasicTest(unittest.TestCase):
    """basic_outgoing and basic_incoming are the stock basic rule."""

    def test_basic(self):
        from twinsync_rules import basic_incoming, basic_outgoing
        from twinsync_rules.testing import incoming_context, sample_issue, take_logs, with_config

        issue = sample_issue()
        replica = basic_outgoing(issue)
        self.assertEqual(replica.summary, issue.summary)
        self.assertEqual(replica.key, issue.key)
        self.assertIsNone(replica.assignee, "basic does not send the assignee")
        with with_config({"project": "DEST"}):
            changes = basic_incoming(replica, None, incoming_context(True))
        self.assertEqual(changes.project, "DEST")
        self.assertEqual(changes.summary, issue.summary)
        self.assertEqual(len(changes.comments), len(issue.comments))
        self.assertIsNone(changes.assignee, "the assignee is left alone")
        self.assertIn("creating its twin in project DEST", take_logs()[0][1])


if __name__ == "__main__":
    unittest.main()
