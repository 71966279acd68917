// Copyright 2026 The bouncekit authors.

#include "bouncekit/error_location.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace bouncekit {
namespace {

absl::Status With(absl::Status status, absl::string_view key, absl::string_view value) {
  if (status.ok()) return status;
  status.SetPayload(key, absl::Cord(value));
  return status;
}

std::optional<std::string> GetString(const absl::Status& s, absl::string_view key) {
  absl::optional<absl::Cord> c = s.GetPayload(key);
  if (!c.has_value()) return std::nullopt;
  return std::string(*c);
}

std::optional<int64_t> GetInt(const absl::Status& s, absl::string_view key) {
  std::optional<std::string> v = GetString(s, key);
  int64_t out = 0;
  if (!v.has_value() || !absl::SimpleAtoi(*v, &out)) return std::nullopt;
  return out;
}

}  // namespace

absl::Status WithRow(absl::Status status, int64_t row) {
  return With(std::move(status), kPayloadRow, absl::StrCat(row));
}
absl::Status WithColumn(absl::Status status, absl::string_view column) {
  return With(std::move(status), kPayloadColumn, column);
}
absl::Status WithField(absl::Status status, absl::string_view field) {
  return With(std::move(status), kPayloadField, field);
}
absl::Status WithTextPosition(absl::Status status, int64_t line, int64_t text_column) {
  status = With(std::move(status), kPayloadLine, absl::StrCat(line));
  return With(std::move(status), kPayloadTextColumn, absl::StrCat(text_column));
}
absl::Status WithSource(absl::Status status, absl::string_view source) {
  return With(std::move(status), kPayloadSource, source);
}

ErrorLocation GetErrorLocation(const absl::Status& status) {
  ErrorLocation loc;
  loc.row = GetInt(status, kPayloadRow);
  loc.column = GetString(status, kPayloadColumn);
  loc.field = GetString(status, kPayloadField);
  loc.line = GetInt(status, kPayloadLine);
  loc.text_column = GetInt(status, kPayloadTextColumn);
  loc.source = GetString(status, kPayloadSource);
  return loc;
}

}  // namespace bouncekit
