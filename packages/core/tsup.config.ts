import { packageBuildConfig } from '../../tsup.shared';

export default packageBuildConfig(['src/index.ts', 'src/internal/index.ts', 'src/test/index.ts']);
