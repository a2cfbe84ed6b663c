import * as tf from '@tensorflow/tfjs-core';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CheckpointMismatchError,
  InvalidInputError,
  readSafetensors,
  writeSafetensors,
  type SafetensorsFile,
  type TensorToWrite,
  writeFileAtomic,
} from '@synth2/core';
import { writeDirAtomic } from './checkpoint-dir';
import type { Module } from './module';

export const MODEL_FILE = 'model.safetensors';
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
  await writeSafetensors(join(dir, MODEL_FILE), tensors, metadata);
  await writeFileAtomic(join(dir, CONFIG_FILE), text);
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

async function requireFile(path: string, what: string): Promise<void> {
  const ok = await stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!ok) throw new InvalidInputError(`no ${what} at ${path}: is this a checkpoint directory written by saveCheckpoint?`, { file: path });
}

/** Reads `dir/config.json` only (to build the module before `loadCheckpoint`). */
export async function readCheckpointConfig(dir: string): Promise<unknown> {
  const file = join(dir, CONFIG_FILE);
  await requireFile(file, 'checkpoint config');
  const text = await readFile(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`checkpoint config is not valid JSON (${(error as Error).message}); the file is corrupt, re-save the checkpoint`, {
      file,
      cause: error,
    });
  }
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
    if (t.dtype !== DTYPE_OF[v.dtype]) {
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
 * Loads `dir/model.safetensors` into `module`. Every parameter must be present with the same shape and dtype and
 * no unknown tensor may be present; otherwise a `CheckpointMismatchError` names the tensor and nothing is assigned.
 * Values are restored bit for bit.
 */
export async function loadCheckpoint(dir: string, module: Module): Promise<{ config: unknown; extraNames: string[] }> {
  const file = join(dir, MODEL_FILE);
  await requireFile(file, 'model.safetensors');
  const config = await readCheckpointConfig(dir);
  const data = await readSafetensors(file);
  const extras = extraNames(data);
  const params = module.parameters();
  checkTensorsFit(data, params, `checkpoint ${dir}`, extras);
  assignTensors(data, params);
  return { config, extraNames: extras };
}

/** Reads the `extra` tensors saved with a checkpoint (the caller owns, and must dispose, the returned tensors). */
export async function loadCheckpointExtras(dir: string): Promise<Record<string, tf.Tensor>> {
  const file = join(dir, MODEL_FILE);
  await requireFile(file, 'model.safetensors');
  const data = await readSafetensors(file);
  const out: Record<string, tf.Tensor> = {};
  for (const name of extraNames(data)) {
    const t = data.tensors[name];
    if (t) out[name] = tf.tensor(t.data as Float32Array | Int32Array, t.shape, t.dtype === 'I32' ? 'int32' : 'float32');
  }
  return out;
}
