// Copyright 2026 The bouncekit authors.
//
// Retry schedules: when a sending MTA or ESP tries a temporarily failed
// message again, and when it gives up. Each model takes its parameters as the
// real MTA names them; figures and semantics come from
// ../shared/reference/retry-schedules.md. All times are seconds measured from
// the first (failed) delivery attempt of the message, which happens at t = 0.
//
// A schedule turns into a Timeline: the attempt times and the time at which a
// message that is still failing is given up (returned as a hard bounce).
// Schedules with randomness (jittered exponential backoff, Exim H rules, a
// random Postfix queue-run phase) draw it from a caller-supplied generator so
// that results are reproducible.

#ifndef BOUNCEKIT_RETRY_H_
#define BOUNCEKIT_RETRY_H_

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace bouncekit::retry {

inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr double kMinute = 60;
inline constexpr double kHour = 3600;
inline constexpr double kDay = 86400;

// Most attempts one timeline may have (a guard against schedules such as
// "every second for a year" that would exhaust memory).
inline constexpr int64_t kMaxTimelineAttempts = 1'000'000;

// A small counter-based generator (SplitMix64 over a Weyl sequence): the
// stream for block b of seed s is fully determined by (s, b), which makes
// Monte Carlo results independent of the thread count.
class Rng {
 public:
  explicit Rng(uint64_t seed, uint64_t stream = 0)
      : state_(Mix(seed ^ Mix(stream + 0x9E3779B97F4A7C15ULL))) {}
  uint64_t Next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    return Mix(state_);
  }
  // Uniform in (0, 1): never exactly 0 or 1.
  double Uniform() { return (static_cast<double>(Next() >> 11) + 0.5) * 0x1.0p-53; }
  static uint64_t Mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

enum class GiveUp {
  kNone,       // still retrying when the timeline ends (should not happen)
  kLifetime,   // message (or Exim host) too old
  kAttempts,   // attempt budget or interval list exhausted
};

struct Timeline {
  std::vector<double> attempts;  // attempts[0] == 0, strictly increasing
  double expire_time = 0;        // when a still-failing message is given up
  GiveUp give_up = GiveUp::kNone;
};

// How a message-age lifetime ends the retries.
enum class Expiry {
  kAtDeadline,    // no attempt at or after the lifetime; given up at the lifetime
  kAfterAttempt,  // Postfix/sendmail: the first attempt at age >= lifetime is
                  // still made; its failure returns the message
};

enum class Family { kExplicit, kFixed, kExponential, kPostfix, kExim };

const char* FamilyName(Family f);

// One Exim retry rule: F,<cutoff>,<interval> / G|H,<cutoff>,<start>,<multiplier>.
struct EximRule {
  char kind = 'F';              // 'F', 'G' or 'H'
  int64_t cutoff = 0;           // seconds since the host's first failure
  int64_t interval = 0;         // F: the interval; G/H: the start interval
  int64_t multiplier_milli = 0; // G/H: multiplier x 1000 (Exim's fixed point)
  int text_column = 0;          // 1-based column of the rule in its text
};

// One line of an Exim `begin retry` section.
struct EximRetryLine {
  std::string pattern;  // "*", "example.com", "*.example.com", "user@example.com", "*@example.com"
  std::string error;    // "*", "quota", "quota_5d", "rcpt_4xx", "timeout", ...
  std::vector<EximRule> rules;
  int line = 0;         // 1-based line in the configuration text
};

// Parses a rule list such as "F,2h,15m; G,16h,1h,1.5; F,4d,6h". Errors name
// the 1-based column (and `line`) of the offending text.
absl::StatusOr<std::vector<EximRule>> ParseEximRules(absl::string_view text, int line = 1,
                                                     int first_column = 1);
// Parses retry configuration lines "<pattern> <error> <rules>" (blank lines
// and # comments are skipped).
absl::StatusOr<std::vector<EximRetryLine>> ParseEximRetryConfig(absl::string_view text);
// The first line whose pattern matches (domain, local_part) and whose error
// field matches `error` (Exim order); NotFound when none does.
absl::StatusOr<EximRetryLine> SelectEximRetryLine(const std::vector<EximRetryLine>& lines,
                                                  absl::string_view domain, absl::string_view error,
                                                  absl::string_view local_part = "");
// Exim time values: "30s", "15m", "2h", "4d", "1w", combinations ("1h30m"),
// or a bare number of seconds.
absl::StatusOr<int64_t> ParseEximTime(absl::string_view text);

struct PostfixParams {
  double queue_run_delay = 300;
  double minimal_backoff_time = 300;
  double maximal_backoff_time = 4000;
  double maximal_queue_lifetime = 5 * kDay;
  // With granularity, a deferred message is only retried by a deferred-queue
  // scan (every queue_run_delay seconds, at `scan_phase` + n x
  // queue_run_delay; qmgr takes files whose time stamp is at most 1 s in the
  // future). Without it, the idealised timeline of the reference.
  bool queue_run_granularity = true;
  double scan_phase = 0;  // in [0, queue_run_delay); negative: random per message
  // qmgr's own clock is whole seconds (event_time()): the message's age and
  // the queue file's time stamp are integers. With whole_seconds the model
  // does the same; clock_offset in [0, 1) is the fraction of a second at
  // which the message arrived (time 0). Only matters at second-scale timings.
  bool whole_seconds = false;
  double clock_offset = 0;
};

struct EximParams {
  std::vector<EximRule> rules;
  double retry_interval_max = kDay;  // Exim's default and maximum
  // Exim's clock runs from the first failure of the host: how long the host
  // had already been failing when this message was first tried.
  double host_failing_for = 0;
  // Attempts happen at queue runs (-q<interval>) when > 0; 0 = idealised.
  double queue_run_interval = 0;
  double queue_run_phase = 0;  // negative: random per message
};

struct ScheduleSpec {
  std::string name;
  Family family = Family::kFixed;
  std::vector<double> intervals;   // kExplicit: gaps between attempts
  double interval = 0;             // kFixed
  double initial = 0;              // kExponential: first gap
  double factor = 2;               // kExponential
  double cap = kInf;               // kExponential: largest gap
  double jitter = 0;               // kExponential: gap x U(1 - jitter, 1 + jitter)
  PostfixParams postfix;
  EximParams exim;
  double lifetime = kInf;          // message-age give-up (not used by kPostfix/kExim)
  int64_t max_attempts = 0;        // total attempts incl. the first; 0 = no limit
  Expiry expiry = Expiry::kAtDeadline;
};

class Schedule {
 public:
  // Validates the spec (negative or zero times, caps below the minimum, bad
  // factors, no give-up condition): InvalidArgument naming the field.
  static absl::StatusOr<Schedule> Create(ScheduleSpec spec);

  // Builders with the parameter names of the MTAs.
  static absl::StatusOr<Schedule> Explicit(std::vector<double> intervals, double lifetime = kInf,
                                           int64_t max_attempts = 0);
  static absl::StatusOr<Schedule> Fixed(double interval, double lifetime, int64_t max_attempts = 0);
  static absl::StatusOr<Schedule> Exponential(double initial, double factor, double cap,
                                              double jitter, double lifetime,
                                              int64_t max_attempts = 0);
  static absl::StatusOr<Schedule> Postfix(const PostfixParams& params);
  static absl::StatusOr<Schedule> Exim(absl::string_view rules, double host_failing_for = 0,
                                       double queue_run_interval = 0,
                                       double retry_interval_max = kDay);
  // Named presets (see PresetNames()); InvalidArgument listing the names.
  static absl::StatusOr<Schedule> Preset(absl::string_view name);
  static std::vector<std::string> PresetNames();

  const ScheduleSpec& spec() const { return spec_; }
  const std::string& name() const { return spec_.name; }
  // False when a timeline depends on random draws.
  bool deterministic() const { return deterministic_; }

  // The timeline; `rng` supplies the randomness of non-deterministic
  // schedules (unused otherwise).
  Timeline Generate(Rng& rng) const;
  // The timeline of a deterministic schedule (a random one: with seed 0).
  const Timeline& timeline() const { return timeline_; }

  // A human-readable attempt table ("#  at  gap"), one attempt a line.
  std::string Describe(int max_lines = 60) const;

 private:
  ScheduleSpec spec_;
  bool deterministic_ = true;
  Timeline timeline_;
};

// "1d 2h 03m 04s"-style rendering used by Describe().
std::string FormatDuration(double seconds);

}  // namespace bouncekit::retry

#endif  // BOUNCEKIT_RETRY_H_
