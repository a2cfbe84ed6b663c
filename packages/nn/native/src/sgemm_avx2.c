// AVX2+FMA micro-kernel: a 6×16 tile of C held in 12 ymm registers; each k step loads two vectors of B and
// broadcasts 6 values of A. Edge tiles use a kernel specialised for their row count and masked B loads/C stores.
// Compiled with function-level target attributes; called only after the CPU check in sgemm.c.
#include "sgemm.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define MR 6
#define NR 16
#define TARGET __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

TARGET INLINE __m256i lane_mask(int n) {  // lanes [0, n) set
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
}

TARGET INLINE void tile(const int R, const int masked, int kc, const float *a, const float *b, ptrdiff_t ldb,
                        float *c, ptrdiff_t ldc, int n, int accumulate) {
  __m256 acc0[MR], acc1[MR];
#pragma GCC unroll 6
  for (int i = 0; i < R; i++) acc0[i] = acc1[i] = _mm256_setzero_ps();
  const __m256i k0 = lane_mask(masked ? n : 8), k1 = lane_mask(masked ? n - 8 : 8);
  for (int p = 0; p < kc; p++) {
    const __m256 b0 = masked ? _mm256_maskload_ps(b, k0) : _mm256_loadu_ps(b);
    const __m256 b1 = masked ? _mm256_maskload_ps(b + 8, k1) : _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      acc0[i] = _mm256_fmadd_ps(ai, b0, acc0[i]);
      acc1[i] = _mm256_fmadd_ps(ai, b1, acc1[i]);
    }
    a += MR;
    b += ldb;
  }
#pragma GCC unroll 6
  for (int i = 0; i < R; i++) {
    float *ci = c + i * ldc;
    if (masked) {
      if (accumulate) {
        acc0[i] = _mm256_add_ps(acc0[i], _mm256_maskload_ps(ci, k0));
        acc1[i] = _mm256_add_ps(acc1[i], _mm256_maskload_ps(ci + 8, k1));
      }
      _mm256_maskstore_ps(ci, k0, acc0[i]);
      _mm256_maskstore_ps(ci + 8, k1, acc1[i]);
    } else {
      if (accumulate) {
        acc0[i] = _mm256_add_ps(acc0[i], _mm256_loadu_ps(ci));
        acc1[i] = _mm256_add_ps(acc1[i], _mm256_loadu_ps(ci + 8));
      }
      _mm256_storeu_ps(ci, acc0[i]);
      _mm256_storeu_ps(ci + 8, acc1[i]);
    }
  }
}

#define DEFINE_ROWS(R)                                                                                            \
  TARGET static void full_##R(int kc, const float *a, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,  \
                              int n, int acc) {                                                                \
    tile(R, 0, kc, a, b, ldb, c, ldc, n, acc);                                                                  \
  }                                                                                                             \
  TARGET static void masked_##R(int kc, const float *a, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,\
                                int n, int acc) {                                                              \
    tile(R, 1, kc, a, b, ldb, c, ldc, n, acc);                                                                  \
  }

DEFINE_ROWS(1)
DEFINE_ROWS(2)
DEFINE_ROWS(3)
DEFINE_ROWS(4)
DEFINE_ROWS(5)
DEFINE_ROWS(6)

typedef void (*rows_fn)(int, const float *, const float *, ptrdiff_t, float *, ptrdiff_t, int, int);
static const rows_fn full_fns[MR + 1] = {NULL, full_1, full_2, full_3, full_4, full_5, full_6};
static const rows_fn masked_fns[MR + 1] = {NULL, masked_1, masked_2, masked_3, masked_4, masked_5, masked_6};

static void kernel(int kc, const float *a, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc, int m, int n,
                   int accumulate) {
  (n == NR ? full_fns : masked_fns)[m](kc, a, b, ldb, c, ldc, n, accumulate);
}

static const synth2_sgemm_impl impl = {"avx2", MR, NR, 256, 6 * 24, 2048, 1, kernel};
const synth2_sgemm_impl *synth2_sgemm_avx2(void) { return &impl; }

#else
const synth2_sgemm_impl *synth2_sgemm_avx2(void) { return 0; }
#endif
