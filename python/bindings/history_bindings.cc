// Copyright 2026 The bouncekit authors.
//
// Bindings for the bounce-history engine (history.h): an accumulator fed
// with Arrow column batches (read in place, GIL released) whose results come
// back as numpy arrays that own the C++ buffers (no copy).

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/resource.h>
#include <unistd.h>
#endif

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "arrow_import.h"
#include "bouncekit/error_location.h"
#include "bouncekit/history.h"
#include "errors.h"
#include "parquet_source.h"

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

// How much lower the read-ahead threads of add_parquet run than the thread
// that ingests (Linux nice levels): the reads have slack, the ingest of the
// row group before them is the critical path. Same as history.py's
// _READ_AHEAD_NICE for the reads it runs itself.
constexpr int kReadAheadNice = 3;

void LowerThisThreadsPriority() {
#if defined(__linux__)
  const id_t tid = static_cast<id_t>(::gettid());
  errno = 0;
  const int now = ::getpriority(PRIO_PROCESS, tid);
  if (errno == 0) (void)::setpriority(PRIO_PROCESS, tid, now + kReadAheadNice);  // failure: same priority
#endif
}

// The columns add_parquet reads, in this order, and what it needs of them.
enum HistoryColumnIndex { kRecipientCol = 0, kCampaignCol, kTsCol, kClassCol, kNumHistoryCols };
constexpr const char* kHistoryColumnNames[kNumHistoryCols] = {"recipient", "campaign_id", "ts", "bounce_class"};

// One row group's columns as add_parquet reads them.
struct GroupColumns {
  absl::Status status;
  std::vector<parquet::Column> columns;
};

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

  // Adds row groups first_group.. of a ParquetFile whose columns `columns`
  // (file column indices of recipient, campaign_id, ts, bounce_class) are
  // text, integers, integers and text: reads them with the core's reader on
  // `read_threads` threads a row group ahead of the ingest, all without the
  // GIL, and adds them in batches of at most `batch_rows` rows. Returns the
  // row group where it stopped: num_row_groups, or the first one with a
  // column the core's reader does not decode (an encoding or codec it
  // lacks), for the caller to read another way from there on.
  int add_parquet(py::handle file, const std::vector<int>& columns, int64_t batch_rows, int read_threads,
                  int first_group) {
    ParquetChunkSource* source = AsParquetChunkSource(file);
    if (source == nullptr) throw py::type_error("add_parquet() takes a bouncekit._core.ParquetFile");
    if (columns.size() != kNumHistoryCols) throw py::value_error("add_parquet() takes 4 column indices");
    if (batch_rows < 1) throw py::value_error("batch_rows must be positive");
    absl::StatusOr<int> r;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mu_);
      r = AddParquet(*source, columns, batch_rows, read_threads, first_group);
    }
    return ValueOrThrow(std::move(r));
  }

  // finish() with the tables written to CSV files by the core (an empty
  // path: that table is not written) instead of handed to Python; returns
  // {rows, recipients, suppressions: rows written, aggregates: rows written}.
  // Needs neither numpy nor pyarrow.
  py::dict finish_csv(int threads, const std::string& suppressions_path, const std::string& aggregates_path,
                      int float_digits, bool durable) {
    if (!suppressions_path.empty() && !impl_->options().suppressions) {
      ThrowIfError(absl::FailedPreconditionError("this history does not compute the suppression list"));
    }
    if (!aggregates_path.empty() && !impl_->options().aggregates) {
      ThrowIfError(absl::FailedPreconditionError("this history does not compute the aggregates"));
    }
    absl::Status st;
    int64_t rows = 0, recipients = 0, suppressed = 0, cells = 0;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mu_);
      absl::StatusOr<HistoryResult> r = impl_->Finish(threads);
      st = r.status();
      if (st.ok()) {
        rows = r->rows;
        recipients = r->recipients;
        suppressed = r->suppressions.size();
        cells = r->aggregates.size();
        if (!suppressions_path.empty()) st = WriteSuppressionsCsv(r->suppressions, suppressions_path, durable);
        if (st.ok() && !aggregates_path.empty()) {
          st = WriteAggregatesCsv(r->aggregates, aggregates_path, float_digits, durable);
        }
      }
    }
    ThrowIfError(st);
    py::dict out;
    out["rows"] = rows;
    out["recipients"] = recipients;
    out["suppressions"] = suppressed;
    out["aggregates"] = cells;
    return out;
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

  // (Read while add_parquet runs on another thread, for a progress bar.)
  int64_t rows_added() const { return rows_added_.load(std::memory_order_relaxed); }
  int64_t rows_seen() const { return impl_->rows_seen(); }
  int64_t recipients() const { return impl_->num_recipients(); }
  int64_t memory_usage() const { return impl_->MemoryUsage(); }
  bool suppressions() const { return impl_->options().suppressions; }
  bool aggregates() const { return impl_->options().aggregates; }
  std::string policy() const { return impl_->options().policy.name; }

 private:
  absl::StatusOr<int> AddParquet(const ParquetChunkSource& source, const std::vector<int>& columns,
                                 int64_t batch_rows, int read_threads, int first_group) {
    const int n = source.num_row_groups();
    if (first_group < 0 || first_group > n) return absl::OutOfRangeError("no such row group");
    auto read = [&source, &columns](int g, bool background) {
      if (background) LowerThisThreadsPriority();
      GroupColumns out;
      out.columns.reserve(kNumHistoryCols);
      for (int k = 0; k < kNumHistoryCols; ++k) {
        absl::StatusOr<parquet::Column> c = source.ReadChunk(g, columns[k], /*prefer_dictionary=*/k == kClassCol);
        if (!c.ok()) {
          out.status = c.status();
          break;
        }
        out.columns.push_back(*std::move(c));
      }
      return out;
    };
    // Row groups being read, in file order: one per read thread in flight.
    std::deque<std::future<GroupColumns>> ahead;
    int next = first_group;
    auto refill = [&] {
      while (read_threads > 1 && static_cast<int>(ahead.size()) < read_threads && next < n) {
        ahead.push_back(std::async(std::launch::async, read, next++, true));
      }
    };
    refill();
    for (int g = first_group; g < n; ++g) {
      GroupColumns got;
      if (read_threads > 1) {
        got = ahead.front().get();
        ahead.pop_front();
        refill();
      } else {
        got = read(g, false);
      }
      if (absl::IsUnimplemented(got.status)) return g;  // (the futures left finish before `ahead` goes)
      if (!got.status.ok()) return got.status;
      absl::Status st = AddGroup(got.columns, batch_rows);
      if (!st.ok()) return st;
    }
    return n;
  }

  // One row group's columns (as read by AddParquet) through impl_->Add.
  absl::Status AddGroup(const std::vector<parquet::Column>& c, int64_t batch_rows) {
    const int64_t rows = c[kRecipientCol].length;
    for (int k = 0; k < kNumHistoryCols; ++k) {
      if (c[k].length != rows) {
        return WithColumn(absl::DataLossError(absl::StrCat("column '", kHistoryColumnNames[k], "' has ",
                                                           c[k].length, " rows in a row group of ", rows)),
                          kHistoryColumnNames[k]);
      }
    }
    const parquet::Column& rec = c[kRecipientCol];
    if (rec.kind != parquet::Column::Kind::kStringViews) {
      return WithColumn(absl::InvalidArgumentError("column 'recipient' must be text"), "recipient");
    }
    std::vector<const char*> rec_buffers;
    rec_buffers.reserve(rec.buffers.size());
    for (const parquet::Buffer& b : rec.buffers) rec_buffers.push_back(b.data());
    Int64ColumnView ints[2];
    std::vector<int64_t> widened[2];
    for (int k = 0; k < 2; ++k) {
      const parquet::Column& col = c[kCampaignCol + k];
      const uint8_t* validity = col.validity.empty() ? nullptr : col.validity.as<uint8_t>();
      if (col.kind == parquet::Column::Kind::kInt64) {
        ints[k] = Int64ColumnView{col.values.as<int64_t>(), validity, 0, rows};
      } else if (col.kind == parquet::Column::Kind::kInt32) {
        const int32_t* v = col.values.as<int32_t>();
        widened[k].assign(v, v + rows);
        ints[k] = Int64ColumnView{widened[k].data(), validity, 0, rows};
      } else {
        const char* name = kHistoryColumnNames[kCampaignCol + k];
        return WithColumn(absl::InvalidArgumentError(absl::StrCat("column '", name, "' must be integers")), name);
      }
    }
    const parquet::Column& cls = c[kClassCol];
    std::vector<const char*> cls_buffers;
    const bool dictionary = cls.kind == parquet::Column::Kind::kStringDictionary;
    if (dictionary) {
      // One EventClass per dictionary value, then one per row (null rows:
      // other); the core checked each valid row's index against the
      // dictionary.
      const size_t values = cls.dict_offsets.empty() ? 0 : cls.dict_offsets.size() - 1;
      std::vector<uint8_t> map(values);
      for (size_t v = 0; v < values; ++v) {
        const absl::string_view s(cls.dict_data.data() + cls.dict_offsets[v],
                                  static_cast<size_t>(cls.dict_offsets[v + 1] - cls.dict_offsets[v]));
        map[v] = static_cast<uint8_t>(ParseEventClass(s));
      }
      const int32_t* idx = cls.indices.as<int32_t>();
      const uint8_t* validity = cls.validity.empty() ? nullptr : cls.validity.as<uint8_t>();
      codes_.resize(static_cast<size_t>(rows));
      for (int64_t i = 0; i < rows; ++i) {
        const bool valid = validity == nullptr || ArrowBitIsSet(validity, i);
        codes_[i] = valid ? map[static_cast<uint32_t>(idx[i])] : static_cast<uint8_t>(EventClass::kOther);
      }
    } else if (cls.kind == parquet::Column::Kind::kStringViews) {
      for (const parquet::Buffer& b : cls.buffers) cls_buffers.push_back(b.data());
    } else {
      return WithColumn(absl::InvalidArgumentError("column 'bounce_class' must be text"), "bounce_class");
    }
    for (int64_t start = 0; start < rows; start += batch_rows) {
      const int64_t len = std::min(batch_rows, rows - start);
      HistoryBatch b;
      b.num_rows = len;
      b.recipient = StringColumn::Utf8View(rec.views.as<uint8_t>(), rec_buffers.data(),
                                           static_cast<int64_t>(rec_buffers.size()),
                                           rec.validity.empty() ? nullptr : rec.validity.as<uint8_t>(), start, len);
      b.campaign_id = ints[0];
      b.ts = ints[1];
      for (Int64ColumnView* v : {&b.campaign_id, &b.ts}) {
        v->offset = start;
        v->length = len;
      }
      if (dictionary) {
        b.bounce_class = StringColumn::AllNull(0);  // not read when codes are given
        b.bounce_class_codes = absl::Span<const uint8_t>(codes_.data() + start, static_cast<size_t>(len));
      } else {
        b.bounce_class = StringColumn::Utf8View(cls.views.as<uint8_t>(), cls_buffers.data(),
                                                static_cast<int64_t>(cls_buffers.size()),
                                                cls.validity.empty() ? nullptr : cls.validity.as<uint8_t>(), start,
                                                len);
      }
      absl::Status st = impl_->Add(b);
      if (!st.ok()) return st;
      rows_added_.fetch_add(len, std::memory_order_relaxed);
    }
    return absl::OkStatus();
  }

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
  std::atomic<int64_t> rows_added_{0};  // rows add_parquet has added
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
      .def("add_parquet", &PyHistory::add_parquet, py::arg("file"), py::arg("columns"), py::arg("batch_rows"),
           py::arg("read_threads"), py::arg("first_group") = 0,
           "Adds row groups first_group.. of a ParquetFile (columns: the file's indices of recipient, "
           "campaign_id, ts, bounce_class), read and added without the GIL; returns the row group it "
           "stopped at (num_row_groups, or one the core's reader does not decode).")
      .def("finish", &PyHistory::finish, py::arg("threads") = 1,
           "Computes the results (once) as dicts of numpy arrays.")
      .def("finish_csv", &PyHistory::finish_csv, py::arg("threads"), py::arg("suppressions_path"),
           py::arg("aggregates_path"), py::arg("float_digits") = 12, py::arg("durable") = false,
           "finish() with the tables written to CSV by the core ('' leaves one out); returns row counts.")
      .def_property_readonly("rows_seen", &PyHistory::rows_seen)
      .def_property_readonly("rows_added", &PyHistory::rows_added,
                             "Rows add_parquet has added so far (safe to read while it runs).")
      .def_property_readonly("recipients", &PyHistory::recipients)
      .def_property_readonly("memory_usage", &PyHistory::memory_usage)
      .def_property_readonly("suppressions", &PyHistory::suppressions)
      .def_property_readonly("aggregates", &PyHistory::aggregates)
      .def_property_readonly("policy", &PyHistory::policy);
}

}  // namespace bouncekit::python
