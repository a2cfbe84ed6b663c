/* global process, console */
// Compares glibcPow / glibcExp / fma (src/metrics/glibc-libm.ts) with this machine's C library, bit for bit,
// on N random inputs per suite (default 1,000,000): BLEU's pow (x in (0, 1], exponents 1, 1/2, 1/3, 1/4, also as
// BLEU computes them), BLEU's exp over (-inf, 0], pow/exp on uniformly random doubles and across their whole
// range, and the fma emulation against libm's fma. Needs python3 on a glibc x86-64 machine with FMA.
// usage: node scripts/check-glibc-libm.mjs [N] [SEED]      (npm run check:libm -w @synth2/eval)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTs } from './load-ts.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const n = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 1);
const { glibcPow, glibcExp, fma } = await loadTs(join(here, '..', 'src', 'metrics', 'glibc-libm.ts'));

const dir = mkdtempSync(join(tmpdir(), 'libm-check-'));
const file = join(dir, 'ref.bin');
execFileSync('python3', [join(here, 'libm-reference.py'), file, String(n), String(seed)], { stdio: 'inherit' });
const buf = readFileSync(file);
rmSync(dir, { recursive: true });

const names = {
  1: 'pow, BLEU: x in (0,1], y in {1, 1/2, 1/3, 1/4} (python **)',
  2: 'pow, BLEU products of clipped precisions (python **)',
  3: 'exp, BLEU brevity penalty and (-inf, 0] (python math.exp)',
  4: 'pow, uniformly random doubles (libm pow)',
  5: 'pow, x > 0 random, y across the result range, integer y with x < 0 (libm pow)',
  6: 'exp, uniformly random doubles and [-760, 720] (libm exp)',
  7: 'fma emulation, random operands (libm fma)',
};
const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
const bits = (x) => {
  f64[0] = x;
  return u64[0];
};
const same = (a, b) => bits(a) === bits(b) || (Number.isNaN(a) && Number.isNaN(b));

let off = 0;
let total = 0;
let failed = 0;
const report = { n, seed, suites: [] };
while (off < buf.length) {
  const id = buf.readUInt32LE(off);
  const len = buf.readUInt32LE(off + 4);
  off += 8;
  const recs = new Float64Array(buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + off + len * 8));
  off += len * 8;
  const stride = id === 7 ? 4 : 3;
  let bad = 0;
  let versusV8 = 0;
  const examples = [];
  for (let i = 0; i < recs.length; i += stride) {
    let got;
    let v8;
    if (id === 7) got = fma(recs[i], recs[i + 1], recs[i + 2]);
    else if (id === 3 || id === 6) {
      got = glibcExp(recs[i]);
      v8 = Math.exp(recs[i]);
    } else {
      got = glibcPow(recs[i], recs[i + 1]);
      v8 = recs[i] ** recs[i + 1];
    }
    const want = recs[i + stride - 1];
    if (v8 !== undefined && !same(v8, want)) versusV8++;
    if (!same(got, want)) {
      bad++;
      if (examples.length < 5) examples.push(Array.from(recs.subarray(i, i + stride)).concat(got));
    }
  }
  const count = recs.length / stride;
  total += count;
  failed += bad;
  report.suites.push({ suite: names[id], inputs: count, mismatches: bad, v8Mismatches: id === 7 ? undefined : versusV8 });
  console.log(`${bad === 0 ? 'ok  ' : 'FAIL'} ${names[id]}: ${count} inputs, ${bad} mismatches (V8's own Math.exp/**: ${id === 7 ? '-' : versusV8})`);
  for (const e of examples) console.log('     input/expected/got:', e.join(' '));
}
console.log(`${total} inputs, ${failed} mismatches`);
process.exitCode = failed === 0 ? 0 : 1;
