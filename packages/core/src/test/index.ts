export { sharedDataDir, skipReason } from './shared-data';
export { hasPython } from './python';
export { makeTmpDir, withTmpDir } from './tmp-dir';
