// Elementwise exp, tanh and tanh-GELU over Float32Arrays, written as branch-free loops the compiler vectorises;
// on x86-64 Linux each loop is compiled for AVX-512, AVX2 and the baseline, picked at load time (target_clones).
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "synth2.h"

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

static inline float bits_to_float(int32_t i) {
  float f;
  memcpy(&f, &i, sizeof f);
  return f;
}

// exp(x) = 2^n · e^r with n = round(x / ln 2) and |r| <= ln(2)/2; e^r by a degree-6 polynomial (about 1 ulp).
static inline float exp_approx(float x) {
  const float hi = 88.3762626647949f, lo = -87.3365478515625f;
  const float xc = x > hi ? hi : (x < lo ? lo : x);
  const float shifter = 12582912.f;  // 1.5·2^23: adding and subtracting it rounds to an integer
  const float t = xc * 1.44269504088896341f + shifter;
  const float n = t - shifter;
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * r * r + r + 1.f;
  const float scale = bits_to_float(((int32_t)n + 127) << 23);
  const float y = p * scale;
  return x < lo ? 0.f : (x > hi ? INFINITY : y);
}

// tanh(x) as a rational function x·P(x²)/Q(x²) on [-7.9053, 7.9053] (±1 beyond), about 2 ulp; tanh(x) = x for
// |x| < 4e-4.
static inline float tanh_approx(float x) {
  const float bound = 7.90531110763549805f;
  const float xc = x > bound ? bound : (x < -bound ? -bound : x);
  const float x2 = xc * xc;
  float p = -2.76076847742355e-16f;
  p = p * x2 + 2.00018790482477e-13f;
  p = p * x2 + -8.60467152213735e-11f;
  p = p * x2 + 5.12229709037114e-08f;
  p = p * x2 + 1.48572235717979e-05f;
  p = p * x2 + 6.37261928875436e-04f;
  p = p * x2 + 4.89352455891786e-03f;
  p = p * xc;
  float q = 1.19825839466702e-06f;
  q = q * x2 + 1.18534705686654e-04f;
  q = q * x2 + 2.26843463243900e-03f;
  q = q * x2 + 4.89352518554385e-03f;
  const float y = p / q;
  return fabsf(x) < 4e-4f ? x : y;
}

CLONES static void exp_loop(const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = exp_approx(x[i]);
}

CLONES static void tanh_loop(const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = tanh_approx(x[i]);
}

CLONES static void gelu_tanh_loop(const float *x, float *y, size_t n) {
  const float c = 0.7978845608028654f;  // sqrt(2/pi)
  for (size_t i = 0; i < n; i++) {
    const float v = x[i];
    y[i] = 0.5f * v * (1.f + tanh_approx(c * (v + 0.044715f * v * v * v)));
  }
}

static bool unary_args(napi_env env, napi_callback_info info, const char *fn, float **x, float **y, size_t *len) {
  napi_value argv[2];
  size_t lx, ly;
  if (!synth2_args(env, info, fn, 2, argv)) return false;
  if (!synth2_f32(env, argv[0], x, &lx, "x") || !synth2_f32(env, argv[1], y, &ly, "y")) return false;
  if (lx != ly) {
    char msg[160];
    snprintf(msg, sizeof msg, "synth2_native.%s: x and y must have the same length (%zu vs %zu)", fn, lx, ly);
    napi_throw_range_error(env, NULL, msg);
    return false;
  }
  *len = lx;
  return true;
}

static napi_value Exp(napi_env env, napi_callback_info info) {
  float *x, *y;
  size_t n;
  if (unary_args(env, info, "exp", &x, &y, &n)) exp_loop(x, y, n);
  return NULL;
}

static napi_value Tanh(napi_env env, napi_callback_info info) {
  float *x, *y;
  size_t n;
  if (unary_args(env, info, "tanh", &x, &y, &n)) tanh_loop(x, y, n);
  return NULL;
}

static napi_value GeluTanh(napi_env env, napi_callback_info info) {
  float *x, *y;
  size_t n;
  if (unary_args(env, info, "geluTanh", &x, &y, &n)) gelu_tanh_loop(x, y, n);
  return NULL;
}

SYNTH2_REGISTRAR(elementwise) {
  synth2_export(env, exports, "exp", Exp);
  synth2_export(env, exports, "tanh", Tanh);
  synth2_export(env, exports, "geluTanh", GeluTanh);
}
