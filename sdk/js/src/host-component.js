// The host imports inside a component. The bundle step (bundle.config.js)
// resolves `twinsync:rules/host` to the versioned interface of the WIT the
// rule is built against, e.g. `twinsync:rules/host@0.2.0`, which
// componentize-js provides as a built-in module.
export { config, log } from 'twinsync:rules/host';
