// Fused training ops on Float32Arrays of the wasm heap (in place, no copies), each the whole of a chain of small
// tfjs kernels: attention over short sequences (forward; backward recomputing the weights), LayerNorm forward and
// backward, weighted softmax cross-entropy forward and backward, tanh-GELU forward and backward, the AdamW update. The TypeScript side (src/tf/kernels/fused-*.ts)
// has the same computations in JS for when the addon is absent. Hot loops are compiled for AVX-512, AVX2 and the
// baseline on x86-64 Linux (target_clones); dot products use 8 independent partial sums so they vectorise without
// reassociating float math.
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "synth2.h"
#include "threadpool.h"

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

#define MASKED (-1e9f)

static inline float f_from_bits(int32_t i) {
  float f;
  memcpy(&f, &i, sizeof f);
  return f;
}

// exp(x) = 2^n · e^r, n = round(x / ln 2), |r| <= ln(2)/2, e^r by a degree-6 polynomial (about 1 ulp); branch-free
// so loops over it vectorise (as elementwise.c's)
static inline float fexp(float x) {
  const float hi = 88.3762626647949f, lo = -87.3365478515625f;
  const float xc = x > hi ? hi : (x < lo ? lo : x);
  const float shifter = 12582912.f;
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
  const float y = p * f_from_bits(((int32_t)n + 127) << 23);
  return x < lo ? 0.f : (x > hi ? INFINITY : y);
}

static inline float dot8(const float *a, const float *b, int n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int c = 0;
  for (; c + 8 <= n; c += 8)
    for (int l = 0; l < 8; l++) acc[l] += a[c + l] * b[c + l];
  float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; c < n; c++) s += a[c] * b[c];
  return s;
}

static inline void axpy(float *y, float a, const float *x, int n) {
  for (int c = 0; c < n; c++) y[c] += a * x[c];
}

// ---- attention --------------------------------------------------------------------------------------------------
typedef struct {
  int B, Tq, Tk, H, hd, causal, has_mask;
  float scale;
  const float *q, *k, *v, *mask, *dout;
  float *out, *dq, *dk, *dv;
} attention_args;

// softmax(q·kᵀ·scale + mask) of one batch row and head into p [Tq, Tk]
CLONES static void attention_weights(const attention_args *a, int b, int h, float *p) {
  const int d = a->H * a->hd, hd = a->hd, Tq = a->Tq, Tk = a->Tk;
  for (int i = 0; i < Tq; i++) {
    const float *qi = a->q + ((size_t)b * Tq + i) * d + (size_t)h * hd;
    float *pi = p + (size_t)i * Tk;
    float max = -INFINITY;
    for (int j = 0; j < Tk; j++) {
      float bias = 0.f;
      if (a->has_mask) bias += (1.f - a->mask[(size_t)b * Tk + j]) * MASKED;
      if (a->causal && j > i) bias += MASKED;
      const float s = dot8(qi, a->k + ((size_t)b * Tk + j) * d + (size_t)h * hd, hd) * a->scale + bias;
      pi[j] = s;
      if (s > max) max = s;
    }
    float sum = 0.f;
    for (int j = 0; j < Tk; j++) {
      pi[j] = fexp(pi[j] - max);
      sum += pi[j];
    }
    const float inv = 1.f / sum;
    for (int j = 0; j < Tk; j++) pi[j] *= inv;
  }
}

CLONES static void attention_forward_row(void *ctx, int b, int thread) {
  (void)thread;
  const attention_args *a = (const attention_args *)ctx;
  const int d = a->H * a->hd, hd = a->hd, Tq = a->Tq, Tk = a->Tk;
  float *p = (float *)malloc(sizeof(float) * (size_t)Tq * Tk);
  if (!p) return;
  for (int h = 0; h < a->H; h++) {
    attention_weights(a, b, h, p);
    for (int i = 0; i < Tq; i++) {
      float *oi = a->out + ((size_t)b * Tq + i) * d + (size_t)h * hd;
      memset(oi, 0, sizeof(float) * hd);
      for (int j = 0; j < Tk; j++) axpy(oi, p[(size_t)i * Tk + j], a->v + ((size_t)b * Tk + j) * d + (size_t)h * hd, hd);
    }
  }
  free(p);
}

CLONES static void attention_backward_row(void *ctx, int b, int thread) {
  (void)thread;
  const attention_args *a = (const attention_args *)ctx;
  const int d = a->H * a->hd, hd = a->hd, Tq = a->Tq, Tk = a->Tk;
  float *p = (float *)malloc(sizeof(float) * 2 * (size_t)Tq * Tk);
  if (!p) return;
  float *ds = p + (size_t)Tq * Tk;
  for (int j = 0; j < Tk; j++) {
    memset(a->dk + ((size_t)b * Tk + j) * d, 0, sizeof(float) * d);
    memset(a->dv + ((size_t)b * Tk + j) * d, 0, sizeof(float) * d);
  }
  for (int h = 0; h < a->H; h++) {
    attention_weights(a, b, h, p);
    for (int i = 0; i < Tq; i++) {
      const float *doi = a->dout + ((size_t)b * Tq + i) * d + (size_t)h * hd;
      float dot = 0.f;
      for (int j = 0; j < Tk; j++) {
        const size_t row = ((size_t)b * Tk + j) * d + (size_t)h * hd;
        const float w = p[(size_t)i * Tk + j];
        const float dp = dot8(doi, a->v + row, hd);
        axpy(a->dv + row, w, doi, hd);
        ds[(size_t)i * Tk + j] = dp;
        dot += w * dp;
      }
      for (int j = 0; j < Tk; j++) ds[(size_t)i * Tk + j] = p[(size_t)i * Tk + j] * (ds[(size_t)i * Tk + j] - dot) * a->scale;
    }
    for (int i = 0; i < Tq; i++) {
      const size_t qrow = ((size_t)b * Tq + i) * d + (size_t)h * hd;
      float *dqi = a->dq + qrow;
      memset(dqi, 0, sizeof(float) * hd);
      for (int j = 0; j < Tk; j++) {
        const size_t krow = ((size_t)b * Tk + j) * d + (size_t)h * hd;
        const float w = ds[(size_t)i * Tk + j];
        axpy(dqi, w, a->k + krow, hd);
        axpy(a->dk + krow, w, a->q + qrow, hd);
      }
    }
  }
  free(p);
}

// dims (Int32Array): B, Tq, Tk, H, hd, causal, hasMask. Checks every array's length against them.
static bool attention_read(napi_env env, napi_value *argv, bool backward, attention_args *a) {
  int32_t *g;
  size_t glen, lq, lk, lv, lm, lo;
  double scale;
  float *q, *k, *v, *mask, *o;
  if (!synth2_i32s(env, argv[0], &g, &glen, "dims") || !synth2_f64(env, argv[1], &scale, "scale") ||
      !synth2_f32(env, argv[2], &q, &lq, "q") || !synth2_f32(env, argv[3], &k, &lk, "k") ||
      !synth2_f32(env, argv[4], &v, &lv, "v") || !synth2_f32(env, argv[5], &mask, &lm, "keyMask") ||
      !synth2_f32(env, argv[6], &o, &lo, backward ? "dout" : "out"))
    return false;
  if (glen != 7 || g[0] < 0 || g[1] < 0 || g[2] <= 0 || g[3] <= 0 || g[4] <= 0) {
    napi_throw_range_error(env, NULL, "synth2_native.attention: dims must be B, Tq, Tk > 0, H > 0, hd > 0, causal, hasMask");
    return false;
  }
  const size_t B = g[0], Tq = g[1], Tk = g[2], d = (size_t)g[3] * g[4];
  if (lq != B * Tq * d || lk != B * Tk * d || lv != B * Tk * d || lo != B * Tq * d || (g[6] && lm != B * Tk)) {
    napi_throw_range_error(env, NULL, "synth2_native.attention: an operand's length does not match dims");
    return false;
  }
  *a = (attention_args){.B = g[0], .Tq = g[1], .Tk = g[2], .H = g[3], .hd = g[4], .causal = g[5], .has_mask = g[6], .scale = (float)scale,
                        .q = q, .k = k, .v = v, .mask = mask};
  if (backward) a->dout = o;
  else a->out = o;
  return true;
}

static napi_value AttentionForward(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  attention_args a;
  if (!synth2_args(env, info, "attentionForward", 7, argv) || !attention_read(env, argv, false, &a)) return NULL;
  synth2_parallel_for(a.B, attention_forward_row, &a);
  return NULL;
}

static napi_value AttentionBackward(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  attention_args a;
  size_t lq, lk, lv;
  if (!synth2_args(env, info, "attentionBackward", 10, argv) || !attention_read(env, argv, true, &a) ||
      !synth2_f32(env, argv[7], &a.dq, &lq, "dq") || !synth2_f32(env, argv[8], &a.dk, &lk, "dk") ||
      !synth2_f32(env, argv[9], &a.dv, &lv, "dv"))
    return NULL;
  const size_t d = (size_t)a.H * a.hd;
  if (lq != (size_t)a.B * a.Tq * d || lk != (size_t)a.B * a.Tk * d || lv != lk) {
    napi_throw_range_error(env, NULL, "synth2_native.attentionBackward: dq, dk, dv must match q, k, v");
    return NULL;
  }
  synth2_parallel_for(a.B, attention_backward_row, &a);
  return NULL;
}

// ---- LayerNorm --------------------------------------------------------------------------------------------------
CLONES static void row_stats(const float *x, int d, float eps, float *mean, float *rstd) {
  float s = 0.f;
  for (int c = 0; c < d; c++) s += x[c];
  const float m = s / (float)d;
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int c = 0;
  for (; c + 8 <= d; c += 8)
    for (int l = 0; l < 8; l++) acc[l] += (x[c + l] - m) * (x[c + l] - m);
  float v = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; c < d; c++) v += (x[c] - m) * (x[c] - m);
  *mean = m;
  *rstd = 1.f / sqrtf(v / (float)d + eps);
}

CLONES static void layer_norm_forward(size_t rows, int d, float eps, const float *x, const float *g, const float *b, float *y) {
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * d;
    float *yr = y + r * d;
    float mean, rstd;
    row_stats(xr, d, eps, &mean, &rstd);
    for (int c = 0; c < d; c++) yr[c] = (xr[c] - mean) * rstd * g[c] + b[c];
  }
}

CLONES static void layer_norm_backward(size_t rows, int d, float eps, const float *x, const float *g, const float *dy, float *dx,
                                       float *dg, float *db) {
  memset(dg, 0, sizeof(float) * d);
  memset(db, 0, sizeof(float) * d);
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * d, *dyr = dy + r * d;
    float *dxr = dx + r * d;
    float mean, rstd;
    row_stats(xr, d, eps, &mean, &rstd);
    float sg = 0.f, sgx = 0.f;
    for (int c = 0; c < d; c++) {
      const float xh = (xr[c] - mean) * rstd;
      const float gd = dyr[c] * g[c];
      sg += gd;
      sgx += gd * xh;
      dg[c] += dyr[c] * xh;
      db[c] += dyr[c];
    }
    sg /= (float)d;
    sgx /= (float)d;
    for (int c = 0; c < d; c++) dxr[c] = rstd * (dyr[c] * g[c] - sg - (xr[c] - mean) * rstd * sgx);
  }
}

static bool ln_sizes(napi_env env, napi_value *argv, int64_t *rows, int64_t *d, double *eps) {
  if (!synth2_i64(env, argv[0], rows, "rows") || !synth2_i64(env, argv[1], d, "d") || !synth2_f64(env, argv[2], eps, "eps")) return false;
  if (*rows < 0 || *d <= 0) {
    napi_throw_range_error(env, NULL, "synth2_native.layerNorm: rows must be >= 0 and d > 0");
    return false;
  }
  return true;
}

static napi_value LayerNormForward(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  int64_t rows, d;
  double eps;
  float *x, *g, *b, *y;
  size_t lx, lg, lb, ly;
  if (!synth2_args(env, info, "layerNormForward", 7, argv) || !ln_sizes(env, argv, &rows, &d, &eps) ||
      !synth2_f32(env, argv[3], &x, &lx, "x") || !synth2_f32(env, argv[4], &g, &lg, "gamma") ||
      !synth2_f32(env, argv[5], &b, &lb, "beta") || !synth2_f32(env, argv[6], &y, &ly, "y"))
    return NULL;
  if (lx != (size_t)(rows * d) || ly != lx || lg != (size_t)d || lb != (size_t)d) {
    napi_throw_range_error(env, NULL, "synth2_native.layerNormForward: x, y must be rows·d and gamma, beta d long");
    return NULL;
  }
  layer_norm_forward((size_t)rows, (int)d, (float)eps, x, g, b, y);
  return NULL;
}

static napi_value LayerNormBackward(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  int64_t rows, d;
  double eps;
  float *x, *g, *dy, *dx, *dg, *db;
  size_t lx, lg, ldy, ldx, ldg, ldb;
  if (!synth2_args(env, info, "layerNormBackward", 9, argv) || !ln_sizes(env, argv, &rows, &d, &eps) ||
      !synth2_f32(env, argv[3], &x, &lx, "x") || !synth2_f32(env, argv[4], &g, &lg, "gamma") ||
      !synth2_f32(env, argv[5], &dy, &ldy, "dy") || !synth2_f32(env, argv[6], &dx, &ldx, "dx") ||
      !synth2_f32(env, argv[7], &dg, &ldg, "dgamma") || !synth2_f32(env, argv[8], &db, &ldb, "dbeta"))
    return NULL;
  if (lx != (size_t)(rows * d) || ldy != lx || ldx != lx || lg != (size_t)d || ldg != lg || ldb != lg) {
    napi_throw_range_error(env, NULL, "synth2_native.layerNormBackward: x, dy, dx must be rows·d and gamma, dgamma, dbeta d long");
    return NULL;
  }
  layer_norm_backward((size_t)rows, (int)d, (float)eps, x, g, dy, dx, dg, db);
  return NULL;
}

// ---- softmax cross-entropy ----------------------------------------------------------------------------------------
CLONES static float log_sum_exp(const float *x, int v) {
  float max = -INFINITY;
  for (int c = 0; c < v; c++) max = x[c] > max ? x[c] : max;
  float s = 0.f;
  for (int c = 0; c < v; c++) s += fexp(x[c] - max);
  return max + logf(s);
}

static double total_weight(const float *w, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += w[i];
  return s > 1e-12 ? s : 1e-12;
}

static bool ce_read(napi_env env, napi_value *argv, int first, int64_t n, int64_t v, float **logits, int32_t **targets, float **w) {
  size_t ll, lt, lw;
  if (!synth2_f32(env, argv[first], logits, &ll, "logits") || !synth2_i32s(env, argv[first + 1], targets, &lt, "targets") ||
      !synth2_f32(env, argv[first + 2], w, &lw, "weights"))
    return false;
  if (n < 0 || v <= 0 || ll != (size_t)(n * v) || lt != (size_t)n || lw != (size_t)n) {
    napi_throw_range_error(env, NULL, "synth2_native.crossEntropy: logits must be n·v, targets and weights n long");
    return false;
  }
  for (int64_t i = 0; i < n; i++)
    if ((*targets)[i] < 0 || (*targets)[i] >= v) {
      napi_throw_range_error(env, NULL, "synth2_native.crossEntropy: a target is outside [0, v)");
      return false;
    }
  return true;
}

static napi_value CrossEntropyForward(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int64_t n, v;
  float *logits, *w, *loss;
  int32_t *t;
  size_t ll;
  if (!synth2_args(env, info, "crossEntropyForward", 6, argv) || !synth2_i64(env, argv[0], &n, "n") ||
      !synth2_i64(env, argv[1], &v, "v") || !ce_read(env, argv, 2, n, v, &logits, &t, &w) ||
      !synth2_f32(env, argv[5], &loss, &ll, "loss"))
    return NULL;
  if (ll != 1) {
    napi_throw_range_error(env, NULL, "synth2_native.crossEntropyForward: loss must hold 1 value");
    return NULL;
  }
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += (double)w[i] * (logits[i * v + t[i]] - log_sum_exp(logits + i * v, (int)v));
  loss[0] = (float)(-s / total_weight(w, (size_t)n));
  return NULL;
}

CLONES static void ce_row_grad(const float *x, int v, float lse, float scale, float *dx) {
  for (int c = 0; c < v; c++) dx[c] = scale * fexp(x[c] - lse);
}

static napi_value CrossEntropyBackward(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  int64_t n, v;
  double dy;
  float *logits, *w, *dl, *dw;
  int32_t *t;
  size_t ldl, ldw;
  if (!synth2_args(env, info, "crossEntropyBackward", 8, argv) || !synth2_i64(env, argv[0], &n, "n") ||
      !synth2_i64(env, argv[1], &v, "v") || !synth2_f64(env, argv[2], &dy, "dy") || !ce_read(env, argv, 3, n, v, &logits, &t, &w) ||
      !synth2_f32(env, argv[6], &dl, &ldl, "dlogits") || !synth2_f32(env, argv[7], &dw, &ldw, "dweights"))
    return NULL;
  if (ldl != (size_t)(n * v) || ldw != (size_t)n) {
    napi_throw_range_error(env, NULL, "synth2_native.crossEntropyBackward: dlogits must be n·v and dweights n long");
    return NULL;
  }
  const double W = total_weight(w, (size_t)n);
  double loss = 0;
  for (int64_t i = 0; i < n; i++) {
    const float *xi = logits + i * v;
    const float lse = log_sum_exp(xi, (int)v);
    const float picked = xi[t[i]] - lse;
    loss -= (double)w[i] * picked;
    const float scale = (float)(dy * w[i] / W);
    ce_row_grad(xi, (int)v, lse, scale, dl + i * v);
    dl[i * v + t[i]] -= scale;
    dw[i] = picked;  // finished below, once the loss is known
  }
  loss /= W;
  const int clamped = W == 1e-12;
  for (int64_t i = 0; i < n; i++) dw[i] = (float)(dy * (-dw[i] - (clamped ? 0 : loss)) / W);
  return NULL;
}

// ---- tanh-GELU ----------------------------------------------------------------------------------------------------
#define GELU_C 0.7978845608028654f
#define GELU_A 0.044715f

// tanh(u) = 1 − 2/(e^{2u} + 1), clamped where e^{2u} would overflow
static inline float tanh_exp(float u) {
  u = u > 15.f ? 15.f : (u < -15.f ? -15.f : u);
  return 1.f - 2.f / (fexp(2.f * u) + 1.f);
}

CLONES static void gelu_forward(const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const float v = x[i];
    y[i] = 0.5f * v * (1.f + tanh_exp(GELU_C * (v + GELU_A * v * v * v)));
  }
}

CLONES static void gelu_backward(const float *x, const float *dy, float *dx, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const float v = x[i];
    const float t = tanh_exp(GELU_C * (v + GELU_A * v * v * v));
    dx[i] = dy[i] * (0.5f * (1.f + t) + 0.5f * v * (1.f - t * t) * GELU_C * (1.f + 3.f * GELU_A * v * v));
  }
}

static napi_value GeluForward(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  float *x, *y;
  size_t lx, ly;
  if (!synth2_args(env, info, "geluForward", 2, argv) || !synth2_f32(env, argv[0], &x, &lx, "x") || !synth2_f32(env, argv[1], &y, &ly, "y"))
    return NULL;
  if (lx != ly) {
    napi_throw_range_error(env, NULL, "synth2_native.geluForward: x and y must have the same length");
    return NULL;
  }
  gelu_forward(x, y, lx);
  return NULL;
}

static napi_value GeluBackward(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  float *x, *dy, *dx;
  size_t lx, ldy, ldx;
  if (!synth2_args(env, info, "geluBackward", 3, argv) || !synth2_f32(env, argv[0], &x, &lx, "x") ||
      !synth2_f32(env, argv[1], &dy, &ldy, "dy") || !synth2_f32(env, argv[2], &dx, &ldx, "dx"))
    return NULL;
  if (lx != ldy || lx != ldx) {
    napi_throw_range_error(env, NULL, "synth2_native.geluBackward: x, dy and dx must have the same length");
    return NULL;
  }
  gelu_backward(x, dy, dx, lx);
  return NULL;
}

// ---- AdamW update --------------------------------------------------------------------------------------------------
CLONES static void adamw(size_t n, const float *h, const float *p, const float *g, const float *m, const float *v, float *po, float *mo,
                         float *vo) {
  const float lr = h[0], b1 = h[1], b2 = h[2], c1 = h[3], c2 = h[4], eps = h[5], decay = h[6], gs = h[7];
  for (size_t i = 0; i < n; i++) {
    const float gi = g[i] * gs;
    const float mi = b1 * m[i] + (1.f - b1) * gi;
    const float vi = b2 * v[i] + (1.f - b2) * gi * gi;
    mo[i] = mi;
    vo[i] = vi;
    po[i] = p[i] - lr * ((mi * c1) / (sqrtf(vi * c2) + eps) + decay * p[i]);
  }
}

// adamW(hyper [lr, beta1, beta2, c1, c2, eps, decay, gradScale], param, grad, m, v, paramOut, mOut, vOut)
static napi_value AdamW(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  float *a[8];
  size_t len[8];
  static const char *names[8] = {"hyper", "param", "grad", "m", "v", "paramOut", "mOut", "vOut"};
  if (!synth2_args(env, info, "adamW", 8, argv)) return NULL;
  for (int i = 0; i < 8; i++)
    if (!synth2_f32(env, argv[i], &a[i], &len[i], names[i])) return NULL;
  for (int i = 2; i < 8; i++)
    if (len[i] != len[1] || len[0] != 8) {
      napi_throw_range_error(env, NULL, "synth2_native.adamW: hyper must hold 8 values and the other arrays one length");
      return NULL;
    }
  adamw(len[1], a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
  return NULL;
}

SYNTH2_REGISTRAR(fused) {
  synth2_export(env, exports, "attentionForward", AttentionForward);
  synth2_export(env, exports, "attentionBackward", AttentionBackward);
  synth2_export(env, exports, "layerNormForward", LayerNormForward);
  synth2_export(env, exports, "layerNormBackward", LayerNormBackward);
  synth2_export(env, exports, "crossEntropyForward", CrossEntropyForward);
  synth2_export(env, exports, "crossEntropyBackward", CrossEntropyBackward);
  synth2_export(env, exports, "geluForward", GeluForward);
  synth2_export(env, exports, "geluBackward", GeluBackward);
  synth2_export(env, exports, "adamW", AdamW);
}
