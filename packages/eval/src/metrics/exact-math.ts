/**
 * `exp` and `pow` rounded correctly to the nearest double (computed in double-double arithmetic, ~106 bits).
 *
 * The reference's BLEU runs through the C library's `exp`/`pow` (glibc: correctly rounded in practice), while
 * V8's `Math.exp`/`**` (fdlibm ports) are off by one ulp for some arguments. Using correctly rounded versions
 * makes per-image BLEU equal the reference bit for bit.
 */

const SPLITTER = 134217729; // 2^27 + 1

interface DD {
  hi: number;
  lo: number;
}

function twoSum(a: number, b: number): DD {
  const s = a + b;
  const bb = s - a;
  return { hi: s, lo: a - (s - bb) + (b - bb) };
}

function quickTwoSum(a: number, b: number): DD {
  const s = a + b;
  return { hi: s, lo: b - (s - a) };
}

function twoProd(a: number, b: number): DD {
  const p = a * b;
  let t = SPLITTER * a;
  const ahi = t - (t - a);
  const alo = a - ahi;
  t = SPLITTER * b;
  const bhi = t - (t - b);
  const blo = b - bhi;
  return { hi: p, lo: ahi * bhi - p + ahi * blo + alo * bhi + alo * blo };
}

function ddAdd(a: DD, b: DD): DD {
  const s = twoSum(a.hi, b.hi);
  const t = twoSum(a.lo, b.lo);
  let r = quickTwoSum(s.hi, s.lo + t.hi);
  r = quickTwoSum(r.hi, r.lo + t.lo);
  return r;
}

function ddMul(a: DD, b: DD): DD {
  const p = twoProd(a.hi, b.hi);
  return quickTwoSum(p.hi, p.lo + (a.hi * b.lo + a.lo * b.hi));
}

function ddMulNum(a: DD, b: number): DD {
  const p = twoProd(a.hi, b);
  return quickTwoSum(p.hi, p.lo + a.lo * b);
}

function ddDiv(a: DD, b: DD): DD {
  const q1 = a.hi / b.hi;
  let r = ddAdd(a, ddMulNum(b, -q1));
  const q2 = r.hi / b.hi;
  r = ddAdd(r, ddMulNum(b, -q2));
  const q3 = r.hi / b.hi;
  return ddAdd(quickTwoSum(q1, q2), { hi: q3, lo: 0 });
}

const LN2: DD = { hi: 0.6931471805599453, lo: 2.3190468138462996e-17 };
const INV_FACT: DD[] = (() => {
  // 1/i! in double-double, i = 0..20
  const out: DD[] = [{ hi: 1, lo: 0 }];
  let f: DD = { hi: 1, lo: 0 };
  for (let i = 1; i <= 20; i++) {
    f = ddDiv(f, { hi: i, lo: 0 });
    out.push(f);
  }
  return out;
})();

/** exp of a double-double argument, as a double-double. Assumes the result is a normal double. */
function ddExp(x: DD): DD {
  const k = Math.round(x.hi / LN2.hi);
  // r = x - k·ln2, then r / 2^8 so that the Taylor series converges in a few terms
  const r = ddAdd(x, ddMulNum(LN2, -k));
  const SQUARINGS = 8;
  const s: DD = { hi: r.hi / 256, lo: r.lo / 256 };
  // Taylor series of exp(s) - 1 (|s| < 0.0014): Horner in double-double
  let sum: DD = INV_FACT[12];
  for (let i = 11; i >= 1; i--) sum = ddAdd(ddMul(sum, s), INV_FACT[i]);
  let em1 = ddMul(sum, s); // exp(s) - 1, kept small to preserve precision while squaring
  for (let i = 0; i < SQUARINGS; i++) {
    // (1 + e)^2 - 1 = 2e + e^2
    em1 = ddAdd(ddMulNum(em1, 2), ddMul(em1, em1));
  }
  const result = ddAdd({ hi: 1, lo: 0 }, em1);
  const scale = 2 ** k;
  return { hi: result.hi * scale, lo: result.lo * scale };
}

/** exp(x) correctly rounded (for results in the normal double range; otherwise `Math.exp`). */
export function correctlyRoundedExp(x: number): number {
  if (!Number.isFinite(x) || x < -708 || x > 709) return Math.exp(x);
  const r = ddExp({ hi: x, lo: 0 });
  return r.hi + r.lo;
}

/** Natural log of a positive double, as a double-double (one Newton step from `Math.log`). */
function ddLog(b: number): DD {
  const y = Math.log(b);
  const e = ddExp({ hi: y, lo: 0 });
  const ratio = ddDiv({ hi: b, lo: 0 }, e);
  return ddAdd({ hi: y, lo: 0 }, ddAdd(ratio, { hi: -1, lo: 0 }));
}

/** b ** e correctly rounded, for finite b > 0 with a result in the normal double range; otherwise `b ** e`. */
export function correctlyRoundedPow(b: number, e: number): number {
  if (!(b > 0) || !Number.isFinite(b) || !Number.isFinite(e) || b < 1e-300 || b > 1e300) return b ** e;
  if (b === 1 || e === 0) return 1;
  if (e === 1) return b;
  const p = ddMulNum(ddLog(b), e);
  if (p.hi < -708 || p.hi > 709) return b ** e;
  const r = ddExp(p);
  return r.hi + r.lo;
}
