// Copyright 2026 The bouncekit authors.
//
// The W2/W3 result tables written straight to CSV from the accumulator's
// own vectors: the columns are handed to the CSV writer as views (no Arrow
// table, no copy), with the same names and text as write_csv of the tables
// that HistoryResult converts to.

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "bouncekit/csv_writer.h"
#include "bouncekit/history.h"

namespace bouncekit {
namespace {

template <typename T>
CsvColumn IntColumn(const std::vector<T>& v) {
  CsvColumn c;
  c.kind = CsvColumn::Kind::kInt;
  c.values = v.data();
  c.width = static_cast<int>(sizeof(T));
  return c;
}

CsvColumn DoubleColumn(const std::vector<double>& v, int float_digits) {
  CsvColumn c;
  c.kind = CsvColumn::Kind::kDouble;
  c.values = v.data();
  c.width = 8;
  c.float_digits = float_digits;
  return c;
}

// A dictionary column: `indices` (int32 or uint8) into large_string
// `offsets` / `data` of `size` entries.
template <typename T>
CsvColumn DictionaryColumn(const std::vector<T>& indices, const int64_t* offsets, const char* data,
                           int64_t size) {
  CsvColumn c;
  c.kind = CsvColumn::Kind::kDictionary;
  c.strings = StringColumn::LargeUtf8(offsets, data, nullptr, 0, size);
  c.values = indices.data();
  c.width = static_cast<int>(sizeof(T));
  return c;
}

absl::Status WriteTable(absl::string_view path, const std::vector<std::string>& header,
                        const std::vector<CsvColumn>& columns, int64_t num_rows, bool durable) {
  absl::StatusOr<std::unique_ptr<CsvFileWriter>> w = CsvFileWriter::Open(path, header, durable);
  if (!w.ok()) return w.status();
  absl::Status st = (*w)->Write(columns, num_rows);
  if (st.ok()) st = (*w)->Commit();
  return st;  // an uncommitted file is removed with the writer
}

}  // namespace

absl::Status WriteSuppressionsCsv(const SuppressionTable& t, absl::string_view path, bool durable) {
  // The reason names as a large_string dictionary.
  std::string names;
  std::array<int64_t, kNumSuppressionReasons + 1> offsets{};
  for (int r = 0; r < kNumSuppressionReasons; ++r) {
    absl::StrAppend(&names, SuppressionReasonName(static_cast<SuppressionReason>(r)));
    offsets[static_cast<size_t>(r) + 1] = static_cast<int64_t>(names.size());
  }
  const std::vector<std::string> header = {"recipient", "reason", "suppressed_at", "event_count_seen"};
  CsvColumn recipient;
  recipient.kind = CsvColumn::Kind::kString;
  recipient.strings =
      StringColumn::LargeUtf8(t.recipient_offsets.data(), t.recipient_data.data(), nullptr, 0, t.size());
  const std::vector<CsvColumn> columns = {
      recipient, DictionaryColumn(t.reason, offsets.data(), names.data(), kNumSuppressionReasons),
      IntColumn(t.suppressed_at), IntColumn(t.event_count_seen)};
  return WriteTable(path, header, columns, t.size(), durable);
}

absl::Status WriteAggregatesCsv(const AggregateTable& t, absl::string_view path, int float_digits,
                                bool durable) {
  const std::vector<std::string> header = {"campaign_id", "domain",    "sent",      "delivered", "soft",
                                           "hard",        "block",     "hard_rate", "soft_rate", "block_rate",
                                           "hard_flag",   "soft_flag", "block_flag"};
  const std::vector<CsvColumn> columns = {
      IntColumn(t.campaign_id),
      DictionaryColumn(t.domain, t.domain_offsets.data(), t.domain_data.data(), t.num_domains()),
      IntColumn(t.sent),
      IntColumn(t.delivered),
      IntColumn(t.soft),
      IntColumn(t.hard),
      IntColumn(t.block),
      DoubleColumn(t.hard_rate, float_digits),
      DoubleColumn(t.soft_rate, float_digits),
      DoubleColumn(t.block_rate, float_digits),
      IntColumn(t.hard_flag),
      IntColumn(t.soft_flag),
      IntColumn(t.block_flag)};
  return WriteTable(path, header, columns, t.size(), durable);
}

}  // namespace bouncekit
