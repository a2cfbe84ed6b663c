// Convolutions (NHWC, filter [KH, KW, C, CO]) and their gradients as im2col + synth2_sgemm; the patch matrix is
// built on the thread pool, one block of output rows per task.
#include <stdlib.h>
#include <string.h>

#include "sgemm.h"
#include "synth2.h"
#include "threadpool.h"

// geometry (Int32Array): B, H, W, C, KH, KW, CO, strideH, strideW, dilationH, dilationW, padTop, padLeft, OH, OW
enum { G_B, G_H, G_W, G_C, G_KH, G_KW, G_CO, G_SH, G_SW, G_DH, G_DW, G_PT, G_PL, G_OH, G_OW, G_N };

static _Thread_local float *scratch = NULL;
static _Thread_local size_t scratch_len = 0;
static float *get_scratch(size_t n) {
  if (n > scratch_len) {
    free(scratch);
    scratch = (float *)malloc(n * sizeof(float));
    scratch_len = scratch ? n : 0;
  }
  return scratch;
}

static int is_pointwise(const int32_t *g) {
  return g[G_KH] == 1 && g[G_KW] == 1 && g[G_SH] == 1 && g[G_SW] == 1 && g[G_PT] == 0 && g[G_PL] == 0 &&
         g[G_OH] == g[G_H] && g[G_OW] == g[G_W];
}

typedef struct {
  const float *x;
  const int32_t *g;
  float *cols;
} im2col_job;

/** Rows of the patch matrix for one (batch, output row) pair: OW rows of KH·KW·C values. */
static void im2col_row(void *ctx, int index, int thread) {
  (void)thread;
  const im2col_job *j = (const im2col_job *)ctx;
  const int32_t *g = j->g;
  const int H = g[G_H], W = g[G_W], C = g[G_C], KH = g[G_KH], KW = g[G_KW], OH = g[G_OH], OW = g[G_OW];
  const int b = index / OH, oh = index % OH;
  const size_t rowlen = (size_t)KH * KW * C;
  for (int ow = 0; ow < OW; ow++) {
    float *row = j->cols + (((size_t)b * OH + oh) * OW + ow) * rowlen;
    for (int kh = 0; kh < KH; kh++) {
      const int ih = oh * g[G_SH] - g[G_PT] + kh * g[G_DH];
      for (int kw = 0; kw < KW; kw++) {
        const int iw = ow * g[G_SW] - g[G_PL] + kw * g[G_DW];
        float *dst = row + ((size_t)kh * KW + kw) * C;
        if (ih < 0 || ih >= H || iw < 0 || iw >= W) memset(dst, 0, sizeof(float) * C);
        else memcpy(dst, j->x + (((size_t)b * H + ih) * W + iw) * C, sizeof(float) * C);
      }
    }
  }
}

static void im2col(const float *x, const int32_t *g, float *cols) {
  im2col_job j = {x, g, cols};
  synth2_parallel_for(g[G_B] * g[G_OH], im2col_row, &j);
}

/** Scatter-adds the patch-matrix gradient into dx (serial: patches overlap). */
static void col2im(const float *cols, const int32_t *g, float *dx) {
  const int B = g[G_B], H = g[G_H], W = g[G_W], C = g[G_C], KH = g[G_KH], KW = g[G_KW];
  const int OH = g[G_OH], OW = g[G_OW];
  const size_t rowlen = (size_t)KH * KW * C;
  memset(dx, 0, sizeof(float) * (size_t)B * H * W * C);
  for (int b = 0; b < B; b++)
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        const float *row = cols + (((size_t)b * OH + oh) * OW + ow) * rowlen;
        for (int kh = 0; kh < KH; kh++) {
          const int ih = oh * g[G_SH] - g[G_PT] + kh * g[G_DH];
          if (ih < 0 || ih >= H) continue;
          for (int kw = 0; kw < KW; kw++) {
            const int iw = ow * g[G_SW] - g[G_PL] + kw * g[G_DW];
            if (iw < 0 || iw >= W) continue;
            const float *src = row + ((size_t)kh * KW + kw) * C;
            float *dst = dx + (((size_t)b * H + ih) * W + iw) * C;
            for (int c = 0; c < C; c++) dst[c] += src[c];
          }
        }
      }
}

// conv(which, geometry, p0, p1, out): which 0 = forward (x, w → y), 1 = filter grad (x, dy → dw),
// 2 = input grad (dy, w → dx). Sizes are checked against the geometry.
static napi_value Conv(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int64_t which;
  int32_t *g;
  size_t glen;
  if (!synth2_args(env, info, "conv", 5, argv) || !synth2_i64(env, argv[0], &which, "which")) return NULL;
  if (!synth2_i32s(env, argv[1], &g, &glen, "geometry")) return NULL;
  if (glen != G_N) {
    napi_throw_type_error(env, NULL, "synth2_native.conv: geometry must be an Int32Array of 15");
    return NULL;
  }
  for (int i = 0; i < G_N; i++)
    if (g[i] < 0 || (i != G_PT && i != G_PL && g[i] == 0)) {
      napi_throw_range_error(env, NULL, "synth2_native.conv: invalid geometry");
      return NULL;
    }
  float *p0, *p1, *out;
  size_t l0, l1, lo;
  if (!synth2_f32(env, argv[2], &p0, &l0, "input 0") || !synth2_f32(env, argv[3], &p1, &l1, "input 1") ||
      !synth2_f32(env, argv[4], &out, &lo, "output"))
    return NULL;
  const size_t nx = (size_t)g[G_B] * g[G_H] * g[G_W] * g[G_C];
  const size_t nw = (size_t)g[G_KH] * g[G_KW] * g[G_C] * g[G_CO];
  const size_t ny = (size_t)g[G_B] * g[G_OH] * g[G_OW] * g[G_CO];
  const size_t rows = (size_t)g[G_B] * g[G_OH] * g[G_OW];
  const size_t k = (size_t)g[G_KH] * g[G_KW] * g[G_C];
  const size_t want0 = which == 2 ? ny : nx, want1 = which == 1 ? ny : nw;
  const size_t wanto = which == 0 ? ny : which == 1 ? nw : nx;
  if (which < 0 || which > 2 || l0 != want0 || l1 != want1 || lo != wanto) {
    napi_throw_range_error(env, NULL, "synth2_native.conv: operand sizes do not match the geometry");
    return NULL;
  }
  const int direct = is_pointwise(g);
  float *cols = direct ? NULL : get_scratch(rows * k);
  if (!direct && !cols) {
    napi_throw_error(env, NULL, "synth2_native.conv: out of memory for the patch matrix");
    return NULL;
  }
  const int CO = g[G_CO];
  if (which == 0) {  // y[rows, CO] = cols[rows, k] · w[k, CO]
    if (!direct) im2col(p0, g, cols);
    synth2_sgemm(0, 0, (int)rows, CO, (int)k, direct ? p0 : cols, (ptrdiff_t)k, p1, CO, out, CO, 0);
  } else if (which == 1) {  // dw[k, CO] = cols[rows, k]ᵀ · dy[rows, CO]
    if (!direct) im2col(p0, g, cols);
    synth2_sgemm(1, 0, (int)k, CO, (int)rows, direct ? p0 : cols, (ptrdiff_t)k, p1, CO, out, CO, 0);
  } else {  // dcols[rows, k] = dy[rows, CO] · w[k, CO]ᵀ, then scatter-add into dx
    synth2_sgemm(0, 1, (int)rows, (int)k, CO, p0, CO, p1, CO, direct ? out : cols, (ptrdiff_t)k, 0);
    if (!direct) col2im(cols, g, out);
  }
  return NULL;
}

SYNTH2_REGISTRAR(conv) { synth2_export(env, exports, "conv", Conv); }
