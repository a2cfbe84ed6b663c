import { needsNode } from '../util/needs-node';

export type { MeteorOptions } from './meteor-scorer';

/** Browser build: METEOR runs the official Java jar in a child process. */
export async function runMeteor(): Promise<never> {
  throw needsNode(
    'METEOR (the official meteor-1.5.jar run by Java)',
    'score it in Node, or leave METEOR out of `metrics` (BLEU, ROUGE_L and CIDEr work here).',
  );
}
