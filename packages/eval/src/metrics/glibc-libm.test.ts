import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fma, glibcExp, glibcPow } from './glibc-libm';

interface Cases {
  pow: { why: string; x: string; y: string; result: string }[];
  exp: { why: string; x: string; result: string }[];
}
const cases = JSON.parse(readFileSync(join(__dirname, '..', '__fixtures__', 'glibc-libm-cases.json'), 'utf8')) as Cases;
const view = new DataView(new ArrayBuffer(8));
const fromHex = (h: string): number => {
  view.setBigUint64(0, BigInt(`0x${h}`));
  return view.getFloat64(0);
};
const toHex = (x: number): string => {
  view.setFloat64(0, x);
  return view.getBigUint64(0).toString(16).padStart(16, '0');
};
/** Bit pattern, with every NaN as one pattern. */
const bitsOf = (x: number): string => (Number.isNaN(x) ? 'nan' : toHex(x));

describe('glibcPow', () => {
  it('should return glibc’s bits where glibc is not correctly rounded (BLEU exponents 1/2, 1/3, 1/4 on (0, 1])', () => {
    const hard = cases.pow.filter((c) => c.why !== 'edge');
    expect(hard.length).toBeGreaterThanOrEqual(40);
    for (const c of hard) expect(toHex(glibcPow(fromHex(c.x), fromHex(c.y))), `${fromHex(c.x)} ** ${fromHex(c.y)}`).toBe(c.result);
  });

  it('should follow glibc on subnormal and overflowing results, negative and subnormal bases, zeros, infinities and NaN', () => {
    const edges = cases.pow.filter((c) => c.why === 'edge');
    expect(edges.length).toBeGreaterThan(20);
    for (const c of edges) expect(bitsOf(glibcPow(fromHex(c.x), fromHex(c.y))), `${fromHex(c.x)} ** ${fromHex(c.y)}`).toBe(bitsOf(fromHex(c.result)));
  });

  it('should be exact where the result is representable', () => {
    expect(glibcPow(0.25, 0.5)).toBe(0.5);
    expect(glibcPow(0.125, 1 / 3)).toBe(0.5);
    expect(glibcPow(0.0625, 0.25)).toBe(0.5);
    expect(glibcPow(1, 0.3)).toBe(1);
    expect(glibcPow(2, 10)).toBe(1024);
    expect(glibcPow(-2, 3)).toBe(-8);
  });
});

describe('glibcExp', () => {
  it('should return glibc’s bits where glibc is not correctly rounded (the brevity penalty range) and at the edges', () => {
    expect(cases.exp.filter((c) => c.why !== 'edge').length).toBeGreaterThanOrEqual(10);
    for (const c of cases.exp) expect(bitsOf(glibcExp(fromHex(c.x))), `exp(${fromHex(c.x)})`).toBe(bitsOf(fromHex(c.result)));
  });

  it('should be 1 at 0 and e at 1', () => {
    expect(glibcExp(0)).toBe(1);
    expect(glibcExp(1)).toBe(Math.E);
  });
});

describe('fma', () => {
  it('should round a·b + c once (values from the C library’s fma)', () => {
    const e = 2 ** -52;
    expect(fma(0.1, 10, -1)).toBe(5.551115123125783e-17);
    expect(fma(1 + e, 1 + e, -1)).toBe(4.440892098500626e-16);
    expect(fma(1 + e, 1 - e, -1)).toBe(-4.930380657631324e-32);
    expect(fma(3, 1 / 3, -1)).toBe(-5.551115123125783e-17);
    expect(fma(1e16 + 2, 1e16 - 2, -1e32)).toBe(-5366162204393476);
    expect(fma(-(1 + e), 1 + 2 * e, 1)).toBe(-6.66133814775094e-16);
  });
});
