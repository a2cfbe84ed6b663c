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
