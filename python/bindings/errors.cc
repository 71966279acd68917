// Copyright 2026 The bouncekit authors.

#include "errors.h"

#include <string>

#include <pybind11/pybind11.h>

#include "bouncekit/error_location.h"

namespace py = pybind11;

namespace bouncekit::python {
namespace {

const char* ClassNameFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kCancelled: return "CancelledError";
    case absl::StatusCode::kUnknown: return "UnknownError";
    case absl::StatusCode::kInvalidArgument: return "InvalidArgumentError";
    case absl::StatusCode::kDeadlineExceeded: return "DeadlineExceededError";
    case absl::StatusCode::kNotFound: return "NotFoundError";
    case absl::StatusCode::kAlreadyExists: return "AlreadyExistsError";
    case absl::StatusCode::kPermissionDenied: return "PermissionDeniedError";
    case absl::StatusCode::kResourceExhausted: return "ResourceExhaustedError";
    case absl::StatusCode::kFailedPrecondition: return "FailedPreconditionError";
    case absl::StatusCode::kAborted: return "AbortedError";
    case absl::StatusCode::kOutOfRange: return "OutOfRangeError";
    case absl::StatusCode::kUnimplemented: return "UnimplementedError";
    case absl::StatusCode::kInternal: return "InternalError";
    case absl::StatusCode::kUnavailable: return "UnavailableError";
    case absl::StatusCode::kDataLoss: return "DataLossError";
    case absl::StatusCode::kUnauthenticated: return "UnauthenticatedError";
    default: return "UnknownError";
  }
}

}  // namespace

void RaiseStatus(const absl::Status& status) {
  py::module_ errors = py::module_::import("bouncekit.errors");
  py::object cls = errors.attr(ClassNameFor(status.code()));
  const ErrorLocation loc = GetErrorLocation(status);
  py::dict kwargs;
  kwargs["code"] = static_cast<int>(status.code());
  if (loc.row) kwargs["row"] = *loc.row;
  if (loc.column) kwargs["column"] = *loc.column;
  if (loc.field) kwargs["field"] = *loc.field;
  if (loc.line) kwargs["line"] = *loc.line;
  if (loc.text_column) kwargs["text_column"] = *loc.text_column;
  if (loc.source) kwargs["source"] = *loc.source;
  py::object exc = cls(std::string(status.message()), **kwargs);
  PyErr_SetObject(cls.ptr(), exc.ptr());
  throw py::error_already_set();
}

}  // namespace bouncekit::python
