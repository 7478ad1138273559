// Write Twinsync rules in JavaScript.
//
// A rule is a WebAssembly component that one side of a connection runs on
// every sync event: `outgoing(issue, ctx)` turns a local issue into the
// replica that may leave this side, and `incoming(replica, local, ctx)` turns
// a replica from the other side into the desired state (changes) of the local
// twin. A rule module exports those two functions; values are the WIT types
// in jco's JavaScript form (see README.md). This package holds the helpers
// that keep a useful rule short, mirroring the Rust SDK.
import { fieldNames, ALL_FIELDS } from './fields.js';
import { clearReplicaField } from './replica.js';
import { keepLocalField } from './changes.js';

export { Field, ALL_FIELDS, parseField } from './fields.js';
export { replicaFrom, withoutCustomFields, withProperty } from './replica.js';
export { changesFrom, noChanges, userRef, some, none } from './changes.js';
export {
  config,
  configOr,
  configList,
  configFlag,
  requireConfig,
  localProject,
  mapValue,
  mapOption,
  unmappedPolicy,
  asciiLower,
} from './config.js';
export { RuleError, skip, fail } from './errors.js';
export { log } from './log.js';
export { BASIC_FIELDS, basicOutgoing, basicIncoming } from './basic.js';

/** Plain rich text: `text` set, no ADF and no wiki markup. */
export function richText(text) {
  return { text: String(text), adf: undefined, wiki: undefined };
}

/**
 * A replica (it has `properties`) or changes (it has none) with `fields`
 * emptied: a replica's field becomes `undefined` or an empty list, a changes
 * field is left alone locally. `fields` are names like `'assignee'`,
 * `'due-date'` or `Field.DueDate`; other spellings parse too (`parseField`).
 * Returns a new object; `value` is not changed.
 */
export function without(value, fields) {
  const out = { ...value };
  const clear = isReplica(out) ? clearReplicaField : keepLocalField;
  for (const field of fieldNames(fields)) clear(out, field);
  return out;
}

/** `value` (a replica or changes, see `without`) with every field but `fields` emptied. */
export function only(value, fields) {
  const keep = new Set(fieldNames(fields));
  return without(
    value,
    ALL_FIELDS.filter((f) => !keep.has(f)),
  );
}

function isReplica(value) {
  return Array.isArray(value.properties);
}
