// Copyright 2026 The bouncekit authors.
//
// bouncekit._core: the private extension module. It only registers the
// binding units; the public API is the pure-Python package around it.

#include <pybind11/pybind11.h>

namespace py = pybind11;

namespace bouncekit::python {
void RegisterClassify(py::module_& m);
void RegisterIo(py::module_& m);
void RegisterHistory(py::module_& m);
void RegisterRetry(py::module_& m);
void RegisterPolicy(py::module_& m);
void RegisterParse(py::module_& m);
void RegisterParquet(py::module_& m);
}  // namespace bouncekit::python

PYBIND11_MODULE(_core, m) {
  m.doc() = "bouncekit's compiled core (private; use the bouncekit package).";
  m.attr("__version__") = BOUNCEKIT_VERSION;
  bouncekit::python::RegisterClassify(m);
  bouncekit::python::RegisterIo(m);
  bouncekit::python::RegisterHistory(m);
  bouncekit::python::RegisterRetry(m);
  bouncekit::python::RegisterPolicy(m);
  bouncekit::python::RegisterParse(m);
  bouncekit::python::RegisterParquet(m);
}
