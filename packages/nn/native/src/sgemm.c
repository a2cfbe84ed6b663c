// The SGEMM driver: cache blocking (nc columns of B, kc of the shared dimension, mc rows of A), packing of A into
// mr-row panels and of B into nr-column panels (B is read in place when it is not transposed and few row panels
// reuse it), the micro-kernel of the CPU over each mr×nr tile, and the split of the work across the thread pool.
#include "sgemm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "synth2.h"
#include "threadpool.h"

// ---- kernel choice ------------------------------------------------------------------------------------------------

static const synth2_sgemm_impl *chosen = NULL;

static int cpu_has(const char *feature) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (!strcmp(feature, "avx512f")) return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
  if (!strcmp(feature, "avx2")) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  (void)feature;
  return 0;
}

/** The implementation named (NULL when unknown or not supported by this CPU). */
static const synth2_sgemm_impl *impl_named(const char *name) {
  if (!strcmp(name, "avx512f")) return cpu_has("avx512f") ? synth2_sgemm_avx512() : NULL;
  if (!strcmp(name, "avx2")) return cpu_has("avx2") ? synth2_sgemm_avx2() : NULL;
  if (!strcmp(name, "portable")) return synth2_sgemm_portable();
  return NULL;
}

static const synth2_sgemm_impl *impl(void) {
  if (!chosen) {
    const char *order[] = {"avx512f", "avx2", "portable"};
    for (int i = 0; i < 3 && !chosen; i++) chosen = impl_named(order[i]);
  }
  return chosen;
}

const char *synth2_sgemm_kernel_name(void) { return impl()->name; }

// ---- packing ----------------------------------------------------------------------------------------------------

/** Per-thread scratch, 64-byte aligned, grown on demand (NULL when out of memory). */
static float *scratch(float **buf, size_t *cap, size_t n) {
  if (n > *cap) {
    free(*buf);
    *buf = (float *)aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64);
    *cap = *buf ? n : 0;
  }
  return *buf;
}

/** A[i0:i0+mb, p0:p0+kb] of op(A) into panels of mr rows: panel r, step p, row i at out[r·mr·kb + p·mr + i]. */
static void pack_a(int ta, const float *a, ptrdiff_t lda, int i0, int mb, int p0, int kb, int mr, float *out) {
  for (int r = 0; r < mb; r += mr) {
    const int rows = mb - r < mr ? mb - r : mr;
    float *dst = out + (size_t)r * kb;
    if (ta) {  // stored k×m: each step's mr values are contiguous
      for (int p = 0; p < kb; p++) {
        const float *src = a + (size_t)(p0 + p) * lda + i0 + r;
        float *d = dst + (size_t)p * mr;
        for (int i = 0; i < rows; i++) d[i] = src[i];
        for (int i = rows; i < mr; i++) d[i] = 0.f;
      }
    } else {
      for (int i = 0; i < rows; i++) {
        const float *src = a + (size_t)(i0 + r + i) * lda + p0;
        for (int p = 0; p < kb; p++) dst[(size_t)p * mr + i] = src[p];
      }
      for (int i = rows; i < mr; i++)
        for (int p = 0; p < kb; p++) dst[(size_t)p * mr + i] = 0.f;
    }
  }
}

/** B[p0:p0+kb, j0:j0+nb] of op(B) into panels of nr columns: panel c, step p, column j at out[c·nr·kb + p·nr + j]. */
static void pack_b(int tb, const float *b, ptrdiff_t ldb, int p0, int kb, int j0, int nb, int nr, float *out) {
  for (int c = 0; c < nb; c += nr) {
    const int cols = nb - c < nr ? nb - c : nr;
    float *dst = out + (size_t)c * kb;
    if (!tb) {  // stored k×n: each step's columns are contiguous
      for (int p = 0; p < kb; p++) {
        const float *src = b + (size_t)(p0 + p) * ldb + j0 + c;
        float *d = dst + (size_t)p * nr;
        memcpy(d, src, sizeof(float) * (size_t)cols);
        for (int j = cols; j < nr; j++) d[j] = 0.f;
      }
    } else {
      for (int j = 0; j < cols; j++) {
        const float *src = b + (size_t)(j0 + c + j) * ldb + p0;
        for (int p = 0; p < kb; p++) dst[(size_t)p * nr + j] = src[p];
      }
      for (int j = cols; j < nr; j++)
        for (int p = 0; p < kb; p++) dst[(size_t)p * nr + j] = 0.f;
    }
  }
}

// ---- one product on the calling thread ------------------------------------------------------------------------

static _Thread_local float *pack_a_buf = NULL, *pack_b_buf = NULL;
static _Thread_local size_t pack_a_cap = 0, pack_b_cap = 0;

static void fill_or_keep(int m, int n, float *c, ptrdiff_t ldc, int accumulate) {
  if (accumulate) return;
  for (int i = 0; i < m; i++) memset(c + (size_t)i * ldc, 0, sizeof(float) * (size_t)n);
}

/** Returns 0 when out of memory for the packed panels. */
static int gemm_serial(const synth2_sgemm_impl *K, int ta, int tb, int m, int n, int k, const float *a, ptrdiff_t lda,
                       const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc, int accumulate) {
  if (m <= 0 || n <= 0) return 1;
  if (k <= 0) {
    fill_or_keep(m, n, c, ldc, accumulate);
    return 1;
  }
  const int mr = K->mr, nr = K->nr;
  const int kc = k < K->kc ? k : K->kc;
  const int mc = m < K->mc ? ((m + mr - 1) / mr) * mr : K->mc;
  const int nc = n < K->nc ? ((n + nr - 1) / nr) * nr : K->nc;
  // B in place: not transposed, and reused by at most a few row panels (packing would not pay)
  const int direct_b = K->reads_b_direct && !tb && m <= 4 * mr;
  float *pa = scratch(&pack_a_buf, &pack_a_cap, (size_t)mc * kc);
  float *pb = direct_b ? NULL : scratch(&pack_b_buf, &pack_b_cap, (size_t)nc * kc);
  if (!pa || (!direct_b && !pb)) return 0;
  for (int jc = 0; jc < n; jc += nc) {
    const int nb = n - jc < nc ? n - jc : nc;
    for (int pc = 0; pc < k; pc += kc) {
      const int kb = k - pc < kc ? k - pc : kc;
      const int acc = accumulate || pc > 0;
      if (!direct_b) pack_b(tb, b, ldb, pc, kb, jc, nb, nr, pb);
      for (int ic = 0; ic < m; ic += mc) {
        const int mb = m - ic < mc ? m - ic : mc;
        pack_a(ta, a, lda, ic, mb, pc, kb, mr, pa);
        for (int jr = 0; jr < nb; jr += nr) {
          const int nn = nb - jr < nr ? nb - jr : nr;
          const float *bp = direct_b ? b + (size_t)pc * ldb + jc + jr : pb + (size_t)jr * kb;
          const ptrdiff_t bstep = direct_b ? ldb : nr;
          for (int ir = 0; ir < mb; ir += mr) {
            const int mm = mb - ir < mr ? mb - ir : mr;
            K->kernel(kb, pa + (size_t)ir * kb, bp, bstep, c + (size_t)(ic + ir) * ldc + jc + jr, ldc, mm, nn, acc);
          }
        }
      }
    }
  }
  return 1;
}

/** Plain triple loop, used only when the packed panels cannot be allocated. */
static void gemm_reference(int ta, int tb, int m, int n, int k, const float *a, ptrdiff_t lda, const float *b,
                           ptrdiff_t ldb, float *c, ptrdiff_t ldc, int accumulate) {
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      float s = 0.f;
      for (int p = 0; p < k; p++)
        s += (ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p]) * (tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j]);
      c[(size_t)i * ldc + j] = accumulate ? c[(size_t)i * ldc + j] + s : s;
    }
}

static void gemm_one(const synth2_sgemm_impl *K, int ta, int tb, int m, int n, int k, const float *a, ptrdiff_t lda,
                     const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc, int accumulate) {
  if (!gemm_serial(K, ta, tb, m, n, k, a, lda, b, ldb, c, ldc, accumulate))
    gemm_reference(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

// ---- threading -----------------------------------------------------------------------------------------------

typedef struct {
  const synth2_sgemm_impl *K;
  int ta, tb, m, n, k, batch, accumulate;
  const float *a, *b;
  float *c;
  ptrdiff_t lda, ldb, ldc, sa, sb, sc;
  int row_parts, col_parts, row_step, col_step, items_per_task;
} job_t;

/** Tasks over whole batch items. */
static void batch_task(void *ctx, int index, int thread) {
  (void)thread;
  const job_t *j = (const job_t *)ctx;
  const int lo = index * j->items_per_task;
  const int hi = lo + j->items_per_task < j->batch ? lo + j->items_per_task : j->batch;
  for (int i = lo; i < hi; i++)
    gemm_one(j->K, j->ta, j->tb, j->m, j->n, j->k, j->a + i * j->sa, j->lda, j->b + i * j->sb, j->ldb,
             j->c + i * j->sc, j->ldc, j->accumulate);
}

/** Tasks over blocks of C: item index / (row_parts·col_parts), then a row block and a column block. */
static void block_task(void *ctx, int index, int thread) {
  (void)thread;
  const job_t *j = (const job_t *)ctx;
  const int per_item = j->row_parts * j->col_parts;
  const int item = index / per_item, r = (index % per_item) / j->col_parts, cb = index % j->col_parts;
  const int i0 = r * j->row_step, j0 = cb * j->col_step;
  if (i0 >= j->m || j0 >= j->n) return;
  const int mb = j->m - i0 < j->row_step ? j->m - i0 : j->row_step;
  const int nb = j->n - j0 < j->col_step ? j->n - j0 : j->col_step;
  const float *a = j->a + item * j->sa + (j->ta ? i0 : (ptrdiff_t)i0 * j->lda);
  const float *b = j->b + item * j->sb + (j->tb ? (ptrdiff_t)j0 * j->ldb : j0);
  float *c = j->c + item * j->sc + (ptrdiff_t)i0 * j->ldc + j0;
  gemm_one(j->K, j->ta, j->tb, mb, nb, j->k, a, j->lda, b, j->ldb, c, j->ldc, j->accumulate);
}

// below this many multiply-adds per product a second thread costs more than it saves
#define MIN_WORK_PER_THREAD (1 << 17)

void synth2_sgemm_batched(int ta, int tb, int m, int n, int k, int batch, const float *a, ptrdiff_t lda,
                          ptrdiff_t stride_a, const float *b, ptrdiff_t ldb, ptrdiff_t stride_b, float *c,
                          ptrdiff_t ldc, ptrdiff_t stride_c, int accumulate) {
  const synth2_sgemm_impl *K = impl();
  if (batch <= 0 || m <= 0 || n <= 0) return;
  const double work = (double)m * n * (k > 0 ? k : 1) * batch;
  int threads = synth2_threads();
  if (threads > 1 && work < (double)MIN_WORK_PER_THREAD * 2) threads = 1;
  job_t j = {K, ta, tb, m, n, k, batch, accumulate, a, b, c, lda, ldb, ldc, stride_a, stride_b, stride_c,
             1, 1, m, n, 1};
  if (threads == 1) {
    for (int i = 0; i < batch; i++)
      gemm_one(K, ta, tb, m, n, k, a + i * stride_a, lda, b + i * stride_b, ldb, c + i * stride_c, ldc, accumulate);
    return;
  }
  if (batch >= 2 * threads) {  // whole items per task, a few tasks per thread to balance
    const int tasks = batch < 4 * threads ? batch : 4 * threads;
    j.items_per_task = (batch + tasks - 1) / tasks;
    synth2_parallel_for((batch + j.items_per_task - 1) / j.items_per_task, batch_task, &j);
    return;
  }
  // split each product's C into about `threads` blocks per item, along its longer side in whole tiles
  const int parts = (threads + batch - 1) / batch;
  if (m >= n) {
    const int tiles = (m + K->mr - 1) / K->mr;
    j.row_parts = parts < tiles ? parts : tiles;
    j.row_step = ((tiles + j.row_parts - 1) / j.row_parts) * K->mr;
  } else {
    const int tiles = (n + K->nr - 1) / K->nr;
    j.col_parts = parts < tiles ? parts : tiles;
    j.col_step = ((tiles + j.col_parts - 1) / j.col_parts) * K->nr;
  }
  synth2_parallel_for(batch * j.row_parts * j.col_parts, block_task, &j);
}

void synth2_sgemm(int ta, int tb, int m, int n, int k, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                  float *c, ptrdiff_t ldc, int accumulate) {
  synth2_sgemm_batched(ta, tb, m, n, k, 1, a, lda, 0, b, ldb, 0, c, ldc, 0, accumulate);
}

// ---- JavaScript bindings ---------------------------------------------------------------------------------------

// sgemmBatched(transA, transB, m, n, k, batch, a, strideA, b, strideB, c, strideC): C[i] = op(A[i])·op(B[i]).
static napi_value SgemmBatched(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  bool ta, tb;
  int64_t m, n, k, batch, sa, sb, sc;
  float *a, *b, *c;
  size_t la, lb, lc;
  if (!synth2_args(env, info, "sgemmBatched", 12, argv) || !synth2_bool(env, argv[0], &ta, "transA") ||
      !synth2_bool(env, argv[1], &tb, "transB") || !synth2_i64(env, argv[2], &m, "m") ||
      !synth2_i64(env, argv[3], &n, "n") || !synth2_i64(env, argv[4], &k, "k") ||
      !synth2_i64(env, argv[5], &batch, "batch") || !synth2_f32(env, argv[6], &a, &la, "a") ||
      !synth2_i64(env, argv[7], &sa, "strideA") || !synth2_f32(env, argv[8], &b, &lb, "b") ||
      !synth2_i64(env, argv[9], &sb, "strideB") || !synth2_f32(env, argv[10], &c, &lc, "c") ||
      !synth2_i64(env, argv[11], &sc, "strideC"))
    return NULL;
  if (m < 0 || n < 0 || k < 0 || batch < 0 || sa < 0 || sb < 0 || sc < 0 || m > INT32_MAX || n > INT32_MAX ||
      k > INT32_MAX || batch > INT32_MAX) {
    napi_throw_range_error(env, NULL, "synth2_native.sgemmBatched: sizes and strides must be >= 0 (and < 2^31)");
    return NULL;
  }
  if (batch > 0 && ((uint64_t)((batch - 1) * sa + m * k) > la || (uint64_t)((batch - 1) * sb + k * n) > lb ||
                    (uint64_t)((batch - 1) * sc + m * n) > lc)) {
    napi_throw_range_error(env, NULL, "synth2_native.sgemmBatched: an operand is shorter than its shape");
    return NULL;
  }
  synth2_sgemm_batched(ta, tb, (int)m, (int)n, (int)k, (int)batch, a, ta ? m : k, sa, b, tb ? k : n, sb, c, n, sc, 0);
  return NULL;
}

// setKernel(name): "avx512f" | "avx2" | "portable" | "auto"; returns the name in use. Throws when the CPU lacks it.
static napi_value SetKernel(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  char name[32];
  if (!synth2_args(env, info, "setKernel", 1, argv) || !synth2_string(env, argv[0], name, sizeof name, "name"))
    return NULL;
  const synth2_sgemm_impl *want = NULL;
  if (!strcmp(name, "auto")) {
    chosen = NULL;
    want = impl();
  } else {
    want = impl_named(name);
  }
  if (!want) {
    char msg[200];
    snprintf(msg, sizeof msg,
             "synth2_native.setKernel: '%s' is not available on this CPU (use one of %s, or \"auto\")", name,
             synth2_sgemm_kernels());
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  chosen = want;
  SYNTH2_CHECK(napi_create_string_utf8(env, chosen->name, NAPI_AUTO_LENGTH, &out));
  return out;
}

const char *synth2_sgemm_kernels(void) {
  static char list[64];
  if (!list[0]) {
    const char *all[] = {"avx512f", "avx2", "portable"};
    for (int i = 0; i < 3; i++)
      if (impl_named(all[i])) {
        if (list[0]) strcat(list, ", ");
        strcat(list, all[i]);
      }
  }
  return list;
}

// kernels(): the kernel names this CPU can run, fastest first.
static napi_value Kernels(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  SYNTH2_CHECK(napi_create_string_utf8(env, synth2_sgemm_kernels(), NAPI_AUTO_LENGTH, &out));
  return out;
}

// info(): e.g. "synth2 sgemm avx512f, 2 threads".
static napi_value Info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  char s[96];
  const int t = synth2_threads();
  snprintf(s, sizeof s, "synth2 sgemm %s, %d thread%s", synth2_sgemm_kernel_name(), t, t == 1 ? "" : "s");
  SYNTH2_CHECK(napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &out));
  return out;
}

SYNTH2_REGISTRAR(sgemm) {
  synth2_export(env, exports, "sgemmBatched", SgemmBatched);
  synth2_export(env, exports, "setKernel", SetKernel);
  synth2_export(env, exports, "kernels", Kernels);
  synth2_export(env, exports, "info", Info);
}
