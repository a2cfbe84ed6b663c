import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, InvalidInputError } from '@synth2/core';
import { createGgufCaptionSource } from './gguf-caption-source';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const dataDir = process.env.SYNTH2_DATA_DIR ?? path.join(repoRoot, '..', 'shared', 'data');
const modelPath = path.join(dataDir, 'llm', 'stories260K.gguf');
const haveModel = await fs.access(modelPath).then(() => true, () => false);
const haveLlama = await import('node-llama-cpp').then(() => true, () => false);
const skipReason = !haveModel ? `${modelPath} not found (set SYNTH2_DATA_DIR)` : !haveLlama ? 'node-llama-cpp is not installed' : '';
if (skipReason) console.log(`[captioner] skipping GGUF generation test: ${skipReason}`);

describe('createGgufCaptionSource', () => {
  it.skipIf(Boolean(skipReason))('should generate text from the shared stories260K model, seeded', async () => {
    const source = createGgufCaptionSource({ modelPath, threads: 1, maxTokens: 24 });
    try {
      const concepts = [{ id: 'dog', name: 'dog', kind: 'object' as const, synonyms: [] }];
      const a = await source.doGenerate({ concepts, n: 2, seed: 42 });
      expect(a.captions).toHaveLength(2);
      for (const c of a.captions) expect(c.trim().split(/\s+/).length).toBeGreaterThan(2);
      expect(a.usage!.completionTokens).toBeGreaterThan(0);
      expect(a.metadata).toMatchObject({ provider: 'gguf', model: 'stories260K.gguf', mode: 'completion' });
      const b = await source.doGenerate({ concepts, n: 2, seed: 42 });
      expect(b.captions).toEqual(a.captions);
    } finally {
      await source.close?.();
    }
  });

  it.skipIf(!haveLlama)('should say when the model file does not exist', async () => {
    const source = createGgufCaptionSource({ modelPath: '/nonexistent/model.gguf' });
    const error = await source.doGenerate({ concepts: [], n: 1 }).catch((e: unknown) => e);
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/model\.gguf: GGUF model file not found; check modelPath/);
  });

  it('should require a model path and sane threads', () => {
    expect(() => createGgufCaptionSource({} as never)).toThrow(ConfigurationError);
    expect(() => createGgufCaptionSource({ modelPath: 'x.gguf', threads: 0 })).toThrow(/threads must be a positive integer/);
  });
});
