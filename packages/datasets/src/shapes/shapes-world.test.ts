import { createHash } from 'node:crypto';
import { ConceptInventorySchema, ConfigurationError } from '@synth2/core';
import { describe, expect, it } from 'vitest';
import { checkCaption, parseCaption } from './caption-checker';
import { COLOR_NAMES, COLOR_WORDS, SHAPE_NAMES, shapesInventory } from './inventory';
import { renderScene } from './render';
import { SIZE_RADIUS, type Scene } from './scene';
import { createShapesWorld } from './shapes-world';

const digest = (world: ReturnType<typeof createShapesWorld>, n: number): string => {
  const h = createHash('sha256');
  for (let i = 0; i < n; i++) {
    const item = world.item(i);
    h.update(item.pixels);
    h.update(JSON.stringify(item.captions));
  }
  return h.digest('hex');
};

describe('createShapesWorld', () => {
  it('should give byte-identical images and captions for the same seed', () => {
    expect(digest(createShapesWorld({ seed: 7 }), 300)).toBe(digest(createShapesWorld({ seed: 7 }), 300));
    expect(digest(createShapesWorld({ seed: 7, imageSize: 64, maxObjects: 3 }), 50)).toBe(
      digest(createShapesWorld({ seed: 7, imageSize: 64, maxObjects: 3 }), 50),
    );
  });

  it('should give different images for different seeds and indices', () => {
    expect(digest(createShapesWorld({ seed: 7 }), 50)).not.toBe(digest(createShapesWorld({ seed: 8 }), 50));
    const w = createShapesWorld({ seed: 1 });
    const a = w.item(0);
    const b = w.item(1);
    expect(Buffer.from(a.pixels).equals(Buffer.from(b.pixels))).toBe(false);
  });

  it('should render anti-aliased RGB images of the requested size', () => {
    for (const imageSize of [32, 64] as const) {
      const item = createShapesWorld({ seed: 3, imageSize, backgrounds: ['black'] }).item(0);
      expect(item.pixels.length).toBe(imageSize * imageSize * 3);
      expect(item.width).toBe(imageSize);
      // edge pixels are blends: values strictly between the background and the object's colour
      const bg = item.pixels[0];
      const values = new Set<number>();
      for (let i = 0; i < item.pixels.length; i += 3) values.add(item.pixels[i]);
      expect(values.size).toBeGreaterThan(4);
      expect(bg).toBeLessThan(20);
    }
  });

  it('should sample 1 to maxObjects non-overlapping objects inside the frame', () => {
    for (const maxObjects of [1, 2, 3]) {
      const w = createShapesWorld({ seed: 11, maxObjects, sizes: 3 });
      const counts = new Set<number>();
      for (let i = 0; i < 400; i++) {
        const { objects } = w.scene(i);
        counts.add(objects.length);
        for (const o of objects) {
          expect(o.x - o.radius).toBeGreaterThan(0);
          expect(o.x + o.radius).toBeLessThan(1);
          expect(o.y - o.radius).toBeGreaterThan(0);
          expect(o.y + o.radius).toBeLessThan(1);
        }
        for (let a = 0; a < objects.length; a++)
          for (let b = a + 1; b < objects.length; b++) {
            const need = objects[a].radius + objects[b].radius;
            const apart =
              Math.abs(objects[a].x - objects[b].x) >= need || Math.abs(objects[a].y - objects[b].y) >= need;
            expect(apart).toBe(true);
          }
      }
      expect([...counts].sort()).toEqual(Array.from({ length: maxObjects }, (_, i) => i + 1));
    }
  });

  it('should render the eight shapes as clearly different masks at the small size in 32×32', () => {
    const masks = SHAPE_NAMES.map((shape) => {
      const scene: Scene = {
        background: { name: 'black', seed: 0 },
        objects: [{ shape, color: 'white', size: 'small', x: 0.5, y: 0.5, radius: SIZE_RADIUS.small, position: 'center', shade: 1 }],
      };
      const px = renderScene(scene, 32);
      return Array.from({ length: 32 * 32 }, (_, i) => px[i * 3] / 255);
    });
    for (let a = 0; a < masks.length; a++)
      for (let b = a + 1; b < masks.length; b++) {
        const diff = masks[a].reduce((s, v, i) => s + Math.abs(v - masks[b][i]), 0);
        // at least ~8 pixels' worth of coverage differs between any two shapes
        expect(diff, `${SHAPE_NAMES[a]} vs ${SHAPE_NAMES[b]}`).toBeGreaterThan(8);
      }
  });

  it('should write five captions per image that are true of the scene', () => {
    for (const opts of [{ maxObjects: 2 }, { maxObjects: 3, sizes: 3 as const }, { maxObjects: 1 }]) {
      const w = createShapesWorld({ seed: 5, ...opts });
      for (let i = 0; i < 600; i++) {
        const item = w.item(i);
        expect(item.captions).toHaveLength(5);
        for (const caption of item.captions) {
          const check = checkCaption(caption, item.scene);
          expect(check.problems, `${caption} | ${JSON.stringify(item.scene.objects)}`).toEqual([]);
        }
      }
    }
  });

  it('should vary captions like annotators: lengths, styles, synonyms, counts, relations, backgrounds', () => {
    const w = createShapesWorld({ seed: 2 });
    const lengths: number[] = [];
    let distinctSets = 0;
    let withBackground = 0;
    let withRelation = 0;
    let withCount = 0;
    let withPosition = 0;
    let withoutColor = 0;
    const colorWords = new Set<string>();
    const all: string[] = [];
    for (let i = 0; i < 500; i++) {
      const { captions } = w.item(i);
      if (new Set(captions.map((c) => c.toLowerCase().replace(/\.$/, ''))).size === 5) distinctSets++;
      for (const c of captions) {
        all.push(c);
        lengths.push(c.split(/\s+/).length);
        const p = parseCaption(c);
        if (p.backgrounds.length) withBackground++;
        if (p.relations.length) withRelation++;
        if (p.positions.length) withPosition++;
        if (p.mentions.some((m) => m.count !== undefined)) withCount++;
        if (p.mentions.every((m) => m.color === undefined)) withoutColor++;
        for (const word of c.toLowerCase().split(/\W+/)) if (COLOR_NAMES.some((n) => COLOR_WORDS[n].includes(word))) colorWords.add(word);
      }
    }
    const n = lengths.length;
    const mean = lengths.reduce((a, b) => a + b, 0) / n;
    expect(mean).toBeGreaterThan(7);
    expect(mean).toBeLessThan(12);
    expect(lengths.filter((l) => l >= 5 && l <= 16).length / n).toBeGreaterThan(0.97);
    expect(distinctSets / 500).toBeGreaterThan(0.95);
    for (const share of [withBackground, withRelation, withCount, withPosition, withoutColor]) {
      expect(share / n).toBeGreaterThan(0.05);
      expect(share / n).toBeLessThan(0.8);
    }
    expect(colorWords.size).toBeGreaterThan(COLOR_NAMES.length);
    expect(new Set(all).size / n).toBeGreaterThan(0.5);
  });

  it('should reject validation errors with a ConfigurationError naming the option', () => {
    expect(() => createShapesWorld({ imageSize: 48 as 32 })).toThrow(ConfigurationError);
    expect(() => createShapesWorld({ imageSize: 48 as 32 })).toThrow(/imageSize/);
    expect(() => createShapesWorld({ maxObjects: 4 })).toThrow(/maxObjects/);
    expect(() => createShapesWorld({ minObjects: 3, maxObjects: 2 })).toThrow(/minObjects/);
    expect(() => createShapesWorld({ shapes: ['circle', 'blob' as 'circle'] })).toThrow(/shapes/);
    expect(() => createShapesWorld({ unknown: 1 } as never)).toThrow(ConfigurationError);
  });
});

describe('checkCaption', () => {
  const scene: Scene = {
    background: { name: 'gray', seed: 0 },
    objects: [
      { shape: 'circle', color: 'red', size: 'large', x: 0.27, y: 0.5, radius: 0.205, position: 'left', shade: 1 },
      { shape: 'star', color: 'blue', size: 'small', x: 0.8, y: 0.5, radius: 0.145, position: 'right', shade: 1 },
    ],
  };

  it('should accept true captions', () => {
    for (const c of [
      'A red circle to the left of a blue star.',
      'Two shapes on a grey background',
      'a big red ball on the left and a tiny blue star on the right',
      'On the right is a small star',
      'A star right of a circle.',
    ])
      expect(checkCaption(c, scene).problems, c).toEqual([]);
  });

  it('should reject false colours, shapes, counts, relations, positions and backgrounds', () => {
    for (const c of [
      'A green circle to the left of a blue star.',
      'A red square on a gray background.',
      'Three shapes on a grey background.',
      'Two circles.',
      'A red circle to the right of a blue star.',
      'A blue star above a red circle.',
      'A red circle in the top left corner.',
      'A red circle on a black background.',
      'A small red circle.',
      'Nothing to see here at all.',
    ])
      expect(checkCaption(c, scene).ok, c).toBe(false);
  });

  it('should find most captions of another scene false (the checker is not vacuous)', () => {
    const w = createShapesWorld({ seed: 9 });
    let falseCount = 0;
    let total = 0;
    for (let i = 0; i < 200; i++) {
      const other = w.scene(i + 1000);
      for (const c of w.item(i).captions) {
        total++;
        if (!checkCaption(c, other).ok) falseCount++;
      }
    }
    expect(falseCount / total).toBeGreaterThan(0.9);
  });
});

describe('shapesInventory', () => {
  it('should export the world vocabulary as a valid ConceptInventory', () => {
    const inv = shapesInventory();
    expect(ConceptInventorySchema.parse(inv)).toEqual(inv);
    expect(inv.objects.map((o) => o.name)).toEqual([...SHAPE_NAMES]);
    expect(inv.attributes.filter((a) => a.kind === 'color').map((a) => a.name)).toEqual([...COLOR_NAMES]);
    expect(inv.attributes.filter((a) => a.kind === 'size')).toHaveLength(3);
    expect(inv.relations.map((r) => r.name)).toContain('to the left of');
    expect(inv.positions.length).toBe(9);
    expect(inv.places.map((p) => p.name)).toContain('a checkered background');
    expect(inv.objects.find((o) => o.name === 'cross')?.synonyms).toContain('plus sign');
  });

  it('should restrict a world\'s inventory to its settings', () => {
    const w = createShapesWorld({ sizes: 2, colors: ['red', 'blue'], backgrounds: ['gray'] });
    expect(w.inventory.attributes.map((a) => a.name)).toEqual(['red', 'blue', 'small', 'large']);
    expect(w.inventory.places.map((p) => p.name)).toEqual(['a gray background']);
    expect(w.inventory.objects).toHaveLength(8);
  });

  it('should let every inventory phrase be read back by the caption checker', () => {
    const inv = shapesInventory();
    for (const o of inv.objects)
      for (const word of [o.name, ...o.synonyms]) expect(parseCaption(`a ${word}`).mentions[0]?.shape).toBe(o.name);
    for (const p of inv.places)
      for (const phrase of [p.name, ...p.synonyms]) expect(parseCaption(`a circle on ${phrase}`).backgrounds).toHaveLength(1);
  });
});
