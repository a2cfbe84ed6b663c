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
