import { ConfigurationError, Vocabulary, BOS_ID, EOS_ID, PAD_ID, UNK_ID, type VocabularyJSON } from '@synth2/core';

/** A caption vocabulary as accepted by the VLM: core's `Vocabulary` or its JSON. */
export type VocabularyInput = Vocabulary | VocabularyJSON;

/** Special token ids (core's vocabulary layout). */
export const SPECIAL_IDS = { pad: PAD_ID, bos: BOS_ID, eos: EOS_ID, unk: UNK_ID } as const;

/** Tokens the decoder may never generate (EOS ends a caption and is allowed). */
export const BANNED_IDS = [PAD_ID, BOS_ID, UNK_ID];

function isVocabulary(v: unknown): v is Vocabulary {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Vocabulary).encode === 'function' &&
    typeof (v as Vocabulary).decode === 'function' &&
    typeof (v as Vocabulary).toJSON === 'function'
  );
}

/** Accepts a `Vocabulary` or its JSON; anything else is a `ConfigurationError`. */
export function toVocabulary(input: unknown): Vocabulary {
  if (isVocabulary(input)) return input;
  try {
    return Vocabulary.fromJSON(input);
  } catch (error) {
    throw new ConfigurationError(
      'config.vocabulary must be a caption Vocabulary from @synth2/core (Vocabulary.build(captions)) or its toJSON() output.',
      { setting: 'vocabulary', cause: error },
    );
  }
}

/** Word ids of a caption (no BOS/EOS) and the words the vocabulary does not know. */
export function encodeWords(vocab: Vocabulary, text: string): { ids: number[]; unknown: string[] } {
  const ids: number[] = [];
  const unknown: string[] = [];
  for (const token of vocab.tokenize(text)) {
    const id = vocab.has(token) ? vocab.tokenToId(token) : UNK_ID;
    if (id <= UNK_ID) unknown.push(token);
    ids.push(id);
  }
  return { ids, unknown };
}
