// Copyright 2026 The bouncekit authors.
//
// CSV output in the conventions of the benchmark spec (SPEC.md section 5):
// UTF-8, a header line, ',' separator, '\n' line ends, a field quoted only
// when it contains ',', '"', '\r' or '\n' (quotes doubled), empty string as
// an empty field, integers in plain decimal, floats with a fixed number of
// digits after the point. Output goes to a temporary file beside the target
// and is renamed over it on Commit(), so an interrupted run never leaves a
// half-written file under the target name.

#ifndef BOUNCEKIT_CSV_WRITER_H_
#define BOUNCEKIT_CSV_WRITER_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "bouncekit/column.h"

namespace bouncekit {

// One column of a batch to write. Values are views (not owned).
struct CsvColumn {
  enum class Kind : uint8_t { kString, kDictionary, kInt, kUInt, kBool, kDouble, kNull };
  Kind kind = Kind::kNull;
  StringColumn strings;            // kString; the dictionary values for kDictionary
  const void* values = nullptr;    // ints / dictionary indices / doubles / bool bits
  int width = 8;                   // bytes per integer value (1, 2, 4, 8)
  const uint8_t* validity = nullptr;  // Arrow validity bitmap (nullptr: no nulls)
  int64_t offset = 0;              // Arrow array offset of values/validity
  int float_digits = 12;           // kDouble: digits after the decimal point
};

class CsvFileWriter {
 public:
  // Creates "<path>.tmp-<pid>-<n>" and writes the header. The rename on
  // Commit() makes the file appear whole or not at all when the process
  // dies; `durable` also fsyncs it first, so that it survives a power loss
  // (a data export rarely needs that, and it costs a disk flush).
  static absl::StatusOr<std::unique_ptr<CsvFileWriter>> Open(absl::string_view path,
                                                             absl::Span<const std::string> header,
                                                             bool durable = false);
  ~CsvFileWriter();  // an uncommitted file is removed
  CsvFileWriter(const CsvFileWriter&) = delete;
  CsvFileWriter& operator=(const CsvFileWriter&) = delete;

  // Appends `num_rows` rows; every column must have at least that many.
  absl::Status Write(absl::Span<const CsvColumn> columns, int64_t num_rows);
  // Flushes and renames the temporary file to the target path.
  absl::Status Commit();
  // Removes the temporary file (also done by the destructor).
  void Abort();

  int64_t rows_written() const { return rows_; }

 private:
  // Write's path for batches whose columns are all dictionaries without
  // nulls, their entries escaped in `escaped`.
  absl::Status WriteDictionaries(absl::Span<const CsvColumn> columns, int64_t num_rows,
                                 const std::vector<std::vector<std::string>>& escaped);

  CsvFileWriter() = default;
  absl::Status Flush();

  std::string path_;
  std::string tmp_path_;
  std::FILE* file_ = nullptr;
  std::string buffer_;
  size_t num_columns_ = 0;
  int64_t rows_ = 0;
  bool committed_ = false;
  bool durable_ = false;
};

// Appends `field` to `out`, quoted if it needs to be.
void AppendCsvField(absl::string_view field, std::string* out);

}  // namespace bouncekit

#endif  // BOUNCEKIT_CSV_WRITER_H_
