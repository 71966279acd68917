// Copyright 2026 The bouncekit authors.
//
// Helpers shared by the fuzz targets (header only; not a target itself):
// reading whole files, and cutting a fuzz input into fields.

#ifndef BOUNCEKIT_TESTS_FUZZ_FUZZ_INPUT_H_
#define BOUNCEKIT_TESTS_FUZZ_FUZZ_INPUT_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace bouncekit_fuzz {

inline std::string ReadFileOrDie(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "fuzz: cannot open %s\n", path);
    std::abort();
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Splits `data` at every `sep` byte.
inline std::vector<absl::string_view> Split(absl::string_view data, char sep) {
  std::vector<absl::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= data.size(); ++i) {
    if (i == data.size() || data[i] == sep) {
      out.push_back(data.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// Aborts with a message: a broken invariant is a finding like a crash.
#define BK_FUZZ_CHECK(cond)                                                  \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond,     \
                   __FILE__, __LINE__);                                      \
      std::abort();                                                          \
    }                                                                        \
  } while (0)

}  // namespace bouncekit_fuzz

#endif  // BOUNCEKIT_TESTS_FUZZ_FUZZ_INPUT_H_
