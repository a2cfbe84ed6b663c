#!/usr/bin/env node
/* global process */
// A stand-in for `java -jar meteor-1.5.jar … -stdio` and `java -jar spice-1.0.jar in.json … -out out.json`:
// speaks both protocols so that the adapters can be tested without Java. Every stdin line (METEOR) or the
// argument list (SPICE) is appended to $FAKE_JAVA_LOG as JSON lines. FAKE_JAVA_MODE=crash exits at once.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const args = process.argv.slice(2);
const log = (entry) => process.env.FAKE_JAVA_LOG && appendFileSync(process.env.FAKE_JAVA_LOG, JSON.stringify(entry) + '\n');
log({ args, cwd: process.cwd() });
if (process.env.FAKE_JAVA_MODE === 'crash') {
  process.stderr.write('Exception in thread "main" java.lang.OutOfMemoryError: Java heap space\n');
  process.exit(1);
}
const jar = args[args.indexOf('-jar') + 2] ?? '';
const words = (s) => s.split(' ').filter(Boolean);

if (jar.includes('meteor')) {
  // stats: "<matching unigrams> <hyp length> <best ref length>"; score of stats: matches / hyp length
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    log({ stdin: line });
    const parts = line.split(' ||| ');
    if (parts[0] === 'SCORE') {
      const hyp = words(parts[parts.length - 1]);
      const refs = parts.slice(1, -1).map(words);
      const vocab = new Set(refs.flat());
      const matches = hyp.filter((w) => vocab.has(w)).length;
      process.stdout.write(`${matches} ${hyp.length} ${Math.max(...refs.map((r) => r.length))}\n`);
    } else if (parts[0] === 'EVAL') {
      let m = 0;
      let h = 0;
      for (const stat of parts.slice(1)) {
        const [a, b] = stat.split(' ').map(Number);
        process.stdout.write(`${b ? a / b : 0}\n`);
        m += a;
        h += b;
      }
      process.stdout.write(`${h ? m / h : 0}\n`);
    } else process.stdout.write('ERROR\n');
  });
} else if (jar.includes('spice')) {
  const input = JSON.parse(readFileSync(args[args.indexOf('-jar') + 3], 'utf8'));
  const out = args[args.indexOf('-out') + 1];
  const result = input.map(({ image_id, test, refs }) => {
    const vocab = new Set(refs.flatMap(words));
    const hyp = words(test);
    const pr = hyp.length ? hyp.filter((w) => vocab.has(w)).length / hyp.length : 0;
    return { image_id, test, ref_tuples: [], scores: { All: { pr, re: pr, f: pr, fn: 0, numImages: 1, fp: 0, tp: 0 }, Object: { pr: 0, re: 0, f: 0 } } };
  });
  writeFileSync(out, JSON.stringify(result));
} else {
  process.stderr.write(`fake-java: unknown jar ${jar}\n`);
  process.exit(2);
}
