import { z } from 'zod';
import { InvalidInputError } from '../errors';
import { parseWithSchema } from '../internal/schema-parse';
import { parseJsonText } from '../io/json-text';
import { readVocabularyText, writeVocabularyJson } from './vocabulary-files';
import { detokenizeCaption, tokenizeCaption, type PunctuationMode } from './caption-normalize';

/** Id of the `<pad>` token in every vocabulary. */
export const PAD_ID = 0;
/** Id of the `<bos>` (begin of sequence) token in every vocabulary. */
export const BOS_ID = 1;
/** Id of the `<eos>` (end of sequence) token in every vocabulary. */
export const EOS_ID = 2;
/** Id of the `<unk>` (unknown word) token in every vocabulary. */
export const UNK_ID = 3;
/** The special tokens, at ids 0..3 of every vocabulary. */
export const SPECIAL_TOKENS = ['<pad>', '<bos>', '<eos>', '<unk>'] as const;

/** A vocabulary saved as JSON (`format: 'synth2-vocab'`): tokens by id, counts and punctuation mode. */
export const VocabularyJSONSchema = z.object({
  format: z.literal('synth2-vocab'),
  version: z.literal(1),
  /** Tokens by id; the first four are the specials. */
  tokens: z.array(z.string().min(1)).min(4),
  /** Training-corpus counts by id (0 for specials), when known. */
  counts: z.array(z.number().int().nonnegative()).optional(),
  punctuation: z.enum(['drop', 'keep']).default('drop'),
});
/** A vocabulary saved as JSON (`VocabularyJSONSchema`). */
export type VocabularyJSON = z.infer<typeof VocabularyJSONSchema>;

/** Options of `Vocabulary.build`. */
export interface BuildVocabularyOptions {
  /** Keep words seen at least this often (default 1). */
  minCount?: number;
  /** Largest vocabulary, specials included (most frequent words win; ties broken alphabetically). */
  maxSize?: number;
  punctuation?: PunctuationMode;
}

/** Options of `Vocabulary.encode`. */
export interface EncodeOptions {
  /** Prepend `<bos>` (default false). */
  bos?: boolean;
  /** Append `<eos>` (default false). */
  eos?: boolean;
  /** Pad with `<pad>` or truncate to exactly this many ids (an `<eos>` is kept as the last id when truncating). */
  length?: number;
  /** `unk` (default): unknown words become `<unk>`; `throw`: an `InvalidInputError` names the word. */
  onUnknown?: 'unk' | 'throw';
}

/** Options of `Vocabulary.decode`. */
export interface DecodeOptions {
  /** Drop `<pad>`, `<bos>`, `<eos>` and `<unk>` (default true). */
  skipSpecial?: boolean;
  /** Stop at the first `<eos>` (default true). */
  stopAtEos?: boolean;
}

/**
 * A caption vocabulary: words ↔ ids, with `<pad>`=0, `<bos>`=1, `<eos>`=2, `<unk>`=3. Captions are split by
 * `tokenizeCaption` (lowercase, punctuation dropped or kept as tokens).
 */
export class Vocabulary {
  private readonly index: Map<string, number>;

  private constructor(
    private readonly tokens: readonly string[],
    readonly punctuation: PunctuationMode,
    private readonly counts?: readonly number[],
  ) {
    this.index = new Map(tokens.map((t, i) => [t, i]));
  }

  /** Builds a vocabulary from caption texts. */
  static build(texts: Iterable<string>, options: BuildVocabularyOptions = {}): Vocabulary {
    const minCount = options.minCount ?? 1;
    const maxSize = options.maxSize ?? Infinity;
    if (!Number.isInteger(minCount) || minCount < 1) {
      throw new InvalidInputError(`minCount must be a positive integer, got ${minCount}.`, {
        field: 'minCount',
      });
    }
    if (maxSize !== Infinity && (!Number.isInteger(maxSize) || maxSize < SPECIAL_TOKENS.length)) {
      throw new InvalidInputError(
        `maxSize must be an integer >= ${SPECIAL_TOKENS.length} (the special tokens), got ${maxSize}.`,
        {
          field: 'maxSize',
        },
      );
    }
    const punctuation = options.punctuation ?? 'drop';
    const counts = new Map<string, number>();
    let n = 0;
    for (const text of texts) {
      if (typeof text !== 'string') {
        throw new InvalidInputError(`caption ${n} is not a string (${typeof text}). Pass caption texts.`, {
          field: `texts.${n}`,
        });
      }
      for (const token of tokenizeCaption(text, { punctuation }))
        counts.set(token, (counts.get(token) ?? 0) + 1);
      n++;
    }
    const specials = new Set<string>(SPECIAL_TOKENS);
    const words = [...counts.entries()]
      .filter(([w, c]) => c >= minCount && !specials.has(w))
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, Math.max(0, maxSize - SPECIAL_TOKENS.length));
    return new Vocabulary([...SPECIAL_TOKENS, ...words.map(([w]) => w)], punctuation, [
      0,
      0,
      0,
      0,
      ...words.map(([, c]) => c),
    ]);
  }

  /** Restores a vocabulary from `toJSON()` output; malformed input throws `InvalidInputError`. */
  static fromJSON(json: unknown, where: { file?: string } = {}): Vocabulary {
    const value = parseWithSchema(VocabularyJSONSchema, json, where);
    SPECIAL_TOKENS.forEach((s, i) => {
      if (value.tokens[i] !== s) {
        throw new InvalidInputError(
          `token ${i} must be "${s}", found "${value.tokens[i]}". The vocabulary is corrupt.`,
          {
            file: where.file,
            field: `tokens.${i}`,
          },
        );
      }
    });
    const seen = new Set<string>();
    value.tokens.forEach((t, i) => {
      if (seen.has(t))
        throw new InvalidInputError(`duplicate token "${t}". The vocabulary is corrupt.`, {
          file: where.file,
          field: `tokens.${i}`,
        });
      seen.add(t);
    });
    if (value.counts && value.counts.length !== value.tokens.length) {
      throw new InvalidInputError(
        `counts has ${value.counts.length} entries for ${value.tokens.length} tokens.`,
        { file: where.file, field: 'counts' },
      );
    }
    return new Vocabulary(value.tokens, value.punctuation, value.counts);
  }

  /** Loads a vocabulary saved with `save()` (in a browser build, `path` is a URL and is fetched). */
  static async load(path: string): Promise<Vocabulary> {
    const text = await readVocabularyText(path);
    return Vocabulary.fromJSON(parseJsonText(text, { file: path }), { file: path });
  }

  toJSON(): VocabularyJSON {
    return {
      format: 'synth2-vocab',
      version: 1,
      tokens: [...this.tokens],
      ...(this.counts ? { counts: [...this.counts] } : {}),
      punctuation: this.punctuation,
    };
  }

  /** Saves as JSON, atomically. */
  async save(path: string): Promise<void> {
    await writeVocabularyJson(path, this.toJSON());
  }

  /** Number of tokens, specials included. */
  get size(): number {
    return this.tokens.length;
  }

  has(token: string): boolean {
    return this.index.has(token);
  }

  /** Id of a token (`<unk>`'s id when unknown). */
  tokenToId(token: string): number {
    return this.index.get(token) ?? UNK_ID;
  }

  idToToken(id: number): string {
    const t = this.tokens[id];
    if (t === undefined)
      throw new InvalidInputError(`token id ${id} is out of range [0, ${this.tokens.length}).`, {
        field: 'ids',
      });
    return t;
  }

  /** Training-corpus count of a token (0 when unknown or not recorded). */
  count(token: string): number {
    const id = this.index.get(token);
    return id === undefined || !this.counts ? 0 : this.counts[id];
  }

  /** All tokens by id. */
  get words(): readonly string[] {
    return this.tokens;
  }

  /** Splits a caption the way this vocabulary was built. */
  tokenize(text: string): string[] {
    return tokenizeCaption(text, { punctuation: this.punctuation });
  }

  /** Caption text → ids. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    if (typeof text !== 'string')
      throw new InvalidInputError(`expected caption text, got ${typeof text}.`, { field: 'text' });
    const ids: number[] = [];
    if (options.bos) ids.push(BOS_ID);
    for (const token of this.tokenize(text)) {
      const id = this.index.get(token);
      if (id === undefined || id < SPECIAL_TOKENS.length) {
        if (options.onUnknown === 'throw') {
          throw new InvalidInputError(
            `unknown word "${token}" in caption "${text}" (not among the vocabulary's ${this.size} tokens). Rebuild the vocabulary with this text, or encode with onUnknown: 'unk'.`,
            { field: 'text' },
          );
        }
        ids.push(UNK_ID);
      } else ids.push(id);
    }
    if (options.eos) ids.push(EOS_ID);
    return options.length === undefined ? ids : padOrTruncate(ids, options.length, { keepEos: options.eos });
  }

  /** Many captions → one row-major `Int32Array` of `[texts.length, length]` ids (padded/truncated). */
  encodeBatch(
    texts: readonly string[],
    length: number,
    options: Omit<EncodeOptions, 'length'> = {},
  ): Int32Array {
    const out = new Int32Array(texts.length * length);
    texts.forEach((t, i) => out.set(this.encode(t, { ...options, length }), i * length));
    return out;
  }

  /** Ids → caption text. */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    return detokenizeCaption(this.decodeTokens(ids, options));
  }

  /** Ids → tokens. */
  decodeTokens(ids: ArrayLike<number>, options: DecodeOptions = {}): string[] {
    const skip = options.skipSpecial ?? true;
    const stop = options.stopAtEos ?? true;
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (stop && id === EOS_ID) break;
      if (!Number.isInteger(id))
        throw new InvalidInputError(`token id ${id} at position ${i} is not an integer.`, { field: 'ids' });
      if (skip && id >= 0 && id < SPECIAL_TOKENS.length) continue;
      out.push(this.idToToken(id));
    }
    return out;
  }
}

/**
 * Pads with `<pad>` or truncates to exactly `length` ids. With `keepEos`, a truncated sequence that ended with
 * `<eos>` keeps it as its last id.
 */
export function padOrTruncate(
  ids: readonly number[],
  length: number,
  options: { keepEos?: boolean; padId?: number } = {},
): number[] {
  if (!Number.isInteger(length) || length < 0) {
    throw new InvalidInputError(`length must be a non-negative integer, got ${length}.`, { field: 'length' });
  }
  if (ids.length > length) {
    const cut = ids.slice(0, length);
    if (options.keepEos && length > 0 && ids[ids.length - 1] === EOS_ID) cut[length - 1] = EOS_ID;
    return cut;
  }
  const out = ids.slice();
  while (out.length < length) out.push(options.padId ?? PAD_ID);
  return out;
}
