import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, InvalidInputError } from '@synth2/core';
import { createGgufCaptionSource } from './gguf-caption-source';
import { synthesizeCaptions } from '../synthesis/synthesize-captions';

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

  it.skipIf(Boolean(skipReason))('should also run through a chat session when asked (mode: chat)', async () => {
    const source = createGgufCaptionSource({ modelPath, threads: 1, maxTokens: 16, mode: 'chat' });
    try {
      const result = await source.doGenerate({ concepts: [{ id: 'cat', name: 'cat', kind: 'object', synonyms: [] }], n: 1, seed: 1 });
      expect(result.metadata).toMatchObject({ provider: 'gguf', mode: 'chat' });
      expect(result.captions.length + (result.rejected?.length ?? 0)).toBe(1);
    } finally {
      await source.close?.();
    }
  });

  it.skipIf(Boolean(skipReason))('should feed a synthesis run end to end', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'synth2-gguf-'));
    const source = createGgufCaptionSource({ modelPath, threads: 1, maxTokens: 16 });
    try {
      const summary = await synthesizeCaptions({ source, concepts: ['dog', 'ball'], count: 3, out: path.join(dir, 'c.jsonl'), filters: false, dedupe: false });
      expect(summary).toMatchObject({ written: 3, provider: 'gguf' });
      const lines = (await fs.readFile(path.join(dir, 'c.jsonl'), 'utf8')).trim().split('\n');
      expect(lines).toHaveLength(3);
      expect(JSON.parse(lines[0]).provider.provider).toBe('gguf');
    } finally {
      await source.close?.();
      await fs.rm(dir, { recursive: true, force: true });
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
