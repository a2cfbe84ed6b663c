import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { fileError } from '../internal/file-error';

/** A file's SHA-256 (lowercase hex) and its size in bytes. */
export interface FileHash {
  sha256: string;
  bytes: number;
}

/**
 * Hashes a file with SHA-256 by streaming it (constant memory, any size). A missing or unreadable file throws an
 * `InvalidInputError` naming it; an abort stops the read and rethrows the signal's reason.
 */
export async function sha256File(file: string, options: { abortSignal?: AbortSignal } = {}): Promise<FileHash> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    const stream = createReadStream(file, { highWaterMark: 1 << 20, signal: options.abortSignal });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.byteLength;
    }
  } catch (error) {
    if (options.abortSignal?.aborted) throw options.abortSignal.reason;
    throw fileError(file, error);
  }
  return { sha256: hash.digest('hex'), bytes };
}
