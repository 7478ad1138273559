// Native tests of the confidential rule: `node --test` (or `npm test`).
// They mirror the Rust rule's tests, so both rules are held to the same results.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { replicaFrom, only } from '@twinsync/rules';
import {
  context,
  incomingContext,
  refusal,
  sampleIssue,
  withConfig,
} from '@twinsync/rules/testing';
import { Redactor, incoming, outgoing } from './rule.js';

const redactor = (terms) => new Redactor(terms, '###');

test('redact masks terms ignoring case, longest first', () => {
  const r = redactor(['acme', 'ACME Corp', '']);
  assert.equal(r.redact('Paid by acme corp, not Acme.'), 'Paid by ###, not ###.');
  assert.equal(r.redact('nothing here'), undefined);
  assert.equal(redactor(['straße']).redact('STRASSE Straße'), 'STRASSE ###');
  assert.equal(redactor(['é']).redact('café É'), 'caf### ###');
});

test('redact works on code points, not UTF-16 units', () => {
  // An astral character is one code point (two UTF-16 units): the term "a😀" is
  // two chars long, so it sorts before the one-char "b" and masks whole.
  assert.equal(redactor(['b', 'a😀']).redact('xa😀b😀'), 'x######😀');
  // A lone high surrogate in a term never matches half of a pair.
  assert.equal(redactor(['\ud83d']).redact('😀'), undefined);
  assert.equal(redactor(['😀']).redact('1😀2'), '1###2');
  // Σ and σ are one case apart, like in Rust's char::to_lowercase.
  assert.equal(redactor(['σ']).redact('ΣΑΣ'), '###Α###');
});

test('outgoing drops internal comments and attachments by default', () => {
  const issue = sampleIssue();
  const r = withConfig({}, () => outgoing(issue, context(false)));
  assert.deepEqual(r.attachments, []);
  assert.deepEqual(
    r.comments.map((c) => c.id),
    ['10001'],
  );
  assert.equal(r.summary, issue.summary);
  assert.deepEqual(r.customFields, issue.customFields);
  assert.deepEqual(r.assignee, issue.assignee);
});

test('outgoing skips issues at a listed security level', () => {
  const issue = { ...sampleIssue(), securityLevel: 'Confidential' };
  const levels = { 'redact.security-levels': 'internal, CONFIDENTIAL' };
  const why = withConfig(levels, () => refusal(() => outgoing(issue, context(false))));
  assert.equal(why.tag, 'skip');
  assert.match(why.val, /Confidential/);
  const any = withConfig({ 'redact.security-levels': '*' }, () =>
    refusal(() => outgoing(issue, context(false))),
  );
  assert.equal(any.tag, 'skip');
  const partners = { ...issue, securityLevel: 'Partners' };
  assert.ok(withConfig(levels, () => outgoing(partners, context(false))), 'an unlisted level leaves');
});

test('outgoing leaves out configured fields and masks words', () => {
  const issue = sampleIssue();
  issue.comments[0].body.text = 'ACME asked again.';
  issue.description.adf = '{"type":"doc","content":[{"type":"text","text":"ACME"}]}';
  issue.description.wiki = '*ACME Corp* is down';
  const r = withConfig(
    {
      'redact.fields': 'Assignee, due date, TEAM, customfield_10020',
      'redact.words': 'acme corp, acme',
    },
    () => outgoing(issue, context(false)),
  );
  assert.equal(r.assignee, undefined);
  assert.equal(r.dueDate, undefined);
  assert.ok(r.reporter, 'only the named fields are left out');
  assert.deepEqual(
    r.customFields.map((f) => f.name),
    ['Customer'],
  );
  assert.equal(r.summary, 'Checkout fails for [redacted]');
  assert.equal(r.description.text, 'Paying with a saved card returns HTTP 500 for [redacted].');
  assert.equal(r.description.wiki, '*[redacted]* is down');
  assert.equal(r.description.adf, undefined, 'ADF with a term in it is dropped, not patched');
  assert.equal(r.comments[0].body.text, '[redacted] asked again.');
  assert.equal(issue.summary, 'Checkout fails for ACME Corp', 'the input issue is left as it was');
});

test('ADF without a term stays', () => {
  const issue = sampleIssue();
  issue.description.adf = '{"type":"doc"}';
  const r = withConfig({ 'redact.words': 'ACME' }, () => outgoing(issue, context(false)));
  assert.equal(r.description.adf, '{"type":"doc"}');
});

test('the marker comes from config', () => {
  const r = withConfig({ 'redact.words': 'ACME', 'redact.marker': '***' }, () =>
    outgoing(sampleIssue(), context(false)),
  );
  assert.equal(r.summary, 'Checkout fails for *** Corp');
});

test('incoming lands like basic', () => {
  const replica = withConfig({}, () => outgoing(sampleIssue(), context(true)));
  const c = withConfig({ project: 'DEST' }, () => incoming(replica, undefined, incomingContext(true)));
  assert.equal(c.project, 'DEST');
  assert.equal(c.comments.length, 1);
  assert.deepEqual(c.attachments, []);
  assert.deepEqual(c.assignee, { tag: 'none' }, 'the assignee is left alone');
  assert.deepEqual(c.customFields, []);
  const err = withConfig({}, () =>
    refusal(() => incoming(only(replicaFrom(sampleIssue()), []), undefined, incomingContext(true))),
  );
  assert.equal(err.tag, 'fail');
});

test('first sync without an issue type uses config or fails', () => {
  const replica = { ...outgoing(sampleIssue(), context(true)), issueType: undefined };
  const c = withConfig({ project: 'DEST', 'issue-type': 'Task' }, () =>
    incoming(replica, undefined, incomingContext(true)),
  );
  assert.equal(c.issueType, 'Task');
  const err = withConfig({ project: 'DEST' }, () =>
    refusal(() => incoming(replica, undefined, incomingContext(true))),
  );
  assert.deepEqual(err, {
    tag: 'fail',
    val: 'the replica has no issue type and config key `issue-type` is not set',
  });
});

/** The Rust rule's scan, transliterated: the reference the Redactor must agree with. */
function scanRedact(terms, marker, text) {
  const sorted = terms
    .filter((t) => t !== '')
    .map((t) => Array.from(t))
    .sort((a, b) => b.length - a.length);
  if (sorted.length === 0) return undefined;
  const same = (h, t) => h === t || h.toLowerCase() === t.toLowerCase();
  const chars = Array.from(text);
  let out = '';
  let changed = false;
  for (let i = 0; i < chars.length; ) {
    const term = sorted.find((t) => chars.length - i >= t.length && t.every((c, k) => same(chars[i + k], c)));
    if (term) {
      out += marker;
      changed = true;
      i += term.length;
    } else {
      out += chars[i];
      i += 1;
    }
  }
  return changed ? out : undefined;
}

test('the redactor agrees with a char-by-char scan on tricky text', () => {
  // Case pairs with irregular lower cases, astral letters (Deseret) and a marker with `$&` in it.
  const alphabet = Array.from('aAsSßẞſkKKσΣςİiIıéÉ😀𐐀𐐨 $');
  let seed = 42;
  const next = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const word = (max) => Array.from({ length: 1 + next(max) }, () => alphabet[next(alphabet.length)]).join('');
  for (let round = 0; round < 2000; round++) {
    const terms = Array.from({ length: 1 + next(3) }, () => word(3));
    const text = word(24);
    const expected = scanRedact(terms, '<$&>', text);
    const r = new Redactor(terms, '<$&>');
    assert.equal(r.redact(text), expected, `terms ${JSON.stringify(terms)} in ${JSON.stringify(text)}`);
    assert.equal(r.occursIn(text), expected !== undefined);
  }
});
