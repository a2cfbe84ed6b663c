import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { InvalidInputError } from '../errors';

/** Where a path entry was read from, named in the error when it is refused. */
export interface PathEntryOrigin {
  /** The data file the entry came from (annotations, CSV, manifest). */
  file?: string;
  /** Its line in that file, when it has lines. */
  line?: number;
  /** The field or entry, e.g. `images[3].file_name` or `shards[0].file`. */
  field?: string;
}

function refuse(entry: string, root: string, why: string, origin: PathEntryOrigin): never {
  throw new InvalidInputError(
    `path ${JSON.stringify(entry)} ${why}; paths read from a data file must stay inside ${root}. Fix the entry (a path relative to that folder) or move the file inside it.`,
    { file: origin.file, line: origin.line, field: origin.field },
  );
}

function isWithin(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * Resolves `entry`, a relative path read from a data file, inside `root` without touching the disk: refuses an
 * empty entry, a NUL byte, an absolute path and any `..` that climbs out of `root`. Symlinks are not followed; use
 * `resolvePathInside` for paths that are read.
 */
export function resolvePathInsideSync(root: string, entry: string, origin: PathEntryOrigin = {}): string {
  const base = resolve(root);
  if (typeof entry !== 'string' || entry === '') refuse(String(entry), base, 'is empty', origin);
  if (entry.includes('\0')) refuse(entry, base, 'contains a NUL byte', origin);
  if (isAbsolute(entry) || /^[A-Za-z]:[\\/]/.test(entry) || entry.startsWith('\\\\'))
    refuse(entry, base, 'is absolute', origin);
  const target = resolve(base, entry);
  if (!isWithin(base, target)) refuse(entry, base, 'climbs out of its folder with ".."', origin);
  return target;
}

/** The real path of `path`, or of its nearest existing ancestor joined with the rest when it does not exist yet. */
async function realpathOfExisting(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const parent = dirname(path);
    if ((code === 'ENOENT' || code === 'ENOTDIR') && parent !== path)
      return resolve(await realpathOfExisting(parent), relative(parent, path));
    throw error;
  }
}

/** Resolves many entries inside one folder; the folder's real path is looked up once (see `resolvePathInside`). */
export interface PathResolver {
  readonly root: string;
  resolve(entry: string, origin?: PathEntryOrigin): Promise<string>;
}

/** A `PathResolver` for `root`: use it to check many entries of one data file (one realpath of the folder in all). */
export function createPathResolver(root: string): PathResolver {
  const base = resolve(root);
  let realRoot: Promise<string> | undefined;
  return {
    root: base,
    async resolve(entry, origin = {}) {
      const target = resolvePathInsideSync(base, entry, origin);
      realRoot ??= realpathOfExisting(base);
      if (!isWithin(await realRoot, await realpathOfExisting(target)))
        refuse(entry, base, 'leads outside its folder through a symlink', origin);
      return target;
    },
  };
}

/**
 * Resolves `entry`, a relative path read from a data file (an image's `file_name`, a shard's `file`), inside
 * `root`: refuses what `resolvePathInsideSync` refuses, and a path whose symlinks lead outside `root`'s real path.
 * A path that does not exist yet is checked through its nearest existing folder. Returns the path under `root`
 * (not the symlink target), so messages keep the names the user gave. Throws an `InvalidInputError` naming the
 * entry and where it came from.
 */
export async function resolvePathInside(
  root: string,
  entry: string,
  origin: PathEntryOrigin = {},
): Promise<string> {
  return createPathResolver(root).resolve(entry, origin);
}

/**
 * Checks that `name` (an id used as a file name, e.g. `<imageId>.png`) is one plain path segment: not empty, no
 * `/` or `\`, no NUL, not `.` or `..`. Returns it unchanged; throws an `InvalidInputError` naming it otherwise.
 */
export function assertSafeFileName(name: string, origin: PathEntryOrigin = {}): string {
  const why =
    typeof name !== 'string' || name === ''
      ? 'is empty'
      : name.includes('\0')
        ? 'contains a NUL byte'
        : /[/\\]/.test(name)
          ? 'contains a path separator'
          : name === '.' || name === '..'
            ? 'names a folder'
            : undefined;
  if (why) {
    throw new InvalidInputError(
      `${JSON.stringify(name)} cannot be used as a file name: it ${why}. Use ids without "/", "\\" or NUL bytes.`,
      { file: origin.file, line: origin.line, field: origin.field },
    );
  }
  return name;
}
