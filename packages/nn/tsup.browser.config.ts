import { browserBuildConfig } from '../../tsup.browser';

// the same entry as Node's: modules with a `.browser.ts` twin (backend, kernels' addon, checkpoint IO, trainer) swap
export default browserBuildConfig({ index: 'src/index.ts' });
