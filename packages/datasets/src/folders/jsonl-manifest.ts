import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { InvalidInputError, parseJsonText } from '@synth2/core';
import { z } from 'zod';
import { PairStream, type FolderLoadOptions, type IndexEntry, type SkippedEntry } from './pair-stream';

/**
 * One line of a JSONL manifest: the image path (`image`, `file`, `imagePath` or `file_name`; relative to the
 * manifest's folder or `imagesRoot`, and inside it: absolute paths and `..` escapes are refused) and its captions (`captions` array or one `caption`); an optional id (`id`, `imageId`,
 * `image_id`, `coco_id`; default: the path). Other fields are kept in `meta`.
 */
export const JsonlManifestLineSchema = z.looseObject({
  image: z.string().min(1).optional(),
  file: z.string().min(1).optional(),
  imagePath: z.string().min(1).optional(),
  file_name: z.string().min(1).optional(),
  captions: z.array(z.string()).optional(),
  caption: z.string().optional(),
  id: z.union([z.string(), z.number()]).optional(),
  imageId: z.union([z.string(), z.number()]).optional(),
  image_id: z.union([z.string(), z.number()]).optional(),
  coco_id: z.union([z.string(), z.number()]).optional(),
  width: z.number().optional(),
  height: z.number().optional(),
});

const RESERVED = new Set(Object.keys(JsonlManifestLineSchema.shape));

/** Options of loading image–caption pairs from a JSONL manifest. */
export interface JsonlManifestOptions extends FolderLoadOptions {
  /** Folder the image paths are relative to, and must stay inside (default: the manifest's folder). */
  imagesRoot?: string;
}

async function readManifest(
  file: string,
  imagesRoot: string,
): Promise<{ entries: IndexEntry[]; problems: SkippedEntry[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InvalidInputError(
      `cannot read the JSONL manifest: ${(error as Error).message}. Check the path.`,
      { file, cause: error },
    );
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const entries: IndexEntry[] = [];
  const problems: SkippedEntry[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = i + 1;
    const body = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (body.trim() === '') return;
    const bad = (problem: SkippedEntry['problem'], message: string, entry = `line ${line}`) =>
      problems.push({ problem, entry, message, file, line });
    let value: unknown;
    try {
      value = parseJsonText(body);
    } catch (error) {
      return bad('malformed-entry', (error as Error).message.replace(/^line \d+: /, ''));
    }
    const parsed = JsonlManifestLineSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return bad('malformed-entry', `field "${issue.path.join('.')}": ${issue.message}`);
    }
    const rec = parsed.data;
    const pathField = (['image', 'file', 'imagePath', 'file_name'] as const).find(
      (k) => rec[k] !== undefined,
    );
    const path = pathField && rec[pathField];
    if (!path)
      return bad('malformed-entry', 'no image path (give "image", "file", "imagePath" or "file_name")');
    const id = String(rec.id ?? rec.imageId ?? rec.image_id ?? rec.coco_id ?? path);
    const label = `line ${line} (${path})`;
    const captions = [...(rec.captions ?? []), ...(rec.caption !== undefined ? [rec.caption] : [])]
      .map((c) => c.trim())
      .filter(Boolean);
    if (captions.length === 0) return bad('no-captions', 'image has no captions', label);
    const meta: Record<string, unknown> = { source: 'jsonl' };
    for (const [k, v] of Object.entries(rec)) if (!RESERVED.has(k)) meta[k] = v;
    entries.push({
      imageId: id,
      imagesRoot,
      imageEntry: path,
      pathField: pathField!,
      captions,
      label,
      file,
      line,
      width: rec.width,
      height: rec.height,
      meta,
    });
  });
  return { entries, problems };
}

/** Streams the pairs of a JSONL manifest (one image per line; see `JsonlManifestLineSchema`). */
export function loadJsonlManifest(file: string, options: JsonlManifestOptions = {}): PairStream {
  const path = resolve(file);
  const root = resolve(options.imagesRoot ?? dirname(path));
  return new PairStream(() => readManifest(path, root), options);
}
