import { browserBuildConfig } from '../../tsup.browser';

// src/browser.ts: Node's entry (modules with a `.browser.ts` twin — backend, kernels' addon, checkpoint IO, trainer —
// swap) with the browser backend's names and options; `types`: its .d.ts, under the `browser` condition
export default browserBuildConfig({ index: 'src/browser.ts' }, { types: true });
