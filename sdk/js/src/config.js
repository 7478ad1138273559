// Reading the connection side's settings: plain values, lists, flags and value maps.
//
// Config is a flat map of string keys to string values that the node keeps per
// connection side, so one rule module can serve many connections.
import { config as hostConfig } from '#host';
import { fail } from './errors.js';

/** The setting `key` of this connection side, or `undefined` when it is not set. */
export function config(key) {
  const value = hostConfig(key);
  return value === null ? undefined : value;
}

/** The setting `key`, or `fallback` when it is not set. */
export function configOr(key, fallback) {
  return config(key) ?? fallback;
}

/** The setting `key`, trimmed; throws a `fail` naming the key when it is missing or blank. */
export function requireConfig(key) {
  const value = config(key);
  if (value === undefined || trim(value) === '') {
    throw fail(`config key \`${key}\` is not set for this connection side`);
  }
  return trim(value);
}

/**
 * The setting `key` read as a comma-separated list: items trimmed, empty
 * items dropped. Empty when the key is not set.
 */
export function configList(key) {
  const value = config(key);
  if (value === undefined) return [];
  return value
    .split(',')
    .map(trim)
    .filter((s) => s !== '');
}

/**
 * The setting `key` read as a flag: `true`/`yes`/`on`/`1` or
 * `false`/`no`/`off`/`0` (any case); `fallback` when not set; a `fail` for anything else.
 */
export function configFlag(key, fallback) {
  const value = config(key);
  if (value === undefined) return fallback;
  const folded = asciiLower(trim(value));
  if (['true', 'yes', 'on', '1'].includes(folded)) return true;
  if (['false', 'no', 'off', '0'].includes(folded)) return false;
  throw fail(`config key \`${key}\` must be true or false, not ${JSON.stringify(folded)}`);
}

/**
 * The project to create the local twin in: on first sync the setting
 * `project` (a `fail` when it is missing), otherwise `undefined`, since an
 * existing twin stays where it is.
 */
export function localProject(ctx) {
  if (!ctx.firstSync) return undefined;
  const project = config('project');
  if (project === undefined || trim(project) === '') {
    throw fail(
      'config key `project` is not set for this connection side: ' +
        'it names the project in which the first sync creates the local twin',
    );
  }
  return trim(project);
}

/**
 * What `mapValue` does with a value that has no `map.<field>.<value>` entry,
 * from the config key `unmapped.<field>`: `{ policy: 'keep' }` (the default),
 * `{ policy: 'skip-field' }`, `{ policy: 'fail' }` or `{ policy: 'default', value }`.
 */
export function unmappedPolicy(field) {
  const key = `unmapped.${field}`;
  const raw = config(key);
  if (raw === undefined) return { policy: 'keep' };
  const trimmed = trim(raw);
  if (trimmed.startsWith('default:')) {
    return { policy: 'default', value: trim(trimmed.slice('default:'.length)) };
  }
  if (['keep', 'skip-field', 'fail'].includes(trimmed)) return { policy: trimmed };
  throw fail(
    `config key \`${key}\` must be keep, skip-field, fail or default:<value>, not ${JSON.stringify(trimmed)}`,
  );
}

/**
 * Maps `value` of `field` through config: the key `map.<field>.<value>`
 * (looked up as written, then lower-cased) gives the value to use, e.g.
 * `map.status.In Progress` = `Doing`.
 *
 * Returns the mapped value to set the field, `undefined` to leave the local
 * field alone (an empty map entry, or `unmapped.<field>` = `skip-field`), and
 * throws a `fail` when `unmapped.<field>` = `fail` and there is no entry.
 */
export function mapValue(field, value) {
  const exact = `map.${field}.${value}`;
  let found = config(exact);
  if (found === undefined) {
    const folded = trim(value).toLowerCase();
    if (folded !== value) found = config(`map.${field}.${folded}`);
  }
  if (found !== undefined) {
    const mapped = trim(found);
    return mapped === '' ? undefined : mapped;
  }
  const unmapped = unmappedPolicy(field);
  switch (unmapped.policy) {
    case 'keep':
      return value;
    case 'skip-field':
      return undefined;
    case 'default':
      return unmapped.value === '' ? undefined : unmapped.value;
    default:
      throw fail(
        `no mapping for ${field} ${JSON.stringify(value)}: set config key \`${exact}\` (or \`unmapped.${field}\`)`,
      );
  }
}

/** `mapValue` for an optional value: `undefined` or `null` stays `undefined` (the local field is left alone). */
export function mapOption(field, value) {
  return value === undefined || value === null ? undefined : mapValue(field, value);
}

/**
 * `s` without leading and trailing white space as Rust's `str::trim` sees it
 * (the Unicode White_Space property), so config reads as in the Rust SDK.
 * JavaScript's own `trim` differs: it also strips U+FEFF and keeps U+0085.
 */
export function trim(s) {
  return s.replace(RUST_WHITE_SPACE, '');
}

const RUST_WHITE_SPACE =
  /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

/** ASCII-only lower case, like Rust's `to_ascii_lowercase`. */
export function asciiLower(s) {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}
