// Copyright 2026 The bouncekit authors.
//
// libFuzzer target: the strict JSON parser and the ESP event mappings.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "bouncekit/esp_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view in(reinterpret_cast<const char*>(data), size);
  (void)bouncekit::ParseJson(in);
  std::vector<absl::string_view> records = {in};
  bouncekit::ParseBatch b = bouncekit::ParseEspJson(records, "auto");
  if (b.records != 1 ||
      b.records_with_events + static_cast<int64_t>(b.errors.size()) + b.records_skipped != 1) {
    __builtin_trap();
  }
  return 0;
}
