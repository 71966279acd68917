// Copyright 2026 The bouncekit authors.
//
// Parameter checks shared by the retry schedules (retry.cc) and the cause
// models and simulator (retry_sim.cc): each failure is an InvalidArgument
// status whose message starts with the field name and which carries the
// field (WithField), so Python raises an error with `.field` set.

#ifndef BOUNCEKIT_SRC_INTERNAL_FIELD_CHECKS_H_
#define BOUNCEKIT_SRC_INTERNAL_FIELD_CHECKS_H_

#include <cmath>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "bouncekit/error_location.h"

namespace bouncekit::internal {

inline absl::Status FieldError(absl::string_view field, absl::string_view message) {
  return WithField(absl::InvalidArgumentError(absl::StrCat(field, ": ", message)), field);
}

// A number as the messages print it.
inline std::string Num(double v) { return absl::StrFormat("%g", v); }

// v > 0 and finite; `what` names the quantity ("number", "number of seconds").
inline absl::Status CheckPositive(absl::string_view field, double v,
                                  absl::string_view what = "number") {
  if (!(v > 0) || !std::isfinite(v)) {
    return FieldError(field, absl::StrCat("must be a positive, finite ", what, " (got ", Num(v), ")"));
  }
  return absl::OkStatus();
}

}  // namespace bouncekit::internal

#endif  // BOUNCEKIT_SRC_INTERNAL_FIELD_CHECKS_H_
