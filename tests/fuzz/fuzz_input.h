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
#include "bouncekit/parse.h"

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

// Every field of two events but `record` (batches number records their own way).
inline bool SameEvent(const bouncekit::BounceEvent& a, const bouncekit::BounceEvent& b) {
  return a.offset == b.offset && a.reply_code == b.reply_code && a.kind == b.kind && a.recipient == b.recipient &&
         a.time == b.time && a.message_id == b.message_id && a.enhanced_status == b.enhanced_status &&
         a.diagnostic == b.diagnostic && a.diagnostic_type == b.diagnostic_type && a.action == b.action &&
         a.remote_host == b.remote_host && a.smtp_command == b.smtp_command && a.source_format == b.source_format &&
         a.sender == b.sender && a.campaign == b.campaign && a.esp_event == b.esp_event &&
         a.esp_class == b.esp_class && a.esp_subclass == b.esp_subclass;
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
