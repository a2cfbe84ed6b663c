import type { NativeKernels } from './native-addon';

let native: NativeKernels | null = null;
/** The loaded native addon, or null on the portable path. */
export function getNative(): NativeKernels | null {
  return native;
}
export function setNative(n: NativeKernels | null): void {
  native = n;
}
