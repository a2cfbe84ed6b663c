import {
  ConceptInventorySchema,
  ConfigurationError,
  InvalidInputError,
  Rng,
  type Concept,
  type ConceptInventory,
  type ConceptInventoryInput,
} from '@synth2/core';
import { rejectUnknownOptions } from '@synth2/core/internal';
import { CONCEPT_GRAMMAR_KEYS, rejectUnknownGrammarNestedKeys } from '../internal/option-keys';
import { DEFAULT_GRAMMAR_TEMPLATES, type GrammarTemplates } from './grammar-templates';

/**
 * Concept-grammar settings of the shapes-world demo (`synth2 run` on the shapes world, `examples/shapes-synth2`): a
 * caption asked about one object describes a second, random one 70% of the time, as most two-object test images
 * need describing; the grammar's own default (0.3) stays for other worlds. How it was chosen:
 * docs/experiments/results-history.md.
 */
export const demoGrammarOptions = { extraObjectProbability: 0.7 } as const satisfies ConceptGrammarOptions;

/** Options of the offline concept grammar: inventory, templates and word choice. */
export interface ConceptGrammarOptions {
  /** The world's vocabulary (objects, attributes, relations, positions, places, with synonyms). */
  inventory?: ConceptInventoryInput;
  /** Replaces the default templates (per object count) — see {@link DEFAULT_GRAMMAR_TEMPLATES}. */
  templates?: Partial<GrammarTemplates>;
  /** Chance that a synonym is used instead of a concept's name (default 0.3). */
  synonymProbability?: number;
  /** Chance that an object not given an attribute gets a random one of each kind (defaults: colour 0.85, size 0.35, other 0.2). */
  attributeProbability?: { color?: number; size?: number; attribute?: number };
  /** Chance that a caption asked about one object also describes a second, random one (default 0.3). */
  extraObjectProbability?: number;
  /** Chance that an optional `[ … ]` part is kept (default 0.5). */
  optionalProbability?: number;
  /** Collective nouns for `{group}` (default `shapes` when the objects are shapes; else the templates without `{group}` are used). */
  groupNouns?: string[];
  /** Candidate captions written per caption, the one closest to the word count is kept (default 8). */
  candidates?: number;
  /** Capitalise the first letter (default false). */
  capitalize?: boolean;
  /** End with a period (default false). */
  period?: boolean;
}

type Part = { kind: 'text'; text: string } | { kind: 'slot'; slot: string } | { kind: 'optional'; parts: Part[] };
interface CompiledTemplate {
  source: string;
  parts: Part[];
  /** Slots outside optional parts. */
  required: Set<string>;
  /** All slots. */
  all: Set<string>;
}

const SLOTS = new Set(['a', 'b', 'a-bare', 'b-bare', 'list', 'rel', 'pos', 'place', 'count', 'group']);
const COUNT_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];

function compileTemplate(source: string): CompiledTemplate {
  const required = new Set<string>();
  const all = new Set<string>();
  const parse = (text: string, inOptional: boolean): Part[] => {
    const parts: Part[] = [];
    let i = 0;
    while (i < text.length) {
      const ch = text[i];
      if (ch === '[') {
        if (inOptional) throw new ConfigurationError(`grammar template "${source}": optional parts cannot nest`, { setting: 'templates' });
        const end = text.indexOf(']', i);
        if (end < 0) throw new ConfigurationError(`grammar template "${source}": "[" without "]"`, { setting: 'templates' });
        parts.push({ kind: 'optional', parts: parse(text.slice(i + 1, end), true) });
        i = end + 1;
      } else if (ch === '{') {
        const end = text.indexOf('}', i);
        const slot = end < 0 ? '' : text.slice(i + 1, end);
        if (!SLOTS.has(slot)) {
          throw new ConfigurationError(
            `grammar template "${source}": unknown slot {${slot}}; the slots are ${[...SLOTS].map((s) => `{${s}}`).join(', ')}`,
            { setting: 'templates' },
          );
        }
        all.add(slot);
        if (!inOptional) required.add(slot);
        parts.push({ kind: 'slot', slot });
        i = end + 1;
      } else if (ch === ']') {
        throw new ConfigurationError(`grammar template "${source}": "]" without "["`, { setting: 'templates' });
      } else {
        let j = i;
        while (j < text.length && !'[]{'.includes(text[j])) j++;
        parts.push({ kind: 'text', text: text.slice(i, j) });
        i = j;
      }
    }
    return parts;
  };
  return { source, parts: parse(source, false), required, all };
}

/** `a` or `an` for a word (by its sound, roughly). */
export function indefiniteArticle(word: string): 'a' | 'an' {
  const w = word.toLowerCase();
  if (/^(one|once|uni|use|usu|uto|eu|ewe|u[bcfhjkqrstn][aeiou])/.test(w) && !/^un[^i]/.test(w)) return 'a';
  if (/^(hour|honest|honou?r|heir)/.test(w)) return 'an';
  return /^[aeiou]/.test(w) ? 'an' : 'a';
}

interface ObjectSpec {
  noun: Concept;
  attributes: Concept[];
}

const ATTRIBUTE_KINDS = new Set(['attribute', 'color', 'size']);
const OBJECT_KINDS = new Set(['object', 'shape', 'other']);
const ADJECTIVE_ORDER: Record<string, number> = { size: 0, attribute: 1, other: 1, color: 2 };

/** What the grammar needs from a request. */
export interface GrammarRequest {
  concepts: Concept[];
  wordCount?: number;
}

/**
 * The offline concept grammar: writes factual, human-annotator-style captions from concepts and an inventory,
 * seeded, with no model. Used by {@link createConceptGrammarSource}.
 */
export class ConceptGrammar {
  readonly inventory: ConceptInventory | undefined;
  private readonly templates: Record<keyof GrammarTemplates, CompiledTemplate[]>;
  private readonly options: Required<Omit<ConceptGrammarOptions, 'inventory' | 'templates' | 'attributeProbability' | 'groupNouns'>> & {
    attributeProbability: { color: number; size: number; attribute: number };
    groupNouns: string[];
  };

  constructor(options: ConceptGrammarOptions = {}) {
    rejectUnknownOptions(options, CONCEPT_GRAMMAR_KEYS, 'new ConceptGrammar');
    rejectUnknownGrammarNestedKeys(options, 'new ConceptGrammar');
    if (options.inventory !== undefined) {
      const parsed = ConceptInventorySchema.safeParse(options.inventory);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new InvalidInputError(`invalid concept inventory: ${issue.path.join('.')}: ${issue.message}`, {
          field: 'inventory',
          cause: parsed.error,
        });
      }
      this.inventory = parsed.data;
    }
    const t = { ...DEFAULT_GRAMMAR_TEMPLATES, ...options.templates };
    this.templates = {
      one: t.one.map(compileTemplate),
      two: t.two.map(compileTemplate),
      many: t.many.map(compileTemplate),
    };
    for (const key of ['one', 'two', 'many'] as const) {
      if (this.templates[key].length === 0) {
        throw new ConfigurationError(`grammar templates.${key} is empty; give at least one template`, { setting: `templates.${key}` });
      }
    }
    const prob = (name: string, v: number | undefined, d: number) => {
      if (v === undefined) return d;
      if (!(v >= 0 && v <= 1)) throw new ConfigurationError(`${name} must be between 0 and 1, got ${v}`, { setting: name });
      return v;
    };
    const objectsAreShapes = (this.inventory?.objects ?? []).some((o) => o.kind === 'shape') || /shape/i.test(this.inventory?.name ?? '');
    this.options = {
      synonymProbability: prob('synonymProbability', options.synonymProbability, 0.3),
      extraObjectProbability: prob('extraObjectProbability', options.extraObjectProbability, 0.3),
      optionalProbability: prob('optionalProbability', options.optionalProbability, 0.5),
      attributeProbability: {
        color: prob('attributeProbability.color', options.attributeProbability?.color, 0.85),
        size: prob('attributeProbability.size', options.attributeProbability?.size, 0.35),
        attribute: prob('attributeProbability.attribute', options.attributeProbability?.attribute, 0.2),
      },
      groupNouns: options.groupNouns ?? (objectsAreShapes ? ['shapes'] : []),
      candidates: options.candidates ?? 8,
      capitalize: options.capitalize ?? false,
      period: options.period ?? false,
    };
    if (!Number.isInteger(this.options.candidates) || this.options.candidates < 1) {
      throw new ConfigurationError(`candidates must be a positive integer, got ${options.candidates}`, { setting: 'candidates' });
    }
  }

  /** Writes one caption about the request's concepts. */
  caption(request: GrammarRequest, rng: Rng): string {
    const plan = this.plan(request.concepts, rng);
    const m = request.wordCount === undefined ? 1 : this.options.candidates;
    let best = '';
    let bestDiff = Infinity;
    for (let i = 0; i < m; i++) {
      const text = this.realise(plan, rng);
      if (request.wordCount === undefined) return text;
      const diff = Math.abs(text.split(/\s+/).length - request.wordCount);
      if (diff < bestDiff) {
        best = text;
        bestDiff = diff;
      }
    }
    return best;
  }

  private plan(concepts: Concept[], rng: Rng) {
    const objects: ObjectSpec[] = [];
    let pending: Concept[] = [];
    let relation: Concept | undefined;
    let position: Concept | undefined;
    let place: Concept | undefined;
    for (const c of concepts) {
      if (ATTRIBUTE_KINDS.has(c.kind)) pending.push(c);
      else if (c.kind === 'relation') relation = c;
      else if (c.kind === 'position') position = c;
      else if (c.kind === 'place' || c.kind === 'background') place = c;
      else if (OBJECT_KINDS.has(c.kind)) {
        objects.push({ noun: c, attributes: pending });
        pending = [];
      }
    }
    const inv = this.inventory;
    if (objects.length === 0) {
      if (!inv) {
        throw new InvalidInputError(
          `the concept grammar was asked for a caption with no object (concepts: ${concepts.map((c) => c.name).join(', ') || 'none'}) and has no inventory to pick one from; pass an inventory or include an object concept`,
          { field: 'concepts' },
        );
      }
      objects.push({ noun: rng.choice(inv.objects), attributes: [] });
    }
    if (pending.length > 0) objects[objects.length - 1].attributes.push(...pending);
    const requestedObjects = objects.length;
    if (objects.length === 1 && inv && inv.objects.length > 0 && rng.bool(this.options.extraObjectProbability)) {
      objects.push({ noun: rng.choice(inv.objects), attributes: [] });
    }
    // Random attributes for objects that were given none of a kind (from the inventory only: never invented).
    objects.forEach((o, i) => {
      if (!inv) return;
      const has = new Set(o.attributes.map((a) => (a.kind === 'other' ? 'attribute' : a.kind)));
      for (const kind of ['size', 'attribute', 'color'] as const) {
        if (has.has(kind)) continue;
        const pool = inv.attributes.filter((a) => a.kind === kind);
        // A requested object that came without attributes keeps the random ones only as often as configured.
        if (pool.length > 0 && rng.bool(this.options.attributeProbability[kind])) o.attributes.push(rng.choice(pool));
      }
      void i;
    });
    // Two objects with the same noun and attributes read as a mistake ("a red circle and a red circle").
    if (objects.length === 2 && sameObject(objects[0], objects[1]) && requestedObjects === 1) objects.pop();
    return { objects, relation, position, place, requested: { relation, position, place } };
  }

  private word(c: Concept, rng: Rng): string {
    if (c.synonyms.length > 0 && rng.bool(this.options.synonymProbability)) return rng.choice(c.synonyms);
    return c.name;
  }

  private nounPhrase(o: ObjectSpec, rng: Rng, article: boolean): string {
    const adjectives = [...o.attributes]
      .sort((x, y) => (ADJECTIVE_ORDER[x.kind] ?? 1) - (ADJECTIVE_ORDER[y.kind] ?? 1))
      .map((a) => this.word(a, rng));
    const phrase = [...adjectives, this.word(o.noun, rng)].join(' ');
    return article ? `${indefiniteArticle(phrase)} ${phrase}` : phrase;
  }

  private realise(plan: ReturnType<ConceptGrammar['plan']>, rng: Rng): string {
    const inv = this.inventory;
    const n = plan.objects.length;
    const group = n === 1 ? 'one' : n === 2 ? 'two' : 'many';
    const available = new Set<string>(['count']);
    if (n >= 1) available.add('a').add('a-bare');
    if (n >= 2) available.add('b').add('b-bare');
    if (n >= 2) available.add('list');
    if (n >= 2 && (plan.relation || (inv && inv.relations.length > 0))) available.add('rel');
    if (n === 1 && (plan.position || (inv && inv.positions.length > 0))) available.add('pos');
    if (plan.place || (inv && inv.places.length > 0)) available.add('place');
    if (this.options.groupNouns.length > 0) available.add('group');
    const mustUse = new Set<string>();
    if (plan.requested.relation) mustUse.add('rel');
    if (plan.requested.position) mustUse.add('pos');
    if (plan.requested.place) mustUse.add('place');
    const fits = this.templates[group].filter(
      (t) => [...t.required].every((s) => available.has(s)) && [...mustUse].every((s) => t.all.has(s) && available.has(s)),
    );
    if (fits.length === 0) {
      throw new ConfigurationError(
        `no ${group}-object grammar template can mention ${[...mustUse].map((s) => `{${s}}`).join(', ') || 'these concepts'}; add a template that uses ${[...mustUse].map((s) => `{${s}}`).join(', ')}`,
        { setting: `templates.${group}` },
      );
    }
    const template = rng.choice(fits);
    const values = new Map<string, string>();
    const value = (slot: string): string => {
      let v = values.get(slot);
      if (v !== undefined) return v;
      switch (slot) {
        case 'a':
          v = this.nounPhrase(plan.objects[0], rng, true);
          break;
        case 'a-bare':
          v = this.nounPhrase(plan.objects[0], rng, false);
          break;
        case 'b':
          v = this.nounPhrase(plan.objects[1], rng, true);
          break;
        case 'b-bare':
          v = this.nounPhrase(plan.objects[1], rng, false);
          break;
        case 'list': {
          const items = plan.objects.map((o) => this.nounPhrase(o, rng, true));
          v = `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
          break;
        }
        case 'rel':
          v = this.word(plan.relation ?? rng.choice(inv!.relations), rng);
          break;
        case 'pos':
          v = this.word(plan.position ?? rng.choice(inv!.positions), rng);
          break;
        case 'place':
          v = this.word(plan.place ?? rng.choice(inv!.places), rng);
          break;
        case 'count':
          v = COUNT_WORDS[n] ?? String(n);
          break;
        case 'group':
          v = rng.choice(this.options.groupNouns);
          break;
        default:
          v = '';
      }
      values.set(slot, v);
      return v;
    };
    const render = (parts: Part[]): string =>
      parts
        .map((p) => {
          if (p.kind === 'text') return p.text;
          if (p.kind === 'slot') return value(p.slot);
          const slots = p.parts.filter((q): q is { kind: 'slot'; slot: string } => q.kind === 'slot').map((q) => q.slot);
          if (!slots.every((s) => available.has(s))) return '';
          const forced = slots.some((s) => mustUse.has(s));
          return forced || rng.bool(this.options.optionalProbability) ? render(p.parts) : '';
        })
        .join('');
    let text = render(template.parts).replace(/\s+/g, ' ').replace(/\s+,/g, ',').trim();
    if (this.options.capitalize) text = text.charAt(0).toUpperCase() + text.slice(1);
    if (this.options.period && !/[.!?]$/.test(text)) text += '.';
    return text;
  }
}

function sameObject(x: ObjectSpec, y: ObjectSpec): boolean {
  const key = (o: ObjectSpec) => [o.noun.id, ...o.attributes.map((a) => a.id).sort()].join('|');
  return key(x) === key(y);
}
