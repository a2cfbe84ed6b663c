import { InvalidInputError } from '@synth2/core';
import { optionKeys, rejectUnknownOptions } from '@synth2/core/internal';

/** Geometry of a token grid grouped `group×group` into sequence positions. */
export interface GridGeometry {
  height: number;
  width: number;
  group: number;
}

const GEOMETRY_KEYS = optionKeys<GridGeometry>({ height: true, width: true, group: true });

export function checkGeometry(g: GridGeometry): { positions: number; perPosition: number } {
  if (g.height % g.group !== 0 || g.width % g.group !== 0) {
    throw new InvalidInputError(
      `token grid ${g.height}×${g.width} is not divisible by the group size ${g.group}; choose a group that divides both sides`,
    );
  }
  return { positions: (g.height / g.group) * (g.width / g.group), perPosition: g.group * g.group };
}

/**
 * Regroups token ids `[B, H, W]` (row-major) into `[B, P, G]` with `P = (H/g)·(W/g)` positions of `G = g²` tokens:
 * position `p = by·(W/g) + bx`, slot `dy·g + dx`.
 */
export function groupTokens(ids: Int32Array, batch: number, geom: GridGeometry): Int32Array {
  rejectUnknownOptions(geom, GEOMETRY_KEYS, 'groupTokens', 'geometry');
  const { height: H, width: W, group: g } = geom;
  const { positions: P, perPosition: G } = checkGeometry(geom);
  if (ids.length !== batch * H * W) {
    throw new InvalidInputError(`expected ${batch}×${H}×${W} token ids, got ${ids.length}`);
  }
  const out = new Int32Array(batch * P * G);
  const bw = W / g;
  for (let b = 0; b < batch; b++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const p = Math.floor(y / g) * bw + Math.floor(x / g);
        const s = (y % g) * g + (x % g);
        out[(b * P + p) * G + s] = ids[(b * H + y) * W + x];
      }
    }
  }
  return out;
}

/** Inverse of {@link groupTokens}. */
export function ungroupTokens(grouped: Int32Array, batch: number, geom: GridGeometry): Int32Array {
  rejectUnknownOptions(geom, GEOMETRY_KEYS, 'ungroupTokens', 'geometry');
  const { height: H, width: W, group: g } = geom;
  const { positions: P, perPosition: G } = checkGeometry(geom);
  const out = new Int32Array(batch * H * W);
  const bw = W / g;
  for (let b = 0; b < batch; b++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const p = Math.floor(y / g) * bw + Math.floor(x / g);
        const s = (y % g) * g + (x % g);
        out[(b * H + y) * W + x] = grouped[(b * P + p) * G + s];
      }
    }
  }
  return out;
}
