// Optional native kernels for @synth2/core on tfjs's wasm backend: OpenBLAS sgemm and vectorised
// elementwise functions working in place on Float32Array views of the wasm heap (no copies).
// Every function validates its arguments and throws a JS TypeError/RangeError instead of reading out of bounds.
#include <cblas.h>
#include <math.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void openblas_set_num_threads(int);
extern int openblas_get_num_threads(void);
extern char *openblas_get_config(void);

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, NULL, "synth2_native: N-API call failed"); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static bool get_f32(napi_env env, napi_value v, float **data, size_t *len, const char *what) {
  bool is_ta = false;
  napi_typedarray_type type;
  void *ptr = NULL;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, v, &type, len, &ptr, NULL, NULL) != napi_ok || type != napi_float32_array) {
    char msg[128];
    snprintf(msg, sizeof msg, "synth2_native: %s must be a Float32Array", what);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  *data = (float *)ptr;
  return true;
}

static bool get_i64(napi_env env, napi_value v, int64_t *out) {
  if (napi_get_value_int64(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "synth2_native: expected a number");
    return false;
  }
  return true;
}

static bool get_bool(napi_env env, napi_value v, bool *out) {
  if (napi_get_value_bool(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "synth2_native: expected a boolean");
    return false;
  }
  return true;
}

// sgemmBatched(transA, transB, m, n, k, batch, a, strideA, b, strideB, c, strideC)
static napi_value SgemmBatched(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 12) {
    napi_throw_type_error(env, NULL, "synth2_native.sgemmBatched: expected 12 arguments");
    return NULL;
  }
  bool ta, tb;
  int64_t m, n, k, batch, sa, sb, sc;
  float *a, *b, *c;
  size_t la, lb, lc;
  if (!get_bool(env, argv[0], &ta) || !get_bool(env, argv[1], &tb) || !get_i64(env, argv[2], &m) ||
      !get_i64(env, argv[3], &n) || !get_i64(env, argv[4], &k) || !get_i64(env, argv[5], &batch) ||
      !get_f32(env, argv[6], &a, &la, "a") || !get_i64(env, argv[7], &sa) || !get_f32(env, argv[8], &b, &lb, "b") ||
      !get_i64(env, argv[9], &sb) || !get_f32(env, argv[10], &c, &lc, "c") || !get_i64(env, argv[11], &sc))
    return NULL;
  if (m < 0 || n < 0 || k < 0 || batch < 0 || sa < 0 || sb < 0 || sc < 0) {
    napi_throw_range_error(env, NULL, "synth2_native.sgemmBatched: sizes and strides must be >= 0");
    return NULL;
  }
  if (batch > 0 && ((size_t)((batch - 1) * sa + m * k) > la || (size_t)((batch - 1) * sb + k * n) > lb ||
                    (size_t)((batch - 1) * sc + m * n) > lc)) {
    napi_throw_range_error(env, NULL, "synth2_native.sgemmBatched: an operand is shorter than its shape");
    return NULL;
  }
  const int lda = ta ? (int)m : (int)k;
  const int ldb = tb ? (int)k : (int)n;
  for (int64_t i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k,
                1.0f, a + i * sa, lda, b + i * sb, ldb, 0.0f, c + i * sc, (int)n);
  }
  return NULL;
}

static bool unary_args(napi_env env, napi_callback_info info, float **x, float **y, size_t *len) {
  size_t argc = 2;
  napi_value argv[2];
  size_t lx, ly;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) {
    napi_throw_type_error(env, NULL, "synth2_native: expected (x, y)");
    return false;
  }
  if (!get_f32(env, argv[0], x, &lx, "x") || !get_f32(env, argv[1], y, &ly, "y")) return false;
  if (lx != ly) {
    napi_throw_range_error(env, NULL, "synth2_native: x and y must have the same length");
    return false;
  }
  *len = lx;
  return true;
}

// tanh via exp: tanh(x) = 1 - 2 / (exp(2x) + 1); vectorises with libmvec's expf under -ffast-math.
static inline float fast_tanh(float x) {
  x = x > 15.f ? 15.f : (x < -15.f ? -15.f : x);
  return 1.f - 2.f / (expf(2.f * x) + 1.f);
}

static napi_value Tanh(napi_env env, napi_callback_info info) {
  float *x, *y;
  size_t n;
  if (!unary_args(env, info, &x, &y, &n)) return NULL;
#pragma omp simd
  for (size_t i = 0; i < n; i++) y[i] = fast_tanh(x[i]);
  return NULL;
}

static napi_value Exp(napi_env env, napi_callback_info info) {
  float *x, *y;
  size_t n;
  if (!unary_args(env, info, &x, &y, &n)) return NULL;
#pragma omp simd
  for (size_t i = 0; i < n; i++) y[i] = expf(x[i]);
  return NULL;
}

static napi_value GeluTanh(napi_env env, napi_callback_info info) {
  float *x, *y;
  size_t n;
  if (!unary_args(env, info, &x, &y, &n)) return NULL;
  const float c = 0.7978845608028654f;  // sqrt(2/pi)
#pragma omp simd
  for (size_t i = 0; i < n; i++) {
    const float v = x[i];
    y[i] = 0.5f * v * (1.f + fast_tanh(c * (v + 0.044715f * v * v * v)));
  }
  return NULL;
}


// ---- convolutions (NHWC, filter [KH, KW, C, CO]) as im2col + sgemm -------------------------------------------
// geometry (Int32Array): B, H, W, C, KH, KW, CO, strideH, strideW, dilationH, dilationW, padTop, padLeft, OH, OW
enum { G_B, G_H, G_W, G_C, G_KH, G_KW, G_CO, G_SH, G_SW, G_DH, G_DW, G_PT, G_PL, G_OH, G_OW, G_N };

static float *scratch = NULL;
static size_t scratch_len = 0;
static float *get_scratch(size_t n) {
  if (n > scratch_len) {
    free(scratch);
    scratch = (float *)malloc(n * sizeof(float));
    scratch_len = scratch ? n : 0;
  }
  return scratch;
}

static bool is_pointwise(const int32_t *g) {
  return g[G_KH] == 1 && g[G_KW] == 1 && g[G_SH] == 1 && g[G_SW] == 1 && g[G_PT] == 0 && g[G_PL] == 0 &&
         g[G_OH] == g[G_H] && g[G_OW] == g[G_W];
}

static void im2col(const float *x, const int32_t *g, float *cols) {
  const int B = g[G_B], H = g[G_H], W = g[G_W], C = g[G_C], KH = g[G_KH], KW = g[G_KW];
  const int OH = g[G_OH], OW = g[G_OW];
  const size_t rowlen = (size_t)KH * KW * C;
  for (int b = 0; b < B; b++)
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        float *row = cols + (((size_t)b * OH + oh) * OW + ow) * rowlen;
        for (int kh = 0; kh < KH; kh++) {
          const int ih = oh * g[G_SH] - g[G_PT] + kh * g[G_DH];
          for (int kw = 0; kw < KW; kw++) {
            const int iw = ow * g[G_SW] - g[G_PL] + kw * g[G_DW];
            float *dst = row + ((size_t)kh * KW + kw) * C;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) memset(dst, 0, sizeof(float) * C);
            else memcpy(dst, x + (((size_t)b * H + ih) * W + iw) * C, sizeof(float) * C);
          }
        }
      }
}

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
#pragma omp simd
            for (int c = 0; c < C; c++) dst[c] += src[c];
          }
        }
      }
}

// conv(which, geometry, p0, p1, out): which 0 = forward (x, w → y), 1 = filter grad (x, dy → dw),
// 2 = input grad (dy, w → dx). Sizes are checked against the geometry.
static napi_value Conv(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t which;
  bool is_ta = false;
  napi_typedarray_type type;
  size_t glen;
  void *gptr;
  if (argc != 5 || !get_i64(env, argv[0], &which)) {
    if (argc != 5) napi_throw_type_error(env, NULL, "synth2_native.conv: expected 5 arguments");
    return NULL;
  }
  if (napi_is_typedarray(env, argv[1], &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, argv[1], &type, &glen, &gptr, NULL, NULL) != napi_ok || type != napi_int32_array ||
      glen != G_N) {
    napi_throw_type_error(env, NULL, "synth2_native.conv: geometry must be an Int32Array of 15");
    return NULL;
  }
  const int32_t *g = (const int32_t *)gptr;
  for (int i = 0; i < G_N; i++)
    if (g[i] < 0 || (i != G_PT && i != G_PL && g[i] == 0)) {
      napi_throw_range_error(env, NULL, "synth2_native.conv: invalid geometry");
      return NULL;
    }
  float *p0, *p1, *out;
  size_t l0, l1, lo;
  if (!get_f32(env, argv[2], &p0, &l0, "input 0") || !get_f32(env, argv[3], &p1, &l1, "input 1") ||
      !get_f32(env, argv[4], &out, &lo, "output"))
    return NULL;
  const size_t nx = (size_t)g[G_B] * g[G_H] * g[G_W] * g[G_C];
  const size_t nw = (size_t)g[G_KH] * g[G_KW] * g[G_C] * g[G_CO];
  const size_t ny = (size_t)g[G_B] * g[G_OH] * g[G_OW] * g[G_CO];
  const size_t rows = (size_t)g[G_B] * g[G_OH] * g[G_OW];
  const size_t k = (size_t)g[G_KH] * g[G_KW] * g[G_C];
  const size_t want0 = which == 2 ? ny : nx, want1 = which == 1 ? ny : nw, wanto = which == 0 ? ny : which == 1 ? nw : nx;
  if (which < 0 || which > 2 || l0 != want0 || l1 != want1 || lo != wanto) {
    napi_throw_range_error(env, NULL, "synth2_native.conv: operand sizes do not match the geometry");
    return NULL;
  }
  const bool direct = is_pointwise(g);
  float *cols = direct ? NULL : get_scratch(rows * k);
  if (!direct && !cols) {
    napi_throw_error(env, NULL, "synth2_native.conv: out of memory for the patch matrix");
    return NULL;
  }
  const int CO = g[G_CO];
  if (which == 0) {  // y[rows, CO] = cols[rows, k] · w[k, CO]
    if (!direct) im2col(p0, g, cols);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, CO, (int)k, 1.f, direct ? p0 : cols, (int)k, p1, CO,
                0.f, out, CO);
  } else if (which == 1) {  // dw[k, CO] = cols[rows, k]ᵀ · dy[rows, CO]
    if (!direct) im2col(p0, g, cols);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, CO, (int)rows, 1.f, direct ? p0 : cols, (int)k, p1, CO,
                0.f, out, CO);
  } else {  // dcols[rows, k] = dy[rows, CO] · w[k, CO]ᵀ, then scatter-add into dx
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)k, CO, 1.f, p0, CO, p1, CO, 0.f,
                direct ? out : cols, (int)k);
    if (!direct) col2im(cols, g, out);
  }
  return NULL;
}

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int64_t t;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1 || !get_i64(env, argv[0], &t)) return NULL;
  if (t < 1) {
    napi_throw_range_error(env, NULL, "synth2_native.setThreads: threads must be >= 1");
    return NULL;
  }
  openblas_set_num_threads((int)t);
  return NULL;
}

static napi_value GetThreads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &out));
  return out;
}

static napi_value BlasInfo(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  const char *cfg = openblas_get_config();
  CHECK(napi_create_string_utf8(env, cfg ? cfg : "OpenBLAS", NAPI_AUTO_LENGTH, &out));
  return out;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemmBatched", NULL, SgemmBatched, NULL, NULL, NULL, napi_default, NULL},
      {"conv", NULL, Conv, NULL, NULL, NULL, napi_default, NULL},
      {"exp", NULL, Exp, NULL, NULL, NULL, napi_default, NULL},
      {"tanh", NULL, Tanh, NULL, NULL, NULL, napi_default, NULL},
      {"geluTanh", NULL, GeluTanh, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_default, NULL},
      {"getThreads", NULL, GetThreads, NULL, NULL, NULL, napi_default, NULL},
      {"blasInfo", NULL, BlasInfo, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
