import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import {
  ConfigurationError,
  InvalidInputError,
  assertSafeFileName,
  throwIfAborted,
  writeFileAtomic,
  writeJsonAtomic,
} from '@synth2/core';
import type { ShapesItem } from '../shapes/shapes-world';
import type { ShapesSplit } from '../shapes/splits';
import { encodeRgbPng } from './encode';

/** Options of `exportCocoFolder`. */
export interface ExportCocoOptions {
  /** Replace `dir` if it exists (default false: an existing folder is an error). */
  overwrite?: boolean;
  /** Called after each image is written. */
  onProgress?: (done: number, total: number) => void;
  /** Stops the export (nothing is left behind) with an `AbortedError`. */
  abortSignal?: AbortSignal;
  /** @deprecated Use `abortSignal` (still honoured in this release). */
  signal?: AbortSignal;
}

/** What `exportCocoFolder` wrote: the folder, its annotations file and the counts. */
export interface ExportCocoResult {
  dir: string;
  annotations: string;
  images: number;
  captions: number;
}

const exists = (p: string): Promise<boolean> =>
  stat(p).then(
    () => true,
    () => false,
  );

/** Image ids become file names (`images/<id>.png`): each must be one plain, unique path segment. */
function checkImageIds(items: readonly ShapesItem[]): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    assertSafeFileName(item.imageId, { field: `items[${i}].imageId` });
    if (seen.has(item.imageId)) {
      throw new InvalidInputError(
        `image id "${item.imageId}" is used twice: each image needs its own id (its file name).`,
        {
          field: `items[${i}].imageId`,
        },
      );
    }
    seen.add(item.imageId);
  });
}

/**
 * Writes a split (or any list of shapes items) as a COCO-format folder: `images/<id>.png`, `captions.json` in the
 * COCO caption annotations format (`images[{id, file_name, width, height}]`, `annotations[{id, image_id, caption}]`;
 * numeric ids, the world's id in `synth2_id`, the scene in `scene`) and, for a split, `manifest.json` with its
 * held-out pairs. Atomic: the folder is built beside `dir` and renamed into place. Image ids are file names: an id
 * with a path separator, `.`/`..`, a NUL byte, or used twice is refused before anything is written.
 */
export async function exportCocoFolder(
  split: ShapesSplit | { name?: string; items: ShapesItem[] } | ShapesItem[],
  dir: string,
  options: ExportCocoOptions = {},
): Promise<ExportCocoResult> {
  const items = Array.isArray(split) ? split : split.items;
  checkImageIds(items);
  const target = resolve(dir);
  if ((await exists(target)) && !options.overwrite) {
    throw new ConfigurationError(`${target} already exists; choose a new folder or pass overwrite: true.`, {
      setting: 'dir',
    });
  }
  const tmp = join(
    dirname(target),
    `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  await mkdir(join(tmp, 'images'), { recursive: true });
  try {
    const images: {
      id: number;
      file_name: string;
      width: number;
      height: number;
      synth2_id: string;
      scene: unknown;
    }[] = [];
    const annotations: { id: number; image_id: number; caption: string }[] = [];
    for (let i = 0; i < items.length; i++) {
      throwIfAborted(options.abortSignal ?? options.signal);
      const item = items[i];
      if (item.pixels.length !== item.width * item.height * 3) {
        throw new InvalidInputError(
          `item ${item.imageId}: pixels hold ${item.pixels.length} bytes, expected ${item.width}×${item.height}×3 (RGB HWC).`,
        );
      }
      const id = i + 1;
      const fileName = `${item.imageId}.png`;
      await writeFileAtomic(
        join(tmp, 'images', fileName),
        await encodeRgbPng(item.pixels, item.width, item.height),
        {
          fsync: false,
        },
      );
      images.push({
        id,
        file_name: fileName,
        width: item.width,
        height: item.height,
        synth2_id: item.imageId,
        scene: item.scene,
      });
      for (const caption of item.captions)
        annotations.push({ id: annotations.length + 1, image_id: id, caption });
      options.onProgress?.(i + 1, items.length);
    }
    const name = Array.isArray(split) ? undefined : split.name;
    await writeJsonAtomic(join(tmp, 'captions.json'), {
      info: { description: `Synth² shapes world${name ? `, ${name} split` : ''}`, version: '1.0' },
      licenses: [],
      images,
      annotations,
    });
    if (!Array.isArray(split) && 'manifest' in split) {
      await writeJsonAtomic(join(tmp, 'manifest.json'), { split: split.name, ...split.manifest });
    }
    if (await exists(target)) {
      const old = `${tmp}.old`;
      await rename(target, old);
      await rename(tmp, target);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, target);
    }
    return {
      dir: target,
      annotations: join(target, 'captions.json'),
      images: images.length,
      captions: annotations.length,
    };
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}
