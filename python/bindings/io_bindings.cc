// Copyright 2026 The bouncekit authors.
//
// Bindings for output files: the SPEC-conformant CSV writer over Arrow arrays.

#include <memory>
#include <string>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "arrow_import.h"
#include "bouncekit/csv_writer.h"
#include "bouncekit/error_location.h"
#include "errors.h"

namespace py = pybind11;

namespace bouncekit::python {
namespace {

int IntWidth(absl::string_view f, bool* is_signed) {
  *is_signed = !(f == "C" || f == "S" || f == "I" || f == "L");
  if (f == "c" || f == "C") return 1;
  if (f == "s" || f == "S") return 2;
  if (f == "i" || f == "I") return 4;
  if (f == "l" || f == "L") return 8;
  return 0;
}

absl::StatusOr<CsvColumn> ToCsvColumn(const ArrowPair& p, const std::string& name, int float_digits) {
  CsvColumn c;
  c.float_digits = float_digits;
  const absl::string_view f = p.schema->format ? p.schema->format : "";
  const ArrowArray* a = p.array;
  c.offset = a->offset;
  c.validity = (a->null_count == 0 || a->n_buffers < 1) ? nullptr : static_cast<const uint8_t*>(a->buffers[0]);
  if (p.schema->dictionary != nullptr) {
    bool is_signed = true;
    c.width = IntWidth(f, &is_signed);
    if (c.width == 0 || a->dictionary == nullptr) {
      return WithColumn(absl::InvalidArgumentError(absl::StrCat("column '", name, "': unsupported dictionary index type")), name);
    }
    absl::StatusOr<StringColumn> dict = ImportStringColumn(ArrowPair{p.schema->dictionary, a->dictionary}, name);
    if (!dict.ok()) return dict.status();
    c.kind = CsvColumn::Kind::kDictionary;
    c.strings = *dict;
    c.values = a->buffers[1];
    return c;
  }
  if (f == "n") {
    c.kind = CsvColumn::Kind::kNull;
    return c;
  }
  if (f == "u" || f == "U" || f == "vu") {
    absl::StatusOr<StringColumn> s = ImportStringColumn(p, name);
    if (!s.ok()) return s.status();
    c.kind = CsvColumn::Kind::kString;
    c.strings = *s;
    return c;
  }
  bool is_signed = true;
  if (int w = IntWidth(f, &is_signed); w > 0) {
    c.kind = is_signed ? CsvColumn::Kind::kInt : CsvColumn::Kind::kUInt;
    c.width = w;
    c.values = a->buffers[1];
    return c;
  }
  if (f == "b") {
    c.kind = CsvColumn::Kind::kBool;
    c.values = a->buffers[1];
    return c;
  }
  if (f == "g") {
    c.kind = CsvColumn::Kind::kDouble;
    c.values = a->buffers[1];
    return c;
  }
  return WithColumn(absl::InvalidArgumentError(absl::StrCat("column '", name, "' has Arrow format '", f,
                                                            "', which the CSV writer does not take")),
                    name);
}

class PyCsvWriter {
 public:
  PyCsvWriter(const std::string& path, const std::vector<std::string>& header, int float_digits,
              bool durable)
      : header_(header), float_digits_(float_digits) {
    impl_ = ValueOrThrow(CsvFileWriter::Open(path, header, durable));
  }

  // columns: one (schema capsule, array capsule) pair per header column.
  void write(py::list columns, int64_t num_rows) {
    if (impl_ == nullptr) ThrowIfError(absl::FailedPreconditionError("the CSV writer is closed"));
    if (py::len(columns) != header_.size()) {
      ThrowIfError(absl::InvalidArgumentError(
          absl::StrCat("got ", py::len(columns), " columns for a header of ", header_.size())));
    }
    std::vector<CsvColumn> cols;
    for (size_t k = 0; k < header_.size(); ++k) {
      ArrowPair p = ValueOrThrow(PairFromCapsules(columns[k], header_[k]));
      if (p.array->length < num_rows) {
        ThrowIfError(WithColumn(absl::InvalidArgumentError(absl::StrCat(
                                    "column '", header_[k], "' has ", p.array->length, " rows; ", num_rows,
                                    " are written")),
                                header_[k]));
      }
      cols.push_back(ValueOrThrow(ToCsvColumn(p, header_[k], float_digits_)));
    }
    absl::Status st;
    {
      py::gil_scoped_release release;
      st = impl_->Write(cols, num_rows);
    }
    ThrowIfError(st);
  }

  void commit() {
    if (impl_ == nullptr) ThrowIfError(absl::FailedPreconditionError("the CSV writer is closed"));
    absl::Status st;
    {
      py::gil_scoped_release release;
      st = impl_->Commit();
    }
    impl_.reset();
    ThrowIfError(st);
  }

  void abort() { impl_.reset(); }
  int64_t rows_written() const { return impl_ ? impl_->rows_written() : 0; }

 private:
  std::unique_ptr<CsvFileWriter> impl_;
  std::vector<std::string> header_;
  int float_digits_;
};

}  // namespace

void RegisterIo(py::module_& m) {
  py::class_<PyCsvWriter>(m, "CsvWriter",
                          "Writes Arrow columns as CSV to a temporary file, renamed on commit().")
      .def(py::init<const std::string&, const std::vector<std::string>&, int, bool>(), py::arg("path"),
           py::arg("header"), py::arg("float_digits") = 12, py::arg("durable") = false)
      .def("write", &PyCsvWriter::write, py::arg("columns"), py::arg("num_rows"))
      .def("commit", &PyCsvWriter::commit)
      .def("abort", &PyCsvWriter::abort)
      .def_property_readonly("rows_written", &PyCsvWriter::rows_written);
}

}  // namespace bouncekit::python
