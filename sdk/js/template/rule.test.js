import assert from 'node:assert/strict';
import { test } from 'node:test';
import { context, incomingContext, refusal, sampleIssue, withConfig } from '@twinsync/rules/testing';
import { incoming, outgoing } from './rule.js';

test('internal comments and the assignee stay home', () => {
  const replica = outgoing(sampleIssue(), context(false));
  assert.ok(replica.comments.every((c) => !c.internal));
  assert.equal(replica.assignee, undefined);
});

test('statuses are mapped', () => {
  const replica = outgoing(sampleIssue(), context(false));
  const changes = withConfig({ 'map.status.In Progress': 'Doing', project: 'GLX' }, () =>
    incoming(replica, undefined, incomingContext(true)),
  );
  assert.equal(changes.status, 'Doing');
  assert.equal(changes.project, 'GLX');
});

test('a first sync without a project fails', () => {
  const replica = outgoing(sampleIssue(), context(false));
  const err = withConfig({}, () => refusal(() => incoming(replica, undefined, incomingContext(true))));
  assert.equal(err.tag, 'fail');
});
