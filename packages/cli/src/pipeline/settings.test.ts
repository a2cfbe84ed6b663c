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

describe('the shapes world grammar defaults', () => {
  it('should rerun captions when the demo grammar settings are part of the hash, and leave real folders alone', () => {
    const shapes = stageSettings(resolveConfig({}));
    expect(shapes.captions).toMatchObject({ grammarDefaults: { extraObjectProbability: 0.7 } });
    const folder = stageSettings(resolveConfig({ data: { source: '/some/photos' } }));
    expect(folder.captions).not.toHaveProperty('grammarDefaults');
  });
});
