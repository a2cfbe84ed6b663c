// A small fixed pool of worker threads shared by every kernel. synth2_parallel_for(n, fn, ctx) runs fn(ctx, i, t)
// for i in [0, n) on up to synth2_threads() threads (the caller is thread 0; t is the running thread's index, for
// per-thread scratch) and returns when all are done. Nested or concurrent calls run serially on the caller.
#ifndef SYNTH2_THREADPOOL_H
#define SYNTH2_THREADPOOL_H

#ifdef __cplusplus
extern "C" {
#endif

#define SYNTH2_MAX_THREADS 64

typedef void (*synth2_task_fn)(void *ctx, int index, int thread);

/** Threads used by kernels (>= 1). */
int synth2_threads(void);
/** Sets the thread count (clamped to [1, SYNTH2_MAX_THREADS]); starts or stops workers. */
void synth2_set_threads(int n);
void synth2_parallel_for(int n, synth2_task_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif

#endif
