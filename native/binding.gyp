{
  "targets": [
    {
      "target_name": "aiolo_native",
      "sources": ["src/native.c", "src/udp.c", "src/timer.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
