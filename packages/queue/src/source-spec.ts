import { ConfigurationError, getRegistries, loadPlugins, type CaptionSourceV1 } from '@synth2/core';
import { createConceptGrammarSource, createOpenAICaptionSource } from '@synth2/captioner';
import { z } from 'zod';

/**
 * A caption source described as data, so every worker can build the same one. A job chooses the provider, its
 * non-secret settings, the plugins it needs and (OpenAI-compatible) an endpoint **by name**; the worker decides the
 * endpoints' URLs and keys and which plugins it may import (`WorkerTrustOptions`). Secrets and URLs are never put
 * in the queue.
 */
export const CaptionSourceSpecSchema = z.object({
  /** `openai-compatible`, `concept-grammar`, or a caption-source id registered by a plugin. */
  provider: z.string().min(1),
  settings: z.record(z.string(), z.unknown()).default({}),
  /** Plugin packages the job needs: each must be on the worker's `allowedPlugins`. */
  plugins: z.array(z.string()).default([]),
  /** `openai-compatible` only: which of the worker's endpoints to call (default `default`). */
  endpoint: z.string().min(1).optional(),
});
/** Which caption source a worker builds for a job (`CaptionSourceSpecSchema`). */
export type CaptionSourceSpec = z.infer<typeof CaptionSourceSpecSchema>;

/** One of a worker's OpenAI-compatible endpoints. */
export interface WorkerEndpoint {
  baseURL: string;
  /** Key sent to this endpoint (default: the worker's `OPENAI_API_KEY`). */
  apiKey?: string;
}

/** What only the worker decides: the plugins it may import and the endpoints (URLs, keys) it may call. */
export interface WorkerTrustOptions {
  /** Plugin package names this worker imports when a job names them (exact names; default none). */
  allowedPlugins?: readonly string[];
  /**
   * The worker's OpenAI-compatible endpoints by name (a URL or `{ baseURL, apiKey }`). A job picks one with
   * `endpoint`; `default`, unless listed here, is the worker's own environment (`OPENAI_BASE_URL`, else OpenAI's API).
   */
  endpoints?: Readonly<Record<string, string | WorkerEndpoint>>;
}

/** Settings of the OpenAI-compatible source a job may choose; URLs, keys, headers, env and fetch are the worker's. */
const JOB_OPENAI_SETTINGS = [
  'model',
  'maxConcurrency',
  'timeout',
  'maxRetries',
  'prompt',
  'n',
  'temperature',
  'maxTokens',
  'wordCount',
];
const DEFAULT_ENDPOINT = 'default';

function refuse(message: string, setting: string): never {
  throw new ConfigurationError(message, { setting });
}

function checkPlugins(plugins: readonly string[], allowed: readonly string[]): void {
  for (const name of plugins) {
    if (!allowed.includes(name)) {
      refuse(
        `the job names plugin "${name}", which this worker does not allow (allowed: ${allowed.length ? allowed.join(', ') : 'none'}); it was not imported. Start the worker with --allow-plugin ${name} if you trust that package, or drop it from the job.`,
        'plugins',
      );
    }
  }
}

/** The worker's endpoint a job named, as source settings (`{}` for the worker's own default). */
function endpointSettings(
  name: string,
  endpoints: WorkerTrustOptions['endpoints'] = {},
): { baseURL?: string; apiKey?: string } {
  const configured = Object.hasOwn(endpoints, name) ? endpoints[name] : undefined;
  if (configured !== undefined)
    return typeof configured === 'string' ? { baseURL: configured } : { ...configured };
  if (name === DEFAULT_ENDPOINT) return {};
  const known = [...new Set([DEFAULT_ENDPOINT, ...Object.keys(endpoints)])].join(', ');
  return refuse(
    `the job asks for endpoint "${name}", which this worker does not have (it has: ${known}). Configure it on the worker (--endpoint ${name}=URL) or name one of those.`,
    'endpoint',
  );
}

function checkOpenAISettings(settings: Record<string, unknown>): void {
  for (const key of Object.keys(settings)) {
    if (!JOB_OPENAI_SETTINGS.includes(key)) {
      const hint =
        key === 'baseURL'
          ? "a job names one of the worker's endpoints with `endpoint`, never a URL: configure the URL on the workers (--endpoint NAME=URL)"
          : key === 'apiKey'
            ? "keys stay in each worker's environment (OPENAI_API_KEY) or endpoint configuration"
            : `a job may set only ${JOB_OPENAI_SETTINGS.join(', ')}`;
      refuse(
        `the job sets "${key}" for the openai-compatible source, which only the worker decides: ${hint}.`,
        `settings.${key}`,
      );
    }
  }
}

/**
 * Checks a job's source spec against what the worker trusts and returns the settings the source is built with:
 * plugins must be on `allowedPlugins`; the OpenAI-compatible source gets the named endpoint's URL and key from the
 * worker and only the job settings in `JOB_OPENAI_SETTINGS`. Throws a `ConfigurationError` saying what the job may
 * not choose; nothing is imported or called before the check passes.
 */
export function authorizeSourceSpec(
  spec: CaptionSourceSpec,
  trust: WorkerTrustOptions = {},
): { provider: string; settings: Record<string, unknown>; plugins: string[] } {
  const parsed = CaptionSourceSpecSchema.parse(spec);
  checkPlugins(parsed.plugins, trust.allowedPlugins ?? []);
  if (parsed.provider === 'openai-compatible') {
    checkOpenAISettings(parsed.settings);
    const endpoint = endpointSettings(parsed.endpoint ?? DEFAULT_ENDPOINT, trust.endpoints);
    return {
      provider: parsed.provider,
      settings: { ...parsed.settings, ...endpoint },
      plugins: parsed.plugins,
    };
  }
  if (parsed.endpoint !== undefined) {
    refuse(
      `"endpoint" applies to the openai-compatible source only; the job's provider is "${parsed.provider}".`,
      'endpoint',
    );
  }
  if ('apiKey' in parsed.settings) {
    refuse(
      "Do not put apiKey in a queued source spec: set it in each worker's environment instead.",
      'settings.apiKey',
    );
  }
  return { provider: parsed.provider, settings: parsed.settings, plugins: parsed.plugins };
}

/**
 * Builds the caption source a job describes, as a worker that trusts `trust` (see `authorizeSourceSpec`): allowed
 * plugins named by the job are imported, and only for a plugin provider.
 */
export async function createSourceFromSpec(
  spec: CaptionSourceSpec,
  trust: WorkerTrustOptions = {},
): Promise<CaptionSourceV1> {
  const { provider, settings, plugins } = authorizeSourceSpec(spec, trust);
  if (provider === 'openai-compatible') return createOpenAICaptionSource(settings as never);
  if (provider === 'concept-grammar') return createConceptGrammarSource(settings as never);
  if (plugins.length) await loadPlugins(plugins);
  return getRegistries().captionSources.create(provider, settings);
}
