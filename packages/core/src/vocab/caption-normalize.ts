/** How punctuation is treated when captions are split into tokens. */
export type PunctuationMode = 'drop' | 'keep';

/** Options of `tokenizeCaption` and `normalizeCaption`: what happens to punctuation. */
export interface NormalizeOptions {
  /** `drop` (default): punctuation is removed, as caption metrics do; `keep`: each mark becomes its own token. */
  punctuation?: PunctuationMode;
}

const QUOTES: Record<string, string> = {
  '\u2018': "'",
  '\u2019': "'",
  '\u201a': "'",
  '\u201b': "'",
  '\u02bc': "'",
  '`': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u201e': '"',
  '\u2013': '-',
  '\u2014': ' - ',
  '\u2026': '...',
};

/** Punctuation marks that become tokens in `keep` mode. */
const PUNCT_TOKEN = /^[.,!?;:()"[\]{}/&-]$|^\.\.\.$/;

/**
 * Splits a caption into lowercase tokens: Unicode-normalised (NFKC), typographic quotes and dashes unified, words
 * (with inner hyphens or apostrophes, e.g. `t-shirt`, `o'clock`) and numbers (`3.5`, `1,000`) kept whole, the
 * possessive/contraction clitics `'s 're 've 'll 'd 'm n't` split off (`man's` → `man 's`), and punctuation dropped
 * or kept as separate tokens.
 */
export function tokenizeCaption(text: string, options: NormalizeOptions = {}): string[] {
  const keep = options.punctuation === 'keep';
  let s = text.normalize('NFKC').toLowerCase();
  s = s.replace(
    /[\u2018\u2019\u201a\u201b\u02bc`\u201c\u201d\u201e\u2013\u2014\u2026]/g,
    (c) => QUOTES[c] ?? c,
  );
  const out: string[] = [];
  // numbers | words (letters/digits, inner ' or -) | ellipsis | any other non-space character
  const re = /\d+(?:[.,]\d+)*|[\p{L}\p{N}]+(?:['-][\p{L}\p{N}]+)*'?|\.\.\.|\S/gu;
  for (const match of s.matchAll(re)) {
    let token = match[0];
    if (/[\p{L}\p{N}]/u.test(token[0])) {
      if (token.endsWith("'")) token = token.slice(0, -1); // trailing apostrophe: "dogs'"
      const clitic = /^(.+?)(n't|'s|'re|'ve|'ll|'d|'m)$/.exec(token);
      if (clitic && clitic[1] !== '') {
        out.push(clitic[1], clitic[2]);
      } else out.push(token);
    } else if (keep && PUNCT_TOKEN.test(token)) {
      out.push(token);
    }
  }
  return out;
}

/** The normalised caption as one string (tokens joined by single spaces). */
export function normalizeCaption(text: string, options: NormalizeOptions = {}): string {
  return tokenizeCaption(text, options).join(' ');
}

const ATTACH_LEFT = /^(?:[.,!?;:)\]}]|\.\.\.|n't|'s|'re|'ve|'ll|'d|'m)$/;
const ATTACH_RIGHT = /^[([{]$/;

/** Joins tokens back into readable text: punctuation and clitics attach to the previous word. */
export function detokenizeCaption(tokens: readonly string[]): string {
  let out = '';
  let glueNext = false;
  for (const token of tokens) {
    if (out === '' || glueNext || ATTACH_LEFT.test(token)) out += token;
    else out += ` ${token}`;
    glueNext = ATTACH_RIGHT.test(token);
  }
  return out;
}
