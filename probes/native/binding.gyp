{
  "targets": [
    {
      "target_name": "sysread",
      "sources": ["sysread.c"],
      "cflags": ["-Wall", "-Wextra", "-O2", "-pthread"],
      "ldflags": ["-pthread"]
    }
  ]
}
