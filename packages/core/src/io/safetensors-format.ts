// The safetensors format in memory (no file system): serialise, parse and decode. Runs in Node and in browsers.
import type { TensorDType } from '../schemas';
import { InvalidInputError } from '../errors';
import { float16ToFloat32Array, float32ToFloat16Array } from './float16';

/** The safetensors dtypes core reads and writes. */
export type SafetensorsDType = TensorDType;
/** The safetensors dtypes core reads and writes. */
export const SAFETENSORS_DTYPES: readonly SafetensorsDType[] = ['F32', 'F16', 'I32', 'U16', 'U8'];

/** Element size in bytes of each dtype. */
export const DTYPE_BYTES: Readonly<Record<SafetensorsDType, number>> = {
  F32: 4,
  F16: 2,
  I32: 4,
  U16: 2,
  U8: 1,
};

/** The typed array each dtype is held in (F16 is converted to Float32 on read). */
export type TensorData = Float32Array | Int32Array | Uint16Array | Uint8Array;

/** A tensor to write: F32 from a Float32Array; F16 from a Float32Array (converted) or a Uint16Array of raw bits. */
export interface TensorToWrite {
  dtype: SafetensorsDType;
  shape: readonly number[];
  data: Float32Array | Int32Array | Uint16Array | Uint8Array | Uint8ClampedArray;
}

/** A tensor read back: `dtype` as stored; F16 data comes as a Float32Array. */
export interface SafetensorsTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: TensorData;
}

/** A decoded safetensors file: its tensors and metadata. */
export interface SafetensorsFile {
  tensors: Record<string, SafetensorsTensor>;
  /** The `__metadata__` string map (empty when absent). */
  metadata: Record<string, string>;
}

/** One tensor's header entry. */
export interface SafetensorsHeaderEntry {
  dtype: string;
  shape: number[];
  /** [begin, end) byte offsets relative to the start of the data section. */
  dataOffsets: [number, number];
}

/** A safetensors file's parsed header: tensor entries, metadata and where the data starts. */
export interface SafetensorsHeader {
  tensors: Record<string, SafetensorsHeaderEntry>;
  metadata: Record<string, string>;
  /** Byte offset of the data section in the file (8 + header length). */
  dataStart: number;
}

/** The largest header accepted (the reference implementation's limit is 100 MB). */
export const MAX_HEADER = 100_000_000;

const ARRAY_OF: Record<SafetensorsDType, string[]> = {
  F32: ['Float32Array'],
  F16: ['Float32Array', 'Uint16Array'],
  I32: ['Int32Array'],
  U16: ['Uint16Array'],
  U8: ['Uint8Array', 'Uint8ClampedArray'],
};

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * Serialises tensors to the safetensors layout: an 8-byte little-endian header length, a JSON header (padded with
 * spaces to a multiple of 8 bytes), then the tensors' bytes, each aligned to its element size. Returns the chunks
 * (header first) so large tensors are not copied.
 */
export function serializeSafetensors(
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
  where: { file?: string } = {},
): Uint8Array[] {
  const file = where.file;
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') {
        throw new InvalidInputError(
          `metadata value must be a string, got ${typeof v}. Use JSON.stringify for structured values.`,
          { file, field: `__metadata__.${k}` },
        );
      }
    }
  }
  const entries = Object.entries(tensors).map(([name, t]) => {
    if (name === '' || name === '__metadata__') {
      throw new InvalidInputError(`"${name}" cannot be a tensor name. Rename the tensor.`, {
        file,
        field: name,
      });
    }
    if (!t || !SAFETENSORS_DTYPES.includes(t.dtype)) {
      throw new InvalidInputError(
        `unknown dtype ${JSON.stringify(t?.dtype)}; use one of ${SAFETENSORS_DTYPES.join(', ')}.`,
        { file, field: `${name}.dtype` },
      );
    }
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new InvalidInputError(
        `shape must be an array of non-negative integers, got ${JSON.stringify(t.shape)}.`,
        {
          file,
          field: `${name}.shape`,
        },
      );
    }
    const kind = t.data?.constructor?.name;
    if (!ArrayBuffer.isView(t.data) || !ARRAY_OF[t.dtype].includes(kind)) {
      throw new InvalidInputError(
        `dtype ${t.dtype} needs data as ${ARRAY_OF[t.dtype].join(' or ')}, got ${kind ?? typeof t.data}.`,
        { file, field: `${name}.data` },
      );
    }
    const n = elementCount(t.shape);
    if (t.data.length !== n) {
      throw new InvalidInputError(
        `shape [${t.shape.join(', ')}] needs ${n} elements but data has ${t.data.length}. Fix the shape or the data.`,
        { file, field: name },
      );
    }
    let bytes: Uint8Array;
    if (t.dtype === 'F16' && t.data instanceof Float32Array) bytes = bytesOf(float32ToFloat16Array(t.data));
    else bytes = bytesOf(t.data);
    return { name, dtype: t.dtype, shape: [...t.shape], bytes };
  });
  // Largest elements first keeps every tensor aligned to its element size (the data section starts 8-aligned).
  entries.sort(
    (a, b) => DTYPE_BYTES[b.dtype] - DTYPE_BYTES[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes.byteLength] };
    offset += e.bytes.byteLength;
  }
  const text = new TextEncoder().encode(JSON.stringify(header));
  const json = new Uint8Array(Math.ceil(text.byteLength / 8) * 8).fill(0x20);
  json.set(text);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  return [prefix, json, ...entries.map((e) => e.bytes)];
}

function bad(message: string, file: string | undefined, field?: string): InvalidInputError {
  return new InvalidInputError(`${message}`, { file, field });
}

/** Parses and checks a header from the first bytes of a file; `available` is the total file length. */
export function parseHeader(prefixAndHeader: Uint8Array, available: number, file?: string): SafetensorsHeader {
  const what = 'Is this a safetensors file? It may be truncated or corrupt; regenerate it.';
  if (available < 8)
    throw bad(`file is too short (${available} bytes) to be safetensors: truncated. ${what}`, file);
  const dv = new DataView(prefixAndHeader.buffer, prefixAndHeader.byteOffset, 8);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER))
    throw bad(`header length ${n64} is implausibly large (bad header). ${what}`, file);
  const n = Number(n64);
  if (8 + n > available) {
    throw bad(
      `header needs ${n} bytes but the file has only ${available - 8} after the length prefix: truncated. ${what}`,
      file,
    );
  }
  const text = new TextDecoder().decode(prefixAndHeader.subarray(8, 8 + n));
  let raw: unknown;
  try {
    if (!text.startsWith('{')) throw new Error('the header does not start with "{"');
    raw = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`bad header: not valid JSON (${(error as Error).message}). ${what}`, {
      file,
      cause: error,
    });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw bad(`bad header: not a JSON object. ${what}`, file);
  const tensors: Record<string, SafetensorsHeaderEntry> = {};
  let metadata: Record<string, string> = {};
  const dataLength = available - 8 - n;
  const ranges: { name: string; begin: number; end: number }[] = [];
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw bad(`bad header: __metadata__ must be an object of strings.`, file, '__metadata__');
      }
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string')
          throw bad(`bad header: metadata values must be strings.`, file, `__metadata__.${k}`);
      }
      metadata = value as Record<string, string>;
      continue;
    }
    const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (!v || typeof v !== 'object') throw bad(`bad header: entry is not an object.`, file, name);
    if (typeof v.dtype !== 'string') throw bad(`bad header: missing "dtype".`, file, name);
    if (!Array.isArray(v.shape) || !v.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw bad(`bad header: "shape" must be an array of non-negative integers.`, file, name);
    }
    const offs = v.data_offsets;
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((d) => Number.isInteger(d) && d >= 0) ||
      offs[0] > offs[1]
    ) {
      throw bad(`bad header: "data_offsets" must be [begin, end] with 0 <= begin <= end.`, file, name);
    }
    const [begin, end] = offs as [number, number];
    if (end > dataLength) {
      throw bad(
        `data_offsets [${begin}, ${end}] are out of range: the data section has ${dataLength} bytes (file truncated or corrupt). Regenerate the file.`,
        file,
        name,
      );
    }
    const size = DTYPE_BYTES[v.dtype as SafetensorsDType];
    if (size !== undefined && end - begin !== elementCount(v.shape) * size) {
      throw bad(
        `shape [${v.shape.join(', ')}] of ${v.dtype} needs ${elementCount(v.shape) * size} bytes but data_offsets cover ${end - begin}. The file is corrupt.`,
        file,
        name,
      );
    }
    tensors[name] = { dtype: v.dtype, shape: v.shape as number[], dataOffsets: [begin, end] };
    ranges.push({ name, begin, end });
  }
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i].begin < ranges[i - 1].end) {
      throw bad(
        `bad header: data of "${ranges[i].name}" overlaps "${ranges[i - 1].name}". The file is corrupt.`,
        file,
        ranges[i].name,
      );
    }
  }
  return { tensors, metadata, dataStart: 8 + n };
}

function decode(
  entry: SafetensorsHeaderEntry,
  bytes: Uint8Array,
  name: string,
  file?: string,
): SafetensorsTensor {
  const dtype = entry.dtype as SafetensorsDType;
  if (!SAFETENSORS_DTYPES.includes(dtype)) {
    throw new InvalidInputError(
      `unknown or unsupported dtype "${entry.dtype}"; @synth2/core reads ${SAFETENSORS_DTYPES.join(', ')}. Convert the tensor (e.g. to F32) before saving.`,
      { file, field: `${name}.dtype` },
    );
  }
  const size = DTYPE_BYTES[dtype];
  const count = bytes.byteLength / size;
  // Typed arrays need aligned offsets: view in place when aligned, else copy.
  const aligned = bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes);
  let data: TensorData;
  switch (dtype) {
    case 'F32':
      data = new Float32Array(aligned.buffer, aligned.byteOffset, count);
      break;
    case 'F16':
      data = float16ToFloat32Array(new Uint16Array(aligned.buffer, aligned.byteOffset, count));
      break;
    case 'I32':
      data = new Int32Array(aligned.buffer, aligned.byteOffset, count);
      break;
    case 'U16':
      data = new Uint16Array(aligned.buffer, aligned.byteOffset, count);
      break;
    case 'U8':
      data = new Uint8Array(aligned.buffer, aligned.byteOffset, count);
      break;
  }
  return { dtype, shape: [...entry.shape], data };
}

/** Options of `parseSafetensors`. */
export interface ParseSafetensorsOptions {
  /** File name for error messages. */
  file?: string;
  /** Decode only these tensors (a missing name is an error). */
  names?: readonly string[];
}

/** Parses a whole safetensors file held in memory. Typed arrays view the buffer where alignment allows. */
export function parseSafetensors(buffer: Uint8Array, options: ParseSafetensorsOptions = {}): SafetensorsFile {
  if (isBigEndian) throw new Error('safetensors IO needs a little-endian host');
  const header = parseHeader(buffer, buffer.byteLength, options.file);
  const names = options.names ?? Object.keys(header.tensors);
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const name of names) {
    const entry = header.tensors[name];
    if (!entry) {
      throw new InvalidInputError(
        `tensor "${name}" is not in the file (it has: ${Object.keys(header.tensors).join(', ') || 'none'}).`,
        {
          file: options.file,
          field: name,
        },
      );
    }
    const [b, e] = entry.dataOffsets;
    tensors[name] = decode(
      entry,
      buffer.subarray(header.dataStart + b, header.dataStart + e),
      name,
      options.file,
    );
  }
  return { tensors, metadata: header.metadata };
}

const isBigEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;
