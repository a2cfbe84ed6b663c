import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateLibmTables, renderLibmTablesModule } from './libm-table-generator';

describe('libm-tables.ts', () => {
  it('should be exactly what the generator computes from the tables’ definitions', () => {
    const committed = readFileSync(join(__dirname, 'libm-tables.ts'), 'utf8');
    expect(renderLibmTablesModule()).toBe(committed);
  });

  it('should hold the known corner entries (1/c = 1 and log c = 0 around x = 1; 2^0 = 1)', () => {
    const t = generateLibmTables();
    expect(t.invc[0]).toBe(1.4140625);
    expect(t.invc.filter((v) => v === 1)).toHaveLength(2);
    expect(t.logc[t.invc.indexOf(1)]).toBe(0);
    expect(t.expH[0]).toBe(1);
    expect(t.expT[0]).toBe(0);
    expect(t.ln2hi + t.ln2lo).toBe(Math.LN2);
  });
});
