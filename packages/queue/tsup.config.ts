import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ["src/index.ts", "src/worker-process.ts", "src/test/index.ts"],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: true,
});
