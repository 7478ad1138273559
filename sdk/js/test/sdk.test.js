// Tests of the SDK itself: `node --test test/` in sdk/js (no install needed).
// They mirror the Rust SDK's tests.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ALL_FIELDS,
  Field,
  RuleError,
  changesFrom,
  config,
  configFlag,
  configList,
  configOr,
  fail,
  localProject,
  log,
  mapValue,
  noChanges,
  none,
  only,
  parseField,
  replicaFrom,
  requireConfig,
  skip,
  some,
  userRef,
  without,
  withoutCustomFields,
  withProperty,
} from '../src/index.js';
import {
  clearConfig,
  context,
  refusal,
  sampleIssue,
  setConfig,
  takeLogs,
  user,
  withConfig,
} from '../src/testing.js';

test('every field name parses back to its field, other spellings too', () => {
  for (const f of ALL_FIELDS) assert.equal(parseField(f), f);
  assert.equal(parseField('Issue Type'), Field.IssueType);
  assert.equal(parseField('issueType'), Field.IssueType);
  assert.equal(parseField('type'), Field.IssueType);
  assert.equal(parseField('due_date'), Field.DueDate);
  assert.equal(parseField('customfield_10010'), undefined);
  assert.equal(parseField('Team'), undefined);
  assert.throws(() => without(replicaFrom(sampleIssue()), ['Team']), TypeError);
});

test('replicaFrom copies every field, as copies', () => {
  const issue = sampleIssue();
  const r = replicaFrom(issue);
  assert.equal(r.key, issue.key);
  assert.equal(r.summary, issue.summary);
  assert.deepEqual(r.description, issue.description);
  assert.deepEqual(r.labels, issue.labels);
  assert.deepEqual(r.comments, issue.comments);
  assert.deepEqual(r.attachments, issue.attachments);
  assert.deepEqual(r.customFields, issue.customFields);
  assert.deepEqual(r.assignee, issue.assignee);
  assert.equal(r.updated, issue.updated);
  assert.deepEqual(r.properties, []);
  r.comments[0].body.text = 'changed';
  assert.equal(issue.comments[0].body.text, 'Reproduced on staging.');
});

test('only keeps the named fields and the properties', () => {
  const r = only(withProperty(replicaFrom(sampleIssue()), 'origin', 'test'), [Field.Summary, 'labels']);
  assert.ok(r.summary);
  assert.ok(r.labels.length > 0);
  assert.equal(r.key, undefined);
  assert.equal(r.description, undefined);
  assert.deepEqual(r.comments, []);
  assert.deepEqual(r.customFields, []);
  assert.deepEqual(r.properties, [['origin', 'test']]);
});

test('without drops fields, and custom fields by id or name', () => {
  const issue = sampleIssue();
  const before = issue.customFields.length;
  const r = withoutCustomFields(without(replicaFrom(issue), [Field.Assignee, 'Attachments']), [
    'TEAM',
    'customfield_10020',
  ]);
  assert.equal(r.assignee, undefined);
  assert.deepEqual(r.attachments, []);
  assert.ok(r.reporter);
  assert.equal(r.customFields.length, before - 2);
  assert.ok(r.customFields.every((f) => f.name !== 'Team' && f.id !== 'customfield_10020'));
});

test('changesFrom mirrors the replica', () => {
  const issue = sampleIssue();
  const c = changesFrom(replicaFrom(issue));
  assert.equal(c.project, undefined, 'the remote project means nothing here');
  assert.equal(c.parent, undefined);
  assert.equal(c.summary, issue.summary);
  assert.equal(c.status, issue.status);
  assert.deepEqual(c.labels, issue.labels);
  assert.equal(c.comments.length, issue.comments.length);
  c.comments.forEach((change, i) => {
    assert.equal(change.remoteId, issue.comments[i].id);
    assert.deepEqual(change.body, issue.comments[i].body);
    assert.equal(change.internal, issue.comments[i].internal);
  });
  assert.deepEqual(c.attachments, [{ remoteId: '20001', filename: 'trace.log' }]);
  assert.equal(c.customFields[0].field, 'Team');
  assert.deepEqual(c.assignee, some({ tag: 'email', val: 'ada@example.com' }));
  assert.deepEqual(c.dueDate, some('2026-12-01'));
});

test('an absent assignee unassigns and an absent summary is left alone', () => {
  const c = changesFrom(only(replicaFrom(sampleIssue()), []));
  assert.deepEqual(c.assignee, { tag: 'some', val: undefined });
  assert.deepEqual(c.dueDate, { tag: 'some', val: undefined });
  assert.equal(c.summary, undefined);
  assert.equal(c.reporter, undefined);
  assert.deepEqual(c.comments, []);
});

test('only on changes leaves every other field alone', () => {
  const c = only(changesFrom(replicaFrom(sampleIssue())), [Field.Summary]);
  assert.ok(c.summary);
  assert.deepEqual(c.assignee, none());
  assert.deepEqual(c.dueDate, none());
  assert.equal(c.comments, undefined);
  assert.equal(c.labels, undefined);
  assert.deepEqual(c.customFields, []);
});

test('noChanges leaves everything alone, like only(changes, [])', () => {
  assert.deepEqual(noChanges(), only(changesFrom(replicaFrom(sampleIssue())), []));
});

test('userRef prefers email, then account id, then name', () => {
  const u = user('Ada', 'ada@example.com');
  assert.deepEqual(userRef(u), { tag: 'email', val: 'ada@example.com' });
  u.email = '';
  assert.deepEqual(userRef(u), { tag: 'account-id', val: 'acc-ada' });
  u.accountId = undefined;
  assert.deepEqual(userRef(u), { tag: 'name', val: 'ada' });
  u.name = undefined;
  assert.equal(userRef(u), undefined);
});

test('mapValue uses the entry, then the lower-cased entry', () => {
  withConfig({ 'map.status.In Progress': 'Doing', 'map.status.done': 'Closed' }, () => {
    assert.equal(mapValue('status', 'In Progress'), 'Doing');
    assert.equal(mapValue('status', 'Done'), 'Closed');
    assert.equal(mapValue('status', 'Open'), 'Open');
  });
});

test('unmapped policies', () => {
  withConfig({ 'unmapped.status': 'skip-field' }, () => assert.equal(mapValue('status', 'Open'), undefined));
  withConfig({ 'unmapped.status': 'default: To Do' }, () => assert.equal(mapValue('status', 'Open'), 'To Do'));
  withConfig({ 'unmapped.priority': 'fail' }, () => {
    const err = refusal(() => mapValue('priority', 'Blocker'));
    assert.equal(err.tag, 'fail');
    assert.match(err.val, /map\.priority\.Blocker/);
  });
  withConfig({ 'unmapped.status': 'explode' }, () => assert.equal(refusal(() => mapValue('status', 'Open')).tag, 'fail'));
  withConfig({ 'map.status.Open': '' }, () => assert.equal(mapValue('status', 'Open'), undefined));
});

test('lists, flags and required keys', () => {
  withConfig([['l', ' a, b ,,c '], ['f', 'Yes'], ['bad', 'maybe'], ['blank', ' ']], () => {
    assert.deepEqual(configList('l'), ['a', 'b', 'c']);
    assert.deepEqual(configList('missing'), []);
    assert.equal(configFlag('f', false), true);
    assert.equal(configFlag('missing', true), true);
    assert.equal(refusal(() => configFlag('bad', false)).tag, 'fail');
    assert.equal(refusal(() => requireConfig('blank')).tag, 'fail');
    assert.equal(configOr('missing', 'x'), 'x');
  });
  // Trimmed as Rust trims: U+0085 is white space, U+FEFF is not (JavaScript's trim says the opposite).
  withConfig({ l: '\ufeffa ,\u0085b\u3000' }, () => assert.deepEqual(configList('l'), ['\ufeffa', 'b']));
});

test('localProject is required on first sync only', () => {
  withConfig({}, () => {
    assert.equal(localProject(context(false)), undefined);
    const err = refusal(() => localProject(context(true)));
    assert.equal(err.tag, 'fail');
    assert.match(err.val, /`project`/);
  });
  withConfig({ project: 'DEST' }, () => assert.equal(localProject(context(true)), 'DEST'));
});

test('skip and fail carry the payload jco sends as the error', () => {
  const s = skip('not for partners');
  assert.ok(s instanceof RuleError && s instanceof Error);
  assert.ok(Object.hasOwn(s, 'payload'), 'jco reads an own `payload` property');
  assert.deepEqual(s.payload, { tag: 'skip', val: 'not for partners' });
  assert.deepEqual(fail('no map').payload, { tag: 'fail', val: 'no map' });
  assert.throws(() => refusal(() => 'an answer'), /expected a skip or fail/);
  assert.throws(() => refusal(() => { throw new TypeError('bug'); }), TypeError);
});

test('withConfig restores the previous config, also after a throw', () => {
  setConfig('outer', '1');
  withConfig({ inner: '2' }, () => {
    assert.equal(config('inner'), '2');
    assert.equal(config('outer'), undefined);
  });
  assert.equal(config('outer'), '1');
  assert.throws(() => withConfig({ inner: '2' }, () => { throw new Error('boom'); }), /boom/);
  assert.equal(config('inner'), undefined);
  assert.equal(config('outer'), '1');
  clearConfig();
  assert.equal(config('outer'), undefined);
});

test('logs are captured in order and taken once', () => {
  log.warn('first');
  log('debug', `second ${2}`);
  assert.deepEqual(takeLogs(), [
    ['warn', 'first'],
    ['debug', 'second 2'],
  ]);
  assert.deepEqual(takeLogs(), []);
  assert.throws(() => log('loud', 'x'), TypeError);
});

test('basicOutgoing and basicIncoming are the stock basic rule', async () => {
  const { basicIncoming, basicOutgoing } = await import('../src/index.js');
  const { incomingContext, sampleIssue, withConfig } = await import('../src/testing.js');
  const issue = sampleIssue();
  const replica = basicOutgoing(issue);
  assert.equal(replica.summary, issue.summary);
  assert.equal(replica.key, issue.key);
  assert.equal(replica.assignee, undefined, 'basic does not send the assignee');
  const changes = withConfig({ project: 'DEST' }, () => basicIncoming(replica, undefined, incomingContext(true)));
  assert.equal(changes.project, 'DEST');
  assert.equal(changes.summary, issue.summary);
  assert.equal(changes.comments.length, issue.comments.length);
  assert.deepEqual(changes.assignee, { tag: 'none' }, 'the assignee is left alone');
});
