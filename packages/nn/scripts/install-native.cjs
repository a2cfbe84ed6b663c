#!/usr/bin/env node
// Builds the native kernels (native/, N-API, no system library) with node-gyp when @synth2/nn is installed.
// It never fails the install: when the build is impossible (no C compiler, no Node headers, …) it prints one line
// saying the SDK runs on portable wasm and how to get the fast path, and exits 0. The full compiler output of a
// failed build is kept in native/build-error.log.
// Usage: node scripts/install-native.cjs [--strict]   (--strict: exit 1 and print the log when the build fails;
// used by `npm run build:native`). SYNTH2_NATIVE=0 skips the build.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

const root = join(__dirname, '..');
const nativeDir = join(root, 'native');
const addonPath = join(nativeDir, 'build', 'Release', 'synth2_native.node');
const logPath = join(nativeDir, 'build-error.log');
const lockPath = join(nativeDir, '.build-lock');
const strict = process.argv.includes('--strict');
const HOW =
  'for the fast path install a C compiler, make and python3 (e.g. apt-get install build-essential python3) ' +
  'and run `npm rebuild @synth2/nn`';

/** node-gyp's CLI script: npm's own (npm_config_node_gyp), else the copy bundled with npm, else one on PATH. */
function findNodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return { cmd: process.execPath, args: [fromNpm] };
  const candidates = [];
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules'));
  const prefix = join(dirname(process.execPath), '..');
  candidates.push(join(prefix, 'lib', 'node_modules', 'npm', 'node_modules'));
  candidates.push(join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules'));
  for (const dir of candidates) {
    const script = join(dir, 'node-gyp', 'bin', 'node-gyp.js');
    if (existsSync(script)) return { cmd: process.execPath, args: [script] };
  }
  try {
    return { cmd: process.execPath, args: [require.resolve('node-gyp/bin/node-gyp.js')] };
  } catch {
    return null;
  }
}

/**
 * node-gyp reads npm's config (nodedir, python, …) from npm_config_* variables, which npm sets for install scripts.
 * Run by hand there are none: then use the running Node's own headers when it has them, so nothing is downloaded.
 */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = join(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

/** Loads the built addon in a child process and returns its info() line, or throws. */
function probe() {
  const r = spawnSync(process.execPath, ['-e', `process.stdout.write(require(${JSON.stringify(addonPath)}).info())`], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`the built addon does not load: ${(r.stderr || r.error || '').toString().trim()}`);
  return r.stdout.trim();
}

/** The first compiler/node-gyp error line, for the one-line notice. */
function firstError(output) {
  const lines = output.split('\n').map((l) => l.trim());
  const hit =
    lines.find((l) => /not found|No such file|command not found|not installed|ENOENT/i.test(l) && !/^gyp info/.test(l)) ??
    lines.find((l) => /error/i.test(l) && !/^gyp info/.test(l));
  return (hit ?? 'node-gyp failed').replace(/^gyp ERR! /, '').slice(0, 160);
}

function notice(reason) {
  console.log(`@synth2/nn: native kernels not built (${reason}); the SDK runs on portable wasm — ${HOW}.`);
}

function build() {
  const gyp = findNodeGyp();
  if (!gyp) return { ok: false, reason: 'node-gyp not found (it comes with npm)' };
  const args = [...gyp.args, 'rebuild', '--release', ...nodedirArgs()];
  const r = spawnSync(gyp.cmd, args, { cwd: nativeDir, encoding: 'utf8', timeout: 15 * 60_000, env: process.env });
  const output = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  if (r.error || r.status !== 0 || !existsSync(addonPath)) {
    const reason = r.error ? r.error.message : firstError(output);
    writeFileSync(`${logPath}.tmp`, `$ ${gyp.cmd} ${args.join(' ')}\n${output}`);
    renameSync(`${logPath}.tmp`, logPath);
    return { ok: false, reason, output };
  }
  rmSync(logPath, { force: true });
  return { ok: true };
}

/**
 * Takes the build lock (a directory: mkdir is atomic), waiting while another build holds it; a lock older than
 * 15 minutes is taken as left behind by a killed build. Two builds at once would delete each other's files.
 */
function lock() {
  for (;;) {
    try {
      mkdirSync(lockPath);
      return;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      let age = 0;
      try {
        age = Date.now() - statSync(lockPath).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if (age > 15 * 60_000) rmSync(lockPath, { recursive: true, force: true });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
    }
  }
}

function main() {
  if (process.env.SYNTH2_NATIVE === '0') {
    console.log('@synth2/nn: native kernels not built (SYNTH2_NATIVE=0); the SDK runs on portable wasm.');
    return 0;
  }
  lock();
  let r;
  try {
    r = build();
  } finally {
    rmSync(lockPath, { recursive: true, force: true });
  }
  if (!r.ok) {
    if (strict) {
      if (r.output) process.stderr.write(r.output);
      console.error(`@synth2/nn: native build failed: ${r.reason}`);
      return 1;
    }
    notice(`${r.reason}; details in native/build-error.log`);
    return 0;
  }
  try {
    console.log(`@synth2/nn: native kernels built (${probe()})`);
  } catch (error) {
    rmSync(addonPath, { force: true });
    if (strict) {
      console.error(`@synth2/nn: ${error.message}`);
      return 1;
    }
    notice(error.message.split('\n')[0].slice(0, 160));
  }
  return 0;
}

try {
  process.exitCode = main();
} catch (error) {
  if (strict) throw error;
  notice(`unexpected error: ${error && error.message}`);
  process.exitCode = 0;
}
