import { registerTfjsExtras } from '../tf/backend-gradients';

/**
 * Makes sure tfjs's gradient functions are registered (tfjs-core ships them only as ES modules that plain Node
 * cannot load directly). `initBackend()` from `@synth2/nn` does this too; call this when you pick a backend
 * yourself with `tf.setBackend`. Throws a `ConfigurationError` when it is impossible.
 */
export async function ensureGradients(): Promise<void> {
  await registerTfjsExtras();
}
