/**
 * Regroups image embeddings laid out on an `H × W` grid into `(H/g) × (W/g)` tokens, each the concatenation of a
 * `g × g` block of positions (row-major inside the block). Lossless; with `g = 1` it returns the input.
 *
 * `data` is `[count, H·W, d]`; the result is `[count, (H/g)·(W/g), g²·d]`.
 */
export function regroupEmbeddings(
  data: Float32Array,
  count: number,
  grid: readonly [number, number],
  dim: number,
  group: number,
): Float32Array {
  if (group === 1) return data;
  const [h, w] = grid;
  const gh = h / group;
  const gw = w / group;
  const out = new Float32Array(data.length);
  const item = h * w * dim;
  let o = 0;
  for (let n = 0; n < count; n++) {
    const base = n * item;
    for (let by = 0; by < gh; by++) {
      for (let bx = 0; bx < gw; bx++) {
        for (let dy = 0; dy < group; dy++) {
          const y = by * group + dy;
          for (let dx = 0; dx < group; dx++) {
            const x = bx * group + dx;
            const src = base + (y * w + x) * dim;
            out.set(data.subarray(src, src + dim), o);
            o += dim;
          }
        }
      }
    }
  }
  return out;
}
