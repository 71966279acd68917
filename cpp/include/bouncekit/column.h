// Copyright 2026 The bouncekit authors.
//
// Non-owning views over columns laid out as Arrow arrays (the memory the
// Arrow C Data Interface hands over), so that batch APIs read pandas/Arrow/
// Polars data without copying. A view never owns its buffers: whoever built
// it keeps them alive for the view's lifetime.

#ifndef BOUNCEKIT_COLUMN_H_
#define BOUNCEKIT_COLUMN_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/strings/string_view.h"

namespace bouncekit {

inline bool ArrowBitIsSet(const uint8_t* bits, int64_t i) {
  return (bits[i >> 3] >> (i & 7)) & 1;
}

// A string column: Arrow utf8 (int32 offsets), large_utf8 (int64 offsets) or
// utf8_view (16-byte views + data buffers), or "all null". Bytes are not
// validated as UTF-8: consumers must accept any bytes.
class StringColumn {
 public:
  enum class Layout : uint8_t { kNull, kOffsets32, kOffsets64, kViews };

  StringColumn() = default;
  // A column of `length` nulls.
  static StringColumn AllNull(int64_t length);
  // `offset` is the Arrow array offset (in elements) into offsets/validity.
  static StringColumn Utf8(const int32_t* offsets, const char* data,
                           const uint8_t* validity, int64_t offset, int64_t length);
  static StringColumn LargeUtf8(const int64_t* offsets, const char* data,
                                const uint8_t* validity, int64_t offset,
                                int64_t length);
  static StringColumn Utf8View(const uint8_t* views, const char* const* data_buffers,
                               int64_t num_data_buffers, const uint8_t* validity,
                               int64_t offset, int64_t length);

  int64_t size() const { return length_; }
  Layout layout() const { return layout_; }
  bool IsNull(int64_t i) const {
    if (layout_ == Layout::kNull) return true;
    return validity_ != nullptr && !ArrowBitIsSet(validity_, offset_ + i);
  }
  // Null reads as "".
  ABSL_ATTRIBUTE_ALWAYS_INLINE absl::string_view Get(int64_t i) const {
    if (IsNull(i)) return absl::string_view();
    const int64_t j = offset_ + i;
    switch (layout_) {
      case Layout::kOffsets32: {
        const int32_t* o = static_cast<const int32_t*>(offsets_);
        return absl::string_view(data_ + o[j], static_cast<size_t>(o[j + 1] - o[j]));
      }
      case Layout::kOffsets64: {
        const int64_t* o = static_cast<const int64_t*>(offsets_);
        return absl::string_view(data_ + o[j], static_cast<size_t>(o[j + 1] - o[j]));
      }
      case Layout::kViews: {
        const uint8_t* v = views_ + 16 * j;
        int32_t len;
        std::memcpy(&len, v, 4);
        if (len <= 12) return absl::string_view(reinterpret_cast<const char*>(v + 4), len);
        int32_t buf, off;
        std::memcpy(&buf, v + 8, 4);
        std::memcpy(&off, v + 12, 4);
        return absl::string_view(view_buffers_[buf] + off, len);
      }
      case Layout::kNull:
        break;
    }
    return absl::string_view();
  }
  // out[k] = Get(begin + k) for k < n (one layout dispatch for the range).
  void GetRange(int64_t begin, int64_t n, absl::string_view* out) const;

 private:
  Layout layout_ = Layout::kNull;
  int64_t length_ = 0;
  int64_t offset_ = 0;
  const uint8_t* validity_ = nullptr;
  const void* offsets_ = nullptr;
  const char* data_ = nullptr;
  const uint8_t* views_ = nullptr;
  const char* const* view_buffers_ = nullptr;
};

// A reply-code column: integers of any width (Arrow int8..int64/uint8..uint64),
// strings parsed leniently ("550"; anything else is "no code"), or all null.
class CodeColumn {
 public:
  enum class Layout : uint8_t { kNull, kInt8, kInt16, kInt32, kInt64, kUInt8,
                                kUInt16, kUInt32, kUInt64, kString };
  CodeColumn() = default;
  static CodeColumn AllNull(int64_t length);
  static CodeColumn Integers(Layout layout, const void* values, const uint8_t* validity,
                             int64_t offset, int64_t length);
  static CodeColumn Strings(StringColumn strings);

  int64_t size() const { return length_; }
  Layout layout() const { return layout_; }
  // The code at row i, or 0 when null / not a valid reply code (200..599).
  int Get(int64_t i) const;
  // The raw integer (for error messages); strings and nulls give -1.
  int64_t Raw(int64_t i) const;
  // out[k] = Get(begin + k) for k < n (one layout dispatch for the range).
  void GetRange(int64_t begin, int64_t n, int* out) const;

 private:
  Layout layout_ = Layout::kNull;
  int64_t length_ = 0;
  int64_t offset_ = 0;
  const uint8_t* validity_ = nullptr;
  const void* values_ = nullptr;
  StringColumn strings_;
};

}  // namespace bouncekit

#endif  // BOUNCEKIT_COLUMN_H_
