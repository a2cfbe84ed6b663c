import {
  BackendUnavailableError,
  ConfigurationError,
  InvalidInputError,
  throwIfAborted,
  type CaptionRequest,
  type CaptionResult,
  type CaptionSourceV1,
} from '@synth2/core';
import { optionKeys, rejectUnknownOptions } from '@synth2/core/internal';
import { promises as fs } from 'node:fs';
import { rejectUnknownPromptKeys } from '../internal/option-keys';
import {
  DEFAULT_CAPTION_PROMPT,
  renderCaptionPrompt,
  validatePromptTemplate,
  type CaptionPromptTemplate,
} from '../prompt/caption-prompt';

/** Settings of `createGgufCaptionSource`. */
export interface GgufCaptionSourceSettings {
  /** Path of a GGUF model file. */
  modelPath: string;
  /** CPU threads for inference (default 1: on small machines more threads are much slower). */
  threads?: number;
  /** Context size in tokens (default 512). */
  contextSize?: number;
  /** Tokens to generate per caption (default 6 × wordCount, at least 48). */
  maxTokens?: number;
  temperature?: number;
  /** Prompt template (default: the Synth² prompt); `raw: true` sends the user text without a chat template. */
  prompt?: CaptionPromptTemplate | string;
  /**
   * `chat`: use the model's chat template (instruction-tuned models); `completion`: plain text completion of the
   * rendered prompt (base models). Default `chat` when the model has a chat template, else `completion`.
   */
  mode?: 'chat' | 'completion';
  /** Offload to a GPU when node-llama-cpp finds one (default false: CPU). */
  gpu?: boolean;
}

const GGUF_SETTINGS_KEYS = optionKeys<GgufCaptionSourceSettings>({
  modelPath: true,
  threads: true,
  contextSize: true,
  maxTokens: true,
  temperature: true,
  prompt: true,
  mode: true,
  gpu: true,
});

type LlamaModule = typeof import('node-llama-cpp');

async function importNodeLlamaCpp(): Promise<LlamaModule> {
  try {
    return (await import('node-llama-cpp')) as LlamaModule;
  } catch (error) {
    throw new BackendUnavailableError(
      'the GGUF caption source needs the optional package node-llama-cpp; install it with `npm install node-llama-cpp@^3`',
      { backend: 'node-llama-cpp', packageName: 'node-llama-cpp', cause: error },
    );
  }
}

/**
 * A caption source running a local GGUF model in-process through `node-llama-cpp` (an optional peer dependency,
 * loaded on first use). Requests run one at a time on one context sequence.
 */
export function createGgufCaptionSource(settings: GgufCaptionSourceSettings): CaptionSourceV1 {
  rejectUnknownOptions(settings, GGUF_SETTINGS_KEYS, 'createGgufCaptionSource');
  rejectUnknownPromptKeys(settings?.prompt, 'createGgufCaptionSource');
  if (!settings || typeof settings.modelPath !== 'string' || settings.modelPath.length === 0) {
    throw new ConfigurationError('createGgufCaptionSource needs modelPath: the path of a .gguf model file', { setting: 'modelPath' });
  }
  const template: CaptionPromptTemplate =
    typeof settings.prompt === 'string' ? { id: 'custom', user: settings.prompt } : (settings.prompt ?? DEFAULT_CAPTION_PROMPT);
  validatePromptTemplate(template);
  const threads = settings.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new ConfigurationError(`threads must be a positive integer, got ${settings.threads}`, { setting: 'threads' });
  }

  type Loaded = {
    llama: Awaited<ReturnType<LlamaModule['getLlama']>>;
    model: Awaited<ReturnType<Awaited<ReturnType<LlamaModule['getLlama']>>['loadModel']>>;
    context: Awaited<ReturnType<Awaited<ReturnType<Awaited<ReturnType<LlamaModule['getLlama']>>['loadModel']>>['createContext']>>;
    mod: LlamaModule;
    mode: 'chat' | 'completion';
  };
  let loading: Promise<Loaded> | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const load = () =>
    (loading ??= (async () => {
      try {
        await fs.access(settings.modelPath);
      } catch (error) {
        throw new InvalidInputError('GGUF model file not found; check modelPath', { file: settings.modelPath, cause: error });
      }
      const mod = await importNodeLlamaCpp();
      const llama = await mod.getLlama({ gpu: settings.gpu ? 'auto' : false, build: 'never', logLevel: mod.LlamaLogLevel.error });
      let model;
      try {
        model = await llama.loadModel({ modelPath: settings.modelPath });
      } catch (error) {
        throw new InvalidInputError(`cannot load the GGUF model (${(error as Error).message}); is it a valid .gguf file?`, {
          file: settings.modelPath,
          cause: error,
        });
      }
      const context = await model.createContext({ threads, contextSize: settings.contextSize ?? 512 });
      const hasChatTemplate = Boolean(model.fileInfo.metadata?.tokenizer?.chat_template);
      return { llama, model, context, mod, mode: settings.mode ?? (hasChatTemplate ? 'chat' : 'completion') };
    })());

  return {
    specificationVersion: 'v1',
    provider: 'gguf',
    modelId: settings.modelPath.split(/[\\/]/).pop() ?? settings.modelPath,
    maxConcurrency: 1,
    async doGenerate(request: CaptionRequest): Promise<CaptionResult> {
      const run = async (): Promise<CaptionResult> => {
        throwIfAborted(request.abortSignal);
        const { context, mod, mode } = await load();
        const wordCount = request.wordCount ?? 12;
        const prompt = renderCaptionPrompt(template, { concepts: request.concepts, wordCount, n: request.n });
        const maxTokens = settings.maxTokens ?? Math.max(48, wordCount * 6);
        const captions: string[] = [];
        const rejected: { text: string; reason: string }[] = [];
        let completionTokens = 0;
        for (let i = 0; i < request.n; i++) {
          throwIfAborted(request.abortSignal);
          const sequence = context.getSequence();
          try {
            const seed = request.seed === undefined ? undefined : (request.seed + i) >>> 0;
            let text: string;
            if (mode === 'chat') {
              const session = new mod.LlamaChatSession({ contextSequence: sequence, systemPrompt: prompt.system });
              text = await session.prompt(prompt.user, {
                maxTokens,
                temperature: settings.temperature ?? 0.8,
                seed,
                signal: request.abortSignal,
                stopOnAbortSignal: false,
              });
              session.dispose({ disposeSequence: false });
            } else {
              const completion = new mod.LlamaCompletion({ contextSequence: sequence });
              const input = `${prompt.system ? `${prompt.system}\n` : ''}${prompt.user}\nCaption:`;
              text = await completion.generateCompletion(input, {
                maxTokens,
                temperature: settings.temperature ?? 0.8,
                seed,
                signal: request.abortSignal,
              });
              completion.dispose({ disposeSequence: false });
            }
            completionTokens += sequence.tokenMeter.usedOutputTokens;
            if (text.trim()) captions.push(text);
            else rejected.push({ text, reason: 'empty' });
          } catch (error) {
            if (request.abortSignal?.aborted) throwIfAborted(request.abortSignal);
            throw error;
          } finally {
            sequence.dispose();
          }
        }
        return {
          captions,
          rejected,
          usage: { promptTokens: 0, completionTokens, totalTokens: completionTokens },
          metadata: { provider: 'gguf', model: settings.modelPath.split(/[\\/]/).pop(), promptId: template.id, mode },
        };
      };
      // One sequence at a time: queue requests.
      const result = queue.then(run, run);
      queue = result.catch(() => undefined);
      return result;
    },
    async close() {
      if (!loading) return;
      const loaded = await loading.catch(() => undefined);
      loading = undefined;
      if (!loaded) return;
      await loaded.context.dispose();
      await loaded.model.dispose();
      await loaded.llama.dispose();
    },
  };
}
