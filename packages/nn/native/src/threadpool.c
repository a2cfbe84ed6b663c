// Thread pool: workers sleep on a condition variable between jobs; a job is a counter of task indices that the
// caller and the workers take from with an atomic increment until it runs out.
#include "threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "synth2.h"

typedef struct {
  synth2_task_fn fn;
  void *ctx;
  int n;
  atomic_int next;
  atomic_int pending;  // workers still running this job
} job_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static pthread_t workers[SYNTH2_MAX_THREADS];
static int n_workers = 0;   // started workers (threads - 1)
static int want_threads = 1;
static unsigned long generation = 0;  // bumped for each job and for shutdown
static int stop_from = 1 << 30;       // workers with index >= this exit
static job_t *current = NULL;
static atomic_flag busy = ATOMIC_FLAG_INIT;  // a job is running (nested/concurrent callers run serially)

static void run_tasks(job_t *job, int thread) {
  for (;;) {
    int i = atomic_fetch_add(&job->next, 1);
    if (i >= job->n) break;
    job->fn(job->ctx, i, thread);
  }
}

static void *worker_main(void *arg) {
  const int index = (int)(intptr_t)arg;  // 1-based thread index
  unsigned long seen = 0;
  pthread_mutex_lock(&lock);
  seen = generation;
  for (;;) {
    while (generation == seen) pthread_cond_wait(&wake, &lock);
    seen = generation;
    if (index >= stop_from) break;
    job_t *job = current;
    if (!job || index >= want_threads) continue;
    pthread_mutex_unlock(&lock);
    run_tasks(job, index);
    pthread_mutex_lock(&lock);
    if (atomic_fetch_sub(&job->pending, 1) == 1) pthread_cond_signal(&done);
  }
  pthread_mutex_unlock(&lock);
  return NULL;
}

int synth2_threads(void) { return want_threads; }

void synth2_set_threads(int n) {
  if (n < 1) n = 1;
  if (n > SYNTH2_MAX_THREADS) n = SYNTH2_MAX_THREADS;
  while (atomic_flag_test_and_set(&busy)) {
  }
  pthread_mutex_lock(&lock);
  if (n - 1 < n_workers) {  // stop the surplus workers
    stop_from = n;
    generation++;
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
    for (int i = n - 1; i < n_workers; i++) pthread_join(workers[i], NULL);
    pthread_mutex_lock(&lock);
    n_workers = n - 1;
    stop_from = 1 << 30;
  }
  while (n_workers < n - 1) {
    if (pthread_create(&workers[n_workers], NULL, worker_main, (void *)(intptr_t)(n_workers + 1)) != 0) break;
    n_workers++;
  }
  want_threads = n_workers + 1;
  pthread_mutex_unlock(&lock);
  atomic_flag_clear(&busy);
}

void synth2_parallel_for(int n, synth2_task_fn fn, void *ctx) {
  if (n <= 0) return;
  if (n == 1 || n_workers == 0 || atomic_flag_test_and_set(&busy)) {
    for (int i = 0; i < n; i++) fn(ctx, i, 0);
    return;
  }
  job_t job;
  job.fn = fn;
  job.ctx = ctx;
  job.n = n;
  atomic_init(&job.next, 0);
  const int helpers = n - 1 < n_workers ? n - 1 : n_workers;
  atomic_init(&job.pending, n_workers);
  pthread_mutex_lock(&lock);
  current = &job;
  generation++;
  pthread_cond_broadcast(&wake);
  pthread_mutex_unlock(&lock);
  (void)helpers;
  run_tasks(&job, 0);
  pthread_mutex_lock(&lock);
  while (atomic_load(&job.pending) > 0) pthread_cond_wait(&done, &lock);
  current = NULL;
  pthread_mutex_unlock(&lock);
  atomic_flag_clear(&busy);
}

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t t;
  if (!synth2_args(env, info, "setThreads", 1, argv) || !synth2_i64(env, argv[0], &t, "threads")) return NULL;
  if (t < 1 || t > SYNTH2_MAX_THREADS) {
    napi_throw_range_error(env, NULL, "synth2_native.setThreads: threads must be between 1 and 64");
    return NULL;
  }
  synth2_set_threads((int)t);
  return NULL;
}

static napi_value GetThreads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  SYNTH2_CHECK(napi_create_int32(env, synth2_threads(), &out));
  return out;
}

SYNTH2_REGISTRAR(threads) {
  synth2_export(env, exports, "setThreads", SetThreads);
  synth2_export(env, exports, "getThreads", GetThreads);
}
