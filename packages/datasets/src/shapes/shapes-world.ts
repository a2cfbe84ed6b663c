import { ConfigurationError, Rng, type ConceptInventory, type ImageCaptionPair } from '@synth2/core';
import { z } from 'zod';
import { captionScene } from './captions';
import {
  BACKGROUND_NAMES,
  COLOR_NAMES,
  SHAPE_NAMES,
  shapesInventory,
  type BackgroundName,
  type ColorName,
  type ShapeName,
  type SizeName,
} from './inventory';
import { renderScene } from './render';
import { sampleScene, type PairConstraint, type Scene, type SceneSamplerConfig } from './scene';

/** Settings of a shapes world (strict: an unknown key is an error), with their defaults. */
export const ShapesWorldOptionsSchema = z.strictObject({
  /** Seed of everything the world samples. */
  seed: z.number().int().default(0),
  /** Image side in pixels. */
  imageSize: z.union([z.literal(32), z.literal(64)]).default(32),
  minObjects: z.number().int().min(1).max(3).default(1),
  /** Most objects in one image (1–3); the demo uses 2. */
  maxObjects: z.number().int().min(1).max(3).default(2),
  /** 2 sizes (small, large) or 3 (small, medium, large). */
  sizes: z.union([z.literal(2), z.literal(3)]).default(2),
  shapes: z.array(z.enum(SHAPE_NAMES)).min(2).optional(),
  colors: z.array(z.enum(COLOR_NAMES)).min(2).optional(),
  backgrounds: z.array(z.enum(BACKGROUND_NAMES)).min(1).optional(),
  captionsPerImage: z.number().int().min(1).max(20).default(5),
});
/** Settings of `createShapesWorld` as written (`ShapesWorldOptionsSchema`'s input). */
export type ShapesWorldOptions = z.input<typeof ShapesWorldOptionsSchema>;

/** The world's settings with every default filled in. */
export interface ResolvedShapesWorldOptions {
  seed: number;
  imageSize: 32 | 64;
  minObjects: number;
  maxObjects: number;
  sizes: SizeName[];
  shapes: ShapeName[];
  colors: ColorName[];
  backgrounds: BackgroundName[];
  captionsPerImage: number;
}

/** One shapes-world image: core's `ImageCaptionPair` plus its scene description and pixels. */
export interface ShapesItem extends ImageCaptionPair {
  width: number;
  height: number;
  concepts: string[];
  scene: Scene;
  /** 8-bit RGB, HWC, `height × width × 3`. */
  pixels: Uint8Array;
}

/** A seeded shapes world: its scenes, rendering and captions. */
export interface ShapesWorld {
  readonly options: ResolvedShapesWorldOptions;
  readonly inventory: ConceptInventory;
  /** The scene with this index (deterministic in seed and index). */
  scene(index: number, constraint?: PairConstraint): Scene;
  /** Renders a scene at the world's image size (8-bit HWC RGB). */
  render(scene: Scene): Uint8Array;
  /** Human-style captions of a scene (deterministic in seed and scene). */
  captions(scene: Scene, index: number): string[];
  /** Scene, pixels and captions of one image. `idPrefix` names it (`shapes-000123`). */
  item(index: number, options?: { constraint?: PairConstraint; idPrefix?: string; stream?: string }): ShapesItem;
}

/** Concept ids present in a scene (`shape:circle`, `color:red`, `size:small`, `position:top-left`, `background:gray`). */
export function sceneConcepts(scene: Scene): string[] {
  const ids = new Set<string>();
  for (const o of scene.objects) {
    ids.add(`shape:${o.shape}`);
    ids.add(`color:${o.color}`);
    ids.add(`size:${o.size}`);
    ids.add(`position:${o.position.replace(/ /g, '-')}`);
  }
  ids.add(`background:${scene.background.name}`);
  return [...ids].sort();
}

export function resolveShapesWorldOptions(options: ShapesWorldOptions = {}): ResolvedShapesWorldOptions {
  const parsed = ShapesWorldOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const setting = issue.path.join('.');
    throw new ConfigurationError(
      `Invalid shapes-world option ${setting ? `"${setting}"` : ''}: ${issue.message}. ` +
        'Valid: imageSize 32|64, minObjects/maxObjects 1–3, sizes 2|3, shapes/colors/backgrounds from shapesInventory().',
      { setting },
    );
  }
  const o = parsed.data;
  if (o.minObjects > o.maxObjects) {
    throw new ConfigurationError(
      `minObjects (${o.minObjects}) is larger than maxObjects (${o.maxObjects}); set minObjects ≤ maxObjects.`,
      { setting: 'minObjects' },
    );
  }
  return {
    seed: o.seed,
    imageSize: o.imageSize,
    minObjects: o.minObjects,
    maxObjects: o.maxObjects,
    sizes: o.sizes === 2 ? ['small', 'large'] : ['small', 'medium', 'large'],
    shapes: [...new Set(o.shapes ?? SHAPE_NAMES)],
    colors: [...new Set(o.colors ?? COLOR_NAMES)],
    backgrounds: [...new Set(o.backgrounds ?? BACKGROUND_NAMES)],
    captionsPerImage: o.captionsPerImage,
  };
}

/**
 * The procedural shapes world: deterministic scenes of 1–3 coloured shapes on named backgrounds, rendered
 * anti-aliased in TypeScript, each with five human-style captions that are true of it.
 */
export function createShapesWorld(options: ShapesWorldOptions = {}): ShapesWorld {
  const resolved = resolveShapesWorldOptions(options);
  const config: SceneSamplerConfig = resolved;
  const root = new Rng(resolved.seed);
  const inventory = shapesInventory(resolved);
  const size = resolved.imageSize;

  const scene = (index: number, constraint?: PairConstraint, stream = 'scene'): Scene =>
    sampleScene(root.fork(`${stream}:${index}`), config, constraint);
  const captions = (s: Scene, index: number, stream = 'scene'): string[] =>
    captionScene(s, root.fork(`${stream}-captions:${index}`), resolved.captionsPerImage);

  return {
    options: resolved,
    inventory,
    scene: (index, constraint) => scene(index, constraint),
    render: (s) => renderScene(s, size),
    captions: (s, index) => captions(s, index),
    item(index, opts = {}) {
      const stream = opts.stream ?? 'scene';
      const s = scene(index, opts.constraint, stream);
      const id = `${opts.idPrefix ?? 'shapes'}-${String(index).padStart(6, '0')}`;
      return {
        imageId: id,
        captions: captions(s, index, stream),
        width: size,
        height: size,
        concepts: sceneConcepts(s),
        scene: s,
        pixels: renderScene(s, size),
      };
    },
  };
}
