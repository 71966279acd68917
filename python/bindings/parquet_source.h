// Copyright 2026 The bouncekit authors.
//
// The part of bouncekit._core.ParquetFile that other bindings read through:
// column chunks decoded by the core's reader, from any thread.

#ifndef BOUNCEKIT_PYTHON_PARQUET_SOURCE_H_
#define BOUNCEKIT_PYTHON_PARQUET_SOURCE_H_

#include <pybind11/pybind11.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bouncekit/parquet.h"

namespace bouncekit::python {

class ParquetChunkSource {
 public:
  virtual ~ParquetChunkSource() = default;
  virtual int num_row_groups() const = 0;
  virtual int64_t row_group_rows(int row_group) const = 0;
  // Column `column` of row group `row_group`, decoded (see
  // parquet::ReadColumnChunk); safe to call from several threads at once,
  // without the GIL. Errors name the file, the row group and the column.
  virtual absl::StatusOr<parquet::Column> ReadChunk(int row_group, int column, bool prefer_dictionary) const = 0;
};

// The source behind a bouncekit._core.ParquetFile object; nullptr for any
// other object.
ParquetChunkSource* AsParquetChunkSource(pybind11::handle file);

}  // namespace bouncekit::python

#endif  // BOUNCEKIT_PYTHON_PARQUET_SOURCE_H_
