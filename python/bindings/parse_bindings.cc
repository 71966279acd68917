// Copyright 2026 The bouncekit authors.
//
// Bindings for the bounce readers (e-mails, MTA logs, ESP JSON). Each takes a
// list of records (bytes), parses them with the GIL released, and returns a
// dict of columns (events) plus a dict of columns (errors); the Python side
// (bouncekit.parse) builds the tables.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "absl/strings/string_view.h"
#include "bouncekit/dsn.h"
#include "bouncekit/esp_json.h"
#include "bouncekit/maillog.h"
#include "bouncekit/parse.h"

namespace py = pybind11;

namespace bouncekit::python {
namespace {

std::vector<absl::string_view> Views(const py::list& records) {
  std::vector<absl::string_view> views;
  views.reserve(records.size());
  for (py::handle h : records) {
    char* data = nullptr;
    Py_ssize_t n = 0;
    if (PyBytes_Check(h.ptr())) {
      PyBytes_AsStringAndSize(h.ptr(), &data, &n);
    } else if (PyUnicode_Check(h.ptr())) {
      const char* p = PyUnicode_AsUTF8AndSize(h.ptr(), &n);
      if (p == nullptr) throw py::error_already_set();
      data = const_cast<char*>(p);
    } else {
      throw py::type_error("records must be bytes or str");
    }
    views.emplace_back(data, static_cast<size_t>(n));
  }
  return views;
}

py::bytes B(const std::string& s) { return py::bytes(s); }

// Building the columns allocates many objects; the cyclic GC has nothing to
// find in them, so it is paused meanwhile (it would otherwise run many times).
py::dict BatchToPythonImpl(const ParseBatch& batch);

py::dict BatchToPython(const ParseBatch& batch) {
  const int was_enabled = PyGC_Disable();
  py::dict out = BatchToPythonImpl(batch);
  if (was_enabled) PyGC_Enable();
  return out;
}

py::dict BatchToPythonImpl(const ParseBatch& batch) {
  const size_t n = batch.events.size();
  py::list record(n), offset(n), kind(n), recipient(n), time(n), message_id(n), reply_code(n),
      status(n), diagnostic(n), diagnostic_type(n), action(n), remote_host(n), command(n),
      fmt(n), sender(n), campaign(n), esp_event(n), esp_class(n), esp_subclass(n);
  auto str = [](const std::string& s) {
    return py::reinterpret_steal<py::object>(
        PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace"));
  };
  for (size_t i = 0; i < n; ++i) {
    const BounceEvent& e = batch.events[i];
    record[i] = e.record;
    offset[i] = e.offset;
    kind[i] = str(e.kind);
    recipient[i] = str(e.recipient);
    time[i] = str(e.time);
    message_id[i] = str(e.message_id);
    reply_code[i] = e.reply_code;
    status[i] = str(e.enhanced_status);
    diagnostic[i] = str(e.diagnostic);
    diagnostic_type[i] = str(e.diagnostic_type);
    action[i] = str(e.action);
    remote_host[i] = str(e.remote_host);
    command[i] = str(e.smtp_command);
    fmt[i] = str(e.source_format);
    sender[i] = str(e.sender);
    campaign[i] = str(e.campaign);
    esp_event[i] = str(e.esp_event);
    esp_class[i] = str(e.esp_class);
    esp_subclass[i] = str(e.esp_subclass);
  }
  py::dict events;
  events["record"] = record;
  events["offset"] = offset;
  events["kind"] = kind;
  events["recipient"] = recipient;
  events["time"] = time;
  events["message_id"] = message_id;
  events["reply_code"] = reply_code;
  events["enhanced_status"] = status;
  events["diagnostic"] = diagnostic;
  events["diagnostic_type"] = diagnostic_type;
  events["action"] = action;
  events["remote_host"] = remote_host;
  events["smtp_command"] = command;
  events["source_format"] = fmt;
  events["sender"] = sender;
  events["campaign"] = campaign;
  events["esp_event"] = esp_event;
  events["esp_class"] = esp_class;
  events["esp_subclass"] = esp_subclass;
  const size_t m = batch.errors.size();
  py::list erec(m), eoff(m), ecode(m), emsg(m);
  for (size_t i = 0; i < m; ++i) {
    erec[i] = batch.errors[i].record;
    eoff[i] = batch.errors[i].offset;
    ecode[i] = str(batch.errors[i].code);
    emsg[i] = str(batch.errors[i].message);
  }
  py::dict errors;
  errors["record"] = erec;
  errors["offset"] = eoff;
  errors["code"] = ecode;
  errors["message"] = emsg;
  py::dict out;
  out["events"] = events;
  out["errors"] = errors;
  out["records"] = batch.records;
  out["records_with_events"] = batch.records_with_events;
  out["records_skipped"] = batch.records_skipped;
  return out;
}

}  // namespace

void RegisterParse(py::module_& m) {
  m.def(
      "parse_emails",
      [](const py::list& records, int64_t max_bytes, int max_recipients) {
        std::vector<absl::string_view> views = Views(records);
        EmailParseOptions opts;
        opts.max_bytes = max_bytes;
        opts.max_recipients = max_recipients;
        ParseBatch batch;
        {
          py::gil_scoped_release release;
          batch = ParseBounceEmails(views, opts);
        }
        return BatchToPython(batch);
      },
      py::arg("records"), py::arg("max_bytes") = int64_t{32} << 20,
      py::arg("max_recipients") = 10000,
      "Parses bounce e-mails (bytes); returns {'events': columns, 'errors': columns, ...}.");
  m.def(
      "parse_maillog",
      [](const py::list& lines, const std::string& format) {
        std::vector<absl::string_view> views = Views(lines);
        ParseBatch batch;
        {
          py::gil_scoped_release release;
          batch = ParseMailLog(views, format);
        }
        return BatchToPython(batch);
      },
      py::arg("lines"), py::arg("format") = "auto",
      "Parses Postfix / Exim log lines (format 'auto', 'postfix' or 'exim').");
  m.def(
      "parse_esp_json",
      [](const py::list& records, const std::string& provider) {
        std::vector<absl::string_view> views = Views(records);
        ParseBatch batch;
        {
          py::gil_scoped_release release;
          batch = ParseEspJson(views, provider);
        }
        return BatchToPython(batch);
      },
      py::arg("records"), py::arg("provider") = "auto",
      "Parses ESP JSON events (one JSON document per record).");
}

}  // namespace bouncekit::python
