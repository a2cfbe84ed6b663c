import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError } from '@synth2/core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { evaluateCaptions } from '../evaluate-captions';
import { FIXTURES } from '../test-helpers';
import { runMeteor } from './meteor-scorer';
import { runSpice } from './spice-scorer';

let dir: string;
let java: string;
let meteorJar: string;
let spiceJar: string;
let log: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'synth2-eval-java-'));
  java = join(dir, 'java');
  copyFileSync(join(FIXTURES, 'fake-java.mjs'), java);
  chmodSync(java, 0o755);
  meteorJar = join(dir, 'meteor-1.5.jar');
  spiceJar = join(dir, 'spice-1.0.jar');
  writeFileSync(meteorJar, '');
  writeFileSync(spiceJar, '');
});

afterEach(() => {
  delete process.env.FAKE_JAVA_LOG;
  delete process.env.FAKE_JAVA_MODE;
});

function freshLog(): string {
  log = join(dir, `log-${Math.random().toString(36).slice(2)}.jsonl`);
  process.env.FAKE_JAVA_LOG = log;
  return log;
}
const logLines = (): Record<string, unknown>[] => readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('runMeteor', () => {
  it('should speak the -stdio protocol: SCORE lines, then one EVAL line with the statistics', async () => {
    freshLog();
    const r = await runMeteor(['a dog ||| runs', 'a  cat'], [['a dog runs', 'the dog'], ['a cat sleeps']], { java, jar: meteorJar });
    const lines = logLines();
    expect(lines[0].args).toEqual(['-jar', '-Xmx2G', meteorJar, '-', '-', '-stdio', '-l', 'en', '-norm']);
    expect(lines[0].cwd).toBe(dir);
    expect(lines.slice(1).map((l) => l.stdin)).toEqual([
      'SCORE ||| a dog runs ||| the dog ||| a dog  runs'.replace('  ', ' '),
      'SCORE ||| a cat sleeps ||| a cat',
      'EVAL ||| 3 3 3 ||| 2 2 3',
    ]);
    // per-image and corpus scores are what the jar answers (the corpus score is not a mean)
    expect(r).toEqual({ score: 1, perImage: [1, 1] });
  });

  it('should name what is missing when the jar or java is not there', async () => {
    const saved = process.env.SYNTH2_METEOR_JAR;
    delete process.env.SYNTH2_METEOR_JAR;
    const e = await runMeteor(['x'], [['x']], { java }).catch((x: unknown) => x);
    expect(ConfigurationError.isInstance(e)).toBe(true);
    expect((e as Error).message).toMatch(/METEOR needs the official meteor-1.5.jar .* set SYNTH2_METEOR_JAR/);
    if (saved !== undefined) process.env.SYNTH2_METEOR_JAR = saved;
    await expect(runMeteor(['x'], [['x']], { java, jar: join(dir, 'nope.jar') })).rejects.toThrow(/the jar .*nope.jar does not exist/);
    await expect(runMeteor(['x'], [['x']], { java: join(dir, 'no-java'), jar: meteorJar })).rejects.toThrow(
      /METEOR needs Java, but ".*no-java" could not be started \(ENOENT\)/,
    );
  });

  it('should report the process error output when the jar dies', async () => {
    freshLog();
    process.env.FAKE_JAVA_MODE = 'crash';
    await expect(runMeteor(['x'], [['x']], { java, jar: meteorJar })).rejects.toThrow(/exited \(code 1\).*OutOfMemoryError/);
  });
});

describe('runSpice', () => {
  it('should write [{image_id, test, refs}], run the jar with -cache/-out/-subset/-silent and average All.f', async () => {
    freshLog();
    const r = await runSpice([7, 'b'], ['a dog runs', 'a cat'], [['a dog'], ['the cat sleeps', 'cat']], { java, jar: spiceJar });
    const args = logLines()[0].args as string[];
    expect(args.slice(0, 3)).toEqual(['-jar', '-Xmx8G', spiceJar]);
    expect(args.slice(4)).toEqual(['-cache', join(dir, 'cache'), '-out', expect.stringMatching(/output\.json$/), '-subset', '-silent']);
    expect(existsSync(args[3])).toBe(false); // the temporary input is removed
    expect(r.perImage).toEqual([2 / 3, 1 / 2]);
    expect(r.score).toBe((2 / 3 + 1 / 2) / 2);
    expect(r.details[1].Object).toEqual({ pr: 0, re: 0, f: 0 });
  });

  it('should fail clearly when the jar fails', async () => {
    freshLog();
    process.env.FAKE_JAVA_MODE = 'crash';
    await expect(runSpice([1], ['x'], [['x']], { java, jar: spiceJar })).rejects.toThrow(/SPICE: the jar exited with code 1.*OutOfMemoryError/);
  });
});

describe('evaluateCaptions with METEOR and SPICE', () => {
  it('should run both on the tokenized captions, in the official metric order', async () => {
    freshLog();
    const r = await evaluateCaptions({
      references: { a: ['A dog runs.'], b: ['A cat, sleeping.'] },
      predictions: { a: 'A dog runs!', b: 'A cat.' },
      metrics: ['SPICE', 'CIDEr', 'METEOR', 'BLEU'],
      meteor: { java, jar: meteorJar },
      spice: { java, jar: spiceJar },
    });
    expect(Object.keys(r.metrics)).toEqual(['Bleu_1', 'Bleu_2', 'Bleu_3', 'Bleu_4', 'METEOR', 'CIDEr', 'SPICE']);
    expect(logLines().filter((l) => l.stdin !== undefined).map((l) => l.stdin)).toEqual([
      'SCORE ||| a dog runs ||| a dog runs',
      'SCORE ||| a cat sleeping ||| a cat',
      'EVAL ||| 3 3 3 ||| 2 2 3',
    ]);
    expect(r.metrics.SPICE).toBe(1);
  });
});
