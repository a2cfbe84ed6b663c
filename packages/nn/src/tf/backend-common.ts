import * as tf from '@tensorflow/tfjs-core';

/** The fields of either build's `BackendInfo` that the shared code reads (no Node built-ins here: both builds use it). */
export interface BackendInfoLike {
  name: string;
  reason: string;
  threads: number;
  native: boolean;
  path: string;
  kernels: string[];
  simd?: boolean;
  tfBackend: string;
}

/**
 * `initBackend`'s memo: the same request (`key`) returns the info of the last selection while tfjs still runs that
 * backend; another request, or a failed selection, selects again. Logs `describe(info)` through `options.log`.
 */
export function memoizedBackendInit<O extends { log?: (msg: string) => void }, I extends BackendInfoLike>(
  select: (options: O) => Promise<I>,
  describe: (info: I) => string,
): (key: string, options: O) => Promise<I> {
  let current: { key: string; info: Promise<I> } | undefined;
  return async (key, options) => {
    if (current?.key === key) {
      const info = await current.info.catch(() => undefined);
      if (info && tf.getBackend() === info.tfBackend) return info;
    }
    const info = select(options);
    current = { key, info };
    try {
      const result = await info;
      (options.log ?? (() => {}))(describe(result));
      return result;
    } catch (error) {
      current = undefined;
      throw error;
    }
  };
}

/** One line for logs: `backend <name> (SIMD, 1 thread, native kernels, 14 fast kernels): <reason>`. */
export function describeBackendInfo(info: BackendInfoLike): string {
  const parts = [
    info.simd === undefined ? undefined : info.simd ? 'SIMD' : 'no SIMD',
    `${info.threads} thread${info.threads === 1 ? '' : 's'}`,
    info.path === 'native' ? 'native kernels' : info.native ? 'native' : undefined,
    `${info.kernels.length} fast kernel${info.kernels.length === 1 ? '' : 's'}`,
  ].filter(Boolean);
  return `backend ${info.name} (${parts.join(', ')}): ${info.reason}`;
}
