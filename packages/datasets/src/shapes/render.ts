import { Rng } from '@synth2/core';
import type { BackgroundName, ColorName, ShapeName } from './inventory';
import type { Scene } from './scene';

/** RGB in [0, 1] of each object colour. */
export const COLOR_RGB: Record<ColorName, readonly [number, number, number]> = {
  red: [0.9, 0.1, 0.1],
  orange: [1.0, 0.55, 0.05],
  yellow: [0.98, 0.9, 0.1],
  green: [0.12, 0.72, 0.18],
  blue: [0.12, 0.32, 0.95],
  purple: [0.58, 0.18, 0.82],
  pink: [1.0, 0.48, 0.78],
  white: [0.97, 0.97, 0.97],
};

type Sdf = (u: number, v: number) => number;
type Poly = Float64Array;

/** Signed distance to a closed polygon (flat [x0,y0,x1,y1,...]); negative inside (even–odd rule). */
function polygonSdf(poly: Poly, u: number, v: number): number {
  const n = poly.length / 2;
  let best = Infinity;
  let inside = false;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = poly[2 * i];
    const yi = poly[2 * i + 1];
    const xj = poly[2 * j];
    const yj = poly[2 * j + 1];
    const ex = xi - xj;
    const ey = yi - yj;
    const wx = u - xj;
    const wy = v - yj;
    let t = (wx * ex + wy * ey) / (ex * ex + ey * ey);
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    const dx = wx - ex * t;
    const dy = wy - ey * t;
    const d = dx * dx + dy * dy;
    if (d < best) best = d;
    if (yi > v !== yj > v && u < (xj - xi) * ((v - yi) / (yj - yi)) + xi) inside = !inside;
  }
  const dist = Math.sqrt(best);
  return inside ? -dist : dist;
}

const poly = (pts: number[]): Poly => Float64Array.from(pts);

const TRIANGLE = poly([0, -0.95, 0.97, 0.8, -0.97, 0.8]);
const DIAMOND = poly([0, -1, 0.82, 0, 0, 1, -0.82, 0]);
const STAR = (() => {
  const pts: number[] = [];
  for (let i = 0; i < 10; i++) {
    const r = i % 2 === 0 ? 1.05 : 0.45;
    const a = -Math.PI / 2 + (i * Math.PI) / 5;
    pts.push(r * Math.cos(a), r * Math.sin(a) + 0.1);
  }
  return poly(pts);
})();
const CROSS = (() => {
  const a = 0.95;
  const b = 0.33;
  return poly([-b, -a, b, -a, b, -b, a, -b, a, b, b, b, b, a, -b, a, -b, b, -a, b, -a, -b, -b, -b]);
})();
const HEART_TIP = poly([-0.93, -0.18, 0.93, -0.18, 0, 0.95]);

/** Signed distance functions in the object's unit box [-1, 1]² (v downwards). */
export const SHAPE_SDF: Record<ShapeName, Sdf> = {
  circle: (u, v) => Math.hypot(u, v) - 0.97,
  square: (u, v) => {
    const qx = Math.abs(u) - 0.82;
    const qy = Math.abs(v) - 0.82;
    const outside = Math.hypot(Math.max(qx, 0), Math.max(qy, 0));
    return outside + Math.min(Math.max(qx, qy), 0);
  },
  triangle: (u, v) => polygonSdf(TRIANGLE, u, v),
  diamond: (u, v) => polygonSdf(DIAMOND, u, v),
  star: (u, v) => polygonSdf(STAR, u, v),
  cross: (u, v) => polygonSdf(CROSS, u, v),
  heart: (u, v) => {
    const l = Math.hypot(u + 0.47, v + 0.36) - 0.5;
    const r = Math.hypot(u - 0.47, v + 0.36) - 0.5;
    return Math.min(l, r, polygonSdf(HEART_TIP, u, v));
  },
  ring: (u, v) => Math.abs(Math.hypot(u, v) - 0.7) - 0.27,
};

/** Fills `out` (HWC float RGB) with the named background. */
function paintBackground(out: Float32Array, size: number, name: BackgroundName, seed: number): void {
  const fill = (r: number, g: number, b: number) => {
    for (let i = 0; i < out.length; i += 3) {
      out[i] = r;
      out[i + 1] = g;
      out[i + 2] = b;
    }
  };
  switch (name) {
    case 'black':
      return fill(0.05, 0.05, 0.06);
    case 'gray':
      return fill(0.45, 0.45, 0.45);
    case 'brown':
      return fill(0.35, 0.22, 0.12);
    case 'noisy': {
      const rng = new Rng(seed);
      for (let i = 0; i < out.length; i += 3) {
        const g = 0.42 + 0.08 * rng.normal();
        const c = g < 0 ? 0 : g > 1 ? 1 : g;
        out[i] = c;
        out[i + 1] = c;
        out[i + 2] = c;
      }
      return;
    }
    case 'striped': {
      // diagonal stripes, period = size / 5, phase from the seed; anti-aliased with a triangle wave
      const period = size / 5;
      const phase = (seed % 1000) / 1000;
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) {
          const t = ((x + y + 1) / period + phase) % 1;
          const tri = Math.min(1, Math.max(0, (Math.abs(t - 0.5) * 2 - 0.5) * period * 0.7 + 0.5));
          const g = 0.28 + 0.2 * tri;
          const i = (y * size + x) * 3;
          out[i] = g;
          out[i + 1] = g;
          out[i + 2] = g;
        }
      return;
    }
    case 'checkered': {
      const cell = size / 8;
      const off = seed % 2;
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) {
          const g = (Math.floor(x / cell) + Math.floor(y / cell) + off) % 2 === 0 ? 0.2 : 0.38;
          const i = (y * size + x) * 3;
          out[i] = g;
          out[i + 1] = g;
          out[i + 2] = g;
        }
      return;
    }
  }
}

/**
 * Renders a scene to a float HWC RGB buffer in [0, 1] (size × size × 3), anti-aliased by analytic coverage
 * from each shape's signed distance.
 */
export function renderSceneFloat(scene: Scene, size: number): Float32Array {
  const out = new Float32Array(size * size * 3);
  paintBackground(out, size, scene.background.name, scene.background.seed);
  for (const obj of scene.objects) {
    const sdf = SHAPE_SDF[obj.shape];
    const base = COLOR_RGB[obj.color];
    const r = base[0] * obj.shade;
    const g = base[1] * obj.shade;
    const b = base[2] * obj.shade;
    const rPx = obj.radius * size;
    const cx = obj.x * size;
    const cy = obj.y * size;
    const x0 = Math.max(0, Math.floor(cx - rPx - 1));
    const x1 = Math.min(size - 1, Math.ceil(cx + rPx + 1));
    const y0 = Math.max(0, Math.floor(cy - rPx - 1));
    const y1 = Math.min(size - 1, Math.ceil(cy + rPx + 1));
    for (let py = y0; py <= y1; py++) {
      const v = (py + 0.5 - cy) / rPx;
      for (let px = x0; px <= x1; px++) {
        const u = (px + 0.5 - cx) / rPx;
        const dPx = sdf(u, v) * rPx;
        const cov = dPx <= -0.5 ? 1 : dPx >= 0.5 ? 0 : 0.5 - dPx;
        if (cov === 0) continue;
        const i = (py * size + px) * 3;
        out[i] += (r - out[i]) * cov;
        out[i + 1] += (g - out[i + 1]) * cov;
        out[i + 2] += (b - out[i + 2]) * cov;
      }
    }
  }
  return out;
}

/** Renders a scene to 8-bit HWC RGB (size × size × 3). */
export function renderScene(scene: Scene, size: number): Uint8Array {
  const f = renderSceneFloat(scene, size);
  const out = new Uint8Array(f.length);
  for (let i = 0; i < f.length; i++) {
    const v = Math.round(f[i] * 255);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}

/** 8-bit HWC RGB to float [0, 1] (the same values a decoded PNG gives). */
export function toFloat32(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] / 255;
  return out;
}
