import { needsNode } from '../util/needs-node';

export type { CliIo } from './run-cli';

/** Browser build: the `synth2-eval` command reads files and writes to stdout. */
export async function runCli(): Promise<never> {
  throw needsNode(
    'runCli (the synth2-eval command)',
    'call evaluateCaptions with the references and predictions as objects.',
  );
}
