import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors';
import { sharedDataDir, skipReason } from '../test/shared-data';
import { makeTmpDir } from '../test/tmp-dir';
import { detokenizeCaption, normalizeCaption, tokenizeCaption } from './caption-normalize';
import { BOS_ID, EOS_ID, PAD_ID, UNK_ID, Vocabulary, padOrTruncate } from './vocabulary';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await makeTmpDir()));
afterEach(() => cleanup());

describe('tokenizeCaption', () => {
  it('should lowercase, drop punctuation and keep words, numbers and inner hyphens whole', () => {
    expect(tokenizeCaption('A Man in a T-shirt, riding 2 horses.')).toEqual([
      'a',
      'man',
      'in',
      'a',
      't-shirt',
      'riding',
      '2',
      'horses',
    ]);
    expect(tokenizeCaption('It costs 3.5 dollars (about 1,000 yen)!')).toEqual([
      'it',
      'costs',
      '3.5',
      'dollars',
      'about',
      '1,000',
      'yen',
    ]);
  });

  it('should split clitics and unify typographic quotes', () => {
    expect(tokenizeCaption('The man’s dog isn’t “happy”')).toEqual([
      'the',
      'man',
      "'s",
      'dog',
      'is',
      "n't",
      'happy',
    ]);
    expect(tokenizeCaption("the dogs' ball at 5 o'clock")).toEqual([
      'the',
      'dogs',
      'ball',
      'at',
      '5',
      "o'clock",
    ]);
  });

  it('should keep punctuation as tokens when asked, and detokenize readably', () => {
    const tokens = tokenizeCaption('A dog, a cat (small) and a bird... on grass.', { punctuation: 'keep' });
    expect(tokens).toEqual([
      'a',
      'dog',
      ',',
      'a',
      'cat',
      '(',
      'small',
      ')',
      'and',
      'a',
      'bird',
      '...',
      'on',
      'grass',
      '.',
    ]);
    expect(detokenizeCaption(tokens)).toBe('a dog, a cat (small) and a bird... on grass.');
    expect(detokenizeCaption(['the', 'man', "'s", 'hat'])).toBe("the man's hat");
  });

  it('should normalise unicode and whitespace', () => {
    expect(normalizeCaption('  Ｃafé\tSTREET \n')).toBe('café street');
    expect(tokenizeCaption('')).toEqual([]);
  });
});

describe('Vocabulary.build', () => {
  const texts = ['A red circle.', 'a blue circle', 'A red square above a circle', 'one green triangle'];

  it('should put specials first and order words by count, then alphabetically', () => {
    const v = Vocabulary.build(texts);
    expect(v.words.slice(0, 4)).toEqual(['<pad>', '<bos>', '<eos>', '<unk>']);
    expect(v.words.slice(4, 7)).toEqual(['a', 'circle', 'red']);
    expect(v.count('a')).toBe(4);
    expect(v.size).toBe(4 + 9);
  });

  it('should apply minCount and maxSize', () => {
    expect(Vocabulary.build(texts, { minCount: 2 }).words.slice(4)).toEqual(['a', 'circle', 'red']);
    expect(Vocabulary.build(texts, { maxSize: 6 }).words).toEqual([
      '<pad>',
      '<bos>',
      '<eos>',
      '<unk>',
      'a',
      'circle',
    ]);
  });

  it('should reject bad options and non-string captions', () => {
    expect(() => Vocabulary.build(texts, { minCount: 0 })).toThrow(/minCount must be a positive integer/);
    expect(() => Vocabulary.build(texts, { maxSize: 3 })).toThrow(/maxSize must be an integer >= 4/);
    expect(() => Vocabulary.build(['ok', 5 as unknown as string])).toThrow(/caption 1 is not a string/);
  });
});

describe('Vocabulary.encode / decode', () => {
  const v = Vocabulary.build(['a red circle above a blue square', 'the man’s hat']);

  it('should round-trip known words with BOS/EOS and padding', () => {
    const ids = v.encode('A red circle.', { bos: true, eos: true, length: 8 });
    expect(ids.length).toBe(8);
    expect(ids[0]).toBe(BOS_ID);
    expect(ids.slice(4)).toEqual([EOS_ID, PAD_ID, PAD_ID, PAD_ID]);
    expect(v.decode(ids)).toBe('a red circle');
    expect(v.decode(v.encode("The man's hat"))).toBe("the man's hat");
  });

  it('should truncate but keep the final EOS', () => {
    const ids = v.encode('a red circle above a blue square', { bos: true, eos: true, length: 4 });
    expect(ids).toEqual([BOS_ID, v.tokenToId('a'), v.tokenToId('red'), EOS_ID]);
  });

  it('should map unknown words to UNK, or throw naming the word', () => {
    expect(v.encode('a green circle')).toEqual([v.tokenToId('a'), UNK_ID, v.tokenToId('circle')]);
    const error = (() => {
      try {
        v.encode('a green circle', { onUnknown: 'throw' });
      } catch (e) {
        return e as InvalidInputError;
      }
    })();
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(error!.message).toMatch(/unknown word "green" in caption "a green circle"/);
  });

  it('should decode with or without specials and stop at EOS', () => {
    const ids = [BOS_ID, v.tokenToId('red'), UNK_ID, EOS_ID, v.tokenToId('hat')];
    expect(v.decode(ids)).toBe('red');
    expect(v.decode(ids, { skipSpecial: false, stopAtEos: false })).toBe('<bos> red <unk> <eos> hat');
    expect(() => v.decode([999])).toThrow(/token id 999 is out of range/);
    expect(() => v.decode([1.5])).toThrow(/not an integer/);
  });

  it('should encode a batch into a padded Int32Array', () => {
    const batch = v.encodeBatch(['a red circle', 'the hat'], 5, { eos: true });
    expect(batch).toBeInstanceOf(Int32Array);
    expect(Array.from(batch.subarray(5))).toEqual([
      v.tokenToId('the'),
      v.tokenToId('hat'),
      EOS_ID,
      PAD_ID,
      PAD_ID,
    ]);
  });
});

describe('padOrTruncate', () => {
  it('should pad, truncate and reject bad lengths', () => {
    expect(padOrTruncate([5, 6], 4)).toEqual([5, 6, 0, 0]);
    expect(padOrTruncate([5, 6, 7], 2)).toEqual([5, 6]);
    expect(padOrTruncate([5, 6, EOS_ID], 2, { keepEos: true })).toEqual([5, EOS_ID]);
    expect(() => padOrTruncate([1], -1)).toThrow(/length must be a non-negative integer/);
  });
});

describe('Vocabulary save / load / JSON', () => {
  it('should round-trip through a file', async () => {
    const v = Vocabulary.build(['a red circle', 'a dog, running.'], { punctuation: 'keep' });
    const file = join(dir, 'vocab.json');
    await v.save(file);
    const back = await Vocabulary.load(file);
    expect(back.words).toEqual(v.words);
    expect(back.punctuation).toBe('keep');
    expect(back.count('a')).toBe(2);
    expect(back.encode('a dog.')).toEqual(v.encode('a dog.'));
    expect(await readdir(dir)).toEqual(['vocab.json']);
  });

  it('should reject corrupt vocabularies with a clear error', async () => {
    const good = Vocabulary.build(['a b']).toJSON();
    expect(() => Vocabulary.fromJSON({ ...good, tokens: ['<bos>', '<pad>', '<eos>', '<unk>', 'a'] })).toThrow(
      /field "tokens.0": token 0 must be "<pad>"/,
    );
    expect(() => Vocabulary.fromJSON({ ...good, tokens: [...good.tokens, 'a'] })).toThrow(
      /duplicate token "a"/,
    );
    expect(() => Vocabulary.fromJSON({ ...good, tokens: [...good.tokens, 7] })).toThrow(/field "tokens.6"/);
    expect(() => Vocabulary.fromJSON({ ...good, format: 'other' })).toThrow(/field "format"/);
    const file = join(dir, 'bad.json');
    await writeFile(file, '{"format": "synth2-vocab", "tokens": [');
    await expect(Vocabulary.load(file)).rejects.toThrow(/bad\.json:1: malformed JSON/);
    await expect(Vocabulary.load(join(dir, 'none.json'))).rejects.toThrow(
      /none\.json: vocabulary file not found/,
    );
  });
});

describe('Vocabulary on real captions (Flickr8k)', () => {
  const reason = skipReason('captions/flickr8k_captions.csv');
  it.skipIf(reason)('should cover most caption words with a 2,000-word vocabulary', async () => {
    const csv = await readFile(join(sharedDataDir('captions')!, 'flickr8k_captions.csv'), 'utf8');
    const captions = csv
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((line) => line.slice(line.indexOf(',') + 1));
    expect(captions.length).toBeGreaterThan(40000);
    const train = captions.slice(0, 35000);
    const test = captions.slice(35000);
    const v = Vocabulary.build(train, { minCount: 2, maxSize: 2000 });
    expect(v.size).toBe(2000);
    let unk = 0;
    let total = 0;
    for (const c of test) {
      for (const id of v.encode(c)) {
        total++;
        if (id === UNK_ID) unk++;
      }
    }
    // Held-out coverage of a 2k vocabulary on Flickr8k is high (≈98%); typos and rare nouns are the rest.
    expect(unk / total).toBeLessThan(0.04);
    expect(v.decode(v.encode('A dog runs on the grass .'))).toBe('a dog runs on the grass');
  });
});
