import { ConfigurationError } from '@synth2/core';

export type { TrainerOptions, TrainResult, TrainProgressEvent, TrainLossContext } from './trainer';

function nodeOnly(what: string): ConfigurationError {
  return new ConfigurationError(
    `${what} runs in Node (it writes checkpoints and metrics files); train with \`synth2 run\` or in Node, then load the checkpoint in the browser from its URL.`,
    { setting: 'train' },
  );
}

/** Browser build: training is Node-only. */
export async function train(): Promise<never> {
  throw nodeOnly('training');
}

/** Browser build: trainer checkpoints live on a file system. */
export async function latestCheckpoint(): Promise<never> {
  throw nodeOnly('latestCheckpoint');
}
