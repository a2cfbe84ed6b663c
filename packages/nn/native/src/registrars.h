// How the addon's functions reach JavaScript. Every source file in native/src that exports functions defines one
// registrar with SYNTH2_REGISTRAR(name) { ... }: a function `void synth2_register_<name>(napi_env, napi_value exports)`
// that adds its properties to `exports` (see synth2_export in synth2.h). The macro also records the registrar in a
// process-wide table before the module loads (a constructor), and the module's init (module.c) calls every recorded
// registrar in name order. So a new file registers itself: add it to native/src and binding.gyp compiles it (every
// .c/.cc file there is listed automatically); nothing else is edited.
//
// Files compiled for one instruction set (kernels with __attribute__((target(...)))) must not define registrars:
// only code that runs on any x86-64 may run before the CPU check.
#ifndef SYNTH2_REGISTRARS_H
#define SYNTH2_REGISTRARS_H

#include <node_api.h>

#ifdef __cplusplus
#define SYNTH2_EXTERN_C extern "C"
#else
#define SYNTH2_EXTERN_C
#endif

typedef void (*synth2_registrar_fn)(napi_env env, napi_value exports);

/** Records a registrar (called by SYNTH2_REGISTRAR's constructor; at most SYNTH2_MAX_REGISTRARS). */
SYNTH2_EXTERN_C void synth2_add_registrar(const char *name, synth2_registrar_fn fn);

#define SYNTH2_MAX_REGISTRARS 64

#define SYNTH2_REGISTRAR(name)                                                                        \
  SYNTH2_EXTERN_C void synth2_register_##name(napi_env env, napi_value exports);                      \
  __attribute__((constructor)) static void synth2_record_##name(void) {                               \
    synth2_add_registrar(#name, synth2_register_##name);                                              \
  }                                                                                                   \
  SYNTH2_EXTERN_C void synth2_register_##name(napi_env env, napi_value exports)

#endif
