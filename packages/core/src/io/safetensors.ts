import { open, readFile } from 'node:fs/promises';
import { fileError } from '../internal/file-error';
import { writeFileAtomic } from './atomic-write';
import { MAX_HEADER, parseHeader, parseSafetensors, serializeSafetensors } from './safetensors-format';
import type { ParseSafetensorsOptions, SafetensorsFile, SafetensorsHeader, TensorToWrite } from './safetensors-format';

export {
  SAFETENSORS_DTYPES,
  DTYPE_BYTES,
  serializeSafetensors,
  parseSafetensors,
} from './safetensors-format';
export type {
  SafetensorsDType,
  TensorData,
  TensorToWrite,
  SafetensorsTensor,
  SafetensorsFile,
  SafetensorsHeaderEntry,
  SafetensorsHeader,
  ParseSafetensorsOptions,
} from './safetensors-format';

/** Writes a safetensors file atomically (validated first: nothing is written on bad input). */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Promise<void> {
  const chunks = serializeSafetensors(tensors, metadata, { file: path });
  await writeFileAtomic(path, chunks);
}

/** Reads a safetensors file. Missing, truncated or malformed files throw `InvalidInputError` naming the file. */
export async function readSafetensors(
  path: string,
  options: Omit<ParseSafetensorsOptions, 'file'> = {},
): Promise<SafetensorsFile> {
  let buffer: Buffer;
  try {
    buffer = await readFile(path);
  } catch (error) {
    throw fileError(path, error, 'safetensors file');
  }
  return parseSafetensors(buffer, { ...options, file: path });
}

/** Reads only the header (names, dtypes, shapes, offsets, metadata) of a safetensors file. */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw fileError(path, error, 'safetensors file');
  }
  try {
    const { size } = await handle.stat();
    const prefix = Buffer.alloc(8);
    await handle.read(prefix, 0, Math.min(8, size), 0);
    if (size < 8) return parseHeader(prefix, size, path);
    const n = prefix.readBigUInt64LE(0);
    if (n > BigInt(MAX_HEADER) || 8 + Number(n) > size) return parseHeader(prefix, size, path);
    const all = Buffer.alloc(8 + Number(n));
    prefix.copy(all);
    await handle.read(all, 8, Number(n), 8);
    return parseHeader(all, size, path);
  } finally {
    await handle.close();
  }
}

