import { packageBuildConfig } from '../../tsup.shared';

export default packageBuildConfig(['src/index.ts', 'src/tf/index.ts', 'src/nn/index.ts', 'src/train/index.ts', 'src/internal/index.ts', 'src/test/index.ts']);
