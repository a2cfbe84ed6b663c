// Single-precision matrix multiply, row-major: C = op(A)·op(B) (+ C when accumulate), op(X) = X or Xᵀ.
// op(A) is m×k, op(B) is k×n; lda/ldb/ldc are the row strides of A, B, C as stored (A stored k×m when ta).
// Runs on synth2_threads() threads; kernels for AVX-512, AVX2+FMA or portable C, chosen from the CPU at load.
#ifndef SYNTH2_SGEMM_H
#define SYNTH2_SGEMM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void synth2_sgemm(int ta, int tb, int m, int n, int k, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                  float *c, ptrdiff_t ldc, int accumulate);

/** batch products; item i reads a + i·strideA, b + i·strideB and writes c + i·strideC (a stride 0 broadcasts). */
void synth2_sgemm_batched(int ta, int tb, int m, int n, int k, int batch, const float *a, ptrdiff_t lda,
                          ptrdiff_t stride_a, const float *b, ptrdiff_t ldb, ptrdiff_t stride_b, float *c,
                          ptrdiff_t ldc, ptrdiff_t stride_c, int accumulate);

/** Name of the micro-kernel in use: "avx512f", "avx2" or "portable". */
const char *synth2_sgemm_kernel_name(void);
/** The kernel names this CPU can run, fastest first, comma-separated. */
const char *synth2_sgemm_kernels(void);

// ---- micro-kernel interface (sgemm_*.c) -------------------------------------------------------------------------
// kernel: C[0:m, 0:n] (=|+=) Apanel · B for 1 <= m <= mr, 1 <= n <= nr. Apanel holds kc steps of mr values (row i of
// step p at a[p·mr + i]); B holds kc rows of at least n values, row p at b + p·ldb (zero-padded to nr when packed).
typedef void (*synth2_microkernel)(int kc, const float *a, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                                   int m, int n, int accumulate);

typedef struct {
  const char *name;
  int mr, nr;          // register tile
  int kc, mc, nc;      // cache blocks (mc a multiple of mr, nc of nr)
  int reads_b_direct;  // the kernel reads B rows of fewer than nr values without overrunning them
  synth2_microkernel kernel;
} synth2_sgemm_impl;

/** The AVX-512 / AVX2 implementations, or NULL when not compiled for this architecture. */
const synth2_sgemm_impl *synth2_sgemm_avx512(void);
const synth2_sgemm_impl *synth2_sgemm_avx2(void);
const synth2_sgemm_impl *synth2_sgemm_portable(void);

#ifdef __cplusplus
}
#endif

#endif
