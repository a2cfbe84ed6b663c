import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Synth2Error, throwIfAborted } from '@synth2/core/internal';
import { numpyMean } from '../metrics/numpy-sum';
import { abortChild, resolveJar, spawnJava, type JavaJarOptions } from './java-process';

/** Options of the SPICE scorer (the reference Java jar). */
export interface SpiceOptions extends JavaJarOptions {
  /** Parse cache directory (`-cache`); default `<jar dir>/cache` as the reference. */
  cacheDir?: string;
  /** Java heap option, default `-Xmx8G` as the reference. */
  memory?: string;
}

/** SPICE scores: the corpus score, per image, and every category's details. */
export interface SpiceResult {
  score: number;
  /** `All.f` per image. */
  perImage: number[];
  /** Every category's `{ f, pr, re, … }` per image, as the jar reports them. */
  details: Record<string, Record<string, number>>[];
}

/**
 * SPICE 1.0 through the official jar like pycocoevalcap: `[{image_id, test, refs}]` written to a JSON file, the jar run
 * with `-cache DIR -out out.json -subset -silent`, and the corpus score the mean of the per-image `All.f`.
 */
export async function runSpice(
  imageIds: readonly (string | number)[],
  candidates: readonly string[],
  references: readonly (readonly string[])[],
  options: SpiceOptions = {},
): Promise<SpiceResult> {
  throwIfAborted(options.abortSignal ?? options.signal);
  const { java, jar } = resolveJar('SPICE', options, 'SYNTH2_SPICE_JAR', 'spice-1.0.jar', ' (with its lib/ folder of Stanford CoreNLP jars)');
  const dir = await mkdtemp(join(tmpdir(), 'synth2-spice-'));
  try {
    const input = join(dir, 'input.json');
    const output = join(dir, 'output.json');
    const data = imageIds.map((id, i) => ({ image_id: id, test: candidates[i], refs: references[i] }));
    await writeFile(input, JSON.stringify(data));
    const cache = options.cacheDir ?? join(dirname(jar), 'cache');
    const args = ['-jar', options.memory ?? '-Xmx8G', jar, input, '-cache', cache, '-out', output, '-subset', '-silent'];
    const child = await spawnJava('SPICE', java, args, dirname(jar));
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => {
      stderr = (stderr + c).slice(-4000);
    });
    child.stdout.resume();
    child.stdin.end();
    const unlisten = abortChild(child, undefined, (options.abortSignal ?? options.signal));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    unlisten();
    throwIfAborted(options.abortSignal ?? options.signal);
    if (code !== 0) {
      throw new Synth2Error(`SPICE: the jar exited with code ${code}. Its error output: ${stderr.trim().slice(-1500) || '(none)'}`, { code: 'external_process' });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(output, 'utf8'));
    } catch (error) {
      throw new Synth2Error(`SPICE: the jar did not write a readable JSON result (${(error as Error).message}).`, { code: 'external_process', cause: error });
    }
    if (!Array.isArray(parsed)) throw new Synth2Error('SPICE: the result file is not a JSON array.', { code: 'external_process' });
    const byId = new Map<string, Record<string, Record<string, number>>>();
    const all: number[] = [];
    for (const item of parsed as { image_id?: unknown; scores?: Record<string, Record<string, unknown>> }[]) {
      const f = item?.scores?.All?.f;
      if (item?.image_id === undefined || f === undefined) {
        throw new Synth2Error('SPICE: a result item lacks image_id or scores.All.f.', { code: 'external_process' });
      }
      const scores: Record<string, Record<string, number>> = {};
      for (const [category, tuple] of Object.entries(item.scores!)) {
        scores[category] = Object.fromEntries(Object.entries(tuple).map(([k, v]) => [k, Number(v)]));
      }
      byId.set(String(item.image_id), scores);
      all.push(Number(f));
    }
    const details = imageIds.map((id) => {
      const d = byId.get(String(id));
      if (!d) throw new Synth2Error(`SPICE: no result for image ${JSON.stringify(id)}.`, { code: 'external_process' });
      return d;
    });
    return { score: numpyMean(all), perImage: details.map((d) => d.All.f), details };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
