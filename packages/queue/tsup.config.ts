import { packageBuildConfig } from '../../tsup.shared';

export default packageBuildConfig(['src/index.ts', 'src/worker-process.ts', 'src/test/index.ts']);
