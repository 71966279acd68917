// Copyright 2026 The bouncekit authors.
//
// libFuzzer target: Postfix / Exim log lines. The input is split into lines;
// every line must be accounted for (events + errors + skipped).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "bouncekit/maillog.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<absl::string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i <= in.size(); ++i) {
    if (i == in.size() || in[i] == '\n') {
      lines.push_back(in.substr(start, i - start));
      start = i + 1;
    }
  }
  for (absl::string_view format : {"auto", "postfix", "exim"}) {
    bouncekit::ParseBatch b = bouncekit::ParseMailLog(lines, format);
    if (b.records != static_cast<int64_t>(lines.size()) ||
        b.records != b.records_with_events + static_cast<int64_t>(b.errors.size()) +
                         b.records_skipped) {
      __builtin_trap();
    }
  }
  return 0;
}
