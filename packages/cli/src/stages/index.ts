import type { StageName } from '../pipeline/graph';
import { captionsStage } from './captions';
import type { StageBody } from './context';
import { dataStage } from './data';
import { evaluateStage } from './evaluate';
import { generateStage } from './generate';
import { generatorStage } from './generator';
import { reportStage } from './report';
import { tokenizerStage } from './tokenizer';
import { makeVlmStage } from './vlm';

/** The body of every stage of `synth2 run`. */
export const STAGE_BODIES: Record<StageName, StageBody> = {
  data: dataStage,
  tokenizer: tokenizerStage,
  generator: generatorStage,
  captions: captionsStage,
  generate: generateStage,
  'vlm-baseline': makeVlmStage('baseline'),
  'vlm-synth2': makeVlmStage('synth2'),
  'vlm-full': makeVlmStage('full'),
  evaluate: evaluateStage,
  report: reportStage,
};

export type { StageBody, StageRunContext } from './context';
export { resolveCaptionSource, captionSourceSettings } from './captions';
