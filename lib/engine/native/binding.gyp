{
  "targets": [
    {
      "target_name": "hyperlab_native",
      "sources": ["sgemm.cc", "conv.cc", "fused.cc", "small.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-O3", "-fno-math-errno", "-fexceptions", "-std=c++17"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["-lopenblas"]
    }
  ]
}
