/** Python's `str.split()` (no argument): runs of Unicode whitespace as Python's `str.isspace` defines it. */
// eslint-disable-next-line no-control-regex -- these control characters are whitespace/line breaks to the reference
const PY_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

export function pySplit(text: string): string[] {
  const parts = text.split(PY_WHITESPACE);
  if (parts.length > 0 && parts[0] === '') parts.shift();
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/**
 * Interns words and n-grams into dense integer ids shared by every sentence of one evaluation, so that scorers can
 * use typed arrays instead of hash maps.
 */
export class NgramIndex {
  readonly maxN: number;
  private readonly words = new Map<string, number>();
  /** Open-addressing hash table (prefix id, word id) → n-gram id; prefix = the (n-1)-gram, unigram ids = word ids. */
  private keyPrefix = new Int32Array(1 << 16).fill(-1);
  private keyWord = new Int32Array(1 << 16);
  private value = new Int32Array(1 << 16);
  private filled = 0;
  private next = 0;
  /** n-gram order of every id. */
  private orders: Uint8Array = new Uint8Array(1024);

  constructor(maxN = 4) {
    this.maxN = maxN;
  }

  get size(): number {
    return this.next;
  }

  orderOf(id: number): number {
    return this.orders[id];
  }

  private newId(order: number): number {
    const id = this.next++;
    if (id >= this.orders.length) {
      const grown = new Uint8Array(this.orders.length * 2);
      grown.set(this.orders);
      this.orders = grown;
    }
    this.orders[id] = order;
    return id;
  }

  private extendId(prefix: number, word: number, order: number): number {
    let mask = this.keyPrefix.length - 1;
    let h = (Math.imul(prefix, 0x9e3779b1) ^ Math.imul(word, 0x85ebca6b)) & mask;
    for (;;) {
      const p = this.keyPrefix[h];
      if (p === -1) break;
      if (p === prefix && this.keyWord[h] === word) return this.value[h];
      h = (h + 1) & mask;
    }
    const id = this.newId(order);
    if ((this.filled + 1) * 2 > this.keyPrefix.length) {
      this.grow();
      mask = this.keyPrefix.length - 1;
      h = (Math.imul(prefix, 0x9e3779b1) ^ Math.imul(word, 0x85ebca6b)) & mask;
      while (this.keyPrefix[h] !== -1) h = (h + 1) & mask;
    }
    this.keyPrefix[h] = prefix;
    this.keyWord[h] = word;
    this.value[h] = id;
    this.filled++;
    return id;
  }

  private grow(): void {
    const oldPrefix = this.keyPrefix;
    const oldWord = this.keyWord;
    const oldValue = this.value;
    const size = oldPrefix.length * 2;
    const mask = size - 1;
    this.keyPrefix = new Int32Array(size).fill(-1);
    this.keyWord = new Int32Array(size);
    this.value = new Int32Array(size);
    for (let i = 0; i < oldPrefix.length; i++) {
      const p = oldPrefix[i];
      if (p === -1) continue;
      let h = (Math.imul(p, 0x9e3779b1) ^ Math.imul(oldWord[i], 0x85ebca6b)) & mask;
      while (this.keyPrefix[h] !== -1) h = (h + 1) & mask;
      this.keyPrefix[h] = p;
      this.keyWord[h] = oldWord[i];
      this.value[h] = oldValue[i];
    }
  }

  private wordId(word: string): number {
    let id = this.words.get(word);
    if (id === undefined) {
      id = this.newId(1);
      this.words.set(word, id);
    }
    return id;
  }

  /** Number of sentences added. */
  get sentences(): number {
    return this.lengths.length;
  }

  /** Words in sentence `s` (`len(text.split())`). */
  lengthOf(s: number): number {
    return this.lengths[s];
  }

  /**
   * Start offset of sentence `s`'s order-`n` n-grams (1-based n) in `ids`/`counts`; they end at `start(s, n + 1)`.
   * Within an order, n-grams are distinct and in first-occurrence order (the reference's dict order).
   */
  start(s: number, n: number): number {
    return this.offsets[s * (this.maxN + 1) + n - 1];
  }

  /** Flat n-gram ids of all sentences (see `start`). */
  get ids(): Int32Array {
    return this.flatIds;
  }

  /** Flat counts parallel to `ids`. */
  get counts(): Int32Array {
    return this.flatCounts;
  }

  private lengths: number[] = [];
  private offsets = new Int32Array(5 * 1024);
  private flatIds = new Int32Array(1 << 16);
  private flatCounts = new Int32Array(1 << 16);
  private used = 0;
  private scratchPrev = new Int32Array(256);
  private scratchCur = new Int32Array(256);

  /** Adds a sentence, split on whitespace the way Python's `split()` does; returns its number. */
  add(text: string): number {
    const words = pySplit(text);
    const len = words.length;
    const s = this.lengths.length;
    this.lengths.push(len);
    const stride = this.maxN + 1;
    if ((s + 1) * stride > this.offsets.length) {
      const grown = new Int32Array(this.offsets.length * 2);
      grown.set(this.offsets);
      this.offsets = grown;
    }
    if (len > this.scratchPrev.length) {
      this.scratchPrev = new Int32Array(len * 2);
      this.scratchCur = new Int32Array(len * 2);
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
    let prev = this.scratchPrev;
    let cur = this.scratchCur;
    const wordIds = this.scratchWords(len);
    for (let i = 0; i < len; i++) wordIds[i] = this.wordId(words[i]);
    const ids = this.flatIds;
    const counts = this.flatCounts;
    for (let n = 1; n <= this.maxN; n++) {
      const m = Math.max(0, len - n + 1);
      if (n === 1) for (let i = 0; i < m; i++) cur[i] = wordIds[i];
      else for (let i = 0; i < m; i++) cur[i] = this.extendId(prev[i], wordIds[i + n - 1], n);
      const begin = this.used;
      this.offsets[s * stride + n - 1] = begin;
      // distinct ids in first-occurrence order with counts (sentences are short: a linear scan is fastest)
      let u = begin;
      for (let i = 0; i < m; i++) {
        const id = cur[i];
        let j = begin;
        while (j < u && ids[j] !== id) j++;
        if (j === u) {
          ids[u] = id;
          counts[u] = 1;
          u++;
        } else counts[j]++;
      }
      this.used = u;
      const t = prev;
      prev = cur;
      cur = t;
    }
    this.offsets[s * stride + this.maxN] = this.used;
    return s;
  }

  private words32 = new Int32Array(256);
  private scratchWords(len: number): Int32Array {
    if (len > this.words32.length) this.words32 = new Int32Array(len * 2);
    return this.words32;
  }
}
