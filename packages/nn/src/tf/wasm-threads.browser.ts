/** Browser build: wasm threads are tfjs's own choice there (they need a cross-origin-isolated page). */
export type ThreadedWasmResult = { threads: number } | { threads: 1; reason: string };

/** The number of wasm threads asked for: `threads`, else 1 (browsers have no `SYNTH2_THREADS`). */
export function wantedWasmThreads(threads: number | undefined): number {
  return threads === undefined ? 1 : Math.max(1, Math.floor(threads));
}
