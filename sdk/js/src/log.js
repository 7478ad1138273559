// Writing to the node's log (and the admin UI) from a rule. The host caps the
// bytes kept per call. In native tests the lines are captured instead; read
// them with `takeLogs()` from `@twinsync/rules/testing`.
import { log as hostLog } from '#host';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];

/**
 * Writes `message` at `level` (`'trace'`, `'debug'`, `'info'`, `'warn'` or
 * `'error'`). Also `log.info(message)` and so on.
 */
export function log(level, message) {
  if (!LEVELS.includes(level)) {
    throw new TypeError(`log level must be one of ${LEVELS.join(', ')}, not ${JSON.stringify(level)}`);
  }
  hostLog(level, String(message));
}

/** Detail only useful while debugging a rule. */
log.trace = (message) => log('trace', message);
log.debug = (message) => log('debug', message);
log.info = (message) => log('info', message);
/** Something the admin may want to fix, though the sync goes on. */
log.warn = (message) => log('warn', message);
/** An error line. To stop the sync of this change, throw `fail(...)` instead. */
log.error = (message) => log('error', message);
