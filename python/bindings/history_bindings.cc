// Copyright 2026 The bouncekit authors.
//
// Bindings for the bounce-history engine (history.h): an accumulator fed
// with Arrow column batches (read in place, GIL released) whose results come
// back as numpy arrays that own the C++ buffers (no copy).

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "arrow_import.h"
#include "bouncekit/error_location.h"
#include "bouncekit/history.h"
#include "errors.h"

namespace py = pybind11;

namespace bouncekit::python {
namespace {

// A numpy array over a vector's memory; the array owns the vector.
template <typename T>
py::array_t<T> OwnedArray(std::vector<T>&& v) {
  auto* heap = new std::vector<T>(std::move(v));
  py::capsule owner(heap, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(static_cast<py::ssize_t>(heap->size()), heap->data(), owner);
}

py::array_t<uint8_t> OwnedBytes(std::string&& s) {
  auto* heap = new std::string(std::move(s));
  py::capsule owner(heap, [](void* p) { delete static_cast<std::string*>(p); });
  return py::array_t<uint8_t>(static_cast<py::ssize_t>(heap->size()),
                              reinterpret_cast<const uint8_t*>(heap->data()), owner);
}

absl::StatusOr<Int64ColumnView> ImportInt64(py::handle capsules, absl::string_view column) {
  absl::StatusOr<ArrowPair> p = PairFromCapsules(capsules, column);
  if (!p.ok()) return p.status();
  absl::StatusOr<IntColumnView> v = ImportIntColumn(*p, column);
  if (!v.ok()) return v.status();
  if (v->width != 8 || !v->is_signed) {
    return WithColumn(absl::InvalidArgumentError(absl::StrCat("column '", column, "' must be int64 here (got ",
                                                              v->is_signed ? "" : "u", "int", v->width * 8, ")")),
                      column);
  }
  return Int64ColumnView{static_cast<const int64_t*>(v->values), v->validity, v->offset, v->length};
}

py::object Required(const py::dict& columns, const char* name) {
  if (!columns.contains(name)) {
    ThrowIfError(WithColumn(absl::NotFoundError(absl::StrCat("the batch has no '", name, "' column")), name));
  }
  return columns[name];
}

class PyHistory {
 public:
  PyHistory(const std::string& policy, bool suppressions, bool aggregates, int threads) {
    HistoryOptions o;
    o.policy = ValueOrThrow(SuppressionPolicyByName(policy));
    o.suppressions = suppressions;
    o.aggregates = aggregates;
    o.ingest_threads = threads;
    impl_ = ValueOrThrow(HistoryAccumulator::Create(o));
  }

  // columns: recipient, campaign_id, ts -> (schema, array) capsule pairs;
  // bounce_class -> a capsule pair of strings, or bounce_class_codes -> a
  // numpy uint8 array of EventClass values.
  void add(const py::dict& columns, int64_t num_rows) {
    HistoryBatch b;
    b.num_rows = num_rows;
    py::object rec = Required(columns, "recipient");
    b.recipient = ValueOrThrow(ImportStringColumn(ValueOrThrow(PairFromCapsules(rec, "recipient")), "recipient"));
    py::object camp = Required(columns, "campaign_id");
    b.campaign_id = ValueOrThrow(ImportInt64(camp, "campaign_id"));
    py::object ts = Required(columns, "ts");
    b.ts = ValueOrThrow(ImportInt64(ts, "ts"));
    py::object cls;
    py::array_t<uint8_t, py::array::c_style | py::array::forcecast> codes;
    py::array_t<int32_t, py::array::c_style | py::array::forcecast> class_indices;
    py::array_t<uint8_t, py::array::c_style | py::array::forcecast> class_lut;
    const bool map_classes = columns.contains("bounce_class_indices");
    if (map_classes) {
      // A dictionary-encoded class column: one index per row into `lut`, the
      // EventClass of each dictionary value and then of null rows (whose
      // index is the dictionary's size); mapped below, without the GIL.
      class_indices =
          py::array_t<int32_t, py::array::c_style | py::array::forcecast>::ensure(columns["bounce_class_indices"]);
      class_lut = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>::ensure(
          Required(columns, "bounce_class_lut"));
      if (!class_indices || class_indices.ndim() != 1 || !class_lut || class_lut.ndim() != 1) {
        ThrowIfError(WithColumn(
            absl::InvalidArgumentError("bounce_class_indices / bounce_class_lut must be 1-d int32 / uint8 arrays"),
            "bounce_class"));
      }
      b.bounce_class = StringColumn::AllNull(0);  // not read when codes are given
    } else if (columns.contains("bounce_class_codes")) {
      codes = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>::ensure(columns["bounce_class_codes"]);
      if (!codes || codes.ndim() != 1) {
        ThrowIfError(WithColumn(absl::InvalidArgumentError("bounce_class_codes must be a 1-d uint8 array"),
                                "bounce_class"));
      }
      b.bounce_class_codes = absl::Span<const uint8_t>(codes.data(), static_cast<size_t>(codes.size()));
      b.bounce_class = StringColumn::AllNull(0);  // not read when codes are given
    } else {
      cls = Required(columns, "bounce_class");
      b.bounce_class =
          ValueOrThrow(ImportStringColumn(ValueOrThrow(PairFromCapsules(cls, "bounce_class")), "bounce_class"));
    }
    absl::Status st;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mu_);
      if (map_classes) st = MapClassCodes(class_indices, class_lut, &b);
      if (st.ok()) st = impl_->Add(b);
    }
    ThrowIfError(st);
  }

  py::dict finish(int threads) {
    absl::StatusOr<HistoryResult> r;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mu_);
      r = impl_->Finish(threads);
    }
    HistoryResult res = ValueOrThrow(std::move(r));
    py::dict out;
    out["rows"] = res.rows;
    out["recipients"] = res.recipients;
    if (impl_->options().suppressions) {
      SuppressionTable& s = res.suppressions;
      py::dict d;
      d["num_rows"] = s.size();
      d["recipient_offsets"] = OwnedArray(std::move(s.recipient_offsets));
      d["recipient_data"] = OwnedBytes(std::move(s.recipient_data));
      d["reason"] = OwnedArray(std::move(s.reason));
      d["suppressed_at"] = OwnedArray(std::move(s.suppressed_at));
      d["event_count_seen"] = OwnedArray(std::move(s.event_count_seen));
      out["suppressions"] = d;
    }
    if (impl_->options().aggregates) {
      AggregateTable& a = res.aggregates;
      py::dict d;
      d["num_rows"] = a.size();
      d["num_domains"] = a.num_domains();
      d["campaign_id"] = OwnedArray(std::move(a.campaign_id));
      d["domain"] = OwnedArray(std::move(a.domain));
      d["domain_offsets"] = OwnedArray(std::move(a.domain_offsets));
      d["domain_data"] = OwnedBytes(std::move(a.domain_data));
      d["sent"] = OwnedArray(std::move(a.sent));
      d["delivered"] = OwnedArray(std::move(a.delivered));
      d["soft"] = OwnedArray(std::move(a.soft));
      d["hard"] = OwnedArray(std::move(a.hard));
      d["block"] = OwnedArray(std::move(a.block));
      d["hard_rate"] = OwnedArray(std::move(a.hard_rate));
      d["soft_rate"] = OwnedArray(std::move(a.soft_rate));
      d["block_rate"] = OwnedArray(std::move(a.block_rate));
      d["hard_flag"] = OwnedArray(std::move(a.hard_flag));
      d["soft_flag"] = OwnedArray(std::move(a.soft_flag));
      d["block_flag"] = OwnedArray(std::move(a.block_flag));
      out["aggregates"] = d;
    }
    return out;
  }

  int64_t rows_seen() const { return impl_->rows_seen(); }
  int64_t recipients() const { return impl_->num_recipients(); }
  int64_t memory_usage() const { return impl_->MemoryUsage(); }
  bool suppressions() const { return impl_->options().suppressions; }
  bool aggregates() const { return impl_->options().aggregates; }
  std::string policy() const { return impl_->options().policy.name; }

 private:
  // codes_[i] = lut[indices[i]], checked; b->bounce_class_codes then reads
  // codes_ (a buffer kept from batch to batch: no new memory per batch).
  absl::Status MapClassCodes(const py::array_t<int32_t, py::array::c_style | py::array::forcecast>& indices,
                             const py::array_t<uint8_t, py::array::c_style | py::array::forcecast>& lut,
                             HistoryBatch* b) {
    const int64_t n = static_cast<int64_t>(indices.size());
    if (n != b->num_rows) {
      return WithColumn(absl::InvalidArgumentError(absl::StrCat("column 'bounce_class' has ", n,
                                                                " rows; the batch has ", b->num_rows)),
                        "bounce_class");
    }
    const int32_t* idx = indices.data();
    const uint8_t* map = lut.data();
    const uint32_t size = static_cast<uint32_t>(lut.size());
    codes_.resize(static_cast<size_t>(n));
    uint8_t* out = codes_.data();
    uint32_t largest = 0;
    for (int64_t i = 0; i < n; ++i) {  // unsigned: a negative index is out of range too
      const uint32_t v = static_cast<uint32_t>(idx[i]);
      largest = std::max(largest, v);
      out[i] = map[v < size ? v : 0];
    }
    if (n > 0 && largest >= size) {
      for (int64_t i = 0; i < n; ++i) {
        if (static_cast<uint32_t>(idx[i]) >= size) {
          const int64_t row = impl_->rows_seen() + i;
          return WithRow(WithColumn(absl::InvalidArgumentError(absl::StrCat(
                                        "column 'bounce_class' row ", row, ": dictionary index ", idx[i],
                                        " is not an index of its dictionary of ", size - 1, " values")),
                                    "bounce_class"),
                         row);
        }
      }
    }
    b->bounce_class_codes = absl::Span<const uint8_t>(out, static_cast<size_t>(n));
    return absl::OkStatus();
  }

  std::unique_ptr<HistoryAccumulator> impl_;
  std::vector<uint8_t> codes_;
  std::mutex mu_;  // Add/Finish run without the GIL: one at a time
};

}  // namespace

void RegisterHistory(py::module_& m) {
  std::vector<std::string> classes, reasons;
  for (int c = 0; c < kNumEventClasses; ++c) classes.emplace_back(EventClassName(static_cast<EventClass>(c)));
  for (int r = 0; r < kNumSuppressionReasons; ++r) {
    reasons.emplace_back(SuppressionReasonName(static_cast<SuppressionReason>(r)));
  }
  m.attr("EVENT_CLASSES") = py::tuple(py::cast(classes));
  m.attr("SUPPRESSION_REASONS") = py::tuple(py::cast(reasons));
  m.def("suppression_policies", &SuppressionPolicyNames, "Names of the built-in suppression policies.");

  py::class_<PyHistory>(m, "History",
                        "Accumulates bounce events batch by batch; finish() gives the suppression list "
                        "(W2) and the campaign x domain aggregates (W3).")
      .def(py::init<const std::string&, bool, bool, int>(), py::arg("policy") = "standard",
           py::arg("suppressions") = true, py::arg("aggregates") = true, py::arg("threads") = 1,
           "threads: threads that ingest each batch (1, 2, 4 or 8); results do not depend on it.")
      .def("add", &PyHistory::add, py::arg("columns"), py::arg("num_rows"),
           "Adds the next rows: a dict of Arrow capsule pairs (recipient, campaign_id and ts as int64, "
           "bounce_class) or bounce_class_codes as a uint8 array of EVENT_CLASSES indices.")
      .def("finish", &PyHistory::finish, py::arg("threads") = 1,
           "Computes the results (once) as dicts of numpy arrays.")
      .def_property_readonly("rows_seen", &PyHistory::rows_seen)
      .def_property_readonly("recipients", &PyHistory::recipients)
      .def_property_readonly("memory_usage", &PyHistory::memory_usage)
      .def_property_readonly("suppressions", &PyHistory::suppressions)
      .def_property_readonly("aggregates", &PyHistory::aggregates)
      .def_property_readonly("policy", &PyHistory::policy);
}

}  // namespace bouncekit::python
