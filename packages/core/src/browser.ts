/**
 * `@synth2/core` in a browser bundle (the `browser` export condition): everything of the main entry that needs no
 * file system — errors, RNG, schemas, registries, vocabulary (`Vocabulary.load` fetches a URL), safetensors in memory
 * and float16 conversion. File IO (JSONL, atomic writes, sharded stores, images) is Node-only and not exported here.
 */
export * from './errors';
export * from './rng';
export * from './schemas';
export * from './registry';
export * from './vocab';
export { parseJsonText } from './io/json-text';
export { fetchBytes, fetchText } from './io/fetch-bytes';
export { parseSafetensors, serializeSafetensors, SAFETENSORS_DTYPES, DTYPE_BYTES } from './io/safetensors-format';
export type {
  SafetensorsDType,
  TensorData,
  TensorToWrite,
  SafetensorsTensor,
  SafetensorsFile,
  SafetensorsHeader,
  SafetensorsHeaderEntry,
  ParseSafetensorsOptions,
} from './io/safetensors-format';
export {
  float32ToFloat16Bits,
  float16BitsToFloat32,
  float16ToFloat32Array,
  float32ToFloat16Array,
} from './io/float16';
