import { ConfigurationError } from '@synth2/core/internal';

/** The error a browser build throws for a feature that needs Node (files, Java processes, the command line). */
export function needsNode(feature: string, instead: string): ConfigurationError {
  return new ConfigurationError(`${feature} needs Node, not a browser build of @synth2/eval; ${instead}`, {
    setting: 'runtime',
  });
}
