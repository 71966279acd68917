// Copyright 2026 The bouncekit authors.
//
// Fuzz target: the CSV writer's field encoding. Fields cut from the input (at
// 0x1f) are written as one record with AppendCsvField and read back with a
// small RFC 4180 reader written here; the record must come back byte for
// byte, and a field is quoted exactly when SPEC.md section 5 says so.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "bouncekit/csv_writer.h"
#include "fuzz_input.h"

namespace {

bool NeedsQuotes(absl::string_view f) {
  return f.find_first_of(",\"\r\n") != absl::string_view::npos;
}

// Reads one record of `line` (the whole string); false on malformed input.
bool ReadRecord(absl::string_view line, std::vector<std::string>* out) {
  out->clear();
  size_t i = 0;
  const size_t n = line.size();
  while (true) {
    std::string field;
    if (i < n && line[i] == '"') {
      ++i;
      while (true) {
        if (i >= n) return false;
        if (line[i] == '"') {
          if (i + 1 < n && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += line[i++];
      }
    } else {
      while (i < n && line[i] != ',') {
        if (line[i] == '"' || line[i] == '\n' || line[i] == '\r') return false;
        field += line[i++];
      }
    }
    out->push_back(std::move(field));
    if (i == n) return true;
    if (line[i] != ',') return false;
    ++i;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<absl::string_view> fields = bouncekit_fuzz::Split(input, '\x1f');
  std::string line;
  for (size_t k = 0; k < fields.size(); ++k) {
    if (k > 0) line += ',';
    const size_t before = line.size();
    bouncekit::AppendCsvField(fields[k], &line);
    const absl::string_view written = absl::string_view(line).substr(before);
    const bool quoted = !written.empty() && written[0] == '"';
    BK_FUZZ_CHECK(quoted == NeedsQuotes(fields[k]));
  }
  std::vector<std::string> back;
  BK_FUZZ_CHECK(ReadRecord(line, &back));
  BK_FUZZ_CHECK(back.size() == fields.size());
  for (size_t k = 0; k < fields.size(); ++k) BK_FUZZ_CHECK(back[k] == fields[k]);
  return 0;
}
