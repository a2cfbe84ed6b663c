import type { Rng } from '@synth2/core';
import {
  BACKGROUND_NAMES,
  COLOR_NAMES,
  POSITION_NAMES,
  SHAPE_NAMES,
  SIZE_NAMES,
  type BackgroundName,
  type ColorName,
  type PositionName,
  type ShapeName,
  type SizeName,
} from './inventory';

/** One object of a scene. Coordinates are fractions of the image side, so a scene renders at any size. */
export interface SceneObject {
  shape: ShapeName;
  color: ColorName;
  size: SizeName;
  /** Centre, in [0, 1] (x to the right, y downwards). */
  x: number;
  y: number;
  /** Half the side of the object's bounding box, as a fraction of the image side. */
  radius: number;
  /** The frame region the object was placed in. */
  position: PositionName;
  /** Brightness factor of the colour (0.88–1): mild variation between images. */
  shade: number;
}

/** A scene's background: its name and texture seed. */
export interface SceneBackground {
  name: BackgroundName;
  /** Seed of the background's texture noise. */
  seed: number;
}

/** A structured scene description: the ground truth every caption is checked against. */
export interface Scene {
  objects: SceneObject[];
  background: SceneBackground;
}

/** Half box side per size, as a fraction of the image side. */
export const SIZE_RADIUS: Record<SizeName, number> = { small: 0.145, medium: 0.175, large: 0.205 };
const EDGE_MARGIN = 0.03;
const GAP = 0.03;
const JITTER = 0.02;

/** Grid offsets (-1, 0, 1) of each position. */
export const POSITION_OFFSETS: Record<PositionName, [number, number]> = {
  'top left': [-1, -1],
  top: [0, -1],
  'top right': [1, -1],
  left: [-1, 0],
  center: [0, 0],
  right: [1, 0],
  'bottom left': [-1, 1],
  bottom: [0, 1],
  'bottom right': [1, 1],
};

/** The frame region a point lies in (thirds with a wide centre band), as the caption checker sees it. */
export function regionOf(x: number, y: number): PositionName {
  const col = x < 0.4 ? -1 : x > 0.6 ? 1 : 0;
  const row = y < 0.4 ? -1 : y > 0.6 ? 1 : 0;
  return POSITION_NAMES.find((p) => POSITION_OFFSETS[p][0] === col && POSITION_OFFSETS[p][1] === row)!;
}

/** Settings of scene sampling (resolved; see `ShapesWorldOptions`). */
export interface SceneSamplerConfig {
  minObjects: number;
  maxObjects: number;
  shapes: readonly ShapeName[];
  colors: readonly ColorName[];
  sizes: readonly SizeName[];
  backgrounds: readonly BackgroundName[];
}

export const pairKey = (color: string, shape: string): string => `${color} ${shape}`;

/** Which colour–shape pairs a sampled scene may (or must) contain. */
export interface PairConstraint {
  /** Pairs that must not appear (`"red circle"`). */
  excluded?: ReadonlySet<string>;
  /** At least one object must be one of these pairs. */
  requireOneOf?: readonly (readonly [ColorName, ShapeName])[];
}

function overlaps(a: SceneObject, b: SceneObject): boolean {
  const need = a.radius + b.radius + GAP;
  return Math.abs(a.x - b.x) < need && Math.abs(a.y - b.y) < need;
}

/**
 * Samples one scene: 1–N objects with shape, colour, size and a grid position (with jitter), no two overlapping,
 * on a named background. Deterministic given the Rng's state.
 */
export function sampleScene(rng: Rng, config: SceneSamplerConfig, constraint: PairConstraint = {}): Scene {
  const n = rng.int(config.minObjects, config.maxObjects + 1);
  const excluded = constraint.excluded;
  const allowedPairs: [ColorName, ShapeName][] = [];
  for (const c of config.colors)
    for (const s of config.shapes) if (!excluded?.has(pairKey(c, s))) allowedPairs.push([c, s]);
  if (allowedPairs.length === 0 && !constraint.requireOneOf?.length) {
    throw new RangeError('sampleScene: every colour–shape pair is excluded');
  }
  const background: SceneBackground = {
    name: rng.choice(config.backgrounds),
    seed: rng.nextUint32(),
  };
  for (let attempt = 0; ; attempt++) {
    // fall back to fewer objects if the frame cannot fit them (never happens with the default sizes)
    const count = attempt > 200 ? Math.max(1, n - 1 - Math.floor((attempt - 200) / 100)) : n;
    const positions = rng.sample(POSITION_NAMES, count);
    const objects: SceneObject[] = [];
    let ok = true;
    for (let i = 0; i < count; i++) {
      const forced = i === 0 && constraint.requireOneOf?.length ? rng.choice(constraint.requireOneOf) : undefined;
      const [color, shape] = forced ?? rng.choice(allowedPairs);
      const size = rng.choice(config.sizes);
      const radius = SIZE_RADIUS[size];
      const position = positions[i];
      const [ax, ay] = POSITION_OFFSETS[position];
      const k = 0.5 - radius - EDGE_MARGIN - JITTER;
      const x = 0.5 + ax * k + rng.uniform(-JITTER, JITTER);
      const y = 0.5 + ay * k + rng.uniform(-JITTER, JITTER);
      const shade = 0.88 + 0.12 * rng.uniform();
      const obj: SceneObject = { shape, color, size, x, y, radius, position, shade };
      if (objects.some((o) => overlaps(o, obj))) {
        ok = false;
        break;
      }
      objects.push(obj);
    }
    if (ok) {
      // forced pair should not always be the first-listed object
      return { objects: rng.shuffle(objects), background };
    }
  }
}

export const ALL_SHAPES = SHAPE_NAMES;
export const ALL_COLORS = COLOR_NAMES;
export const ALL_SIZES = SIZE_NAMES;
export const ALL_BACKGROUNDS = BACKGROUND_NAMES;
