import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidInputError, readSafetensors, writeFileAtomic, writeSafetensors, type SafetensorsFile, type TensorToWrite } from '@synth2/core';

/** The file IO of checkpoints (Node: the file system; the browser build fetches URLs instead). */
export const joinPath = (dir: string, name: string): string => join(dir, name);

/** Throws a clear error when `path` is not a file. */
export async function requireFile(path: string, what: string): Promise<void> {
  const ok = await stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!ok) throw new InvalidInputError(`no ${what} at ${path}: is this a checkpoint directory written by saveCheckpoint?`, { file: path });
}

export const readText = (path: string): Promise<string> => readFile(path, 'utf8');

export const readTensors = (path: string): Promise<SafetensorsFile> => readSafetensors(path);

export const writeTensors = (path: string, tensors: Record<string, TensorToWrite>, metadata: Record<string, string>): Promise<void> =>
  writeSafetensors(path, tensors, metadata);

export const writeText = (path: string, text: string): Promise<void> => writeFileAtomic(path, text);
