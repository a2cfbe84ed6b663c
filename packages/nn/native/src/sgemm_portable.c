// Portable micro-kernel in plain C that compilers vectorise for the baseline instruction set (SSE2 on x86-64,
// NEON on arm64): a 4×16 tile accumulated in a local array. B is always packed and zero-padded to 16 columns.
#include "sgemm.h"

#define MR 4
#define NR 16

static void kernel(int kc, const float *a, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc, int m, int n,
                   int accumulate) {
  float acc[MR][NR] = {{0}};
  for (int p = 0; p < kc; p++) {
    for (int i = 0; i < MR; i++) {
      const float ai = a[i];
      for (int j = 0; j < NR; j++) acc[i][j] += ai * b[j];
    }
    a += MR;
    b += ldb;
  }
  for (int i = 0; i < m; i++) {
    float *ci = c + i * ldc;
    if (accumulate)
      for (int j = 0; j < n; j++) ci[j] += acc[i][j];
    else
      for (int j = 0; j < n; j++) ci[j] = acc[i][j];
  }
}

static const synth2_sgemm_impl impl = {"portable", MR, NR, 256, 4 * 32, 2048, 0, kernel};
const synth2_sgemm_impl *synth2_sgemm_portable(void) { return &impl; }
