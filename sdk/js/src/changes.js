// Building the changes an incoming rule returns: mirror the replica, then keep what this side syncs.
import { camel } from './replica.js';

/**
 * `option<option<T>>` fields (`assignee`, `dueDate`) in jco's form: the outer
 * option is `{ tag: 'some', val }` or `{ tag: 'none' }`, the inner one `val`
 * or `undefined`. `some(undefined)` clears the field; `none()` leaves it alone.
 */
export function some(val) {
  return { tag: 'some', val: val ?? undefined };
}

/** Leaves an `option<option<T>>` field (`assignee`, `dueDate`) alone. */
export function none() {
  return { tag: 'none' };
}

/**
 * Changes that make the local twin mirror `replica`.
 *
 * - Summary, description, issue type, status and priority are set when the
 *   replica has them and left alone when it does not.
 * - Labels and components are set to the replica's lists (an empty list clears them).
 * - Assignee and due date mirror the replica: absent there means unassigned
 *   or no due date here. The reporter is set only when the replica has one.
 *   Users are referred to by `userRef`.
 * - Comments and attachments become the desired set, each keyed by its id on
 *   the replica's side (`remoteId`), so the host adds, updates and deletes
 *   them without duplicates.
 * - Custom fields are set by display name, since field ids differ between instances.
 * - `project` and `parent` are left alone: the replica's values are keys on
 *   the other side. Set `project` on first sync, e.g. with `localProject(ctx)`.
 *
 * Keep only what this side syncs with `only(changes, [...])`.
 */
export function changesFrom(replica) {
  const r = structuredClone(replica);
  return {
    project: undefined,
    issueType: r.issueType ?? undefined,
    summary: r.summary ?? undefined,
    description: r.description ?? undefined,
    status: r.status ?? undefined,
    priority: r.priority ?? undefined,
    labels: r.labels ?? [],
    components: r.components ?? [],
    assignee: some(r.assignee ? userRef(r.assignee) : undefined),
    reporter: r.reporter ? userRef(r.reporter) : undefined,
    dueDate: some(r.dueDate),
    parent: undefined,
    comments: (r.comments ?? []).map((c) => ({
      remoteId: c.id,
      body: c.body,
      internal: c.internal,
    })),
    attachments: (r.attachments ?? []).map((a) => ({
      remoteId: a.id,
      filename: a.filename,
    })),
    customFields: (r.customFields ?? []).map((f) => ({
      field: f.name === '' ? f.id : f.name,
      value: f.value ?? undefined,
    })),
  };
}

/**
 * Changes that leave every local field alone: a start for changes built by
 * hand. Every field of `changes` is present, with the nested options
 * (`assignee`, `dueDate`) as `none()`, which jco needs to find there.
 */
export function noChanges() {
  return {
    project: undefined,
    issueType: undefined,
    summary: undefined,
    description: undefined,
    status: undefined,
    priority: undefined,
    labels: undefined,
    components: undefined,
    assignee: none(),
    reporter: undefined,
    dueDate: none(),
    parent: undefined,
    comments: undefined,
    attachments: undefined,
    customFields: [],
    worklogs: undefined,
    links: undefined,
    fixVersions: undefined,
    affectedVersions: undefined,
  };
}

/**
 * How the host should find `user` locally: by email when known, else by
 * account id (Cloud), else by user name (Data Center), as a `user-ref`
 * (`{ tag: 'email', val }`, ...). `undefined` when the user carries none of them.
 */
export function userRef(user) {
  if (user.email) return { tag: 'email', val: user.email };
  if (user.accountId) return { tag: 'account-id', val: user.accountId };
  if (user.name) return { tag: 'name', val: user.name };
  return undefined;
}

/**
 * Leaves one local field alone in place: `undefined`, `none()` for `assignee`
 * and `due-date`, no custom field changes for `custom-fields`. `key`,
 * `created` and `updated` are not part of changes and are ignored.
 */
export function keepLocalField(changes, field) {
  switch (field) {
    case 'key':
    case 'created':
    case 'updated':
      break;
    case 'assignee':
    case 'due-date':
      changes[camel(field)] = none();
      break;
    case 'custom-fields':
      changes.customFields = [];
      break;
    default:
      changes[camel(field)] = undefined;
  }
}
