"""Native tests of the Python `confidential` rule: the Rust rule's tests, case for case.

Run with `python -m unittest` in this directory (with the bindings and the SDK
on the path; scripts/build-rules-py.sh sets that up in .venv-rules-py/).
"""

import copy
import random
import unittest

from twinsync_rules import RuleError_Fail, RuleError_Skip, only, replica_from
from twinsync_rules.testing import (
    context,
    incoming_context,
    rule_error,
    sample_issue,
    with_config,
)

from app import Redactor, WitWorld

rule = WitWorld()


def redactor(*terms):
    return Redactor(list(terms), "###")


class RedactorTest(unittest.TestCase):
    def test_redact_masks_terms_ignoring_case_longest_first(self):
        r = redactor("acme", "ACME Corp", "")
        self.assertEqual(r.redact("Paid by acme corp, not Acme."), "Paid by ###, not ###.")
        self.assertIsNone(r.redact("nothing here"))
        self.assertEqual(redactor("straße").redact("STRASSE Straße"), "STRASSE ###")
        self.assertEqual(redactor("é").redact("café É"), "caf### ###")

    def test_no_terms_change_nothing(self):
        self.assertIsNone(redactor().redact("ACME"))
        self.assertEqual(redactor().apply("ACME"), "ACME")

    def test_a_term_that_lower_cases_to_two_characters(self):
        # "İ" lower-cases to "i" + U+0307, as in Rust's char::to_lowercase.
        self.assertEqual(redactor("İx").redact("aİXb ix"), "a###b ix")

    def test_sigma_is_compared_per_character(self):
        # A final sigma lower-cases to "ς" in a word but to "σ" on its own, as in Rust.
        self.assertEqual(redactor("σ").redact("ΣΑΣ σας"), "###Α### ###ας")

    def test_the_fast_scan_answers_like_the_per_character_one(self):
        alphabet = ["a", "A", "c", "C", "é", "É", "ß", "S", "s", "İ", "i", "\u0307", "Σ", "σ", "ς", " "]
        rng = random.Random(7)
        for _ in range(3000):
            terms = ["".join(rng.choices(alphabet, k=rng.randint(1, 3))) for _ in range(rng.randint(1, 3))]
            text = "".join(rng.choices(alphabet, k=rng.randint(0, 12)))
            r = redactor(*terms)
            self.assertEqual(r.redact(text), r._redact_per_char(text), (terms, text))


class OutgoingTest(unittest.TestCase):
    def test_drops_internal_comments_and_attachments_by_default(self):
        issue = sample_issue()
        with with_config({}):
            r = rule.outgoing(issue, context(False))
        self.assertEqual(r.attachments, [])
        self.assertEqual([c.id for c in r.comments], ["10001"])
        self.assertEqual(r.summary, issue.summary)
        self.assertEqual(r.custom_fields, issue.custom_fields)
        self.assertEqual(r.assignee, issue.assignee)

    def test_skips_issues_at_a_listed_security_level(self):
        issue = sample_issue()
        issue.security_level = "Confidential"
        levels = {"redact.security-levels": "internal, CONFIDENTIAL"}
        with with_config(levels):
            err = rule_error(rule.outgoing, issue, context(False))
        self.assertIsInstance(err, RuleError_Skip)
        self.assertEqual(
            err.value, "security level `Confidential` is listed in redact.security-levels"
        )
        with with_config({"redact.security-levels": "*"}):
            self.assertIsInstance(rule_error(rule.outgoing, issue, context(False)), RuleError_Skip)
        issue.security_level = "Partners"
        with with_config(levels):
            self.assertEqual(rule.outgoing(issue, context(False)).key, "SRC-1", "an unlisted level leaves")

    def test_leaves_out_configured_fields_and_masks_words(self):
        issue = sample_issue()
        issue.comments[0].body.text = "ACME asked again."
        issue.description.adf = '{"type":"doc","content":[{"type":"text","text":"ACME"}]}'
        issue.description.wiki = "*ACME Corp* is down"
        config = {
            "redact.fields": "Assignee, due date, TEAM, customfield_10020",
            "redact.words": "acme corp, acme",
        }
        with with_config(config):
            r = rule.outgoing(issue, context(False))
        self.assertIsNone(r.assignee)
        self.assertIsNone(r.due_date)
        self.assertIsNotNone(r.reporter, "only the named fields are left out")
        self.assertEqual([f.name for f in r.custom_fields], ["Customer"])
        self.assertEqual(r.summary, "Checkout fails for [redacted]")
        self.assertEqual(
            r.description.text, "Paying with a saved card returns HTTP 500 for [redacted]."
        )
        self.assertEqual(r.description.wiki, "*[redacted]* is down")
        self.assertIsNone(r.description.adf, "ADF with a term in it is dropped, not patched")
        self.assertEqual(r.comments[0].body.text, "[redacted] asked again.")

    def test_the_marker_comes_from_config(self):
        with with_config({"redact.words": "ACME", "redact.marker": "***"}):
            r = rule.outgoing(sample_issue(), context(False))
        self.assertEqual(r.summary, "Checkout fails for *** Corp")

    def test_the_issue_itself_is_not_changed(self):
        issue = sample_issue()
        before = copy.deepcopy(issue)
        with with_config({"redact.words": "ACME", "redact.fields": "summary"}):
            rule.outgoing(issue, context(False))
        self.assertEqual(issue, before)
        self.assertEqual(issue.summary, "Checkout fails for ACME Corp")


class IncomingTest(unittest.TestCase):
    def test_lands_like_basic(self):
        with with_config({}):
            replica = rule.outgoing(sample_issue(), context(True))
        with with_config({"project": "DEST"}):
            c = rule.incoming(replica, None, incoming_context(True))
        self.assertEqual(c.project, "DEST")
        self.assertEqual(len(c.comments), 1)
        self.assertEqual(c.attachments, [])
        self.assertIsNone(c.assignee, "the assignee is left alone")
        self.assertIsNone(c.due_date)
        self.assertEqual(c.custom_fields, [])

    def test_a_first_sync_needs_a_project_and_an_issue_type(self):
        bare = only(replica_from(sample_issue()))
        with with_config({}):
            err = rule_error(rule.incoming, bare, None, incoming_context(True))
        self.assertIsInstance(err, RuleError_Fail)
        self.assertIn("`project`", err.value)
        with with_config({"project": "DEST"}):
            err = rule_error(rule.incoming, bare, None, incoming_context(True))
        self.assertEqual(
            err.value, "the replica has no issue type and config key `issue-type` is not set"
        )
        with with_config({"project": "DEST", "issue-type": "Task"}):
            c = rule.incoming(bare, None, incoming_context(True))
        self.assertEqual(c.issue_type, "Task")

    def test_an_existing_twin_needs_no_project(self):
        with with_config({}):
            c = rule.incoming(replica_from(sample_issue()), sample_issue(), incoming_context(False))
        self.assertIsNone(c.project)
        self.assertEqual(c.summary, "Checkout fails for ACME Corp")


if __name__ == "__main__":
    unittest.main()
