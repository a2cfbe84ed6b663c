import { needsNode } from '../util/needs-node';

export type { SpiceOptions, SpiceResult } from './spice-scorer';

/** Browser build: SPICE runs the official Java jar in a child process. */
export async function runSpice(): Promise<never> {
  throw needsNode(
    'SPICE (the official spice-1.0.jar run by Java)',
    'score it in Node, or leave SPICE out of `metrics` (BLEU, ROUGE_L and CIDEr work here).',
  );
}
