import { stat } from 'node:fs/promises';
import {
  InvalidInputError,
  createPathResolver,
  throwIfAborted,
  type ImageCaptionPair,
  type ImageTensor,
  type LoadImageOptions,
  type PathResolver,
} from '@synth2/core';
import { decodeImageFile } from './decode';

/**
 * Why an entry of a dataset folder was rejected. `unsafe-path`: its image path is absolute, climbs out of the image
 * folder with `..`, holds a NUL byte, or leads outside it through a symlink (the file is never opened).
 */
export type EntryProblem =
  'missing-image' | 'no-captions' | 'unknown-image' | 'unreadable-image' | 'malformed-entry' | 'unsafe-path';

/** One rejected entry: what it was, where it is, and why. */
export interface SkippedEntry {
  problem: EntryProblem;
  /** The entry as a person finds it: `image 397133 (000000397133.jpg)`, `annotation 221865`, `line 12`. */
  entry: string;
  message: string;
  file?: string;
  line?: number;
}

/** What a load did: pairs yielded and entries skipped (filled while iterating; complete once iteration ends). */
export interface LoadReport {
  loaded: number;
  skipped: SkippedEntry[];
}

/** A loaded image–caption pair: core's `ImageCaptionPair` with the image's path and, when decoded, its pixels. */
export interface LoadedPair extends ImageCaptionPair {
  imagePath: string;
  /** RGB floats in [0, 1], HWC (core's `ImageTensor`). */
  image?: ImageTensor;
}

/** Options of loading image–caption pairs from a folder: error handling and image decoding. */
export interface FolderLoadOptions {
  /** `'throw'` (default): the first bad entry throws an `InvalidInputError` before any pair is yielded (except an
   * image that only fails to decode, found when reached). `'skip'`: bad entries are left out and listed in `report`. */
  onError?: 'throw' | 'skip';
  /** Decode images through core's `loadImage` (default `{}`: natural size); `{ size: 32 }` resizes with a centre
   * crop (`fit: 'contain'` letterboxes); `false` yields paths and captions only. */
  image?: false | LoadImageOptions;
  /** Called for every skipped entry as it is found. */
  onSkip?: (entry: SkippedEntry) => void;
  /** Stops the work with an `AbortedError` (the option name every Synth² package uses). */
  abortSignal?: AbortSignal;
  /** @deprecated Use `abortSignal` (still honoured in this release). */
  signal?: AbortSignal;
}

/** An entry read from an index (annotations, CSV, manifest) before its image is checked. */
export interface IndexEntry {
  imageId: string;
  /** The folder the image must be in, and the image's path as the index gives it (relative to `imagesRoot`). */
  imagesRoot: string;
  imageEntry: string;
  /** The index field the path came from (named when it is refused). */
  pathField: string;
  captions: string[];
  label: string;
  file?: string;
  line?: number;
  width?: number;
  height?: number;
  meta?: Record<string, unknown>;
}

/** A streaming, single-pass async iterable of pairs with a report of skipped entries. */
export class PairStream implements AsyncIterable<LoadedPair> {
  readonly report: LoadReport = { loaded: 0, skipped: [] };
  private used = false;

  constructor(
    private readonly read: () => Promise<{ entries: IndexEntry[]; problems: SkippedEntry[] }>,
    private readonly options: FolderLoadOptions,
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<LoadedPair> {
    if (this.used)
      throw new Error('A PairStream can be iterated once; call the loader again for a second pass.');
    this.used = true;
    return this.run();
  }

  /** Reads every pair into an array. */
  async toArray(): Promise<LoadedPair[]> {
    const out: LoadedPair[] = [];
    for await (const pair of this) out.push(pair);
    return out;
  }

  private skip(entry: SkippedEntry): void {
    this.report.skipped.push(entry);
    this.options.onSkip?.(entry);
  }

  private fail(problems: SkippedEntry[]): never {
    const first = problems[0];
    const more =
      problems.length > 1
        ? ` (${problems.length - 1} more problem${problems.length > 2 ? 's' : ''} in this dataset)`
        : '';
    throw new InvalidInputError(
      `${first.entry === `line ${first.line}` ? '' : `${first.entry}: `}${first.message}${more}. Fix the dataset, or pass onError: 'skip' to leave bad entries out and list them in the report.`,
      { file: first.file, line: first.line },
    );
  }

  private async *run(): AsyncGenerator<LoadedPair> {
    const mode = this.options.onError ?? 'throw';
    const { entries, problems } = await this.read();
    // image paths and files are checked up front so that 'throw' fails before any pair is yielded
    const resolvers = new Map<string, PathResolver>();
    const resolverFor = (root: string) =>
      resolvers.get(root) ?? resolvers.set(root, createPathResolver(root)).get(root)!;
    const checked = await Promise.all(entries.map((e) => checkImage(e, resolverFor(e.imagesRoot))));
    const all = [...problems];
    const ok: (IndexEntry & { imagePath: string })[] = [];
    for (const c of checked) {
      if ('imagePath' in c) ok.push(c);
      else all.push(c);
    }
    if (all.length && mode === 'throw') this.fail(all);
    for (const p of all) this.skip(p);

    const decode = this.options.image;
    for (const e of ok) {
      throwIfAborted(this.options.abortSignal ?? this.options.signal);
      const pair: LoadedPair = { imageId: e.imageId, imagePath: e.imagePath, captions: e.captions };
      if (e.width) pair.width = e.width;
      if (e.height) pair.height = e.height;
      if (e.meta) pair.meta = e.meta;
      if (decode !== false) {
        try {
          pair.image = await decodeImageFile(e.imagePath, decode ?? {});
        } catch (error) {
          const problem: SkippedEntry = {
            problem: 'unreadable-image',
            entry: e.label,
            message: `cannot decode image ${e.imagePath}: ${(error as Error).message}`,
            file: e.file,
            line: e.line,
          };
          if (mode === 'throw') this.fail([problem]);
          this.skip(problem);
          continue;
        }
        pair.width = pair.image.width;
        pair.height = pair.image.height;
      }
      this.report.loaded++;
      yield pair;
    }
  }
}

/** Resolves an entry's image inside its folder and checks that it is a file; returns the problem otherwise. */
async function checkImage(
  e: IndexEntry,
  paths: PathResolver,
): Promise<(IndexEntry & { imagePath: string }) | SkippedEntry> {
  const where = { entry: e.label, file: e.file, line: e.line };
  let imagePath: string;
  try {
    imagePath = await paths.resolve(e.imageEntry, { field: e.pathField });
  } catch (error) {
    if (!InvalidInputError.isInstance(error)) throw error;
    return { problem: 'unsafe-path', message: error.message.replace(/\.$/, ''), ...where };
  }
  const isFile = await stat(imagePath).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!isFile) return { problem: 'missing-image', message: `image file not found: ${imagePath}`, ...where };
  return { ...e, imagePath };
}
