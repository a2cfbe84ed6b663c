/**
 * How well the faithfulness probe reads colour and shape from raw pixels (4×4 patches as an 8×8 grid), the ceiling
 * for reading them from embeddings: `npx tsup bench/probe-on-pixels.ts --no-config --format esm --out-dir dist/bench && node dist/bench/probe-on-pixels.js`.
 */
import { initBackend } from '@synth2/nn';
import { COLOR_NAMES, SHAPE_NAMES, createShapesWorld } from '@synth2/datasets';
import { AttributeProbe } from './probe';

async function main() {
  await initBackend({ log: () => {} });
  const world = createShapesWorld({ seed: 7, minObjects: 1, maxObjects: 1 });
  const n = 3000;
  const items = Array.from({ length: n }, (_, i) => world.item(i));
  const P = Number(process.env.PATCH ?? 4);
  const g = 32 / P;
  const dim = P * P * 3;
  const x = new Float32Array(n * g * g * dim);
  items.forEach((it, i) => {
    for (let y = 0; y < 32; y++)
      for (let xx = 0; xx < 32; xx++)
        for (let c = 0; c < 3; c++) {
          const cell = Math.floor(y / P) * g + Math.floor(xx / P);
          const within = ((y % P) * P + (xx % P)) * 3 + c;
          x[i * g * g * dim + cell * dim + within] = it.pixels[(y * 32 + xx) * 3 + c] / 255;
        }
  });
  const rc = Int32Array.from(items, (it) => COLOR_NAMES.indexOf(it.scene.objects[0].color));
  const rs = Int32Array.from(items, (it) => SHAPE_NAMES.indexOf(it.scene.objects[0].shape));
  const nFit = 2500;
  const D = g * g * dim;
  const probe = new AttributeProbe(g, dim, 8, 8);
  await probe.fit(x.subarray(0, nFit * D), rc.subarray(0, nFit), rs.subarray(0, nFit), { steps: Number(process.env.STEPS ?? 1500), lr: 2e-3 });
  const p = probe.predict(x.subarray(nFit * D));
  let c = 0, s = 0;
  for (let i = 0; i < n - nFit; i++) { c += +(p.color[i] === rc[nFit + i]); s += +(p.shape[i] === rs[nFit + i]); }
  console.log(JSON.stringify({ patch: P, color: c / (n - nFit), shape: s / (n - nFit) }));
}
main();
