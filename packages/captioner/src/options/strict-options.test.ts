import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaptionSourceV1 } from '@synth2/core';
import { expectUnknownOptionRejected } from '@synth2/core/test';
import {
  CaptionDeduper,
  ConceptGrammar,
  balancedSampler,
  createCaptionFilter,
  createConceptGrammarSource,
  createGgufCaptionSource,
  createOpenAICaptionSource,
  defaultCaptionSource,
  loadConcepts,
  synthesizeCaptions,
  uniformSampler,
  weightedSampler,
} from '../index';
import { SHAPES_INVENTORY } from '../__fixtures__/shapes-inventory';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'synth2-captioner-options-'));
  await fs.writeFile(path.join(dir, 'concepts.txt'), 'dog\ncat\n');
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** A caption source that counts its calls (a rejected option must stop the run before any request). */
function countingSource(): CaptionSourceV1 & { calls: number } {
  const source = {
    specificationVersion: 'v1' as const,
    provider: 'counting',
    modelId: 'counting',
    calls: 0,
    async doGenerate() {
      source.calls++;
      return { captions: ['a dog on the grass'], metadata: { provider: 'counting', model: 'counting' } };
    },
  };
  return source;
}

const items = [[{ id: 'dog', name: 'dog', kind: 'object' as const, synonyms: [] }]];
const out = () => path.join(dir, 'captions.jsonl');
/** `synthesizeCaptions` with a small valid run and `extra` over it. */
const synthesizeWith = (extra: object) =>
  synthesizeCaptions({ source: countingSource(), concepts: ['dog'], count: 2, out: out(), ...extra } as never);

/** Every public entry point of the package that takes an options object, called with one typo'd key. */
const cases: { where: string; key: string; nearest: string; call: () => unknown }[] = [
  {
    where: 'createOpenAICaptionSource',
    key: 'baseUrl',
    nearest: 'baseURL',
    call: () => createOpenAICaptionSource({ baseUrl: 'http://x' } as never),
  },
  {
    where: 'createOpenAICaptionSource',
    key: 'prompt.usr',
    nearest: 'prompt.user',
    call: () => createOpenAICaptionSource({ prompt: { id: 'p', usr: '{concepts}' } } as never),
  },
  {
    where: 'createGgufCaptionSource',
    key: 'thread',
    nearest: 'threads',
    call: () => createGgufCaptionSource({ modelPath: 'm.gguf', thread: 2 } as never),
  },
  {
    where: 'createConceptGrammarSource',
    key: 'sede',
    nearest: 'seed',
    call: () => createConceptGrammarSource({ sede: 1 } as never),
  },
  {
    where: 'createConceptGrammarSource',
    key: 'attributeProbability.colour',
    nearest: 'attributeProbability.color',
    call: () => createConceptGrammarSource({ attributeProbability: { colour: 1 } } as never),
  },
  {
    where: 'new ConceptGrammar',
    key: 'synonymProb',
    nearest: 'synonymProbability',
    call: () => new ConceptGrammar({ synonymProb: 0 } as never),
  },
  {
    where: 'new ConceptGrammar',
    key: 'templates.on',
    nearest: 'templates.one',
    call: () => new ConceptGrammar({ templates: { on: ['{a}'] } } as never),
  },
  {
    where: 'defaultCaptionSource',
    key: 'inventroy',
    nearest: 'inventory',
    call: () => defaultCaptionSource({ inventroy: {} } as never),
  },
  {
    where: 'defaultCaptionSource',
    key: 'openai.modle',
    nearest: 'openai.model',
    call: () => defaultCaptionSource({ openai: { modle: 'x' } } as never),
  },
  {
    where: 'defaultCaptionSource',
    key: 'grammar.perid',
    nearest: 'grammar.period',
    call: () => defaultCaptionSource({ grammar: { perid: true } } as never),
  },
  {
    where: 'loadConcepts',
    key: 'namespce',
    nearest: 'namespace',
    call: () => loadConcepts(path.join(dir, 'concepts.txt'), { namespce: 'x' } as never),
  },
  {
    where: 'uniformSampler',
    key: 'seeds',
    nearest: 'seed',
    call: () => uniformSampler(items, { seeds: 1 } as never),
  },
  {
    where: 'balancedSampler',
    key: 'kk',
    nearest: 'k',
    call: () => balancedSampler(items, { kk: 1 } as never),
  },
  {
    where: 'weightedSampler',
    key: 'weight',
    nearest: 'weights',
    call: () => weightedSampler(items, { weight: [1] } as never),
  },
  {
    where: 'createCaptionFilter',
    key: 'minWord',
    nearest: 'minWords',
    call: () => createCaptionFilter({ minWord: 2 } as never),
  },
  {
    where: 'new CaptionDeduper',
    key: 'treshold',
    nearest: 'threshold',
    call: () => new CaptionDeduper({ treshold: 0.5 } as never),
  },
  {
    where: 'synthesizeCaptions',
    key: 'concurency',
    nearest: 'concurrency',
    call: () => synthesizeWith({ concurency: 4 }),
  },
  {
    where: 'synthesizeCaptions',
    key: 'signal',
    nearest: 'abortSignal',
    call: () => synthesizeWith({ signal: new AbortController().signal }),
  },
  {
    where: 'synthesizeCaptions',
    key: 'filters.mustMentoin',
    nearest: 'filters.mustMention',
    call: () => synthesizeWith({ filters: { mustMentoin: 'any' } }),
  },
  {
    where: 'synthesizeCaptions',
    key: 'dedupe.mod',
    nearest: 'dedupe.mode',
    call: () => synthesizeWith({ dedupe: { mod: 'exact' } }),
  },
];

describe('strict options', () => {
  it.each(cases)(
    '$where should reject the unknown key $key and suggest $nearest',
    async ({ where, key, nearest, call }) => {
      await expectUnknownOptionRejected(call, { where, key, suggestion: nearest });
    },
  );

  it('synthesizeCaptions should reject a typo before any request or file', async () => {
    const source = countingSource();
    const file = path.join(dir, 'never.jsonl');
    await expect(
      synthesizeCaptions({ source, concepts: ['dog'], count: 2, out: file, concurency: 4 } as never),
    ).rejects.toThrow(/unknown option "concurency"/);
    expect(source.calls).toBe(0);
    await expect(fs.readdir(dir)).resolves.not.toContain('never.jsonl.partial');
  });

  it('should still accept every documented option', async () => {
    const source = createConceptGrammarSource({
      inventory: SHAPES_INVENTORY,
      seed: 1,
      attributeProbability: { color: 1 },
      templates: { one: ['{a}'] },
    });
    const summary = await synthesizeCaptions({
      source,
      concepts: ['circle'],
      count: 2,
      out: path.join(dir, 'ok.jsonl'),
      filters: { minWords: 1 },
      dedupe: { mode: 'exact' },
      concurrency: 1,
      resume: false,
    });
    expect(summary.written).toBe(2);
  });
});
