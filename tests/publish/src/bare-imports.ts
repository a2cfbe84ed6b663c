/**
 * Which packages a piece of JavaScript loads: so that a package (and its README example) only needs what its
 * package.json declares, even though the test installs every package into one project.
 */
import { builtinModules } from 'node:module';

const BUILTINS = new Set(builtinModules);

// static `import … from 'x'` / `export … from 'x'` / `import 'x'`, `import('x')` and `require('x')` with a literal
const IMPORT_PATTERNS = [
  /(?:^|[;\s}])(?:import|export)\s*(?:[\w*${}\s,]+?\s*from\s*)?["']([^"'\n]+)["']/gm,
  /\bimport\s*\(\s*["']([^"'\n]+)["']\s*\)/g,
  /(?<![\w$.])(?:__)?require\s*\(\s*["']([^"'\n]+)["']\s*\)/g,
];

/** The package name of a bare specifier (`@a/b/c` → `@a/b`, `x/y` → `x`), or undefined for relative/absolute/builtin ones. */
export function packageOfSpecifier(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:'))
    return undefined;
  if (/^[a-z]+:/i.test(specifier)) return undefined; // data:, file:, …
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  if (BUILTINS.has(name) || BUILTINS.has(specifier)) return undefined;
  return name;
}

/** The packages (not builtins, not relative files) that `code` imports or requires with a literal specifier. */
export function importedPackages(code: string): string[] {
  const found = new Set<string>();
  for (const pattern of IMPORT_PATTERNS) {
    for (const match of code.matchAll(pattern)) {
      const name = packageOfSpecifier(match[1]);
      if (name) found.add(name);
    }
  }
  return [...found].sort();
}

export interface DeclaringPackageJson {
  readonly name: string;
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
}

/** Imported packages that the package.json neither is nor declares as a dependency or peer dependency. */
export function undeclaredPackages(imported: readonly string[], pkg: DeclaringPackageJson): string[] {
  const declared = new Set([
    pkg.name,
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}),
    ...Object.keys(pkg.optionalDependencies ?? {}),
  ]);
  return imported.filter((name) => !declared.has(name));
}
