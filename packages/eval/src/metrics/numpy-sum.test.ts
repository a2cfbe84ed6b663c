import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { numpyMean, pairwiseSum } from './numpy-sum';

function numpyAvailable(): boolean {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('pairwiseSum', () => {
  it('should sum small arrays left to right', () => {
    expect(pairwiseSum([0.1, 0.2, 0.3])).toBe(0.1 + 0.2 + 0.3);
  });
  it('should combine eight accumulators for 8..128 elements', () => {
    const a = Array.from({ length: 20 }, (_, i) => 0.1 * (i + 1));
    const r = a.slice(0, 8);
    for (let i = 8; i < 16; i++) r[i % 8] += a[i];
    let expected = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (let i = 16; i < 20; i++) expected += a[i];
    expect(pairwiseSum(a)).toBe(expected);
  });
  it('should equal numpy.mean bit for bit', (ctx) => {
    if (!numpyAvailable()) {
      console.warn('[skip] python3 with numpy not available');
      ctx.skip();
    }
    const values = Array.from({ length: 1000 }, (_, i) => Math.sin(i * 1.7) * 1e3 + 1 / (i + 3));
    for (const n of [5, 8, 13, 128, 129, 1000]) {
      const slice = values.slice(0, n);
      const out = execFileSync('python3', ['-c', 'import sys,json,numpy; print(repr(float(numpy.mean(numpy.array(json.load(sys.stdin))))))'], {
        input: JSON.stringify(slice),
      });
      expect(numpyMean(slice)).toBe(Number(out.toString().trim()));
    }
  });
});
