import { ConfigurationError } from '@synth2/core';

/** Browser build: there is no file system to write a checkpoint directory to. */
export async function writeDirAtomic(dir: string): Promise<void> {
  throw new ConfigurationError(
    `cannot write ${dir}: saving checkpoints needs Node's file system; train and save in Node (e.g. \`synth2 run\`), then load the checkpoint in the browser from its URL.`,
    { setting: 'checkpointDir' },
  );
}
