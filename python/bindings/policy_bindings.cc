// Copyright 2026 The bouncekit authors.
//
// Bindings for declarative policies and the policy engine (policy.h).

#include <cstdint>
#include <cstring>
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
#include "bouncekit/policy.h"
#include "config_convert.h"
#include "errors.h"

namespace py = pybind11;

namespace bouncekit::python {
namespace {

using U8 = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>;

template <typename T>
py::array_t<T> ToArray(const std::vector<T>& v) {
  py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
  if (!v.empty()) std::memcpy(a.mutable_data(), v.data(), v.size() * sizeof(T));
  return a;
}

absl::StatusOr<Int64ColumnView> Int64Column(py::handle capsules, absl::string_view column) {
  absl::StatusOr<ArrowPair> p = PairFromCapsules(capsules, column);
  if (!p.ok()) return p.status();
  absl::StatusOr<IntColumnView> v = ImportIntColumn(*p, column);
  if (!v.ok()) return v.status();
  if (v->width != 8 || !v->is_signed) {
    return WithColumn(absl::InvalidArgumentError(absl::StrCat("column '", column, "' must be int64 here")), column);
  }
  return Int64ColumnView{static_cast<const int64_t*>(v->values), v->validity, v->offset, v->length};
}

py::dict PolicyToDict(const Policy& p) {
  py::dict d;
  d["name"] = p.name;
  d["description"] = p.description;
  d["source"] = p.source;
  d["min_spacing_hours"] = static_cast<double>(p.min_spacing_seconds) / 3600.0;
  d["greylist_exempt"] = p.greylist_exempt;
  d["greylist_grace_hours"] = static_cast<double>(p.greylist_grace_seconds) / 3600.0;
  py::list rules;
  for (const PolicyRule& r : p.rules) {
    py::dict x;
    x["name"] = r.name;
    x["kind"] = std::string(RuleKindName(r.kind));
    x["action"] = std::string(PolicyActionName(r.action));
    x["count"] = r.count;
    if (r.count_engaged) x["count_engaged"] = r.count_engaged;
    if (r.distinct_campaigns) x["distinct_campaigns"] = true;
    if (r.window_seconds) x["window_days"] = static_cast<double>(r.window_seconds) / 86400.0;
    if (r.pause_seconds) x["pause_days"] = static_cast<double>(r.pause_seconds) / 86400.0;
    if (r.kind == RuleKind::kHard) x["blame"] = r.any_blame ? "any" : "recipient";
    rules.append(x);
  }
  d["rules"] = rules;
  return d;
}

py::dict DecisionsToDict(const DecisionTable& t) {
  py::dict d;
  d["recipient"] = py::cast(t.recipient);
  d["action"] = ToArray(t.action);
  d["rule"] = ToArray(t.rule);
  d["decided_at"] = ToArray(t.decided_at);
  d["until"] = ToArray(t.until);
  d["event_number"] = ToArray(t.event_number);
  d["decisions"] = ToArray(t.decisions);
  std::vector<int64_t> offsets{0}, row, ts, campaign;
  std::vector<uint8_t> klass;
  for (const auto& ev : t.evidence) {
    for (const EvidenceEvent& e : ev) {
      row.push_back(e.row);
      ts.push_back(e.ts);
      campaign.push_back(e.campaign_id);
      klass.push_back(e.klass);
    }
    offsets.push_back(static_cast<int64_t>(row.size()));
  }
  d["evidence_offsets"] = ToArray(offsets);
  d["evidence_row"] = ToArray(row);
  d["evidence_ts"] = ToArray(ts);
  d["evidence_campaign_id"] = ToArray(campaign);
  d["evidence_class"] = ToArray(klass);
  return d;
}

class PyPolicy {
 public:
  explicit PyPolicy(Policy p) : p_(std::move(p)) {}
  py::dict to_dict() const { return PolicyToDict(p_); }
  std::string name() const { return p_.name; }
  std::string fingerprint() const { return p_.Fingerprint(); }
  const Policy& get() const { return p_; }

 private:
  Policy p_;
};

class PyEngine {
 public:
  explicit PyEngine(const PyPolicy& p) : impl_(ValueOrThrow(PolicyEngine::Create(p.get()))) {}
  explicit PyEngine(std::unique_ptr<PolicyEngine> e) : impl_(std::move(e)) {}

  void add(const py::dict& columns, int64_t num_rows) {
    PolicyBatch b;
    b.num_rows = num_rows;
    for (const char* c : {"recipient", "campaign_id", "ts", "klass"}) {
      if (!columns.contains(c)) {
        ThrowIfError(WithColumn(absl::NotFoundError(absl::StrCat("the batch has no '", c, "' column")), c));
      }
    }
    py::object rec = columns["recipient"], camp = columns["campaign_id"], ts = columns["ts"];
    b.recipient = ValueOrThrow(ImportStringColumn(ValueOrThrow(PairFromCapsules(rec, "recipient")), "recipient"));
    b.campaign_id = ValueOrThrow(Int64Column(camp, "campaign_id"));
    b.ts = ValueOrThrow(Int64Column(ts, "ts"));
    U8 klass = U8::ensure(columns["klass"]);
    if (!klass || klass.ndim() != 1) {
      ThrowIfError(WithColumn(absl::InvalidArgumentError("klass must be a 1-d uint8 array"), "bounce_class"));
    }
    b.klass = absl::Span<const uint8_t>(klass.data(), static_cast<size_t>(klass.size()));
    U8 flags;
    if (columns.contains("flags")) {
      flags = U8::ensure(columns["flags"]);
      if (!flags || flags.ndim() != 1) {
        ThrowIfError(WithColumn(absl::InvalidArgumentError("flags must be a 1-d uint8 array"), "flags"));
      }
      b.flags = absl::Span<const uint8_t>(flags.data(), static_cast<size_t>(flags.size()));
    }
    absl::Status st;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mu_);
      st = impl_->Add(b);
    }
    ThrowIfError(st);
  }

  void run() {
    absl::Status st;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mu_);
      st = impl_->Run();
    }
    ThrowIfError(st);
  }

  py::dict decisions() const { return DecisionsToDict(impl_->Decisions()); }
  py::dict decision_of(const std::string& r) const { return DecisionsToDict(ValueOrThrow(impl_->DecisionOf(r))); }

  py::dict features() const { return FeaturesToDict(impl_->Features()); }
  py::dict features_of(const std::string& r) const { return FeaturesToDict(ValueOrThrow(impl_->FeaturesOf(r))); }

  static py::dict FeaturesToDict(const RecipientFeatures& f) {
    py::dict d;
    d["recipient"] = py::cast(f.recipient);
    d["events"] = ToArray(f.events);
    d["delivered"] = ToArray(f.delivered);
    d["soft"] = ToArray(f.soft);
    d["hard"] = ToArray(f.hard);
    d["block"] = ToArray(f.block);
    d["complaint"] = ToArray(f.complaint);
    d["mailbox_full"] = ToArray(f.mailbox_full);
    d["soft_streak"] = ToArray(f.soft_streak);
    d["first_ts"] = ToArray(f.first_ts);
    d["last_ts"] = ToArray(f.last_ts);
    d["last_delivered"] = ToArray(f.last_delivered);
    d["engaged"] = ToArray(f.engaged);
    d["action"] = ToArray(f.action);
    return d;
  }

  py::dict summary() const {
    const InputSummary& s = impl_->summary();
    py::dict d;
    d["rows"] = s.rows;
    d["used"] = s.used;
    py::dict skipped;
    for (int k = 0; k < kNumSkipReasons; ++k) skipped[py::str(std::string(SkipReasonName(static_cast<SkipReason>(k))))] = s.skipped[k];
    d["skipped"] = skipped;
    py::dict by_class;
    for (int k = 0; k < kNumPolicyClasses; ++k) by_class[py::str(std::string(PolicyClassName(static_cast<PolicyClass>(k))))] = s.by_class[k];
    d["by_class"] = by_class;
    d["late"] = s.late;
    d["greylist_pending"] = s.greylist_pending;
    d["recipients"] = impl_->num_recipients();
    return d;
  }

  void save_state(const std::string& path) const {
    absl::Status st;
    {
      py::gil_scoped_release release;
      st = impl_->SaveState(path);
    }
    ThrowIfError(st);
  }
  py::bytes state_bytes() const { return py::bytes(ValueOrThrow(impl_->SerializeState())); }
  PyPolicy policy() const { return PyPolicy(impl_->policy()); }

 private:
  std::unique_ptr<PolicyEngine> impl_;
  std::mutex mu_;
};

}  // namespace

void RegisterPolicy(py::module_& m) {
  std::vector<std::string> classes, actions;
  for (int c = 0; c < kNumPolicyClasses; ++c) classes.emplace_back(PolicyClassName(static_cast<PolicyClass>(c)));
  for (int a = 0; a <= static_cast<int>(PolicyAction::kSuppress); ++a) {
    actions.emplace_back(PolicyActionName(static_cast<PolicyAction>(a)));
  }
  m.attr("POLICY_CLASSES") = py::tuple(py::cast(classes));
  m.attr("POLICY_ACTIONS") = py::tuple(py::cast(actions));
  m.attr("POLICY_FLAG_GREYLIST") = kFlagGreylist;
  m.attr("POLICY_FLAG_SENDER_BLAME") = kFlagSenderBlame;
  m.attr("POLICY_FLAG_ENGAGED") = kFlagEngaged;
  m.attr("POLICY_FLAG_MAILBOX_FULL") = kFlagMailboxFull;
  m.attr("POLICY_INVALID_CLASS") = kInvalidClassCode;
  m.attr("POLICY_STATE_VERSION") = PolicyEngine::kStateVersion;

  py::class_<PyPolicy>(m, "Policy", "A validated declarative suppression policy.")
      .def("to_dict", &PyPolicy::to_dict, "The policy as plain data (durations in hours/days).")
      .def_property_readonly("name", &PyPolicy::name)
      .def_property_readonly("fingerprint", &PyPolicy::fingerprint);
  m.def(
      "policy_from_toml",
      [](const std::string& text, const std::string& source) {
        return PyPolicy(ValueOrThrow(ParsePolicyToml(text, source)));
      },
      py::arg("text"), py::arg("source") = "", "Reads and validates a policy from TOML text.");
  m.def(
      "policy_from_config",
      [](py::handle obj, const std::string& source) {
        ConfigValue doc = ValueOrThrow(ConfigFromPython(obj, ""));
        return PyPolicy(ValueOrThrow(PolicyFromConfig(doc, source)));
      },
      py::arg("config"), py::arg("source") = "",
      "Reads and validates a policy from plain data (a dict as read from JSON/YAML/TOML).");
  m.def("standard_policy", [] { return PyPolicy(StandardPolicy()); }, "SPEC.md W2 as a declarative policy.");

  py::class_<PyEngine>(m, "PolicyEngine", "Applies a policy to events, run by run; state can be saved.")
      .def(py::init<const PyPolicy&>(), py::arg("policy"))
      .def("add", &PyEngine::add, py::arg("columns"), py::arg("num_rows"),
           "Buffers rows: recipient, campaign_id, ts (Arrow capsule pairs), klass and optional flags (uint8).")
      .def("run", &PyEngine::run, "Walks the buffered rows into the per-recipient state.")
      .def("decisions", &PyEngine::decisions, "Current decisions, sorted by recipient.")
      .def("decision_of", &PyEngine::decision_of, py::arg("recipient"), "One recipient's decision (0 or 1 rows).")
      .def("features", &PyEngine::features, "Per-recipient counters, sorted by recipient.")
      .def("features_of", &PyEngine::features_of, py::arg("recipient"), "One recipient's counters.")
      .def("summary", &PyEngine::summary, "Rows in, used, skipped by reason.")
      .def("save_state", &PyEngine::save_state, py::arg("path"), "Saves the state atomically.")
      .def("state_bytes", &PyEngine::state_bytes, "The state file's bytes.")
      .def_property_readonly("policy", &PyEngine::policy)
      .def_static(
          "load_state",
          [](const PyPolicy& p, const std::string& path) {
            std::unique_ptr<PolicyEngine> e;
            {
              absl::StatusOr<std::unique_ptr<PolicyEngine>> r;
              {
                py::gil_scoped_release release;
                r = PolicyEngine::LoadState(p.get(), path);
              }
              e = ValueOrThrow(std::move(r));
            }
            return std::make_unique<PyEngine>(std::move(e));
          },
          py::arg("policy"), py::arg("path"), "Resumes from a state file saved with the same policy.")
      .def_static(
          "from_state_bytes",
          [](const PyPolicy& p, const py::bytes& b) {
            return std::make_unique<PyEngine>(ValueOrThrow(PolicyEngine::FromState(p.get(), std::string(b))));
          },
          py::arg("policy"), py::arg("data"));
}

}  // namespace bouncekit::python
