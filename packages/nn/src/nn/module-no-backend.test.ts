import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '@synth2/core';
import { Linear } from './linear';

// Runs in its own process (vitest forks per file) where no tfjs backend was ever initialised.
describe('Module without a backend', () => {
  it('should tell the user to call initBackend first', () => {
    const build = () => new Linear('lin', { inDim: 2, outDim: 2 });
    expect(build).toThrow(ConfigurationError);
    expect(build).toThrow(/no tfjs backend is ready\. Call `await initBackend\(\)`/);
  });
});
