import type { Rng } from '@synth2/core';
import {
  BACKGROUND_PHRASES,
  COLOR_WORDS,
  PLURALS,
  POSITION_PHRASES,
  RELATION_PHRASES,
  SHAPE_WORDS,
  SIZE_WORDS,
  type RelationName,
} from './inventory';
import type { Scene, SceneObject } from './scene';

const NUMBER_WORDS = ['zero', 'one', 'two', 'three'];
const GENERIC = ['shape', 'object', 'figure'];

interface NpOptions {
  color?: boolean;
  size?: boolean;
  article?: boolean;
}

const article = (word: string): string => (/^[aeiou]/.test(word) ? 'an' : 'a');
const words = (s: string): number => s.split(/\s+/).filter(Boolean).length;

/** Writes captions in the voices of several annotators; every sentence is built from true facts of the scene. */
class Writer {
  constructor(
    readonly rng: Rng,
    readonly scene: Scene,
  ) {}

  shapeWord(o: SceneObject): string {
    // canonical word most of the time, synonyms sometimes
    const list = SHAPE_WORDS[o.shape];
    return this.rng.bool(0.7) ? list[0] : this.rng.choice(list);
  }

  colorWord(o: SceneObject): string {
    const list = COLOR_WORDS[o.color];
    return this.rng.bool(0.85) ? list[0] : this.rng.choice(list);
  }

  sizeWord(o: SceneObject): string {
    const list = SIZE_WORDS[o.size];
    return this.rng.bool(0.6) ? list[0] : this.rng.choice(list);
  }

  np(o: SceneObject, opts: NpOptions = {}): string {
    const parts: string[] = [];
    if (opts.size) parts.push(this.sizeWord(o));
    if (opts.color !== false) parts.push(this.colorWord(o));
    parts.push(this.shapeWord(o));
    const phrase = parts.join(' ');
    return opts.article === false ? phrase : `${article(phrase)} ${phrase}`;
  }

  bg(): string {
    const phrase = this.rng.choice(BACKGROUND_PHRASES[this.scene.background.name]);
    const prep = this.rng.weightedChoice(['on', 'against', 'in front of'], [6, 3, 1]);
    return `${prep} ${article(phrase)} ${phrase}`;
  }

  bgSubject(): string {
    const phrase = this.rng.choice(BACKGROUND_PHRASES[this.scene.background.name]);
    return `${article(phrase)} ${phrase}`;
  }

  pos(o: SceneObject): string {
    return this.rng.choice(POSITION_PHRASES[o.position]);
  }

  /** A true relation of a to b along the axis where they are clearly apart, or undefined. */
  relation(a: SceneObject, b: SceneObject): string | undefined {
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const options: RelationName[] = [];
    if (Math.abs(dx) >= 0.2) options.push(dx > 0 ? 'left of' : 'right of');
    if (Math.abs(dy) >= 0.2) options.push(dy > 0 ? 'above' : 'below');
    if (options.length === 0) return undefined;
    return this.rng.choice(RELATION_PHRASES[this.rng.choice(options)]);
  }

  verb(): string {
    return this.rng.weightedChoice(['', 'is ', 'sits ', 'is placed '], [5, 3, 1, 1]);
  }

  list(parts: string[]): string {
    if (parts.length === 1) return parts[0];
    return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
  }
}

type Style = (w: Writer, extra: boolean) => string;

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Styles for a scene with one object. `extra` asks for a longer variant. */
const SINGLE_STYLES: Style[] = [
  // plain noun phrase + background
  (w, extra) => `${w.np(w.scene.objects[0], { size: extra })} ${w.bg()}`,
  // position
  (w, extra) => `${w.np(w.scene.objects[0], { size: w.rng.bool() })} ${w.verb()}${w.pos(w.scene.objects[0])}${extra ? ` ${w.bg()}` : ''}`,
  // "there is"
  (w, extra) => `there is ${w.np(w.scene.objects[0], { size: extra })} ${w.pos(w.scene.objects[0])}`,
  // background first
  (w, extra) => `${w.bgSubject()} with ${w.np(w.scene.objects[0], { size: extra })} ${w.rng.bool() ? w.pos(w.scene.objects[0]) : 'on it'}`,
  // counting
  (w, extra) => {
    const o = w.scene.objects[0];
    return w.rng.bool()
      ? `a single ${w.np(o, { size: extra, article: false })} ${w.rng.bool() ? w.bg() : w.pos(o)}`
      : `only one ${w.rng.choice(GENERIC)} ${extra ? w.bg() : 'in the picture'}, ${w.np(o)}`;
  },
  // "a picture of"
  (w, extra) => `${w.rng.choice(['an image of', 'a picture of', 'a drawing of'])} ${w.np(w.scene.objects[0], { size: w.rng.bool() })} ${extra ? w.bg() : w.pos(w.scene.objects[0])}`,
  // colour omitted, size kept
  (w, extra) => `${w.np(w.scene.objects[0], { color: false, size: true })} ${w.pos(w.scene.objects[0])}${extra ? ` ${w.bg()}` : ''}`,
];

function pairOrder(w: Writer): [SceneObject, SceneObject, string] | undefined {
  const objs = w.scene.objects;
  const pairs: [SceneObject, SceneObject][] = [];
  for (const a of objs) for (const b of objs) if (a !== b) pairs.push([a, b]);
  w.rng.shuffle(pairs);
  for (const [a, b] of pairs) {
    const rel = w.relation(a, b);
    if (rel) return [a, b, rel];
  }
  return undefined;
}

function countPhrase(w: Writer): string {
  const objs = w.scene.objects;
  const n = objs.length;
  // a shared shape or colour gives a natural count ("two circles", "two red shapes")
  const sameShape = objs.every((o) => o.shape === objs[0].shape);
  const sameColor = objs.every((o) => o.color === objs[0].color);
  if (sameShape && w.rng.bool(0.7)) {
    const word = w.shapeWord(objs[0]);
    return `${NUMBER_WORDS[n]} ${sameColor && w.rng.bool() ? `${w.colorWord(objs[0])} ` : ''}${PLURALS[word]}`;
  }
  if (sameColor && w.rng.bool(0.7)) return `${NUMBER_WORDS[n]} ${w.colorWord(objs[0])} ${PLURALS[w.rng.choice(GENERIC)]}`;
  return `${NUMBER_WORDS[n]} ${PLURALS[w.rng.choice(GENERIC)]}`;
}

/** Styles for scenes with two or three objects. */
const MULTI_STYLES: Style[] = [
  // list
  (w, extra) => `${w.list(w.scene.objects.map((o) => w.np(o, { size: extra && w.rng.bool() })))}${extra || w.rng.bool(0.3) ? ` ${w.bg()}` : ''}`,
  // count
  (w, extra) => {
    const head = countPhrase(w);
    if (extra || w.rng.bool(0.4)) return `${head} ${w.bg()}`;
    return `${head}: ${w.list(w.scene.objects.map((o) => w.np(o)))}`;
  },
  // relation
  (w, extra) => {
    const r = pairOrder(w);
    if (!r) return `${w.list(w.scene.objects.map((o) => w.np(o)))} ${w.bg()}`;
    const [a, b, rel] = r;
    const rest = w.scene.objects.filter((o) => o !== a && o !== b);
    let s = `${w.np(a, { size: extra && w.rng.bool() })} ${w.verb()}${rel} ${w.np(b)}`;
    if (rest.length) s += ` and ${w.np(rest[0])}`;
    else if (extra) s += ` ${w.bg()}`;
    return s;
  },
  // positions
  (w, extra) => {
    const parts = w.scene.objects.map((o) => `${w.np(o, { size: extra && w.rng.bool(0.3) })} ${w.pos(o)}`);
    return w.list(parts);
  },
  // "there is / there are"
  (w, extra) => {
    const r = pairOrder(w);
    if (r && w.scene.objects.length === 2 && w.rng.bool(0.6)) {
      return `there is ${w.np(r[0], { size: extra })} ${r[2]} ${w.np(r[1])}`;
    }
    return `there are ${countPhrase(w)} ${extra ? w.bg() : 'in the image'}`;
  },
  // background first
  (w, extra) => `${w.bgSubject()} with ${w.list(w.scene.objects.map((o) => w.np(o, { size: extra && w.rng.bool() })))}`,
  // colours omitted, sizes or relation kept
  (w, extra) => {
    const [a, b] = w.scene.objects;
    const rel = w.relation(a, b);
    const link = rel ?? w.rng.choice(['next to', 'beside', 'and']);
    const tail = w.scene.objects.length === 3 ? ` and ${w.np(w.scene.objects[2], { color: false })}` : '';
    return `${w.np(a, { color: false, size: true })} ${link} ${w.np(b, { color: false, size: extra })}${tail}`;
  },
];

/**
 * Writes `n` captions for a scene the way different COCO annotators would: each in a different style (some name
 * the background, some count, some give positions or relations, some omit colours), with synonyms, varied casing
 * and punctuation, aiming at 6–15 words. Every caption is built from the scene's own facts.
 */
export function captionScene(scene: Scene, rng: Rng, n = 5): string[] {
  const w = new Writer(rng, scene);
  const styles = scene.objects.length === 1 ? SINGLE_STYLES : MULTI_STYLES;
  const order = rng.permutation(styles.length);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const style = styles[order[i % styles.length]];
    let best = '';
    let bestErr = Infinity;
    for (let attempt = 0; attempt < 6; attempt++) {
      const text = style(w, attempt % 2 === 1 || rng.bool(0.3));
      const len = words(text);
      const err = len < 6 ? 6 - len : len > 15 ? len - 15 : 0;
      if (err < bestErr) {
        best = text;
        bestErr = err;
      }
      if (err === 0 && !out.includes(text)) break;
    }
    let text = best;
    if (rng.bool(0.8)) text = cap(text);
    if (rng.bool(0.7)) text += '.';
    out.push(text);
  }
  return out;
}
