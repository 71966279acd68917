// Copyright 2026 The bouncekit authors.
//
// The one place where absl::Status becomes a Python exception. The classes
// live in bouncekit/errors.py (one per status code, each also a matching
// builtin such as ValueError); the location payloads become attributes.

#ifndef BOUNCEKIT_PYTHON_ERRORS_H_
#define BOUNCEKIT_PYTHON_ERRORS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace bouncekit::python {

// Sets the matching bouncekit.errors exception and throws
// pybind11::error_already_set. Must be called with the GIL held.
[[noreturn]] void RaiseStatus(const absl::Status& status);

inline void ThrowIfError(const absl::Status& status) {
  if (!status.ok()) RaiseStatus(status);
}

template <typename T>
T ValueOrThrow(absl::StatusOr<T> value) {
  if (!value.ok()) RaiseStatus(value.status());
  return *std::move(value);
}

}  // namespace bouncekit::python

#endif  // BOUNCEKIT_PYTHON_ERRORS_H_
