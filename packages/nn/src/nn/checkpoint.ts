import * as tf from '@tensorflow/tfjs-core';
import { CheckpointMismatchError, InvalidInputError, parseSafetensors, type SafetensorsFile, type TensorToWrite } from '@synth2/core';
import { writeDirAtomic } from './checkpoint-dir';
import { joinPath as join, readTensors, readText, requireFile, writeTensors, writeText } from './checkpoint-files';
import type { Module } from './module';

/** File name of a checkpoint's weights (`model.safetensors`). */
export const MODEL_FILE = 'model.safetensors';
/** File name of a checkpoint's config (`config.json`). */
export const CONFIG_FILE = 'config.json';
const FORMAT = 'synth2-checkpoint-v1';

/** tfjs tensors → safetensors entries (F32 / I32), read from the backend. */
export async function tensorsToWrite(tensors: Iterable<[string, tf.Tensor]>): Promise<Record<string, TensorToWrite>> {
  const out: Record<string, TensorToWrite> = {};
  for (const [name, t] of tensors) {
    if (t.dtype !== 'float32' && t.dtype !== 'int32') {
      throw new InvalidInputError(`tensor "${name}" has dtype ${t.dtype}; checkpoints hold float32 and int32 tensors only`);
    }
    const data = await t.data();
    out[name] = {
      dtype: t.dtype === 'int32' ? 'I32' : 'F32',
      shape: t.shape,
      data: t.dtype === 'int32' ? Int32Array.from(data as Int32Array) : Float32Array.from(data as Float32Array),
    };
  }
  return out;
}

function jsonText(config: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(config ?? null, null, 2);
  } catch (error) {
    throw new InvalidInputError(`${what} cannot be written as JSON (${(error as Error).message}); pass plain data`, { cause: error });
  }
  if (text === undefined) throw new InvalidInputError(`${what} cannot be written as JSON; pass plain data`);
  return `${text}\n`;
}

/** Writes the module's parameters (+ `extra` tensors) and `config` into `dir` (already a fresh directory). */
export async function writeCheckpointFiles(
  dir: string,
  module: Module,
  config: unknown,
  extra: Record<string, tf.Tensor> = {},
): Promise<void> {
  const params = module.parameters();
  for (const name of Object.keys(extra)) {
    if (params.has(name)) throw new InvalidInputError(`extra tensor "${name}" has the name of a model parameter; rename it`);
  }
  const text = jsonText(config, 'the checkpoint config');
  const tensors = await tensorsToWrite([...params.entries(), ...Object.entries(extra)]);
  const metadata = { format: FORMAT, module: module.path, extra: JSON.stringify(Object.keys(extra)) };
  await writeTensors(join(dir, MODEL_FILE), tensors, metadata);
  await writeText(join(dir, CONFIG_FILE), text);
}

/**
 * Saves `module`'s parameters as `dir/model.safetensors` and `config` as `dir/config.json`, atomically
 * (a temp directory renamed into place: an interrupted save leaves the previous checkpoint intact).
 * `extra` tensors (e.g. an EMA copy) are stored beside the parameters under their own names.
 */
export async function saveCheckpoint(dir: string, module: Module, config: unknown, extra?: Record<string, tf.Tensor>): Promise<void> {
  jsonText(config, 'the checkpoint config'); // fail before touching the disk
  await writeDirAtomic(dir, (tmp) => writeCheckpointFiles(tmp, module, config, extra));
}

/**
 * A checkpoint held in memory (e.g. fetched by the caller): its `config.json` (parsed, or the text) and the bytes of
 * its `model.safetensors`. `name` is used in error messages.
 */
export interface CheckpointSource {
  config: unknown;
  weights: ArrayBuffer | Uint8Array;
  name?: string;
}

/** Where a checkpoint is: a directory (Node), a URL (browser build), or a {@link CheckpointSource} in memory. */
export type CheckpointLocation = string | CheckpointSource;

function isSource(location: CheckpointLocation): location is CheckpointSource {
  return typeof location === 'object' && location !== null && 'weights' in location;
}

/** A checkpoint location for messages: the directory or URL, or the source's `name`. */
export function checkpointName(location: CheckpointLocation): string {
  return isSource(location) ? (location.name ?? 'the in-memory checkpoint') : location;
}

function parseConfigText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`checkpoint config is not valid JSON (${(error as Error).message}); the file is corrupt, re-save the checkpoint`, {
      file,
      cause: error,
    });
  }
}

/** Reads `dir/config.json` only (to build the module before `loadCheckpoint`); a source's `config` as is. */
export async function readCheckpointConfig(location: CheckpointLocation): Promise<unknown> {
  if (isSource(location)) return typeof location.config === 'string' ? parseConfigText(location.config, checkpointName(location)) : location.config;
  const file = join(location, CONFIG_FILE);
  await requireFile(file, 'checkpoint config');
  return parseConfigText(await readText(file), file);
}

async function readWeights(location: CheckpointLocation): Promise<SafetensorsFile> {
  if (isSource(location)) {
    const w = location.weights;
    const bytes = w instanceof Uint8Array ? w : new Uint8Array(w);
    return parseSafetensors(bytes, { file: checkpointName(location) });
  }
  const file = join(location, MODEL_FILE);
  await requireFile(file, 'model.safetensors');
  return readTensors(file);
}

const DTYPE_OF: Record<string, string> = { float32: 'F32', int32: 'I32' };

/**
 * Checks that the tensors in `file` fit `params` exactly (names, shapes, dtypes; `allowExtra` names may be
 * additional) and throws a `CheckpointMismatchError` naming the first tensor that does not.
 */
export function checkTensorsFit(file: SafetensorsFile, params: Map<string, tf.Variable>, where: string, allowExtra: string[] = []): void {
  for (const [name, v] of params) {
    const t = file.tensors[name];
    if (!t) {
      throw new CheckpointMismatchError(
        `${where} has no tensor "${name}" (shape [${v.shape}]) that the model needs; was it saved from a different model or config?`,
        { tensor: name, expected: `[${v.shape}]`, actual: 'missing' },
      );
    }
    if (!tf.util.arraysEqual(t.shape, v.shape)) {
      throw new CheckpointMismatchError(
        `${where}: tensor "${name}" has shape [${t.shape}] but the model expects [${v.shape}]; build the model with the checkpoint's config.json`,
        { tensor: name, expected: `[${v.shape}]`, actual: `[${t.shape}]` },
      );
    }
    // float16 weights (an exported checkpoint) load into float32 variables: core decodes them to Float32Array
    if (t.dtype !== DTYPE_OF[v.dtype] && !(t.dtype === 'F16' && v.dtype === 'float32')) {
      throw new CheckpointMismatchError(`${where}: tensor "${name}" is ${t.dtype} but the model expects ${DTYPE_OF[v.dtype] ?? v.dtype}`, {
        tensor: name,
        expected: DTYPE_OF[v.dtype] ?? v.dtype,
        actual: t.dtype,
      });
    }
  }
  const allowed = new Set(allowExtra);
  for (const name of Object.keys(file.tensors)) {
    if (!params.has(name) && !allowed.has(name)) {
      throw new CheckpointMismatchError(
        `${where} has a tensor "${name}" that the model does not have; was it saved from a different model or config?`,
        { tensor: name, expected: 'absent', actual: `[${file.tensors[name].shape}]` },
      );
    }
  }
}

/** Assigns every variable from `file` (after `checkTensorsFit`). */
export function assignTensors(file: SafetensorsFile, params: Map<string, tf.Variable>): void {
  tf.tidy(() => {
    for (const [name, v] of params) {
      const t = file.tensors[name];
      v.assign(tf.tensor(t.data as Float32Array | Int32Array, t.shape, v.dtype));
    }
  });
}

function extraNames(file: SafetensorsFile): string[] {
  try {
    const names = JSON.parse(file.metadata.extra ?? '[]');
    return Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Loads `dir/model.safetensors` into `module` (`dir` is a directory in Node, a URL in the browser build, or a
 * {@link CheckpointSource}). Every parameter must be present with the same shape and dtype (F16 is accepted for
 * float32) and no unknown tensor may be present; otherwise a `CheckpointMismatchError` names the tensor and nothing
 * is assigned. F32 values are restored bit for bit.
 */
export async function loadCheckpoint(dir: CheckpointLocation, module: Module): Promise<{ config: unknown; extraNames: string[] }> {
  const data = await readWeights(dir);
  const config = await readCheckpointConfig(dir);
  const extras = extraNames(data);
  const params = module.parameters();
  checkTensorsFit(data, params, `checkpoint ${checkpointName(dir)}`, extras);
  assignTensors(data, params);
  return { config, extraNames: extras };
}

/** Reads the `extra` tensors saved with a checkpoint (the caller owns, and must dispose, the returned tensors). */
export async function loadCheckpointExtras(dir: CheckpointLocation): Promise<Record<string, tf.Tensor>> {
  const data = await readWeights(dir);
  const out: Record<string, tf.Tensor> = {};
  for (const name of extraNames(data)) {
    const t = data.tensors[name];
    if (t) out[name] = tf.tensor(t.data as Float32Array | Int32Array, t.shape, t.dtype === 'I32' ? 'int32' : 'float32');
  }
  return out;
}
