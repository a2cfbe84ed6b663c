{
  "targets": [
    {
      "target_name": "synth2_native",
      "sources": ["src/synth2_native.c"],
      "libraries": ["-lopenblas", "-lm"],
      "cflags": ["-O3", "-march=native", "-ffast-math", "-fopenmp-simd", "-std=c11"],
      "cflags!": ["-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
