// Stock rule `confidential`, in JavaScript: the same config keys and the same
// results as the Rust rule in example-rules/confidential.
//
// Sends every field except internal comments and attachments, leaves out the
// fields config names and masks the terms config names; what arrives lands
// like the `basic` rule.
//
// Config keys (all optional except `project` on first sync):
// - `redact.fields`: comma list of fields to leave out: standard field names
//   (`assignee`, `reporter`, `description`, `labels`, `due-date`, ...) or
//   custom field ids or names (`customfield_10010`, `Team`), any case.
// - `redact.words`: comma list of terms replaced, ignoring case, by the marker
//   in the summary, the description and the comments.
// - `redact.marker`: the replacement text, default `[redacted]`.
// - `redact.security-levels`: comma list of security level names, any case,
//   or `*` for any level: issues at such a level never leave (outgoing skips).
// - `project`, `issue-type`: as for `basic`, on the incoming side.
import {
  asciiLower,
  Field,
  changesFrom,
  config,
  configList,
  configOr,
  fail,
  localProject,
  only,
  parseField,
  replicaFrom,
  skip,
  without,
  withoutCustomFields,
} from '@twinsync/rules';

/** The marker used when `redact.marker` is not set. */
export const DEFAULT_MARKER = '[redacted]';

/** The fields applied on the incoming side: those of the `basic` rule. */
const INCOMING_FIELDS = [
  Field.Summary,
  Field.Description,
  Field.IssueType,
  Field.Priority,
  Field.Labels,
  Field.Status,
  Field.Comments,
  Field.Attachments,
];

/** Local issue -> what may leave this side. */
export function outgoing(issue, _ctx) {
  const level = issue.securityLevel;
  if (level !== undefined && level !== null) {
    const held = configList('redact.security-levels');
    if (held.some((l) => l === '*' || asciiLower(l) === asciiLower(level))) {
      throw skip(`security level \`${level}\` is listed in redact.security-levels`);
    }
  }
  let replica = without(replicaFrom(issue), [Field.Attachments]);
  replica.comments = replica.comments.filter((c) => !c.internal);

  const names = configList('redact.fields');
  const fields = names.filter((n) => parseField(n) !== undefined);
  const custom = names.filter((n) => parseField(n) === undefined);
  replica = withoutCustomFields(without(replica, fields), custom);

  const redactor = Redactor.fromConfig();
  if (typeof replica.summary === 'string') {
    replica.summary = redactor.apply(replica.summary);
  }
  if (replica.description) {
    redactor.applyRich(replica.description);
  }
  for (const comment of replica.comments) {
    redactor.applyRich(comment.body);
  }
  return replica;
}

/** Replica from the other side (+ the local twin, if any) -> desired local state. */
export function incoming(replica, _local, ctx) {
  const changes = only(changesFrom(replica), INCOMING_FIELDS);
  changes.project = localProject(ctx);
  if (ctx.firstSync && changes.issueType === undefined) {
    const issueType = config('issue-type');
    if (issueType === undefined) {
      throw fail('the replica has no issue type and config key `issue-type` is not set');
    }
    changes.issueType = issueType;
  }
  return changes;
}

/**
 * Every code point whose lower case differs from itself, grouped by that lower
 * case: `"k" -> ["K", "K" (Kelvin sign)]`. Built once when the module is first
 * evaluated, which for a component is at build time (componentize-js snapshots
 * the initialised module), so a call pays nothing for it.
 */
const UPPER_FORMS = (() => {
  const forms = new Map();
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp === 0xd800) cp = 0xe000; // surrogates are no code points of a string
    const c = String.fromCodePoint(cp);
    const lower = c.toLowerCase();
    if (lower !== c) {
      const list = forms.get(lower);
      if (list) list.push(c);
      else forms.set(lower, [c]);
    }
  }
  return forms;
})();

/**
 * Replaces configured terms, ignoring case, by a marker.
 *
 * Gives the Rust rule's results exactly: text is compared by code point (never
 * by UTF-16 unit); a code point matches a term's code point when they are equal
 * or their lower-case forms are equal; at each position the terms are tried
 * longest first (by code points) and the first that matches is masked, then the
 * scan resumes after it. This is done by one regular expression (flag `u`, so
 * it steps by code point): an alternation of the terms, longest first, each
 * code point a class of everything that matches it. Regular expressions run in
 * the engine's native code, which keeps a call far below the CPU limit.
 */
export class Redactor {
  /** The terms of `redact.words` and the marker of `redact.marker`. */
  static fromConfig() {
    return new Redactor(configList('redact.words'), configOr('redact.marker', DEFAULT_MARKER));
  }

  /** A redactor for `terms` (empty ones are ignored) and `marker`. */
  constructor(terms, marker) {
    // Longest first, so a term that contains another is masked whole. The sort is stable.
    const sorted = terms
      .filter((t) => t !== '')
      .map((t) => Array.from(t))
      .sort((a, b) => b.length - a.length);
    this.pattern =
      sorted.length === 0 ? undefined : sorted.map((chars) => chars.map(matching).join('')).join('|');
    this.marker = marker;
  }

  /** `text` with every term masked, or `undefined` when no term occurs in it. */
  redact(text) {
    if (this.pattern === undefined) return undefined;
    let changed = false;
    const out = text.replace(new RegExp(this.pattern, 'gu'), () => {
      changed = true;
      return this.marker;
    });
    return changed ? out : undefined;
  }

  /** Whether any term occurs in `text` (what `redact(text) !== undefined` says, without building the result). */
  occursIn(text) {
    return this.pattern !== undefined && new RegExp(this.pattern, 'u').test(text);
  }

  /** `text` with the terms masked (the same string when none occurs). */
  apply(text) {
    return this.redact(text) ?? text;
  }

  /**
   * Masks the terms in rich text, in place. Plain text and wiki markup are
   * masked; ADF is dropped when it contains a term, since masking inside its
   * JSON could break the document (the host then renders the plain text).
   */
  applyRich(rich) {
    rich.text = this.apply(rich.text);
    if (typeof rich.wiki === 'string') {
      rich.wiki = this.apply(rich.wiki);
    }
    if (typeof rich.adf === 'string' && this.occursIn(rich.adf)) {
      rich.adf = undefined;
    }
  }
}

/**
 * A regular expression class of the code points that match `t`: `t` itself
 * and every code point whose lower case equals `t`'s.
 */
function matching(t) {
  const lower = t.toLowerCase();
  const chars = new Set([t, ...(UPPER_FORMS.get(lower) ?? [])]);
  // The lower case itself, when it is one code point that is its own lower case.
  if (Array.from(lower).length === 1 && lower.toLowerCase() === lower) chars.add(lower);
  return `[${[...chars].map((c) => `\\u{${c.codePointAt(0).toString(16)}}`).join('')}]`;
}

