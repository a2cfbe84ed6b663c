{
  "targets": [
    {
      "target_name": "synth2_native",
      "sources": [
        "<!@(node -e \"const fs=require('fs');for(const f of fs.readdirSync('src').sort())if(/\\.(c|cc|cpp)$/.test(f))console.log('src/'+f)\")"
      ],
      "include_dirs": ["src"],
      "cflags": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-fvisibility=hidden", "-pthread"],
      "cflags_c": ["-std=gnu11"],
      "cflags_cc": ["-std=gnu++17"],
      "cflags!": ["-O2"],
      "ldflags": ["-pthread"],
      "libraries": ["-lm"],
      "defines": ["NAPI_VERSION=8"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-O3", "-fno-math-errno", "-fno-trapping-math"]
      }
    }
  ]
}
