/** One parsed CSV record with the 1-based line it starts on. */
export interface CsvRow {
  fields: string[];
  line: number;
}

/**
 * Parses RFC-4180 CSV text (quoted fields with `""` escapes, commas and newlines inside quotes, CRLF or LF).
 * Throws a `SyntaxError` with the line of an unterminated quote.
 */
export function parseCsv(text: string): CsvRow[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const rows: CsvRow[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let rowLine = 1;
  let inQuotes = false;
  let quoteLine = 0;
  let i = 0;
  const endRow = () => {
    fields.push(field);
    field = '';
    if (!(fields.length === 1 && fields[0] === '')) rows.push({ fields, line: rowLine });
    fields = [];
  };
  while (i < text.length) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        inQuotes = false;
        i++;
        continue;
      }
      if (ch === '\n') line++;
      field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === '') {
      inQuotes = true;
      quoteLine = line;
      i++;
    } else if (ch === ',') {
      fields.push(field);
      field = '';
      i++;
    } else if (ch === '\r' || ch === '\n') {
      endRow();
      if (ch === '\r' && text[i + 1] === '\n') i++;
      i++;
      line++;
      rowLine = line;
    } else {
      field += ch;
      i++;
    }
  }
  if (inQuotes) throw new SyntaxError(`unterminated quoted field starting on line ${quoteLine}`);
  if (field !== '' || fields.length > 0) endRow();
  return rows;
}
