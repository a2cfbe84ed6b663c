import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvalidInputError } from '@synth2/core';
import { parseCsv } from './csv';
import { PairStream, type FolderLoadOptions, type IndexEntry, type SkippedEntry } from './pair-stream';

/** A Flickr-style captions CSV (`image,caption`) and the folder its images are in. */
export interface FlickrSource {
  captions: string;
  images: string;
}

const isDir = (p: string): Promise<boolean> =>
  stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );

async function findFlickrSource(dir: string): Promise<FlickrSource> {
  const root = resolve(dir);
  if (!(await isDir(root)))
    throw new InvalidInputError(`Flickr folder not found: ${root}. Pass the folder that holds captions.csv.`);
  const files = await readdir(root);
  const csv =
    ['captions.csv', 'captions.txt'].find((f) => files.includes(f)) ??
    files.filter((f) => f.endsWith('.csv')).sort()[0];
  if (!csv) {
    throw new InvalidInputError(
      `no captions CSV in ${root}: expected captions.csv (header "image,caption"). Pass { captions, images } to name it.`,
    );
  }
  let images = root;
  for (const d of ['images', 'Images', 'Flicker8k_Dataset', 'Flickr8k_Dataset'])
    if (await isDir(join(root, d))) {
      images = join(root, d);
      break;
    }
  return { captions: join(root, csv), images };
}

async function readFlickrSource(
  source: FlickrSource,
): Promise<{ entries: IndexEntry[]; problems: SkippedEntry[] }> {
  const file = resolve(source.captions);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InvalidInputError(
      `cannot read the captions CSV: ${(error as Error).message}. Check the path.`,
      { file, cause: error },
    );
  }
  let rows;
  try {
    rows = parseCsv(text);
  } catch (error) {
    throw new InvalidInputError(`${(error as Error).message}. Close the quote or escape it as "".`, {
      file,
      cause: error,
    });
  }
  const header = rows[0]?.fields.map((f) => f.trim().toLowerCase()) ?? [];
  const imageCol = header.indexOf('image');
  const captionCol = header.indexOf('caption');
  if (imageCol < 0 || captionCol < 0) {
    throw new InvalidInputError(
      `the header must name the columns "image" and "caption" (found "${rows[0]?.fields.join(',') ?? ''}"). Add the header line image,caption.`,
      { file, line: 1 },
    );
  }
  const problems: SkippedEntry[] = [];
  const byImage = new Map<string, { captions: string[]; line: number }>();
  for (const row of rows.slice(1)) {
    if (row.fields.length !== header.length) {
      problems.push({
        problem: 'malformed-entry',
        entry: `line ${row.line}`,
        message: `expected ${header.length} fields, found ${row.fields.length} (quote captions that contain commas)`,
        file,
        line: row.line,
      });
      continue;
    }
    const image = row.fields[imageCol].trim();
    const caption = row.fields[captionCol].trim();
    if (!image) {
      problems.push({
        problem: 'malformed-entry',
        entry: `line ${row.line}`,
        message: 'empty image name',
        file,
        line: row.line,
      });
      continue;
    }
    const slot = byImage.get(image) ?? { captions: [], line: row.line };
    byImage.set(image, slot);
    if (caption) slot.captions.push(caption);
  }
  const entries: IndexEntry[] = [];
  for (const [image, { captions, line }] of byImage) {
    const label = `image ${image} (line ${line})`;
    if (captions.length === 0) {
      problems.push({
        problem: 'no-captions',
        entry: label,
        message: 'every caption of this image is empty',
        file,
        line,
      });
      continue;
    }
    entries.push({
      imageId: image,
      imagesRoot: resolve(source.images),
      imageEntry: image,
      pathField: 'image',
      captions,
      label,
      file,
      line,
      meta: { source: 'flickr' },
    });
  }
  return { entries, problems };
}

/**
 * Streams the pairs of a Flickr8k-style folder: a CSV `image,caption` (RFC-4180 quoting, one row per caption) and
 * an image folder (`images/` or beside the CSV), or an explicit `{ captions, images }`. A caption whose image file
 * is missing is reported as `missing-image`.
 */
export function loadFlickrFolder(source: string | FlickrSource, options: FolderLoadOptions = {}): PairStream {
  return new PairStream(
    async () => readFlickrSource(typeof source === 'string' ? await findFlickrSource(source) : source),
    options,
  );
}
