// Running a rule natively under `node --test`: a config map in place of the
// host's, captured log lines, and sample issues and contexts in jco's form.
//
//   import { withConfig, sampleIssue, context, takeLogs } from '@twinsync/rules/testing';
//   const replica = withConfig({ 'redact.words': 'ACME' }, () => outgoing(sampleIssue(), context(false)));
import { state } from '#host';
import { RuleError } from './errors.js';
import { richText } from './index.js';

/**
 * Runs `fn` with exactly `pairs` as the config (an object, a Map or
 * `[key, value]` pairs), then restores the previous config, also when `fn`
 * throws. When `fn` returns a promise, the config is restored once it settles.
 */
export function withConfig(pairs, fn) {
  const previous = state.config;
  state.config = toMap(pairs);
  let result;
  try {
    result = fn();
  } catch (e) {
    state.config = previous;
    throw e;
  }
  if (result && typeof result.then === 'function') {
    return result.finally(() => {
      state.config = previous;
    });
  }
  state.config = previous;
  return result;
}

/** Sets one config key until `clearConfig()` (see `withConfig` for a scoped one). */
export function setConfig(key, value) {
  state.config.set(key, String(value));
}

/** Removes every config key. */
export function clearConfig() {
  state.config = new Map();
}

/** The `[level, message]` lines the rule wrote since the last call, oldest first. */
export function takeLogs() {
  const logs = state.logs;
  state.logs = [];
  return logs;
}

/**
 * The `{ tag, val }` of the `skip` or `fail` that `fn` throws. Throws an
 * AssertionError-like Error when `fn` returns instead, and rethrows anything
 * that is not a rule error (a plain Error would trap the call in a component).
 */
export function refusal(fn) {
  let value;
  try {
    value = fn();
  } catch (e) {
    if (e instanceof RuleError) return e.payload;
    throw e;
  }
  const error = new Error(`expected a skip or fail, got ${describe(value)}`);
  error.name = 'AssertionError';
  throw error;
}

/**
 * A user with display name `name`, email `email`, account id `acc-<name>`
 * and user name `<name>`, both lower-cased.
 */
export function user(name, email) {
  const lower = name.toLowerCase();
  return { accountId: `acc-${lower}`, name: lower, displayName: name, email };
}

/** A plain-text comment by Ada. */
export function comment(id, body, internal) {
  return {
    id,
    author: user('Ada', 'ada@example.com'),
    body: richText(body),
    internal,
    created: '2026-11-20T09:00:00.000+0000',
    updated: '2026-11-20T09:00:00.000+0000',
  };
}

/** Attachment metadata for a 1 KiB file uploaded by Ada (`size` is a BigInt: WIT u64). */
export function attachment(id, filename) {
  return {
    id,
    filename,
    mimeType: 'application/octet-stream',
    size: 1024n,
    author: user('Ada', 'ada@example.com'),
    created: '2026-11-20T09:30:00.000+0000',
  };
}

/** A custom field with a value such as `{ tag: 'choice', val: 'Blue' }`. */
export function customField(id, name, value) {
  return { id, name, value };
}

/**
 * A filled-in issue `SRC-1` of project `SRC`: type Bug, status "In Progress",
 * priority High, two labels, one component, assignee Ada (ada@example.com),
 * reporter Bob, a due date, a public comment `10001`, an internal comment
 * `10002`, an attachment `20001` (`trace.log`) and custom fields `Team`
 * (customfield_10010, choice "Blue"), `Story Points` (customfield_10020, 5)
 * and `Customer` (customfield_10030, text "ACME Corp"); no security level.
 * The same issue as the Rust SDK's `testing::sample_issue`.
 */
export function sampleIssue() {
  return {
    key: 'SRC-1',
    id: '10000',
    project: 'SRC',
    issueType: 'Bug',
    summary: 'Checkout fails for ACME Corp',
    description: richText('Paying with a saved card returns HTTP 500 for ACME Corp.'),
    status: 'In Progress',
    priority: 'High',
    labels: ['checkout', 'payments'],
    components: ['Web'],
    assignee: user('Ada', 'ada@example.com'),
    reporter: user('Bob', 'bob@example.com'),
    dueDate: '2026-12-01',
    parent: undefined,
    comments: [
      comment('10001', 'Reproduced on staging.', false),
      comment('10002', 'Internal: ACME is on the enterprise plan.', true),
    ],
    attachments: [attachment('20001', 'trace.log')],
    customFields: [
      customField('customfield_10010', 'Team', { tag: 'choice', val: 'Blue' }),
      customField('customfield_10020', 'Story Points', { tag: 'number', val: 5 }),
      customField('customfield_10030', 'Customer', { tag: 'text', val: 'ACME Corp' }),
    ],
    created: '2026-11-19T08:00:00.000+0000',
    updated: '2026-11-20T09:30:00.000+0000',
    securityLevel: undefined,
  };
}

/**
 * A context on connection `test` between sides `left` (local) and `right`;
 * on first sync no keys are known yet, otherwise `SRC-1` and `DEST-1`.
 */
export function context(firstSync) {
  return {
    connection: 'test',
    localSide: 'left',
    remoteSide: 'right',
    firstSync,
    localKey: firstSync ? undefined : 'SRC-1',
    remoteKey: firstSync ? undefined : 'DEST-1',
    event: firstSync ? 'created' : 'updated',
  };
}

/** A context for an incoming call: like `context` with event `replica`. */
export function incomingContext(firstSync) {
  return { ...context(firstSync), event: 'replica' };
}

function toMap(pairs) {
  const entries = pairs instanceof Map || Array.isArray(pairs) ? [...pairs] : Object.entries(pairs ?? {});
  return new Map(entries.map(([k, v]) => [String(k), String(v)]));
}

function describe(value) {
  try {
    return JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)).slice(0, 200);
  } catch {
    return String(value);
  }
}
