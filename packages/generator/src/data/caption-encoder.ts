import { InvalidInputError, Vocabulary } from '@synth2/core';

/**
 * Caption → word ids for the generator's caption encoder, over core's `Vocabulary` (`<pad>` = 0). Strict: an
 * empty caption or a word the vocabulary does not know is an `InvalidInputError` (the generator cannot condition
 * on a word it never saw), and every caption is checked before any work starts.
 */
export class CaptionEncoder {
  private constructor(
    readonly vocabulary: Vocabulary,
    readonly maxLength: number,
  ) {}

  /** Number of ids (specials included). */
  get size(): number {
    return this.vocabulary.size;
  }

  static fromCaptions(captions: readonly string[], maxLength = 16): CaptionEncoder {
    const vocabulary = Vocabulary.build(captions);
    if (vocabulary.size <= 4) throw new InvalidInputError('cannot build a caption vocabulary: the captions contain no words');
    return new CaptionEncoder(vocabulary, maxLength);
  }

  static fromJSON(json: unknown, maxLength = 16): CaptionEncoder {
    return new CaptionEncoder(Vocabulary.fromJSON(json), maxLength);
  }

  toJSON(): unknown {
    return this.vocabulary.toJSON();
  }

  /** Ids of one caption (at most `maxLength`; extra words are dropped). */
  encode(text: string, index?: number): number[] {
    const where = index === undefined ? 'caption' : `caption ${index}`;
    if (typeof text !== 'string' || text.trim().length === 0) {
      throw new InvalidInputError(`${where} is empty; every caption needs at least one word`);
    }
    const words = this.vocabulary.tokenize(text);
    if (words.length === 0) throw new InvalidInputError(`${where} ("${text}") has no words`);
    const unknown = [...new Set(words.filter((w) => !this.vocabulary.has(w)))];
    if (unknown.length > 0) {
      throw new InvalidInputError(
        `${where} ("${text}") has words the generator's vocabulary does not know: ${unknown.join(', ')}; rephrase it with known words or train the generator on captions that use them`,
      );
    }
    return this.vocabulary.encode(text).slice(0, this.maxLength);
  }

  /** Padded ids `[B, L]` and a keep-mask `[B, L]`. Checks every caption before returning. */
  encodeBatch(captions: readonly string[]): { words: Int32Array; mask: Float32Array } {
    const L = this.maxLength;
    const words = new Int32Array(captions.length * L);
    const mask = new Float32Array(captions.length * L);
    captions.forEach((c, i) => {
      const ids = this.encode(c, i);
      words.set(ids, i * L);
      mask.fill(1, i * L, i * L + ids.length);
    });
    return { words, mask };
  }
}
