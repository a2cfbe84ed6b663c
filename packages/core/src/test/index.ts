export { sharedDataDir, skipReason } from './shared-data';
export { hasPython } from './python';
export { makeTmpDir, withTmpDir } from './tmp-dir';
export { expectUnknownOptionRejected } from './unknown-option';
export type { UnknownOptionRejection } from './unknown-option';
