// Copyright 2026 The bouncekit authors.
//
// Bindings for the bounce readers (e-mails, MTA logs, ESP JSON). Each takes a
// list of records (bytes), parses them with the GIL released, and returns a
// dict of columns (events) plus a dict of columns (errors) as Arrow buffers;
// the Python side (bouncekit.parse) builds the tables.

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "absl/strings/string_view.h"
#include "bouncekit/dsn.h"
#include "bouncekit/esp_json.h"
#include "bouncekit/event_columns.h"
#include "bouncekit/maillog.h"
#include "bouncekit/parse.h"
#include "errors.h"

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

// True when `s` is well-formed UTF-8 as Python's strict decoder sees it
// (no overlong forms, no surrogates, nothing above U+10FFFF).
bool IsUtf8(absl::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
#if defined(__SSE2__)
  // Most fields are ASCII throughout: sixteen bytes at a time while no byte
  // has its high bit set.
  while (i + 16 <= n &&
         _mm_movemask_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i))) == 0) {
    i += 16;
  }
#endif
  while (i < n) {
    if (i + 8 <= n) {  // ASCII fast path
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + len > n || p[i + 1] < lo || p[i + 1] > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

// A ByteBuffer's memory handed to Python without a copy: a uint8 numpy
// array (a buffer that pyarrow and numpy read in place) that owns it, and
// gives it back (to ByteBuffer's pool of large blocks) when Python drops it.
py::array OwnedBytes(ByteBuffer* b) {
  const auto n = static_cast<py::ssize_t>(b->size());
  char* p = b->Release();
  py::capsule owner(p, [](void* q) { ByteBuffer::FreeBlock(static_cast<char*>(q)); });
  return py::array(py::dtype("uint8"), {n}, {py::ssize_t{1}}, p, owner);
}

// A string column as Arrow large_string buffers (int64 offsets, UTF-8
// bytes) for Python, (offsets, data); the column is spent. Building one
// Python str per field cost more than parsing. Needs the GIL. Bytes that
// are not UTF-8 are replaced exactly as Python's bytes.decode("utf-8",
// "replace") does (by calling it: such strings are rare), after one check
// of the whole buffer: it is UTF-8 (one fast pass, most columns being
// ASCII) and every non-empty string starts a character, so each string is a
// run of whole characters of a valid sequence.
py::tuple StringColumnToPython(StringColumnBuffers* c) {
  const size_t n = c->size();
  const auto* offsets = reinterpret_cast<const int64_t*>(c->offsets.data());
  const char* data = c->bytes.data();
  bool ok = IsUtf8(absl::string_view(data, c->bytes.size()));
  for (size_t i = 0; ok && i < n; ++i) {
    if (offsets[i] != offsets[i + 1]) ok = (static_cast<unsigned char>(data[offsets[i]]) & 0xC0) != 0x80;
  }
  if (!ok) {
    StringColumnBuffers fixed;
    fixed.offsets.AppendValue(int64_t{0});
    for (size_t i = 0; i < n; ++i) {
      const absl::string_view s(data + offsets[i], static_cast<size_t>(offsets[i + 1] - offsets[i]));
      if (s.empty() || IsUtf8(s)) {
        fixed.Append(s);
        continue;
      }
      py::object u = py::reinterpret_steal<py::object>(
          PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace"));
      if (!u) throw py::error_already_set();
      Py_ssize_t len = 0;
      const char* utf8 = PyUnicode_AsUTF8AndSize(u.ptr(), &len);
      if (utf8 == nullptr) throw py::error_already_set();
      fixed.Append(absl::string_view(utf8, static_cast<size_t>(len)));
    }
    *c = std::move(fixed);
  }
  py::array o = OwnedBytes(&c->offsets);
  return py::make_tuple(o, OwnedBytes(&c->bytes));
}

// The event columns as Python takes them: same names, same order as the
// event table. A string column is (offsets, data), an integer column int64.
py::dict EventColumnsToPython(EventColumns* cols) {
  py::dict events;
  if (cols->has_source()) events["source"] = StringColumnToPython(&cols->source);
  events["record"] = OwnedBytes(&cols->record);
  events["offset"] = OwnedBytes(&cols->offset);
  for (int k = 0; k < 4; ++k) events[EventColumns::kStringNames[k]] = StringColumnToPython(&cols->strings[k]);
  events["reply_code"] = OwnedBytes(&cols->reply_code);
  for (int k = 4; k < EventColumns::kStrings; ++k) {
    events[EventColumns::kStringNames[k]] = StringColumnToPython(&cols->strings[k]);
  }
  events["destination"] = StringColumnToPython(&cols->destination);
  return events;
}

// {'events': `events`, 'errors': {name: column}, counts}. With name_base
// >= 0 the errors get a first column "source", the names
// "<input>[name_base + record]" (as EventColumns names the events).
py::dict WithErrors(const ParseBatch& batch, py::dict events, int64_t name_base = -1) {
  StringColumnBuffers source, code, message;
  ByteBuffer record, offset;
  for (StringColumnBuffers* c : {&source, &code, &message}) c->offsets.AppendValue(int64_t{0});
  char name[EventColumns::kInputNameMax];
  for (const RecordError& err : batch.errors) {
    if (name_base >= 0) source.Append(absl::string_view(name, FormatInputName(name_base + err.record, name)));
    record.AppendValue(err.record);
    offset.AppendValue(err.offset);
    code.Append(err.code);
    message.Append(err.message);
  }
  py::dict errors;
  if (name_base >= 0) errors["source"] = StringColumnToPython(&source);
  errors["record"] = OwnedBytes(&record);
  errors["offset"] = OwnedBytes(&offset);
  errors["code"] = StringColumnToPython(&code);
  errors["message"] = StringColumnToPython(&message);
  py::dict out;
  out["events"] = events;
  out["errors"] = errors;
  out["records"] = batch.records;
  out["records_with_events"] = batch.records_with_events;
  out["records_skipped"] = batch.records_skipped;
  return out;
}

// A finished batch (the log and JSON readers') as {'events', 'errors',
// counts}: its events go through EventColumns as parse_emails' do, an empty
// time, message_id or sender taking its record's shared value when the
// reader kept those once per record (RecordFields).
py::dict BatchToPython(const ParseBatch& batch) {
  EventColumns cols(batch.events.size());
  if (batch.shared.empty()) {
    cols.Take(batch.events, {}, {}, {});
  } else {
    for (const BounceEvent& e : batch.events) {
      cols.Take(absl::MakeConstSpan(&e, 1), batch.shared.Get(e.record, RecordFields::kMessageId),
                batch.shared.Get(e.record, RecordFields::kTime), batch.shared.Get(e.record, RecordFields::kSender));
    }
  }
  return WithErrors(batch, EventColumnsToPython(&cols));
}

// The next batch of a log's lines, read by `reader` (which keeps the
// queues it has seen), as BatchToPython gives it.
py::dict ReadLogLines(MailLogReader* reader, const py::list& lines) {
  std::vector<absl::string_view> views = Views(lines);
  ParseBatch batch;
  {
    py::gil_scoped_release release;
    batch = reader->Read(views);
  }
  return BatchToPython(batch);
}

}  // namespace

void RegisterParse(py::module_& m) {
  m.def(
      "parse_emails",
      [](const py::list& records, int64_t max_bytes, int max_recipients, int64_t name_base) {
        std::vector<absl::string_view> views = Views(records);
        EmailParseOptions opts;
        opts.max_bytes = max_bytes;
        opts.max_recipients = max_recipients;
        opts.share_record_fields = true;  // (the sink takes them with each e-mail's events)
        // Room for a quarter more events than e-mails (most give one).
        EventColumns cols(views.size() + views.size() / 4 + 16, name_base);
        ParseBatch batch;
        {
          py::gil_scoped_release release;
          batch = ParseBounceEmails(views, opts, &cols);
        }
        return WithErrors(batch, EventColumnsToPython(&cols), name_base);
      },
      py::arg("records"), py::arg("max_bytes") = int64_t{32} << 20,
      py::arg("max_recipients") = 10000, py::arg("name_base") = int64_t{-1},
      "Parses bounce e-mails (bytes); returns {'events': columns, 'errors': columns, ...}. With name_base >= 0 "
      "both tables start with a column 'source', '<input>[name_base + record]'.");
  m.def(
      "parse_maillog",
      [](const py::list& lines, const std::string& format) {
        ThrowIfError(CheckLogFormat(format));
        MailLogReader reader(format);
        return ReadLogLines(&reader, lines);
      },
      py::arg("lines"), py::arg("format") = "auto",
      "Parses Postfix / Exim log lines (format 'auto', 'postfix' or 'exim').");
  py::class_<MailLogReader>(m, "MailLogReader",
                            "parse_maillog for a log read in batches: the queues seen (sender, message id) "
                            "are kept from one batch to the next (at most max_queues, the most recent).")
      .def(py::init([](const std::string& format, size_t max_queues) {
             ThrowIfError(CheckLogFormat(format));
             return std::make_unique<MailLogReader>(format, max_queues);
           }),
           py::arg("format") = "auto", py::arg("max_queues") = size_t{1} << 20)
      .def("parse", &ReadLogLines, py::arg("lines"), "The next batch of lines; returns what parse_maillog returns.")
      .def_property_readonly("queues", &MailLogReader::queues, "Queues kept now.");
  m.def(
      "parse_esp_json",
      [](const py::list& records, const std::string& provider) {
        ThrowIfError(CheckEspProvider(provider));
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
