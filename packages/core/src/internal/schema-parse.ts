import type { z } from 'zod';
import { InvalidInputError } from '../errors';

/** Where a value came from, for error messages. */
export interface InputLocation {
  file?: string;
  line?: number;
  /** Prefix for the field path (e.g. `records.3`). */
  field?: string;
}

/** Formats a zod issue path (`['concepts', 0]`) as a dotted field name (`concepts.0`). */
export function formatIssuePath(path: readonly PropertyKey[], prefix?: string): string | undefined {
  const parts = path.map((p) => String(p));
  if (prefix) parts.unshift(prefix);
  return parts.length > 0 ? parts.join('.') : undefined;
}

/**
 * Validates `value` with `schema` and returns the parsed output, or throws an `InvalidInputError` that names the
 * file, line and the first offending field, and lists every issue.
 */
export function parseWithSchema<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: InputLocation = {},
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const first = issues[0];
  const field = first ? formatIssuePath(first.path, where.field) : where.field;
  const details = issues
    .slice(0, 5)
    .map((issue) => {
      const name = formatIssuePath(issue.path, where.field);
      return name && issue !== first ? `${name}: ${issue.message}` : issue.message;
    })
    .join('; ');
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more issues)` : '';
  throw new InvalidInputError(`${details}${more}. Fix the record so it matches the expected schema.`, {
    file: where.file,
    line: where.line,
    field,
    cause: result.error,
  });
}
