import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, InvalidInputError } from '@synth2/core';
import { extractOverrides, parseFlagValue, readConfigFile, resolveConfig } from './config';

describe('resolveConfig', () => {
  it('should fill the demo protocol defaults', () => {
    const c = resolveConfig({});
    expect(c.data).toMatchObject({ source: 'shapes', train: 2000, test: 300, holdOutFraction: 0.25, humanFraction: 1 });
    expect(c.captions.source).toBe('auto');
  });

  it('should apply dotted overrides over file values', () => {
    const c = resolveConfig({ data: { train: 100 } }, { 'data.train': 50, 'data.humanFraction': 0.25, seed: 7 });
    expect(c.data.train).toBe(50);
    expect(c.data.humanFraction).toBe(0.25);
    expect(c.seed).toBe(7);
  });

  it('should name the bad field and the flag to fix it', () => {
    let error: unknown;
    try {
      resolveConfig({ data: { holdOutFraction: 2 } });
    } catch (e) {
      error = e;
    }
    expect(ConfigurationError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/"data.holdOutFraction".*--data.holdOutFraction/);
  });

  it('should reject unknown keys', () => {
    expect(() => resolveConfig({ data: { trian: 5 } })).toThrow(/trian/);
  });
});

describe('extractOverrides', () => {
  it('should collect dotted flags in both forms and keep the rest', () => {
    const { overrides, rest } = extractOverrides(['run', '--data.train', '10', '--vlm.steps=5', '--quiet', '--captions.source', 'grammar', '--data.human-fraction', '0.5']);
    expect(overrides).toEqual({ 'data.train': 10, 'vlm.steps': 5, 'captions.source': 'grammar', 'data.humanFraction': 0.5 });
    expect(rest).toEqual(['run', '--quiet']);
  });

  it('should parse values', () => {
    expect(parseFlagValue('true')).toBe(true);
    expect(parseFlagValue('1e-3')).toBe(0.001);
    expect(parseFlagValue('[1,2]')).toEqual([1, 2]);
    expect(parseFlagValue('abc')).toBe('abc');
  });
});

describe('readConfigFile', () => {
  it('should read YAML and JSON and report malformed files with the path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'synth2-cfg-'));
    await writeFile(join(dir, 'a.yaml'), 'data:\n  train: 12\n');
    await writeFile(join(dir, 'b.json'), '{"data": {"train": 13}}');
    await writeFile(join(dir, 'c.json'), '{"data": ');
    expect(await readConfigFile(join(dir, 'a.yaml'))).toEqual({ data: { train: 12 } });
    expect(await readConfigFile(join(dir, 'b.json'))).toEqual({ data: { train: 13 } });
    const error: any = await readConfigFile(join(dir, "c.json")).catch((e: unknown) => e);
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(error.message).toContain('c.json');
    await expect(readConfigFile(join(dir, 'missing.yaml'))).rejects.toThrow(/Check the path/);
  });
});

describe('resolveConfig (strict stage settings)', () => {
  const failure = (raw: unknown, overrides: Record<string, unknown> = {}) => {
    try {
      resolveConfig(raw, overrides);
    } catch (error) {
      expect(ConfigurationError.isInstance(error)).toBe(true);
      return error as ConfigurationError;
    }
    throw new Error('expected a ConfigurationError');
  };

  it('should reject --vlm.train.steps (the old help example), naming the key and the flag', () => {
    const { overrides } = extractOverrides(['run', '--vlm.train.steps', '3']);
    const error = failure({}, overrides);
    expect(error.setting).toBe('vlm.train');
    expect(error.message).toMatch(/unknown option "vlm.train"/);
    expect(error.message).toMatch(/--vlm.train flag/);
    expect(error.message).toMatch(/Valid keys of "vlm": .*steps/);
  });

  it('should name the nearest valid key of every stage', () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ tokenizer: { stpes: 5 } }, 'tokenizer.stpes', 'tokenizer.steps'],
      [{ tokenizer: { codebookSzie: 5 } }, 'tokenizer.codebookSzie', 'tokenizer.codebookSize'],
      [{ generator: { batchSzie: 5 } }, 'generator.batchSzie', 'generator.batchSize'],
      [{ generator: { layer: 2 } }, 'generator.layer', 'generator.layers'],
      [{ vlm: { evalEvry: 5 } }, 'vlm.evalEvry', 'vlm.evalEvery'],
      [{ vlm: { decoder: { layres: 2 } } }, 'vlm.decoder.layres', 'vlm.decoder.layers'],
      [{ captions: { grammar: { synonymProbabilty: 0.5 } } }, 'captions.grammar.synonymProbabilty', 'captions.grammar.synonymProbability'],
      [{ captions: { openai: { temprature: 0.5 } } }, 'captions.openai.temprature', 'captions.openai.temperature'],
      [{ captions: { cont: 5 } }, 'captions.cont', 'captions.count'],
      [{ generate: { stepz: 5 } }, 'generate.stepz', 'generate.steps'],
    ];
    for (const [raw, setting, nearest] of cases) {
      const error = failure(raw);
      expect(error.setting, setting).toBe(setting);
      expect(error.message, setting).toContain(`Did you mean "${nearest}"?`);
    }
  });

  it('should keep the pipeline-owned keys out of the stage settings', () => {
    expect(failure({ tokenizer: { imageSize: 64 } }).setting).toBe('tokenizer.imageSize');
    expect(failure({ vlm: { grid: [8, 8] } }).setting).toBe('vlm.grid');
    expect(failure({ generator: { checkpointDir: '/tmp/x' } }).setting).toBe('generator.checkpointDir');
  });

  it('should check the values with the packages\' schemas', () => {
    expect(failure({ vlm: { steps: 0 } }).setting).toBe('vlm.steps');
    expect(failure({ tokenizer: { codebookSize: 1 } }).setting).toBe('tokenizer.codebookSize');
    expect(failure({ eval: { metrics: ['CIDER'] } }).setting).toBe('eval.metrics.0');
  });

  it('should take plugin metric ids in eval.metrics and name the built-in metric a wrong case meant', () => {
    expect(resolveConfig({ eval: { metrics: ['CIDEr', 'my-org/metric'] } }).eval.metrics).toEqual(['CIDEr', 'my-org/metric']);
    expect(failure({ eval: { metrics: ['BLEU', 'cider'] } }).message).toMatch(/"eval\.metrics\.1": unknown metric "cider"; did you mean "CIDEr"\?/);
    expect(failure({ eval: { metrics: [] } }).setting).toBe('eval.metrics');
  });

  it('should keep the settings as given (the packages\' demo settings fill the rest when a stage runs)', () => {
    const c = resolveConfig({}, { 'vlm.steps': 3, 'vlm.decoder.layers': 3, 'tokenizer.codebookSize': 64 });
    expect(c.vlm).toEqual({ steps: 3, decoder: { layers: 3 } });
    expect(c.tokenizer).toEqual({ codebookSize: 64 });
    expect(c.generator).toEqual({});
  });

  it('should keep captions.options for plugin sources only', () => {
    expect(resolveConfig({ captions: { source: 'my-org/source', options: { style: 'x', n: [1] } } }).captions.options).toEqual({ style: 'x', n: [1] });
    const error = failure({ captions: { source: 'auto', options: { synonymProbability: 0.5 } } });
    expect(error.setting).toBe('captions.options');
    expect(error.message).toMatch(/captions.grammar.<key>.*captions.openai.<key>/);
  });
});

describe('synth2 run --help examples', () => {
  it('should parse every dotted-flag example of the help text', async () => {
    const { HELP_EXAMPLES } = await import('./main');
    expect(HELP_EXAMPLES.length).toBeGreaterThan(0);
    for (const example of HELP_EXAMPLES) {
      const { overrides, rest } = extractOverrides(example.split(' '));
      expect(rest, example).toEqual([]);
      expect(() => resolveConfig({}, overrides), example).not.toThrow();
    }
  });
});
