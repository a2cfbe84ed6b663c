// AVX-512 micro-kernel: a 14×32 tile of C held in 28 zmm registers; each k step loads two vectors of B and
// broadcasts 14 values of A. Edge tiles use a kernel specialised for their row count and masked B loads/C stores.
// Compiled with function-level target attributes, so the rest of the binary runs on any x86-64; called only after
// the CPU check in sgemm.c.
#include "sgemm.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define MR 14
#define NR 32
#define TARGET __attribute__((target("avx512f,avx512dq,avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

TARGET INLINE void tile(const int R, const int masked, int kc, const float *a, const float *b, ptrdiff_t ldb,
                        float *c, ptrdiff_t ldc, int n, int accumulate) {
  __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 14
  for (int i = 0; i < R; i++) acc0[i] = acc1[i] = _mm512_setzero_ps();
  const __mmask16 m0 = masked ? (__mmask16)(n >= 16 ? 0xFFFF : (1u << n) - 1) : 0xFFFF;
  const __mmask16 m1 = masked ? (__mmask16)(n >= 32 ? 0xFFFF : n <= 16 ? 0 : (1u << (n - 16)) - 1) : 0xFFFF;
  for (int p = 0; p < kc; p++) {
    const __m512 b0 = masked ? _mm512_maskz_loadu_ps(m0, b) : _mm512_loadu_ps(b);
    const __m512 b1 = masked ? _mm512_maskz_loadu_ps(m1, b + 16) : _mm512_loadu_ps(b + 16);
#pragma GCC unroll 14
    for (int i = 0; i < R; i++) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      acc0[i] = _mm512_fmadd_ps(ai, b0, acc0[i]);
      acc1[i] = _mm512_fmadd_ps(ai, b1, acc1[i]);
    }
    a += MR;
    b += ldb;
  }
#pragma GCC unroll 14
  for (int i = 0; i < R; i++) {
    float *ci = c + i * ldc;
    if (masked) {
      if (accumulate) {
        acc0[i] = _mm512_add_ps(acc0[i], _mm512_maskz_loadu_ps(m0, ci));
        acc1[i] = _mm512_add_ps(acc1[i], _mm512_maskz_loadu_ps(m1, ci + 16));
      }
      _mm512_mask_storeu_ps(ci, m0, acc0[i]);
      _mm512_mask_storeu_ps(ci + 16, m1, acc1[i]);
    } else {
      if (accumulate) {
        acc0[i] = _mm512_add_ps(acc0[i], _mm512_loadu_ps(ci));
        acc1[i] = _mm512_add_ps(acc1[i], _mm512_loadu_ps(ci + 16));
      }
      _mm512_storeu_ps(ci, acc0[i]);
      _mm512_storeu_ps(ci + 16, acc1[i]);
    }
  }
}

// Tiles of at most 16 columns: one vector per row, so up to 28 rows fit; rows come in pairs of 14-row panels.
TARGET INLINE void tile_narrow(const int R, int kc, const float *a, const float *b, ptrdiff_t ldb, float *c,
                               ptrdiff_t ldc, int n, int accumulate) {
  __m512 acc[MR];
#pragma GCC unroll 14
  for (int i = 0; i < R; i++) acc[i] = _mm512_setzero_ps();
  const __mmask16 m0 = (__mmask16)(n >= 16 ? 0xFFFF : (1u << n) - 1);
  for (int p = 0; p < kc; p++) {
    const __m512 b0 = _mm512_maskz_loadu_ps(m0, b);
#pragma GCC unroll 14
    for (int i = 0; i < R; i++) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(a[i]), b0, acc[i]);
    a += MR;
    b += ldb;
  }
#pragma GCC unroll 14
  for (int i = 0; i < R; i++) {
    float *ci = c + i * ldc;
    if (accumulate) acc[i] = _mm512_add_ps(acc[i], _mm512_maskz_loadu_ps(m0, ci));
    _mm512_mask_storeu_ps(ci, m0, acc[i]);
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
  }                                                                                                             \
  TARGET static void narrow_##R(int kc, const float *a, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,\
                                int n, int acc) {                                                              \
    tile_narrow(R, kc, a, b, ldb, c, ldc, n, acc);                                                              \
  }

DEFINE_ROWS(1)
DEFINE_ROWS(2)
DEFINE_ROWS(3)
DEFINE_ROWS(4)
DEFINE_ROWS(5)
DEFINE_ROWS(6)
DEFINE_ROWS(7)
DEFINE_ROWS(8)
DEFINE_ROWS(9)
DEFINE_ROWS(10)
DEFINE_ROWS(11)
DEFINE_ROWS(12)
DEFINE_ROWS(13)
DEFINE_ROWS(14)

typedef void (*rows_fn)(int, const float *, const float *, ptrdiff_t, float *, ptrdiff_t, int, int);
#define ROW_TABLE(kind) \
  { NULL, kind##_1, kind##_2, kind##_3, kind##_4, kind##_5, kind##_6, kind##_7, kind##_8, kind##_9, kind##_10, \
    kind##_11, kind##_12, kind##_13, kind##_14 }
static const rows_fn full_fns[MR + 1] = ROW_TABLE(full);
static const rows_fn masked_fns[MR + 1] = ROW_TABLE(masked);
static const rows_fn narrow_fns[MR + 1] = ROW_TABLE(narrow);

static void kernel(int kc, const float *a, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc, int m, int n,
                   int accumulate) {
  const rows_fn *table = n == NR ? full_fns : n <= 16 ? narrow_fns : masked_fns;
  table[m](kc, a, b, ldb, c, ldc, n, accumulate);
}

static const synth2_sgemm_impl impl = {"avx512f", MR, NR, 256, 14 * 12, 2048, 1, kernel};
const synth2_sgemm_impl *synth2_sgemm_avx512(void) { return &impl; }

#else
const synth2_sgemm_impl *synth2_sgemm_avx512(void) { return 0; }
#endif
