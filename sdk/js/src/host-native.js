// The stand-in host when a rule runs under Node.js (`node --test`): a config
// map and captured log lines, which `@twinsync/rules/testing` fills and reads.
// Inside a component, `#host` resolves to host-component.js instead.

/** The config map a native run answers `config(key)` from. */
export const state = {
  config: new Map(),
  logs: [],
};

/** One setting of this connection side, or `undefined`. */
export function config(key) {
  return state.config.get(key);
}

/** Captures one log line. */
export function log(level, message) {
  state.logs.push([level, message]);
}
