import { readFile } from 'node:fs/promises';
import { ConfigurationError, InvalidInputError } from '@synth2/core';
import { unknownKeysError } from '@synth2/core/internal';
import type { EvalMetricName } from '@synth2/eval';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CaptionsGrammarSchema, CaptionsOpenAISchema, GeneratorSettingsSchema, PluginSourceOptionsSchema, TokenizerSettingsSchema, VlmSettingsSchema } from './stage-settings';

/** The metrics built into @synth2/eval's `evaluateCaptions` (a type-only import keeps the package unloaded here). */
const EVAL_METRICS = ['BLEU', 'ROUGE_L', 'CIDEr', 'METEOR', 'SPICE'] as const satisfies readonly EvalMetricName[];

/**
 * An `eval.metrics` entry: a built-in metric of @synth2/eval's `evaluateCaptions` or a plugin metric's id (checked once
 * the plugins are loaded). A built-in name in the wrong case (`CIDER`) is refused here, naming the right one.
 */
const EvalMetricIdSchema = z
  .string()
  .min(1)
  .superRefine((id, ctx) => {
    const builtIn = EVAL_METRICS.find((m) => m.toLowerCase() === id.toLowerCase());
    if (builtIn && builtIn !== id) ctx.addIssue({ code: 'custom', message: `unknown metric "${id}"; did you mean "${builtIn}"?` });
  });

/** Settings of the whole Synth² pipeline. Every value has a default; every value can be overridden by a flag. */
export const PipelineConfigSchema = z
  .object({
    seed: z.number().int().default(1),
    /** Plugin packages to load (they register caption sources, models, metrics). */
    plugins: z.array(z.string()).default([]),
    data: z
      .object({
        /** `shapes` (built-in procedural world) or a path to a COCO-format / Flickr-style folder. */
        source: z.string().default('shapes'),
        imageSize: z.number().int().positive().default(32),
        train: z.number().int().positive().default(2000),
        val: z.number().int().nonnegative().default(100),
        test: z.number().int().positive().default(300),
        holdOutFraction: z.number().min(0).max(1).default(0.25),
        /** Share of the human train split actually used (the paper's data-efficiency comparison). */
        humanFraction: z.number().gt(0).max(1).default(1),
      })
      .strict()
      .prefault({}),
    captions: z
      .object({
        /** `auto` (OpenAI-compatible when an API key or base URL is configured, else the concept grammar), `grammar`, `openai`, or a plugin's caption source id. */
        source: z.string().default('auto'),
        count: z.number().int().positive().default(6000),
        wordCount: z.number().int().positive().default(10),
        conceptsPerCaption: z.number().int().positive().default(1),
        sampler: z.enum(['uniform', 'balanced', 'weighted']).default('balanced'),
        /**
         * Share (0–1) of the synthetic captions that fill the gaps of the human train captions: with the shapes world's
         * colour–shape pairs, the pairs human captions name least (the held-out ones: never) get them first, until
         * human + synthetic mentions are even; the rest is spread evenly. 0: every pair equally often.
         */
        gapFill: z.number().min(0).max(1).default(1),
        /** A concept list file (txt, TSV/CSV, JSON). Default for the shapes world: every colour–shape pair of its inventory. */
        concepts: z.string().optional(),
        baseURL: z.string().optional(),
        model: z.string().optional(),
        concurrency: z.number().int().positive().default(8),
        /** Settings of the offline concept grammar (`grammar`, and `auto` when it falls back to it). */
        grammar: CaptionsGrammarSchema.optional(),
        /** Settings of the OpenAI-compatible client (`openai`, and `auto` when it picks it). */
        openai: CaptionsOpenAISchema.optional(),
        /** Settings passed to a plugin's caption source (its `create(options)` checks them). */
        options: PluginSourceOptionsSchema.optional(),
      })
      .strict()
      .prefault({}),
    /** VQ tokenizer settings over the demo's: architecture keys and training keys (steps, batchSize, lr, …). */
    tokenizer: TokenizerSettingsSchema.default({}),
    /** Generator settings over the demo's: architecture keys and training keys (steps, batchSize, lr, …). */
    generator: GeneratorSettingsSchema.default({}),
    generate: z
      .object({
        steps: z.number().int().positive().optional(),
        temperature: z.number().nonnegative().optional(),
        guidanceScale: z.number().nonnegative().optional(),
        priorCorrection: z.number().min(0).max(1).optional(),
        batchSize: z.number().int().positive().default(256),
        /**
         * Candidates sampled per caption; with more than 1, the baseline VLM (trained on the human pairs only, beside the
         * generator) keeps the candidate whose caption it finds most likely — best-of-N re-ranking, as DALL·E re-ranks
         * with CLIP — and the stage waits for that VLM. 1 (default) = no re-ranking.
         */
        candidates: z.number().int().min(1).max(16).default(1),
      })
      .strict()
      .prefault({}),
    /** VLM settings over the demo's: architecture keys and training keys (steps, batchSize, mix, evalEvery, …). */
    vlm: VlmSettingsSchema.default({}),
    /**
     * Run caption synthesis and embedding generation as jobs on a BullMQ (Redis) queue drained by `synth2 worker`
     * processes (needs the optional `@synth2/queue`). Unset: both stages run in-process (the default).
     */
    queue: z
      .object({
        url: z
          .string()
          .regex(/^rediss?:\/\/\S+$/, 'must be a Redis URL such as redis://127.0.0.1:6379 (rediss:// for TLS)'),
        /** Queue name (workers must use the same, `synth2 worker --name`). */
        name: z.string().min(1).default('synth2'),
        /** Which stages go to the queue. */
        stages: z.array(z.enum(['captions', 'generate'])).default(['captions', 'generate']),
        /** Concept requests per caption job. */
        captionsPerJob: z.number().int().positive().default(16),
        /**
         * Which of the workers' OpenAI-compatible endpoints caption jobs call, by name (`synth2 worker --endpoint
         * NAME=URL`); `default` is each worker's own OPENAI_BASE_URL. Jobs never carry a URL or a key.
         */
        endpoint: z.string().min(1).default('default'),
        /** Caption records per embedding job (rounded up to a multiple of generate.batchSize). */
        recordsPerJob: z.number().int().positive().default(1024),
      })
      .strict()
      .optional(),
    eval: z
      .object({
        /** Built-in metrics (BLEU, ROUGE_L, CIDEr, METEOR, SPICE) and plugin metric ids (`my-org/metric`). */
        metrics: z.array(EvalMetricIdSchema).min(1).default(['BLEU', 'ROUGE_L', 'CIDEr']),
        /** Beam width used to caption the test images (1 = greedy); both models are always decoded the same way. */
        beamSize: z.number().int().positive().default(5),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.captions.options && isBuiltInSource(c.captions.source)) {
      ctx.addIssue({
        code: 'custom',
        path: ['captions', 'options'],
        message: `captions.options are for a plugin's caption source; with captions.source "${c.captions.source}" use captions.grammar.<key> (the concept grammar) or captions.openai.<key> (the OpenAI-compatible client)`,
      });
    }
    if (c.generate.candidates > 1 && c.queue?.stages.includes('generate')) {
      ctx.addIssue({
        code: 'custom',
        path: ['generate', 'candidates'],
        message: 're-ranking (candidates > 1) runs in-process only; set generate.candidates 1 or leave "generate" out of queue.stages',
      });
    }
  });
/** A pipeline config with every default filled in (the output of `PipelineConfigSchema`). */
export type PipelineConfig = z.infer<typeof PipelineConfigSchema>;

/** The caption sources built into the CLI (any other `captions.source` is a plugin's id). */
export function isBuiltInSource(source: string): boolean {
  return source === 'auto' || source === 'grammar' || source === 'openai';
}
/** A pipeline config as written in a file or passed in code (defaults optional). */
export type PipelineConfigInput = z.input<typeof PipelineConfigSchema>;

/** Reads a JSON or YAML config file (by extension; YAML also accepts JSON). */
export async function readConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InvalidInputError(`cannot read the config file (${(error as Error).message}). Check the path.`, {
      file,
      cause: error,
    });
  }
  try {
    return file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new InvalidInputError(`the config is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message}`, {
      file,
      cause: error,
    });
  }
}

/** Parses a flag's text value: numbers, booleans, null, JSON arrays/objects; anything else stays a string. */
export function parseFlagValue(text: string): unknown {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === 'null') return null;
  if (/^-?\d+(\.\d+)?(e-?\d+)?$/i.test(text)) return Number(text);
  if (/^[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** Sets `a.b.c = value` in a nested plain object (creating objects as needed). */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node: Record<string, unknown> = target;
  for (const key of keys.slice(0, -1)) {
    if (node[key] == null || typeof node[key] !== 'object' || Array.isArray(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
}

/** Validates a raw config (file contents with overrides applied) and fills defaults. */
export function resolveConfig(raw: unknown, overrides: Record<string, unknown> = {}, source = 'config'): PipelineConfig {
  const base = structuredClone((raw ?? {}) as Record<string, unknown>);
  for (const [path, value] of Object.entries(overrides)) setPath(base, path, value);
  const result = PipelineConfigSchema.safeParse(base);
  if (!result.success) {
    // an unknown key: its name, the nearest valid key at that level, and the valid keys
    const unknown = unknownKeysError(PipelineConfigSchema, result.error, source);
    if (unknown) {
      throw new ConfigurationError(`${unknown.message} Fix the config file or the --${unknown.setting} flag (see \`synth2 run --help\`).`, {
        setting: unknown.setting,
        cause: result.error,
      });
    }
    const issue = result.error.issues[0];
    const field = issue.path.join('.');
    throw new ConfigurationError(
      `${source}: ${field ? `"${field}": ` : ''}${issue.message}. Fix the config file or the --${field || '<key>'} flag (see \`synth2 run --help\`).`,
      { setting: field },
    );
  }
  return result.data;
}

/**
 * Collects `--a.b.c value` / `--a.b.c=value` flags from argv into overrides; returns them and the rest.
 * Only dotted keys and the top-level `seed` are treated as config overrides.
 */
export function extractOverrides(argv: readonly string[]): { overrides: Record<string, unknown>; rest: string[] } {
  const overrides: Record<string, unknown> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--([a-zA-Z][\w-]*(?:\.[\w-]+)+)(?:=(.*))?$/.exec(arg);
    if (m) {
      const key = m[1].replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      let value = m[2];
      if (value === undefined) {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) value = 'true';
        else {
          value = next;
          i++;
        }
      }
      overrides[key] = parseFlagValue(value);
    } else rest.push(arg);
  }
  return { overrides, rest };
}

/** The splits the data stage writes. */
export type SplitName = 'train' | 'val' | 'test' | 'train-full';

/**
 * Whether the run trains the full-human reference VLM (`vlm-full`): with `data.humanFraction` < 1, the data stage
 * also keeps the whole human train split as `train-full`, and the tokenizer encodes it.
 */
export function hasFullReference(config: PipelineConfig): boolean {
  return config.data.humanFraction < 1;
}

/** The splits the data stage writes for a config (and the tokenizer stage encodes). */
export function splitNames(config: PipelineConfig): SplitName[] {
  return hasFullReference(config) ? ['train', 'val', 'test', 'train-full'] : ['train', 'val', 'test'];
}
