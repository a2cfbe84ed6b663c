/**
 * The browser builds (`dist/browser`, the `browser` export condition) of the packages that have one import no Node
 * built-in, whichever way the bundler left it in the output. Needs the packages built (the root `npm test` does it).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkNoNodeImports, nodeBuiltinImports } from '../../../tsup.browser';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const WITH_BROWSER_BUILD = ['core', 'nn', 'generator', 'vlm', 'eval'] as const;

describe('nodeBuiltinImports', () => {
  it('should find Node built-ins in every import form, with or without node:, and nothing else', () => {
    const code = [
      'import { readFile } from "fs/promises";',
      "import os from 'os';",
      'import "node:crypto";',
      'const z = await import("zlib");',
      'const cp = require( "child_process" );',
      'import { tf } from "@tensorflow/tfjs-core";',
      'import { x } from "./chunk-ABC.js";',
      'export { y } from "path";',
    ].join('\n');
    expect(nodeBuiltinImports(code).sort()).toEqual(['child_process', 'fs/promises', 'node:crypto', 'os', 'path', 'zlib']);
  });
});

describe.each(WITH_BROWSER_BUILD)('@synth2/%s browser build', (dir) => {
  const out = path.join(repoRoot, 'packages', dir, 'dist', 'browser');
  it('should exist and import no Node built-in', async () => {
    expect(existsSync(out), `${out} is missing: run \`npx turbo run build\` at the repository root first`).toBe(true);
    await expect(checkNoNodeImports(out)).resolves.toBeUndefined();
  });
});
