// Copyright 2026 The bouncekit authors.
//
// Fuzz target: the Parquet reader. The input is taken as a whole file: the
// footer is parsed, and every column chunk of every row group decoded (both
// as string views and, for strings, as a dictionary). Any result is fine
// except a crash, a sanitizer report or a hang; a decoded column must also
// keep its promises (length = the row group's rows, views inside their
// buffers, valid rows' dictionary indices inside the dictionary).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "absl/strings/string_view.h"
#include "bouncekit/parquet.h"

namespace pq = bouncekit::parquet;

namespace {

void Check(const pq::Column& c, int64_t rows) {
  if (c.length != rows) std::abort();
  if (c.null_count < 0 || c.null_count > rows) std::abort();
  if (c.kind == pq::Column::Kind::kStringViews) {
    if (c.views.size() != static_cast<size_t>(rows) * 16) std::abort();
    for (int64_t i = 0; i < rows; ++i) {
      const uint8_t* v = c.views.as<uint8_t>() + 16 * i;
      int32_t len, buf, off;
      std::memcpy(&len, v, 4);
      if (len < 0) std::abort();
      if (len <= 12) continue;
      std::memcpy(&buf, v + 8, 4);
      std::memcpy(&off, v + 12, 4);
      if (buf < 0 || static_cast<size_t>(buf) >= c.buffers.size()) std::abort();
      const pq::Buffer& b = c.buffers[buf];
      if (off < 0 || static_cast<size_t>(off) + static_cast<size_t>(len) > b.size()) std::abort();
      if (std::memcmp(b.data() + off, v + 4, 4) != 0) std::abort();  // the prefix is the data's
    }
  } else if (c.kind == pq::Column::Kind::kStringDictionary) {
    const size_t n = c.dict_offsets.size();
    if (n == 0 || c.indices.size() != static_cast<size_t>(rows) * 4) std::abort();
    // A null row holds index 0, which is outside the dictionary when that is
    // empty (a row group whose values are all null); Arrow only asks valid
    // rows' indices to be inside it.
    const uint8_t* valid = c.validity.empty() ? nullptr : c.validity.as<uint8_t>();
    for (int64_t i = 0; i < rows; ++i) {
      const int32_t k = c.indices.as<int32_t>()[i];
      if (valid != nullptr && ((valid[i >> 3] >> (i & 7)) & 1) == 0) {
        if (k != 0) std::abort();
        continue;
      }
      if (k < 0 || static_cast<size_t>(k) + 1 >= n) std::abort();
    }
    if (static_cast<size_t>(c.dict_offsets.back()) != c.dict_data.size()) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view file(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<pq::FileInfo> info = pq::ReadFileInfo(file);
  if (!info.ok()) return 0;
  pq::BufferPool pool;
  int64_t budget = 1 << 22;  // rows decoded per input, so that one input stays fast
  for (size_t g = 0; g < info->row_groups.size(); ++g) {
    const int64_t rows = info->row_groups[g].num_rows;
    for (size_t c = 0; c < info->columns.size(); ++c) {
      budget -= rows;
      if (budget < 0) return 0;
      for (bool dict : {false, true}) {
        absl::StatusOr<pq::Column> col = pq::ReadColumn(file, *info, static_cast<int>(g), static_cast<int>(c),
                                                        dict, &pool);
        if (col.ok()) Check(*col, rows);
      }
    }
  }
  return 0;
}
