// Copyright 2026 The bouncekit authors.
//
// Python objects (dict/list/str/int/float/bool, as read from JSON, YAML or
// tomllib) -> bouncekit::ConfigValue, so every config format the Python side
// can read goes through the same validation as TOML files.

#ifndef BOUNCEKIT_PYTHON_CONFIG_CONVERT_H_
#define BOUNCEKIT_PYTHON_CONFIG_CONVERT_H_

#include <string>

#include <pybind11/pybind11.h>

#include "absl/status/statusor.h"
#include "bouncekit/config.h"

namespace bouncekit::python {

absl::StatusOr<ConfigValue> ConfigFromPython(pybind11::handle obj, const std::string& path = "",
                                             int depth = 0);

}  // namespace bouncekit::python

#endif  // BOUNCEKIT_PYTHON_CONFIG_CONVERT_H_
