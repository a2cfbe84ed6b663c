import { InvalidInputError } from '../errors';

/** Turns a Node fs error for `file` into an `InvalidInputError` that says what is wrong and what to do. */
export function fileError(file: string, error: unknown, what = 'file'): InvalidInputError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT')
    return new InvalidInputError(`${what} not found. Check the path.`, { file, cause: error });
  if (code === 'EISDIR')
    return new InvalidInputError(`expected a ${what} but found a directory.`, { file, cause: error });
  if (code === 'EACCES' || code === 'EPERM')
    return new InvalidInputError(`permission denied reading the ${what}. Check its permissions.`, {
      file,
      cause: error,
    });
  const message = error instanceof Error ? error.message : String(error);
  return new InvalidInputError(`cannot read the ${what}: ${message}`, { file, cause: error });
}
