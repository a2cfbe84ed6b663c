import {
  ConfigurationError,
  Rng,
  throwIfAborted,
  type CaptionRequest,
  type CaptionResult,
  type CaptionSourceV1,
  type Synth2PluginV1,
} from '@synth2/core';
import { createWordOverlapMetric } from './word-overlap-metric';

export interface TemplateCaptionSourceSettings {
  /** Templates with `{concepts}` (joined with "and") or `{0}`, `{1}`… (one concept each). */
  templates?: string[];
  seed?: number;
}

const DEFAULT_TEMPLATES = [
  'a photo showing {concepts} in the middle of the frame',
  '{concepts} seen from the front on a plain background',
  'a close view of {concepts}',
];

/** A caption source that fills templates with concept names: the smallest useful `CaptionSourceV1`. */
export function createTemplateCaptionSource(settings: TemplateCaptionSourceSettings = {}): CaptionSourceV1 {
  const templates = settings.templates ?? DEFAULT_TEMPLATES;
  if (!Array.isArray(templates) || templates.length === 0 || templates.some((t) => typeof t !== 'string')) {
    throw new ConfigurationError('templates must be a non-empty array of strings, e.g. ["a photo of {concepts}"].', {
      setting: 'templates',
    });
  }
  let calls = 0;
  return {
    specificationVersion: 'v1',
    provider: 'example-templates',
    modelId: `templates(${templates.length})`,
    async doGenerate(request: CaptionRequest): Promise<CaptionResult> {
      throwIfAborted(request.abortSignal);
      const rng = new Rng(request.seed ?? (settings.seed ?? 0) + calls++);
      const names = request.concepts.map((c) => c.name);
      const captions = Array.from({ length: request.n }, () =>
        rng
          .choice(templates)
          .replace('{concepts}', names.join(' and '))
          .replace(/\{(\d+)\}/g, (_, i: string) => names[Number(i)] ?? names[0] ?? ''),
      );
      return { captions, metadata: { provider: 'example-templates', model: `templates(${templates.length})` } };
    },
  };
}

export { createWordOverlapMetric, wordOverlap } from './word-overlap-metric';

/** The plugin entry the Synth² CLI loads when the config lists this package under `plugins`. */
export const synth2Plugin: Synth2PluginV1 = {
  specificationVersion: 'v1',
  name: 'synth2-plugin-caption-templates',
  register(registries) {
    registries.captionSources.register({
      id: 'example/templates',
      plugin: 'synth2-plugin-caption-templates',
      description: 'Fills user-written templates with concept names (example plugin).',
      create: (options) => createTemplateCaptionSource(options as TemplateCaptionSourceSettings),
    });
    registries.metrics.register({
      id: 'example/word-overlap',
      plugin: 'synth2-plugin-caption-templates',
      description: "Share of each prediction's words found in its references, averaged (example plugin).",
      create: () => createWordOverlapMetric(),
    });
  },
};
