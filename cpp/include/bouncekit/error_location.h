// Copyright 2026 The bouncekit authors.
//
// Where an error happened, carried inside an absl::Status as payloads so that
// callers (and the Python binding) get it as structured data rather than by
// parsing the message. The core never throws: every fallible function returns
// absl::Status or absl::StatusOr<T>, annotated with the helpers below.

#ifndef BOUNCEKIT_ERROR_LOCATION_H_
#define BOUNCEKIT_ERROR_LOCATION_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace bouncekit {

// Payload type URLs. The values are plain decimal / UTF-8 strings.
inline constexpr absl::string_view kPayloadRow = "bouncekit/row";
inline constexpr absl::string_view kPayloadColumn = "bouncekit/column";
inline constexpr absl::string_view kPayloadField = "bouncekit/field";
inline constexpr absl::string_view kPayloadLine = "bouncekit/line";
inline constexpr absl::string_view kPayloadTextColumn = "bouncekit/text_column";
inline constexpr absl::string_view kPayloadSource = "bouncekit/source";

// Structured location of an error. Every member is optional.
struct ErrorLocation {
  std::optional<int64_t> row;          // 0-based input row
  std::optional<std::string> column;   // name of a table column
  std::optional<std::string> field;    // name of a field in a record/file
  std::optional<int64_t> line;         // 1-based line in a text source
  std::optional<int64_t> text_column;  // 1-based character column in a line
  std::optional<std::string> source;   // file name or other source label
};

// Each helper returns `status` with one more payload; an OK status passes
// through unchanged (absl ignores payloads on OK statuses).
absl::Status WithRow(absl::Status status, int64_t row);
absl::Status WithColumn(absl::Status status, absl::string_view column);
absl::Status WithField(absl::Status status, absl::string_view field);
absl::Status WithTextPosition(absl::Status status, int64_t line,
                              int64_t text_column);
absl::Status WithSource(absl::Status status, absl::string_view source);

// Reads back whatever location payloads `status` carries.
ErrorLocation GetErrorLocation(const absl::Status& status);

}  // namespace bouncekit

#endif  // BOUNCEKIT_ERROR_LOCATION_H_
