"""Stock rule `confidential`, in Python: the same rule as
example-rules/confidential (Rust), with the same config and the same answers.

Sends every field except internal comments and attachments, leaves out the
fields config names and masks the terms config names; what arrives lands like
the `basic` rule.

Config keys (all optional except `project` on first sync):
- `redact.fields`: comma list of fields to leave out: standard field names
  (`assignee`, `reporter`, `description`, `labels`, `due-date`, ...) or custom
  field ids or names (`customfield_10010`, `Team`), any case.
- `redact.words`: comma list of terms replaced, ignoring case, by the marker in
  the summary, the description and the comments.
- `redact.marker`: the replacement text, default `[redacted]`.
- `redact.security-levels`: comma list of security level names, any case, or
  `*` for any level: issues at such a level never leave (outgoing skips).
- `project`, `issue-type`: as for `basic`, on the incoming side.
"""

import wit_world

from twinsync_rules import (
    Field,
    ascii_lower,
    changes_from,
    config,
    config_list,
    config_or,
    fail,
    local_project,
    only,
    replica_from,
    skip,
    without,
    without_custom_fields,
)

DEFAULT_MARKER = "[redacted]"
"""The marker used when `redact.marker` is not set."""

INCOMING_FIELDS = (
    Field.SUMMARY,
    Field.DESCRIPTION,
    Field.ISSUE_TYPE,
    Field.PRIORITY,
    Field.LABELS,
    Field.STATUS,
    Field.COMMENTS,
    Field.ATTACHMENTS,
)
"""The fields applied on the incoming side: those of the `basic` rule."""


class WitWorld(wit_world.WitWorld):
    """The `confidential` rule (componentize-py exports the class of this name)."""

    def outgoing(self, issue, ctx):
        # `security_level` came with contract 0.2.0; bindings of 0.1 lack it.
        level = getattr(issue, "security_level", None)
        if level is not None:
            folded = ascii_lower(level)
            if any(l == "*" or ascii_lower(l) == folded for l in config_list("redact.security-levels")):
                raise skip(f"security level `{level}` is listed in redact.security-levels")
        replica = without(replica_from(issue), Field.ATTACHMENTS)
        replica.comments = [c for c in replica.comments if not c.internal]

        names = config_list("redact.fields")
        fields = [Field.parse(n) for n in names if Field.parse(n) is not None]
        custom = [n for n in names if Field.parse(n) is None]
        without_custom_fields(without(replica, *fields), *custom)

        redactor = Redactor.from_config()
        if replica.summary is not None:
            replica.summary = redactor.apply(replica.summary)
        if replica.description is not None:
            redactor.apply_rich(replica.description)
        for comment in replica.comments:
            redactor.apply_rich(comment.body)
        return replica

    def incoming(self, replica, local, ctx):
        changes = only(changes_from(replica), *INCOMING_FIELDS)
        changes.project = local_project(ctx)
        if ctx.first_sync and changes.issue_type is None:
            issue_type = config("issue-type")
            if issue_type is None:
                raise fail("the replica has no issue type and config key `issue-type` is not set")
            changes.issue_type = issue_type
        return changes


class Redactor:
    """Replaces configured terms, ignoring case, by a marker.

    Case is compared per character, as the Rust rule does: two characters
    match when they are equal or their lower-case mappings are (so `ß` does
    not match `SS`, and `É` matches `é`)."""

    def __init__(self, terms, marker):
        """A redactor for `terms` (empty ones are ignored) and `marker`."""
        terms = [t for t in terms if t]
        # Longest first (in characters; a stable sort keeps config order among
        # equals), so a term that contains another is masked whole.
        terms.sort(key=len, reverse=True)
        # Each term as the lower-case mappings of its characters.
        self.terms = [[c.lower() for c in t] for t in terms]
        # The terms whose characters each lower-case to one character, joined:
        # only these can match a text whose characters all do (see `redact`).
        self.simple = ["".join(t) for t in self.terms if all(len(c) == 1 for c in t)]
        self.marker = marker

    @classmethod
    def from_config(cls):
        """The terms of `redact.words` and the marker of `redact.marker`."""
        return cls(config_list("redact.words"), config_or("redact.marker", DEFAULT_MARKER))

    def redact(self, text):
        """`text` with every term masked, or None when no term occurs in it.

        Scans like the Rust rule: at each position the first term (longest
        first) that matches there is masked, and the scan goes on after it."""
        if not self.terms:
            return None
        # str.lower maps one character at a time except for a final capital
        # sigma, which depends on its neighbours.
        lowered = "".join(map(str.lower, text)) if "\u03a3" in text else text.lower()
        if len(lowered) != len(text):
            # Some character lower-cases to several: compare per character.
            return self._redact_per_char(text)
        # Every character lower-cases to one, so `lowered` lines up with `text`
        # and the terms can be found with str.find instead of a Python loop.
        out = []
        i = 0
        found = [lowered.find(t) for t in self.simple]
        while True:
            at, term = -1, ""
            for k, t in enumerate(self.simple):
                p = found[k]
                if 0 <= p < i:
                    p = found[k] = lowered.find(t, i)
                if p >= 0 and (at < 0 or p < at):  # on a tie the earlier (longer) term wins
                    at, term = p, t
            if at < 0:
                break
            out.append(text[i:at])
            out.append(self.marker)
            i = at + len(term)
        if not out:
            return None
        out.append(text[i:])
        return "".join(out)

    def _redact_per_char(self, text):
        """`redact`, one position at a time."""
        lowered = [c.lower() for c in text]
        out = []
        changed = False
        i = 0
        n = len(text)
        while i < n:
            for term in self.terms:
                if lowered[i] == term[0] and lowered[i : i + len(term)] == term:
                    out.append(self.marker)
                    changed = True
                    i += len(term)
                    break
            else:
                out.append(text[i])
                i += 1
        return "".join(out) if changed else None

    def apply(self, text):
        """`text` with the terms masked (itself when none occurs)."""
        redacted = self.redact(text)
        return text if redacted is None else redacted

    def apply_rich(self, rich):
        """Masks the terms in rich text, in place. Plain text and wiki markup are
        masked; ADF is dropped when it contains a term, since masking inside its
        JSON could break the document (the host then renders the plain text)."""
        rich.text = self.apply(rich.text)
        if rich.wiki is not None:
            rich.wiki = self.apply(rich.wiki)
        if rich.adf is not None and self.redact(rich.adf) is not None:
            rich.adf = None
