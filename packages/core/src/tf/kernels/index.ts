/**
 * Fast kernels and gradients for tfjs on CPU backends (owned by the kernels work, see nn/CONTRACT.md).
 * Called by `initBackend` once the backend is set. Returns the names of what it registered.
 */
export async function registerFastKernels(_backend: string, _options: { threads?: number; native?: boolean } = {}): Promise<string[]> {
  return [];
}
