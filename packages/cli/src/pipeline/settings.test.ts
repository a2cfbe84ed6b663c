import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config';
import { stageSettings } from './settings';

describe('stageSettings', () => {
  it('should leave the generate stage unchanged when only generate.batchSize changes, and change it for candidates', () => {
    const base = stageSettings(resolveConfig({}));
    const bigger = stageSettings(resolveConfig({ generate: { batchSize: 17 } }));
    const reranked = stageSettings(resolveConfig({ generate: { candidates: 2 } }));
    expect(JSON.stringify(bigger.generate)).toBe(JSON.stringify(base.generate));
    expect(JSON.stringify(reranked.generate)).not.toBe(JSON.stringify(base.generate));
  });
});
