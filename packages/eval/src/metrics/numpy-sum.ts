/**
 * numpy's pairwise summation (`np.add.reduce` on a contiguous float64 array), reproduced so that means equal the
 * reference's to the last bit: below 8 elements a plain loop; up to 128 elements eight interleaved accumulators
 * combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)) and then the tail; above that, recursion on two halves split at
 * n/2 rounded down to a multiple of 8.
 */
export function pairwiseSum(values: ArrayLike<number>, start = 0, n = values.length - start): number {
  if (n < 8) {
    let res = -0; // numpy starts from -0.0 so that an all -0.0 array sums to -0.0
    for (let i = 0; i < n; i++) res += values[start + i];
    return res;
  }
  if (n <= 128) {
    const r = [
      values[start],
      values[start + 1],
      values[start + 2],
      values[start + 3],
      values[start + 4],
      values[start + 5],
      values[start + 6],
      values[start + 7],
    ];
    const stop = n - (n % 8);
    let i = 8;
    for (; i < stop; i += 8) {
      r[0] += values[start + i];
      r[1] += values[start + i + 1];
      r[2] += values[start + i + 2];
      r[3] += values[start + i + 3];
      r[4] += values[start + i + 4];
      r[5] += values[start + i + 5];
      r[6] += values[start + i + 6];
      r[7] += values[start + i + 7];
    }
    let res = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < n; i++) res += values[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(values, start, n2) + pairwiseSum(values, start + n2, n - n2);
}

/** `np.mean` of a float64 array: pairwise sum divided by the length. */
export function numpyMean(values: ArrayLike<number>): number {
  return pairwiseSum(values) / values.length;
}
