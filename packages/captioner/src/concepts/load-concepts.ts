import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConceptSchema, InvalidInputError, type Concept } from '@synth2/core';
import { optionKeys, rejectUnknownOptions } from '@synth2/core/internal';
import { slugify } from './concept-list';

/** Options of `loadConcepts`. */
export interface LoadConceptsOptions {
  /** The `kind` given to every loaded concept (default `object`). */
  kind?: Concept['kind'];
  /** For JSON files holding several named lists (e.g. SynCLR's `labels.json`): the list to load. */
  key?: string;
  /** Prefix of the concept ids (default: the file name without extension), ids are `<namespace>:<slug of name>`. */
  namespace?: string;
}

const LOAD_CONCEPTS_KEYS = optionKeys<LoadConceptsOptions>({ kind: true, key: true, namespace: true });

const NAME_COLUMNS = ['name', 'class', 'classname', 'class_name', 'display_name', 'concept', 'category', 'label_name'];
const ID_LIKE = /^(\d+|n\d{8}|\/m\/[\w-]+|[a-z]+:\S+)$/;

/**
 * Loads a concept list from a file: `.txt` (one name per line, `#` comments; Places-style `/a/airfield 0` lines
 * and `id<TAB>names` lines are understood), `.tsv`/`.csv` (a header with a `name`/`class` column, or `id,name`
 * rows), or `.json` (an array of names or concept records, or an object of named lists with `key`).
 * Comma-separated names in a TSV cell (`person, individual`) become the name and its synonyms.
 */
export async function loadConcepts(file: string, options: LoadConceptsOptions = {}): Promise<Concept[]> {
  rejectUnknownOptions(options, LOAD_CONCEPTS_KEYS, 'loadConcepts');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InvalidInputError(
      code === 'ENOENT'
        ? 'concept file not found; check the path (a .txt, .tsv, .csv or .json concept list)'
        : `cannot read the concept file (${code ?? String(error)})`,
      { file, cause: error },
    );
  }
  const ext = path.extname(file).toLowerCase();
  const namespace = options.namespace ?? slugify(path.basename(file, ext)) ?? 'concepts';
  let raw: RawConcept[];
  if (ext === '.json') raw = parseJsonConcepts(text, file, options.key);
  else if (ext === '.csv') raw = parseTable(text, ',', file);
  else if (ext === '.tsv') raw = parseTable(text, '\t', file);
  else if (ext === '.txt' || ext === '' || ext === '.list') {
    const lines = contentLines(text);
    raw = lines.length > 0 && lines.every((l) => l.text.includes('\t')) ? parseTable(text, '\t', file) : parseLines(lines);
  } else {
    throw new InvalidInputError(`unsupported concept file type "${ext}"; use .txt (one per line), .tsv, .csv or .json`, { file });
  }
  const seen = new Set<string>();
  const out: Concept[] = [];
  for (const r of raw) {
    const parsed = ConceptSchema.safeParse({
      id: r.id ?? `${namespace}:${slugify(r.name) || r.name}`,
      name: r.name,
      kind: r.kind ?? options.kind ?? 'object',
      synonyms: r.synonyms ?? [],
      weight: r.weight,
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InvalidInputError(`invalid concept: ${issue.path.join('.')}: ${issue.message}`, { file, line: r.line, cause: parsed.error });
    }
    if (seen.has(parsed.data.id)) continue;
    seen.add(parsed.data.id);
    out.push(parsed.data);
  }
  if (out.length === 0) throw new InvalidInputError('the concept file holds no concepts; add one concept per line', { file });
  return out;
}

interface RawConcept {
  name: string;
  id?: string;
  kind?: Concept['kind'];
  synonyms?: string[];
  weight?: number;
  line?: number;
}

function contentLines(text: string): { text: string; line: number }[] {
  return text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((t, i) => ({ text: t.trim(), line: i + 1 }))
    .filter((l) => l.text.length > 0 && !l.text.startsWith('#'));
}

function parseLines(lines: { text: string; line: number }[]): RawConcept[] {
  return lines.map(({ text, line }) => {
    // Places365 style: "/a/apartment_building/outdoor 8"
    const places = /^\/[a-z]\/(\S+?)(?:\s+\d+)?$/.exec(text);
    if (places) {
      const parts = places[1].split('/').map((p) => p.replace(/_/g, ' '));
      const name = parts.length > 1 ? `${parts.slice(1).join(' ')} ${parts[0]}` : parts[0];
      return { name, line };
    }
    return { name: text, line };
  });
}

function splitCsvLine(line: string, sep: string): string[] {
  if (sep === '\t' || !line.includes('"')) return line.split(sep).map((c) => c.trim());
  const cells: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === sep) {
      cells.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  cells.push(cur.trim());
  return cells;
}

function parseTable(text: string, sep: string, file: string): RawConcept[] {
  const lines = contentLines(text);
  if (lines.length === 0) return [];
  const first = splitCsvLine(lines[0].text, sep).map((c) => c.toLowerCase());
  const nameCol = first.findIndex((c) => NAME_COLUMNS.includes(c));
  const hasHeader = nameCol >= 0 || first.includes('id') || first.includes('label');
  let name = 0;
  let weightCol = -1;
  let synCol = -1;
  if (hasHeader) {
    name = nameCol >= 0 ? nameCol : first.findIndex((c) => c !== 'id' && c !== 'label');
    if (name < 0) {
      throw new InvalidInputError(`the header has no name column; name one of its columns "name" (found: ${first.join(', ')})`, { file, line: lines[0].line });
    }
    weightCol = first.indexOf('weight');
    synCol = first.indexOf('synonyms');
  } else {
    const cells = splitCsvLine(lines[0].text, sep);
    // `id<sep>name` rows (COCO ids, WordNet ids, Open Images mids): the name is the second column
    if (cells.length >= 2 && ID_LIKE.test(cells[0])) name = 1;
  }
  const rows = hasHeader ? lines.slice(1) : lines;
  const out: RawConcept[] = [];
  for (const { text: row, line } of rows) {
    const cells = splitCsvLine(row, sep);
    const cell = cells[name];
    if (cell == null || cell === '') {
      throw new InvalidInputError(`row has no name in column ${name + 1}; every row needs a name`, { file, line });
    }
    const names = sep === '\t' ? cell.split(/\s*,\s*/).filter(Boolean) : [cell];
    const extra = synCol >= 0 && cells[synCol] ? cells[synCol].split(/\s*[;|]\s*/).filter(Boolean) : [];
    let weight: number | undefined;
    if (weightCol >= 0 && cells[weightCol] !== undefined && cells[weightCol] !== '') {
      weight = Number(cells[weightCol]);
      if (!Number.isFinite(weight) || weight < 0) {
        throw new InvalidInputError(`weight "${cells[weightCol]}" is not a non-negative number`, { file, line, field: 'weight' });
      }
    }
    out.push({ name: names[0], synonyms: [...names.slice(1), ...extra], weight, line });
  }
  return out;
}

function parseJsonConcepts(text: string, file: string, key?: string): RawConcept[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`the file is not valid JSON (${(error as Error).message}); fix it or use a .txt list`, { file, cause: error });
  }
  if (key !== undefined) {
    if (data === null || typeof data !== 'object' || Array.isArray(data) || !(key in data)) {
      const keys = data && typeof data === 'object' && !Array.isArray(data) ? Object.keys(data) : [];
      throw new InvalidInputError(`the JSON has no list "${key}"${keys.length ? ` (it has: ${keys.slice(0, 20).join(', ')})` : ''}`, {
        file,
        field: key,
      });
    }
    data = (data as Record<string, unknown>)[key];
  } else if (data && typeof data === 'object' && !Array.isArray(data)) {
    const obj = data as Record<string, unknown>;
    if (Array.isArray(obj.concepts)) data = obj.concepts;
    else {
      const keys = Object.keys(obj);
      throw new InvalidInputError(
        `the JSON holds ${keys.length} named lists (${keys.slice(0, 12).join(', ')}${keys.length > 12 ? ', …' : ''}); pick one with { key: '<name>' }`,
        { file },
      );
    }
  }
  if (!Array.isArray(data)) {
    throw new InvalidInputError('expected a JSON array of concept names or { id, name } records', { file, field: key });
  }
  return data.map((item, i) => {
    if (typeof item === 'string') return { name: item.trim() };
    if (item && typeof item === 'object' && typeof (item as { name?: unknown }).name === 'string') {
      const r = item as { id?: string; name: string; kind?: Concept['kind']; synonyms?: string[]; weight?: number };
      return { id: r.id, name: r.name, kind: r.kind, synonyms: r.synonyms, weight: r.weight };
    }
    throw new InvalidInputError(`item ${i} is neither a name nor an object with a "name"`, { file, field: `[${i}]` });
  });
}
