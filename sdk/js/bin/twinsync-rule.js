#!/usr/bin/env node
// twinsync-rule build RULE.js [-o OUT.wasm] [--wit DIR]
//
// Bundles a rule module with its imports (this SDK included) and turns it into
// a component of the world `rule` with jco / componentize-js, then checks that
// the output is a component. jco and componentize-js come from the rule
// project's own devDependencies, so the project's lock file pins them.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const sdkDir = dirname(dirname(realpathSync(fileURLToPath(import.meta.url))));

/**
 * WASI features componentize-js leaves out. The host links no wasi:http, so
 * `http` and `fetch-event` must go; `random` goes because a rule must be
 * deterministic (Math.random then still works, with a fixed seed). `clocks`
 * stays: without it Date.now() traps, and the host's clocks are frozen anyway.
 * `stdio` stays so that an uncaught exception's message reaches the error report.
 */
const DISABLED_FEATURES = ['http', 'fetch-event', 'random'];

const USAGE = `usage: twinsync-rule build RULE.js [-o OUT.wasm] [--wit DIR]

  -o, --out FILE   the component to write (default: RULE.wasm beside RULE.js)
  --wit DIR        the contract's WIT directory (default: the wit/ of the
                   Twinsync checkout this SDK is in)`;

function die(message) {
  console.error(`twinsync-rule: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const [command, ...rest] = argv;
  if (command === '-h' || command === '--help') {
    console.log(USAGE);
    process.exit(0);
  }
  if (command !== 'build') die(`unknown command ${JSON.stringify(command ?? '')}\n${USAGE}`);
  const opts = { entry: undefined, out: undefined, wit: undefined };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const value = () => rest[++i] ?? die(`${arg} needs a value`);
    if (arg === '-o' || arg === '--out') opts.out = value();
    else if (arg === '--wit') opts.wit = value();
    else if (arg === '-h' || arg === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (arg.startsWith('-')) die(`unknown option ${arg}\n${USAGE}`);
    else if (opts.entry === undefined) opts.entry = arg;
    else die(`one rule module at a time (got ${opts.entry} and ${arg})`);
  }
  if (opts.entry === undefined) die(`no rule module given\n${USAGE}`);
  return opts;
}

/** The `twinsync:rules` version the WIT in `witDir` declares, e.g. `0.2.0`. */
function contractVersion(witDir) {
  for (const name of readdirSync(witDir).sort()) {
    if (!name.endsWith('.wit')) continue;
    const text = readFileSync(join(witDir, name), 'utf8');
    const m = /^\s*package\s+twinsync:rules@([0-9A-Za-z.+-]+)\s*;/m.exec(text);
    if (m) return m[1];
  }
  return die(`no \`package twinsync:rules@<version>;\` in the .wit files of ${witDir}`);
}

/** The jco CLI script of the nearest node_modules above `from`. */
function findJco(from) {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const manifest = join(dir, 'node_modules', '@bytecodealliance', 'jco', 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
      const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.jco;
      if (bin) return join(dirname(manifest), bin);
    }
    if (dirname(dir) === dir) break;
  }
  return die(
    'cannot find @bytecodealliance/jco: add it and @bytecodealliance/componentize-js to the ' +
      "rule project's devDependencies and run `npm ci` (or `npm install`)",
  );
}

function isComponent(file) {
  const header = readFileSync(file).subarray(0, 8);
  // The wasm magic, then version 0x0d and layer 1: a component (a core module has version 1, layer 0).
  return Buffer.compare(header, Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00])) === 0;
}

function build(opts) {
  const entry = resolve(opts.entry);
  if (!existsSync(entry)) die(`${opts.entry} does not exist`);
  const out = resolve(opts.out ?? join(dirname(entry), `${basename(entry, extname(entry))}.wasm`));
  const witDir = resolve(opts.wit ?? join(sdkDir, '..', '..', 'wit'));
  if (!existsSync(witDir) || !statSync(witDir).isDirectory()) {
    die(`no WIT directory at ${witDir}: pass --wit with the path of Twinsync's wit/`);
  }
  const version = contractVersion(witDir);
  const jco = findJco(dirname(entry));
  mkdirSync(dirname(out), { recursive: true });
  const args = [
    jco,
    'componentize',
    entry,
    '--wit',
    witDir,
    '--world-name',
    'rule',
    '--bundle',
    '--bundle-config',
    join(sdkDir, 'bundle.config.js'),
    '--disable',
    ...DISABLED_FEATURES,
    '--out',
    out,
  ];
  const run = spawnSync(process.execPath, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, TWINSYNC_RULES_VERSION: version },
  });
  if (run.error) die(`could not run jco: ${run.error.message}`);
  if (run.status !== 0) die(`jco componentize failed (exit ${run.status ?? run.signal})`);
  if (!existsSync(out) || !isComponent(out)) die(`${out} is not a wasm component`);
  console.log(
    `twinsync-rule: ${out}: twinsync:rules@${version} component, ${statSync(out).size} bytes`,
  );
}

build(parseArgs(process.argv.slice(2)));
