/**
 * The browser builds (`dist/browser`, the `browser` export condition) of the packages that have one import no Node
 * built-in, whichever way the bundler left it in the output, and report their size bundled with their dependencies;
 * `@synth2/eval`'s pulls in no tfjs. Needs the packages built (the root `npm test` does it).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkNoNodeImports, measureBrowserBundle, nodeBuiltinImports, type BrowserBundleSize } from '../../../tsup.browser';

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

  it('should report its entry bundled with its dependencies in dist/browser/bundle-size.json', async () => {
    const file = path.join(out, 'bundle-size.json');
    expect(existsSync(file), `${file} is missing: the browser build (tsup.browser.ts) writes it`).toBe(true);
    const size = JSON.parse(await readFile(file, 'utf8')) as BrowserBundleSize;
    const index = size.entries.index!;
    expect(index.bytes).toBeGreaterThan(0);
    expect(index.gzipBytes).toBeLessThan(index.bytes);
    expect(index).toEqual(await measureBrowserBundle(path.join(out, 'index.js')));
    if (dir !== 'core') expect(index.packages).toContain('@synth2/core');
  });
});

describe('measureBrowserBundle', () => {
  const entry = (dir: string) => path.join(repoRoot, 'packages', dir, 'dist', 'browser', 'index.js');

  it("should list tfjs among the packages @synth2/nn's browser entry pulls in (backends loaded by import() included)", async () => {
    const nn = await measureBrowserBundle(entry('nn'));
    expect(nn.packages).toEqual(expect.arrayContaining(['@synth2/core', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu']));
  });

  it("should bundle @synth2/eval's browser entry without any tfjs package", async () => {
    const evalBundle = await measureBrowserBundle(entry('eval'));
    expect(evalBundle.packages).toContain('@synth2/core');
    expect(evalBundle.packages.filter((p) => p.startsWith('@tensorflow/') || p === '@synth2/nn')).toEqual([]);
  });
});
