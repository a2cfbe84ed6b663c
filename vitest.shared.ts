import { defineConfig } from 'vitest/config';

/** The test settings every package shares (models train in tests: generous timeouts, one fork per core). */
export function packageTestConfig() {
  return defineConfig({
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      pool: 'forks',
      maxWorkers: 2,
      passWithNoTests: true,
    },
  });
}
