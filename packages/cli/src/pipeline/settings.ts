import { demoSampling } from '@synth2/generator';
import { hasFullReference, type PipelineConfig } from '../config';
import { generatorSettings, tokenizerSettings, vlmSettings } from '../stage-settings';
import { shapesGrammarDefaults } from '../stages/captions';
import type { StageName } from './graph';

/**
 * What each stage's settings hash covers: the user's config AND the library defaults it resolves to, so that a
 * new default in a package (a new validated demo setting) reruns the stages it affects.
 */
export function stageSettings(config: PipelineConfig): Record<StageName, unknown> {
  const vlm = vlmSettings(config.vlm);
  // every caption draws from its own seed, so the synthetic embeddings do not depend on the batch size
  const { batchSize: _generateBatchSize, ...generate } = config.generate;
  const grammarDefaults = shapesGrammarDefaults(config);
  return {
    data: {
      seed: config.seed,
      data: config.data,
      ...(hasFullReference(config) ? { layout: 'train-full' } : {}),
    },
    tokenizer: { seed: config.seed, ...tokenizerSettings(config.tokenizer) },
    generator: { seed: config.seed, ...generatorSettings(config.generator) },
    captions: {
      seed: config.seed,
      captions: config.captions,
      plugins: config.plugins,
      ...(Object.keys(grammarDefaults).length > 0 ? { grammarDefaults } : {}),
    },
    generate: { seed: config.seed, generate, demoSampling },
    'vlm-baseline': { seed: config.seed, ...vlm, kind: 'baseline' },
    'vlm-synth2': { seed: config.seed, ...vlm, kind: 'synth2' },
    'vlm-full': { seed: config.seed, ...vlm, kind: 'full' },
    evaluate: { eval: config.eval },
    report: { version: 1 },
  };
}
