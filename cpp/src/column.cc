// Copyright 2026 The bouncekit authors.

#include "bouncekit/column.h"

#include "bouncekit/smtp_status.h"

namespace bouncekit {

StringColumn StringColumn::AllNull(int64_t length) {
  StringColumn c;
  c.layout_ = Layout::kNull;
  c.length_ = length;
  return c;
}

StringColumn StringColumn::Utf8(const int32_t* offsets, const char* data, const uint8_t* validity,
                                int64_t offset, int64_t length) {
  StringColumn c;
  c.layout_ = Layout::kOffsets32;
  c.offsets_ = offsets;
  c.data_ = data;
  c.validity_ = validity;
  c.offset_ = offset;
  c.length_ = length;
  return c;
}

StringColumn StringColumn::LargeUtf8(const int64_t* offsets, const char* data,
                                     const uint8_t* validity, int64_t offset, int64_t length) {
  StringColumn c;
  c.layout_ = Layout::kOffsets64;
  c.offsets_ = offsets;
  c.data_ = data;
  c.validity_ = validity;
  c.offset_ = offset;
  c.length_ = length;
  return c;
}

StringColumn StringColumn::Utf8View(const uint8_t* views, const char* const* data_buffers,
                                    int64_t /*num_data_buffers*/, const uint8_t* validity,
                                    int64_t offset, int64_t length) {
  StringColumn c;
  c.layout_ = Layout::kViews;
  c.views_ = views;
  c.view_buffers_ = data_buffers;
  c.validity_ = validity;
  c.offset_ = offset;
  c.length_ = length;
  return c;
}

CodeColumn CodeColumn::AllNull(int64_t length) {
  CodeColumn c;
  c.length_ = length;
  return c;
}

CodeColumn CodeColumn::Integers(Layout layout, const void* values, const uint8_t* validity,
                                int64_t offset, int64_t length) {
  CodeColumn c;
  c.layout_ = layout;
  c.values_ = values;
  c.validity_ = validity;
  c.offset_ = offset;
  c.length_ = length;
  return c;
}

CodeColumn CodeColumn::Strings(StringColumn strings) {
  CodeColumn c;
  c.layout_ = Layout::kString;
  c.length_ = strings.size();
  c.strings_ = strings;
  return c;
}

int64_t CodeColumn::Raw(int64_t i) const {
  if (layout_ == Layout::kNull || layout_ == Layout::kString) return -1;
  const int64_t j = offset_ + i;
  if (validity_ != nullptr && !ArrowBitIsSet(validity_, j)) return -1;
  switch (layout_) {
    case Layout::kInt8: return static_cast<const int8_t*>(values_)[j];
    case Layout::kInt16: return static_cast<const int16_t*>(values_)[j];
    case Layout::kInt32: return static_cast<const int32_t*>(values_)[j];
    case Layout::kInt64: return static_cast<const int64_t*>(values_)[j];
    case Layout::kUInt8: return static_cast<const uint8_t*>(values_)[j];
    case Layout::kUInt16: return static_cast<const uint16_t*>(values_)[j];
    case Layout::kUInt32: return static_cast<const uint32_t*>(values_)[j];
    case Layout::kUInt64: {
      uint64_t v = static_cast<const uint64_t*>(values_)[j];
      return v > 0x7fffffffffffffffULL ? -1 : static_cast<int64_t>(v);
    }
    default: return -1;
  }
}

int CodeColumn::Get(int64_t i) const {
  if (layout_ == Layout::kString) {
    std::optional<int> c = ParseReplyCode(strings_.Get(i));
    return c.has_value() ? *c : 0;
  }
  const int64_t v = Raw(i);
  return IsValidReplyCode(v) ? static_cast<int>(v) : 0;
}

namespace {
template <typename T>
void CodesFrom(const T* values, const uint8_t* validity, int64_t first, int64_t n, int* out) {
  for (int64_t k = 0; k < n; ++k) {
    const int64_t j = first + k;
    const auto v = static_cast<int64_t>(values[j]);
    const bool valid = validity == nullptr || ArrowBitIsSet(validity, j);
    out[k] = valid && IsValidReplyCode(v) ? static_cast<int>(v) : 0;
  }
}
}  // namespace

namespace {
template <typename O>
void StringsFrom(const O* offsets, const char* data, const uint8_t* validity, int64_t first, int64_t n,
                 absl::string_view* out) {
  for (int64_t k = 0; k < n; ++k) {
    const int64_t j = first + k;
    const bool valid = validity == nullptr || ArrowBitIsSet(validity, j);
    out[k] = valid ? absl::string_view(data + offsets[j], static_cast<size_t>(offsets[j + 1] - offsets[j]))
                   : absl::string_view();
  }
}
}  // namespace

void StringColumn::GetRange(int64_t begin, int64_t n, absl::string_view* out) const {
  switch (layout_) {
    case Layout::kOffsets32:
      return StringsFrom(static_cast<const int32_t*>(offsets_), data_, validity_, offset_ + begin, n, out);
    case Layout::kOffsets64:
      return StringsFrom(static_cast<const int64_t*>(offsets_), data_, validity_, offset_ + begin, n, out);
    default:
      for (int64_t k = 0; k < n; ++k) out[k] = Get(begin + k);
  }
}

void CodeColumn::GetRange(int64_t begin, int64_t n, int* out) const {
  const int64_t first = offset_ + begin;
  switch (layout_) {
    case Layout::kInt16: return CodesFrom(static_cast<const int16_t*>(values_), validity_, first, n, out);
    case Layout::kInt32: return CodesFrom(static_cast<const int32_t*>(values_), validity_, first, n, out);
    case Layout::kInt64: return CodesFrom(static_cast<const int64_t*>(values_), validity_, first, n, out);
    default:
      for (int64_t k = 0; k < n; ++k) out[k] = Get(begin + k);
  }
}

}  // namespace bouncekit
