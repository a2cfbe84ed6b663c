/**
 * Regenerates the lookup tables of glibc's `pow`/`exp` (the ARM optimized-routines design that glibc ≥ 2.28
 * ships) from their definitions, in exact BigInt fixed-point arithmetic (256 fraction bits):
 *
 * - log table of `pow` (128 entries): the reduced argument z ∈ [0x1.69555p-1, 0x1.69555p0) is split into 128
 *   subintervals by the top 7 mantissa bits of `ix - 0x3fe6955500000000`; for subinterval i with value center m,
 *   `invc = m < 1 ? round(128/m)/128 : round(256/m)/256` (so z·invc − 1 is exact), `logc = round(2^43·log c)/2^43`
 *   (so k·ln2hi + logc is exact) and `logctail = RN(log c − logc)`, with c = 1/invc.
 * - exp table (128 entries): `2^(j/128) ≈ H[j]·(1 + T[j])` with `H[j] = RN(2^(j/128))`, `T[j] = RN(2^(j/128)/H[j] − 1)`.
 * - the split constants: ln2hi = ln2 rounded to a multiple of 2^-42, ln2lo = RN(ln2 − ln2hi);
 *   128/ln2 rounded; −ln2/128 split as a multiple of 2^-44 plus RN(rest).
 *
 * Not part of the runtime: `libm-tables.ts` holds the output (written by `npm run generate:libm-tables`), and
 * `libm-tables.test.ts` checks that it equals what this generator produces.
 */

const P = 256n;
const ONE = 1n << P;

const view = new DataView(new ArrayBuffer(8));
function bitsToDouble(bits: bigint): number {
  view.setBigUint64(0, BigInt.asUintN(64, bits));
  return view.getFloat64(0);
}
function doubleToBits(x: number): bigint {
  view.setFloat64(0, x);
  return view.getBigUint64(0);
}

/** 2^e as a double, exactly (normal range). */
function pow2(e: number): number {
  return bitsToDouble(BigInt(e + 1023) << 52n);
}

function bitLength(a: bigint): number {
  return a === 0n ? 0 : a.toString(2).length;
}

/** The double nearest to v·2^-P (ties to even; v is an approximation far from ties in all uses here). */
function fixedToDouble(v: bigint): number {
  if (v === 0n) return 0;
  const neg = v < 0n;
  const a = neg ? -v : v;
  const shift = bitLength(a) - 53;
  let m: bigint;
  if (shift > 0) {
    m = a >> BigInt(shift);
    const rem = a & ((1n << BigInt(shift)) - 1n);
    const half = 1n << BigInt(shift - 1);
    if (rem > half || (rem === half && (m & 1n) === 1n)) m += 1n;
  } else m = a << BigInt(-shift);
  const d = Number(m) * pow2(shift - Number(P));
  return neg ? -d : d;
}

/** A double as an exact fixed-point value (its ulp must be ≥ 2^-P). */
function doubleToFixed(x: number): bigint {
  const bits = doubleToBits(Math.abs(x));
  const e = Number(bits >> 52n);
  const frac = bits & ((1n << 52n) - 1n);
  const m = e === 0 ? frac : frac | (1n << 52n);
  const exp = (e === 0 ? 1 : e) - 1075 + Number(P);
  const v = exp >= 0 ? m << BigInt(exp) : m >> BigInt(-exp);
  return x < 0 ? -v : v;
}

/** log(num/den) in fixed point, via 2·atanh((num − den)/(num + den)). */
function fixedLog(num: bigint, den: bigint): bigint {
  const t = ((num - den) << P) / (num + den);
  const t2 = (t * t) >> P;
  let term = t;
  let sum = 0n;
  for (let n = 1n; term !== 0n; n += 2n) {
    sum += term / n;
    term = (term * t2) / ONE; // truncates towards zero, so a negative term also reaches 0
  }
  return 2n * sum;
}

/** exp(v) in fixed point for |v| ≤ 1 (Taylor series). */
function fixedExp(v: bigint): bigint {
  let sum = ONE;
  let term = ONE;
  for (let n = 1n; term !== 0n; n++) {
    term = (term * v) / (n << P);
    sum += term;
  }
  return sum;
}

/** Nearest multiple of 2^-bits (ties away from zero; never a tie here). */
function roundToMultiple(v: bigint, bits: number): bigint {
  const s = P - BigInt(bits);
  const half = 1n << (s - 1n);
  const q = v >= 0n ? (v + half) >> s : -((-v + half) >> s);
  return q << s;
}

export interface LibmTables {
  /** pow's log: ln2 split, per-entry 1/c, log(c) rounded to 2^-43 and its tail. */
  ln2hi: number;
  ln2lo: number;
  invc: number[];
  logc: number[];
  logctail: number[];
  /** exp: 128/ln2, −ln2/128 split, 2^(j/128) ≈ H[j]·(1 + T[j]). */
  invln2N: number;
  negln2hiN: number;
  negln2loN: number;
  expH: number[];
  expT: number[];
}

const POW_LOG_OFF = 0x3fe6955500000000n;

export function generateLibmTables(): LibmTables {
  const ln2 = fixedLog(2n, 1n);
  const ln2hiFixed = roundToMultiple(ln2, 42);
  const invc: number[] = [];
  const logc: number[] = [];
  const logctail: number[] = [];
  for (let i = 0; i < 128; i++) {
    const lo = bitsToDouble(POW_LOG_OFF + (BigInt(i) << 45n));
    const hi = bitsToDouble(POW_LOG_OFF + (BigInt(i + 1) << 45n));
    const center = (lo + hi) / 2;
    const denom = center < 1 ? 128 : 256;
    const j = Math.round(denom / center);
    invc.push(j / denom);
    // log c = −log(invc) = log(denom / j)
    const logC = fixedLog(BigInt(denom), BigInt(j));
    const logcFixed = roundToMultiple(logC, 43);
    logc.push(fixedToDouble(logcFixed));
    logctail.push(fixedToDouble(logC - logcFixed));
  }
  const expH: number[] = [];
  const expT: number[] = [];
  for (let j = 0; j < 128; j++) {
    const v = fixedExp((ln2 * BigInt(j)) / 128n);
    const h = fixedToDouble(v);
    expH.push(h);
    expT.push(fixedToDouble((v << P) / doubleToFixed(h) - ONE));
  }
  const ln2by128 = ln2 / 128n;
  const negln2hiFixed = roundToMultiple(ln2by128, 44);
  return {
    ln2hi: fixedToDouble(ln2hiFixed),
    ln2lo: fixedToDouble(ln2 - ln2hiFixed),
    invln2N: fixedToDouble((ONE << P) / ln2by128),
    negln2hiN: -fixedToDouble(negln2hiFixed),
    negln2loN: -fixedToDouble(ln2by128 - negln2hiFixed),
    invc,
    logc,
    logctail,
    expH,
    expT,
  };
}

const list = (xs: number[]): string => {
  const lines: string[] = [];
  for (let i = 0; i < xs.length; i += 4) lines.push(`  ${xs.slice(i, i + 4).map((x) => (Object.is(x, -0) ? '-0' : String(x))).join(', ')},`);
  return `[\n${lines.join('\n')}\n]`;
};

/** The text of `libm-tables.ts`. */
export function renderLibmTablesModule(t: LibmTables = generateLibmTables()): string {
  return `// Generated by src/metrics/libm-table-generator.ts (npm run generate:libm-tables): do not edit by hand.
// Lookup tables of glibc's pow and exp, recomputed from their definitions (see the generator).

export const LN2HI = ${t.ln2hi};
export const LN2LO = ${t.ln2lo};
export const INVLN2N = ${t.invln2N};
export const NEGLN2HIN = ${t.negln2hiN};
export const NEGLN2LON = ${t.negln2loN};

/** pow's log table: 1/c. */
export const POW_LOG_INVC = new Float64Array(${list(t.invc)});

/** pow's log table: log(c) rounded to a multiple of 2^-43. */
export const POW_LOG_LOGC = new Float64Array(${list(t.logc)});

/** pow's log table: RN(log(c) − logc). */
export const POW_LOG_LOGCTAIL = new Float64Array(${list(t.logctail)});

/** exp table: H[j] = RN(2^(j/128)). */
export const EXP_H = new Float64Array(${list(t.expH)});

/** exp table: T[j] = RN(2^(j/128)/H[j] − 1). */
export const EXP_T = new Float64Array(${list(t.expT)});
`;
}
