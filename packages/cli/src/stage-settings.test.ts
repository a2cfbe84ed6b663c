import { demoGeneratorTraining, demoTokenizerConfig, demoTokenizerTraining } from '@synth2/generator';
import { demoVlmConfig } from '@synth2/vlm';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config';
import { generatorSettings, tokenizerSettings, vlmSettings } from './stage-settings';

describe('stage settings over the demo settings', () => {
  it('should give the demo settings when the config sets nothing', () => {
    const c = resolveConfig({});
    expect(tokenizerSettings(c.tokenizer)).toEqual({
      model: demoTokenizerConfig,
      training: demoTokenizerTraining,
    });
    expect(generatorSettings(c.generator).training).toEqual(demoGeneratorTraining);
    const { mix: _mix, ...training } = vlmSettings(c.vlm).training;
    const {
      mix: _demoMix,
      decoding: _decoding,
      ...demoTraining
    } = { ...demoVlmConfig.training, decoding: undefined };
    expect(training).toEqual(demoTraining);
  });

  it('should put model keys in the model and training keys in the training', () => {
    const c = resolveConfig({
      tokenizer: { codebookSize: 64, steps: 7, restartUntil: 0.5 },
      vlm: { dim: 32, steps: 3, mix: { real: 0.7, synthetic: 0.3 } },
    });
    const tok = tokenizerSettings(c.tokenizer);
    expect(tok.model.codebookSize).toBe(64);
    expect(tok.training).toEqual({ ...demoTokenizerTraining, steps: 7, restartUntil: 0.5 });
    expect('steps' in tok.model).toBe(false);
    const vlm = vlmSettings(c.vlm);
    expect(vlm.model.dim).toBe(32);
    expect(vlm.training).toMatchObject({ steps: 3, mix: { real: 0.7, synthetic: 0.3 } });
  });

  it("should keep the demo's other settings of a nested block when the config sets one of them", () => {
    const vlm = vlmSettings(resolveConfig({}, { 'vlm.decoder.layers': 3 }).vlm);
    expect(vlm.model.decoder).toEqual({ ...demoVlmConfig.architecture.decoder, layers: 3 });
    expect(vlm.model.resampler).toEqual(demoVlmConfig.architecture.resampler);
  });
});
