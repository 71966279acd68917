// Copyright 2026 The bouncekit authors.
//
// Bindings for the retry-window simulator (retry.h, retry_sim.h). The public
// API is bouncekit.retry; these are its building blocks.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "bouncekit/error_location.h"
#include "bouncekit/retry.h"
#include "bouncekit/retry_sim.h"
#include "errors.h"

namespace py = pybind11;

namespace bouncekit::python {
namespace {

using retry::Cause;
using retry::CauseMix;
using retry::Distribution;
using retry::Outcome;
using retry::Schedule;
using retry::ScheduleSpec;

py::array_t<double> ToArray(const std::vector<double>& v) {
  py::array_t<double> a(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

retry::Expiry ParseExpiry(const std::string& s) {
  if (s == "at_deadline") return retry::Expiry::kAtDeadline;
  if (s == "after_attempt") return retry::Expiry::kAfterAttempt;
  ThrowIfError(WithField(absl::InvalidArgumentError(absl::StrCat(
                             "expiry: must be 'at_deadline' or 'after_attempt' (got '", s, "')")),
                         "expiry"));
  return retry::Expiry::kAtDeadline;
}

const char* GiveUpName(retry::GiveUp g) {
  switch (g) {
    case retry::GiveUp::kLifetime: return "lifetime";
    case retry::GiveUp::kAttempts: return "attempts";
    default: return "none";
  }
}

CauseMix MakeMix(const std::vector<Cause>& causes, const std::vector<double>& weights) {
  CauseMix mix;
  mix.causes = causes;
  mix.weights = weights;
  return mix;
}

py::dict OutcomeDict(const Outcome& o) {
  py::dict d;
  d["messages"] = o.messages;
  d["delivered_times"] = ToArray(o.delivered_times);
  d["delivered_mass"] = ToArray(o.delivered_mass);
  d["expired_times"] = ToArray(o.expired_times);
  d["expired_mass"] = ToArray(o.expired_mass);
  d["attempts_mass"] = ToArray(o.attempts_mass);
  d["cause_delivered"] = ToArray(o.cause_delivered);
  d["delivered"] = o.delivered;
  d["expired"] = o.expired;
  d["mean_attempts"] = o.mean_attempts;
  return d;
}

Schedule Spec(ScheduleSpec spec, const std::string& name) {
  Schedule s = ValueOrThrow(Schedule::Create(std::move(spec)));
  (void)name;
  return s;
}

}  // namespace

void RegisterRetry(py::module_& m) {
  py::class_<Schedule>(m, "RetrySchedule", "A retry schedule (see bouncekit.retry).")
      .def_static(
          "explicit",
          [](std::vector<double> intervals, double lifetime, int64_t max_attempts, const std::string& expiry) {
            ScheduleSpec s;
            s.name = "explicit";
            s.family = retry::Family::kExplicit;
            s.intervals = std::move(intervals);
            s.lifetime = lifetime;
            s.max_attempts = max_attempts;
            s.expiry = ParseExpiry(expiry);
            return Spec(std::move(s), "explicit");
          },
          py::arg("intervals"), py::arg("lifetime"), py::arg("max_attempts"), py::arg("expiry"))
      .def_static(
          "fixed",
          [](double interval, double lifetime, int64_t max_attempts, const std::string& expiry) {
            ScheduleSpec s;
            s.name = "fixed";
            s.family = retry::Family::kFixed;
            s.interval = interval;
            s.lifetime = lifetime;
            s.max_attempts = max_attempts;
            s.expiry = ParseExpiry(expiry);
            return Spec(std::move(s), "fixed");
          },
          py::arg("interval"), py::arg("lifetime"), py::arg("max_attempts"), py::arg("expiry"))
      .def_static(
          "exponential",
          [](double initial, double factor, double cap, double jitter, double lifetime, int64_t max_attempts,
             const std::string& expiry) {
            ScheduleSpec s;
            s.name = "exponential";
            s.family = retry::Family::kExponential;
            s.initial = initial;
            s.factor = factor;
            s.cap = cap;
            s.jitter = jitter;
            s.lifetime = lifetime;
            s.max_attempts = max_attempts;
            s.expiry = ParseExpiry(expiry);
            return Spec(std::move(s), "exponential");
          },
          py::arg("initial"), py::arg("factor"), py::arg("cap"), py::arg("jitter"), py::arg("lifetime"),
          py::arg("max_attempts"), py::arg("expiry"))
      .def_static(
          "postfix",
          [](double queue_run_delay, double minimal_backoff_time, double maximal_backoff_time,
             double maximal_queue_lifetime, bool queue_run_granularity, double scan_phase, bool whole_seconds,
             double clock_offset) {
            retry::PostfixParams p;
            p.queue_run_delay = queue_run_delay;
            p.minimal_backoff_time = minimal_backoff_time;
            p.maximal_backoff_time = maximal_backoff_time;
            p.maximal_queue_lifetime = maximal_queue_lifetime;
            p.queue_run_granularity = queue_run_granularity;
            p.scan_phase = scan_phase;
            p.whole_seconds = whole_seconds;
            p.clock_offset = clock_offset;
            return ValueOrThrow(Schedule::Postfix(p));
          },
          py::arg("queue_run_delay"), py::arg("minimal_backoff_time"), py::arg("maximal_backoff_time"),
          py::arg("maximal_queue_lifetime"), py::arg("queue_run_granularity"), py::arg("scan_phase"),
          py::arg("whole_seconds") = false, py::arg("clock_offset") = 0.0)
      .def_static(
          "exim",
          [](const std::string& rules, double host_failing_for, double queue_run_interval,
             double queue_run_phase, double retry_interval_max, int line, int first_column) {
            ScheduleSpec s;
            s.name = "exim";
            s.family = retry::Family::kExim;
            s.exim.rules = ValueOrThrow(retry::ParseEximRules(rules, line, first_column));
            s.exim.host_failing_for = host_failing_for;
            s.exim.queue_run_interval = queue_run_interval;
            s.exim.queue_run_phase = queue_run_phase;
            s.exim.retry_interval_max = retry_interval_max;
            return Spec(std::move(s), "exim");
          },
          py::arg("rules"), py::arg("host_failing_for"), py::arg("queue_run_interval"), py::arg("queue_run_phase"),
          py::arg("retry_interval_max"), py::arg("line") = 1, py::arg("first_column") = 1)
      .def_static("preset", [](const std::string& name) { return ValueOrThrow(Schedule::Preset(name)); },
                  py::arg("name"))
      .def_static("preset_names", &Schedule::PresetNames)
      .def_property_readonly("name", [](const Schedule& s) { return s.name(); })
      .def_property_readonly("family", [](const Schedule& s) { return std::string(retry::FamilyName(s.spec().family)); })
      .def_property_readonly("deterministic", &Schedule::deterministic)
      .def_property_readonly("attempts", [](const Schedule& s) { return ToArray(s.timeline().attempts); })
      .def_property_readonly("expire_time", [](const Schedule& s) { return s.timeline().expire_time; })
      .def_property_readonly("give_up", [](const Schedule& s) { return std::string(GiveUpName(s.timeline().give_up)); })
      .def("set_name", [](Schedule& s, const std::string& name) {
            ScheduleSpec spec = s.spec();
            spec.name = name;
            s = ValueOrThrow(Schedule::Create(std::move(spec)));
          }, py::arg("name"))
      .def("sample",
           [](const Schedule& s, uint64_t seed) {
             retry::Rng rng(seed);
             retry::Timeline t = s.Generate(rng);
             return py::make_tuple(ToArray(t.attempts), t.expire_time);
           },
           py::arg("seed"))
      .def("describe", &Schedule::Describe, py::arg("max_lines") = 60);

  m.def(
      "retry_parse_exim_config",
      [](const std::string& text) {
        std::vector<retry::EximRetryLine> lines = ValueOrThrow(retry::ParseEximRetryConfig(text));
        py::list out;
        for (const retry::EximRetryLine& l : lines) {
          py::dict d;
          d["pattern"] = l.pattern;
          d["error"] = l.error;
          d["line"] = l.line;
          d["rules"] = l.rules.size();
          out.append(d);
        }
        return out;
      },
      py::arg("text"));
  m.def(
      "retry_select_exim_line",
      [](const std::string& text, const std::string& domain, const std::string& error, const std::string& local_part) {
        std::vector<retry::EximRetryLine> lines = ValueOrThrow(retry::ParseEximRetryConfig(text));
        return ValueOrThrow(retry::SelectEximRetryLine(lines, domain, error, local_part)).line;
      },
      py::arg("text"), py::arg("domain"), py::arg("error"), py::arg("local_part"));

  py::class_<Distribution>(m, "RetryDistribution", "A recovery-time distribution (seconds).")
      .def_static("fixed", [](double v) { return ValueOrThrow(Distribution::Fixed(v)); }, py::arg("value"))
      .def_static("exponential", [](double mean) { return ValueOrThrow(Distribution::Exponential(mean)); },
                  py::arg("mean"))
      .def_static("lognormal",
                  [](double median, double sigma) { return ValueOrThrow(Distribution::LogNormal(median, sigma)); },
                  py::arg("median"), py::arg("sigma"))
      .def_static("weibull",
                  [](double shape, double scale) { return ValueOrThrow(Distribution::Weibull(shape, scale)); },
                  py::arg("shape"), py::arg("scale"))
      .def_static("mixture",
                  [](std::vector<double> weights, std::vector<Distribution> parts) {
                    return ValueOrThrow(Distribution::Mixture(std::move(weights), std::move(parts)));
                  },
                  py::arg("weights"), py::arg("parts"))
      .def("cdf",
           [](const Distribution& d, py::array_t<double, py::array::c_style | py::array::forcecast> x) {
             py::array_t<double> out(x.size());
             const double* in = x.data();
             double* o = out.mutable_data();
             for (py::ssize_t i = 0; i < x.size(); ++i) o[i] = d.Cdf(in[i]);
             return out;
           },
           py::arg("x"))
      .def("sample",
           [](const Distribution& d, int64_t n, uint64_t seed) {
             if (n < 0) ThrowIfError(WithField(absl::InvalidArgumentError("n: must be >= 0"), "n"));
             py::array_t<double> out(n);
             double* o = out.mutable_data();
             retry::Rng rng(seed);
             for (int64_t i = 0; i < n; ++i) o[i] = d.Sample(rng);
             return out;
           },
           py::arg("n"), py::arg("seed"))
      .def_property_readonly("mean", &Distribution::Mean)
      .def("__repr__", &Distribution::ToString);

  py::class_<Cause>(m, "RetryCause", "Why a message's first attempt failed, and when it stops failing.")
      .def_static("recovery",
                  [](const std::string& name, const Distribution& d, double never) {
                    return ValueOrThrow(Cause::Recovery(name, d, never));
                  },
                  py::arg("name"), py::arg("recovery"), py::arg("never_share"))
      .def_static("greylist",
                  [](const std::string& name, double delay, double window, double never) {
                    return ValueOrThrow(Cause::Greylist(name, delay, window, never));
                  },
                  py::arg("name"), py::arg("delay"), py::arg("retry_window"), py::arg("never_share"))
      .def_static("throttle",
                  [](const std::string& name, double allowed, double send, double never) {
                    return ValueOrThrow(Cause::Throttle(name, allowed, send, never));
                  },
                  py::arg("name"), py::arg("allowed_rate"), py::arg("send_rate"), py::arg("never_share"))
      .def_static("default", [](const std::string& c) { return ValueOrThrow(retry::DefaultCause(c)); },
                  py::arg("category"))
      .def_static("default_categories", &retry::DefaultCauseCategories)
      .def_property_readonly("name", [](const Cause& c) { return c.name; })
      .def_property_readonly("kind", [](const Cause& c) {
        return std::string(c.kind == retry::CauseKind::kRecovery  ? "recovery"
                           : c.kind == retry::CauseKind::kGreylist ? "greylist"
                                                                   : "throttle");
      })
      .def_property_readonly("never_share", [](const Cause& c) { return c.never_share; })
      .def("renamed", [](const Cause& c, const std::string& name) {
            Cause out = c;
            out.name = name;
            return out;
          }, py::arg("name"))
      .def("__repr__", &Cause::ToString);

  m.def(
      "retry_exact",
      [](const Schedule& s, const std::vector<Cause>& causes, const std::vector<double>& weights) {
        CauseMix mix = MakeMix(causes, weights);
        absl::StatusOr<Outcome> o;
        {
          py::gil_scoped_release release;
          o = retry::ExactOutcome(s, mix);
        }
        return OutcomeDict(ValueOrThrow(std::move(o)));
      },
      py::arg("schedule"), py::arg("causes"), py::arg("weights"));
  m.def(
      "retry_monte_carlo",
      [](const Schedule& s, const std::vector<Cause>& causes, const std::vector<double>& weights, int64_t messages,
         uint64_t seed, int threads) {
        CauseMix mix = MakeMix(causes, weights);
        retry::MonteCarloOptions opt;
        opt.messages = messages;
        opt.seed = seed;
        opt.threads = threads;
        absl::StatusOr<Outcome> o;
        {
          py::gil_scoped_release release;
          o = retry::MonteCarloOutcome(s, mix, opt);
        }
        return OutcomeDict(ValueOrThrow(std::move(o)));
      },
      py::arg("schedule"), py::arg("causes"), py::arg("weights"), py::arg("messages"), py::arg("seed"),
      py::arg("threads"));
}

}  // namespace bouncekit::python
