import { ConfigurationError } from '@synth2/core';

export type { TrainVLMOptions, TrainVLMResult, RealPairs, SyntheticPairs, ValidationSet, VlmEvaluation } from './train-vlm';

/** Browser build: training writes checkpoints and scores with @synth2/eval's Node tools; it runs in Node. */
export async function trainVLM(): Promise<never> {
  throw new ConfigurationError(
    'trainVLM runs in Node (it writes checkpoints); train with `synth2 run` or in Node, then load the model in the browser with CaptioningVLM.load(url).',
    { setting: 'train' },
  );
}
