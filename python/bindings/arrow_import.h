// Copyright 2026 The bouncekit authors.
//
// Zero-copy import of Arrow arrays handed over through the Arrow PyCapsule
// interface (__arrow_c_array__): the C Data Interface structs are read in
// place and wrapped as bouncekit column views. Nothing links against
// libarrow; the struct layouts below are the ABI fixed by the Arrow spec.

#ifndef BOUNCEKIT_PYTHON_ARROW_IMPORT_H_
#define BOUNCEKIT_PYTHON_ARROW_IMPORT_H_

#include <cstdint>

#include <pybind11/pybind11.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bouncekit/column.h"

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE
#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4
struct ArrowSchema {
  const char* format;
  const char* name;
  const char* metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema** children;
  struct ArrowSchema* dictionary;
  void (*release)(struct ArrowSchema*);
  void* private_data;
};
struct ArrowArray {
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void** buffers;
  struct ArrowArray** children;
  struct ArrowArray* dictionary;
  void (*release)(struct ArrowArray*);
  void* private_data;
};
#endif  // ARROW_C_DATA_INTERFACE

namespace bouncekit::python {

// An (ArrowSchema, ArrowArray) pair owned by two PyCapsules.
struct ArrowPair {
  const ArrowSchema* schema = nullptr;
  const ArrowArray* array = nullptr;
};

// Reads the pointers out of the tuple returned by __arrow_c_array__().
absl::StatusOr<ArrowPair> PairFromCapsules(pybind11::handle capsules, absl::string_view column);

absl::StatusOr<StringColumn> ImportStringColumn(const ArrowPair& pair, absl::string_view column);
absl::StatusOr<CodeColumn> ImportCodeColumn(const ArrowPair& pair, absl::string_view column);
// An int64 / timestamp / other fixed-width integer column as raw values.
struct IntColumnView {
  const void* values = nullptr;
  const uint8_t* validity = nullptr;
  int64_t offset = 0;
  int64_t length = 0;
  int width = 8;  // bytes
  bool is_signed = true;
};
absl::StatusOr<IntColumnView> ImportIntColumn(const ArrowPair& pair, absl::string_view column);

}  // namespace bouncekit::python

#endif  // BOUNCEKIT_PYTHON_ARROW_IMPORT_H_
