import { ConceptInventorySchema, type ConceptInventory } from '@synth2/core';

/** The eight shapes of the shapes world, chosen to stay distinct at 10–16 px. */
export const SHAPE_NAMES = ['circle', 'square', 'triangle', 'diamond', 'star', 'cross', 'heart', 'ring'] as const;
/** A shape of the shapes world. */
export type ShapeName = (typeof SHAPE_NAMES)[number];

/** The eight object colours. */
export const COLOR_NAMES = ['red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink', 'white'] as const;
/** An object colour of the shapes world. */
export type ColorName = (typeof COLOR_NAMES)[number];

/** The three object sizes. */
export const SIZE_NAMES = ['small', 'medium', 'large'] as const;
/** An object size of the shapes world. */
export type SizeName = (typeof SIZE_NAMES)[number];

/** Named backgrounds: three plain colours and three simple textures. */
export const BACKGROUND_NAMES = ['black', 'gray', 'brown', 'noisy', 'striped', 'checkered'] as const;
/** A background of the shapes world. */
export type BackgroundName = (typeof BACKGROUND_NAMES)[number];

/** Absolute regions of the frame (3×3 grid). */
export const POSITION_NAMES = [
  'top left',
  'top',
  'top right',
  'left',
  'center',
  'right',
  'bottom left',
  'bottom',
  'bottom right',
] as const;
/** A region of the frame (3×3 grid). */
export type PositionName = (typeof POSITION_NAMES)[number];

/** The spatial relations between two objects. */
export const RELATION_NAMES = ['left of', 'right of', 'above', 'below'] as const;
/** A spatial relation between two objects. */
export type RelationName = (typeof RELATION_NAMES)[number];

/** Singular nouns annotators use for each shape (first = canonical). */
export const SHAPE_WORDS: Record<ShapeName, readonly string[]> = {
  circle: ['circle', 'dot', 'disc', 'ball'],
  square: ['square', 'box', 'block'],
  triangle: ['triangle'],
  diamond: ['diamond', 'rhombus'],
  star: ['star'],
  cross: ['cross', 'plus sign', 'plus'],
  heart: ['heart'],
  ring: ['ring', 'donut', 'hoop'],
};

/** Plurals of every shape word. */
export const PLURALS: Record<string, string> = {
  circle: 'circles',
  dot: 'dots',
  disc: 'discs',
  ball: 'balls',
  square: 'squares',
  box: 'boxes',
  block: 'blocks',
  triangle: 'triangles',
  diamond: 'diamonds',
  rhombus: 'rhombuses',
  star: 'stars',
  cross: 'crosses',
  'plus sign': 'plus signs',
  plus: 'pluses',
  heart: 'hearts',
  ring: 'rings',
  donut: 'donuts',
  hoop: 'hoops',
  shape: 'shapes',
  object: 'objects',
  figure: 'figures',
  thing: 'things',
  symbol: 'symbols',
  item: 'items',
};

/** Generic nouns for "an object of any shape". */
export const GENERIC_WORDS = ['shape', 'object', 'figure', 'thing', 'symbol', 'item'] as const;

/** Adjectives annotators use for each colour (first = canonical). */
export const COLOR_WORDS: Record<ColorName, readonly string[]> = {
  red: ['red', 'crimson'],
  orange: ['orange'],
  yellow: ['yellow', 'golden'],
  green: ['green', 'lime'],
  blue: ['blue', 'azure'],
  purple: ['purple', 'violet'],
  pink: ['pink', 'magenta'],
  white: ['white'],
};

export const SIZE_WORDS: Record<SizeName, readonly string[]> = {
  small: ['small', 'little', 'tiny'],
  medium: ['medium', 'medium-sized', 'mid-sized'],
  large: ['large', 'big', 'huge'],
};

/** Noun phrases (without article) for each background; first = canonical. */
export const BACKGROUND_PHRASES: Record<BackgroundName, readonly string[]> = {
  black: ['black background', 'dark background', 'black backdrop'],
  gray: ['gray background', 'grey background', 'plain gray backdrop'],
  brown: ['brown background', 'brown backdrop'],
  noisy: ['noisy gray background', 'grainy background', 'speckled gray background'],
  striped: ['striped background', 'background of stripes', 'stripy backdrop'],
  checkered: ['checkered background', 'checkerboard background', 'checkered backdrop'],
};

/** Phrases for absolute positions (object sits "<phrase>"). */
export const POSITION_PHRASES: Record<PositionName, readonly string[]> = {
  'top left': ['in the top left corner', 'in the upper left corner', 'at the top left'],
  top: ['at the top', 'near the top', 'at the top of the image'],
  'top right': ['in the top right corner', 'in the upper right corner', 'at the top right'],
  left: ['on the left', 'on the left side', 'at the left of the picture'],
  center: ['in the center', 'in the middle', 'in the centre'],
  right: ['on the right', 'on the right side', 'at the right of the picture'],
  'bottom left': ['in the bottom left corner', 'in the lower left corner', 'at the bottom left'],
  bottom: ['at the bottom', 'near the bottom', 'at the bottom of the image'],
  'bottom right': ['in the bottom right corner', 'in the lower right corner', 'at the bottom right'],
};

/** Phrases for relations "A <phrase> B". */
export const RELATION_PHRASES: Record<RelationName, readonly string[]> = {
  'left of': ['to the left of', 'left of', 'on the left of'],
  'right of': ['to the right of', 'right of', 'on the right of'],
  above: ['above', 'over', 'higher than'],
  below: ['below', 'under', 'beneath', 'underneath'],
};

/**
 * The shapes world's concept inventory (core's `ConceptInventory`): shapes as objects, colours and sizes as
 * attributes, relations, positions and backgrounds, each with the synonyms the world's annotators use. A caption
 * source can write captions about this world from it alone. `only` restricts it to a world's settings
 * (`shapesInventory(world.options)`; a world's `inventory` is already restricted).
 */
export function shapesInventory(
  only: {
    shapes?: readonly ShapeName[];
    colors?: readonly ColorName[];
    sizes?: readonly SizeName[];
    backgrounds?: readonly BackgroundName[];
  } = {},
): ConceptInventory {
  const shapes = SHAPE_NAMES.filter((s) => !only.shapes || only.shapes.includes(s));
  const colors = COLOR_NAMES.filter((c) => !only.colors || only.colors.includes(c));
  const sizes = SIZE_NAMES.filter((z) => !only.sizes || only.sizes.includes(z));
  const backgrounds = BACKGROUND_NAMES.filter((b) => !only.backgrounds || only.backgrounds.includes(b));
  return ConceptInventorySchema.parse({
    name: 'shapes-world',
    objects: shapes.map((s) => ({
      id: `shape:${s}`,
      name: s,
      kind: 'shape',
      synonyms: SHAPE_WORDS[s].slice(1),
    })),
    attributes: [
      ...colors.map((c) => ({ id: `color:${c}`, name: c, kind: 'color', synonyms: COLOR_WORDS[c].slice(1) })),
      ...sizes.map((s) => ({ id: `size:${s}`, name: s, kind: 'size', synonyms: SIZE_WORDS[s].slice(1) })),
    ],
    relations: RELATION_NAMES.map((r) => ({
      id: `relation:${r.replace(/ /g, '-')}`,
      name: RELATION_PHRASES[r][0],
      kind: 'relation',
      synonyms: RELATION_PHRASES[r].slice(1),
    })),
    positions: POSITION_NAMES.map((p) => ({
      id: `position:${p.replace(/ /g, '-')}`,
      name: POSITION_PHRASES[p][0],
      kind: 'position',
      synonyms: POSITION_PHRASES[p].slice(1),
    })),
    places: backgrounds.map((b) => ({
      id: `background:${b}`,
      name: `a ${BACKGROUND_PHRASES[b][0]}`,
      kind: 'background',
      synonyms: BACKGROUND_PHRASES[b].slice(1).map((p) => `a ${p}`),
    })),
  });
}
