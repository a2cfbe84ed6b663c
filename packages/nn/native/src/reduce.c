// Reductions of training-sized float32 tensors that tfjs-backend-wasm does slowly: the sum over leading axes (every
// bias gradient) and the scatter-add of embedding gradients. Both give the same bits as the portable JS versions in
// src/tf/kernels (elementwise.ts, segment-sum.ts): the column sums accumulate in double, row by row in order, and
// are rounded once; the scatter-add adds in float, row by row in order (a float sum rounded once per add is what JS
// gets from a double add stored to a Float32Array).
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "synth2.h"

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

// Columns per block: the double accumulators of one block stay in L1 while the rows stream through.
#define SUM_BLOCK 1024

CLONES static void sum_rows(const float *restrict x, float *restrict out, size_t outer, size_t inner) {
  double acc[SUM_BLOCK];
  for (size_t j0 = 0; j0 < inner; j0 += SUM_BLOCK) {
    const size_t w = inner - j0 < SUM_BLOCK ? inner - j0 : SUM_BLOCK;
    memset(acc, 0, w * sizeof acc[0]);
    for (size_t i = 0; i < outer; i++) {
      const float *row = x + i * inner + j0;
      for (size_t j = 0; j < w; j++) acc[j] += (double)row[j];
    }
    for (size_t j = 0; j < w; j++) out[j0 + j] = (float)acc[j];
  }
}

CLONES static void scatter_add(const float *restrict x, const int32_t *restrict ids, size_t n, size_t d,
                               int64_t segments, float *restrict out) {
  memset(out, 0, (size_t)segments * d * sizeof out[0]);
  for (size_t i = 0; i < n; i++) {
    const int64_t s = ids[i];
    if (s < 0 || s >= segments) continue;
    const float *src = x + i * d;
    float *dst = out + (size_t)s * d;
    for (size_t j = 0; j < d; j++) dst[j] += src[j];
  }
}

// sumRows(x, out): x holds outer·inner values, out inner; out[j] = Σ_i x[i·inner + j].
static napi_value SumRows(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  float *x, *out;
  size_t lx, lo;
  if (!synth2_args(env, info, "sumRows", 2, argv)) return NULL;
  if (!synth2_f32(env, argv[0], &x, &lx, "x") || !synth2_f32(env, argv[1], &out, &lo, "out")) return NULL;
  if (lo == 0 || lx % lo != 0) {
    char msg[200];
    snprintf(msg, sizeof msg, "synth2_native.sumRows: x's length (%zu) must be a multiple of out's (%zu)", lx, lo);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  sum_rows(x, out, lx / lo, lo);
  return NULL;
}

// scatterAdd(x, ids, numSegments, out): x holds ids.length rows of d = x.length / ids.length values; out
// (numSegments·d) gets out[s] = Σ_{i: ids[i] = s} x[i]; ids outside [0, numSegments) are dropped.
static napi_value ScatterAdd(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  float *x, *out;
  int32_t *ids;
  size_t lx, li, lo;
  int64_t segments;
  if (!synth2_args(env, info, "scatterAdd", 4, argv)) return NULL;
  if (!synth2_f32(env, argv[0], &x, &lx, "x") || !synth2_i32s(env, argv[1], &ids, &li, "ids") ||
      !synth2_i64(env, argv[2], &segments, "numSegments") || !synth2_f32(env, argv[3], &out, &lo, "out"))
    return NULL;
  const size_t d = li == 0 ? 0 : lx / li;
  if (segments < 0 || (li > 0 && lx % li != 0) || (li > 0 && lo != (size_t)segments * d)) {
    char msg[240];
    snprintf(msg, sizeof msg,
             "synth2_native.scatterAdd: x (%zu values), ids (%zu) and out (%zu) do not agree with %lld segments", lx,
             li, lo, (long long)segments);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  if (li == 0) {
    memset(out, 0, lo * sizeof out[0]);
    return NULL;
  }
  scatter_add(x, ids, li, d, segments, out);
  return NULL;
}

SYNTH2_REGISTRAR(reduce) {
  synth2_export(env, exports, "sumRows", SumRows);
  synth2_export(env, exports, "scatterAdd", ScatterAdd);
}
