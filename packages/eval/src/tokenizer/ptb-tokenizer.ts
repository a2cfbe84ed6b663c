/**
 * A port of the behaviour of Stanford CoreNLP 3.4.1's `PTBTokenizer -preserveLines -lowerCase` followed by the
 * punctuation removal of the COCO caption evaluation (pycocoevalcap `PTBTokenizer`). The rules are in
 * `ptb-rules.ts`; this file is the scanner: at each position every candidate rule is tried, the longest match wins
 * (trailing context counts towards the length), ties go to the rule listed first.
 */
import { KEEPS_PERIOD, RULES, type Rule } from './ptb-rules';

/** Tokens the COCO evaluation drops after tokenizing. Upper-case brackets never occur after lower-casing. */
const PUNCTUATIONS = new Set([
  "''", "'", '``', '`', '-LRB-', '-RRB-', '-LCB-', '-RCB-', '.', '?', '!', ',', ':', '-', '--', '...', ';',
]);

// Rules grouped by the first (ASCII) character they can start with, so that most rules are never tried.
const ASCII_CANDIDATES: Rule[][] = [];
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  ASCII_CANDIDATES.push(RULES.filter((r) => r.first !== undefined && r.first.test(ch)));
}

/** Words that the rules split (the fast path must not take them). */
const PUSHBACK_WORDS = new Set(['cannot', 'gonna', 'gotta', 'wanna', 'lemme', 'gimme']);

/** Whether an ASCII letter can start one of `PUSHBACK_WORDS` (c, g, l, w in either case). */
function mayPushBack(c: number): boolean {
  const lower = c | 0x20;
  return lower === 99 || lower === 103 || lower === 108 || lower === 119;
}

function isAsciiLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

/** The lexer's SPACE class: space, tab, U+00A0, U+2000–U+200A, U+3000. */
function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 0xa0 || (c >= 0x2000 && c <= 0x200a) || c === 0x3000;
}

function isSpaceOrNl(c: number): boolean {
  return c === 32 || c === 10 || Number.isNaN(c);
}

/**
 * Lexes a stream of lines (joined by `\n`) into PTB tokens per line (before lower-casing and punctuation
 * removal), exactly as the reference lexes its one-caption-per-line input file.
 */
function lexStream(input: string, onLine: (line: string[]) => void): void {
  const end = input.length;
  let line: string[] = [];
  let pos = 0;
  while (pos < end) {
    const c = input.charCodeAt(pos);
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) {
      // Fast paths, each provably equal to the full rule set:
      // - an ASCII letter run followed by a space, a newline or the end is a WORD (except `cannot`);
      // - followed by `.` and then a space/newline/end, it is a WORD then `.` unless it is a known abbreviation.
      let stop = pos + 1;
      while (stop < end && isAsciiLetter(input.charCodeAt(stop))) stop++;
      const next = input.charCodeAt(stop);
      const splits = (stop - pos === 6 || stop - pos === 5) && mayPushBack(c) && PUSHBACK_WORDS.has(input.slice(pos, stop).toLowerCase());
      if (!splits) {
        if (isSpaceOrNl(next)) {
          line.push(input.slice(pos, stop));
          pos = stop;
          continue;
        }
        if (next === 44 && isSpaceOrNl(input.charCodeAt(stop + 1))) {
          // `word, `: no rule can reach past the comma and the following space (HTHING needs a hyphen, EMAIL an @,
          // LIKELYURL and the abbreviation rules a period); a comma before a space is INSENTP.
          line.push(input.slice(pos, stop), ',');
          pos = stop + 1;
          continue;
        }
        if (next === 46 && isSpaceOrNl(input.charCodeAt(stop + 1)) && stop - pos > 1) {
          const run = input.slice(pos, stop);
          if (!KEEPS_PERIOD.test(`${run}.`)) {
            line.push(run, '.');
            pos = stop + 1;
            continue;
          }
        }
      }
    } else if (c === 32) {
      // a run of spaces is one SPACES match: it swallows a following U+00A0 or U+3000 that a URL could otherwise start with
      pos++;
      while (pos < end && isSpace(input.charCodeAt(pos))) pos++;
      continue;
    } else if (c === 10) {
      onLine(line);
      line = [];
      pos++;
      continue;
    }
    const candidates = c < 128 ? ASCII_CANDIDATES[c] : RULES;
    let best: Rule | undefined;
    let bestLen = 0;
    let bestTok = '';
    for (const r of candidates) {
      r.re.lastIndex = pos;
      const m = r.re.exec(input);
      if (m && m[0].length > bestLen) {
        best = r;
        bestLen = m[0].length;
        bestTok = m[1];
      }
    }
    if (!best) {
      pos++;
      continue;
    }
    const a = best.action;
    switch (a.kind) {
      case 'token':
        line.push(bestTok);
        break;
      case 'text':
        line.push(a.text);
        break;
      case 'map':
        line.push(a.fn(bestTok));
        break;
      case 'split':
        line.push(bestTok.slice(0, bestTok.length - a.back));
        pos += bestTok.length - a.back;
        continue;
      case 'acronym': {
        // `I.` before a sentence-starting word loses its period; a longer acronym keeps it; the period is scanned again
        const text = bestTok.length === 2 ? bestTok[0] : bestTok;
        line.push(text);
        pos += bestTok.length - 1;
        continue;
      }
      case 'repeat-period':
        line.push(bestTok);
        pos += bestTok.length - 1;
        continue;
      case 'newline':
        onLine(line);
        line = [];
        break;
      case 'skip':
        break;
    }
    // Tokens consume only their own text; trailing context is scanned again.
    pos += bestTok.length;
  }
  onLine(line);
}

// eslint-disable-next-line no-control-regex -- these control characters are whitespace/line breaks to the reference
const LINE_BREAKS = /\r\n|[\r\n\u2028\u2029\u000B\u000C]/g;

function hasLineBreak(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 10 || c === 13 || c === 11 || c === 12 || c === 0x2028 || c === 0x2029) return true;
  }
  return false;
}

/**
 * Tokenizes captions exactly like the COCO caption evaluation: PTB tokenization (CoreNLP 3.4.1,
 * `-preserveLines -lowerCase`) of all captions as one file with one caption per line, then the tokens
 * `'' ' `` ` -LRB- -RRB- -LCB- -RCB- . ? ! , : - -- ... ;` are dropped and the rest joined by single spaces.
 * One output string per input caption. Pass all captions of one side (references, or candidates) in one call,
 * in evaluation order, as the reference does: a caption's end can depend on the first character of the next.
 *
 * Deviation: a line break inside a caption (`\n`, and also `\r`, U+2028, U+2029, U+000B, U+000C, U+0085, which the
 * reference would treat as extra lines and so misalign every later caption) is replaced by a space.
 */
export function ptbTokenize(captions: readonly string[]): string[] {
  return ptbTokenizeWords(captions).map((words) => words.join(' '));
}

/** Like `ptbTokenize`, but each caption's tokens as an array (an empty array for an empty result). */
export function ptbTokenizeWords(captions: readonly string[]): string[][] {
  const result: string[][] = [];
  ptbTokenizeEach(captions, (tokens) => {
    result.push(tokens);
  });
  return result;
}

/**
 * Like `ptbTokenizeWords`, but hands each caption's tokens to `onCaption` (in order) as soon as its line is lexed,
 * so that a caller that turns them into ids keeps no per-caption arrays.
 */
export function ptbTokenizeEach(captions: readonly string[], onCaption: (tokens: string[], index: number) => void): void {
  if (captions.length === 0) return;
  const parts = new Array<string>(captions.length);
  for (let i = 0; i < captions.length; i++) parts[i] = hasLineBreak(captions[i]) ? captions[i].replace(LINE_BREAKS, ' ') : captions[i];
  let i = 0;
  lexStream(parts.join('\n'), (line) => {
    if (i < captions.length) onCaption(finishLine(line), i);
    i++;
  });
}

/**
 * Tokenizes like `ptbTokenizeEach` and turns each kept token into an id at once: `wordId(token)` is called once per
 * distinct raw token (its lower-cased form), and `onCaption(ids, count)` gets each caption's ids in order (the
 * array is reused for the next caption).
 */
export function ptbTokenizeIds(captions: readonly string[], wordId: (token: string) => number, onCaption: (ids: Int32Array, count: number) => void): void {
  if (captions.length === 0) return;
  const parts = new Array<string>(captions.length);
  for (let i = 0; i < captions.length; i++) parts[i] = hasLineBreak(captions[i]) ? captions[i].replace(LINE_BREAKS, ' ') : captions[i];
  // raw token → id of its lower-cased form, or -1 for a dropped punctuation token
  const idOfRaw = new Map<string, number>();
  let ids = new Int32Array(256);
  let line = 0;
  lexStream(parts.join('\n'), (tokens) => {
    if (line++ >= captions.length) return;
    const end = stripLineEnd(tokens);
    if (end > ids.length) ids = new Int32Array(end * 2);
    let count = 0;
    for (let j = 0; j < end; j++) {
      const raw = tokens[j];
      let id = idOfRaw.get(raw);
      if (id === undefined) {
        const lower = javaLowerCase(raw);
        id = PUNCTUATIONS.has(lower) ? -1 : wordId(lower);
        idOfRaw.set(raw, id);
      }
      if (id >= 0) ids[count++] = id;
    }
    onCaption(ids, count);
  });
}

/** Python's `rstrip` of a lexed line: drops trailing tokens that are all whitespace, strips the last one; returns the new length. */
function stripLineEnd(line: string[]): number {
  let end = line.length;
  while (end > 0) {
    const last = line[end - 1];
    const c = last.charCodeAt(last.length - 1);
    if (c > 32 && c < 127) break;
    const stripped = pyRstrip(last);
    if (stripped !== '') {
      line[end - 1] = stripped;
      break;
    }
    end--;
  }
  return end;
}

/**
 * What the COCO wrapper does with one output line of the lexer: lower-case each token (Java's rules), strip the
 * line's trailing whitespace (Python's `str.rstrip`, which can shorten the last token: a URL may end in U+3000),
 * then drop the punctuation tokens. Works in place.
 */
function finishLine(line: string[]): string[] {
  const end = stripLineEnd(line);
  let w = 0;
  for (let j = 0; j < end; j++) {
    const lower = javaLowerCase(line[j]);
    if (!PUNCTUATIONS.has(lower)) line[w++] = lower;
  }
  line.length = w;
  return line;
}

// eslint-disable-next-line no-control-regex -- Python's str.isspace() characters
const PY_TRAILING_SPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/;
const pyRstrip = (s: string): string => (PY_TRAILING_SPACE.test(s) ? s.replace(PY_TRAILING_SPACE, '') : s);

const CASED = /[\p{Lowercase}\p{Uppercase}\p{Lt}]/u;

/**
 * Java's `toLowerCase(Locale.ENGLISH)`. It equals JavaScript's except for the Greek capital sigma, whose final form
 * Java (as run by the reference) chooses by looking for cased letters anywhere before and after it in the token (JavaScript looks only
 * at the neighbouring characters): `l3Σ` → `l3ς`, `efΣ7é` → `efσ7é`.
 */
export function javaLowerCase(token: string): string {
  if (!token.includes('\u03a3')) return token.toLowerCase();
  let out = '';
  for (let i = 0; i < token.length; i++) {
    const ch = token[i];
    out += ch === '\u03a3' ? (isFinalSigma(token, i) ? '\u03c2' : '\u03c3') : ch.toLowerCase();
  }
  return out;
}

function isFinalSigma(token: string, at: number): boolean {
  let before = false;
  for (let i = at - 1; i >= 0 && !before; i--) before = CASED.test(token[i]);
  if (!before) return false;
  for (let i = at + 1; i < token.length; i++) if (CASED.test(token[i])) return false;
  return true;
}

/** The raw PTB tokens of one caption (not lower-cased, punctuation kept): for debugging and tests. */
export function ptbTokens(caption: string): string[] {
  let first: string[] | undefined;
  lexStream(caption.replace(LINE_BREAKS, ' '), (line) => {
    first ??= line;
  });
  return first ?? [];
}
