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

bool Valid(const pq::Column& c, int64_t i) {
  return c.validity.empty() || ((c.validity.as<uint8_t>()[i >> 3] >> (i & 7)) & 1) != 0;
}

// Row i's string of a checked string column (views or dictionary).
absl::string_view RowString(const pq::Column& c, int64_t i) {
  if (c.kind == pq::Column::Kind::kStringDictionary) {
    const int32_t k = c.indices.as<int32_t>()[i];
    return absl::string_view(c.dict_data).substr(c.dict_offsets[k], c.dict_offsets[k + 1] - c.dict_offsets[k]);
  }
  const uint8_t* v = c.views.as<uint8_t>() + 16 * i;
  int32_t len, buf, off;
  std::memcpy(&len, v, 4);
  if (len <= 12) return absl::string_view(reinterpret_cast<const char*>(v + 4), len);
  std::memcpy(&buf, v + 8, 4);
  std::memcpy(&off, v + 12, 4);
  return absl::string_view(c.buffers[buf].data() + off, len);
}

// A chunk read as views and read asking for a dictionary holds the same
// rows (the dictionary path defers or skips the views it builds).
void SameRows(const pq::Column& a, const pq::Column& b, int64_t rows) {
  if (a.null_count != b.null_count) std::abort();
  const bool strings = a.kind == pq::Column::Kind::kStringViews;
  const size_t width = a.kind == pq::Column::Kind::kInt32 ? 4 : 8;
  if (!strings && (b.kind != a.kind || a.values.size() != b.values.size())) std::abort();
  for (int64_t i = 0; i < rows; ++i) {
    if (Valid(a, i) != Valid(b, i)) std::abort();
    if (!Valid(a, i)) continue;
    if (strings ? RowString(a, i) != RowString(b, i)
                : std::memcmp(a.values.data() + width * i, b.values.data() + width * i, width) != 0) {
      std::abort();
    }
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
      absl::StatusOr<pq::Column> read[2];
      for (bool dict : {false, true}) {
        absl::StatusOr<pq::Column>& col = read[dict ? 1 : 0];
        col = pq::ReadColumn(file, *info, static_cast<int>(g), static_cast<int>(c), dict, &pool);
        if (col.ok()) Check(*col, rows);
      }
      if (read[0].ok() && read[1].ok()) SameRows(*read[0], *read[1], rows);
    }
  }
  return 0;
}
