// Test support (not exported by the package): reads the rules table of docs/ptb-tokenizer-rules.md and builds the
// generated edge-case corpora of the stress test.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RulesTableRow {
  kind: string;
  rule: string;
  caption: string;
  tokens: string;
  /** The same tokens result when the caption is put between words of another caption. */
  anywhere: boolean;
  /** Tokenizing `tokens` again gives `tokens`. */
  idempotent: boolean;
}

export const RULES_DOC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'ptb-tokenizer-rules.md');

/** A table cell holding a JSON string in backticks, with `|` escaped for Markdown. */
function jsonCell(cell: string, line: number): string {
  const m = /^`(.*)`$/.exec(cell.trim());
  if (!m) throw new Error(`${RULES_DOC}:${line}: expected a JSON string in backticks, got ${cell}`);
  return JSON.parse(m[1].replace(/\\\|/g, '|')) as string;
}

function yesNo(cell: string, line: number): boolean {
  const v = cell.trim();
  if (v !== 'yes' && v !== 'no') throw new Error(`${RULES_DOC}:${line}: expected yes or no, got ${cell}`);
  return v === 'yes';
}

/** The rows between the `rules-table` markers. */
export function readRulesTable(file = RULES_DOC): RulesTableRow[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const start = lines.indexOf('<!-- rules-table:start -->');
  const end = lines.indexOf('<!-- rules-table:end -->');
  if (start < 0 || end < start) throw new Error(`${file}: rules-table markers not found`);
  const rows: RulesTableRow[] = [];
  for (let i = start + 3; i < end; i++) {
    // split on | not preceded by a backslash
    const cells = lines[i].split(/(?<!\\)\|/).slice(1, -1);
    if (cells.length !== 6) throw new Error(`${file}:${i + 1}: expected 6 cells, got ${cells.length}`);
    rows.push({
      kind: cells[0].trim(),
      rule: cells[1].trim().replace(/\\\|/g, '|'),
      caption: jsonCell(cells[2], i + 1),
      tokens: jsonCell(cells[3], i + 1),
      anywhere: yesNo(cells[4], i + 1),
      idempotent: yesNo(cells[5], i + 1),
    });
  }
  return rows;
}

export interface RandomInt {
  int(n: number): number;
}

export interface StressCaption {
  /** The real caption with edge cases inserted. */
  caption: string;
  /** The pieces in order: real-caption segments and inserted table rows. */
  pieces: ({ real: string } | { row: RulesTableRow })[];
}

/**
 * Inserts 1–3 rows of the table (captions marked "anywhere") into a real caption, each between two of its words
 * and never next to another insertion, so that every insertion has real words on both sides.
 */
export function insertEdgeCases(real: string, rows: readonly RulesTableRow[], rng: RandomInt): StressCaption {
  const words = real.trim().split(/ +/);
  const gaps = words.length - 1;
  const count = Math.min(1 + rng.int(3), Math.ceil(gaps / 2));
  const chosen = new Set<number>();
  for (let tries = 0; chosen.size < count && tries < 20; tries++) {
    const gap = 1 + rng.int(Math.max(gaps, 1));
    if (gap <= gaps && !chosen.has(gap - 1) && !chosen.has(gap + 1)) chosen.add(gap);
  }
  const pieces: StressCaption['pieces'] = [];
  let from = 0;
  for (const gap of [...chosen].sort((a, b) => a - b)) {
    pieces.push({ real: words.slice(from, gap).join(' ') });
    pieces.push({ row: rows[rng.int(rows.length)] });
    from = gap;
  }
  pieces.push({ real: words.slice(from).join(' ') });
  const caption = pieces.map((p) => ('real' in p ? p.real : p.row.caption)).join(' ');
  return { caption, pieces };
}

const ASCII_SPACE_RUNS = ['  ', '\t', ' \t ', '   '];
const SPACE_RUNS = [...ASCII_SPACE_RUNS, '\u3000', ' \u2009'];

/**
 * The caption with every single space between pieces (not inside an inserted row) widened at random, plus
 * leading and trailing whitespace. Next to an inserted row only spaces and tabs are used: e-mail and URL tokens
 * run through other Unicode spaces (see the rules document).
 */
export function widenSpaces(s: StressCaption, rng: RandomInt): string {
  const widen = (runs: readonly string[]): string => runs[rng.int(runs.length)];
  const parts = s.pieces.map((p) => ('real' in p ? p.real.split(' ').join(widen(SPACE_RUNS)) : p.row.caption));
  return widen(SPACE_RUNS) + parts.join(widen(ASCII_SPACE_RUNS)) + widen(SPACE_RUNS);
}
