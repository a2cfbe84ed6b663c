import { readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { InvalidInputError, readJson } from '@synth2/core';
import { z } from 'zod';
import { PairStream, type FolderLoadOptions, type IndexEntry, type SkippedEntry } from './pair-stream';

/** The COCO caption annotations format (tolerant: extra fields are kept). */
export const CocoCaptionsSchema = z.looseObject({
  info: z.unknown().optional(),
  licenses: z.unknown().optional(),
  images: z.array(
    z.looseObject({
      id: z.union([z.number(), z.string()]),
      file_name: z.string().min(1),
      width: z.number().optional(),
      height: z.number().optional(),
    }),
  ),
  annotations: z.array(
    z.looseObject({
      id: z.union([z.number(), z.string()]).optional(),
      image_id: z.union([z.number(), z.string()]),
      caption: z.string(),
    }),
  ),
});
/** COCO caption annotations as read by `CocoCaptionsSchema`. */
export type CocoCaptions = z.infer<typeof CocoCaptionsSchema>;

/** An annotations file and the folder its images are in. */
export interface CocoSource {
  annotations: string;
  images: string;
}

const exists = (p: string): Promise<boolean> =>
  stat(p).then(
    () => true,
    () => false,
  );

/**
 * Finds the annotation files of a COCO-style folder: `captions.json` (images in `images/` or beside it), or
 * `annotations/captions_<split>.json` with images in `<split>/` (the official layout).
 */
export async function findCocoSources(dir: string): Promise<CocoSource[]> {
  const root = resolve(dir);
  if (!(await exists(root))) {
    throw new InvalidInputError(
      `COCO folder not found: ${root}. Pass the folder that holds captions.json or annotations/.`,
    );
  }
  if (await exists(join(root, 'captions.json'))) {
    const images = (await exists(join(root, 'images'))) ? join(root, 'images') : root;
    return [{ annotations: join(root, 'captions.json'), images }];
  }
  const annDir = join(root, 'annotations');
  const files = (await exists(annDir))
    ? (await readdir(annDir)).filter((f) => /^captions_.+\.json$/.test(f)).sort()
    : [];
  if (files.length === 0) {
    throw new InvalidInputError(
      `no COCO caption annotations in ${root}: expected captions.json or annotations/captions_<split>.json. ` +
        'Pass { annotations, images } to name them explicitly.',
    );
  }
  const sources: CocoSource[] = [];
  for (const f of files) {
    const split = f.slice('captions_'.length, -'.json'.length);
    const candidates = [join(root, split), join(root, 'images', split), join(root, 'images')];
    let images = candidates[0];
    for (const c of candidates)
      if (await exists(c)) {
        images = c;
        break;
      }
    sources.push({ annotations: join(annDir, f), images });
  }
  return sources;
}

async function readCocoSource(
  source: CocoSource,
): Promise<{ entries: IndexEntry[]; problems: SkippedEntry[] }> {
  const file = resolve(source.annotations);
  const data = await readJson(file, CocoCaptionsSchema);
  const problems: SkippedEntry[] = [];
  const byId = new Map<string, { image: CocoCaptions['images'][number]; captions: string[] }>();
  for (const image of data.images) {
    const id = String(image.id);
    if (byId.has(id)) {
      problems.push({
        problem: 'malformed-entry',
        entry: `image ${id} (${image.file_name})`,
        message: `image id ${id} is listed twice in "images"`,
        file,
      });
      continue;
    }
    byId.set(id, { image, captions: [] });
  }
  for (const ann of data.annotations) {
    const id = String(ann.image_id);
    const target = byId.get(id);
    const entry = `annotation ${ann.id ?? '?'} (image_id ${id})`;
    if (!target) {
      problems.push({
        problem: 'unknown-image',
        entry,
        message: `caption for an image id that is not in "images": "${ann.caption}"`,
        file,
      });
      continue;
    }
    const caption = ann.caption.trim();
    if (!caption) {
      problems.push({ problem: 'malformed-entry', entry, message: 'empty caption', file });
      continue;
    }
    target.captions.push(caption);
  }
  const entries: IndexEntry[] = [];
  for (const [id, { image, captions }] of byId) {
    const label = `image ${id} (${image.file_name})`;
    if (captions.length === 0) {
      problems.push({
        problem: 'no-captions',
        entry: label,
        message: 'image has no captions in "annotations"',
        file,
      });
      continue;
    }
    entries.push({
      imageId: id,
      imagesRoot: resolve(source.images),
      imageEntry: image.file_name,
      pathField: 'file_name',
      captions,
      label,
      file,
      width: image.width,
      height: image.height,
      meta: { source: 'coco', annotations: basename(file), fileName: image.file_name },
    });
  }
  return { entries, problems };
}

/**
 * Streams the image–caption pairs of a COCO-format folder (`captions.json` + `images/`, or the official
 * `annotations/captions_<split>.json` + `<split>/` layout), or of an explicit `{ annotations, images }` pair.
 * Images are decoded (and resized with `image: { size }`) through `@synth2/core`.
 */
export function loadCocoFolder(source: string | CocoSource, options: FolderLoadOptions = {}): PairStream {
  return new PairStream(async () => {
    const sources = typeof source === 'string' ? await findCocoSources(source) : [source];
    const entries: IndexEntry[] = [];
    const problems: SkippedEntry[] = [];
    for (const s of sources) {
      const r = await readCocoSource(s);
      entries.push(...r.entries);
      problems.push(...r.problems);
    }
    return { entries, problems };
  }, options);
}
