// Loads a TypeScript module of this package in plain Node (bundled in memory with esbuild, which tsup brings).
import { build } from 'esbuild';

export async function loadTs(entry) {
  const out = await build({ entryPoints: [entry], bundle: true, write: false, format: 'esm', platform: 'node', target: 'node20', logLevel: 'silent' });
  return import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`);
}
