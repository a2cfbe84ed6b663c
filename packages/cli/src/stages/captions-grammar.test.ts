import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config';
import { captionSourceSettings } from './captions';

describe('captionSourceSettings', () => {
  it('should give the shapes world the demo grammar settings, under what captions.grammar sets', () => {
    expect(captionSourceSettings(resolveConfig({}), undefined).grammar).toMatchObject({ extraObjectProbability: 0.7, seed: 1 });
    const set = resolveConfig({ captions: { grammar: { extraObjectProbability: 0.2 } } });
    expect(captionSourceSettings(set, undefined).grammar.extraObjectProbability).toBe(0.2);
    const folder = resolveConfig({ data: { source: '/some/photos' } });
    expect(captionSourceSettings(folder, undefined).grammar).not.toHaveProperty('extraObjectProbability');
  });
});
