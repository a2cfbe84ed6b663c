/** Reads a package's `exports` map: its subpaths and the files each condition points at. */

export interface ExportEntry {
  /** `.` or `./sub`. */
  readonly subpath: string;
  /** The specifier a user writes: `@scope/name` or `@scope/name/sub`. */
  readonly specifier: string;
  /** Condition → file (relative, `./dist/…`); only string targets. */
  readonly targets: Readonly<Record<string, string>>;
}

export interface PackageJsonLike {
  readonly name: string;
  readonly exports?: unknown;
  readonly bin?: string | Record<string, string>;
}

/**
 * The code entries of a package's `exports` map (`./package.json` and other non-code files are left
 * out). Throws when the package has no `exports` map or it has a shape this test does not understand.
 */
export function exportEntries(pkg: PackageJsonLike): ExportEntry[] {
  const { exports } = pkg;
  if (exports === undefined || exports === null || typeof exports !== 'object' || Array.isArray(exports)) {
    throw new Error(
      `${pkg.name}: package.json has no "exports" map of subpaths: add one ({ ".": { types, import, require } })`,
    );
  }
  const entries: ExportEntry[] = [];
  for (const [subpath, value] of Object.entries(exports as Record<string, unknown>)) {
    if (!subpath.startsWith('.')) {
      throw new Error(
        `${pkg.name}: "exports" must map subpaths ("." / "./x"), found key ${JSON.stringify(subpath)}`,
      );
    }
    if (subpath.includes('*'))
      throw new Error(`${pkg.name}: export pattern ${subpath} is not checked by this test`);
    const targets: Record<string, string> = {};
    if (typeof value === 'string') targets.default = value;
    else if (value && typeof value === 'object') {
      for (const [condition, target] of Object.entries(value as Record<string, unknown>)) {
        if (typeof target === 'string') targets[condition] = target;
      }
    }
    const files = Object.values(targets);
    if (files.length > 0 && files.every((f) => f.endsWith('.json'))) continue; // ./package.json
    entries.push({
      subpath,
      specifier: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`,
      targets,
    });
  }
  return entries;
}

/** The bin commands of a package: command name → file. */
export function binEntries(pkg: PackageJsonLike): Record<string, string> {
  if (pkg.bin === undefined) return {};
  if (typeof pkg.bin === 'string') return { [pkg.name.replace(/^@[^/]+\//, '')]: pkg.bin };
  return { ...pkg.bin };
}

/** `./dist/x.js` → `dist/x.js` (the form `npm pack` lists files in). */
export function normalizeTarget(target: string): string {
  return target.replace(/^\.\//, '');
}

/**
 * Source of a Node program that loads every specifier given on its command line with `import()`
 * (mode `esm`) or `require()` (mode `cjs`) and prints `{ [specifier]: sortedExportNames }` as JSON.
 * Each mode runs in its own process so that ESM and CJS copies of a package never meet.
 */
export const LOAD_EXPORTS_PROGRAM = `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const [mode, ...specifiers] = process.argv.slice(2);
const out = {};
for (const specifier of specifiers) {
  const mod = mode === 'cjs' ? require(specifier) : await import(specifier);
  out[specifier] = Object.keys(mod).filter((k) => k !== 'default' && k !== '__esModule' && k !== 'module.exports').sort();
}
process.stdout.write(JSON.stringify(out));
`;
