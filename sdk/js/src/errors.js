// How a rule refuses: `throw skip(reason)` or `throw fail(reason)`.
//
// jco maps a thrown value to the `err` case of an export's
// `result<_, rule-error>`: when the value has an own `payload` property, that
// payload is the error (this is jco's ComponentError convention); a plain
// Error is not a `rule-error` and traps the call, like a panic in Rust.

/** A `rule-error` as a throwable Error: `payload` is what crosses to the host. */
export class RuleError extends Error {
  /**
   * @param {'skip' | 'fail'} tag
   * @param {string} reason
   */
  constructor(tag, reason) {
    super(`${tag}: ${reason}`);
    this.name = 'RuleError';
    /** `{ tag: 'skip' | 'fail', val: reason }`, the WIT variant in jco's form. */
    this.payload = { tag, val: String(reason) };
  }

  /** `'skip'` or `'fail'`. */
  get tag() {
    return this.payload.tag;
  }

  /** The reason given. */
  get reason() {
    return this.payload.val;
  }
}

/** `rule-error.skip`: this change does not sync, and that is not an error. Throw it. */
export function skip(reason) {
  return new RuleError('skip', reason);
}

/** `rule-error.fail`: an error the admin must see; the queue waits for a retry. Throw it. */
export function fail(reason) {
  return new RuleError('fail', reason);
}
