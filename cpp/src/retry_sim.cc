// Copyright 2026 The bouncekit authors.
//
// Causes, exact outcomes and Monte Carlo (see retry_sim.h).

#include "bouncekit/retry_sim.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "bouncekit/error_location.h"
#include "internal/field_checks.h"

namespace bouncekit::retry {
namespace {

using internal::CheckPositive;
using internal::FieldError;
using internal::Num;

absl::Status CheckShare(absl::string_view field, double v) {
  if (!(v >= 0 && v <= 1)) return FieldError(field, absl::StrCat("must be a probability in [0, 1] (got ", Num(v), ")"));
  return absl::OkStatus();
}

constexpr double kTwoPi = 6.283185307179586;

// Index of the first attempt (>= 1) that a greylisting receiver accepts, or
// n when none does.
size_t GreylistIndex(const Cause& c, const double* attempts, size_t n) {
  double first_seen = 0;
  for (size_t k = 1; k < n; ++k) {
    double age = attempts[k] - first_seen;
    if (age > c.retry_window) {
      first_seen = attempts[k];  // the triplet starts over
      continue;
    }
    if (age >= c.delay) return k;
  }
  return n;
}

}  // namespace

// ---- Distribution ------------------------------------------------------------

absl::StatusOr<Distribution> Distribution::Fixed(double value) {
  if (!(value >= 0) || !std::isfinite(value)) {
    return FieldError("value", absl::StrCat("a fixed recovery time must be >= 0 and finite (got ", Num(value), ")"));
  }
  Distribution d;
  d.kind_ = DistKind::kFixed;
  d.a_ = value;
  return d;
}

absl::StatusOr<Distribution> Distribution::Exponential(double mean) {
  if (absl::Status s = CheckPositive("mean", mean); !s.ok()) return s;
  Distribution d;
  d.kind_ = DistKind::kExponential;
  d.a_ = mean;
  return d;
}

absl::StatusOr<Distribution> Distribution::LogNormal(double median, double sigma) {
  if (absl::Status s = CheckPositive("median", median); !s.ok()) return s;
  if (absl::Status s = CheckPositive("sigma", sigma); !s.ok()) return s;
  Distribution d;
  d.kind_ = DistKind::kLogNormal;
  d.a_ = std::log(median);
  d.b_ = sigma;
  return d;
}

absl::StatusOr<Distribution> Distribution::Weibull(double shape, double scale) {
  if (absl::Status s = CheckPositive("shape", shape); !s.ok()) return s;
  if (absl::Status s = CheckPositive("scale", scale); !s.ok()) return s;
  Distribution d;
  d.kind_ = DistKind::kWeibull;
  d.a_ = shape;
  d.b_ = scale;
  return d;
}

absl::StatusOr<Distribution> Distribution::Mixture(std::vector<double> weights, std::vector<Distribution> parts) {
  if (parts.empty()) return FieldError("parts", "a mixture needs at least one component");
  if (weights.size() != parts.size()) {
    return FieldError("weights", absl::StrCat("got ", weights.size(), " weights for ", parts.size(), " components"));
  }
  double sum = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (!(weights[i] >= 0) || !std::isfinite(weights[i])) {
      return FieldError(absl::StrCat("weights[", i, "]"), absl::StrCat("must be >= 0 (got ", Num(weights[i]), ")"));
    }
    sum += weights[i];
  }
  if (std::abs(sum - 1) > 1e-6) {
    return FieldError("weights", absl::StrCat("mixture weights must sum to 1 (they sum to ", Num(sum), ")"));
  }
  Distribution d;
  d.kind_ = DistKind::kMixture;
  double acc = 0;
  for (double w : weights) {
    acc += w / sum;
    d.weights_.push_back(acc);
  }
  d.weights_.back() = 1;
  d.parts_ = std::move(parts);
  return d;
}

double Distribution::Cdf(double x) const {
  switch (kind_) {
    case DistKind::kFixed: return x >= a_ ? 1.0 : 0.0;
    case DistKind::kExponential: return x <= 0 ? 0.0 : -std::expm1(-x / a_);
    case DistKind::kLogNormal:
      return x <= 0 ? 0.0 : 0.5 * std::erfc(-(std::log(x) - a_) / (b_ * std::sqrt(2.0)));
    case DistKind::kWeibull: return x <= 0 ? 0.0 : -std::expm1(-std::pow(x / b_, a_));
    case DistKind::kMixture: {
      double out = 0, prev = 0;
      for (size_t i = 0; i < parts_.size(); ++i) {
        out += (weights_[i] - prev) * parts_[i].Cdf(x);
        prev = weights_[i];
      }
      return out;
    }
  }
  return 0;
}

double Distribution::Sample(Rng& rng) const {
  switch (kind_) {
    case DistKind::kFixed: return a_;
    case DistKind::kExponential: return -a_ * std::log(rng.Uniform());
    case DistKind::kLogNormal: {
      double r = std::sqrt(-2 * std::log(rng.Uniform()));
      return std::exp(a_ + b_ * r * std::cos(kTwoPi * rng.Uniform()));
    }
    case DistKind::kWeibull: return b_ * std::pow(-std::log(rng.Uniform()), 1 / a_);
    case DistKind::kMixture: {
      double u = rng.Uniform();
      size_t i = 0;
      while (i + 1 < weights_.size() && u > weights_[i]) ++i;
      return parts_[i].Sample(rng);
    }
  }
  return 0;
}

double Distribution::Mean() const {
  switch (kind_) {
    case DistKind::kFixed: return a_;
    case DistKind::kExponential: return a_;
    case DistKind::kLogNormal: return std::exp(a_ + b_ * b_ / 2);
    case DistKind::kWeibull: return b_ * std::tgamma(1 + 1 / a_);
    case DistKind::kMixture: {
      double out = 0, prev = 0;
      for (size_t i = 0; i < parts_.size(); ++i) {
        out += (weights_[i] - prev) * parts_[i].Mean();
        prev = weights_[i];
      }
      return out;
    }
  }
  return 0;
}

std::string Distribution::ToString() const {
  switch (kind_) {
    case DistKind::kFixed: return absl::StrCat("fixed(", FormatDuration(a_), ")");
    case DistKind::kExponential: return absl::StrCat("exponential(mean=", FormatDuration(a_), ")");
    case DistKind::kLogNormal:
      return absl::StrCat("lognormal(median=", FormatDuration(std::exp(a_)), ", sigma=", Num(b_), ")");
    case DistKind::kWeibull: return absl::StrCat("weibull(shape=", Num(a_), ", scale=", FormatDuration(b_), ")");
    case DistKind::kMixture: {
      std::vector<std::string> items;
      double prev = 0;
      for (size_t i = 0; i < parts_.size(); ++i) {
        items.push_back(absl::StrCat(Num(weights_[i] - prev), "*", parts_[i].ToString()));
        prev = weights_[i];
      }
      return absl::StrCat("mixture(", absl::StrJoin(items, " + "), ")");
    }
  }
  return "?";
}

// ---- Causes ------------------------------------------------------------------

absl::StatusOr<Cause> Cause::Recovery(std::string name, Distribution recovery, double never_share) {
  if (absl::Status s = CheckShare("never_share", never_share); !s.ok()) return s;
  Cause c;
  c.name = std::move(name);
  c.kind = CauseKind::kRecovery;
  c.recovery = std::move(recovery);
  c.never_share = never_share;
  return c;
}

absl::StatusOr<Cause> Cause::Greylist(std::string name, double delay, double retry_window, double never_share) {
  if (!(delay >= 0) || !std::isfinite(delay)) {
    return FieldError("delay", absl::StrCat("must be >= 0 seconds (got ", Num(delay), ")"));
  }
  if (absl::Status s = CheckPositive("retry_window", retry_window); !s.ok()) return s;
  if (retry_window < delay) {
    return FieldError("retry_window", absl::StrCat("the retry window (", Num(retry_window),
                                                   " s) is shorter than the greylisting delay (", Num(delay), " s)"));
  }
  if (absl::Status s = CheckShare("never_share", never_share); !s.ok()) return s;
  Cause c;
  c.name = std::move(name);
  c.kind = CauseKind::kGreylist;
  c.delay = delay;
  c.retry_window = retry_window;
  c.never_share = never_share;
  return c;
}

absl::StatusOr<Cause> Cause::Throttle(std::string name, double allowed_rate, double send_rate, double never_share) {
  if (absl::Status s = CheckPositive("allowed_rate", allowed_rate); !s.ok()) return s;
  if (absl::Status s = CheckPositive("send_rate", send_rate); !s.ok()) return s;
  if (absl::Status s = CheckShare("never_share", never_share); !s.ok()) return s;
  Cause c;
  c.name = std::move(name);
  c.kind = CauseKind::kThrottle;
  c.accept_probability = std::min(1.0, allowed_rate / send_rate);
  c.never_share = never_share;
  return c;
}

std::string Cause::ToString() const {
  std::string body;
  switch (kind) {
    case CauseKind::kRecovery: body = absl::StrCat("recovery ", recovery.ToString()); break;
    case CauseKind::kGreylist:
      body = absl::StrCat("greylist(delay=", FormatDuration(delay), ", retry_window=", FormatDuration(retry_window), ")");
      break;
    case CauseKind::kThrottle: body = absl::StrCat("throttle(accept_probability=", Num(accept_probability), ")"); break;
  }
  return absl::StrCat(name, ": ", body, never_share > 0 ? absl::StrCat(", never recovers ", Num(never_share)) : "");
}

std::vector<std::string> DefaultCauseCategories() {
  return {"greylisted",          "mailbox_full",        "rate_limited",       "recipient_rate_limited",
          "too_many_connections", "server_unavailable", "no_answer_from_host", "bad_connection",
          "dns_failure",         "system_full",         "bad_reputation",     "blocklisted",
          "generic_transient"};
}

absl::StatusOr<Cause> DefaultCause(absl::string_view category) {
  const std::string name(category);
  auto logn = [&](double median, double sigma, double never) -> absl::StatusOr<Cause> {
    absl::StatusOr<Distribution> d = Distribution::LogNormal(median, sigma);
    if (!d.ok()) return d.status();
    return Cause::Recovery(name, *std::move(d), never);
  };
  // Figures: postgrey --delay 300 s / --retry-window 2 d (retry-schedules.md §10);
  // the rest are documented modelling assumptions (README "Retry windows").
  if (category == "greylisted") return Cause::Greylist(name, 300, 2 * kDay, 0.01);
  if (category == "mailbox_full") return logn(1 * kDay, 1.5, 0.30);
  if (category == "rate_limited" || category == "recipient_rate_limited") return Cause::Throttle(name, 1, 2, 0.0);
  if (category == "too_many_connections") return Cause::Throttle(name, 3, 4, 0.0);
  if (category == "server_unavailable" || category == "no_answer_from_host" || category == "bad_connection") {
    return logn(1 * kHour, 1.5, 0.05);
  }
  if (category == "dns_failure") {
    absl::StatusOr<Distribution> d = Distribution::Exponential(30 * kMinute);
    if (!d.ok()) return d.status();
    return Cause::Recovery(name, *std::move(d), 0.10);
  }
  if (category == "system_full") return logn(6 * kHour, 1.0, 0.05);
  if (category == "bad_reputation" || category == "blocklisted") {
    absl::StatusOr<Distribution> d = Distribution::Weibull(0.7, 12 * kHour);
    if (!d.ok()) return d.status();
    return Cause::Recovery(name, *std::move(d), 0.40);
  }
  if (category == "generic_transient") return logn(30 * kMinute, 2.0, 0.10);
  return WithField(absl::NotFoundError(absl::StrCat("no default cause for category '", category, "'; known: ",
                                                    absl::StrJoin(DefaultCauseCategories(), ", "))),
                   "category");
}

absl::Status ValidateMix(const CauseMix& mix) {
  if (mix.causes.empty()) return FieldError("causes", "the cause mix is empty");
  if (mix.weights.size() != mix.causes.size()) {
    return FieldError("weights", absl::StrCat("got ", mix.weights.size(), " weights for ", mix.causes.size(), " causes"));
  }
  double sum = 0;
  for (size_t i = 0; i < mix.weights.size(); ++i) {
    if (!(mix.weights[i] >= 0) || !std::isfinite(mix.weights[i])) {
      return FieldError(absl::StrCat("weights[", i, "]"),
                        absl::StrCat("share of cause '", mix.causes[i].name, "' must be >= 0 (got ", Num(mix.weights[i]), ")"));
    }
    sum += mix.weights[i];
  }
  if (std::abs(sum - 1) > 1e-6) {
    return FieldError("weights", absl::StrCat("cause shares must sum to 1 (they sum to ", Num(sum), ")"));
  }
  return absl::OkStatus();
}

// ---- Exact -------------------------------------------------------------------

absl::StatusOr<Outcome> ExactOutcome(const Schedule& schedule, const CauseMix& mix) {
  if (absl::Status s = ValidateMix(mix); !s.ok()) return s;
  if (!schedule.deterministic()) {
    return absl::FailedPreconditionError(absl::StrCat("schedule '", schedule.name(),
                                                      "' has random attempt times; use Monte Carlo"));
  }
  const Timeline& tl = schedule.timeline();
  const size_t n = tl.attempts.size();
  Outcome out;
  out.delivered_times.assign(tl.attempts.begin() + 1, tl.attempts.end());
  out.delivered_mass.assign(n - 1, 0.0);
  out.attempts_mass.assign(n + 1, 0.0);
  double expired = 0;
  for (size_t c = 0; c < mix.causes.size(); ++c) {
    const Cause& cause = mix.causes[c];
    const double w = mix.weights[c];
    const double live = 1 - cause.never_share;
    std::vector<double> p(n, 0.0);
    switch (cause.kind) {
      case CauseKind::kRecovery: {
        double prev = 0;
        for (size_t k = 1; k < n; ++k) {
          double f = cause.recovery.Cdf(tl.attempts[k]);
          p[k] = live * std::max(0.0, f - prev);
          prev = f;
        }
        break;
      }
      case CauseKind::kGreylist: {
        size_t k = GreylistIndex(cause, tl.attempts.data(), n);
        if (k < n) p[k] = live;
        break;
      }
      case CauseKind::kThrottle: {
        double q = cause.accept_probability, survive = 1;
        for (size_t k = 1; k < n; ++k) {
          p[k] = live * survive * q;
          survive *= 1 - q;
        }
        break;
      }
    }
    double total = 0;
    for (size_t k = 1; k < n; ++k) {
      out.delivered_mass[k - 1] += w * p[k];
      out.attempts_mass[k + 1] += w * p[k];
      out.mean_attempts += w * p[k] * static_cast<double>(k + 1);
      total += p[k];
    }
    total = std::min(total, 1.0);
    out.cause_delivered.push_back(total);
    out.delivered += w * total;
    expired += w * (1 - total);
    out.attempts_mass[n] += w * (1 - total);
    out.mean_attempts += w * (1 - total) * static_cast<double>(n);
  }
  out.expired = expired;
  out.expired_times = {tl.expire_time};
  out.expired_mass = {expired};
  return out;
}

// ---- Monte Carlo -------------------------------------------------------------

namespace {

struct Accumulator {
  // Deterministic timelines: counts per attempt index; otherwise per time (ms).
  std::vector<int64_t> at_index;
  absl::flat_hash_map<int64_t, int64_t> delivered_by_time, expired_by_time;
  std::vector<int64_t> attempts;  // [n] = messages with n attempts
  std::vector<int64_t> cause_total, cause_delivered;
  int64_t expired = 0;
};

// Smallest k in [1, n) with a[k] >= r, or n: a branch-free binary search
// (the attempt times are sorted; mispredicted branches dominate otherwise).
inline size_t FirstAtOrAfter(const double* a, size_t n, double r) {
  const double* base = a + 1;
  size_t len = n - 1;
  if (len == 0) return n;
  while (len > 1) {
    size_t half = len / 2;
    base = (base[half - 1] < r) ? base + half : base;
    len -= half;
  }
  size_t k = static_cast<size_t>(base - a) + (*base < r ? 1 : 0);
  return k;
}

// How a recovery time is drawn. For a deterministic timeline the attempt
// times are mapped once through the distribution's monotone transform (so a
// draw on that scale lands on the same attempt as the recovery time itself):
// exponential and Weibull compare E = -log U with (t / scale)^shape, log-normal
// compares a standard normal Z with (log t - mu) / sigma. Otherwise: sample R.
enum class DrawMode { kSample, kExpScale, kNormalScale, kFixed };

struct PreparedCause {
  const Cause* cause;
  double cum_weight;
  size_t greylist_index;  // for the deterministic timeline
  double log1m_q;         // throttle: log(1 - q)
  DrawMode mode = DrawMode::kSample;
  std::vector<double> scaled;  // attempt times on the draw's scale (deterministic timelines)
};

// Standard normals by Marsaglia's polar method, two per draw; per block, so
// the stream stays a function of (seed, block).
struct NormalSource {
  bool has_spare = false;
  double spare = 0;
  double Next(Rng& rng) {
    if (has_spare) {
      has_spare = false;
      return spare;
    }
    double u, v, q;
    do {
      u = 2 * rng.Uniform() - 1;
      v = 2 * rng.Uniform() - 1;
      q = u * u + v * v;
    } while (q >= 1 || q == 0);
    const double m = std::sqrt(-2 * std::log(q) / q);
    spare = v * m;
    has_spare = true;
    return u * m;
  }
};

void PrepareDraw(PreparedCause& pc, const Timeline& tl, bool deterministic) {
  const Cause& c = *pc.cause;
  if (!deterministic || c.kind != CauseKind::kRecovery) return;
  const Distribution& d = c.recovery;
  const size_t n = tl.attempts.size();
  pc.scaled.assign(n, 0.0);
  switch (d.kind()) {
    case DistKind::kExponential:
      pc.mode = DrawMode::kExpScale;
      for (size_t k = 0; k < n; ++k) pc.scaled[k] = tl.attempts[k] / d.a();
      break;
    case DistKind::kWeibull:
      pc.mode = DrawMode::kExpScale;
      for (size_t k = 0; k < n; ++k) pc.scaled[k] = std::pow(tl.attempts[k] / d.b(), d.a());
      break;
    case DistKind::kLogNormal:
      pc.mode = DrawMode::kNormalScale;
      for (size_t k = 0; k < n; ++k) {
        pc.scaled[k] = tl.attempts[k] > 0 ? (std::log(tl.attempts[k]) - d.a()) / d.b() : -HUGE_VAL;
      }
      break;
    case DistKind::kFixed:
      pc.mode = DrawMode::kFixed;
      break;
    case DistKind::kMixture:
      pc.mode = DrawMode::kSample;
      pc.scaled.clear();
      break;
  }
}

void RunBlock(const Schedule& schedule, const std::vector<PreparedCause>& causes, uint64_t seed, int64_t block,
              int64_t count, Accumulator& acc, Timeline& scratch) {
  Rng rng(seed, static_cast<uint64_t>(block));
  const bool det = schedule.deterministic();
  const Timeline& fixed_tl = schedule.timeline();
  const size_t nc = causes.size();
  NormalSource normals;
  for (int64_t i = 0; i < count; ++i) {
    const double u = rng.Uniform();
    size_t c = 0;
    while (c + 1 < nc && u > causes[c].cum_weight) ++c;
    const PreparedCause& pc = causes[c];
    const Cause& cause = *pc.cause;
    const Timeline* tl = &fixed_tl;
    if (!det) {
      scratch = schedule.Generate(rng);
      tl = &scratch;
    }
    const double* a = tl->attempts.data();
    const size_t n = tl->attempts.size();
    size_t k = n;  // attempt index that succeeds; n = none
    if (!(cause.never_share > 0 && rng.Uniform() < cause.never_share)) {
      switch (cause.kind) {
        case CauseKind::kRecovery: {
          switch (pc.mode) {
            case DrawMode::kExpScale:
              k = FirstAtOrAfter(pc.scaled.data(), n, -std::log(rng.Uniform()));
              break;
            case DrawMode::kNormalScale:
              k = FirstAtOrAfter(pc.scaled.data(), n, normals.Next(rng));
              break;
            case DrawMode::kFixed:
              k = FirstAtOrAfter(a, n, cause.recovery.a());
              break;
            case DrawMode::kSample:
              k = FirstAtOrAfter(a, n, cause.recovery.Sample(rng));
              break;
          }
          break;
        }
        case CauseKind::kGreylist:
          k = det ? pc.greylist_index : GreylistIndex(cause, a, n);
          break;
        case CauseKind::kThrottle: {
          if (cause.accept_probability >= 1) {
            k = 1;
          } else {
            // Geometric number of attempts until one is accepted.
            double g = std::floor(std::log(rng.Uniform()) / pc.log1m_q);
            k = g + 1 >= static_cast<double>(n) ? n : static_cast<size_t>(g) + 1;
          }
          if (k > n) k = n;
          break;
        }
      }
    }
    ++acc.cause_total[c];
    const size_t attempts = k < n ? k + 1 : n;
    if (attempts >= acc.attempts.size()) acc.attempts.resize(attempts + 1, 0);
    ++acc.attempts[attempts];
    if (k < n) {
      ++acc.cause_delivered[c];
      if (det) {
        ++acc.at_index[k];
      } else {
        ++acc.delivered_by_time[std::llround(a[k] * 1000)];
      }
    } else {
      ++acc.expired;
      if (!det) ++acc.expired_by_time[std::llround(tl->expire_time * 1000)];
    }
  }
}

}  // namespace

absl::StatusOr<Outcome> MonteCarloOutcome(const Schedule& schedule, const CauseMix& mix,
                                          const MonteCarloOptions& options) {
  if (absl::Status s = ValidateMix(mix); !s.ok()) return s;
  if (options.messages <= 0) {
    return FieldError("messages", absl::StrCat("must be > 0 (got ", options.messages, ")"));
  }
  if (options.threads < 0) return FieldError("threads", "must be >= 0 (0 = all cores)");
  const Timeline& tl0 = schedule.timeline();
  std::vector<PreparedCause> causes;
  double cum = 0;
  for (size_t i = 0; i < mix.causes.size(); ++i) {
    cum += mix.weights[i];
    const Cause& c = mix.causes[i];
    causes.push_back({&c, i + 1 == mix.causes.size() ? 1.0 : cum,
                      GreylistIndex(c, tl0.attempts.data(), tl0.attempts.size()),
                      c.accept_probability < 1 ? std::log1p(-c.accept_probability) : 0.0,
                      DrawMode::kSample, {}});
    PrepareDraw(causes.back(), tl0, schedule.deterministic());
  }
  const int64_t blocks = (options.messages + kBlockMessages - 1) / kBlockMessages;
  int threads = options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = static_cast<int>(std::clamp<int64_t>(threads, 1, blocks));
  std::vector<Accumulator> accs(threads);
  for (Accumulator& a : accs) {
    a.at_index.assign(tl0.attempts.size(), 0);
    a.cause_total.assign(causes.size(), 0);
    a.cause_delivered.assign(causes.size(), 0);
    a.attempts.assign(tl0.attempts.size() + 2, 0);
  }
  std::atomic<int64_t> next_block{0};
  auto worker = [&](int t) {
    Timeline scratch;
    for (;;) {
      int64_t b = next_block.fetch_add(1);
      if (b >= blocks) break;
      int64_t count = std::min(kBlockMessages, options.messages - b * kBlockMessages);
      RunBlock(schedule, causes, options.seed, b, count, accs[t], scratch);
    }
  };
  if (threads == 1) {
    worker(0);
  } else {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(worker, t);
    for (std::thread& th : pool) th.join();
  }
  // Merge (integer sums: independent of the thread count and order).
  Accumulator total = std::move(accs[0]);
  for (int t = 1; t < threads; ++t) {
    Accumulator& a = accs[t];
    for (size_t k = 0; k < a.at_index.size(); ++k) total.at_index[k] += a.at_index[k];
    for (auto& [key, v] : a.delivered_by_time) total.delivered_by_time[key] += v;
    for (auto& [key, v] : a.expired_by_time) total.expired_by_time[key] += v;
    if (a.attempts.size() > total.attempts.size()) total.attempts.resize(a.attempts.size(), 0);
    for (size_t k = 0; k < a.attempts.size(); ++k) total.attempts[k] += a.attempts[k];
    for (size_t c = 0; c < causes.size(); ++c) {
      total.cause_total[c] += a.cause_total[c];
      total.cause_delivered[c] += a.cause_delivered[c];
    }
    total.expired += a.expired;
  }
  const double m = static_cast<double>(options.messages);
  Outcome out;
  out.messages = options.messages;
  if (schedule.deterministic()) {
    for (size_t k = 1; k < tl0.attempts.size(); ++k) {
      out.delivered_times.push_back(tl0.attempts[k]);
      out.delivered_mass.push_back(static_cast<double>(total.at_index[k]) / m);
    }
    out.expired_times = {tl0.expire_time};
    out.expired_mass = {static_cast<double>(total.expired) / m};
  } else {
    std::map<int64_t, int64_t> d(total.delivered_by_time.begin(), total.delivered_by_time.end());
    std::map<int64_t, int64_t> e(total.expired_by_time.begin(), total.expired_by_time.end());
    for (auto& [key, v] : d) {
      out.delivered_times.push_back(static_cast<double>(key) / 1000);
      out.delivered_mass.push_back(static_cast<double>(v) / m);
    }
    for (auto& [key, v] : e) {
      out.expired_times.push_back(static_cast<double>(key) / 1000);
      out.expired_mass.push_back(static_cast<double>(v) / m);
    }
  }
  out.attempts_mass.resize(total.attempts.size());
  for (size_t k = 0; k < total.attempts.size(); ++k) {
    out.attempts_mass[k] = static_cast<double>(total.attempts[k]) / m;
    out.mean_attempts += static_cast<double>(k) * out.attempts_mass[k];
  }
  while (out.attempts_mass.size() > 1 && out.attempts_mass.back() == 0) out.attempts_mass.pop_back();
  int64_t delivered = 0;
  for (size_t c = 0; c < causes.size(); ++c) {
    delivered += total.cause_delivered[c];
    out.cause_delivered.push_back(total.cause_total[c] == 0 ? 0.0
                                  : static_cast<double>(total.cause_delivered[c]) /
                                        static_cast<double>(total.cause_total[c]));
  }
  out.delivered = static_cast<double>(delivered) / m;
  out.expired = static_cast<double>(total.expired) / m;
  return out;
}

}  // namespace bouncekit::retry
