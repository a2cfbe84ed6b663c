import type { NativeKernels } from './native-addon';

export type { NativeKernels } from './native-addon';

const IN_BROWSER = 'native kernels are a Node addon; in a browser the portable wasm kernels run';

/** Browser build: there is no addon file. */
export function nativeAddonPath(): string | null {
  return null;
}

/** Browser build: never loads an addon (says why). */
export function loadNativeKernels(): { addon: NativeKernels | null; reason: string } {
  return { addon: null, reason: IN_BROWSER };
}
