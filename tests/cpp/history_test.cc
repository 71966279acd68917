// Copyright 2026 The bouncekit authors.
//
// Tests for history.h: W2 (suppression policy `standard`) and W3 (campaign x
// domain aggregates) on hand-made cases, against a plain reference
// implementation of the spec on random data, the bench's edge cases byte for
// byte, batch-split and thread invariance, and input errors.

#include "bouncekit/history.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "bouncekit/column.h"
#include "bouncekit/csv_writer.h"
#include "bouncekit/error_location.h"
#include "gtest/gtest.h"

namespace bouncekit {
namespace {

constexpr int64_t T = 1700000000;
constexpr int64_t D = 86400;
constexpr int64_t W = 30 * D;

struct Event {
  std::string recipient;
  int64_t campaign;
  int64_t ts;
  std::string klass;
};

// Columns in Arrow layout built from events (the views point into it).
struct Columns {
  std::vector<int64_t> rec_offsets{0};
  std::string rec_data;
  std::vector<int64_t> cls_offsets{0};
  std::string cls_data;
  std::vector<int64_t> campaign;
  std::vector<int64_t> ts;

  explicit Columns(const std::vector<Event>& ev) {
    for (const Event& e : ev) {
      rec_data += e.recipient;
      rec_offsets.push_back(static_cast<int64_t>(rec_data.size()));
      cls_data += e.klass;
      cls_offsets.push_back(static_cast<int64_t>(cls_data.size()));
      campaign.push_back(e.campaign);
      ts.push_back(e.ts);
    }
  }

  HistoryBatch Batch(size_t begin, size_t end) const {
    HistoryBatch b;
    b.num_rows = static_cast<int64_t>(end - begin);
    b.recipient = StringColumn::LargeUtf8(rec_offsets.data(), rec_data.data(), nullptr,
                                          static_cast<int64_t>(begin), b.num_rows);
    b.bounce_class = StringColumn::LargeUtf8(cls_offsets.data(), cls_data.data(), nullptr,
                                             static_cast<int64_t>(begin), b.num_rows);
    b.campaign_id = Int64ColumnView{campaign.data(), nullptr, static_cast<int64_t>(begin), b.num_rows};
    b.ts = Int64ColumnView{ts.data(), nullptr, static_cast<int64_t>(begin), b.num_rows};
    return b;
  }
};

HistoryResult RunHistory(const std::vector<Event>& ev, size_t batch_rows = 0, int threads = 1,
                  HistoryOptions options = {}) {
  Columns cols(ev);
  absl::StatusOr<std::unique_ptr<HistoryAccumulator>> acc = HistoryAccumulator::Create(options);
  EXPECT_TRUE(acc.ok()) << acc.status();
  if (batch_rows == 0) batch_rows = std::max<size_t>(ev.size(), 1);
  for (size_t b = 0; b < ev.size(); b += batch_rows) {
    absl::Status st = (*acc)->Add(cols.Batch(b, std::min(ev.size(), b + batch_rows)));
    EXPECT_TRUE(st.ok()) << st;
  }
  if (ev.empty()) EXPECT_TRUE((*acc)->Add(cols.Batch(0, 0)).ok());
  absl::StatusOr<HistoryResult> r = (*acc)->Finish(threads);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : HistoryResult();
}

// (recipient, reason, suppressed_at, event_count_seen)
using W2Row = std::tuple<std::string, std::string, int64_t, int64_t>;

std::vector<W2Row> W2Rows(const HistoryResult& r) {
  std::vector<W2Row> out;
  const SuppressionTable& s = r.suppressions;
  for (int64_t i = 0; i < s.size(); ++i) {
    out.emplace_back(std::string(s.recipient(i)),
                     std::string(SuppressionReasonName(static_cast<SuppressionReason>(s.reason[i]))),
                     s.suppressed_at[i], s.event_count_seen[i]);
  }
  return out;
}

// The W2 result for one recipient's events (given in row order).
std::optional<W2Row> W2One(const std::string& recipient, const std::vector<std::tuple<int64_t, int64_t, std::string>>& events) {
  std::vector<Event> ev;
  for (const auto& [ts, campaign, klass] : events) ev.push_back({recipient, campaign, ts, klass});
  std::vector<W2Row> rows = W2Rows(RunHistory(ev));
  EXPECT_LE(rows.size(), 1u);
  if (rows.empty()) return std::nullopt;
  return rows[0];
}

W2Row Hit(const std::string& recipient, const std::string& reason, int64_t ts, int64_t n) {
  return W2Row(recipient, reason, ts, n);
}

// ---------------------------------------------------- reference (SPEC.md)

std::vector<W2Row> ReferenceW2(const std::vector<Event>& ev, int64_t window = W) {
  std::map<std::string, std::vector<std::tuple<int64_t, size_t, int64_t, std::string>>> by;
  for (size_t i = 0; i < ev.size(); ++i) by[ev[i].recipient].emplace_back(ev[i].ts, i, ev[i].campaign, ev[i].klass);
  std::vector<W2Row> out;
  for (auto& [recipient, events] : by) {
    std::sort(events.begin(), events.end());
    std::set<int64_t> streak;
    std::vector<std::pair<int64_t, int64_t>> softs;
    int64_t n = 0;
    for (const auto& [t, row, campaign, klass] : events) {
      ++n;
      if (klass == "hard") {
        out.push_back(Hit(recipient, "hard_bounce", t, n));
        break;
      }
      if (klass == "delivered") {
        streak.clear();
      } else if (klass == "soft") {
        streak.insert(campaign);
        softs.emplace_back(t, campaign);
        std::set<int64_t> in_window;
        for (const auto& [ts, c] : softs) {
          if (t - window < ts && ts <= t) in_window.insert(c);
        }
        if (streak.size() >= 3) {
          out.push_back(Hit(recipient, "soft_streak", t, n));
          break;
        }
        if (in_window.size() >= 3) {
          out.push_back(Hit(recipient, "soft_window", t, n));
          break;
        }
      }
    }
  }
  return out;
}

std::string Domain(const std::string& r) {
  std::string d;
  AppendRecipientDomain(r, &d);
  return d;
}

// (campaign, domain) -> sent, delivered, soft, hard, block
std::map<std::pair<int64_t, std::string>, std::vector<int64_t>> ReferenceW3(const std::vector<Event>& ev) {
  std::map<std::pair<int64_t, std::string>, std::vector<int64_t>> out;
  for (const Event& e : ev) {
    std::vector<int64_t>& c = out[{e.campaign, Domain(e.recipient)}];
    c.resize(5);
    ++c[0];
    if (e.klass == "delivered") ++c[1];
    if (e.klass == "soft") ++c[2];
    if (e.klass == "hard") ++c[3];
    if (e.klass == "block") ++c[4];
  }
  return out;
}

std::map<std::pair<int64_t, std::string>, std::vector<int64_t>> W3Map(const HistoryResult& r) {
  std::map<std::pair<int64_t, std::string>, std::vector<int64_t>> out;
  const AggregateTable& a = r.aggregates;
  for (int64_t i = 0; i < a.size(); ++i) {
    out[{a.campaign_id[i], std::string(a.domain_name(a.domain[i]))}] = {a.sent[i], a.delivered[i], a.soft[i],
                                                                         a.hard[i], a.block[i]};
  }
  return out;
}

// ------------------------------------------------------------------- W2

TEST(HistoryW2, HardBounceSuppressesAtOnce) {
  EXPECT_EQ(W2One("a@x", {{T, 1, "delivered"}, {T + D, 2, "delivered"}, {T + 2 * D, 3, "hard"}, {T + 3 * D, 4, "soft"}}),
            Hit("a@x", "hard_bounce", T + 2 * D, 3));
  EXPECT_EQ(W2One("a@x", {{T, 1, "hard"}, {T + D, 2, "soft"}}), Hit("a@x", "hard_bounce", T, 1));
}

TEST(HistoryW2, StreakCountsDistinctCampaigns) {
  // c1 c2 c1 c3: fires at c3 (event 4), not at the second c1.
  EXPECT_EQ(W2One("a@x", {{T, 1, "soft"}, {T + 40 * D, 2, "soft"}, {T + 80 * D, 1, "soft"}, {T + 120 * D, 3, "soft"}}),
            Hit("a@x", "soft_streak", T + 120 * D, 4));
  // Retries of one campaign never make a streak.
  EXPECT_EQ(W2One("a@x", {{T, 1, "soft"}, {T + D, 1, "soft"}, {T + 2 * D, 1, "soft"}, {T + 3 * D, 1, "soft"}}),
            std::nullopt);
}

TEST(HistoryW2, BlockAndOtherClassesChangeNothingButCount) {
  EXPECT_EQ(W2One("a@x", {{T, 1, "soft"},
                          {T + 40 * D, 2, "block"},
                          {T + 80 * D, 3, "soft"},
                          {T + 100 * D, 9, "bounced?"},
                          {T + 120 * D, 4, "soft"}}),
            Hit("a@x", "soft_streak", T + 120 * D, 5));
  EXPECT_EQ(W2One("a@x", {{T, 1, "block"}, {T + 1, 2, "block"}, {T + 2, 3, "Hard"}}), std::nullopt);
}

TEST(HistoryW2, DeliveredClearsStreakButNotWindow) {
  // Streak: c1 c2 | delivered | c3 c4 -> no streak; but within 30 days the
  // window holds c1 c2 c3 at the c3 event.
  EXPECT_EQ(W2One("a@x", {{T, 1, "soft"}, {T + D, 2, "soft"}, {T + 2 * D, 2, "delivered"}, {T + 3 * D, 3, "soft"}}),
            Hit("a@x", "soft_window", T + 3 * D, 4));
  // Same spaced over more than 30 days: nothing.
  EXPECT_EQ(W2One("a@x", {{T, 1, "soft"}, {T + 40 * D, 2, "soft"}, {T + 80 * D, 2, "delivered"},
                          {T + 120 * D, 3, "soft"}, {T + 160 * D, 4, "soft"}}),
            std::nullopt);
  // A delivered of another campaign clears the streak as well.
  EXPECT_EQ(W2One("a@x", {{T, 1, "soft"}, {T + 40 * D, 2, "soft"}, {T + 50 * D, 7, "delivered"},
                          {T + 80 * D, 3, "soft"}}),
            std::nullopt);
}

TEST(HistoryW2, WindowEdgeIsExcluded) {
  // Exactly 30 days before: out of the window.
  EXPECT_EQ(W2One("a@x", {{T, 1, "soft"}, {T + 1, 1, "delivered"}, {T + 10 * D, 2, "soft"},
                          {T + 10 * D + 1, 2, "delivered"}, {T + W, 3, "soft"}}),
            std::nullopt);
  // One second later: in.
  EXPECT_EQ(W2One("a@x", {{T + 1, 1, "soft"}, {T + 2, 1, "delivered"}, {T + 10 * D, 2, "soft"},
                          {T + 10 * D + 1, 2, "delivered"}, {T + W, 3, "soft"}}),
            Hit("a@x", "soft_window", T + W, 5));
}

TEST(HistoryW2, WindowUsesTheLatestSoftOfACampaign) {
  // c1 at T and again at T+20d: at T+40d c1's latest soft (T+20d) is inside.
  EXPECT_EQ(W2One("a@x", {{T, 1, "soft"}, {T + D, 1, "delivered"}, {T + 20 * D, 1, "soft"},
                          {T + 21 * D, 1, "delivered"}, {T + 30 * D, 2, "soft"},
                          {T + 31 * D, 1, "delivered"}, {T + 40 * D, 3, "soft"}}),
            Hit("a@x", "soft_window", T + 40 * D, 7));
}

TEST(HistoryW2, BothRulesReportStreak) {
  EXPECT_EQ(W2One("a@x", {{T, 1, "soft"}, {T + D, 2, "soft"}, {T + 2 * D, 3, "soft"}}),
            Hit("a@x", "soft_streak", T + 2 * D, 3));
}

TEST(HistoryW2, TiesInTsFollowInputRows) {
  // Delivered first among the tied rows: the streak is cleared.
  EXPECT_EQ(W2One("a@x", {{T + 80 * D, 3, "delivered"}, {T + 80 * D, 3, "soft"}, {T, 1, "soft"}, {T + 40 * D, 2, "soft"}}),
            std::nullopt);
  // Soft first: streak of three at the tied soft (event 3).
  EXPECT_EQ(W2One("a@x", {{T + 80 * D, 3, "soft"}, {T + 80 * D, 3, "delivered"}, {T, 1, "soft"}, {T + 40 * D, 2, "soft"}}),
            Hit("a@x", "soft_streak", T + 80 * D, 3));
  // A hard and a soft at the same ts: the row order decides which comes first.
  EXPECT_EQ(W2One("a@x", {{T, 1, "soft"}, {T + D, 1, "soft"}, {T + D, 2, "hard"}}),
            Hit("a@x", "hard_bounce", T + D, 3));
  // The window at a soft event does not see a tied soft with a later row.
  EXPECT_EQ(W2One("a@x", {{T, 1, "soft"}, {T + D, 9, "delivered"}, {T + 5 * D, 2, "soft"}, {T + 5 * D, 3, "soft"}}),
            Hit("a@x", "soft_window", T + 5 * D, 4));
}

TEST(HistoryW2, UnsortedInputIsSortedPerRecipient) {
  std::vector<Event> ev = {
      {"b@x", 3, T + 2 * D, "soft"}, {"a@x", 1, T + 5, "hard"}, {"b@x", 1, T, "soft"},
      {"a@x", 1, T, "delivered"},    {"b@x", 2, T + D, "soft"}, {"c@x", 1, T, "delivered"},
  };
  EXPECT_EQ(W2Rows(RunHistory(ev)),
            (std::vector<W2Row>{Hit("a@x", "hard_bounce", T + 5, 2), Hit("b@x", "soft_streak", T + 2 * D, 3)}));
}

TEST(HistoryW2, LongUnsortedGroupUsesTheStableSort) {
  // 200 events of one recipient in reverse ts order with tied pairs.
  std::vector<Event> ev;
  for (int i = 100; i > 0; --i) {
    ev.push_back({"a@x", 1, T + i * D, "delivered"});
    ev.push_back({"a@x", 1, T + i * D, i == 3 ? "soft" : "delivered"});
  }
  ev.push_back({"a@x", 2, T + 3 * D, "soft"});
  ev.push_back({"a@x", 3, T + 3 * D, "soft"});
  EXPECT_EQ(W2Rows(RunHistory(ev)), ReferenceW2(ev));
  ASSERT_EQ(W2Rows(RunHistory(ev)).size(), 1u);
  EXPECT_EQ(W2Rows(RunHistory(ev))[0], Hit("a@x", "soft_streak", T + 3 * D, 8));
}

TEST(HistoryW2, RecipientsAreCaseSensitiveAndSortedByBytes) {
  std::vector<Event> ev = {
      {"anna@example.com", 1, T, "hard"}, {"Anna@Example.com", 1, T, "hard"}, {"", 1, T, "hard"},
      {"anna@example.co", 1, T, "hard"},  {"\xc3\xa9@x", 1, T, "hard"},       {"anna@example.comX", 1, T, "hard"},
  };
  std::vector<W2Row> rows = W2Rows(RunHistory(ev));
  std::vector<std::string> names;
  for (const W2Row& r : rows) names.push_back(std::get<0>(r));
  EXPECT_EQ(names, (std::vector<std::string>{"", "Anna@Example.com", "anna@example.co", "anna@example.com",
                                             "anna@example.comX", "\xc3\xa9@x"}));
}

TEST(HistoryW2, TsExtremesDoNotOverflow) {
  const int64_t lo = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(W2One("a@x", {{lo, 1, "soft"}, {lo + 1, 2, "delivered"}, {lo + 2, 2, "soft"}, {lo + 3, 3, "soft"}}),
            Hit("a@x", "soft_window", lo + 3, 4));
  const int64_t hi = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(W2One("a@x", {{hi - 2, 1, "soft"}, {hi - 1, 2, "soft"}, {hi, 3, "soft"}}),
            Hit("a@x", "soft_streak", hi, 3));
}

TEST(HistoryW2, OtherPolicyThresholds) {
  HistoryOptions o;
  o.aggregates = false;
  o.policy.name = "strict";
  o.policy.streak_campaigns = 2;
  o.policy.window_campaigns = 1;
  o.policy.window_seconds = D;
  std::vector<Event> ev = {{"a@x", 1, T, "soft"}};
  EXPECT_EQ(W2Rows(RunHistory(ev, 0, 1, o)), (std::vector<W2Row>{Hit("a@x", "soft_window", T, 1)}));
  o.policy.window_campaigns = 16;
  ev = {{"a@x", 1, T, "soft"}, {"a@x", 1, T + 1, "soft"}, {"a@x", 2, T + 2, "soft"}};
  EXPECT_EQ(W2Rows(RunHistory(ev, 0, 1, o)), (std::vector<W2Row>{Hit("a@x", "soft_streak", T + 2, 3)}));
  o.policy.window_campaigns = 17;
  EXPECT_EQ(HistoryAccumulator::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(SuppressionPolicyByName("standard").ok());
  EXPECT_EQ(SuppressionPolicyByName("lenient").status().code(), absl::StatusCode::kNotFound);
}

// ------------------------------------------------------------------- W3

TEST(HistoryW3, DomainIsAfterTheLastAtLowerCased) {
  EXPECT_EQ(Domain("a@b@Example.ORG"), "example.org");
  EXPECT_EQ(Domain("no-at-sign"), "");
  EXPECT_EQ(Domain("user@"), "");
  EXPECT_EQ(Domain("@X"), "x");
  EXPECT_EQ(Domain("u@\xc3\x89XAMPLE.fr"), "\xc3\x89xample.fr");  // ASCII letters only
}

TEST(HistoryW3, CountsRatesAndSortOrder) {
  std::vector<Event> ev = {
      {"a@b@Example.ORG", 7, T, "delivered"}, {"x@example.org", 7, T, "soft"}, {"no-at-sign", 7, T, "hard"},
      {"y@", 7, T, "block"},                   {"z@Z.test", -3, T, "weird"},    {"x@example.org", 7, T, "delivered"},
  };
  HistoryResult r = RunHistory(ev);
  const AggregateTable& a = r.aggregates;
  ASSERT_EQ(a.size(), 3);
  EXPECT_EQ(a.campaign_id, (std::vector<int64_t>{-3, 7, 7}));
  EXPECT_EQ(a.domain_name(a.domain[0]), "z.test");
  EXPECT_EQ(a.domain_name(a.domain[1]), "");
  EXPECT_EQ(a.domain_name(a.domain[2]), "example.org");
  EXPECT_EQ(a.sent, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(a.delivered, (std::vector<int64_t>{0, 0, 2}));
  EXPECT_EQ(a.soft, (std::vector<int64_t>{0, 0, 1}));
  EXPECT_EQ(a.hard, (std::vector<int64_t>{0, 1, 0}));
  EXPECT_EQ(a.block, (std::vector<int64_t>{0, 1, 0}));
  EXPECT_EQ(a.hard_rate[1], 0.5);
  EXPECT_EQ(a.soft_rate[2], 1.0 / 3.0);
  EXPECT_EQ(a.hard_flag, (std::vector<uint8_t>{0, 1, 0}));
  EXPECT_EQ(a.soft_flag, (std::vector<uint8_t>{0, 0, 1}));
  EXPECT_EQ(a.block_flag, (std::vector<uint8_t>{0, 1, 0}));
  EXPECT_EQ(r.rows, 6);
  EXPECT_EQ(r.recipients, 5);
  HistoryOptions w3_only;
  w3_only.suppressions = false;
  EXPECT_EQ(RunHistory(ev, 0, 1, w3_only).recipients, -1);
}

TEST(HistoryW3, FlagsAtExactThresholdsAreNotSet) {
  std::vector<Event> ev;
  auto add = [&](const std::string& domain, int n, const std::string& klass, int k) {
    for (int i = 0; i < n; ++i) ev.push_back({absl::StrCat("u", i, "@", domain), 1, T, i < k ? klass : "delivered"});
  };
  add("hard20", 20, "hard", 1);    // 1/20 = 0.05: not > 0.05
  add("hard19", 19, "hard", 1);    // 1/19 > 0.05
  add("soft10", 10, "soft", 1);    // 0.10: not flagged
  add("soft9", 9, "soft", 1);
  add("block20", 20, "block", 1);
  add("block19", 19, "block", 1);
  const AggregateTable a = RunHistory(ev).aggregates;
  std::map<std::string, std::vector<int>> flags;
  for (int64_t i = 0; i < a.size(); ++i) {
    flags[std::string(a.domain_name(a.domain[i]))] = {a.hard_flag[i], a.soft_flag[i], a.block_flag[i]};
  }
  EXPECT_EQ(flags["hard20"], (std::vector<int>{0, 0, 0}));
  EXPECT_EQ(flags["hard19"], (std::vector<int>{1, 0, 0}));
  EXPECT_EQ(flags["soft10"], (std::vector<int>{0, 0, 0}));
  EXPECT_EQ(flags["soft9"], (std::vector<int>{0, 1, 0}));
  EXPECT_EQ(flags["block20"], (std::vector<int>{0, 0, 0}));
  EXPECT_EQ(flags["block19"], (std::vector<int>{0, 0, 1}));
}

// ------------------------------------------------------ random vs reference

std::vector<Event> RandomEvents(uint32_t seed, int rows, int recipients) {
  std::mt19937 rng(seed);
  const char* classes[] = {"delivered", "delivered", "soft", "soft", "soft", "hard", "block", "other"};
  std::vector<Event> ev;
  for (int i = 0; i < rows; ++i) {
    const int r = static_cast<int>(rng() % recipients);
    std::string rec = absl::StrCat(r % 3 == 0 ? "User" : "user", r, r % 7 == 0 ? "@a@Dom" : "@dom", r % 11, ".test");
    if (r % 13 == 0) rec = absl::StrCat("broken", r);
    const int64_t ts = T + static_cast<int64_t>(rng() % 90) * D / 2 + (rng() % 3 == 0 ? 0 : static_cast<int64_t>(rng() % 5));
    ev.push_back({rec, static_cast<int64_t>(rng() % 6) * 1000 - 2000, ts, classes[rng() % 8]});
  }
  return ev;
}

TEST(HistoryRandom, MatchesTheReference) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::vector<Event> ev = RandomEvents(seed, 3000, 1 + seed * 37);
    HistoryResult r = RunHistory(ev);
    EXPECT_EQ(W2Rows(r), ReferenceW2(ev)) << "seed " << seed;
    EXPECT_EQ(W3Map(r), ReferenceW3(ev)) << "seed " << seed;
  }
}

// Events are stored in 8 bytes with ts as a 32-bit offset from a base set
// by the first row; the rest are kept whole. Here ts jump across many
// 2^32 windows (and the sign), with ties inside each, for the same
// recipients: the results must not depend on which events were narrow.
TEST(HistoryRandom, TsFarOutsideTheFirstRowsWindow) {
  const int64_t bases[] = {T, T + (int64_t{1} << 32), T - (int64_t{3} << 32), -(int64_t{1} << 40),
                           int64_t{1} << 50, T + 5 * D};
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    std::vector<Event> ev = RandomEvents(seed + 100, 4000, 60);
    std::mt19937 rng(seed);
    for (Event& e : ev) e.ts = bases[rng() % 6] + static_cast<int64_t>(rng() % 4) * D / 2 + (rng() % 3);
    EXPECT_EQ(W2Rows(RunHistory(ev)), ReferenceW2(ev)) << "seed " << seed;
    for (int64_t staging : {1, 3000}) {
      HistoryOptions options;
      options.staging_bytes = staging;
      EXPECT_EQ(W2Rows(RunHistory(ev, 333, 2, options)), ReferenceW2(ev)) << "seed " << seed << " " << staging;
    }
  }
}

// Campaign ids go through a small direct-mapped cache before the map: here
// thousands of campaigns, interleaved row by row and many sharing cache
// slots, must give the same indices (and so the same W2 windows and W3
// groups) as the reference.
TEST(HistoryRandom, ManyInterleavedCampaigns) {
  for (uint32_t seed = 1; seed <= 3; ++seed) {
    std::vector<Event> ev = RandomEvents(seed + 200, 20000, 700);
    std::mt19937 rng(seed);
    for (Event& e : ev) e.campaign = static_cast<int64_t>(rng() % 3000) * (int64_t{1} << 56) / 4096 - 5;
    EXPECT_EQ(W2Rows(RunHistory(ev)), ReferenceW2(ev)) << "seed " << seed;
    EXPECT_EQ(W3Map(RunHistory(ev)), ReferenceW3(ev)) << "seed " << seed;
    EXPECT_EQ(W2Rows(RunHistory(ev, 777, 2)), ReferenceW2(ev)) << "seed " << seed;
  }
}

TEST(HistoryRandom, BatchSplitsAndThreadsDoNotChangeResults) {
  std::vector<Event> ev = RandomEvents(99, 20000, 1500);
  HistoryResult ref = RunHistory(ev);
  for (size_t batch : {1, 7, 31, 32, 33, 1000, 19999}) {
    for (int threads : {1, 2, 3, 8}) {
      // Staged rows interned at Finish() only, after every batch, or now and then.
      for (int64_t staging : {0, 1, 5000}) {
        HistoryOptions options;
        options.ingest_threads = threads;  // 3 runs as 2
        options.staging_bytes = staging;
        HistoryResult r = RunHistory(ev, batch, threads, options);
        EXPECT_EQ(W2Rows(r), W2Rows(ref)) << batch << " " << threads << " " << staging;
        EXPECT_EQ(W3Map(r), W3Map(ref)) << batch << " " << threads << " " << staging;
        EXPECT_EQ(r.recipients, ref.recipients);
        EXPECT_EQ(r.aggregates.domain, ref.aggregates.domain);
        EXPECT_EQ(r.aggregates.domain_data, ref.aggregates.domain_data);
      }
    }
  }
}

TEST(HistoryRandom, EachWorkloadAlone) {
  std::vector<Event> ev = RandomEvents(5, 5000, 400);
  HistoryResult both = RunHistory(ev);
  HistoryOptions w2;
  w2.aggregates = false;
  HistoryOptions w3;
  w3.suppressions = false;
  w3.ingest_threads = 4;
  HistoryResult only2 = RunHistory(ev, 0, 2, w2);
  HistoryResult only3 = RunHistory(ev, 0, 2, w3);
  EXPECT_EQ(W2Rows(only2), W2Rows(both));
  EXPECT_EQ(only2.aggregates.size(), 0);
  EXPECT_EQ(W3Map(only3), W3Map(both));
  EXPECT_EQ(only3.suppressions.size(), 0);
  HistoryOptions none;
  none.suppressions = none.aggregates = false;
  EXPECT_EQ(HistoryAccumulator::Create(none).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(HistoryRandom, ManyRecipientsGrowTheTables) {
  std::vector<Event> ev;
  for (int i = 0; i < 200000; ++i) {
    ev.push_back({absl::StrCat("r", i % 70001, "@d", (i % 70001) % 5003, ".x"), i % 17, T + (i * 7919) % (200 * D),
                  i % 23 == 0 ? "soft" : i % 101 == 0 ? "hard" : "delivered"});
  }
  for (int64_t staging : {0, 1, 1 << 20}) {
    HistoryOptions options;
    options.ingest_threads = 2;
    options.staging_bytes = staging;
    HistoryResult r = RunHistory(ev, 65536, 2, options);
    EXPECT_EQ(r.recipients, 70001);
    EXPECT_EQ(W2Rows(r), ReferenceW2(ev)) << staging;
    EXPECT_EQ(W3Map(r), ReferenceW3(ev)) << staging;
  }
}

TEST(HistoryRandom, LongEmptyAndOddRecipients) {
  std::vector<Event> ev;
  std::mt19937 rng(17);
  for (int i = 0; i < 30000; ++i) {
    const int r = static_cast<int>(rng() % 400);
    std::string rec;
    switch (r % 5) {
      case 0: rec = std::string(60 + r, static_cast<char>('a' + r % 26)) + "@Long.Example"; break;
      case 1: rec = ""; break;
      case 2: rec = std::string("\0x\xff@D", 6) + std::to_string(r); break;
      default: rec = absl::StrCat("u", r, "@d", r % 9, ".test"); break;
    }
    const char* classes[] = {"delivered", "soft", "soft", "hard", "block"};
    ev.push_back({rec, static_cast<int64_t>(rng() % 5), T + static_cast<int64_t>(rng() % 100) * D / 4,
                  classes[rng() % 5]});
  }
  for (int threads : {1, 4}) {
    HistoryOptions options;
    options.ingest_threads = threads;
    HistoryResult r = RunHistory(ev, 20000, threads, options);
    EXPECT_EQ(W2Rows(r), ReferenceW2(ev));
    EXPECT_EQ(W3Map(r), ReferenceW3(ev));
  }
}

TEST(HistoryRandom, EmptyInput) {
  HistoryResult r = RunHistory({});
  EXPECT_EQ(r.suppressions.size(), 0);
  EXPECT_EQ(r.suppressions.recipient_offsets.size(), 1u);
  EXPECT_EQ(r.aggregates.size(), 0);
  EXPECT_EQ(r.aggregates.num_domains(), 0);
}

// ----------------------------------------------------------- input errors

TEST(HistoryErrors, NullTsNamesTheGlobalRowAndColumn) {
  std::vector<Event> ev = RandomEvents(3, 10, 5);
  Columns cols(ev);
  auto acc = HistoryAccumulator::Create({});
  ASSERT_TRUE(acc.ok());
  ASSERT_TRUE((*acc)->Add(cols.Batch(0, 4)).ok());
  HistoryBatch b = cols.Batch(4, 10);
  std::vector<uint8_t> validity = {0xff, 0xff};
  validity[0] &= ~(1u << (4 + 2));  // Arrow offset 4: row 2 of the batch = input row 6
  b.ts.validity = validity.data();
  absl::Status st = (*acc)->Add(b);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  ErrorLocation loc = GetErrorLocation(st);
  EXPECT_EQ(loc.row, 6);
  EXPECT_EQ(loc.column, "ts");
  // The failed batch left nothing behind: adding it without the null works.
  EXPECT_EQ((*acc)->rows_seen(), 4);
  b.ts.validity = nullptr;
  b.campaign_id.validity = validity.data();
  st = (*acc)->Add(b);
  EXPECT_EQ(GetErrorLocation(st).column, "campaign_id");
  b.campaign_id.validity = nullptr;
  ASSERT_TRUE((*acc)->Add(b).ok());
  absl::StatusOr<HistoryResult> r = (*acc)->Finish();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(W2Rows(*r), W2Rows(RunHistory(ev)));
  EXPECT_EQ((*acc)->Finish().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*acc)->Add(b).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(HistoryErrors, LengthsAndCodesAreChecked) {
  std::vector<Event> ev = RandomEvents(4, 10, 5);
  Columns cols(ev);
  auto acc = HistoryAccumulator::Create({});
  ASSERT_TRUE(acc.ok());
  HistoryBatch b = cols.Batch(0, 10);
  b.ts.length = 9;
  absl::Status st = (*acc)->Add(b);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetErrorLocation(st).column, "ts");
  b = cols.Batch(0, 10);
  std::vector<uint8_t> codes(10, 1);
  codes[8] = 5;
  b.bounce_class_codes = codes;
  st = (*acc)->Add(b);
  EXPECT_EQ(GetErrorLocation(st).row, 8);
  EXPECT_EQ(GetErrorLocation(st).column, "bounce_class");
  codes.resize(9);
  b.bounce_class_codes = codes;
  EXPECT_EQ(GetErrorLocation((*acc)->Add(b)).column, "bounce_class");
}

TEST(HistoryErrors, ClassCodesEqualClassStrings) {
  std::vector<Event> ev = RandomEvents(8, 4000, 300);
  Columns cols(ev);
  std::vector<uint8_t> codes;
  for (const Event& e : ev) codes.push_back(static_cast<uint8_t>(ParseEventClass(e.klass)));
  auto acc = HistoryAccumulator::Create({});
  ASSERT_TRUE(acc.ok());
  HistoryBatch b = cols.Batch(0, ev.size());
  b.bounce_class = StringColumn::AllNull(0);
  b.bounce_class_codes = codes;
  ASSERT_TRUE((*acc)->Add(b).ok());
  absl::StatusOr<HistoryResult> r = (*acc)->Finish(2);
  ASSERT_TRUE(r.ok());
  HistoryResult ref = RunHistory(ev);
  EXPECT_EQ(W2Rows(*r), W2Rows(ref));
  EXPECT_EQ(W3Map(*r), W3Map(ref));
}

TEST(HistoryErrors, NullStringsReadAsEmpty) {
  std::vector<Event> ev = {{"a@x", 1, T, "hard"}, {"b@x", 1, T, "hard"}};
  Columns cols(ev);
  HistoryBatch b = cols.Batch(0, 2);
  uint8_t validity = 0x01;  // row 1 null in recipient and bounce_class
  b.recipient = StringColumn::LargeUtf8(cols.rec_offsets.data(), cols.rec_data.data(), &validity, 0, 2);
  b.bounce_class = StringColumn::LargeUtf8(cols.cls_offsets.data(), cols.cls_data.data(), &validity, 0, 2);
  auto acc = HistoryAccumulator::Create({});
  ASSERT_TRUE(acc.ok());
  ASSERT_TRUE((*acc)->Add(b).ok());
  absl::StatusOr<HistoryResult> r = (*acc)->Finish();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(W2Rows(*r), (std::vector<W2Row>{Hit("a@x", "hard_bounce", T, 1)}));
  EXPECT_EQ(r->aggregates.size(), 2);
}

// --------------------------------------------- the bench's edge cases, bytes

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<Event> ReadEdgeCases() {
  const std::string text = ReadFile(std::string(BOUNCEKIT_SHARED_DIR) + "/bench/tests/edge_cases.csv");
  std::vector<Event> ev;
  bool header = true;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (header) {
      header = false;
      continue;
    }
    std::vector<std::string> f = absl::StrSplit(line, ',');  // the file has no quoted fields
    EXPECT_EQ(f.size(), 7u) << line;
    if (f.size() != 7) continue;
    Event e{f[0], 0, 0, f[6]};
    EXPECT_TRUE(absl::SimpleAtoi(f[1], &e.campaign));
    EXPECT_TRUE(absl::SimpleAtoi(f[2], &e.ts));
    ev.push_back(e);
  }
  return ev;
}

// What `write` (WriteSuppressionsCsv or WriteAggregatesCsv) puts in a file.
template <typename Fn>
std::string WrittenBy(Fn write) {
  const std::string path = ::testing::TempDir() + "/history_test_out.csv";
  const absl::Status st = write(path);
  EXPECT_TRUE(st.ok()) << st;
  std::string out = ReadFile(path);
  std::remove(path.c_str());
  return out;
}

TEST(HistoryBench, EdgeCasesMatchTheExpectedFilesByteForByte) {
  const std::vector<Event> ev = ReadEdgeCases();
  ASSERT_EQ(ev.size(), 252u);
  const std::string dir = std::string(BOUNCEKIT_SHARED_DIR) + "/bench/tests/";
  for (int threads : {1, 2}) {
    for (size_t batch : {size_t{0}, size_t{1}, size_t{10}}) {
      HistoryResult r = RunHistory(ev, batch, threads);
      EXPECT_EQ(W2Rows(r), ReferenceW2(ev));

      const std::string w2 =
          WrittenBy([&](const std::string& path) { return WriteSuppressionsCsv(r.suppressions, path); });
      EXPECT_EQ(w2, ReadFile(dir + "edge_cases.expected_w2.csv"));
      const std::string w3 =
          WrittenBy([&](const std::string& path) { return WriteAggregatesCsv(r.aggregates, path, 12); });
      EXPECT_EQ(w3, ReadFile(dir + "edge_cases.expected_w3.csv"));
    }
  }
}

TEST(HistoryBench, WritingToAMissingFolderIsAnErrorNamingIt) {
  HistoryResult r = RunHistory(ReadEdgeCases(), 0, 1);
  const std::string path = ::testing::TempDir() + "/no_such_folder/w2.csv";
  const absl::Status st = WriteSuppressionsCsv(r.suppressions, path);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("no_such_folder"), absl::string_view::npos) << st;
}

TEST(HistoryNames, ClassesAndReasons) {
  EXPECT_EQ(ParseEventClass("delivered"), EventClass::kDelivered);
  EXPECT_EQ(ParseEventClass("soft"), EventClass::kSoft);
  EXPECT_EQ(ParseEventClass("hard"), EventClass::kHard);
  EXPECT_EQ(ParseEventClass("block"), EventClass::kBlock);
  EXPECT_EQ(ParseEventClass("Soft"), EventClass::kOther);
  EXPECT_EQ(ParseEventClass("hard "), EventClass::kOther);
  EXPECT_EQ(ParseEventClass(""), EventClass::kOther);
  EXPECT_EQ(EventClassName(EventClass::kOther), "other");
  EXPECT_EQ(SuppressionReasonName(SuppressionReason::kSoftWindow), "soft_window");
}

}  // namespace
}  // namespace bouncekit
