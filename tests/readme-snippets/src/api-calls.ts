/** Built-in method names that say nothing about the SDK's API. */
const BUILTIN_METHODS = new Set(
  ('log error warn map filter flat flatMap slice subarray join push forEach reduce includes set get has keys values ' +
    'entries split trim toFixed concat some every find fill padEnd padStart replace then catch startsWith endsWith ' +
    'indexOf from fromEntries assign parse stringify round min max floor ceil random abs sqrt exp now toString write ' +
    'all resolve sort at test exec apply call bind').split(' '),
);

/**
 * The SDK calls of a snippet: the names it imports from `@synth2/*` packages and the methods it calls
 * (`.train(`, `VQTokenizer.create(`), without common built-in methods.
 */
export function apiCalls(source: string): string[] {
  // line comments out (not `://` in URLs)
  const code = source.replace(/(^|[^:\w'"])\/\/.*$/gm, '$1');
  const names = new Set<string>();
  for (const m of code.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*['"]@synth2\/[^'"]+['"]/g)) {
    for (const part of m[1].split(',')) {
      const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0];
      if (name) names.add(name);
    }
  }
  for (const m of code.matchAll(/\.([A-Za-z_$][\w$]*)\s*\(/g)) if (!BUILTIN_METHODS.has(m[1])) names.add(m[1]);
  return [...names];
}

/** The calls of `snippet` that none of the mirror texts contains (as a word). */
export function missingCalls(snippet: string, mirrors: readonly string[]): string[] {
  const all = mirrors.join('\n');
  return apiCalls(snippet).filter((name) => !new RegExp(`\\b${name.replace(/\$/g, '\\$')}\\b`).test(all));
}
