// Shared helpers for the addon's N-API functions: argument checks that throw a JS TypeError/RangeError naming the
// argument (callers return NULL right after a false), and synth2_export to add a function to `exports`.
#ifndef SYNTH2_H
#define SYNTH2_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "registrars.h"

#define SYNTH2_CHECK(call)                                              \
  do {                                                                  \
    if ((call) != napi_ok) {                                            \
      napi_throw_error(env, NULL, "synth2_native: N-API call failed");  \
      return NULL;                                                      \
    }                                                                   \
  } while (0)

static inline void synth2_export(napi_env env, napi_value exports, const char *name, napi_callback fn) {
  napi_value f;
  if (napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f) == napi_ok)
    napi_set_named_property(env, exports, name, f);
}

/** Reads the call's arguments; throws "<fn>: expected <want> arguments" unless exactly `want` were passed. */
static inline bool synth2_args(napi_env env, napi_callback_info info, const char *fn, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != want) {
    char msg[160];
    snprintf(msg, sizeof msg, "synth2_native.%s: expected %zu arguments", fn, want);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  return true;
}

static inline bool synth2_f32(napi_env env, napi_value v, float **data, size_t *len, const char *what) {
  bool is_ta = false;
  napi_typedarray_type type;
  void *ptr = NULL;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, v, &type, len, &ptr, NULL, NULL) != napi_ok || type != napi_float32_array) {
    char msg[160];
    snprintf(msg, sizeof msg, "synth2_native: %s must be a Float32Array", what);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  *data = (float *)ptr;
  return true;
}

static inline bool synth2_i32s(napi_env env, napi_value v, int32_t **data, size_t *len, const char *what) {
  bool is_ta = false;
  napi_typedarray_type type;
  void *ptr = NULL;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, v, &type, len, &ptr, NULL, NULL) != napi_ok || type != napi_int32_array) {
    char msg[160];
    snprintf(msg, sizeof msg, "synth2_native: %s must be an Int32Array", what);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  *data = (int32_t *)ptr;
  return true;
}

static inline bool synth2_i64(napi_env env, napi_value v, int64_t *out, const char *what) {
  if (napi_get_value_int64(env, v, out) != napi_ok) {
    char msg[160];
    snprintf(msg, sizeof msg, "synth2_native: %s must be a number", what);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  return true;
}

static inline bool synth2_f64(napi_env env, napi_value v, double *out, const char *what) {
  if (napi_get_value_double(env, v, out) != napi_ok) {
    char msg[160];
    snprintf(msg, sizeof msg, "synth2_native: %s must be a number", what);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  return true;
}

static inline bool synth2_bool(napi_env env, napi_value v, bool *out, const char *what) {
  if (napi_get_value_bool(env, v, out) != napi_ok) {
    char msg[160];
    snprintf(msg, sizeof msg, "synth2_native: %s must be a boolean", what);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  return true;
}

static inline bool synth2_string(napi_env env, napi_value v, char *buf, size_t cap, const char *what) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, buf, cap, &len) != napi_ok) {
    char msg[160];
    snprintf(msg, sizeof msg, "synth2_native: %s must be a string", what);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  return true;
}

#endif
