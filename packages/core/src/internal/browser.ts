/** `@synth2/core/internal` in a browser bundle: the helpers that need no file system. */
export { parseWithSchema, formatIssuePath } from './schema-parse';
export type { InputLocation } from './schema-parse';
export { locateJsonError, lineColumn } from './json-position';
export {
  editDistance,
  nearestKey,
  optionKeys,
  unknownOptionError,
  rejectUnknownOptions,
  schemaKeys,
  schemaKeysAt,
  unknownKeysError,
  parseStrictOptions,
} from './strict-options';
export { AbortedError, ConfigurationError, InvalidInputError, Synth2Error, throwIfAborted } from '../errors';
export { parseJsonText } from '../io/json-text';
// the seeded RNG without the schemas (zod), for @synth2/eval's metrics
export { Rng } from '../rng';
// the plugin registries (no zod), for @synth2/eval's plugin metrics and its CLI's --plugin
export { getRegistries, loadPlugins } from '../registry/registry';
export type { CaptionMetricV1, Synth2PluginV1, Synth2Registries } from '../registry/registry';
