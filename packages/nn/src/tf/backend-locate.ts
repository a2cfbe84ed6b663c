import { createRequire } from 'node:module';

/**
 * The file this code runs from (a path or a `file:` URL), read from a stack frame: it works in the ESM and the
 * CommonJS builds alike (`import.meta` does not survive the CommonJS build, `__filename` is absent in ESM).
 */
function ownFile(): string | undefined {
  const original = Error.prepareStackTrace;
  try {
    Error.prepareStackTrace = (_error, frames) => frames;
    const frames = new Error().stack as unknown as NodeJS.CallSite[] | undefined;
    const name = Array.isArray(frames) ? frames[0]?.getFileName() : undefined;
    return name && (name.startsWith('file:') || name.startsWith('/') || /^[A-Za-z]:[\\/]/.test(name))
      ? name
      : undefined;
  } finally {
    Error.prepareStackTrace = original;
  }
}

/** Resolves a package path the way this package would (then the entry script, then the working directory). */
export function resolvePackagePath(specifier: string): string | undefined {
  for (const base of [ownFile(), process.argv[1], `${process.cwd()}/package.json`]) {
    if (!base) continue;
    try {
      return createRequire(base).resolve(specifier);
    } catch {
      // try the next base
    }
  }
  return undefined;
}
