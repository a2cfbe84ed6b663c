import { InvalidInputError } from '../errors';
import { lineColumn, locateJsonError } from '../internal/json-position';

/**
 * Parses JSON text; a syntax error becomes an `InvalidInputError` that gives the line and column (and `file` when
 * given) of the first invalid character.
 */
export function parseJsonText(text: string, where: { file?: string; line?: number } = {}): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const { offset, reason } = locateJsonError(text);
    const pos = lineColumn(text, offset);
    const line = where.line != null ? where.line + pos.line - 1 : pos.line;
    throw new InvalidInputError(
      `malformed JSON at column ${pos.column}: ${reason}. Fix or regenerate the file.`,
      {
        file: where.file,
        line,
        cause: error,
      },
    );
  }
}
