import { describe, expect, it } from 'vitest';
import { bleuFromStats, computeBleu } from './bleu-scorer';
import { NgramIndex } from './ngrams';

describe('bleuFromStats', () => {
  it('should give the coco-caption demo scores from its published totals', () => {
    const b = bleuFromStats({ reflen: 9855, testlen: 9893, guess: [9893, 8893, 7893, 6893], correct: [5732, 2510, 1043, 423] });
    expect(b.map((x) => x.toFixed(3))).toEqual(['0.579', '0.404', '0.279', '0.191']);
  });
  it('should apply the brevity penalty (ruizewang val2017 notebook totals)', () => {
    const b = bleuFromStats({ testlen: 50543, reflen: 50023, guess: [50543, 45554, 40565, 35576], correct: [23190, 5560, 632, 127] });
    expect(b.map((x) => x.toFixed(3))).toEqual(['0.459', '0.237', '0.096', '0.042']);
  });
});

describe('computeBleu', () => {
  it('should clip counts, pick the closest reference length (ties to the shorter) and sum totals', () => {
    const index = new NgramIndex(4);
    const cand = [index.add('the the the cat'), index.add('a dog')];
    const refs = [[index.add('the cat'), index.add('the cat sat here now')], [index.add('a dog runs'), index.add('a')]];
    const r = computeBleu(index, cand, refs);
    // image 0: testlen 4, ref lengths 2 and 5 → closest is 5 (|4-5| < |4-2|); 'the' clipped to 1
    // image 1: testlen 2, ref lengths 3 and 1 → tie at distance 1 → the shorter, 1
    expect(r.stats).toEqual({ testlen: 6, reflen: 6, guess: [6, 4, 2, 1], correct: [4, 2, 0, 0] });
    expect(r.perImage[0][0]).toBeCloseTo(0.5 * Math.exp(1 - 5 / 4), 8);
    expect(r.perImage[0][1]).toBeCloseTo(1, 8);
  });
  it('should count the n-grams of long sentences as of short ones (both ways of de-duplicating give the same totals)', () => {
    // 'a b' repeated: 60 words, far over the length up to which a sentence's n-grams are de-duplicated by scanning
    const long = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? 'a' : 'b')).join(' ');
    const index = new NgramIndex(4);
    const cand = [index.add(long), index.add('a b a b a')];
    const refs = [[index.add('a b a b a b')], [index.add('a b a b a b')]];
    const r = computeBleu(index, cand, refs);
    // image 0: every order clips to the reference's counts: a:3 b:3 → 6; ab:3 ba:2 → 5; aba:2 bab:2 → 4; abab:2 baba:1 → 3
    // image 1: a:3 b:2 → 5; ab:2 ba:2 → 4; aba:2 bab:1 → 3; abab:1 baba:1 → 2
    expect(r.stats.correct).toEqual([11, 9, 7, 5]);
    expect(r.stats.guess).toEqual([65, 63, 61, 59]);
  });
});
