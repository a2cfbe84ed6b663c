/**
 * `exp` and `pow` rounded correctly to the nearest double (computed in double-double arithmetic, ~106 bits).
 *
 * The reference's BLEU runs through the C library's `exp`/`pow` (glibc: correctly rounded except within a tiny
 * distance of a rounding midpoint), while V8's `Math.exp`/`**` (fdlibm ports) are off by one ulp for many more
 * arguments. Correctly rounded versions make per-image BLEU equal the reference's bit for bit almost everywhere.
 *
 * Written without allocations: every double-double operation leaves its result in `H` (high) and `L` (low).
 */

let H = 0;
let L = 0;
const SPLITTER = 134217729; // 2^27 + 1

/** H,L ← (ah,al) + (bh,bl) */
function add(ah: number, al: number, bh: number, bl: number): void {
  let s = ah + bh;
  let bb = s - ah;
  const e1 = ah - (s - bb) + (bh - bb);
  let t = al + bl;
  bb = t - al;
  const e2 = al - (t - bb) + (bl - bb);
  let lo = e1 + t;
  let hi = s + lo;
  lo = lo - (hi - s);
  s = hi;
  lo += e2;
  hi = s + lo;
  t = lo - (hi - s);
  H = hi;
  L = t;
}

/** H,L ← exact a·b */
function twoProd(a: number, b: number): void {
  const p = a * b;
  let t = SPLITTER * a;
  const ahi = t - (t - a);
  const alo = a - ahi;
  t = SPLITTER * b;
  const bhi = t - (t - b);
  const blo = b - bhi;
  H = p;
  L = ahi * bhi - p + ahi * blo + alo * bhi + alo * blo;
}

/** H,L ← (ah,al)·(bh,bl) */
function mul(ah: number, al: number, bh: number, bl: number): void {
  twoProd(ah, bh);
  const p = H;
  const e = L + (ah * bl + al * bh);
  H = p + e;
  L = e - (H - p);
}

/** H,L ← (ah,al)/(bh,bl) */
function div(ah: number, al: number, bh: number, bl: number): void {
  const q1 = ah / bh;
  mul(bh, bl, q1, 0);
  add(ah, al, -H, -L);
  const rh = H;
  const rl = L;
  const q2 = rh / bh;
  mul(bh, bl, q2, 0);
  add(rh, rl, -H, -L);
  const q3 = H / bh;
  const s = q1 + q2;
  add(s, q2 - (s - q1), q3, 0);
}

const LN2_HI = 0.6931471805599453;
const LN2_LO = 2.3190468138462996e-17;
const TERMS = 12;
const INV_FACT_HI = new Float64Array(TERMS + 1);
const INV_FACT_LO = new Float64Array(TERMS + 1);
{
  let fh = 1;
  let fl = 0;
  INV_FACT_HI[0] = 1;
  for (let i = 1; i <= TERMS; i++) {
    div(fh, fl, i, 0);
    fh = H;
    fl = L;
    INV_FACT_HI[i] = fh;
    INV_FACT_LO[i] = fl;
  }
}

/** H,L ← exp(xh, xl). Assumes the result is a normal double. */
function ddExp(xh: number, xl: number): void {
  const k = Math.round(xh / LN2_HI);
  // r = x − k·ln2, scaled by 2^-8 so that the Taylor series converges in a few terms
  mul(LN2_HI, LN2_LO, -k, 0);
  add(xh, xl, H, L);
  const sh = H / 256;
  const sl = L / 256;
  // exp(s) − 1 by Horner, kept as e so that squaring keeps precision: (1 + e)^2 − 1 = 2e + e^2
  let ph = INV_FACT_HI[TERMS];
  let pl = INV_FACT_LO[TERMS];
  for (let i = TERMS - 1; i >= 1; i--) {
    mul(ph, pl, sh, sl);
    add(H, L, INV_FACT_HI[i], INV_FACT_LO[i]);
    ph = H;
    pl = L;
  }
  mul(ph, pl, sh, sl);
  let eh = H;
  let el = L;
  for (let i = 0; i < 8; i++) {
    mul(eh, el, eh, el);
    add(2 * eh, 2 * el, H, L);
    eh = H;
    el = L;
  }
  add(1, 0, eh, el);
  const scale = 2 ** k;
  H *= scale;
  L *= scale;
}

/** exp(x) correctly rounded (for results in the normal double range; otherwise `Math.exp`). */
export function correctlyRoundedExp(x: number): number {
  if (!Number.isFinite(x) || x < -708 || x > 709) return Math.exp(x);
  ddExp(x, 0);
  return H + L;
}

/** b ** e correctly rounded, for finite b > 0 with a result in the normal double range; otherwise `b ** e`. */
export function correctlyRoundedPow(b: number, e: number): number {
  if (!(b > 0) || !Number.isFinite(b) || !Number.isFinite(e) || b < 1e-300 || b > 1e300) return b ** e;
  if (b === 1 || e === 0) return 1;
  if (e === 1) return b;
  if (e === 0.5) return Math.sqrt(b); // IEEE square root is correctly rounded
  // log(b) in double-double: one Newton step from Math.log, y + (b / exp(y) − 1)
  const y = Math.log(b);
  ddExp(y, 0);
  div(b, 0, H, L);
  add(H, L, -1, 0);
  add(y, 0, H, L);
  mul(H, L, e, 0);
  if (H < -708 || H > 709) return b ** e;
  ddExp(H, L);
  return H + L;
}
