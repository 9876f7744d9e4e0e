# node-gyp build of the native oneDNN backend (C++17 N-API addon over the system's libdnnl).
{
  "targets": [
    {
      "target_name": "hourglass_native",
      "sources": [
        "src/addon.cc",
        "src/conv.cc",
        "src/gemm.cc",
        "src/batchnorm.cc",
        "src/elementwise.cc",
        "src/pool.cc",
        "src/reduce.cc",
        "src/optim.cc",
        "src/infer.cc",
        "src/precision.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++1y"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp", "-Wall", "-Wno-unused-parameter"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"]
    }
  ]
}
