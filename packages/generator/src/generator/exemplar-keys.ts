import type { ConceptInventory } from '@synth2/core';

/** Concept kinds an exemplar key keeps: what an object is and where, not its colour or the background. */
const KEY_KINDS = new Set(['shape', 'object', 'size', 'position', 'relation']);

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Exemplar keys of captions for a retrieval-augmented generator (`generator.exemplars`): the concepts a caption
 * names — objects, sizes, positions, relations, in the caption's order, synonyms and plurals folded to the concept —
 * without its colours and background, then its objects alone. "A small red star in the upper left corner" →
 * `["size:small shape:star position:top-left", "shape:star"]`: an exemplar is a training image with a caption of
 * the same key, i.e. an object of the same shape (size, place) in any colour. Captions that name no object get none.
 */
export function exemplarKeyer(inventory: ConceptInventory): (caption: string) => string[] {
  const concepts = [...inventory.objects, ...inventory.attributes, ...inventory.relations, ...inventory.positions].filter((c) =>
    KEY_KINDS.has(c.kind),
  );
  const isObject = new Set(inventory.objects.map((c) => c.id));
  const phrases = concepts
    .flatMap((c) => [c.name, ...c.synonyms].map((p) => ({ phrase: p.toLowerCase().trim(), id: c.id })))
    .filter((p) => p.phrase.length > 0)
    .sort((a, b) => b.phrase.length - a.phrase.length);
  const patterns = phrases.map((p) => ({
    id: p.id,
    // objects also match their plural (circles, boxes, crosses)
    re: new RegExp(`\\b${escape(p.phrase)}${isObject.has(p.id) ? '(?:e?s)?' : ''}\\b`, 'g'),
  }));
  return (caption: string) => {
    const text = caption.toLowerCase();
    const taken: boolean[] = new Array(text.length).fill(false);
    const found: { at: number; id: string }[] = [];
    for (const { id, re } of patterns) {
      re.lastIndex = 0;
      for (let m = re.exec(text); m; m = re.exec(text)) {
        const end = m.index + m[0].length;
        if (taken.slice(m.index, end).some(Boolean)) continue;
        taken.fill(true, m.index, end);
        found.push({ at: m.index, id });
      }
    }
    found.sort((a, b) => a.at - b.at);
    const objects = found.filter((f) => isObject.has(f.id)).map((f) => f.id);
    if (objects.length === 0) return [];
    const full = found.map((f) => f.id).join(' ');
    const shapes = [...objects].sort().join(' ');
    return full === shapes ? [full] : [full, shapes];
  };
}

/**
 * Training keys for the captions of one image: each caption's own keys after the image's most specific one (the
 * longest key of any of its captions). Training then pairs an image with an exemplar that matches it in everything
 * its captions name together — the same object in the same size and place where possible — so the generator learns
 * to copy an aligned object and take the colour from the caption; every caption's keys still index the image for
 * retrieval.
 */
export function imageExemplarKeys(captions: readonly string[], keyOf: (caption: string) => string[]): string[][] {
  const own = captions.map(keyOf);
  const all = own.flat();
  const count = (k: string) => k.split(' ').length;
  const best = all.reduce<string | undefined>((a, k) => (a === undefined || count(k) > count(a) ? k : a), undefined);
  return own.map((keys) => (best === undefined ? keys : [best, ...keys.filter((k) => k !== best)]));
}
