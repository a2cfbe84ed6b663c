import { ConfigurationError, getRegistries, loadPlugins, type CaptionSourceV1 } from '@synth2/core';
import { createConceptGrammarSource, createOpenAICaptionSource } from '@synth2/captioner';
import { z } from 'zod';

/**
 * A caption source described as data, so every worker can build the same one. Secrets are never put in the
 * queue: the OpenAI-compatible source reads its API key from the worker's environment (`OPENAI_API_KEY`).
 */
export const CaptionSourceSpecSchema = z.object({
  /** `openai-compatible`, `concept-grammar`, or a caption-source id registered by a plugin. */
  provider: z.string().min(1),
  settings: z.record(z.string(), z.unknown()).default({}),
  /** Plugin packages the worker must load first. */
  plugins: z.array(z.string()).default([]),
});
export type CaptionSourceSpec = z.infer<typeof CaptionSourceSpecSchema>;

export async function createSourceFromSpec(spec: CaptionSourceSpec): Promise<CaptionSourceV1> {
  const parsed = CaptionSourceSpecSchema.parse(spec);
  if ('apiKey' in parsed.settings) {
    throw new ConfigurationError('Do not put apiKey in a queued source spec: set OPENAI_API_KEY on each worker instead.', {
      setting: 'settings.apiKey',
    });
  }
  if (parsed.provider === 'openai-compatible') return createOpenAICaptionSource(parsed.settings as never);
  if (parsed.provider === 'concept-grammar') return createConceptGrammarSource(parsed.settings as never);
  if (parsed.plugins.length) await loadPlugins(parsed.plugins);
  return getRegistries().captionSources.create(parsed.provider, parsed.settings);
}
