import {
  BACKGROUND_NAMES,
  BACKGROUND_PHRASES,
  COLOR_NAMES,
  COLOR_WORDS,
  GENERIC_WORDS,
  PLURALS,
  POSITION_NAMES,
  POSITION_PHRASES,
  RELATION_NAMES,
  RELATION_PHRASES,
  SHAPE_NAMES,
  SHAPE_WORDS,
  SIZE_NAMES,
  SIZE_WORDS,
  type BackgroundName,
  type ColorName,
  type PositionName,
  type RelationName,
  type ShapeName,
  type SizeName,
} from './inventory';
import { POSITION_OFFSETS, regionOf, type Scene, type SceneObject } from './scene';

type Lex =
  | { type: 'shape'; shape: ShapeName; plural: boolean }
  | { type: 'generic'; plural: boolean }
  | { type: 'color'; color: ColorName }
  | { type: 'size'; size: SizeName }
  | { type: 'count'; n: number; exact: boolean }
  | { type: 'background'; name: BackgroundName }
  | { type: 'relation'; rel: RelationName | 'next to' }
  | { type: 'position'; pos: PositionName }
  | { type: 'word'; word: string };

const LEXICON = new Map<string, Lex>();
function add(phrase: string, lex: Lex): void {
  LEXICON.set(phrase, lex);
}
for (const s of SHAPE_NAMES)
  for (const w of SHAPE_WORDS[s]) {
    add(w, { type: 'shape', shape: s, plural: false });
    add(PLURALS[w], { type: 'shape', shape: s, plural: true });
  }
for (const g of GENERIC_WORDS) {
  add(g, { type: 'generic', plural: false });
  add(PLURALS[g], { type: 'generic', plural: true });
}
for (const c of COLOR_NAMES) for (const w of COLOR_WORDS[c]) add(w, { type: 'color', color: c });
for (const s of SIZE_NAMES) for (const w of SIZE_WORDS[s]) add(w, { type: 'size', size: s });
for (const b of BACKGROUND_NAMES) for (const p of BACKGROUND_PHRASES[b]) add(p, { type: 'background', name: b });
for (const p of POSITION_NAMES) for (const w of POSITION_PHRASES[p]) add(w, { type: 'position', pos: p });
for (const r of RELATION_NAMES) for (const w of RELATION_PHRASES[r]) add(w, { type: 'relation', rel: r });
for (const w of ['next to', 'beside', 'alongside']) add(w, { type: 'relation', rel: 'next to' });
add('a', { type: 'count', n: 1, exact: false });
add('an', { type: 'count', n: 1, exact: false });
add('one', { type: 'count', n: 1, exact: true });
add('single', { type: 'count', n: 1, exact: true });
add('two', { type: 'count', n: 2, exact: true });
add('a pair of', { type: 'count', n: 2, exact: true });
add('three', { type: 'count', n: 3, exact: true });
const MAX_PHRASE = Math.max(...[...LEXICON.keys()].map((k) => k.split(' ').length));

/** Words that may stand between an object and the position phrase describing it. */
const LINKING = new Set(['is', 'sits', 'sitting', 'placed', 'located', 'appears', 'lies', 'lying', 'can', 'be', 'seen', 'shown', 'drawn', 'that', 'which', 'it']);

/** A noun phrase found in a caption: what the annotator said about one object (or a counted group). */
export interface CaptionMention {
  shape?: ShapeName;
  color?: ColorName;
  size?: SizeName;
  /** Exact number claimed ("two circles"), if any. */
  count?: number;
  plural: boolean;
  /** The words of the phrase. */
  text: string;
}

/** What a caption claims, as the checker reads it. */
export interface ParsedCaption {
  mentions: CaptionMention[];
  relations: { left: number; right: number; rel: RelationName | 'next to' }[];
  positions: { mention: number; pos: PositionName }[];
  backgrounds: BackgroundName[];
  /** Words that looked like claims but could not be attached (a relation without two objects…). */
  unattached: string[];
}

function tokenize(caption: string): string[] {
  return caption
    .toLowerCase()
    .replace(/[^a-z0-9\- ]+/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

/** Reads a caption about the shapes world into structured claims (objects, counts, relations, positions, background). */
export function parseCaption(caption: string): ParsedCaption {
  const words = tokenize(caption);
  const lexes: { lex: Lex; text: string }[] = [];
  for (let i = 0; i < words.length; ) {
    let matched = false;
    for (let len = Math.min(MAX_PHRASE, words.length - i); len >= 1; len--) {
      const phrase = words.slice(i, i + len).join(' ');
      const lex = LEXICON.get(phrase);
      if (lex) {
        lexes.push({ lex, text: phrase });
        i += len;
        matched = true;
        break;
      }
    }
    if (!matched) {
      lexes.push({ lex: { type: 'word', word: words[i] }, text: words[i] });
      i++;
    }
  }

  const parsed: ParsedCaption = { mentions: [], relations: [], positions: [], backgrounds: [], unattached: [] };
  // mention index that ends at each lex position (for attachment)
  const mentionAt: (number | undefined)[] = new Array(lexes.length).fill(undefined);
  for (let i = 0; i < lexes.length; i++) {
    const { lex } = lexes[i];
    if (lex.type === 'background') parsed.backgrounds.push(lex.name);
    if (lex.type !== 'shape' && lex.type !== 'generic') continue;
    const m: CaptionMention = { plural: lex.plural, text: lexes[i].text };
    if (lex.type === 'shape') m.shape = lex.shape;
    let j = i - 1;
    for (; j >= 0; j--) {
      const mod = lexes[j].lex;
      if (mod.type === 'color' && m.color === undefined) m.color = mod.color;
      else if (mod.type === 'size' && m.size === undefined) m.size = mod.size;
      else if (mod.type === 'count') {
        if (mod.exact && m.count === undefined) m.count = mod.n;
      } else break;
      m.text = `${lexes[j].text} ${m.text}`;
    }
    mentionAt[i] = parsed.mentions.length;
    parsed.mentions.push(m);
  }

  const prevMention = (i: number, linkingOnly: boolean): number | undefined => {
    for (let j = i - 1; j >= 0; j--) {
      if (mentionAt[j] !== undefined) return mentionAt[j];
      const lex = lexes[j].lex;
      if (linkingOnly && !(lex.type === 'word' && LINKING.has(lex.word))) return undefined;
      if (lex.type === 'relation' || lex.type === 'position') return undefined;
    }
    return undefined;
  };
  const nextMention = (i: number): number | undefined => {
    for (let j = i + 1; j < lexes.length; j++) {
      if (mentionAt[j] !== undefined) return mentionAt[j];
      const lex = lexes[j].lex;
      if (lex.type === 'relation' || lex.type === 'position') return undefined;
    }
    return undefined;
  };
  for (let i = 0; i < lexes.length; i++) {
    const { lex, text } = lexes[i];
    if (lex.type === 'relation') {
      const left = prevMention(i, false);
      const right = nextMention(i);
      if (left === undefined || right === undefined) parsed.unattached.push(text);
      else parsed.relations.push({ left, right, rel: lex.rel });
    } else if (lex.type === 'position') {
      const mention = prevMention(i, true) ?? nextMention(i);
      if (mention === undefined) parsed.unattached.push(text);
      else parsed.positions.push({ mention, pos: lex.pos });
    }
  }
  return parsed;
}

function matches(m: CaptionMention, o: SceneObject): boolean {
  return (
    (m.shape === undefined || o.shape === m.shape) &&
    (m.color === undefined || o.color === m.color) &&
    (m.size === undefined || o.size === m.size)
  );
}

/** `a` is in the relation to `b` (centres at least 0.1 of the image apart along the relation's axis). */
export function relationHolds(rel: RelationName | 'next to', a: SceneObject, b: SceneObject): boolean {
  switch (rel) {
    case 'left of':
      return b.x - a.x >= 0.1;
    case 'right of':
      return a.x - b.x >= 0.1;
    case 'above':
      return b.y - a.y >= 0.1;
    case 'below':
      return a.y - b.y >= 0.1;
    case 'next to':
      return a !== b;
  }
}

function positionHolds(pos: PositionName, o: SceneObject): boolean {
  const [px, py] = POSITION_OFFSETS[pos];
  const [cx, cy] = POSITION_OFFSETS[regionOf(o.x, o.y)];
  if (px === 0 && py === 0) return cx === 0 && cy === 0;
  return (px === 0 || cx === px) && (py === 0 || cy === py);
}

/** Whether a caption is true of a scene, with one line per false or unreadable claim. */
export interface CaptionCheck {
  ok: boolean;
  /** One line per false or unreadable claim. */
  problems: string[];
  parsed: ParsedCaption;
}

/**
 * Checks a caption against a scene description: every object it names exists with the stated colour, size and
 * shape; stated counts are exact; relations, positions and the background hold. A caption that names no object
 * is rejected.
 */
export function checkCaption(caption: string, scene: Scene): CaptionCheck {
  const parsed = parseCaption(caption);
  const problems: string[] = [];
  const sets = parsed.mentions.map((m) => scene.objects.filter((o) => matches(m, o)));
  if (parsed.mentions.length === 0) problems.push('names no object');
  parsed.mentions.forEach((m, i) => {
    const n = sets[i].length;
    if (m.count !== undefined) {
      if (n !== m.count) problems.push(`"${m.text}": says ${m.count}, the scene has ${n}`);
    } else if (m.plural ? n < 2 : n < 1) {
      problems.push(`"${m.text}": no such object in the scene`);
    }
  });
  for (const r of parsed.relations) {
    const ok = sets[r.left].some((a) => sets[r.right].some((b) => a !== b && relationHolds(r.rel, a, b)));
    if (!ok) problems.push(`"${parsed.mentions[r.left].text}" is not ${r.rel} "${parsed.mentions[r.right].text}"`);
  }
  for (const p of parsed.positions) {
    if (!sets[p.mention].some((o) => positionHolds(p.pos, o)))
      problems.push(`"${parsed.mentions[p.mention].text}" is not at the ${p.pos}`);
  }
  for (const b of parsed.backgrounds) {
    if (b !== scene.background.name) problems.push(`background is ${scene.background.name}, not ${b}`);
  }
  for (const u of parsed.unattached) problems.push(`"${u}" refers to no object`);
  return { ok: problems.length === 0, problems, parsed };
}

/** The colour–shape pairs a caption names together ("red circle"), as `"color shape"` keys. */
export function mentionedPairs(caption: string): string[] {
  return parseCaption(caption)
    .mentions.filter((m) => m.color !== undefined && m.shape !== undefined)
    .map((m) => `${m.color} ${m.shape}`);
}
