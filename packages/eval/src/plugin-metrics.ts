import {
  ConfigurationError,
  getRegistries,
  Synth2Error,
  throwIfAborted,
  type CaptionMetricV1,
} from '@synth2/core/internal';

/** The metrics built into `evaluateCaptions`. */
export type EvalMetricName = 'BLEU' | 'ROUGE_L' | 'CIDEr' | 'METEOR' | 'SPICE';
/** The metrics built into `evaluateCaptions`. */
export const EVAL_METRIC_NAMES: readonly EvalMetricName[] = ['BLEU', 'ROUGE_L', 'CIDEr', 'METEOR', 'SPICE'];

/** A built-in metric name, or the id of a metric a plugin registered in `getRegistries().metrics` (`'my-org/metric'`). */
export type MetricId = EvalMetricName | (string & {});

/** A plugin metric to run: its registry id and the package that registered it. */
export interface PluginMetricRef {
  id: string;
  plugin?: string;
}

const isBuiltIn = (id: string): id is EvalMetricName => (EVAL_METRIC_NAMES as readonly string[]).includes(id);

/** The registered plugin metrics as `id (plugin)` for messages. */
function registeredMetricsText(): string {
  const entries = getRegistries()
    .metrics.list()
    .sort((a, b) => a.id.localeCompare(b.id));
  if (entries.length === 0) return '(none)';
  return entries.map((e) => (e.plugin ? `${e.id} (${e.plugin})` : e.id)).join(', ');
}

/** The error for a metric id that is neither built in nor registered: it lists both and says how to add a plugin. */
export function unknownMetricError(id: unknown, setting = 'metrics'): ConfigurationError {
  return new ConfigurationError(
    `unknown metric ${JSON.stringify(id)}. Built-in metrics: ${EVAL_METRIC_NAMES.join(', ')}; registered by plugins: ` +
      `${registeredMetricsText()}. If the metric comes from a plugin package, install it and list the package under ` +
      '"plugins" in the pipeline config (synth2-eval / synth2 eval: --plugin PACKAGE), or register it with ' +
      'getRegistries().metrics.register(...) before evaluating.',
    { setting },
  );
}

/**
 * Splits the requested metrics into built-in names and registered plugin metrics, in the order given. Throws a
 * `ConfigurationError` for an empty list or an unknown id (before any work is done).
 */
export function resolveMetrics(metrics: readonly MetricId[]): { builtIn: EvalMetricName[]; plugins: PluginMetricRef[] } {
  if (!Array.isArray(metrics) || metrics.length === 0) {
    throw new ConfigurationError(
      `metrics is empty; choose at least one of ${EVAL_METRIC_NAMES.join(', ')} or a plugin metric's id.`,
      { setting: 'metrics' },
    );
  }
  const builtIn: EvalMetricName[] = [];
  const plugins: PluginMetricRef[] = [];
  const registry = getRegistries().metrics;
  for (const m of metrics) {
    if (typeof m === 'string' && isBuiltIn(m)) builtIn.push(m);
    else if (typeof m === 'string' && registry.has(m)) plugins.push({ id: m, plugin: registry.get(m).plugin });
    else throw unknownMetricError(m);
  }
  return { builtIn, plugins };
}

/** Throws a `ConfigurationError` listing the known metrics when an id is neither built in nor registered. */
export function checkMetricIds(metrics: readonly string[], setting = 'metrics'): void {
  metrics.forEach((m, i) => {
    if (!isBuiltIn(m) && !getRegistries().metrics.has(m)) throw unknownMetricError(m, `${setting}.${i}`);
  });
}

/** A plugin metric's scores: the corpus score and, when the metric gives them, per-image scores in `imageIds` order. */
export interface PluginMetricScores {
  score: number;
  perImage?: number[];
}

const who = (ref: PluginMetricRef): string => `metric "${ref.id}"${ref.plugin ? ` (plugin ${ref.plugin})` : ''}`;

function badMetric(ref: PluginMetricRef, problem: string): Synth2Error {
  return new Synth2Error(
    `${who(ref)} ${problem}. A metric implements CaptionMetricV1: score({ references, predictions }) → ` +
      '{ score, perImage? } with finite numbers; report this to the plugin\'s authors.',
    { code: 'invalid_metric' },
  );
}

async function createMetric(ref: PluginMetricRef): Promise<CaptionMetricV1> {
  const metric = (await getRegistries().metrics.create(ref.id)) as Partial<CaptionMetricV1> | null;
  if (!metric || metric.specificationVersion !== 'v1' || typeof metric.score !== 'function') {
    throw badMetric(ref, "created an object that is not a CaptionMetricV1 (specificationVersion 'v1' and a score function)");
  }
  return metric as CaptionMetricV1;
}

/** The per-image scores a metric returned, in `imageIds` order; every evaluated image must have a finite score. */
function alignPerImage(ref: PluginMetricRef, perImage: unknown, imageIds: readonly string[]): number[] {
  if (perImage === null || typeof perImage !== 'object' || Array.isArray(perImage)) {
    throw badMetric(ref, 'returned perImage that is not an object { imageId: score }');
  }
  return imageIds.map((id) => {
    const value = (perImage as Record<string, unknown>)[id];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw badMetric(ref, `returned no finite per-image score for image ${JSON.stringify(id)}`);
    }
    return value;
  });
}

/**
 * Runs a registered plugin metric on the evaluated images: `references` and `predictions` keyed by image id (as a
 * string), `imageIds` the evaluation order the per-image scores are aligned with.
 */
export async function scorePluginMetric(
  ref: PluginMetricRef,
  input: { references: Record<string, string[]>; predictions: Record<string, string>; abortSignal?: AbortSignal },
  imageIds: readonly string[],
): Promise<PluginMetricScores> {
  throwIfAborted(input.abortSignal);
  const metric = await createMetric(ref);
  const out = (await metric.score(input)) as { score?: unknown; perImage?: unknown } | null;
  throwIfAborted(input.abortSignal);
  if (!out || typeof out.score !== 'number' || !Number.isFinite(out.score)) {
    throw badMetric(ref, 'returned no finite "score"');
  }
  return out.perImage === undefined ? { score: out.score } : { score: out.score, perImage: alignPerImage(ref, out.perImage, imageIds) };
}
