// Copyright 2026 The bouncekit authors.
//
// Bindings for the bounce readers (e-mails, MTA logs, ESP JSON). Each takes a
// list of records (bytes), parses them with the GIL released, and returns a
// dict of columns (events) plus a dict of columns (errors) as Arrow buffers;
// the Python side (bouncekit.parse) builds the tables.

#include <algorithm>
#include <array>
#include <charconv>
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

// A Python bytes object of `n` bytes whose contents the caller writes
// (PyBytes_FromStringAndSize with no source leaves them uninitialised).
py::bytes NewBytes(size_t n) {
  PyObject* b = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(n));
  if (b == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::bytes>(b);
}

char* BytesData(const py::bytes& b) { return PyBytes_AS_STRING(b.ptr()); }

// A column of strings as Arrow large_string buffers (int64 offsets, UTF-8
// bytes), handed to Python as two bytes objects: building one Python str
// per field cost more than parsing. Both buffers are Python bytes objects
// from the start, written once from a finished batch (the log and JSON
// readers' columns, and every reader's errors; parse_emails builds its
// event columns while it reads, EmailColumnSink). Bytes that are not UTF-8
// are replaced exactly as Python's bytes.decode("utf-8", "replace") does
// (by calling it: such fields are rare), after one check of the whole
// column at Finish. Needs the GIL.
class StringColumnBuilder {
 public:
  // `n` strings of `bytes` bytes in all (before any replacement, which may
  // lengthen a string: the data buffer then grows).
  StringColumnBuilder(size_t n, size_t bytes)
      : offsets_(NewBytes((n + 1) * sizeof(int64_t))), data_(NewBytes(bytes)), capacity_(bytes) {
    offset_at_ = reinterpret_cast<int64_t*>(BytesData(offsets_));
    *offset_at_++ = 0;
  }
  // Appends `s` as written; Finish checks the column's UTF-8 (and repairs
  // the strings that are not) in one pass over the whole buffer.
  void Append(absl::string_view s) {
    if (!s.empty()) Write(s);  // many fields are empty (campaign, the ESP columns, ...)
    *offset_at_++ = static_cast<int64_t>(size_);
  }
  // The part of the last string appended after its last '@' (all of it
  // when it has none), as the next string of `*out`. Both columns are
  // checked at Finish; '@' is never inside a multi-byte sequence, so
  // repairing either column gives the same domain.
  void AppendDomainOfLastTo(StringColumnBuilder* out) const {
    const size_t begin = static_cast<size_t>(offset_at_[-2]);
    const absl::string_view last(BytesData(data_) + begin, size_ - begin);
    const size_t at = last.rfind('@');
    out->Write(at == absl::string_view::npos ? last : last.substr(at + 1));
    *out->offset_at_++ = static_cast<int64_t>(out->size_);
  }
  // (offsets, data); the builder is spent. Bytes that are not UTF-8 are
  // replaced here, string by string.
  py::tuple Finish() {
    if (!AllUtf8()) Repair();
    if (size_ != capacity_) Resize(size_);
    return py::make_tuple(std::move(offsets_), std::move(data_));
  }

 private:
  void Write(absl::string_view s) {
    if (size_ + s.size() > capacity_) Resize(std::max(size_ + s.size(), capacity_ * 2));
    std::memcpy(BytesData(data_) + size_, s.data(), s.size());
    size_ += s.size();
  }
  // Whether every string is UTF-8: the whole buffer is (one fast pass, most
  // columns being ASCII), and every non-empty string starts a character.
  // Then each string is a run of whole characters of a valid sequence.
  bool AllUtf8() const {
    const char* const data = BytesData(data_);
    if (!IsUtf8(absl::string_view(data, size_))) return false;
    const int64_t* const offsets = reinterpret_cast<const int64_t*>(BytesData(offsets_));
    const size_t n = static_cast<size_t>(offset_at_ - offsets) - 1;
    bool ok = true;
    for (size_t i = 0; i < n; ++i) {
      if (offsets[i] == offsets[i + 1]) continue;  // empty (its offset may be past the bytes written)
      ok &= (static_cast<unsigned char>(data[offsets[i]]) & 0xC0) != 0x80;
    }
    return ok;
  }
  // Rewrites, in place, each string that is not UTF-8 as Python's
  // bytes.decode("utf-8", "replace") gives it (rare: by calling it). A
  // replacement is never shorter than what it replaces (one to three bad
  // bytes become the three of U+FFFD), so the strings move right: they are
  // moved from the last to the first into the buffer grown once to the new
  // size (no second buffer: a column is megabytes, and fresh pages cost
  // more than the repair).
  void Repair() {
    auto* const offsets = reinterpret_cast<int64_t*>(BytesData(offsets_));
    const size_t n = static_cast<size_t>(offset_at_ - offsets) - 1;
    std::vector<std::pair<size_t, py::object>> fixed;  // (string, its replacement as a str)
    size_t new_size = size_;
    {
      const char* const data = BytesData(data_);
      for (size_t i = 0; i < n; ++i) {
        const absl::string_view s(data + offsets[i], static_cast<size_t>(offsets[i + 1] - offsets[i]));
        if (s.empty() || IsUtf8(s)) continue;
        py::object u = py::reinterpret_steal<py::object>(
            PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace"));
        if (!u) throw py::error_already_set();
        Py_ssize_t len = 0;
        if (PyUnicode_AsUTF8AndSize(u.ptr(), &len) == nullptr) throw py::error_already_set();
        new_size += static_cast<size_t>(len) - s.size();
        fixed.emplace_back(i, std::move(u));
      }
    }
    if (new_size > capacity_) Resize(new_size);
    char* const data = BytesData(data_);
    size_t end = new_size;         // where string i ends now
    size_t old_end = size_;        // where it ended before
    for (size_t i = n; i-- > 0;) {
      const size_t old_begin = static_cast<size_t>(offsets[i]);
      offsets[i + 1] = static_cast<int64_t>(end);
      if (!fixed.empty() && fixed.back().first == i) {
        Py_ssize_t len = 0;
        const char* utf8 = PyUnicode_AsUTF8AndSize(fixed.back().second.ptr(), &len);
        end -= static_cast<size_t>(len);
        std::memcpy(data + end, utf8, static_cast<size_t>(len));
        fixed.pop_back();
      } else {
        end -= old_end - old_begin;
        std::memmove(data + end, data + old_begin, old_end - old_begin);
      }
      old_end = old_begin;
    }
    size_ = new_size;
  }
  void Resize(size_t n) {
    PyObject* b = data_.release().ptr();
    if (_PyBytes_Resize(&b, static_cast<Py_ssize_t>(n)) != 0) throw py::error_already_set();
    data_ = py::reinterpret_steal<py::bytes>(b);
    capacity_ = n;
  }

  py::bytes offsets_, data_;
  int64_t* offset_at_;  // the next offset to write
  size_t size_ = 0;     // bytes of data written
  size_t capacity_;     // size of data_
};

// An int64 column as a bytes object (native byte order), filled by `at(i)`.
template <typename Fn>
py::bytes IntColumn(size_t n, Fn at) {
  py::bytes b = NewBytes(n * sizeof(int64_t));
  auto* out = reinterpret_cast<int64_t*>(BytesData(b));
  for (size_t i = 0; i < n; ++i) out[i] = at(i);
  return b;
}

// "<input>[i]", the name of record i of a list of raw records.
void AppendInputName(int64_t i, std::string* out) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof(digits), i).ptr;
  out->append("<input>[");
  out->append(digits, static_cast<size_t>(end - digits));
  out->push_back(']');
}

// The errors of a batch and its counts, with `events` as the event columns.
// With name_base >= 0 the errors get a first column "source", the names
// "<input>[name_base + record]" (as the events' from EmailColumnSink).
py::dict WithErrors(const ParseBatch& batch, py::dict events, int64_t name_base = -1) {
  const auto& er = batch.errors;
  const size_t m = er.size();
  size_t code_bytes = 0, msg_bytes = 0;
  for (const auto& err : er) {
    code_bytes += err.code.size();
    msg_bytes += err.message.size();
  }
  StringColumnBuilder ecode(m, code_bytes), emsg(m, msg_bytes);
  for (const auto& err : er) {
    ecode.Append(err.code);
    emsg.Append(err.message);
  }
  py::dict errors;
  if (name_base >= 0) {
    std::string name;
    size_t bytes = 0;
    for (const auto& err : er) {
      name.clear();
      AppendInputName(name_base + err.record, &name);
      bytes += name.size();
    }
    StringColumnBuilder source(m, bytes);
    for (const auto& err : er) {
      name.clear();
      AppendInputName(name_base + err.record, &name);
      source.Append(name);
    }
    errors["source"] = source.Finish();
  }
  errors["record"] = IntColumn(m, [&](size_t i) { return er[i].record; });
  errors["offset"] = IntColumn(m, [&](size_t i) { return er[i].offset; });
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

// {'events': {name: column}, 'errors': {name: column}, counts}: a string
// column is (offsets bytes, data bytes), an integer column int64 bytes.
// The events have the BounceEvent fields and `destination`, the part of the
// recipient after its last '@'.
py::dict BatchToPython(const ParseBatch& batch) {
  const size_t n = batch.events.size();
  constexpr int kStrings = 16;
  static constexpr const char* kNames[kStrings] = {
      "kind", "recipient", "time", "message_id", "enhanced_status", "diagnostic", "diagnostic_type", "action",
      "remote_host", "smtp_command", "source_format", "sender", "campaign", "esp_event", "esp_class",
      "esp_subclass"};
  // An event's empty time, message_id or sender stands for its record's
  // when the reader kept those once per record (RecordFields).
  const RecordFields& shared = batch.shared;
  auto or_shared = [&](const BounceEvent& e, const std::string& own, RecordFields::Field f) {
    return own.empty() && !shared.empty() ? shared.Get(e.record, f) : absl::string_view(own);
  };
  auto fields_of = [&](const BounceEvent& e) {
    return std::array<absl::string_view, kStrings>{
        e.kind, e.recipient, or_shared(e, e.time, RecordFields::kTime),
        or_shared(e, e.message_id, RecordFields::kMessageId), e.enhanced_status, e.diagnostic,
        e.diagnostic_type, e.action, e.remote_host, e.smtp_command, e.source_format,
        or_shared(e, e.sender, RecordFields::kSender), e.campaign, e.esp_event, e.esp_class, e.esp_subclass};
  };
  // Sizes first: each column's data buffer is then allocated once.
  std::array<size_t, kStrings> bytes{};
  for (const BounceEvent& e : batch.events) {
    const auto fields = fields_of(e);
    for (int k = 0; k < kStrings; ++k) bytes[static_cast<size_t>(k)] += fields[static_cast<size_t>(k)].size();
  }
  std::vector<StringColumnBuilder> cols;
  cols.reserve(kStrings);
  for (int k = 0; k < kStrings; ++k) cols.emplace_back(n, bytes[static_cast<size_t>(k)]);
  // The recipient's domain (what follows its last '@'), for the classifier.
  StringColumnBuilder destination(n, bytes[1]);
  for (const BounceEvent& e : batch.events) {
    const auto fields = fields_of(e);
    for (int k = 0; k < kStrings; ++k) cols[static_cast<size_t>(k)].Append(fields[static_cast<size_t>(k)]);
    cols[1].AppendDomainOfLastTo(&destination);
  }
  const auto& ev = batch.events;
  py::dict events;  // the order of the event table's columns
  events["record"] = IntColumn(n, [&](size_t i) { return ev[i].record; });
  events["offset"] = IntColumn(n, [&](size_t i) { return ev[i].offset; });
  events["kind"] = cols[0].Finish();
  events["recipient"] = cols[1].Finish();
  events["time"] = cols[2].Finish();
  events["message_id"] = cols[3].Finish();
  events["reply_code"] = IntColumn(n, [&](size_t i) { return int64_t{ev[i].reply_code}; });
  for (int k = 4; k < kStrings; ++k) events[kNames[k]] = cols[static_cast<size_t>(k)].Finish();
  events["destination"] = destination.Finish();
  return WithErrors(batch, std::move(events));
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

// A string column of EventColumns as (offsets, data) for Python; the
// column is spent. Needs the GIL. Bytes that are not UTF-8 are replaced as
// Python's bytes.decode("utf-8", "replace") does (by calling it: such
// strings are rare), after one check of the whole buffer as in
// StringColumnBuilder.
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

// The event columns of parse_emails (EventColumns, filled as the e-mails
// are read: the reader hands each e-mail's events over and reuses them) as
// BatchToPython gives them: same names, same order. Building the columns
// from a finished batch (BatchToPython) and freeing its events took ~4 of
// the ~48 ms that bench_parse's 10,350 e-mails took.
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
