import OpenAI from 'openai';
import { z } from 'zod';
import {
  AbortedError,
  APICallError,
  ConfigurationError,
  throwIfAborted,
  type CaptionRequest,
  type CaptionResult,
  type CaptionSourceV1,
  type TokenUsage,
} from '@synth2/core';
import {
  DEFAULT_CAPTION_PROMPT,
  renderCaptionPrompt,
  validatePromptTemplate,
  type CaptionPromptTemplate,
} from '../prompt/caption-prompt';
import { optionKeys, rejectUnknownOptions } from '@synth2/core/internal';
import { CaptionRequestError } from '../internal/caption-request-error';
import { rejectUnknownPromptKeys } from '../internal/option-keys';
import { RequestDeadlineError, withRequestDeadline } from './request-deadline';

/** Settings of `createOpenAICaptionSource`. */
export interface OpenAICaptionSourceSettings {
  /** Server URL up to `/v1` (default: env `OPENAI_BASE_URL`, else OpenAI's). Any OpenAI-compatible server works. */
  baseURL?: string;
  /** API key (default: env `OPENAI_API_KEY`; a local server given by `baseURL` needs none). */
  apiKey?: string;
  /** Model id (default: env `OPENAI_MODEL`, else `gpt-4o-mini`). */
  model?: string;
  /** Extra HTTP headers on every request. */
  headers?: Record<string, string>;
  /** A `fetch` implementation to use instead of the global one. */
  fetch?: typeof globalThis.fetch;
  /** Requests in flight at once in a synthesis run (default 8). */
  maxConcurrency?: number;
  /** Per-request deadline in ms, each try, covering the headers and the whole body (default 60 000). */
  timeout?: number;
  /** Retries of the `openai` client on connection errors, timeouts, 408/409/429/5xx (default 2). */
  maxRetries?: number;
  /** The prompt template, or just its user message with `{concepts}`/`{wordCount}`/`{n}` slots. */
  prompt?: CaptionPromptTemplate | string;
  /** Choices per request (`n`): several captions per call where the server supports it (default: what the run asks). */
  n?: number;
  /** Sampling temperature (default 1). */
  temperature?: number;
  /** `max_tokens` per choice (default: 6 × wordCount, at least 64). */
  maxTokens?: number;
  /** Target caption length when the request gives none (default 12 words). */
  wordCount?: number;
  /** Environment to read lazily (default `process.env`). */
  env?: Record<string, string | undefined>;
}

const DEFAULT_MODEL = 'gpt-4o-mini';

/** Keys of {@link OpenAICaptionSourceSettings}. */
export const OPENAI_SETTINGS_KEYS: readonly string[] = optionKeys<OpenAICaptionSourceSettings>({
  baseURL: true,
  apiKey: true,
  model: true,
  headers: true,
  fetch: true,
  maxConcurrency: true,
  timeout: true,
  maxRetries: true,
  prompt: true,
  n: true,
  temperature: true,
  maxTokens: true,
  wordCount: true,
  env: true,
});

/** Rejects unknown keys of OpenAI caption source settings (and of a prompt template object). */
export function rejectUnknownOpenAISettings(settings: unknown, where: string, path?: string): void {
  rejectUnknownOptions(settings, OPENAI_SETTINGS_KEYS, where, path);
  const prompt = (settings as OpenAICaptionSourceSettings | undefined)?.prompt;
  rejectUnknownPromptKeys(prompt, where, path ? `${path}.prompt` : 'prompt');
}

// Tolerant schema of a chat-completions answer: only what we use, extra fields pass.
const ChatCompletionSchema = z.looseObject({
  id: z.string().optional(),
  model: z.string().optional(),
  choices: z
    .array(
      z.looseObject({
        index: z.number().optional(),
        message: z
          .looseObject({
            content: z.string().nullish(),
            refusal: z.string().nullish(),
          })
          .nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: z
    .looseObject({
      prompt_tokens: z.number().optional(),
      completion_tokens: z.number().optional(),
      total_tokens: z.number().optional(),
    })
    .nullish(),
});

interface ResolvedSettings {
  client: OpenAI;
  baseURL: string;
  model: string;
}

/**
 * A caption source backed by any OpenAI-compatible chat-completions server (OpenAI, vLLM, llama.cpp server,
 * Ollama) through the official `openai` client, whose own retries and timeouts are used. Settings and
 * environment variables are read when the first request is made, not at creation.
 */
export function createOpenAICaptionSource(settings: OpenAICaptionSourceSettings = {}): CaptionSourceV1 & {
  readonly settings: Readonly<OpenAICaptionSourceSettings>;
} {
  rejectUnknownOpenAISettings(settings, 'createOpenAICaptionSource');
  const template: CaptionPromptTemplate =
    typeof settings.prompt === 'string' ? { id: 'custom', user: settings.prompt } : (settings.prompt ?? DEFAULT_CAPTION_PROMPT);
  validatePromptTemplate(template);
  for (const key of ['maxConcurrency', 'n', 'maxTokens', 'wordCount'] as const) {
    const v = settings[key];
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
      throw new ConfigurationError(`${key} must be a positive integer, got ${v}`, { setting: key });
    }
  }
  if (settings.timeout !== undefined && !(settings.timeout > 0)) {
    throw new ConfigurationError(`timeout must be a positive number of milliseconds, got ${settings.timeout}`, { setting: 'timeout' });
  }
  if (settings.maxRetries !== undefined && (!Number.isInteger(settings.maxRetries) || settings.maxRetries < 0)) {
    throw new ConfigurationError(`maxRetries must be a non-negative integer, got ${settings.maxRetries}`, { setting: 'maxRetries' });
  }
  let resolved: ResolvedSettings | undefined;
  const resolve = (): ResolvedSettings => {
    if (resolved) return resolved;
    const env = settings.env ?? process.env;
    const baseURL = settings.baseURL ?? env.OPENAI_BASE_URL ?? undefined;
    let apiKey = settings.apiKey ?? env.OPENAI_API_KEY ?? undefined;
    if (!apiKey) {
      if (!baseURL) {
        throw new ConfigurationError(
          'no API key for the OpenAI-compatible caption source: set OPENAI_API_KEY or pass apiKey, or pass baseURL (or set OPENAI_BASE_URL) to use a local server',
          { setting: 'apiKey' },
        );
      }
      apiKey = 'no-key'; // local servers ignore it; the client insists on one
    }
    const timeout = settings.timeout ?? 60_000;
    const client = new OpenAI({
      apiKey,
      baseURL,
      defaultHeaders: settings.headers,
      // The client's own timeout stops at the headers; the deadline also covers reading the body.
      fetch: withRequestDeadline(settings.fetch ?? globalThis.fetch, timeout),
      timeout,
      maxRetries: settings.maxRetries ?? 2,
    });
    resolved = { client, baseURL: client.baseURL, model: settings.model ?? env.OPENAI_MODEL ?? DEFAULT_MODEL };
    return resolved;
  };

  return {
    specificationVersion: 'v1',
    provider: 'openai-compatible',
    get modelId() {
      return settings.model ?? (settings.env ?? process.env).OPENAI_MODEL ?? DEFAULT_MODEL;
    },
    maxConcurrency: settings.maxConcurrency ?? 8,
    settings,
    async doGenerate(request: CaptionRequest): Promise<CaptionResult> {
      throwIfAborted(request.abortSignal);
      const { client, baseURL, model } = resolve();
      const wordCount = request.wordCount ?? settings.wordCount ?? 12;
      const n = settings.n ?? request.n;
      const prompt = renderCaptionPrompt(template, { concepts: request.concepts, wordCount, n });
      const messages: { role: 'system' | 'user'; content: string }[] = [];
      if (prompt.system) messages.push({ role: 'system', content: prompt.system });
      messages.push({ role: 'user', content: prompt.user });
      let raw: unknown;
      let requestId: string | undefined;
      try {
        const { data, request_id } = await client.chat.completions
          .create(
            {
              model,
              messages,
              n,
              temperature: settings.temperature ?? 1,
              max_tokens: settings.maxTokens ?? Math.max(64, wordCount * 6),
            },
            { signal: request.abortSignal },
          )
          .withResponse();
        raw = data;
        requestId = request_id ?? undefined;
      } catch (error) {
        throw toSynth2Error(error, { baseURL, model, settings, signal: request.abortSignal });
      }
      const completion = parseCompletion(raw, baseURL);
      const captions: string[] = [];
      const rejected: { text: string; reason: string }[] = [];
      for (const choice of completion.choices) {
        const content = choice.message?.content ?? '';
        if (choice.message?.refusal) rejected.push({ text: choice.message.refusal, reason: 'refusal' });
        else if (choice.finish_reason === 'content_filter') rejected.push({ text: content, reason: 'content-filter' });
        else if (choice.finish_reason === 'length') rejected.push({ text: content, reason: 'truncated' });
        else if (!content.trim()) rejected.push({ text: content, reason: 'empty' });
        else captions.push(content);
      }
      const usage: TokenUsage | undefined = completion.usage
        ? {
            promptTokens: completion.usage.prompt_tokens ?? 0,
            completionTokens: completion.usage.completion_tokens ?? 0,
            totalTokens: completion.usage.total_tokens ?? (completion.usage.prompt_tokens ?? 0) + (completion.usage.completion_tokens ?? 0),
          }
        : undefined;
      return {
        captions,
        rejected,
        usage,
        metadata: {
          provider: 'openai-compatible',
          model: completion.model ?? model,
          promptId: template.id,
          usage,
          requestId: requestId ?? completion.id,
          finishReason: completion.choices[0]?.finish_reason ?? undefined,
        },
      };
    },
  };
}

/** The answer as a chat completion, or a retryable error saying what came instead (HTML, `choices: []`, …). */
function parseCompletion(raw: unknown, baseURL: string): z.infer<typeof ChatCompletionSchema> {
  const parsed = ChatCompletionSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const body = typeof raw === 'string' ? raw : JSON.stringify(raw);
  const what = typeof raw === 'string' ? `text starting "${raw.slice(0, 40).replace(/\s+/g, ' ')}"` : `${issue.path.join('.') || 'body'}: ${issue.message}`;
  throw new CaptionRequestError(
    `the server at ${baseURL} did not answer with a chat completion (${what}); ` +
      'if this keeps happening, check that baseURL points at an OpenAI-compatible /v1 endpoint',
    { reason: 'malformed', url: `${baseURL}/chat/completions`, retryable: true, responseBody: body?.slice(0, 2000), cause: parsed.error },
  );
}

function toSynth2Error(
  error: unknown,
  ctx: { baseURL: string; model: string; settings: OpenAICaptionSourceSettings; signal?: AbortSignal },
): Error {
  const url = `${ctx.baseURL}/chat/completions`;
  const retries = ctx.settings.maxRetries ?? 2;
  if (error instanceof OpenAI.APIUserAbortError || ctx.signal?.aborted) {
    return new AbortedError('caption request aborted', { cause: ctx.signal?.reason ?? error });
  }
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return new CaptionRequestError(
      `caption request to ${url} timed out after ${ctx.settings.timeout ?? 60_000} ms (tried ${retries + 1} time(s)); ` +
        'raise timeout or maxRetries, or check that the server is answering',
      { reason: 'timeout', url, retryable: true, cause: error },
    );
  }
  if (error instanceof OpenAI.APIConnectionError) {
    return new CaptionRequestError(
      `cannot connect to ${ctx.baseURL} (${(error.cause as Error | undefined)?.message ?? error.message}); check baseURL and that the server is running`,
      { reason: 'connection', url, retryable: true, cause: error },
    );
  }
  // Failures while reading the body happen after the client's retry loop; they are retryable.
  if (error instanceof RequestDeadlineError) {
    return new CaptionRequestError(
      `caption request to ${url} timed out after ${error.timeoutMs} ms: the server sent the headers but not the whole answer; ` +
        'raise timeout, or check that the server is answering',
      { reason: 'timeout', url, retryable: true, cause: error },
    );
  }
  if (isConnectionReset(error)) {
    return new CaptionRequestError(
      `the connection to ${ctx.baseURL} was closed while the answer was being read (${describeCause(error)}); the request can be retried`,
      { reason: 'reset', url, retryable: true, cause: error },
    );
  }
  if (error instanceof OpenAI.APIError) {
    const status = error.status;
    const hint =
      status === 401 || status === 403
        ? 'check apiKey / OPENAI_API_KEY'
        : status === 404
          ? `check the model id ("${ctx.model}") and that baseURL ends with /v1`
          : status === 429
            ? `still rate-limited after ${retries} retries; lower maxConcurrency or raise maxRetries`
            : status !== undefined && status >= 500
              ? `the server kept failing after ${retries} retries; check its logs`
              : 'check the request settings';
    return new CaptionRequestError(`caption request to ${url} failed with HTTP ${status}: ${error.message}; ${hint}`, {
      reason: `http-${status ?? 0}`,
      url,
      status,
      responseBody: error.error === undefined ? undefined : JSON.stringify(error.error).slice(0, 2000),
      cause: error,
    });
  }
  if (error instanceof SyntaxError) {
    return new CaptionRequestError(
      `the server at ${ctx.baseURL} answered with invalid JSON (${error.message}); if this keeps happening, check that it speaks the chat-completions protocol`,
      { reason: 'malformed', url, retryable: true, cause: error },
    );
  }
  return error instanceof Error ? error : new APICallError(String(error), { url, cause: error });
}

/** undici's `TypeError: terminated` (socket closed mid-body) and plain socket errors. */
function isConnectionReset(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code ?? (error.cause as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^(ECONNRESET|EPIPE|ECONNABORTED|UND_ERR_SOCKET|UND_ERR_CLOSED)$/.test(code)) return true;
  return error instanceof TypeError && error.message === 'terminated';
}

function describeCause(error: Error): string {
  const cause = error.cause as { message?: string; code?: string } | undefined;
  return [error.message, cause?.code, cause?.message].filter(Boolean).join(': ');
}
