import { dirname } from 'node:path';
import { Synth2Error, throwIfAborted } from '@synth2/core/internal';
import { abortChild, LineReader, resolveJar, spawnJava, type JavaJarOptions } from './java-process';

/** Options of the METEOR scorer (the reference Java jar). */
export interface MeteorOptions extends JavaJarOptions {
  /** Java heap option, default `-Xmx2G` as the reference. */
  memory?: string;
}

function parseScore(line: string, what: string): number {
  const value = Number(line.trim());
  if (line.trim() === '' || Number.isNaN(value)) {
    throw new Synth2Error(`METEOR: expected ${what} (a number) from the jar, got ${JSON.stringify(line.slice(0, 200))}.`, { code: 'external_process' });
  }
  return value;
}

/**
 * METEOR 1.5 through the official jar, speaking its `-stdio` protocol like pycocoevalcap: per image a
 * `SCORE ||| ref1 ||| … ||| hyp` line answered by a statistics line, then one `EVAL ||| stats1 ||| …` line answered
 * by one score per image and the corpus score (computed by the jar from aggregated statistics, not a mean).
 */
export async function runMeteor(
  candidates: readonly string[],
  references: readonly (readonly string[])[],
  options: MeteorOptions = {},
): Promise<{ score: number; perImage: number[] }> {
  throwIfAborted(options.abortSignal ?? options.signal);
  const { java, jar } = resolveJar('METEOR', options, 'SYNTH2_METEOR_JAR', 'meteor-1.5.jar', ' (with its data/ paraphrase tables beside it)');
  const args = ['-jar', options.memory ?? '-Xmx2G', jar, '-', '-', '-stdio', '-l', 'en', '-norm'];
  const child = await spawnJava('METEOR', java, args, dirname(jar));
  const reader = new LineReader(child, 'METEOR');
  const unlisten = abortChild(child, reader, (options.abortSignal ?? options.signal));
  try {
    const stats: string[] = [];
    for (let i = 0; i < candidates.length; i++) {
      const hyp = candidates[i].replaceAll('|||', '').replaceAll('  ', ' ');
      child.stdin.write(`SCORE ||| ${references[i].join(' ||| ')} ||| ${hyp}\n`);
      stats.push((await reader.next()).trim());
    }
    child.stdin.write(`EVAL ||| ${stats.join(' ||| ')}\n`);
    const perImage: number[] = [];
    for (let i = 0; i < candidates.length; i++) perImage.push(parseScore(await reader.next(), `the score of image ${i + 1}`));
    const score = parseScore(await reader.next(), 'the corpus score');
    return { score, perImage };
  } finally {
    unlisten();
    reader.fail(new Synth2Error('METEOR: finished'));
    child.stdin.end();
    child.kill();
  }
}
