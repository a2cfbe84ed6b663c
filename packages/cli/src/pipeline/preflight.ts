import { ConceptGrammar, createOpenAICaptionSource } from '@synth2/captioner';
import { ConfigurationError, Synth2Error } from '@synth2/core';
import type { PipelineConfig } from '../config';

/** Runs a package's own check of settings; its error is given the config path the settings came from. */
function checkAt(path: string, check: () => unknown): void {
  try {
    check();
  } catch (error) {
    if (!Synth2Error.isInstance(error)) throw error;
    const setting = error instanceof ConfigurationError && error.setting ? `${path}.${error.setting}` : path;
    throw new ConfigurationError(`${path}: ${error.message} Fix the config file or the --${setting} flag.`, {
      setting,
      cause: error,
    });
  }
}

/**
 * Checks `captions.grammar` and `captions.openai` with the captioner's own constructors (values, nested keys such as
 * `templates` or `prompt`) before any stage runs: a bad value fails the command at once, not after the first stages.
 */
export function checkCaptionSourceSettings(config: PipelineConfig): void {
  const c = config.captions;
  if (c.grammar) checkAt('captions.grammar', () => new ConceptGrammar(c.grammar));
  if (c.openai)
    checkAt('captions.openai', () =>
      createOpenAICaptionSource({
        baseURL: c.baseURL,
        model: c.model,
        maxConcurrency: c.concurrency,
        ...c.openai,
      }),
    );
}
