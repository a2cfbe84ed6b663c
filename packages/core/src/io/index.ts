export { writeFileAtomic, writeJsonAtomic } from './atomic-write';
export type { AtomicWriteData, AtomicWriteOptions } from './atomic-write';
export { readJson, parseJsonText } from './json';
export { sha256File } from './file-hash';
export type { FileHash } from './file-hash';
export { readJsonl, readJsonlAll, JsonlWriter, appendJsonl, writeJsonl } from './jsonl';
export type { ReadJsonlOptions, JsonlWriterOptions } from './jsonl';
export {
  writeSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  parseSafetensors,
  serializeSafetensors,
  SAFETENSORS_DTYPES,
  DTYPE_BYTES,
} from './safetensors';
export type {
  SafetensorsDType,
  TensorData,
  TensorToWrite,
  SafetensorsTensor,
  SafetensorsFile,
  SafetensorsHeader,
  SafetensorsHeaderEntry,
  ParseSafetensorsOptions,
} from './safetensors';
export {
  float32ToFloat16Bits,
  float16BitsToFloat32,
  float16ToFloat32Array,
  float32ToFloat16Array,
} from './float16';
export { ShardedTensorWriter, ShardedTensorReader, SHARD_MANIFEST_FILE, verifyShardedStore } from './sharded-tensors';
export type {
  ShardTensorSpec,
  ShardedTensorWriterOptions,
  ShardedTensorReaderOptions,
  ShardData,
  ShardItem,
  ShardedStoreVerification,
  VerifyShardedStoreOptions,
} from './sharded-tensors';
export { resolvePathInside, resolvePathInsideSync, createPathResolver, assertSafeFileName } from './safe-path';
export type { PathEntryOrigin, PathResolver } from './safe-path';
