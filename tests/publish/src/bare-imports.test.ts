import { describe, expect, it } from 'vitest';
import { importedPackages, packageOfSpecifier, undeclaredPackages } from './bare-imports';

describe('packageOfSpecifier', () => {
  it('should give the package name of bare specifiers and nothing for files and builtins', () => {
    expect(packageOfSpecifier('@synth2/core/tf')).toBe('@synth2/core');
    expect(packageOfSpecifier('zod/v4')).toBe('zod');
    expect(packageOfSpecifier('./chunk.js')).toBeUndefined();
    expect(packageOfSpecifier('/abs/x.js')).toBeUndefined();
    expect(packageOfSpecifier('node:fs')).toBeUndefined();
    expect(packageOfSpecifier('fs/promises')).toBeUndefined();
    expect(packageOfSpecifier('path')).toBeUndefined();
  });
});

describe('importedPackages', () => {
  it('should find static, dynamic and require imports of ESM and CJS bundles', () => {
    const code = [
      'import { a, b as c } from "@synth2/core";',
      "import * as tf from '@tensorflow/tfjs-core';",
      'import def, {\n  x\n} from "zod";',
      'export * from "./chunk-ABC.js";',
      'import "sharp";',
      'const m = await import("openai");',
      'var _x = require("bullmq"); var y = __require("yaml");',
      'const l = Promise.resolve().then(() => _interopRequireWildcard(require("node-llama-cpp")));',
      'import { readFile } from "node:fs/promises"; import path from "path";',
      'const msg = "install it: npm install foo";',
    ].join('\n');
    expect(importedPackages(code)).toEqual([
      '@synth2/core',
      '@tensorflow/tfjs-core',
      'bullmq',
      'node-llama-cpp',
      'openai',
      'sharp',
      'yaml',
      'zod',
    ]);
  });
});

describe('undeclaredPackages', () => {
  it('should list imports that are neither the package itself nor a dependency or peer', () => {
    const pkg = {
      name: '@synth2/vlm',
      dependencies: { '@synth2/core': '^0.1.0' },
      peerDependencies: { sharp: '*' },
    };
    expect(undeclaredPackages(['@synth2/vlm', '@synth2/core', 'sharp', '@synth2/datasets'], pkg)).toEqual([
      '@synth2/datasets',
    ]);
  });
});
