import {
  CONCEPT_GRAMMAR_SOURCE_KEYS,
  OPENAI_SETTINGS_KEYS,
  type ConceptGrammarSourceSettings,
  type OpenAICaptionSourceSettings,
} from '@synth2/captioner';
import {
  GeneratorConfigSchema,
  TokenizerConfigSchema,
  demoGeneratorConfig,
  demoGeneratorTraining,
  demoTokenizerConfig,
  demoTokenizerTraining,
  type GeneratorConfigInput,
  type GeneratorTrainOptions,
  type TokenizerConfigInput,
  type TokenizerTrainOptions,
} from '@synth2/generator';
import {
  VlmArchitectureSchema,
  demoVlmConfig,
  type TrainVLMOptions,
  type VlmArchitectureInput,
} from '@synth2/vlm';
import { z } from 'zod';

/**
 * The per-stage settings of the pipeline config, composed from the packages' own option schemas and option types:
 * each stage takes its model's architecture keys (the package's zod schema, without the keys the pipeline sets
 * itself) and the training keys a config may set (checked against the package's options type by the compiler). Every
 * key is optional and has no default here: the packages' demo settings fill what the config leaves out.
 */

/** A zod shape for some keys of an options type `T`: the compiler rejects a key `T` does not have. */
type ShapeOf<T> = { [K in keyof T]?: z.ZodType<T[K] | undefined> };

/**
 * The zod node of a schema without its `default(…)`/`prefault(…)` wrapper (the demo settings fill defaults); a nested
 * object's fields lose theirs too, so that `vlm.decoder.layers` alone keeps the demo's other decoder settings.
 */
function withoutDefault(schema: z.ZodType): z.ZodType {
  const defOf = (node: z.ZodType) =>
    (node as unknown as { _zod: { def: { type: string; innerType?: z.ZodType; shape?: z.ZodRawShape } } })
      ._zod.def;
  const def = defOf(schema);
  const inner = (def.type === 'default' || def.type === 'prefault') && def.innerType ? def.innerType : schema;
  const innerDef = defOf(inner);
  return innerDef.type === 'object' && innerDef.shape
    ? z.strictObject(optionalFields(innerDef.shape))
    : inner;
}

/** Every field of an object shape as optional, without defaults. */
function optionalFields<S extends z.ZodRawShape>(
  shape: S,
): { [K in keyof S]: z.ZodOptional<z.ZodType<z.output<S[K]>, z.input<S[K]>>> } {
  return Object.fromEntries(
    Object.entries(shape).map(([key, field]) => [key, withoutDefault(field as z.ZodType).optional()]),
  ) as {
    [K in keyof S]: z.ZodOptional<z.ZodType<z.output<S[K]>, z.input<S[K]>>>;
  };
}

const posInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();
const share = z.number().min(0).max(1);

/** Tokenizer training keys a config may set (the pipeline sets seed, checkpoints, metrics, progress). */
const tokenizerTraining = {
  steps: posInt.optional(),
  batchSize: posInt.optional(),
  lr: z.number().positive().optional(),
  warmupSteps: nonNegInt.optional(),
  restartEvery: nonNegInt.optional(),
  restartUntil: share.optional(),
} satisfies ShapeOf<TokenizerTrainOptions>;

/** Generator training keys a config may set. */
const generatorTraining = {
  steps: posInt.optional(),
  batchSize: posInt.optional(),
  lr: z.number().positive().optional(),
  warmupSteps: nonNegInt.optional(),
  minLrRatio: share.optional(),
  weightDecay: z.number().nonnegative().optional(),
} satisfies ShapeOf<GeneratorTrainOptions>;

/** VLM training keys a config may set. */
const vlmTraining = {
  steps: posInt.optional(),
  batchSize: posInt.optional(),
  mix: z.strictObject({ real: share, synthetic: share }).optional(),
  syntheticSteps: nonNegInt.optional(),
  lr: z.number().positive().optional(),
  weightDecay: z.number().nonnegative().optional(),
  warmupSteps: nonNegInt.optional(),
  minLrRatio: share.optional(),
  clipGradNorm: z.number().nonnegative().optional(),
  evalEvery: posInt.optional(),
  checkpointEvery: posInt.optional(),
} satisfies ShapeOf<TrainVLMOptions>;

/** `tokenizer`: the VQ tokenizer's architecture (not `imageSize`, from `data.imageSize`, nor `seed`) and training. */
export const TokenizerSettingsSchema = z.strictObject({
  ...optionalFields(TokenizerConfigSchema.omit({ imageSize: true, seed: true }).shape),
  ...tokenizerTraining,
});

/** `generator`: the generator's architecture (not `vocabulary`, built from the captions, nor `seed`) and training. */
export const GeneratorSettingsSchema = z.strictObject({
  ...optionalFields(GeneratorConfigSchema.omit({ vocabulary: true, seed: true }).shape),
  ...generatorTraining,
});

/** `vlm`: the VLM's architecture (not `embeddingDim`/`grid`, from the tokenizer, nor `seed`) and training. */
export const VlmSettingsSchema = z.strictObject({
  ...optionalFields(VlmArchitectureSchema.omit({ embeddingDim: true, grid: true, seed: true }).shape),
  ...vlmTraining,
});

/** A strict object of the given keys; their values are checked by the package when the stage builds its source. */
const keysOnly = (keys: readonly string[]) =>
  z.strictObject(Object.fromEntries(keys.map((key) => [key, z.unknown().optional()])));

/** `keys` without `excluded`; the compiler checks that each excluded key is a key of `T`. */
const keysWithout = <T extends object>(keys: readonly string[], excluded: readonly (keyof T & string)[]) =>
  keys.filter((key) => !(excluded as readonly string[]).includes(key));

/** `captions.grammar`: settings of the offline concept grammar (its inventory and seed come from the run). */
export const CaptionsGrammarSchema = keysOnly(
  keysWithout<ConceptGrammarSourceSettings>(CONCEPT_GRAMMAR_SOURCE_KEYS, ['inventory', 'seed']),
);

/**
 * `captions.openai`: settings of the OpenAI-compatible client. `baseURL`, `model` and `maxConcurrency` are
 * `captions.baseURL`, `captions.model` and `captions.concurrency`; `fetch` and `env` are not config values.
 */
export const CaptionsOpenAISchema = keysOnly(
  keysWithout<OpenAICaptionSourceSettings>(OPENAI_SETTINGS_KEYS, ['baseURL', 'model', 'maxConcurrency', 'fetch', 'env']),
);

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
const JsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(JsonValueSchema),
    z.record(z.string(), JsonValueSchema),
  ]),
);

/** `captions.options`: a plugin caption source's settings, any JSON (the plugin's `create` checks them). */
export const PluginSourceOptionsSchema = z.record(z.string(), JsonValueSchema);

type TokenizerSettings = z.infer<typeof TokenizerSettingsSchema>;
type GeneratorSettings = z.infer<typeof GeneratorSettingsSchema>;
type VlmSettings = z.infer<typeof VlmSettingsSchema>;

/** The keys of `source` in `keys` whose value is set, and the rest (model settings). */
function split<T extends object, K extends keyof T>(
  source: T,
  keys: readonly K[],
): { model: Omit<T, K>; training: Partial<Pick<T, K>> } {
  const model: Partial<T> = {};
  const training: Partial<Pick<T, K>> = {};
  for (const key of Object.keys(source) as (keyof T)[]) {
    const value = source[key];
    if (value === undefined) continue;
    if ((keys as readonly (keyof T)[]).includes(key)) (training as Partial<T>)[key] = value;
    else model[key] = value;
  }
  return { model: model as Omit<T, K>, training };
}

const keysOf = <T extends object>(shape: T) => Object.keys(shape) as (keyof T)[];

/** The tokenizer's architecture and training: the demo settings with the config's over them. */
export function tokenizerSettings(settings: TokenizerSettings) {
  const all = { ...demoTokenizerConfig, ...demoTokenizerTraining, ...settings };
  const { model, training } = split(all, keysOf(tokenizerTraining));
  return {
    model: model as Omit<TokenizerConfigInput, 'imageSize' | 'seed'>,
    training: { steps: all.steps, ...training },
  };
}

/** The generator's architecture and training: the demo settings with the config's over them. */
export function generatorSettings(settings: GeneratorSettings) {
  const all = { ...demoGeneratorConfig, ...demoGeneratorTraining, ...settings };
  const { model, training } = split(all, keysOf(generatorTraining));
  return {
    model: model as Omit<GeneratorConfigInput, 'vocabulary' | 'seed'>,
    training: { steps: all.steps, ...training },
  };
}

/** The VLMs' architecture and training: the demo settings with the config's over them (nested blocks key by key). */
export function vlmSettings(settings: VlmSettings) {
  const demo = demoVlmConfig.architecture;
  const nested = {
    ...(settings.encoder && { encoder: { ...settings.encoder } }),
    ...(settings.resampler && { resampler: { ...demo.resampler, ...settings.resampler } }),
    ...(settings.decoder && { decoder: { ...demo.decoder, ...settings.decoder } }),
  };
  const all = { ...demo, ...demoVlmConfig.training, ...settings, ...nested };
  const { model, training } = split(all, keysOf(vlmTraining));
  return {
    model: model as Omit<VlmArchitectureInput, 'embeddingDim' | 'grid' | 'seed'>,
    training: { steps: all.steps, batchSize: all.batchSize, ...training },
  };
}
