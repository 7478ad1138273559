// The stock `basic` behaviour as two functions, so a rule that changes one thing
// starts from what the stock rule syncs and adds one line beside it (the Rust
// SDK's `twinsync_sdk::basic`).
import { Field } from './fields.js';
import { replicaFrom } from './replica.js';
import { changesFrom } from './changes.js';
import { config, localProject } from './config.js';
import { fail } from './errors.js';
import { log } from './log.js';
import { only } from './index.js';

/** The fields `basic` sends and applies. */
export const BASIC_FIELDS = Object.freeze([
  Field.Summary,
  Field.Description,
  Field.IssueType,
  Field.Priority,
  Field.Labels,
  Field.Status,
  Field.Comments,
  Field.Attachments,
]);

/** What `basic` lets leave this side: BASIC_FIELDS, plus the key and the parent's key. */
export function basicOutgoing(issue) {
  return only(replicaFrom(issue), [...BASIC_FIELDS, Field.Key, Field.Parent]);
}

/**
 * How `basic` lands a replica: BASIC_FIELDS as the replica has them, the twin
 * created in config `project` on first sync (of config `issue-type` when the
 * replica has no type), and the parent linked.
 */
export function basicIncoming(replica, _local, ctx) {
  const changes = only(changesFrom(replica), BASIC_FIELDS);
  changes.project = localProject(ctx);
  if (ctx.firstSync) {
    log.info(`first sync of ${ctx.remoteKey ?? '(unknown key)'}: creating its twin in project ${changes.project ?? '(none)'}`);
  }
  changes.parent = replica.parent;
  if (ctx.firstSync && changes.issueType === undefined) {
    const type = config('issue-type');
    if (type === undefined) throw fail('the replica has no issue type and config key `issue-type` is not set');
    changes.issueType = type;
  }
  return changes;
}
