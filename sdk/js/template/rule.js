// A Twinsync rule: everything but the assignee and internal comments leaves
// this side; summary, status (mapped through config) and comments land.
import {
  Field,
  changesFrom,
  localProject,
  mapOption,
  only,
  replicaFrom,
  without,
} from '@twinsync/rules';

/** Local issue -> what may leave this side. */
export function outgoing(issue, _ctx) {
  const replica = without(replicaFrom(issue), [Field.Assignee]);
  replica.comments = replica.comments.filter((c) => !c.internal);
  return replica;
}

/** Replica from the other side (+ the local twin, if any) -> desired local state. */
export function incoming(replica, _local, ctx) {
  const changes = only(changesFrom(replica), [Field.Summary, Field.Status, Field.Comments]);
  // Status names differ between the sites: `map.status.<theirs>` in this side's config.
  changes.status = mapOption('status', replica.status);
  changes.project = localProject(ctx); // config `project`, needed on first sync
  return changes;
}
