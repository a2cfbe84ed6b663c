import { ConfigurationError } from '../errors';
import type { CaptionSource } from '../schemas/caption-source';

/** A factory registered under an id; `options` come from the user's config. */
export interface RegistryEntry<T> {
  id: string;
  description?: string;
  /** Package that registered it (for error messages). */
  plugin?: string;
  create: (options: Record<string, unknown>) => T | Promise<T>;
}

/**
 * A named set of factories (caption sources, caption metrics). Lives on `globalThis` under a `Symbol.for` key so
 * that plugins and the CLI share it even when several copies of `@synth2/core` are installed.
 */
export class Registry<T> {
  private readonly entries = new Map<string, RegistryEntry<T>>();
  constructor(readonly kind: string) {}

  register(entry: RegistryEntry<T>, options: { override?: boolean } = {}): void {
    if (!/^[a-z0-9][a-z0-9._:/-]*$/i.test(entry.id)) {
      throw new ConfigurationError(
        `Invalid ${this.kind} id "${entry.id}": use letters, digits and . _ : / - (e.g. "my-org/my-source").`,
      );
    }
    const existing = this.entries.get(entry.id);
    if (existing && !options.override) {
      throw new ConfigurationError(
        `A ${this.kind} with id "${entry.id}" is already registered${existing.plugin ? ` by ${existing.plugin}` : ''}. ` +
          'Pick another id, or pass { override: true } to replace it on purpose.',
      );
    }
    this.entries.set(entry.id, entry);
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  get(id: string): RegistryEntry<T> {
    const entry = this.entries.get(id);
    if (!entry) {
      const known = [...this.entries.keys()].sort();
      throw new ConfigurationError(
        `Unknown ${this.kind} "${id}". Known: ${known.length ? known.join(', ') : '(none)'}. ` +
          'If it comes from a plugin package, list that package under "plugins" in the config.',
        { setting: id },
      );
    }
    return entry;
  }

  async create(id: string, options: Record<string, unknown> = {}): Promise<T> {
    return this.get(id).create(options);
  }

  list(): { id: string; description?: string; plugin?: string }[] {
    return [...this.entries.values()].map(({ id, description, plugin }) => ({ id, description, plugin }));
  }

  unregister(id: string): boolean {
    return this.entries.delete(id);
  }
}

/**
 * A caption metric plugin: scores predictions against references, higher is better. `evaluateCaptions` of
 * `@synth2/eval` calls `score` with the raw captions of the evaluated images (keyed by image id as a string) and reports
 * `score` under the metric's registry id; `perImage`, when given, must hold a finite score for every evaluated image.
 */
export interface CaptionMetricV1 {
  readonly specificationVersion: 'v1';
  readonly id: string;
  score(input: {
    /** `{ imageId: [reference, …] }`: the valid references of each evaluated image. */
    references: Record<string, string[]>;
    /** `{ imageId: candidate }`: one prediction per evaluated image. */
    predictions: Record<string, string>;
    /** Aborts the evaluation; long-running metrics should stop and throw when it fires. */
    abortSignal?: AbortSignal;
  }): Promise<{ score: number; perImage?: Record<string, number> }>;
}

/** The registries plugins add to: caption sources and caption metrics. */
export interface Synth2Registries {
  /** Caption sources by id: `synthesizeCaptions` and the CLI's `captions.source`. */
  captionSources: Registry<CaptionSource>;
  /** Caption metrics by id: `evaluateCaptions({ metrics })`, `synth2 eval --metrics` and the CLI's `eval.metrics`. */
  metrics: Registry<CaptionMetricV1>;
}

const KEY = Symbol.for('synth2.registries.v1');

/** The process-wide registries (shared across copies of `@synth2/core`). */
export function getRegistries(): Synth2Registries {
  const g = globalThis as unknown as Record<symbol, Synth2Registries | undefined>;
  let r = g[KEY];
  if (!r) {
    r = {
      captionSources: new Registry<CaptionSource>('caption source'),
      metrics: new Registry<CaptionMetricV1>('metric'),
    };
    g[KEY] = r;
  }
  return r;
}

/**
 * The plugin contract: a package exports `synth2Plugin` (or a default export) of this shape. `register` adds its
 * caption sources and metrics to the registries it is given.
 */
export interface Synth2PluginV1 {
  readonly specificationVersion: 'v1';
  readonly name: string;
  register(registries: Synth2Registries): void | Promise<void>;
}

const LOADED_KEY = Symbol.for('synth2.loadedPlugins.v1');

/** The plugins already registered in this process (shared across copies of `@synth2/core`, like the registries). */
function loadedPlugins(): Set<string> {
  const g = globalThis as unknown as Record<symbol, Set<string> | undefined>;
  return (g[LOADED_KEY] ??= new Set<string>());
}

/**
 * Loads plugin packages by name (or path) and lets each register itself. `importer` defaults to dynamic `import()`;
 * pass one that resolves from the user's project directory when calling from a CLI.
 */
export async function loadPlugins(
  names: readonly string[],
  options: { importer?: (specifier: string) => Promise<unknown> } = {},
): Promise<Synth2PluginV1[]> {
  const importer = options.importer ?? ((s: string) => import(s));
  const registries = getRegistries();
  const plugins: Synth2PluginV1[] = [];
  for (const name of names) {
    let mod: any;
    try {
      mod = await importer(name);
    } catch (error) {
      throw new ConfigurationError(
        `Could not load plugin "${name}": ${(error as Error).message}. Install it (npm install ${name}) in the project you run from.`,
        { setting: 'plugins', cause: error },
      );
    }
    const plugin: unknown = mod?.synth2Plugin ?? mod?.default?.synth2Plugin ?? mod?.default;
    if (
      !plugin ||
      typeof plugin !== 'object' ||
      (plugin as Synth2PluginV1).specificationVersion !== 'v1' ||
      typeof (plugin as Synth2PluginV1).register !== 'function'
    ) {
      throw new ConfigurationError(
        `"${name}" is not a Synth² plugin: it must export \`synth2Plugin = { specificationVersion: 'v1', name, register(registries) }\`.`,
        { setting: 'plugins' },
      );
    }
    const p = plugin as Synth2PluginV1;
    const loaded = loadedPlugins();
    if (!loaded.has(`${name}\u0000${p.name}`)) {
      await p.register(registries);
      loaded.add(`${name}\u0000${p.name}`);
    }
    plugins.push(p);
  }
  return plugins;
}
