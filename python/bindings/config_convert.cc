// Copyright 2026 The bouncekit authors.

#include "config_convert.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "bouncekit/error_location.h"

namespace py = pybind11;

namespace bouncekit::python {

absl::StatusOr<ConfigValue> ConfigFromPython(py::handle obj, const std::string& path, int depth) {
  auto fail = [&](absl::string_view msg) {
    return WithField(absl::InvalidArgumentError(
                         absl::StrCat(path.empty() ? "document" : path, ": ", msg)),
                     path);
  };
  if (depth > 64) return fail("nested too deeply");
  if (obj.is_none()) return ConfigValue();
  if (py::isinstance<py::bool_>(obj)) return ConfigValue::Bool(obj.cast<bool>());
  if (py::isinstance<py::int_>(obj)) {
    long long v = 0;
    try {
      v = obj.cast<long long>();
    } catch (const py::cast_error&) {
      return fail("integer out of range");
    }
    return ConfigValue::Int(v);
  }
  if (py::isinstance<py::float_>(obj)) return ConfigValue::Double(obj.cast<double>());
  if (py::isinstance<py::str>(obj)) return ConfigValue::String(obj.cast<std::string>());
  if (py::isinstance<py::dict>(obj)) {
    ConfigValue t = ConfigValue::Table();
    for (auto item : py::reinterpret_borrow<py::dict>(obj)) {
      if (!py::isinstance<py::str>(item.first)) return fail("table keys must be strings");
      std::string key = item.first.cast<std::string>();
      std::string sub = path.empty() ? key : absl::StrCat(path, ".", key);
      absl::StatusOr<ConfigValue> v = ConfigFromPython(item.second, sub, depth + 1);
      if (!v.ok()) return v.status();
      t.Set(std::move(key), *std::move(v));
    }
    return t;
  }
  if (py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj)) {
    ConfigValue a = ConfigValue::Array();
    size_t i = 0;
    for (py::handle item : obj) {
      absl::StatusOr<ConfigValue> v = ConfigFromPython(item, absl::StrCat(path, "[", i++, "]"), depth + 1);
      if (!v.ok()) return v.status();
      a.mutable_items().push_back(*std::move(v));
    }
    return a;
  }
  return fail(absl::StrCat("unsupported value of type ",
                           py::str(py::type::of(obj).attr("__name__")).cast<std::string>()));
}

}  // namespace bouncekit::python
