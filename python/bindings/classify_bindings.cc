// Copyright 2026 The bouncekit authors.
//
// Bindings for status parsing, rule sets and the classifier. Batch work reads
// Arrow buffers in place, runs with the GIL released, and writes into numpy
// arrays allocated beforehand.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "arrow_import.h"
#include "bouncekit/classify.h"
#include "bouncekit/error_location.h"
#include "bouncekit/rules.h"
#include "bouncekit/smtp_status.h"
#include "bouncekit/taxonomy.h"
#include "config_convert.h"
#include "errors.h"

namespace py = pybind11;

namespace bouncekit::python {
namespace {

absl::string_view View(const std::string& s) { return absl::string_view(s.data(), s.size()); }

// str or bytes -> std::string (bytes are taken as they are).
std::string TextArg(py::handle h) {
  if (h.is_none()) return std::string();
  if (py::isinstance<py::bytes>(h)) return h.cast<std::string>();
  if (py::isinstance<py::str>(h)) {
    Py_ssize_t n = 0;
    const char* p = PyUnicode_AsUTF8AndSize(h.ptr(), &n);
    if (p == nullptr) {
      // Lone surrogates: encode with surrogateescape-like replacement.
      PyErr_Clear();
      py::bytes b = py::reinterpret_steal<py::bytes>(
          PyUnicode_AsEncodedString(h.ptr(), "utf-8", "surrogatepass"));
      return b.cast<std::string>();
    }
    return std::string(p, static_cast<size_t>(n));
  }
  return py::str(h).cast<std::string>();
}

py::tuple StatusTuple(const EnhancedStatus& s) {
  return py::make_tuple(static_cast<int>(s.klass), static_cast<int>(s.subject),
                        static_cast<int>(s.detail));
}

py::dict DescribeStatusDict(const EnhancedStatus& s) {
  StatusDescription d = DescribeStatus(s);
  py::dict out;
  out["status"] = s.ToString();
  out["class"] = static_cast<int>(s.klass);
  out["subject"] = static_cast<int>(s.subject);
  out["detail"] = static_cast<int>(s.detail);
  out["registered"] = d.registered;
  out["class_name"] = std::string(d.class_name);
  out["subject_name"] = std::string(d.subject_name);
  out["detail_name"] = std::string(d.detail_name);
  return out;
}

const char* SourceName(CodeSource s) {
  switch (s) {
    case CodeSource::kGiven: return "given";
    case CodeSource::kText: return "text";
    default: return "none";
  }
}

template <typename T>
py::array_t<T> NewArray(int64_t n) {
  return py::array_t<T>(static_cast<py::ssize_t>(n));
}

// An array of n T whose memory comes from allocate(bytes) (an object with a
// writable buffer, e.g. a pyarrow buffer from Arrow's memory pool, which
// hands freed pages out again instead of faulting fresh ones in); NewArray
// when allocate is None.
template <typename T>
py::array_t<T> NewArrayFrom(const py::object& allocate, int64_t n) {
  if (allocate.is_none() || n == 0) return NewArray<T>(n);
  py::object owner = allocate(static_cast<py::ssize_t>(n) * static_cast<py::ssize_t>(sizeof(T)));
  py::buffer_info info = py::buffer(owner).request(/*writable=*/true);
  if (info.size * info.itemsize < n * static_cast<int64_t>(sizeof(T))) {
    throw py::value_error("allocate() returned a buffer smaller than asked for");
  }
  return py::array_t<T>({static_cast<py::ssize_t>(n)}, {static_cast<py::ssize_t>(sizeof(T))},
                        static_cast<T*>(info.ptr), owner);
}

template <typename T>
absl::Span<T> SpanOf(py::array_t<T>& a) {
  return absl::Span<T>(a.mutable_data(), static_cast<size_t>(a.size()));
}

class PyClassifier {
 public:
  PyClassifier(const RuleSet& rules, const std::string& profile, std::optional<bool> infer) {
    ClassifierOptions opts;
    opts.profile = profile;
    opts.infer_codes_from_text = infer;
    impl_ = ValueOrThrow(Classifier::Create(rules, opts));
  }

  std::string profile() const { return impl_->profile().name; }
  bool infer() const { return impl_->infer_codes_from_text(); }
  std::vector<std::string> category_names() const { return impl_->category_names(); }
  std::vector<std::string> class_labels() const {
    std::vector<std::string> out;
    for (int i = 0; i < kNumBounceClasses; ++i) {
      out.emplace_back(impl_->class_label(static_cast<BounceClass>(i)));
    }
    return out;
  }
  std::vector<std::string> rule_ids() const {
    std::vector<std::string> out;
    for (const Rule& r : impl_->rule_set().rules()) out.push_back(r.id);
    return out;
  }
  std::vector<std::string> rule_explanations() const {
    std::vector<std::string> out;
    const int n = static_cast<int>(impl_->rule_set().rules().size());
    for (int i = 0; i < n; ++i) out.push_back(impl_->RuleExplanation(i));
    return out;
  }
  // Per category index: (sisimai reason, group); custom categories give ("", "custom").
  std::vector<std::pair<std::string, std::string>> category_details() const {
    std::vector<std::pair<std::string, std::string>> out;
    const auto& names = impl_->category_names();
    for (size_t i = 0; i < names.size(); ++i) {
      const CategoryInfo* info = impl_->category_info(static_cast<int32_t>(i));
      if (info != nullptr) {
        out.emplace_back(std::string(info->sisimai_reason), std::string(info->group));
      } else {
        std::string sis;
        for (const CustomCategory& c : impl_->rule_set().custom_categories()) {
          if (c.name == names[i]) sis = c.sisimai_reason;
        }
        out.emplace_back(sis, "custom");
      }
    }
    return out;
  }
  // SES (type, subtype) and SparkPost class for (category index, class, reply class).
  py::tuple mapping(int32_t category, int klass, int reply_class) const {
    if (klass < 0 || klass >= kNumBounceClasses) {
      ThrowIfError(absl::InvalidArgumentError("class index out of range"));
    }
    const CategoryInfo* info = impl_->category_info(category);
    const BounceClass bc = static_cast<BounceClass>(klass);
    SesBounce ses = MapToSes(info, bc, reply_class);
    int sp = MapToSparkPost(info, bc, reply_class);
    return py::make_tuple(std::string(ses.type), std::string(ses.subtype), sp);
  }

  py::dict classify_one(py::object reply_code, py::object enhanced_status, py::object diagnostic,
                        py::object smtp_command, py::object remote_host, py::object action,
                        py::object destination) const {
    int code = 0;
    if (!reply_code.is_none()) {
      if (py::isinstance<py::str>(reply_code) || py::isinstance<py::bytes>(reply_code)) {
        std::optional<int> c = ParseReplyCode(TextArg(reply_code));
        code = c.value_or(0);
      } else if (py::isinstance<py::float_>(reply_code)) {
        double d = reply_code.cast<double>();
        code = (d == d && d >= 200 && d < 600 && d == static_cast<int>(d)) ? static_cast<int>(d) : 0;
      } else {
        long long v = 0;
        try {
          v = reply_code.cast<long long>();
        } catch (const py::cast_error&) {
          ThrowIfError(WithField(absl::InvalidArgumentError("reply_code must be an int, a string or None"),
                                 "reply_code"));
        }
        code = IsValidReplyCode(v) ? static_cast<int>(v) : 0;
      }
    }
    const std::string es = TextArg(enhanced_status), dg = TextArg(diagnostic), sc = TextArg(smtp_command),
                      rh = TextArg(remote_host), ac = TextArg(action), de = TextArg(destination);
    Response r;
    r.reply_code = code;
    r.enhanced_status = View(es);
    r.diagnostic = View(dg);
    r.smtp_command = View(sc);
    r.remote_host = View(rh);
    r.action = View(ac);
    r.destination = View(de);
    Classification c;
    std::string explanation;
    {
      py::gil_scoped_release release;
      c = impl_->Classify(r);
      explanation = impl_->Explain(r, c);
    }
    py::dict out;
    out["bounce_class"] = std::string(impl_->class_label(c.bounce_class));
    out["category"] = impl_->category_names()[c.category];
    out["category_index"] = c.category;
    out["bounce_class_index"] = static_cast<int>(c.bounce_class);
    out["blame"] = std::string(BlameName(c.blame));
    out["retryable"] = c.retryable;
    out["rule_index"] = c.rule;
    out["rule_id"] = c.rule >= 0 ? py::object(py::str(impl_->rule_set().rules()[c.rule].id)) : py::object(py::none());
    out["reply_code"] = c.reply_code ? py::object(py::int_(c.reply_code)) : py::object(py::none());
    out["reply_code_source"] = SourceName(c.reply_code_source);
    out["enhanced_status"] = c.status.present() ? py::object(py::str(c.status.ToString())) : py::object(py::none());
    out["status_source"] = SourceName(c.status_source);
    out["status"] = c.status.present() ? py::object(DescribeStatusDict(c.status)) : py::object(py::none());
    out["match"] = c.match_begin >= 0 ? py::object(py::make_tuple(c.match_begin, c.match_end)) : py::object(py::none());
    out["explanation"] = explanation;
    return out;
  }

  // batches: list of dicts column name -> (schema capsule, array capsule).
  py::dict classify_arrow(py::list batches, int threads, bool spans, py::object outputs,
                          py::object allocate) const {
    static const char* kStringCols[] = {"enhanced_status", "diagnostic", "smtp_command",
                                        "remote_host", "action", "destination"};
    std::vector<ClassifyInput> inputs;
    std::vector<py::object> keep_alive;
    int64_t total = 0;
    int64_t batch_no = 0;
    for (py::handle bh : batches) {
      py::dict b = py::reinterpret_borrow<py::dict>(bh);
      ClassifyInput in;
      int64_t n = -1;
      auto note_length = [&](int64_t len, const char* col) {
        if (n < 0) {
          n = len;
        } else if (len != n) {
          ThrowIfError(WithColumn(
              absl::InvalidArgumentError(absl::StrCat("column '", col, "' has ", len, " rows but column(s) before it have ", n,
                                                      " (batch ", batch_no, ")")),
              col));
        }
      };
      if (b.contains("reply_code")) {
        py::object caps = b["reply_code"];
        keep_alive.push_back(caps);
        ArrowPair p = ValueOrThrow(PairFromCapsules(caps, "reply_code"));
        in.reply_code = ValueOrThrow(ImportCodeColumn(p, "reply_code"));
        note_length(in.reply_code.size(), "reply_code");
      }
      StringColumn* dst[] = {&in.enhanced_status, &in.diagnostic, &in.smtp_command,
                             &in.remote_host, &in.action, &in.destination};
      for (int k = 0; k < 6; ++k) {
        if (!b.contains(kStringCols[k])) continue;
        py::object caps = b[kStringCols[k]];
        keep_alive.push_back(caps);
        ArrowPair p = ValueOrThrow(PairFromCapsules(caps, kStringCols[k]));
        *dst[k] = ValueOrThrow(ImportStringColumn(p, kStringCols[k]));
        note_length(dst[k]->size(), kStringCols[k]);
      }
      if (n < 0) {
        if (!b.contains("__num_rows__")) {
          ThrowIfError(absl::InvalidArgumentError("a batch has no columns and no row count"));
        }
        n = b["__num_rows__"].cast<int64_t>();
      }
      if (!b.contains("reply_code")) in.reply_code = CodeColumn::AllNull(n);
      for (int k = 0; k < 6; ++k) {
        if (!b.contains(kStringCols[k])) *dst[k] = StringColumn::AllNull(n);
      }
      in.num_rows = n;
      total += n;
      inputs.push_back(in);
      ++batch_no;
    }
    // Only the outputs asked for are allocated and written (None: all).
    absl::flat_hash_set<std::string> wanted;
    if (!outputs.is_none()) {
      for (py::handle h : outputs) wanted.insert(py::cast<std::string>(h));
    }
    ClassifyOutput out;
    std::vector<std::pair<const char*, py::object>> made;  // the arrays handed back
    size_t known = 0;
    auto add = [&](const char* name, auto& span) {
      using T = typename std::remove_reference_t<decltype(span)>::value_type;
      const bool want = outputs.is_none() || wanted.contains(name);
      known += wanted.contains(name) ? 1 : 0;
      auto arr = NewArrayFrom<T>(allocate, want ? total : 0);
      span = SpanOf(arr);
      if (want) made.emplace_back(name, arr);
    };
    add("bounce_class", out.bounce_class);
    add("category", out.category);
    add("blame", out.blame);
    add("retryable", out.retryable);
    add("rule", out.rule);
    add("reply_code", out.reply_code);
    add("reply_code_source", out.reply_code_source);
    add("status", out.status);
    add("status_source", out.status_source);
    add("status_class", out.status_class);
    add("status_subject", out.status_subject);
    add("status_detail", out.status_detail);
    add("status_registered", out.status_registered);
    if (known != wanted.size()) {
      ThrowIfError(absl::InvalidArgumentError(
          absl::StrCat("unknown output in [", absl::StrJoin(wanted, ", "), "]")));
    }
    const bool want_status = outputs.is_none() || wanted.contains("status");
    py::array_t<int32_t> match_begin = NewArray<int32_t>(spans ? total : 0);
    py::array_t<int32_t> match_end = NewArray<int32_t>(spans ? total : 0);
    if (spans) {
      out.match_begin = SpanOf(match_begin);
      out.match_end = SpanOf(match_end);
    }
    StatusDictionary dict;
    absl::Status st;
    {
      py::gil_scoped_release release;
      st = impl_->ClassifyBatches(inputs, threads, out, &dict);
    }
    ThrowIfError(st);
    py::dict result;
    for (const auto& [name, arr] : made) result[name] = arr;
    if (want_status) {
      py::list statuses;
      for (const EnhancedStatus& s : dict.statuses) statuses.append(StatusTuple(s));
      result["status_dictionary"] = statuses;
    }
    if (spans) {
      result["match_begin"] = match_begin;
      result["match_end"] = match_end;
    }
    return result;
  }

 private:
  std::unique_ptr<Classifier> impl_;
};

py::list RulesAsDicts(const RuleSet& rs) {
  py::list out;
  for (const Rule& r : rs.rules()) {
    py::dict d;
    d["id"] = r.id;
    std::vector<std::string> codes, statuses;
    for (const CodePattern& p : r.codes) {
      if (p.hi == 0) {
        codes.push_back("none");
        continue;
      }
      std::string s = absl::StrCat(p.lo);
      if (p.hi - p.lo == 9) s[2] = 'x';
      if (p.hi - p.lo == 99) s[1] = s[2] = 'x';
      codes.push_back(s);
    }
    for (const StatusPattern& p : r.statuses) statuses.push_back(p.ToString());
    d["code"] = codes;
    d["status"] = statuses;
    d["text"] = r.text;
    d["not_text"] = r.not_text;
    d["command"] = r.commands;
    d["action"] = r.actions;
    d["remote_host"] = r.remote_host;
    d["destination"] = r.destination;
    d["profiles"] = r.profiles;
    d["not_profiles"] = r.not_profiles;
    d["category"] = r.category;
    d["class"] = r.bounce_class ? py::object(py::str(std::string(BounceClassName(*r.bounce_class)))) : py::object(py::none());
    d["blame"] = r.blame ? py::object(py::str(std::string(BlameName(*r.blame)))) : py::object(py::none());
    d["retryable"] = r.retryable ? py::object(py::bool_(*r.retryable)) : py::object(py::none());
    d["why"] = r.why;
    d["line"] = r.source_line;
    out.append(d);
  }
  return out;
}

}  // namespace

void RegisterClassify(py::module_& m) {
  m.def(
      "parse_status",
      [](const std::string& text) {
        return DescribeStatusDict(ValueOrThrow(ParseEnhancedStatus(View(text))));
      },
      py::arg("text"),
      "Strictly parses an RFC 3463 status 'class.subject.detail'; raises InvalidArgumentError.");
  m.def(
      "find_codes_in_text",
      [](py::object text) {
        const std::string t = TextArg(text);
        TextCodes tc;
        {
          py::gil_scoped_release release;
          tc = FindCodesInText(View(t));
        }
        py::dict d;
        d["reply_code"] = tc.reply_code ? py::object(py::int_(tc.reply_code)) : py::object(py::none());
        d["enhanced_status"] = tc.status.present() ? py::object(py::str(tc.status.ToString())) : py::object(py::none());
        d["reply_code_pos"] = tc.reply_code_pos;
        d["status_pos"] = tc.status_pos;
        return d;
      },
      py::arg("text"), "Finds the reply code and enhanced status that a diagnostic text reports.");
  m.def(
      "parse_reply_code", [](const std::string& s) { return ParseReplyCode(View(s)); }, py::arg("text"),
      "Parses a three-digit reply code (200..599); None for anything else.");
  m.def(
      "categories",
      []() {
        py::list out;
        for (const CategoryInfo& c : Categories()) {
          py::dict d;
          d["name"] = std::string(c.name);
          d["class"] = std::string(BounceClassName(c.default_class));
          d["blame"] = std::string(BlameName(c.blame));
          d["retry"] = c.retry == Retry::kYes ? "yes" : c.retry == Retry::kNo ? "no" : "by reply class";
          d["sisimai_reason"] = std::string(c.sisimai_reason);
          d["ses_type"] = std::string(c.ses_type);
          d["ses_subtype"] = std::string(c.ses_subtype);
          d["sparkpost_class"] = static_cast<int>(c.sparkpost_class);
          d["group"] = std::string(c.group);
          d["description"] = std::string(c.description);
          out.append(d);
        }
        return out;
      },
      "The built-in category taxonomy, in documentation order.");
  m.def(
      "map_category",
      [](const std::string& category, const std::string& bounce_class, int reply_class) {
        const CategoryInfo* info = FindCategory(category);
        std::optional<BounceClass> bc = ParseBounceClass(bounce_class);
        if (!bc.has_value()) {
          ThrowIfError(WithField(absl::InvalidArgumentError(absl::StrCat("unknown class '", bounce_class, "'")),
                                 "bounce_class"));
        }
        SesBounce ses = MapToSes(info, *bc, reply_class);
        return py::make_tuple(info ? std::string(info->sisimai_reason) : std::string(),
                              std::string(ses.type), std::string(ses.subtype),
                              MapToSparkPost(info, *bc, reply_class));
      },
      py::arg("category"), py::arg("bounce_class"), py::arg("reply_class") = 0,
      "(Sisimai reason, SES type, SES subtype, SparkPost class) of a built-in category.");
  m.attr("BOUNCE_CLASSES") = py::make_tuple("delivered", "soft", "hard", "block", "complaint",
                                             "auto_reply", "undetermined");
  m.attr("BLAMES") = py::make_tuple("recipient", "message", "sender", "infrastructure", "unknown");
  m.attr("CODE_SOURCES") = py::make_tuple("none", "given", "text");

  py::class_<RuleSet>(m, "RuleSet", "An ordered classification rule set (see rules.h for the format).")
      .def_static(
          "parse",
          [](const std::string& text, const std::string& source) {
            return ValueOrThrow(RuleSet::Parse(View(text), View(source)));
          },
          py::arg("text"), py::arg("source") = "", "Parses a TOML or TSV rule file's text.")
      .def_static(
          "from_config",
          [](py::object obj, const std::string& source) {
            ConfigValue v = ValueOrThrow(ConfigFromPython(obj));
            return ValueOrThrow(RuleSet::FromConfig(v, View(source)));
          },
          py::arg("config"), py::arg("source") = "",
          "Builds a rule set from a dict with the TOML file's structure.")
      .def_property_readonly("name", &RuleSet::name)
      .def_property_readonly("version", &RuleSet::version)
      .def_property_readonly("description", &RuleSet::description)
      .def_property_readonly("infer_codes_from_text", &RuleSet::infer_codes_from_text)
      .def_property_readonly("profiles",
                             [](const RuleSet& rs) {
                               std::vector<std::pair<std::string, std::string>> out;
                               for (const Profile& p : rs.profiles()) out.emplace_back(p.name, p.description);
                               return out;
                             })
      .def("rules", &RulesAsDicts, "The rules as dicts, in order.")
      .def("__len__", [](const RuleSet& rs) { return rs.rules().size(); });

  py::class_<PyClassifier>(m, "Classifier", "A compiled rule set + profile.")
      .def(py::init<const RuleSet&, const std::string&, std::optional<bool>>(), py::arg("rules"),
           py::arg("profile") = "default", py::arg("infer_codes_from_text") = py::none())
      .def_property_readonly("profile", &PyClassifier::profile)
      .def_property_readonly("infer_codes_from_text", &PyClassifier::infer)
      .def_property_readonly("category_names", &PyClassifier::category_names)
      .def_property_readonly("class_labels", &PyClassifier::class_labels)
      .def_property_readonly("rule_ids", &PyClassifier::rule_ids)
      .def_property_readonly("rule_explanations", &PyClassifier::rule_explanations)
      .def("category_details", &PyClassifier::category_details)
      .def("mapping", &PyClassifier::mapping, py::arg("category"), py::arg("bounce_class"), py::arg("reply_class"))
      .def("classify_one", &PyClassifier::classify_one, py::arg("reply_code") = py::none(),
           py::arg("enhanced_status") = py::none(), py::arg("diagnostic") = py::none(),
           py::arg("smtp_command") = py::none(), py::arg("remote_host") = py::none(),
           py::arg("action") = py::none(), py::arg("destination") = py::none())
      .def("classify_arrow", &PyClassifier::classify_arrow, py::arg("batches"), py::arg("threads") = 1,
           py::arg("spans") = false, py::arg("outputs") = py::none(), py::arg("allocate") = py::none());
}

}  // namespace bouncekit::python
