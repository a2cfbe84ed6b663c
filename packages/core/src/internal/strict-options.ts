import type { z } from 'zod';
import { ConfigurationError } from '../errors';

/**
 * Edit distance between two strings: insertions, deletions, substitutions and swaps of two neighbouring characters
 * each cost 1 (optimal string alignment).
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The known key closest to `key` (case-insensitive), or `undefined` when none is close. Close: at most 3 edits
 * ({@link editDistance}) and fewer edits than 60% of the longer name's length; failing that, a known key that starts
 * with `key` (an abbreviation of at least 3 characters), or ends with it (at least 5: `signal` → `abortSignal`).
 * Ties go to the key listed first.
 */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    const longest = Math.max(key.length, candidate.length);
    if (distance > 3 || distance >= 0.6 * longest) continue;
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined || lower.length < 3) return best;
  const abbreviated = known.find((candidate) => candidate.toLowerCase().startsWith(lower));
  if (abbreviated !== undefined || lower.length < 5) return abbreviated;
  return known.find((candidate) => candidate.toLowerCase().endsWith(lower));
}

const joinPath = (path: string | undefined, key: string): string => (path ? `${path}.${key}` : key);

/**
 * The error for an unknown option `key` of `where` (a function or constructor name such as `trainVLM`): it names the
 * key (with its `path` for nested options), the nearest valid key and the valid keys.
 */
export function unknownOptionError(
  key: string,
  knownKeys: readonly string[],
  where: string,
  path?: string,
): ConfigurationError {
  const setting = joinPath(path, key);
  const nearest = nearestKey(key, knownKeys);
  const hint = nearest ? ` Did you mean "${joinPath(path, nearest)}"?` : '';
  const valid =
    knownKeys.length > 0 ? ` Valid ${path ? `keys of "${path}"` : 'options'}: ${knownKeys.join(', ')}.` : '';
  return new ConfigurationError(`${where}: unknown option "${setting}".${hint}${valid}`, { setting });
}

/**
 * The keys of an options type as a list, written as `{ key: true, … }` so the compiler checks that every key of `T`
 * is listed and no other: `optionKeys<TrainOptions>({ steps: true, seed: true })`.
 */
export function optionKeys<T extends object>(keys: { [K in keyof Required<T>]: true }): string[] {
  return Object.keys(keys);
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Throws a `ConfigurationError` (see {@link unknownOptionError}) when the options object has a key that is not in
 * `knownKeys`. `path` names a nested options object (`validation.decode`). Values that are not plain objects
 * (undefined, a boolean shorthand, an array) are left to the caller's own checks.
 */
export function rejectUnknownOptions(
  options: unknown,
  knownKeys: readonly string[],
  where: string,
  path?: string,
): void {
  if (!isPlainObject(options)) return;
  for (const key of Object.keys(options)) {
    if (!knownKeys.includes(key)) throw unknownOptionError(key, knownKeys, where, path);
  }
}

interface ZodDefLike {
  type?: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  in?: unknown;
  element?: unknown;
  items?: unknown[];
  options?: unknown[];
  getter?: () => unknown;
}

const defOf = (schema: unknown): ZodDefLike | undefined =>
  (schema as { _zod?: { def?: ZodDefLike } } | undefined)?._zod?.def;

const WRAPPERS = new Set([
  'optional',
  'nullable',
  'default',
  'prefault',
  'readonly',
  'catch',
  'nonoptional',
  'pipe',
  'lazy',
]);

/** The schema inside optional, default, pipe, lazy… wrappers. */
function unwrap(schema: unknown): unknown {
  let node = schema;
  for (let depth = 0; depth < 20; depth++) {
    const def = defOf(node);
    if (!def?.type || !WRAPPERS.has(def.type)) return node;
    node = def.type === 'pipe' ? def.in : def.type === 'lazy' ? def.getter?.() : def.innerType;
  }
  return node;
}

/** The shapes of the object schemas a (possibly wrapped) zod schema stands for (several for a union). */
function objectSchemas(schema: unknown, depth = 0): Record<string, unknown>[] {
  const def = defOf(unwrap(schema));
  if (!def || depth > 20) return [];
  if (def.type === 'object') return def.shape ? [def.shape] : [];
  if (def.type === 'union') return (def.options ?? []).flatMap((option) => objectSchemas(option, depth + 1));
  return [];
}

/** The child schema of a (possibly wrapped) zod schema at one path segment. */
function childSchema(schema: unknown, segment: PropertyKey): unknown {
  const def = defOf(unwrap(schema));
  if (!def) return undefined;
  if (def.type === 'array') return def.element;
  if (def.type === 'tuple') return def.items?.[Number(segment)];
  const withKey = objectSchemas(schema).find((shape) => typeof segment === 'string' && segment in shape);
  return withKey ? withKey[segment as string] : undefined;
}

/**
 * The keys an object schema accepts at `path` (`[]` = the top level), through optional/default/pipe wrappers,
 * arrays and tuples; empty when the path does not lead to an object schema.
 */
export function schemaKeysAt(schema: z.ZodType, path: readonly PropertyKey[] = []): string[] {
  let node: unknown = schema;
  for (const segment of path) {
    node = childSchema(node, segment);
    if (node === undefined) return [];
  }
  return [...new Set(objectSchemas(node).flatMap((shape) => Object.keys(shape)))];
}

/** The keys of a zod object schema (for building the known-key list of options that extend it). */
export const schemaKeys = (schema: z.ZodType): string[] => schemaKeysAt(schema);

/**
 * For a failed parse of a strict zod schema: the {@link unknownOptionError} of the first unknown key (with the
 * nearest key at the same level of the schema), or `undefined` when no issue is an unknown key.
 */
export function unknownKeysError(
  schema: z.ZodType,
  error: z.ZodError,
  where: string,
): ConfigurationError | undefined {
  const issue = error.issues.find((i) => i.code === 'unrecognized_keys');
  if (!issue || issue.code !== 'unrecognized_keys' || issue.keys.length === 0) return undefined;
  const path = issue.path.length > 0 ? issue.path.map(String).join('.') : undefined;
  const found = unknownOptionError(issue.keys[0], schemaKeysAt(schema, issue.path), where, path);
  return new ConfigurationError(found.message, { setting: found.setting, cause: error });
}

/**
 * Parses options with a strict zod schema. An unknown key throws {@link unknownKeysError}; any other issue a
 * `ConfigurationError` naming the setting and the issue.
 */
export function parseStrictOptions<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: string,
): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const unknown = unknownKeysError(schema, result.error, where);
  if (unknown) throw unknown;
  const issue = result.error.issues[0];
  const setting = issue.path.length > 0 ? issue.path.map(String).join('.') : undefined;
  throw new ConfigurationError(
    `${where}: ${setting ? `"${setting}": ` : ''}${issue.message}. Fix that option.`,
    {
      setting,
      cause: result.error,
    },
  );
}
