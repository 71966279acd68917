// Copyright 2026 The bouncekit authors.
//
// Causes of temporary failure and what a retry schedule makes of them.
//
// A message's first attempt (t = 0) failed because of a cause. A cause says
// when a later attempt succeeds:
//  * recovery: the condition clears at a random time R (fixed, exponential,
//    log-normal, Weibull or a mixture), or never (a share); the first attempt
//    at t >= R is delivered (mailbox full, outages, reputation blocks);
//  * greylist: postgrey's rule: a retry is accepted once it comes at least
//    `delay` after the first try and within `retry_window` of it; a retry after
//    the window starts over;
//  * throttle: each attempt is accepted with probability
//    min(1, allowed_rate / send_rate), independently (send pressure).
// Outcomes are computed exactly from the attempt times of a deterministic
// schedule, or by seeded Monte Carlo (any schedule); both report the same
// quantities. Monte Carlo runs in blocks of kBlockMessages whose random
// streams depend only on (seed, block), and sums integer counts, so the
// result is the same for any thread count.

#ifndef BOUNCEKIT_RETRY_SIM_H_
#define BOUNCEKIT_RETRY_SIM_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bouncekit/retry.h"

namespace bouncekit::retry {

enum class DistKind { kFixed, kExponential, kLogNormal, kWeibull, kMixture };

class Distribution {
 public:
  static absl::StatusOr<Distribution> Fixed(double value);
  static absl::StatusOr<Distribution> Exponential(double mean);
  // Log-normal given its median (e^mu) and sigma.
  static absl::StatusOr<Distribution> LogNormal(double median, double sigma);
  static absl::StatusOr<Distribution> Weibull(double shape, double scale);
  static absl::StatusOr<Distribution> Mixture(std::vector<double> weights, std::vector<Distribution> parts);

  DistKind kind() const { return kind_; }
  double a() const { return a_; }
  double b() const { return b_; }
  const std::vector<double>& weights() const { return weights_; }
  const std::vector<Distribution>& parts() const { return parts_; }

  double Cdf(double x) const;
  double Sample(Rng& rng) const;
  double Mean() const;
  std::string ToString() const;

 private:
  DistKind kind_ = DistKind::kFixed;
  double a_ = 0, b_ = 0;  // fixed: value; exp: mean; lognormal: mu, sigma; weibull: shape, scale
  std::vector<double> weights_;  // cumulative, last == 1
  std::vector<Distribution> parts_;
};

enum class CauseKind { kRecovery, kGreylist, kThrottle };

struct Cause {
  std::string name;
  CauseKind kind = CauseKind::kRecovery;
  Distribution recovery;      // kRecovery
  double never_share = 0;     // all kinds: share that never recovers
  double delay = 300;         // kGreylist (postgrey --delay)
  double retry_window = 2 * kDay;  // kGreylist (postgrey --retry-window)
  double accept_probability = 1;   // kThrottle, per attempt

  static absl::StatusOr<Cause> Recovery(std::string name, Distribution recovery, double never_share = 0);
  static absl::StatusOr<Cause> Greylist(std::string name, double delay = 300, double retry_window = 2 * kDay,
                                        double never_share = 0);
  // accept_probability = min(1, allowed_rate / send_rate) (any rate unit).
  static absl::StatusOr<Cause> Throttle(std::string name, double allowed_rate, double send_rate,
                                        double never_share = 0);
  std::string ToString() const;
};

// Documented defaults per bounce category (bouncekit category names).
std::vector<std::string> DefaultCauseCategories();
absl::StatusOr<Cause> DefaultCause(absl::string_view category);

struct CauseMix {
  std::vector<Cause> causes;
  std::vector<double> weights;  // shares of first failures, summing to 1
};
// Empty mixes, negative weights and weights not summing to 1 (within 1e-6)
// are errors naming the field.
absl::Status ValidateMix(const CauseMix& mix);

struct Outcome {
  int64_t messages = 0;              // Monte Carlo sample size; 0 for exact
  std::vector<double> delivered_times;  // sorted distinct delivery times
  std::vector<double> delivered_mass;   // share of messages delivered at each
  std::vector<double> expired_times;    // sorted distinct give-up times
  std::vector<double> expired_mass;
  std::vector<double> attempts_mass;    // [n] = share of messages that took n attempts
  std::vector<double> cause_delivered;  // per cause: share of that cause delivered
  double delivered = 0;                 // total delivered share
  double expired = 0;                   // total expired share
  double mean_attempts = 0;             // attempts per message, incl. the first
};

// Exact outcome; FailedPrecondition for schedules with random timelines.
absl::StatusOr<Outcome> ExactOutcome(const Schedule& schedule, const CauseMix& mix);

struct MonteCarloOptions {
  int64_t messages = 1'000'000;
  uint64_t seed = 1;
  int threads = 0;  // 0: hardware concurrency
};
inline constexpr int64_t kBlockMessages = 1 << 16;

absl::StatusOr<Outcome> MonteCarloOutcome(const Schedule& schedule, const CauseMix& mix,
                                          const MonteCarloOptions& options);

}  // namespace bouncekit::retry

#endif  // BOUNCEKIT_RETRY_SIM_H_
