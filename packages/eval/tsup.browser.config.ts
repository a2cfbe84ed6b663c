import { browserBuildConfig } from '../../tsup.browser';

// the same entry as Node's: modules with a `.browser.ts` twin (file reading, the Java scorers, the CLI) swap for
// versions that throw a "needs Node" error
export default browserBuildConfig({ index: 'src/index.ts' });
