import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigurationError } from '@synth2/core';
import { resolvePackagePath } from './backend-locate';

/**
 * tfjs-core's gradient functions (and the chained `tensor.add(…)` ops) are registered only by ES modules in
 * `@tensorflow/tfjs-core/dist/` — a package Node treats as CommonJS, so plain Node cannot load them (bundlers and
 * vitest can). This registers them either way: first with an ordinary import (bundlers, vitest), then, in plain
 * Node, through a narrowly scoped module hook that loads exactly those files as ES modules. The gradient and kernel
 * registries and the engine are process-global in tfjs, so registrations reach the `tf` every package uses.
 */
const GRADIENTS = '@tensorflow/tfjs-core/dist/register_all_gradients';
const CHAINED = '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';

const HOOK = `
const DIST = /[\\\\/]@tensorflow[\\\\/]tfjs-core[\\\\/]dist[\\\\/]/;
const BUNDLE = /[\\\\/]tf-core[^\\\\/]*\\.js(\\?.*)?$/;
const inDist = (u) => typeof u === 'string' && u.startsWith('file:') && DIST.test(u) && !BUNDLE.test(u);
export async function resolve(specifier, context, next) {
  if (inDist(context.parentURL) && specifier.startsWith('.') && !/\\.m?js$/.test(specifier)) {
    try { return await next(specifier + '.js', context); } catch { return next(specifier + '/index.js', context); }
  }
  return next(specifier, context);
}
export async function load(url, context, next) {
  if (inDist(url) && /\\.js(\\?.*)?$/.test(url)) {
    const result = await next(url, { ...context, format: 'module' });
    return { ...result, format: 'module' };
  }
  return next(url, context);
}
`;

// Kept as a real dynamic import in the CommonJS build too (a bundler would turn `import()` into `require`).
const nativeImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<unknown>;

let hookRegistered = false;

export function hasGradients(): boolean {
  return (
    tf.getGradient('Softmax') != null &&
    tf.getGradient('GatherV2') != null &&
    tf.getGradient('Conv2D') != null
  );
}

function hasChainedOps(): boolean {
  return typeof (tf.Tensor.prototype as unknown as { add?: unknown }).add === 'function';
}

async function loadEsm(specifier: string): Promise<void> {
  try {
    await import(/* @vite-ignore */ specifier);
    return;
  } catch (error) {
    // plain Node: the file is an ES module inside a CommonJS package; use the hook below
    if (process.env.SYNTH2_DEBUG) console.warn(`plain import of ${specifier} failed:`, error);
  }
  const mod = (await import('node:module')) as { register?: (url: string) => void };
  if (typeof mod.register !== 'function') {
    throw new ConfigurationError(
      `cannot load ${specifier} on Node ${process.version}: module hooks need Node >= 20.6. Upgrade Node.`,
      { setting: 'backend' },
    );
  }
  if (!hookRegistered) {
    mod.register(`data:text/javascript,${encodeURIComponent(HOOK)}`);
    hookRegistered = true;
  }
  const file = resolvePackagePath(`${specifier}.js`);
  if (!file)
    throw new ConfigurationError(`cannot find ${specifier}.js: install @tensorflow/tfjs-core.`, {
      setting: 'backend',
    });
  await nativeImport(`${pathToFileURL(file).href}?synth2`);
}

/** Registers tfjs-core's gradients and chained ops once; throws `ConfigurationError` if that is impossible. */
export async function registerTfjsExtras(): Promise<void> {
  if (!hasGradients()) await loadEsm(GRADIENTS);
  if (!hasGradients()) {
    throw new ConfigurationError(
      `tfjs gradients could not be registered (${GRADIENTS}); nothing can be trained. Check that @tensorflow/tfjs-core is installed once.`,
      { setting: 'backend' },
    );
  }
  if (!hasChainedOps()) {
    try {
      await loadEsm(CHAINED);
    } catch {
      // chained ops are a convenience; functional ops (tf.add) always work
    }
  }
}
