// Copyright 2026 The bouncekit authors.
//
// Bindings for the bounce readers (e-mails, MTA logs, ESP JSON). Each takes a
// list of records (bytes), parses them with the GIL released, and returns a
// dict of columns (events) plus a dict of columns (errors) as Arrow buffers;
// the Python side (bouncekit.parse) builds the tables.

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// True when `s` is well-formed UTF-8 as Python's strict decoder sees it
// (no overlong forms, no surrogates, nothing above U+10FFFF).
bool IsUtf8(const std::string& s) {
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

// A column of strings as Arrow large_string buffers (int64 offsets, UTF-8
// bytes), handed to Python as two bytes objects: building one Python str
// per field cost more than parsing. Bytes that are not UTF-8 are replaced
// exactly as Python's bytes.decode("utf-8", "replace") does (by calling
// it: such fields are rare). Needs the GIL.
class StringColumnBuilder {
 public:
  // `n` strings of `bytes` bytes in all (before any replacement): both
  // buffers are allocated once.
  StringColumnBuilder(size_t n, size_t bytes) {
    offsets_.reserve(n + 1);
    offsets_.push_back(0);
    data_.reserve(bytes);
  }
  void Append(const std::string& s) {
    if (s.empty()) {  // many fields are (campaign, the ESP columns, ...)
      offsets_.push_back(static_cast<int64_t>(data_.size()));
      return;
    }
    if (IsUtf8(s)) {
      data_.append(s);
    } else {
      py::object u = py::reinterpret_steal<py::object>(
          PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace"));
      if (!u) throw py::error_already_set();
      Py_ssize_t len = 0;
      const char* utf8 = PyUnicode_AsUTF8AndSize(u.ptr(), &len);
      if (utf8 == nullptr) throw py::error_already_set();
      data_.append(utf8, static_cast<size_t>(len));
    }
    offsets_.push_back(static_cast<int64_t>(data_.size()));
  }
  // The part of the last string appended after its last '@' (all of it
  // when it has none), as the next string of `*out`: already valid UTF-8,
  // since '@' is never inside a multi-byte sequence.
  void AppendDomainOfLastTo(StringColumnBuilder* out) const {
    const size_t begin = static_cast<size_t>(offsets_[offsets_.size() - 2]);
    const absl::string_view last = absl::string_view(data_).substr(begin);
    const size_t at = last.rfind('@');
    const absl::string_view domain = at == absl::string_view::npos ? last : last.substr(at + 1);
    out->data_.append(domain.data(), domain.size());
    out->offsets_.push_back(static_cast<int64_t>(out->data_.size()));
  }
  py::tuple Finish() const {
    return py::make_tuple(
        py::bytes(reinterpret_cast<const char*>(offsets_.data()), offsets_.size() * sizeof(int64_t)),
        py::bytes(data_));
  }

 private:
  std::vector<int64_t> offsets_;
  std::string data_;
};

// An int64 column as a bytes object (native byte order).
py::bytes IntColumn(const std::vector<int64_t>& v) {
  return py::bytes(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(int64_t));
}

// {'events': {name: column}, 'errors': {name: column}, counts}: a string
// column is (offsets bytes, data bytes), an integer column int64 bytes.
// The events have the BounceEvent fields and `destination`, the part of the
// recipient after its last '@'.
py::dict BatchToPython(const ParseBatch& batch) {
  const size_t n = batch.events.size();
  std::vector<int64_t> record(n), offset(n), reply_code(n);
  constexpr int kStrings = 16;
  static constexpr const char* kNames[kStrings] = {
      "kind", "recipient", "time", "message_id", "enhanced_status", "diagnostic", "diagnostic_type", "action",
      "remote_host", "smtp_command", "source_format", "sender", "campaign", "esp_event", "esp_class",
      "esp_subclass"};
  auto fields_of = [](const BounceEvent& e) {
    return std::array<const std::string*, kStrings>{
        &e.kind, &e.recipient, &e.time, &e.message_id, &e.enhanced_status, &e.diagnostic,
        &e.diagnostic_type, &e.action, &e.remote_host, &e.smtp_command, &e.source_format, &e.sender,
        &e.campaign, &e.esp_event, &e.esp_class, &e.esp_subclass};
  };
  // Sizes first: each column's data buffer is then allocated once.
  std::array<size_t, kStrings> bytes{};
  for (const BounceEvent& e : batch.events) {
    const auto fields = fields_of(e);
    for (int k = 0; k < kStrings; ++k) bytes[static_cast<size_t>(k)] += fields[static_cast<size_t>(k)]->size();
  }
  std::vector<StringColumnBuilder> cols;
  cols.reserve(kStrings);
  for (int k = 0; k < kStrings; ++k) cols.emplace_back(n, bytes[static_cast<size_t>(k)]);
  // The recipient's domain (what follows its last '@'), for the classifier.
  StringColumnBuilder destination(n, bytes[1]);
  for (size_t i = 0; i < n; ++i) {
    const BounceEvent& e = batch.events[i];
    record[i] = e.record;
    offset[i] = e.offset;
    reply_code[i] = e.reply_code;
    const auto fields = fields_of(e);
    for (int k = 0; k < kStrings; ++k) cols[static_cast<size_t>(k)].Append(*fields[static_cast<size_t>(k)]);
    cols[1].AppendDomainOfLastTo(&destination);
  }
  py::dict events;  // the order of the event table's columns
  events["record"] = IntColumn(record);
  events["offset"] = IntColumn(offset);
  events["kind"] = cols[0].Finish();
  events["recipient"] = cols[1].Finish();
  events["time"] = cols[2].Finish();
  events["message_id"] = cols[3].Finish();
  events["reply_code"] = IntColumn(reply_code);
  for (int k = 4; k < kStrings; ++k) events[kNames[k]] = cols[static_cast<size_t>(k)].Finish();
  events["destination"] = destination.Finish();
  const size_t m = batch.errors.size();
  std::vector<int64_t> erec(m), eoff(m);
  size_t code_bytes = 0, msg_bytes = 0;
  for (const auto& err : batch.errors) {
    code_bytes += err.code.size();
    msg_bytes += err.message.size();
  }
  StringColumnBuilder ecode(m, code_bytes), emsg(m, msg_bytes);
  for (size_t i = 0; i < m; ++i) {
    erec[i] = batch.errors[i].record;
    eoff[i] = batch.errors[i].offset;
    ecode.Append(batch.errors[i].code);
    emsg.Append(batch.errors[i].message);
  }
  py::dict errors;
  errors["record"] = IntColumn(erec);
  errors["offset"] = IntColumn(eoff);
  errors["code"] = ecode.Finish();
  errors["message"] = emsg.Finish();
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
