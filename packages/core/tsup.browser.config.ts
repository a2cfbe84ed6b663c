import { browserBuildConfig } from '../../tsup.browser';

export default browserBuildConfig({ index: 'src/browser.ts', 'internal/index': 'src/internal/browser.ts' });
