import { describe, expect, it } from 'vitest';
import { defaultCaptionSource } from './default-caption-source';
import { SHAPES_INVENTORY } from '../__fixtures__/shapes-inventory';

describe('defaultCaptionSource', () => {
  it('should pick the concept grammar when no LLM is configured, and say so', () => {
    const picked = defaultCaptionSource({ inventory: SHAPES_INVENTORY, env: {} });
    expect(picked.kind).toBe('concept-grammar');
    expect(picked.source.provider).toBe('concept-grammar');
    expect(picked.reason).toMatch(/no LLM is configured.*offline concept grammar/);
  });
  it('should pick the OpenAI-compatible source when OPENAI_API_KEY or OPENAI_BASE_URL is set, or options say so', () => {
    expect(defaultCaptionSource({ env: { OPENAI_API_KEY: 'sk-x' } })).toMatchObject({ kind: 'openai-compatible', reason: expect.stringMatching(/OPENAI_API_KEY is set/) });
    expect(defaultCaptionSource({ env: { OPENAI_BASE_URL: 'http://127.0.0.1:8080/v1' } }).reason).toMatch(/OPENAI_BASE_URL is set \(http:\/\/127\.0\.0\.1:8080\/v1\)/);
    const viaOptions = defaultCaptionSource({ env: {}, openai: { baseURL: 'http://localhost:11434/v1', model: 'llama3.2' } });
    expect(viaOptions.kind).toBe('openai-compatible');
    expect(viaOptions.reason).toMatch(/model llama3\.2/);
  });
});
