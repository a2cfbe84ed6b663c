import { ConfigurationError, Rng } from '@synth2/core';
import { z } from 'zod';
import type { ColorName, ShapeName } from './inventory';
import { pairKey } from './scene';
import {
  createShapesWorld,
  type ResolvedShapesWorldOptions,
  type ShapesItem,
  type ShapesWorld,
  type ShapesWorldOptions,
} from './shapes-world';

/** The name of a split: `train`, `val` or `test`. */
export type SplitName = 'train' | 'val' | 'test';

/** A colour–shape pair, such as those held out of train. */
export interface ColorShapePair {
  color: ColorName;
  shape: ShapeName;
}

/** What a set of splits was made from and which colour–shape pairs are held out of train. */
export interface ShapesSplitManifest {
  format: 'synth2-shapes-splits';
  version: 1;
  seed: number;
  world: ResolvedShapesWorldOptions;
  holdOutFraction: number;
  /** Share of val/test images that contain at least one held-out pair. */
  heldOutShare: number;
  /** Colour–shape pairs that never appear in train (images or captions) and do appear in val/test. */
  heldOutPairs: ColorShapePair[];
  splits: Record<SplitName, { count: number; heldOutImages: number }>;
}

/** One split of a shapes world: its items and the held-out pairs. */
export interface ShapesSplit {
  name: SplitName;
  items: ShapesItem[];
  /** The held-out pairs of the whole split set (same for every split). */
  heldOutPairs: ColorShapePair[];
  manifest: ShapesSplitManifest;
}

/** The train, val and test splits `makeSplits` made, with their manifest and world. */
export interface ShapesSplits {
  train: ShapesSplit;
  val: ShapesSplit;
  test: ShapesSplit;
  manifest: ShapesSplitManifest;
  world: ShapesWorld;
}

const MakeSplitsOptionsSchema = z.strictObject({
  train: z.number().int().nonnegative(),
  val: z.number().int().nonnegative().default(0),
  test: z.number().int().nonnegative().default(0),
  holdOutFraction: z.number().min(0).max(0.5).default(0),
  heldOutShare: z.number().min(0).max(1).default(1 / 3),
  seed: z.number().int().default(0),
  world: z.unknown().optional(),
});

/** Options of `makeSplits`. */
export interface MakeSplitsOptions {
  /** Number of train / val / test images. */
  train: number;
  val?: number;
  test?: number;
  /** Fraction (0–0.5) of colour–shape pairs held out of train. Default 0. */
  holdOutFraction?: number;
  /** Share of val/test images made to contain a held-out pair (the rest show seen pairs only). Default 1/3. */
  heldOutShare?: number;
  /** Seed of the hold-out choice and of the split streams. Default 0. */
  seed?: number;
  /** The world (or its options; `seed` defaults to the splits' seed). */
  world?: ShapesWorld | ShapesWorldOptions;
}

/**
 * Chooses `round(fraction · colours · shapes)` pairs so that each colour and each shape loses about the same
 * number of partners (cells along random diagonals of a shuffled colour × shape table).
 */
export function chooseHeldOutPairs(
  colors: readonly ColorName[],
  shapes: readonly ShapeName[],
  fraction: number,
  rng: Rng,
): ColorShapePair[] {
  const total = Math.round(fraction * colors.length * shapes.length);
  if (total === 0) return [];
  const cs = rng.shuffle([...colors]);
  const ss = rng.shuffle([...shapes]);
  const diagonals = rng.permutation(ss.length);
  const cells: ColorShapePair[] = [];
  for (const d of diagonals) {
    const diag = rng.permutation(cs.length).map((i) => ({ color: cs[i], shape: ss[(i + d) % ss.length] }));
    cells.push(...diag);
    if (cells.length >= total) break;
  }
  return cells
    .slice(0, total)
    .sort((a, b) => (a.color === b.color ? a.shape.localeCompare(b.shape) : a.color.localeCompare(b.color)));
}

const isWorld = (w: unknown): w is ShapesWorld =>
  typeof w === 'object' && w !== null && typeof (w as ShapesWorld).item === 'function';

/**
 * Train / val / test splits of the shapes world with an optional compositional hold-out: a fraction of the
 * colour–shape pairs never appears in train (neither in images nor in captions, which only describe their image)
 * and appears in about `heldOutShare` of the val and test images. The held-out pairs are in the manifest.
 */
export function makeSplits(options: MakeSplitsOptions): ShapesSplits {
  const parsed = MakeSplitsOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const setting = issue.path.join('.');
    throw new ConfigurationError(
      `Invalid makeSplits option "${setting}": ${issue.message}. train/val/test are image counts (integers ≥ 0), ` +
        'holdOutFraction is in [0, 0.5], heldOutShare in [0, 1].',
      { setting },
    );
  }
  const o = parsed.data;
  const world = isWorld(options.world)
    ? options.world
    : createShapesWorld({ seed: o.seed, ...((options.world as ShapesWorldOptions | undefined) ?? {}) });
  const rng = new Rng(o.seed).fork('hold-out');
  const heldOutPairs = chooseHeldOutPairs(world.options.colors, world.options.shapes, o.holdOutFraction, rng);
  if (o.holdOutFraction > 0 && heldOutPairs.length === 0) {
    throw new ConfigurationError(
      `holdOutFraction ${o.holdOutFraction} holds out no pair of the ${world.options.colors.length}×${world.options.shapes.length} colour–shape table; raise it or set it to 0.`,
      { setting: 'holdOutFraction' },
    );
  }
  const excluded = new Set(heldOutPairs.map((p) => pairKey(p.color, p.shape)));
  const required = heldOutPairs.map((p) => [p.color, p.shape] as const);

  const manifest: ShapesSplitManifest = {
    format: 'synth2-shapes-splits',
    version: 1,
    seed: o.seed,
    world: world.options,
    holdOutFraction: o.holdOutFraction,
    heldOutShare: heldOutPairs.length ? o.heldOutShare : 0,
    heldOutPairs,
    splits: { train: { count: 0, heldOutImages: 0 }, val: { count: 0, heldOutImages: 0 }, test: { count: 0, heldOutImages: 0 } },
  };

  const build = (name: SplitName, count: number): ShapesSplit => {
    const forced = new Set<number>();
    if (name !== 'train' && heldOutPairs.length) {
      const k = Math.round(o.heldOutShare * count);
      for (const i of new Rng(o.seed).fork(`forced:${name}`).permutation(count).slice(0, k)) forced.add(i);
    }
    const items: ShapesItem[] = [];
    for (let i = 0; i < count; i++) {
      const constraint = forced.has(i) ? { requireOneOf: required } : { excluded };
      const item = world.item(i, { constraint, idPrefix: `shapes-${name}`, stream: `${name}:${o.seed}` });
      const pairs = [...new Set(item.scene.objects.map((ob) => pairKey(ob.color, ob.shape)).filter((k) => excluded.has(k)))];
      item.meta = { split: name, heldOutPairs: pairs };
      items.push(item);
    }
    manifest.splits[name] = { count, heldOutImages: forced.size };
    return { name, items, heldOutPairs, manifest };
  };

  return {
    train: build('train', o.train),
    val: build('val', o.val),
    test: build('test', o.test),
    manifest,
    world,
  };
}
