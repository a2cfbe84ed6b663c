export { parseWithSchema, formatIssuePath } from './schema-parse';
export type { InputLocation } from './schema-parse';
export { locateJsonError, lineColumn } from './json-position';
export { fileError } from './file-error';
export { fsyncDir } from '../io/atomic-write';
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
// The error classes and the JSON/atomic-write helpers once more, for consumers that must start fast (the
// synth2-eval command): this entry does not load zod. They are the same objects as the main entry's.
export { AbortedError, ConfigurationError, InvalidInputError, Synth2Error, throwIfAborted } from '../errors';
export { writeFileAtomic } from '../io/atomic-write';
export { parseJsonText } from '../io/json';
// the seeded RNG without the schemas (zod), for @synth2/eval's metrics
export { Rng } from '../rng';
