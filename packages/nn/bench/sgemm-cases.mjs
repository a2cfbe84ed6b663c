// The SGEMM cases benchmarked by sgemm.mjs and by peers/sgemm_torch.py, from sgemm-shapes.json.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** [{ name, layer, op, batch, m, n, k, ta, tb }] */
export function sgemmCases() {
  const spec = JSON.parse(readFileSync(join(here, 'sgemm-shapes.json'), 'utf8'));
  const cases = [];
  for (const l of spec.linear) {
    const t = l.m ?? spec.tokens;
    cases.push({ layer: l.layer, op: 'NN', batch: 1, m: t, n: l.n, k: l.k, ta: false, tb: false });
    cases.push({ layer: l.layer, op: 'NT', batch: 1, m: t, n: l.k, k: l.n, ta: false, tb: true });
    cases.push({ layer: l.layer, op: 'TN', batch: 1, m: l.k, n: l.n, k: t, ta: true, tb: false });
  }
  for (const b of spec.batched) cases.push({ ...b, op: `${b.ta ? 'T' : 'N'}${b.tb ? 'T' : 'N'}` });
  return cases.map((c) => ({ ...c, name: `${c.batch}x${c.m}x${c.n}x${c.k} ${c.op}` }));
}
