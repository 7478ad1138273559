// The Rolldown configuration `twinsync-rule build` hands to `jco componentize --bundle`.
//
// - `#host` (package.json "imports") resolves to the real host imports under
//   the `twinsync-component` condition, and to the native stand-in otherwise.
// - `twinsync:rules/host` stays an import of the component, named with the
//   contract version of the WIT being built against (TWINSYNC_RULES_VERSION),
//   since componentize-js provides only the versioned module.
const version = process.env.TWINSYNC_RULES_VERSION;
if (!version) {
  throw new Error('TWINSYNC_RULES_VERSION is not set: build rules with `twinsync-rule build`');
}

export default {
  resolve: {
    conditionNames: ['twinsync-component', 'import', 'module', 'default'],
  },
  plugins: [
    {
      name: 'twinsync-host',
      resolveId(id) {
        if (id === 'twinsync:rules/host') {
          return { id: `twinsync:rules/host@${version}`, external: true };
        }
        return null;
      },
    },
  ],
};
