// The addon's entry point: calls every registrar recorded by SYNTH2_REGISTRAR (see registrars.h), in name order.
#include <stdlib.h>
#include <string.h>

#include "synth2.h"

typedef struct {
  const char *name;
  synth2_registrar_fn fn;
} registrar_entry;

static registrar_entry registry[SYNTH2_MAX_REGISTRARS];
static int registry_len = 0;
static int registry_overflow = 0;

void synth2_add_registrar(const char *name, synth2_registrar_fn fn) {
  if (registry_len >= SYNTH2_MAX_REGISTRARS) {
    registry_overflow = 1;
    return;
  }
  registry[registry_len].name = name;
  registry[registry_len].fn = fn;
  registry_len++;
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const registrar_entry *)a)->name, ((const registrar_entry *)b)->name);
}

static napi_value Init(napi_env env, napi_value exports) {
  if (registry_overflow) {
    napi_throw_error(env, NULL, "synth2_native: more registrars than SYNTH2_MAX_REGISTRARS; raise it in registrars.h");
    return NULL;
  }
  qsort(registry, (size_t)registry_len, sizeof registry[0], by_name);
  for (int i = 0; i < registry_len; i++) registry[i].fn(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
