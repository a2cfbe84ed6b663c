/** Python's `str.split()` (no argument): runs of Unicode whitespace as Python's `str.isspace` defines it. */
// eslint-disable-next-line no-control-regex -- these control characters are whitespace to Python
const PY_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
// eslint-disable-next-line no-control-regex -- as above, without the plain space
const PY_WHITESPACE_NOT_SPACE = /[\t\n\v\f\r\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

/** Whether a token holds whitespace other than ' ' (Python's `isspace`); printable ASCII is checked without a regex. */
function hasPyWhitespace(token: string): boolean {
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return PY_WHITESPACE_NOT_SPACE.test(token);
  }
  return false;
}

/** Sentences up to this many n-grams of one order are de-duplicated by scanning what they stored so far. */
const SHORT_SCAN = 48;
/** Largest share of the n-gram hash table's slots in use before it doubles. */
const MAX_LOAD = 0.7;

export function pySplit(text: string): string[] {
  const parts = text.split(PY_WHITESPACE);
  if (parts.length > 0 && parts[0] === '') parts.shift();
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/**
 * Interns words and n-grams (n = 1..maxN) into dense integer ids shared by every sentence of one evaluation, and
 * stores each sentence's distinct n-grams with counts in flat typed arrays, in the reference's dict order
 * (order 1 first, each order in first-occurrence order). Scorers then use typed arrays instead of hash maps.
 */
export class NgramIndex {
  readonly maxN: number;
  private readonly words = new Map<string, number>();
  private next = 0;
  // open-addressing hash table (prefix id, word id) → n-gram id; prefix = the (n-1)-gram, unigram ids = word ids
  // slots of three: (prefix id + 1, word id, n-gram id); 0 = empty, so a fresh (zeroed) array is an empty table.
  private slots = 1 << 16;
  private table = new Int32Array((1 << 16) * 3);
  private filled = 0;
  // per-id scratch for de-duplication within a sentence: seenIn[id] = sentence number + 1 (0 = not yet seen)
  private seenIn = new Int32Array(1 << 14);
  private seenAt = new Int32Array(1 << 14);
  // sentences
  private lengths: number[] = [];
  private offsets = new Int32Array(5 * 1024);
  private flatIds = new Int32Array(1 << 16);
  private flatCounts = new Int32Array(1 << 16);
  private used = 0;
  private prevBuf = new Int32Array(256);
  private curBuf = new Int32Array(256);
  private wordBuf = new Int32Array(256);

  /** `expectedWords`: about how many words will be added (pre-sizes the tables; they grow if needed). */
  constructor(maxN = 4, expectedWords = 0) {
    this.maxN = maxN;
    if (expectedWords > 0) {
      let cap = 1 << 16;
      while (cap * MAX_LOAD < expectedWords) cap *= 2;
      this.slots = cap;
      this.table = new Int32Array(cap * 3);
      // one slot per id: about as many ids as words (they grow when needed)
      this.seenIn = new Int32Array(expectedWords + 1024);
      this.seenAt = new Int32Array(expectedWords + 1024);
      this.flatIds = new Int32Array(expectedWords * maxN + 1024);
      this.flatCounts = new Int32Array(expectedWords * maxN + 1024);
      this.wordFlat = new Int32Array(expectedWords + 1024);
    }
  }

  /** Number of ids handed out (words and n-grams). */
  get size(): number {
    return this.next;
  }

  /** Number of sentences added. */
  get sentences(): number {
    return this.lengths.length;
  }

  /** Words in sentence `s` (`len(text.split())`). */
  lengthOf(s: number): number {
    return this.lengths[s];
  }

  /** Start of sentence `s`'s order-`n` n-grams (1-based n) in `ids`/`counts`; they end at `start(s, n + 1)`. */
  start(s: number, n: number): number {
    return this.offsets[s * (this.maxN + 1) + n - 1];
  }

  get ids(): Int32Array {
    return this.flatIds;
  }

  get counts(): Int32Array {
    return this.flatCounts;
  }

  private newId(): number {
    const id = this.next++;
    if (id >= this.seenIn.length) {
      const seenIn = new Int32Array(this.seenIn.length * 2);
      seenIn.set(this.seenIn);
      const seenAt = new Int32Array(this.seenAt.length * 2);
      seenAt.set(this.seenAt);
      this.seenIn = seenIn;
      this.seenAt = seenAt;
    }
    return id;
  }

  /** The id of a word (also its unigram id). */
  wordId(word: string): number {
    let id = this.words.get(word);
    if (id === undefined) {
      id = this.newId();
      this.words.set(word, id);
      if (word === '' || hasPyWhitespace(word)) this.specialWords.add(id);
    }
    return id;
  }

  // words that Python's split() would split further or drop (empty, or holding whitespace other than ' ')
  private readonly specialWords = new Set<number>();
  private wordTexts: string[] | undefined;

  /** Sentence `s`'s tokens joined by single spaces (the tokenized caption), rebuilt from its word ids. */
  sentenceText(s: number): string {
    const from = this.wordStarts[s];
    const to = this.wordStarts[s + 1];
    let out = this.wordText(this.wordFlat[from]);
    for (let i = from + 1; i < to; i++) out += ' ' + this.wordText(this.wordFlat[i]);
    return out;
  }

  private wordFlat = new Int32Array(1 << 16);
  private wordStarts: number[] = [0];

  /** Flat word ids of the word lists added with `addWords` (see `wordStart`). */
  get wordIds(): Int32Array {
    return this.wordFlat;
  }

  /** Start of word list `w` in `wordIds`; it ends at `wordStart(w + 1)`. */
  wordStart(w: number): number {
    return this.wordStarts[w];
  }

  /** Like `addWords`, with the tokens given as ids from `wordId`: `wordIds[0..count)`. */
  addWordIds(wordIds: Int32Array, count: number): number {
    const w = this.wordStarts.length - 1;
    const start = this.wordStarts[w];
    const n = Math.max(1, count);
    if (start + n > this.wordFlat.length) {
      const grown = new Int32Array(Math.max(this.wordFlat.length * 2, start + n));
      grown.set(this.wordFlat);
      this.wordFlat = grown;
    }
    if (count === 0) {
      this.wordFlat[start] = this.wordId('');
      this.wordStarts.push(start + 1);
      return this.addIds(this.wordFlat, start, 0);
    }
    this.wordFlat.set(wordIds.subarray(0, count), start);
    this.wordStarts.push(start + count);
    const specialWords = this.specialWords;
    if (specialWords.size > 0) {
      for (let i = 0; i < count; i++) {
        if (specialWords.has(wordIds[i])) return this.addSplitWords(start, count);
      }
    }
    return this.addIds(this.wordFlat, start, count);
  }

  /** Adds the n-grams of a stored word list that holds a special word: its text split as Python's `split()` does. */
  private addSplitWords(start: number, count: number): number {
    const tokens = new Array<string>(count);
    for (let i = 0; i < count; i++) tokens[i] = this.wordText(this.wordFlat[start + i]);
    const words = pySplit(tokens.join(' '));
    if (words.length > this.wordBuf.length) this.wordBuf = new Int32Array(words.length * 2);
    for (let i = 0; i < words.length; i++) this.wordBuf[i] = this.wordId(words[i]);
    return this.addIds(this.wordBuf, 0, words.length);
  }

  /** The word whose id is `id`. */
  private wordText(id: number): string {
    if (!this.wordTexts || this.wordTexts.length < this.next) {
      const texts = new Array<string>(this.next);
      for (const [word, wid] of this.words) texts[wid] = word;
      this.wordTexts = texts;
    }
    return this.wordTexts[id];
  }

  /**
   * Stores the word ids of a caption's tokens as split on single spaces (what ROUGE-L uses: no tokens give one
   * empty token), and adds the caption's n-grams, split the way Python's `split()` does (the same words unless a
   * token contains other whitespace, e.g. U+00A0). Returns the sentence number (= the word list number).
   */
  addWords(tokens: readonly string[]): number {
    const w = this.wordStarts.length - 1;
    const start = this.wordStarts[w];
    const n = Math.max(1, tokens.length);
    if (start + n > this.wordFlat.length) {
      const grown = new Int32Array(Math.max(this.wordFlat.length * 2, start + n));
      grown.set(this.wordFlat);
      this.wordFlat = grown;
    }
    let special = false;
    if (tokens.length === 0) this.wordFlat[start] = this.wordId('');
    else {
      const flat = this.wordFlat;
      const specialWords = this.specialWords;
      const check = specialWords.size > 0;
      for (let i = 0; i < tokens.length; i++) {
        const id = this.wordId(tokens[i]);
        flat[start + i] = id;
        if (check && specialWords.has(id)) special = true;
      }
      // a word seen for the first time in this sentence may itself be special
      if (!special && !check && specialWords.size > 0) {
        for (let i = 0; i < tokens.length && !special; i++) special = specialWords.has(flat[start + i]);
      }
    }
    this.wordStarts.push(start + n);
    if (tokens.length === 0) return this.addIds(this.wordFlat, start, 0);
    if (!special) return this.addIds(this.wordFlat, start, tokens.length);
    const words = pySplit(tokens.join(' '));
    if (words.length > this.wordBuf.length) this.wordBuf = new Int32Array(words.length * 2);
    for (let i = 0; i < words.length; i++) this.wordBuf[i] = this.wordId(words[i]);
    return this.addIds(this.wordBuf, 0, words.length);
  }

  /** Adds a sentence given as text (split like Python's `split()`); returns its number. */
  add(text: string): number {
    return this.addWords(text.split(' '));
  }

  private addIds(wordIds: Int32Array, from: number, len: number): number {
    const s = this.lengths.length;
    this.lengths.push(len);
    const stride = this.maxN + 1;
    if ((s + 1) * stride > this.offsets.length) {
      const grown = new Int32Array(this.offsets.length * 2);
      grown.set(this.offsets);
      this.offsets = grown;
    }
    if (len > this.prevBuf.length) {
      this.prevBuf = new Int32Array(len * 2);
      this.curBuf = new Int32Array(len * 2);
    }
    const need = this.used + len * this.maxN;
    if (need > this.flatIds.length) {
      let size = this.flatIds.length * 2;
      while (size < need) size *= 2;
      const ids = new Int32Array(size);
      ids.set(this.flatIds.subarray(0, this.used));
      const counts = new Int32Array(size);
      counts.set(this.flatCounts.subarray(0, this.used));
      this.flatIds = ids;
      this.flatCounts = counts;
    }
    let prev = this.prevBuf;
    let cur = this.curBuf;
    let u = this.used;
    for (let n = 1; n <= this.maxN; n++) {
      const m = len - n + 1;
      this.offsets[s * stride + n - 1] = u;
      if (n === 1) for (let i = 0; i < m; i++) cur[i] = wordIds[from + i];
      else for (let i = 0; i < m; i++) cur[i] = this.extendId(prev[i], wordIds[from + i + n - 1]);
      if (m <= SHORT_SCAN) u = this.countByScan(cur, m, u);
      else u = this.countByStamp(cur, m, u, s + 1);
      const t = prev;
      prev = cur;
      cur = t;
    }
    this.used = u;
    this.offsets[s * stride + this.maxN] = u;
    return s;
  }

  /** Stores the distinct ids of `cur[0..m)` with their counts from `u` on, in first-occurrence order (a short list: scanned). */
  private countByScan(cur: Int32Array, m: number, u: number): number {
    const ids = this.flatIds;
    const counts = this.flatCounts;
    const from = u;
    for (let i = 0; i < m; i++) {
      const id = cur[i];
      let j = from;
      while (j < u && ids[j] !== id) j++;
      if (j < u) counts[j]++;
      else {
        ids[u] = id;
        counts[u] = 1;
        u++;
      }
    }
    return u;
  }

  /** `countByScan` for long lists: each id remembers where this sentence stored it (`stamp` = sentence number + 1). */
  private countByStamp(cur: Int32Array, m: number, u: number, stamp: number): number {
    const ids = this.flatIds;
    const counts = this.flatCounts;
    const seenIn = this.seenIn;
    const seenAt = this.seenAt;
    for (let i = 0; i < m; i++) {
      const id = cur[i];
      if (seenIn[id] === stamp) counts[seenAt[id]]++;
      else {
        seenIn[id] = stamp;
        seenAt[id] = u;
        ids[u] = id;
        counts[u] = 1;
        u++;
      }
    }
    return u;
  }

  private extendId(prefix: number, word: number): number {
    let mask = this.slots - 1;
    let table = this.table;
    const key = prefix + 1;
    let h = (Math.imul(prefix, 0x9e3779b1) ^ Math.imul(word, 0x85ebca6b)) & mask;
    for (;;) {
      const p = table[h * 3];
      if (p === 0) break;
      if (p === key && table[h * 3 + 1] === word) return table[h * 3 + 2];
      h = (h + 1) & mask;
    }
    const id = this.newId();
    if (this.filled + 1 > this.slots * MAX_LOAD) {
      this.grow();
      mask = this.slots - 1;
      table = this.table;
      h = (Math.imul(prefix, 0x9e3779b1) ^ Math.imul(word, 0x85ebca6b)) & mask;
      while (table[h * 3] !== 0) h = (h + 1) & mask;
    }
    table[h * 3] = key;
    table[h * 3 + 1] = word;
    table[h * 3 + 2] = id;
    this.filled++;
    return id;
  }

  private grow(): void {
    const old = this.table;
    const size = this.slots * 2;
    const mask = size - 1;
    const table = new Int32Array(size * 3);
    for (let i = 0; i < old.length; i += 3) {
      const p = old[i];
      if (p === 0) continue;
      let h = (Math.imul(p - 1, 0x9e3779b1) ^ Math.imul(old[i + 1], 0x85ebca6b)) & mask;
      while (table[h * 3] !== 0) h = (h + 1) & mask;
      table[h * 3] = p;
      table[h * 3 + 1] = old[i + 1];
      table[h * 3 + 2] = old[i + 2];
    }
    this.table = table;
    this.slots = size;
  }
}
