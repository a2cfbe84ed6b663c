import { browserBuildConfig } from '../../tsup.browser';

// the same entry as Node's: modules with a `.browser.ts` twin (Node-only file IO) swap
export default browserBuildConfig({ index: 'src/index.ts' });
