/**
 * `pow` and `exp` bit for bit as glibc's (2.28 and later) on x86-64 with FMA: the functions pycocoevalcap's BLEU
 * goes through (`bleu ** (1/k)`, `math.exp(1 - 1/ratio)`), reproduced so that per-image BLEU equals the official
 * doubles everywhere — including where glibc is not correctly rounded (its documented bound is about 0.52 ulp).
 *
 * The algorithm is the ARM optimized-routines design that glibc ships: log(x) in double-double from a 128-entry
 * table (1/c, log c split in two) and a degree-8 polynomial, then exp of y·log(x) (with its tail) from a
 * 2^(j/128) table and a degree-5 polynomial. glibc selects an FMA build on CPUs with FMA (its ifunc
 * `__ieee754_pow_fma` / `__ieee754_exp_fma`), in which the compiler also fused several `a*b + c` of the C source;
 * the operation order and every fused multiply-add below follow that build's machine code. JavaScript has no
 * fused multiply-add, so `fma` is emulated exactly: Dekker's exact product, then a correctly rounded three-term
 * sum (Boldo & Melquiond's round-to-odd method).
 *
 * Tables: recomputed from their definitions by `libm-table-generator.ts` (see `libm-tables.ts`). The polynomial
 * coefficients below are minimax fits that cannot be recomputed exactly; they are carried as data from ARM's
 * optimized-routines (math/pow_log_data.c, math/exp_data.c), Copyright (c) 2018 Arm Limited, Apache-2.0
 * (later releases: MIT OR Apache-2.0 WITH LLVM-exception) — see NOTICE.
 */
import { EXP_H, EXP_T, INVLN2N, LN2HI, LN2LO, NEGLN2HIN, NEGLN2LON, POW_LOG_INVC, POW_LOG_LOGC, POW_LOG_LOGCTAIL } from './libm-tables';

// --- polynomial coefficients (ARM optimized-routines, see the header) ---
// log1p(r) ≈ r + A0·r² + …, scaled as the evaluation expects:
const A0 = -0.5; // -0x1p-1
const A1 = -0.6666666666666679; // 0x1.555555555556p-2 * -2
const A2 = 0.5000000000000007; // -0x1.0000000000006p-2 * -2
const A3 = 0.7999999995323976; // 0x1.999999959554ep-3 * 4
const A4 = -0.6666666663487739; // -0x1.555555529a47ap-3 * 4
const A5 = -1.142909628459501; // 0x1.2495b9b4845e9p-3 * -8
const A6 = 1.0000415263675542; // -0x1.0002b8b263fc3p-3 * -8
// exp(r) − 1 ≈ r + C2·r² + … + C5·r⁵
const C2 = 0.49999999999996786; // 0x1.ffffffffffdbdp-2
const C3 = 0.16666666666665886; // 0x1.555555555543cp-3
const C4 = 0.0416666808410674; // 0x1.55555cf172b91p-5
const C5 = 0.008333335853059549; // 0x1.1111167a4d017p-7

const SHIFT = 6755399441055744; // 0x1.8p52: adding it rounds to an integer
const SPLITTER = 134217729; // 2^27 + 1
const TWO_POW_52 = 4503599627370496;
const TWO_POW_53 = 9007199254740992;
const TWO_POW_1009 = 2 ** 1009;
const TWO_POW_M1022 = 2 ** -1022;

// Bit access to doubles (high and low 32-bit words).
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LO = LITTLE ? 0 : 1;
const HI = LITTLE ? 1 : 0;

function fromWords(hi: number, lo: number): number {
  U32[HI] = hi;
  U32[LO] = lo;
  return F64[0];
}

/** High 32 bits of the scale 2^(j/128) table entries, and the low 32 bits. */
const EXP_H_HI = new Int32Array(128);
const EXP_H_LO = new Uint32Array(128);
for (let j = 0; j < 128; j++) {
  F64[0] = EXP_H[j];
  EXP_H_HI[j] = U32[HI];
  EXP_H_LO[j] = U32[LO];
}

/**
 * a·b + c with a single rounding, for finite arguments whose product neither overflows nor comes near the
 * subnormal range (|a·b| ≥ 2^-960 or a·b = 0), as in every use here.
 */
export function fma(a: number, b: number, c: number): number {
  const p = a * b;
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  const pe = ah * bh - p + ah * bl + al * bh + al * bl; // p + pe = a·b exactly
  // s + se = c + p exactly
  const s = c + p;
  let bb = s - c;
  const se = c - (s - bb) + (p - bb);
  // v = se + pe rounded to odd: the exact sum's neighbour with an odd last bit when it is inexact
  const u = se + pe;
  bb = u - se;
  const ue = se - (u - bb) + (pe - bb);
  let v = u;
  if (ue !== 0 && u !== 0) {
    F64[0] = u;
    if ((U32[LO] & 1) === 0) {
      if (u > 0 === ue > 0) U32[LO] += 1; // even, so no carry
      else if (U32[LO] === 0) {
        U32[LO] = 0xffffffff;
        U32[HI] -= 1;
      } else U32[LO] -= 1;
      v = F64[0];
    }
  }
  return s + v;
}

const SIGN_BIAS = 0x80000000;

/** ±x·0x1p769·0x1p769 and ±0x1p-767·0x1p-767 as glibc's __math_oflow / __math_uflow (±inf, ±0). */
const overflow = (negative: boolean): number => (negative ? -Infinity : Infinity);
const underflow = (negative: boolean): number => (negative ? -0 : 0);

/**
 * sign · exp(x + xtail), the shared tail of glibc's exp and pow (`exp_inline`), FMA build. `signBias` is 0 or
 * SIGN_BIAS (negative result).
 */
function expInline(x: number, xtail: number, signBias: number): number {
  F64[0] = x;
  const top = U32[HI] >>> 20;
  let abstop = top & 0x7ff;
  if (((abstop - 0x3c9) >>> 0) >= 0x3f) {
    if (abstop < 0x3c9) {
      // |x| < 2^-54
      const one = 1 + x;
      return signBias ? -one : one;
    }
    if (abstop >= 0x409) return top >= 0x800 ? underflow(signBias !== 0) : overflow(signBias !== 0);
    abstop = 0; // large |x|: scaled carefully below
  }
  // exp(x) = 2^(k/128)·exp(r), x = k·ln2/128 + r
  const kd = fma(x, INVLN2N, SHIFT) - SHIFT;
  let r = fma(kd, NEGLN2HIN, x);
  r = fma(kd, NEGLN2LON, r);
  r += xtail;
  const k = kd | 0;
  const j = k & 127;
  const scaleHi = (EXP_H_HI[j] + ((k >> 7) << 20) + signBias) | 0;
  const scaleLo = EXP_H_LO[j];
  const r2 = r * r;
  const p23 = fma(r, C3, C2);
  const head = r + EXP_T[j];
  const p45 = fma(r, C5, C4);
  const tmp = fma(p45, r2 * r2, fma(p23, r2, head));
  if (abstop !== 0) {
    const scale = fromWords(scaleHi, scaleLo);
    return fma(tmp, scale, scale);
  }
  // the result may overflow or be subnormal: compute scale·(1 + tmp) away from the edges, then scale back
  if (k >= 0) {
    const scale = fromWords((scaleHi - (1009 << 20)) | 0, scaleLo);
    return TWO_POW_1009 * fma(tmp, scale, scale);
  }
  const sHi = (scaleHi + (1022 << 20)) | 0;
  const scale = fromWords(sHi, scaleLo);
  const st = tmp * scale;
  let y = scale + st;
  if (Math.abs(y) < 1) {
    // round to 53 bits before scaling into the subnormal range (no double rounding)
    const one = y < 0 ? -1 : 1;
    let lo = scale - y + st;
    const hi = y + one;
    lo = one - hi + y + lo;
    y = lo + hi - one;
    if (y === 0) y = sHi < 0 ? -0 : 0;
  }
  return y * TWO_POW_M1022;
}

/** 0: not an integer, 1: odd integer, 2: even integer (y finite, non-zero). */
function checkInt(y: number): number {
  if (!Number.isInteger(y)) return 0;
  return Math.abs(y) < TWO_POW_53 && y % 2 !== 0 ? 1 : 2;
}

/** e^x exactly as glibc's `exp` (FMA build): the value Python's `math.exp` returns on such a machine. */
export function glibcExp(x: number): number {
  F64[0] = x;
  const abstop = (U32[HI] >>> 20) & 0x7ff;
  if (((abstop - 0x3c9) >>> 0) >= 0x3f && abstop >= 0x409) {
    if (x === -Infinity) return 0;
    if (abstop >= 0x7ff) return 1 + x; // +inf, NaN
    return x < 0 ? 0 : Infinity;
  }
  return expInline(x, 0, 0);
}

/** x^y exactly as glibc's `pow` (FMA build): the value Python's `x ** y` returns for x > 0 on such a machine. */
export function glibcPow(x: number, y: number): number {
  F64[0] = x;
  let ixHi = U32[HI] | 0;
  let ixLo = U32[LO];
  F64[0] = y;
  const topy = U32[HI] >>> 20;
  let topx = ixHi >>> 20;
  let signBias = 0;
  if (((topx - 1) >>> 0) >= 0x7fe || (((topy & 0x7ff) - 0x3be) >>> 0) >= 0x80) {
    // x ≤ 0, subnormal, inf or NaN; or |y| < 2^-65, |y| ≥ 2^63, inf or NaN
    if (y === 0 || !Number.isFinite(y)) {
      if (y === 0) return 1;
      if (x === 1) return 1;
      if (Number.isNaN(x) || Number.isNaN(y)) return x + y;
      if (x === -1) return 1;
      if (Math.abs(x) < 1 === y > 0) return 0; // |x| < 1 and y = +inf, or |x| > 1 and y = −inf
      return y * y;
    }
    if (x === 0 || !Number.isFinite(x)) {
      let x2 = x * x;
      if (x < 0 || Object.is(x, -0)) {
        if (checkInt(y) === 1) x2 = -x2;
      }
      return y < 0 ? 1 / x2 : x2;
    }
    // x and y finite, non-zero
    if (x < 0) {
      const yint = checkInt(y);
      if (yint === 0) return Number.NaN;
      if (yint === 1) signBias = SIGN_BIAS;
      ixHi &= 0x7fffffff;
      topx &= 0x7ff;
    }
    if ((((topy & 0x7ff) - 0x3be) >>> 0) >= 0x80) {
      // here y is not odd, so the sign is +
      const absx = Math.abs(x);
      if (absx === 1) return 1;
      if ((topy & 0x7ff) < 0x3be) return absx > 1 ? 1 + y : 1 - y; // |y| < 2^-65
      return absx > 1 === topy < 0x800 ? Infinity : 0;
    }
    if (topx === 0) {
      // subnormal x: normalise, letting the exponent go negative
      F64[0] = x * TWO_POW_52;
      ixHi = ((U32[HI] & 0x7fffffff) - (52 << 20)) | 0;
      ixLo = U32[LO];
    }
  }

  // log(x) = k·ln2 + log(c) + log1p(z/c − 1), x = 2^k·z, z ∈ [0x1.69555p-1, 0x1.69555p0)
  const tmpHi = (ixHi - 0x3fe69555) | 0;
  const i = (tmpHi >>> 13) & 127;
  const k = tmpHi >> 20;
  const z = fromWords((ixHi - (tmpHi & 0xfff00000)) | 0, ixLo);
  const invc = POW_LOG_INVC[i];
  const t1 = fma(k, LN2HI, POW_LOG_LOGC[i]);
  const lo1 = fma(k, LN2LO, POW_LOG_LOGCTAIL[i]);
  const r = fma(z, invc, -1); // exact
  const ar = r * A0;
  const q1 = fma(r, A2, A1);
  const q3 = fma(r, A4, A3);
  const t2 = r + t1;
  const ar2 = r * ar;
  const lo2 = t1 - t2 + r;
  const ar3 = r * ar2;
  const lo3 = fma(ar, r, -ar2);
  const q5 = fma(r, A6, A5);
  const hi = t2 + ar2;
  const lo4 = t2 - hi + ar2;
  const q = fma(ar2, fma(q5, ar2, q3), q1);
  const lo = fma(ar3, q, lo1 + lo2 + lo3 + lo4);
  const logHi = hi + lo;
  const logLo = hi - logHi + lo;
  // y·log(x) in double-double, then exp
  const ehi = y * logHi;
  const elo = fma(y, logLo, fma(logHi, y, -ehi));
  return expInline(ehi, elo, signBias);
}
