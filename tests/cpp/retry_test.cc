// Copyright 2026 The bouncekit authors.
//
// Retry schedules against timelines computed by hand from
// ../shared/reference/retry-schedules.md, and the simulator's exact and
// Monte Carlo outcomes against each other.

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bouncekit/error_location.h"
#include "bouncekit/retry.h"
#include "bouncekit/retry_sim.h"

namespace bouncekit::retry {
namespace {

std::vector<double> Attempts(const Schedule& s) { return s.timeline().attempts; }

TEST(RetryScheduleTest, PostfixIdealisedDoublesUntil4000sCap) {
  PostfixParams p;
  p.queue_run_granularity = false;
  absl::StatusOr<Schedule> s = Schedule::Postfix(p);
  ASSERT_TRUE(s.ok()) << s.status();
  std::vector<double> a = Attempts(*s);
  // 0, 5 m, 10 m, 20 m, 40 m, 1 h 20 m, 2 h 26 m 40 s, 3 h 33 m 20 s, ...
  std::vector<double> head = {0, 300, 600, 1200, 2400, 4800, 8800, 12800, 16800};
  ASSERT_GE(a.size(), head.size());
  for (size_t i = 0; i < head.size(); ++i) EXPECT_DOUBLE_EQ(a[i], head[i]) << i;
  // Every 4000 s until the first attempt at age >= 5 d: 8800 + 106 x 4000.
  EXPECT_EQ(a.size(), 113u);
  EXPECT_DOUBLE_EQ(a.back(), 432800);
  EXPECT_DOUBLE_EQ(s->timeline().expire_time, 432800);
  EXPECT_EQ(s->timeline().give_up, GiveUp::kLifetime);
}

TEST(RetryScheduleTest, PostfixQueueRunGranularity) {
  absl::StatusOr<Schedule> s = Schedule::Postfix(PostfixParams{});
  ASSERT_TRUE(s.ok());
  std::vector<double> a = Attempts(*s);
  // Same doubling while the eligible times fall on 300 s scans; the 4000 s cap
  // then waits for the next scan: 8800 -> 9000, and every 4200 s after.
  std::vector<double> head = {0, 300, 600, 1200, 2400, 4800, 9000, 13200, 17400};
  for (size_t i = 0; i < head.size(); ++i) EXPECT_DOUBLE_EQ(a[i], head[i]) << i;
  EXPECT_EQ(a.size(), 108u);
  EXPECT_DOUBLE_EQ(a.back(), 433200);

  PostfixParams shifted;
  shifted.scan_phase = 100;  // scans at 100, 400, 700, ...
  absl::StatusOr<Schedule> t = Schedule::Postfix(shifted);
  ASSERT_TRUE(t.ok());
  std::vector<double> b = Attempts(*t);
  // 0 -> eligible 300 -> scan 400; age 400 -> eligible 800 -> scan 1000; 2000 -> 2200; 4400 -> 4600.
  std::vector<double> bh = {0, 400, 1000, 2200, 4600};
  for (size_t i = 0; i < bh.size(); ++i) EXPECT_DOUBLE_EQ(b[i], bh[i]) << i;

  PostfixParams once;
  once.maximal_queue_lifetime = 0;  // "0 = try once"
  absl::StatusOr<Schedule> o = Schedule::Postfix(once);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->timeline().attempts.size(), 1u);
}

TEST(RetryScheduleTest, EximDefaultRuleOverFourDays) {
  absl::StatusOr<Schedule> s = Schedule::Preset("exim");
  ASSERT_TRUE(s.ok()) << s.status();
  std::vector<double> expected;
  for (int i = 0; i <= 8; ++i) expected.push_back(900.0 * i);  // F,2h,15m
  // G,16h,1h,1.5: 1 h, 1.5 h, 2.25 h, 3.375 h, 5.0625 h, 7.59 h (integer seconds as Exim).
  for (double t : {10800, 16200, 24300, 36450, 54675, 82012}) expected.push_back(t);
  for (int i = 1; i <= 13; ++i) expected.push_back(82012 + 21600.0 * i);  // F,4d,6h
  EXPECT_EQ(Attempts(*s), expected);
  EXPECT_EQ(expected.size(), 28u);
  EXPECT_DOUBLE_EQ(s->timeline().expire_time, 362812);  // ~100.8 h: first failure after 96 h
}

TEST(RetryScheduleTest, EximClockIsTheHostsFirstFailure) {
  // The host has been failing for 2 h already: the F,2h,15m rule is over.
  absl::StatusOr<Schedule> s = Schedule::Exim("F,2h,15m; G,16h,1h,1.5; F,4d,6h", 2 * kHour);
  ASSERT_TRUE(s.ok());
  std::vector<double> a = Attempts(*s);
  ASSERT_GE(a.size(), 3u);
  EXPECT_DOUBLE_EQ(a[1], 3600);
  EXPECT_DOUBLE_EQ(a[2], 3600 + 5400);
  // Failing for 5 days: the first failure gives up.
  absl::StatusOr<Schedule> dead = Schedule::Exim("F,2h,15m; G,16h,1h,1.5; F,4d,6h", 5 * kDay);
  ASSERT_TRUE(dead.ok());
  EXPECT_EQ(dead->timeline().attempts.size(), 1u);
  // Queue runs every 30 min (Debian's -q30m): attempts wait for the next run.
  absl::StatusOr<Schedule> q = Schedule::Exim("F,2h,15m; F,4d,6h", 0, 1800);
  ASSERT_TRUE(q.ok());
  EXPECT_DOUBLE_EQ(Attempts(*q)[1], 1800);
  EXPECT_DOUBLE_EQ(Attempts(*q)[2], 3600);
}

TEST(RetryScheduleTest, EximShrinkingGapStillMovesForward) {
  // Found by the fuzzer: a G multiplier below 1 shrinks a 1 s gap to 0 s.
  absl::StatusOr<Schedule> s = Schedule::Exim("F,2h,15m; G,16h,1,.5; F,4d,6h");
  ASSERT_TRUE(s.ok());
  const std::vector<double>& a = s->timeline().attempts;
  for (size_t i = 1; i < a.size(); ++i) ASSERT_GT(a[i], a[i - 1]) << i;
  EXPECT_GE(s->timeline().expire_time, 4 * kDay);
}

TEST(RetryScheduleTest, EximHRuleIsSeededAndBounded) {
  absl::StatusOr<Schedule> s = Schedule::Exim("H,1d,10m,2");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->deterministic());
  Rng r1(7), r2(7);
  Timeline a = s->Generate(r1), b = s->Generate(r2);
  EXPECT_EQ(a.attempts, b.attempts);
  // Each gap after the first: start + [ (next_gap - start)/2, next_gap - start ).
  for (size_t i = 2; i < a.attempts.size(); ++i) {
    double prev = a.attempts[i - 1] - a.attempts[i - 2];
    double gap = a.attempts[i] - a.attempts[i - 1];
    double next_gap = std::floor(prev * 2);
    if (next_gap > 600) {
      EXPECT_GE(gap, 600 + std::floor((next_gap - 600) / 2) - 1) << i;
      EXPECT_LE(gap, next_gap) << i;
    }
  }
}

TEST(RetryScheduleTest, HarakaMailgunKumoExchangeLists) {
  absl::StatusOr<Schedule> h = Schedule::Preset("haraka");
  ASSERT_TRUE(h.ok());
  std::vector<double> hx = {0};
  for (int i = 1; i <= 12; ++i) hx.push_back(hx.back() + std::ldexp(1.0, i + 5));
  EXPECT_EQ(Attempts(*h), hx);
  EXPECT_DOUBLE_EQ(hx.back(), 262080);  // ~72.8 h; the 13th temporary failure bounces
  EXPECT_EQ(h->timeline().give_up, GiveUp::kAttempts);

  absl::StatusOr<Schedule> mg = Schedule::Preset("mailgun");
  ASSERT_TRUE(mg.ok());
  EXPECT_EQ(Attempts(*mg), (std::vector<double>{0, 600, 1500, 3300, 6900, 14100, 28500}));

  absl::StatusOr<Schedule> k = Schedule::Preset("kumomta");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(Attempts(*k), (std::vector<double>{0, 1200, 3600, 8400, 18000, 37200, 75600, 152400, 306000}));
  EXPECT_DOUBLE_EQ(k->timeline().expire_time, 7 * kDay);

  absl::StatusOr<Schedule> ex = Schedule::Preset("exchange");
  ASSERT_TRUE(ex.ok());
  EXPECT_EQ(Attempts(*ex).size(), 192u);  // every 15 min, expires at 2 d
  EXPECT_DOUBLE_EQ(ex->timeline().expire_time, 2 * kDay);

  absl::StatusOr<Schedule> mp = Schedule::Preset("mailpro");
  ASSERT_TRUE(mp.ok());
  EXPECT_EQ(Attempts(*mp), (std::vector<double>{0, 420, 2700}));

  for (const std::string& name : Schedule::PresetNames()) {
    absl::StatusOr<Schedule> p = Schedule::Preset(name);
    ASSERT_TRUE(p.ok()) << name << ": " << p.status();
    EXPECT_NE(p->Describe().find("gives up at"), std::string::npos);
  }
}

TEST(RetryScheduleTest, ExponentialCapJitterAndAttemptBudget) {
  absl::StatusOr<Schedule> s = Schedule::Exponential(60, 2, 300, 0, 1000);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Attempts(*s), (std::vector<double>{0, 60, 180, 420, 720}));
  EXPECT_DOUBLE_EQ(s->timeline().expire_time, 1000);
  absl::StatusOr<Schedule> b = Schedule::Fixed(60, kInf, 4);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(Attempts(*b), (std::vector<double>{0, 60, 120, 180}));
  EXPECT_EQ(b->timeline().give_up, GiveUp::kAttempts);
  absl::StatusOr<Schedule> j = Schedule::Exponential(100, 2, kInf, 0.2, 1e5);
  ASSERT_TRUE(j.ok());
  Rng rng(3);
  Timeline t = j->Generate(rng);
  EXPECT_GE(t.attempts[1], 80);
  EXPECT_LE(t.attempts[1], 120);
}

TEST(RetryScheduleTest, BadParametersNameTheField) {
  absl::StatusOr<Schedule> neg = Schedule::Fixed(-5, 100);
  EXPECT_EQ(neg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetErrorLocation(neg.status()).field, "interval");
  absl::StatusOr<Schedule> cap = Schedule::Exponential(600, 2, 300, 0, 1e5);
  EXPECT_EQ(GetErrorLocation(cap.status()).field, "cap");
  EXPECT_NE(cap.status().message().find("below the initial"), std::string::npos);
  PostfixParams p;
  p.maximal_backoff_time = 100;
  absl::StatusOr<Schedule> pf = Schedule::Postfix(p);
  EXPECT_EQ(GetErrorLocation(pf.status()).field, "maximal_backoff_time");
  EXPECT_FALSE(Schedule::Fixed(60, kInf).ok());  // never gives up
  EXPECT_FALSE(Schedule::Fixed(1e-3, 1e9).ok());  // too many attempts
  EXPECT_FALSE(Schedule::Preset("qmail").ok());
}

TEST(EximRuleParserTest, ErrorsCarryTheColumn) {
  struct Case {
    const char* text;
    int column;
  };
  for (const Case& c : std::vector<Case>{{"F,2h,15m; G,16h,1h,x", 20},
                                         {"F,2h,15q", 8},
                                         {"X,2h,15m", 1},
                                         {"F,2h,15m; F,1h,30m", 13},
                                         {"F 2h,15m", 3},
                                         {"", 1},
                                         {"F,2h,15m,3", 9},
                                         {"G,2h,15m", 9},
                                         {"F,2h,15m G,3h,1h,2", 10}}) {
    absl::StatusOr<std::vector<EximRule>> r = ParseEximRules(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(GetErrorLocation(r.status()).text_column, c.column) << c.text << ": " << r.status();
  }
  absl::StatusOr<std::vector<EximRule>> ok = ParseEximRules(" F,2h,15m ; G,16h,1h,1.5;F,4d,6h");
  ASSERT_TRUE(ok.ok()) << ok.status();
  ASSERT_EQ(ok->size(), 3u);
  EXPECT_EQ((*ok)[1].multiplier_milli, 1500);
  EXPECT_EQ((*ok)[1].cutoff, 16 * 3600);
  EXPECT_EQ((*ok)[2].text_column, 26);
  EXPECT_EQ(*ParseEximTime("1h30m"), 5400);
}

TEST(EximRuleParserTest, ConfigLinesPerDomainAndError) {
  const char* cfg =
      "# retry section\n"
      "*.example.com   quota      F,1h,10m; F,3d,1h\n"
      "gmail.com       rcpt_4xx   F,4h,5m\n"
      "*               *          F,2h,15m; G,16h,1h,1.5; F,4d,6h\n";
  absl::StatusOr<std::vector<EximRetryLine>> lines = ParseEximRetryConfig(cfg);
  ASSERT_TRUE(lines.ok()) << lines.status();
  ASSERT_EQ(lines->size(), 3u);
  EXPECT_EQ(SelectEximRetryLine(*lines, "mx.example.com", "quota_3d")->line, 2);
  EXPECT_EQ(SelectEximRetryLine(*lines, "mx.example.com", "timeout")->line, 4);
  EXPECT_EQ(SelectEximRetryLine(*lines, "gmail.com", "rcpt_451")->line, 3);
  EXPECT_EQ(SelectEximRetryLine(*lines, "other.org", "refused_MX")->line, 4);
  absl::StatusOr<std::vector<EximRetryLine>> bad = ParseEximRetryConfig("*  *  F,2h,15m\n*  quota  F,2h,1z\n");
  ASSERT_FALSE(bad.ok());
  ErrorLocation loc = GetErrorLocation(bad.status());
  EXPECT_EQ(loc.line, 2);
  EXPECT_EQ(loc.text_column, 17);
  absl::StatusOr<std::vector<EximRetryLine>> bad_err = ParseEximRetryConfig("*  quotaa  F,2h,15m\n");
  EXPECT_EQ(GetErrorLocation(bad_err.status()).text_column, 4);
}

CauseMix FiveCauses() {
  CauseMix mix;
  for (const char* c : {"greylisted", "mailbox_full", "rate_limited", "server_unavailable", "bad_reputation"}) {
    mix.causes.push_back(*DefaultCause(c));
  }
  mix.weights = {0.3, 0.2, 0.2, 0.2, 0.1};
  return mix;
}

TEST(RetrySimTest, ExactMatchesHandComputation) {
  absl::StatusOr<Schedule> s = Schedule::Preset("postfix");
  ASSERT_TRUE(s.ok());
  CauseMix grey;
  grey.causes = {*Cause::Greylist("g", 300, 2 * kDay, 0.0)};
  grey.weights = {1};
  absl::StatusOr<Outcome> o = ExactOutcome(*s, grey);
  ASSERT_TRUE(o.ok());
  EXPECT_DOUBLE_EQ(o->delivered, 1);
  EXPECT_DOUBLE_EQ(o->delivered_mass[0], 1);  // the 300 s retry passes postgrey's 300 s delay
  EXPECT_DOUBLE_EQ(o->mean_attempts, 2);
  // Exponential recovery, mean 1 h, under Mailgun: P(delivered) = F(7 h 55 m).
  CauseMix e;
  e.causes = {*Cause::Recovery("e", *Distribution::Exponential(3600), 0.25)};
  e.weights = {1};
  absl::StatusOr<Outcome> m = ExactOutcome(*Schedule::Preset("mailgun"), e);
  ASSERT_TRUE(m.ok());
  EXPECT_NEAR(m->delivered, 0.75 * (1 - std::exp(-28500.0 / 3600)), 1e-12);
  EXPECT_NEAR(m->delivered_mass[0], 0.75 * (1 - std::exp(-600.0 / 3600)), 1e-12);
  EXPECT_NEAR(m->expired + m->delivered, 1, 1e-12);
  // Throttle with q = 0.5 over Haraka's 12 retries.
  CauseMix t;
  t.causes = {*Cause::Throttle("t", 1, 2)};
  t.weights = {1};
  absl::StatusOr<Outcome> h = ExactOutcome(*Schedule::Preset("haraka"), t);
  EXPECT_NEAR(h->delivered, 1 - std::pow(0.5, 12), 1e-12);
}

TEST(RetrySimTest, MonteCarloAgreesWithExactWithinError) {
  absl::StatusOr<Schedule> s = Schedule::Preset("postfix");
  CauseMix mix = FiveCauses();
  absl::StatusOr<Outcome> ex = ExactOutcome(*s, mix);
  ASSERT_TRUE(ex.ok());
  MonteCarloOptions opt;
  opt.messages = 400'000;
  opt.seed = 11;
  absl::StatusOr<Outcome> mc = MonteCarloOutcome(*s, mix, opt);
  ASSERT_TRUE(mc.ok());
  const double n = static_cast<double>(opt.messages);
  auto tol = [&](double p) { return 5 * std::sqrt(std::max(p * (1 - p), 1e-6) / n); };  // 5 sigma
  EXPECT_NEAR(mc->delivered, ex->delivered, tol(ex->delivered));
  EXPECT_NEAR(mc->expired, ex->expired, tol(ex->expired));
  ASSERT_EQ(mc->delivered_mass.size(), ex->delivered_mass.size());
  double cum_mc = 0, cum_ex = 0;
  for (size_t k = 0; k < ex->delivered_mass.size(); ++k) {
    cum_mc += mc->delivered_mass[k];
    cum_ex += ex->delivered_mass[k];
    EXPECT_NEAR(cum_mc, cum_ex, tol(cum_ex)) << "attempt " << k + 1;
  }
  EXPECT_NEAR(mc->mean_attempts, ex->mean_attempts, 0.05 * ex->mean_attempts);
  for (size_t c = 0; c < mix.causes.size(); ++c) {
    double p = ex->cause_delivered[c];
    EXPECT_NEAR(mc->cause_delivered[c], p, 5 * std::sqrt(std::max(p * (1 - p), 1e-6) / (n * mix.weights[c])))
        << mix.causes[c].name;
  }
}

TEST(RetrySimTest, SameSeedSameResultForAnyThreadCount) {
  for (const char* preset : {"postfix", "exim"}) {
    absl::StatusOr<Schedule> s = Schedule::Preset(preset);
    MonteCarloOptions opt;
    opt.messages = 300'001;  // not a multiple of the block size
    opt.seed = 5;
    opt.threads = 1;
    Outcome a = *MonteCarloOutcome(*s, FiveCauses(), opt);
    for (int th : {2, 3, 8}) {
      opt.threads = th;
      Outcome b = *MonteCarloOutcome(*s, FiveCauses(), opt);
      EXPECT_EQ(a.delivered_mass, b.delivered_mass) << th;
      EXPECT_EQ(a.attempts_mass, b.attempts_mass) << th;
      EXPECT_EQ(a.delivered, b.delivered) << th;
    }
    opt.seed = 6;
    Outcome c = *MonteCarloOutcome(*s, FiveCauses(), opt);
    EXPECT_NE(a.delivered_mass, c.delivered_mass);
  }
  // Random timelines (random Postfix scan phase) too.
  PostfixParams p;
  p.scan_phase = -1;
  absl::StatusOr<Schedule> r = Schedule::Postfix(p);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->deterministic());
  EXPECT_EQ(ExactOutcome(*r, FiveCauses()).status().code(), absl::StatusCode::kFailedPrecondition);
  MonteCarloOptions opt;
  opt.messages = 70'000;
  opt.threads = 1;
  Outcome a = *MonteCarloOutcome(*r, FiveCauses(), opt);
  opt.threads = 2;
  Outcome b = *MonteCarloOutcome(*r, FiveCauses(), opt);
  EXPECT_EQ(a.delivered_times, b.delivered_times);
  EXPECT_EQ(a.delivered_mass, b.delivered_mass);
  EXPECT_NEAR(a.delivered + a.expired, 1, 1e-12);
}

TEST(RetrySimTest, BadMixesAreErrors) {
  absl::StatusOr<Schedule> s = Schedule::Preset("postfix");
  CauseMix empty;
  EXPECT_EQ(GetErrorLocation(ExactOutcome(*s, empty).status()).field, "causes");
  CauseMix mix = FiveCauses();
  mix.weights = {0.3, 0.3, 0.3, 0.3, 0.3};
  absl::Status st = ExactOutcome(*s, mix).status();
  EXPECT_EQ(GetErrorLocation(st).field, "weights");
  EXPECT_NE(st.message().find("sum to 1"), std::string::npos);
  EXPECT_FALSE(Distribution::Mixture({0.5, 0.6}, {*Distribution::Fixed(1), *Distribution::Fixed(2)}).ok());
  EXPECT_FALSE(Distribution::LogNormal(-1, 1).ok());
  EXPECT_FALSE(Cause::Greylist("g", 300, 100).ok());
  EXPECT_FALSE(Cause::Recovery("r", *Distribution::Fixed(1), 1.5).ok());
  EXPECT_FALSE(DefaultCause("nope").ok());
}

TEST(RetrySimTest, DistributionCdfs) {
  Distribution w = *Distribution::Weibull(2, 100);
  EXPECT_NEAR(w.Cdf(100), 1 - std::exp(-1), 1e-12);
  Distribution l = *Distribution::LogNormal(3600, 1);
  EXPECT_NEAR(l.Cdf(3600), 0.5, 1e-12);
  Distribution m = *Distribution::Mixture({0.25, 0.75}, {*Distribution::Fixed(10), l});
  EXPECT_NEAR(m.Cdf(3600), 0.25 + 0.375, 1e-12);
  EXPECT_NEAR(m.Mean(), 0.25 * 10 + 0.75 * 3600 * std::exp(0.5), 1e-6);
  Rng rng(1);
  double sum = 0;
  for (int i = 0; i < 200000; ++i) sum += w.Sample(rng);
  EXPECT_NEAR(sum / 200000, w.Mean(), 0.01 * w.Mean());
}

}  // namespace
}  // namespace bouncekit::retry
