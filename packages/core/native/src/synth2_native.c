// Optional native kernels for @synth2/core on tfjs's wasm backend: OpenBLAS sgemm and vectorised
// elementwise functions working in place on Float32Array views of the wasm heap (no copies).
// Every function validates its arguments and throws a JS TypeError/RangeError instead of reading out of bounds.
#include <cblas.h>
#include <math.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
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
