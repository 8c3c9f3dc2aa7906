// CHECK for the harnesses: a property that does not hold prints where and aborts, which
// libFuzzer (and run.sh) report as a crash with the input saved.
#pragma once

#include <cstdio>
#include <cstdlib>

#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "fuzz: check failed at line %d: %s\n", __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)
