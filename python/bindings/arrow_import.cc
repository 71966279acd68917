// Copyright 2026 The bouncekit authors.

#include "arrow_import.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bouncekit/error_location.h"

namespace py = pybind11;

namespace bouncekit::python {
namespace {

absl::Status ColumnError(absl::string_view column, absl::string_view message) {
  return WithColumn(absl::InvalidArgumentError(absl::StrCat("column '", column, "': ", message)),
                    column);
}

std::string DescribeFormat(absl::string_view f) {
  if (f == "n") return "null";
  if (f == "b") return "bool";
  if (f == "c") return "int8";
  if (f == "C") return "uint8";
  if (f == "s") return "int16";
  if (f == "S") return "uint16";
  if (f == "i") return "int32";
  if (f == "I") return "uint32";
  if (f == "l") return "int64";
  if (f == "L") return "uint64";
  if (f == "e") return "float16";
  if (f == "f") return "float32";
  if (f == "g") return "float64";
  if (f == "u") return "string";
  if (f == "U") return "large_string";
  if (f == "vu") return "string_view";
  if (f == "z" || f == "Z" || f == "vz") return "binary";
  if (!f.empty() && f[0] == 't') return "temporal";
  return std::string(f);
}

absl::Status CheckArray(const ArrowPair& p, absl::string_view column, int64_t min_buffers) {
  if (p.array->release == nullptr) return ColumnError(column, "the Arrow array was already released");
  if (p.array->length < 0 || p.array->offset < 0) return ColumnError(column, "negative Arrow length/offset");
  if (p.array->n_buffers < min_buffers) {
    return ColumnError(column, absl::StrCat("Arrow array has ", p.array->n_buffers, " buffers; expected ",
                                            min_buffers));
  }
  return absl::OkStatus();
}

const uint8_t* Validity(const ArrowArray* a) {
  return a->null_count == 0 ? nullptr : static_cast<const uint8_t*>(a->buffers[0]);
}

}  // namespace

absl::StatusOr<ArrowPair> PairFromCapsules(py::handle capsules, absl::string_view column) {
  if (!py::isinstance<py::tuple>(capsules) || py::len(capsules) != 2) {
    return ColumnError(column, "expected the (schema, array) capsule pair of __arrow_c_array__()");
  }
  py::tuple t = py::reinterpret_borrow<py::tuple>(capsules);
  void* s = PyCapsule_GetPointer(t[0].ptr(), "arrow_schema");
  if (s == nullptr) {
    PyErr_Clear();
    return ColumnError(column, "first capsule is not an 'arrow_schema' capsule");
  }
  void* a = PyCapsule_GetPointer(t[1].ptr(), "arrow_array");
  if (a == nullptr) {
    PyErr_Clear();
    return ColumnError(column, "second capsule is not an 'arrow_array' capsule");
  }
  return ArrowPair{static_cast<const ArrowSchema*>(s), static_cast<const ArrowArray*>(a)};
}

absl::StatusOr<StringColumn> ImportStringColumn(const ArrowPair& p, absl::string_view column) {
  absl::string_view f = p.schema->format ? p.schema->format : "";
  if (p.schema->dictionary != nullptr) {
    return ColumnError(column, "dictionary-encoded arrays must be decoded first");
  }
  if (f == "n") return StringColumn::AllNull(p.array->length);
  if (f == "u" || f == "U") {
    absl::Status st = CheckArray(p, column, 3);
    if (!st.ok()) return st;
    const ArrowArray* a = p.array;
    if (a->length > 0 && (a->buffers[1] == nullptr)) return ColumnError(column, "missing offsets buffer");
    const char* data = static_cast<const char*>(a->buffers[2]);
    static const char kEmpty = 0;
    if (data == nullptr) data = &kEmpty;
    if (f == "u") {
      return StringColumn::Utf8(static_cast<const int32_t*>(a->buffers[1]), data, Validity(a), a->offset,
                                a->length);
    }
    return StringColumn::LargeUtf8(static_cast<const int64_t*>(a->buffers[1]), data, Validity(a), a->offset,
                                   a->length);
  }
  if (f == "vu") {
    absl::Status st = CheckArray(p, column, 2);
    if (!st.ok()) return st;
    const ArrowArray* a = p.array;
    // buffers: validity, views, data buffers..., variadic sizes (last).
    const int64_t n_data = a->n_buffers - 3;
    return StringColumn::Utf8View(static_cast<const uint8_t*>(a->buffers[1]),
                                  reinterpret_cast<const char* const*>(a->buffers + 2),
                                  n_data < 0 ? 0 : n_data, Validity(a), a->offset, a->length);
  }
  return ColumnError(column, absl::StrCat("has type ", DescribeFormat(f), "; expected a string column"));
}

absl::StatusOr<IntColumnView> ImportIntColumn(const ArrowPair& p, absl::string_view column) {
  absl::string_view f = p.schema->format ? p.schema->format : "";
  IntColumnView v;
  if (f == "c" || f == "C") v.width = 1;
  else if (f == "s" || f == "S") v.width = 2;
  else if (f == "i" || f == "I") v.width = 4;
  else if (f == "l" || f == "L" || absl::StartsWith(f, "ts") || f == "tdm" || f == "tds") v.width = 8;
  else return ColumnError(column, absl::StrCat("has type ", DescribeFormat(f), "; expected integers"));
  v.is_signed = !(f == "C" || f == "S" || f == "I" || f == "L");
  absl::Status st = CheckArray(p, column, 2);
  if (!st.ok()) return st;
  v.values = p.array->buffers[1];
  v.validity = Validity(p.array);
  v.offset = p.array->offset;
  v.length = p.array->length;
  return v;
}

absl::StatusOr<CodeColumn> ImportCodeColumn(const ArrowPair& p, absl::string_view column) {
  absl::string_view f = p.schema->format ? p.schema->format : "";
  if (p.schema->dictionary != nullptr) {
    return ColumnError(column, "dictionary-encoded arrays must be decoded first");
  }
  if (f == "n") return CodeColumn::AllNull(p.array->length);
  if (f == "u" || f == "U" || f == "vu") {
    absl::StatusOr<StringColumn> s = ImportStringColumn(p, column);
    if (!s.ok()) return s.status();
    return CodeColumn::Strings(*s);
  }
  CodeColumn::Layout layout;
  if (f == "c") layout = CodeColumn::Layout::kInt8;
  else if (f == "s") layout = CodeColumn::Layout::kInt16;
  else if (f == "i") layout = CodeColumn::Layout::kInt32;
  else if (f == "l") layout = CodeColumn::Layout::kInt64;
  else if (f == "C") layout = CodeColumn::Layout::kUInt8;
  else if (f == "S") layout = CodeColumn::Layout::kUInt16;
  else if (f == "I") layout = CodeColumn::Layout::kUInt32;
  else if (f == "L") layout = CodeColumn::Layout::kUInt64;
  else {
    return ColumnError(column, absl::StrCat("has type ", DescribeFormat(f),
                                            "; expected integer reply codes (or strings like '550')"));
  }
  absl::Status st = CheckArray(p, column, 2);
  if (!st.ok()) return st;
  return CodeColumn::Integers(layout, p.array->buffers[1], Validity(p.array), p.array->offset,
                              p.array->length);
}

}  // namespace bouncekit::python
