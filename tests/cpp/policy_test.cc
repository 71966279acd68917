// Copyright 2026 The bouncekit authors.

#include "bouncekit/policy.h"

#include <cstdint>
#include <fstream>
#include <sstream>
#include <random>
#include <string>
#include <vector>

#include "bouncekit/error_location.h"
#include "bouncekit/history.h"
#include "gtest/gtest.h"

namespace bouncekit {
namespace {

struct Rows {
  std::vector<std::string> recipient;
  std::vector<int64_t> campaign, ts;
  std::vector<uint8_t> klass, flags;

  void Push(std::string r, int64_t c, int64_t t, PolicyClass k, uint8_t f = 0) {
    recipient.push_back(std::move(r));
    campaign.push_back(c);
    ts.push_back(t);
    klass.push_back(static_cast<uint8_t>(k));
    flags.push_back(f);
  }
};

// Keeps the Arrow-like buffers of a slice of Rows alive.
struct Batch {
  std::vector<int64_t> offsets;
  std::string data;
  PolicyBatch b;
  Batch(const Rows& r, size_t begin, size_t end) {
    offsets.push_back(0);
    for (size_t i = begin; i < end; ++i) {
      data += r.recipient[i];
      offsets.push_back(static_cast<int64_t>(data.size()));
    }
    const int64_t n = static_cast<int64_t>(end - begin);
    b.num_rows = n;
    b.recipient = StringColumn::LargeUtf8(offsets.data(), data.data(), nullptr, 0, n);
    b.campaign_id = Int64ColumnView{r.campaign.data() + begin, nullptr, 0, n};
    b.ts = Int64ColumnView{r.ts.data() + begin, nullptr, 0, n};
    b.klass = absl::Span<const uint8_t>(r.klass.data() + begin, static_cast<size_t>(n));
    b.flags = absl::Span<const uint8_t>(r.flags.data() + begin, static_cast<size_t>(n));
  }
};

DecisionTable RunAll(const Policy& p, const Rows& r) {
  auto e = PolicyEngine::Create(p);
  EXPECT_TRUE(e.ok()) << e.status();
  Batch b(r, 0, r.recipient.size());
  EXPECT_TRUE((*e)->Add(b.b).ok());
  EXPECT_TRUE((*e)->Run().ok());
  return (*e)->Decisions();
}

Rows RandomRows(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  Rows r;
  const PolicyClass classes[] = {PolicyClass::kDelivered, PolicyClass::kDelivered, PolicyClass::kSoft,
                                 PolicyClass::kSoft,      PolicyClass::kSoft,      PolicyClass::kBlock,
                                 PolicyClass::kOther};
  for (int i = 0; i < n; ++i) {
    PolicyClass k = classes[rng() % 7];
    if (rng() % 40 == 0) k = PolicyClass::kHard;
    r.Push("r" + std::to_string(rng() % 60), rng() % 8, static_cast<int64_t>(rng() % 90) * 86400 / 2, k);
  }
  return r;
}

TEST(PolicyTest, StandardMatchesW2FastPath) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    Rows r = RandomRows(3000, seed);
    DecisionTable d = RunAll(StandardPolicy(), r);
    HistoryOptions o;
    o.aggregates = false;
    auto h = HistoryAccumulator::Create(o);
    ASSERT_TRUE(h.ok());
    std::vector<std::string> cls;
    for (uint8_t k : r.klass) cls.emplace_back(PolicyClassName(static_cast<PolicyClass>(k)));
    std::vector<int64_t> ro{0}, co{0};
    std::string rd, cd;
    for (size_t i = 0; i < r.recipient.size(); ++i) {
      rd += r.recipient[i];
      ro.push_back(static_cast<int64_t>(rd.size()));
      cd += cls[i];
      co.push_back(static_cast<int64_t>(cd.size()));
    }
    const int64_t n = static_cast<int64_t>(r.recipient.size());
    HistoryBatch hb;
    hb.num_rows = n;
    hb.recipient = StringColumn::LargeUtf8(ro.data(), rd.data(), nullptr, 0, n);
    hb.campaign_id = Int64ColumnView{r.campaign.data(), nullptr, 0, n};
    hb.ts = Int64ColumnView{r.ts.data(), nullptr, 0, n};
    hb.bounce_class = StringColumn::LargeUtf8(co.data(), cd.data(), nullptr, 0, n);
    ASSERT_TRUE((*h)->Add(hb).ok());
    auto res = (*h)->Finish();
    ASSERT_TRUE(res.ok());
    const SuppressionTable& s = res->suppressions;
    ASSERT_EQ(s.size(), d.size()) << "seed " << seed;
    ASSERT_GT(s.size(), 0);
    const Policy p = StandardPolicy();
    for (int64_t i = 0; i < s.size(); ++i) {
      EXPECT_EQ(s.recipient(i), d.recipient[i]);
      EXPECT_EQ(SuppressionReasonName(static_cast<SuppressionReason>(s.reason[i])),
                p.rules[static_cast<size_t>(d.rule[i])].name);
      EXPECT_EQ(s.suppressed_at[i], d.decided_at[i]);
      EXPECT_EQ(s.event_count_seen[i], d.event_number[i]);
      EXPECT_EQ(d.action[i], static_cast<uint8_t>(PolicyAction::kSuppress));
    }
  }
}

TEST(PolicyTest, TomlErrorsNameTheField) {
  auto bad_kind = ParsePolicyToml("name='x'\n[[rules]]\nkind='soft_forever'\n", "p.toml");
  ASSERT_FALSE(bad_kind.ok());
  EXPECT_EQ(GetErrorLocation(bad_kind.status()).field.value_or(""), "rules[0].kind");
  EXPECT_NE(bad_kind.status().message().find("soft_forever"), std::string::npos);
  EXPECT_EQ(GetErrorLocation(bad_kind.status()).line.value_or(0), 3);

  auto neg = ParsePolicyToml("[[rules]]\nkind='hard'\n[[rules]]\nkind='soft_window'\ncount=3\nwindow_days=-2\n");
  ASSERT_FALSE(neg.ok());
  EXPECT_EQ(GetErrorLocation(neg.status()).field.value_or(""), "rules[1].window_days");
  EXPECT_NE(neg.status().message().find("negative"), std::string::npos);

  auto no_window = ParsePolicyToml("[[rules]]\nkind='soft_window'\ncount=3\n");
  ASSERT_FALSE(no_window.ok());
  EXPECT_EQ(GetErrorLocation(no_window.status()).field.value_or(""), "rules[0].window_days");

  auto unknown_key = ParsePolicyToml("colour='red'\n[[rules]]\nkind='hard'\n");
  ASSERT_FALSE(unknown_key.ok());
  EXPECT_EQ(GetErrorLocation(unknown_key.status()).field.value_or(""), "colour");

  auto bad_action = ParsePolicyToml("[[rules]]\nkind='hard'\naction='delete'\n");
  ASSERT_FALSE(bad_action.ok());
  EXPECT_EQ(GetErrorLocation(bad_action.status()).field.value_or(""), "rules[0].action");

  auto ok = ParsePolicyToml(
      "name='t'\nmin_spacing_hours=24\n[[rules]]\nkind='soft_window'\ncount=3\nwindow_days=30\n"
      "action='pause'\npause_days=7\n");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->rules[0].window_seconds, 30 * 86400);
  EXPECT_EQ(ok->rules[0].pause_seconds, 7 * 86400);
  EXPECT_EQ(ok->min_spacing_seconds, 86400);
}

Policy Parse(const char* text) {
  auto p = ParsePolicyToml(text);
  EXPECT_TRUE(p.ok()) << p.status();
  return *p;
}

TEST(PolicyTest, SenderBlameHardNeverSuppressesByDefault) {
  Rows r;
  r.Push("a@x", 1, 10, PolicyClass::kHard, kFlagSenderBlame);
  r.Push("b@x", 1, 10, PolicyClass::kHard);
  r.Push("c@x", 1, 10, PolicyClass::kBlock);
  DecisionTable d = RunAll(Parse("[[rules]]\nkind='hard'\n"), r);
  ASSERT_EQ(d.size(), 1);
  EXPECT_EQ(d.recipient[0], "b@x");
  DecisionTable any = RunAll(Parse("[[rules]]\nkind='hard'\nblame='any'\n"), r);
  EXPECT_EQ(any.size(), 2);
}

TEST(PolicyTest, SpacingGreylistEngagementAndActions) {
  const int64_t h = 3600;
  // Three softs 1 hour apart: with 24 h spacing only one counts.
  Rows r;
  for (int i = 0; i < 3; ++i) r.Push("a@x", i, i * h, PolicyClass::kSoft);
  const char* window = "min_spacing_hours=24\n[[rules]]\nkind='soft_window'\ncount=3\nwindow_days=30\n";
  EXPECT_EQ(RunAll(Parse(window), r).size(), 0);
  for (int i = 0; i < 3; ++i) r.Push("a@x", 9, 86400 * (i + 1), PolicyClass::kSoft);
  DecisionTable d = RunAll(Parse(window), r);
  ASSERT_EQ(d.size(), 1);
  EXPECT_EQ(d.decided_at[0], 2 * 86400);
  EXPECT_EQ(d.evidence[0].size(), 3u);

  // Greylisted deferrals later delivered never count.
  Rows g;
  for (int c = 0; c < 3; ++c) {
    g.Push("g@x", c, c * 86400, PolicyClass::kSoft, kFlagGreylist);
    g.Push("g@x", c, c * 86400 + 600, PolicyClass::kDelivered);
  }
  const char* streak = "greylist_exempt=true\n[[rules]]\nkind='soft_total'\ncount=2\n";
  EXPECT_EQ(RunAll(Parse(streak), g).size(), 0);
  EXPECT_EQ(RunAll(Parse("[[rules]]\nkind='soft_total'\ncount=2\n"), g).size(), 1);

  // Engagement: 3 softs suppress an unengaged recipient, not an engaged one.
  Rows e;
  e.Push("u@x", 1, 1, PolicyClass::kSoft);
  e.Push("v@x", 1, 0, PolicyClass::kDelivered, kFlagEngaged);
  for (int i = 2; i < 5; ++i) {
    e.Push("u@x", i, i * 86400, PolicyClass::kSoft);
    e.Push("v@x", i, i * 86400, PolicyClass::kSoft);
  }
  DecisionTable de =
      RunAll(Parse("[[rules]]\nkind='soft_total'\ncount=3\ncount_engaged=5\ndistinct_campaigns=true\n"), e);
  ASSERT_EQ(de.size(), 1);
  EXPECT_EQ(de.recipient[0], "u@x");

  // Pause then suppress; monitor restarts its counter.
  Rows p;
  for (int i = 0; i < 6; ++i) p.Push("p@x", i, i * 86400, PolicyClass::kSoft);
  DecisionTable dp = RunAll(Parse("[[rules]]\nkind='soft_total'\ncount=2\naction='pause'\npause_days=7\n"), p);
  ASSERT_EQ(dp.size(), 1);
  EXPECT_EQ(dp.action[0], static_cast<uint8_t>(PolicyAction::kPause));
  EXPECT_EQ(dp.decisions[0], 3);
  EXPECT_EQ(dp.decided_at[0], 5 * 86400);
  EXPECT_EQ(dp.until[0], 12 * 86400);
}

TEST(PolicyTest, DailyRunsWithSavedStateEqualOneRun) {
  Rows r = RandomRows(5000, 99);
  // Order rows by ts so each "day" only holds later events.
  std::vector<size_t> idx(r.ts.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return r.ts[a] < r.ts[b]; });
  Rows s;
  for (size_t i : idx) s.Push(r.recipient[i], r.campaign[i], r.ts[i], static_cast<PolicyClass>(r.klass[i]), i % 3 ? 0 : kFlagGreylist);
  Policy p = Parse("min_spacing_hours=12\ngreylist_exempt=true\n[[rules]]\nkind='hard'\n[[rules]]\n"
                   "kind='soft_streak'\ncount=4\naction='pause'\npause_days=5\n[[rules]]\nkind='soft_window'\n"
                   "count=5\nwindow_days=20\ndistinct_campaigns=true\n");
  DecisionTable once = RunAll(p, s);
  std::string state;
  const size_t n = s.recipient.size();
  for (int day = 0; day < 10; ++day) {
    std::unique_ptr<PolicyEngine> e;
    if (state.empty()) {
      e = *PolicyEngine::Create(p);
    } else {
      auto loaded = PolicyEngine::FromState(p, state);
      ASSERT_TRUE(loaded.ok()) << loaded.status();
      e = *std::move(loaded);
    }
    Batch b(s, n * day / 10, n * (day + 1) / 10);
    ASSERT_TRUE(e->Add(b.b).ok());
    ASSERT_TRUE(e->Run().ok());
    EXPECT_EQ(e->summary().late, 0);
    state = *e->SerializeState();
    if (day == 9) {
      DecisionTable d = e->Decisions();
      ASSERT_EQ(d.size(), once.size());
      ASSERT_GT(d.size(), 10);
      for (int64_t i = 0; i < d.size(); ++i) {
        EXPECT_EQ(d.recipient[i], once.recipient[i]);
        EXPECT_EQ(d.action[i], once.action[i]);
        EXPECT_EQ(d.rule[i], once.rule[i]);
        EXPECT_EQ(d.decided_at[i], once.decided_at[i]);
        EXPECT_EQ(d.decisions[i], once.decisions[i]);
        EXPECT_EQ(d.evidence[i].size(), once.evidence[i].size());
      }
      EXPECT_EQ(e->summary().rows, static_cast<int64_t>(n));
    }
  }
  // A damaged or foreign state is refused, never misread.
  std::string bad = state;
  bad[bad.size() / 2] ^= 1;
  EXPECT_EQ(PolicyEngine::FromState(p, bad).status().code(), absl::StatusCode::kDataLoss);
  std::string old = state;
  old[8] = 0;  // version 0
  EXPECT_EQ(PolicyEngine::FromState(p, old).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(PolicyEngine::FromState(StandardPolicy(), state).status().code(),
            absl::StatusCode::kFailedPrecondition);
  for (size_t cut = 0; cut < state.size(); cut += 97) {
    EXPECT_FALSE(PolicyEngine::FromState(p, state.substr(0, cut)).ok());
  }
}

TEST(PolicyTest, InvalidRowsAreCountedNotDropped) {
  Rows r;
  r.Push("", 1, 1, PolicyClass::kSoft);
  r.Push("a@x", 1, 1, PolicyClass::kSoft);
  r.klass.push_back(kInvalidClassCode);
  r.recipient.push_back("b@x");
  r.campaign.push_back(1);
  r.ts.push_back(2);
  r.flags.push_back(0);
  auto e = *PolicyEngine::Create(StandardPolicy());
  Batch b(r, 0, 3);
  ASSERT_TRUE(e->Add(b.b).ok());
  ASSERT_TRUE(e->Run().ok());
  const InputSummary& s = e->summary();
  EXPECT_EQ(s.rows, 3);
  EXPECT_EQ(s.used, 1);
  EXPECT_EQ(s.skipped[static_cast<int>(SkipReason::kEmptyRecipient)], 1);
  EXPECT_EQ(s.skipped[static_cast<int>(SkipReason::kBadClass)], 1);
}

}  // namespace
}  // namespace bouncekit

namespace bouncekit {
namespace {

TEST(PolicyTest, PresetFilesParseAndStandardMatchesBuiltin) {
  std::string dir = BOUNCEKIT_BUILTIN_RULES;
  dir = dir.substr(0, dir.rfind('/')) + "/policies/";
  for (const char* name : {"standard", "seeds", "mailchimp", "listmonk", "ses", "conservative", "aggressive"}) {
    std::ifstream f(dir + name + ".toml");
    ASSERT_TRUE(f) << name;
    std::stringstream ss;
    ss << f.rdbuf();
    auto p = ParsePolicyToml(ss.str(), name);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->name, name);
    EXPECT_FALSE(p->source.empty());
    if (std::string(name) == "standard") EXPECT_EQ(p->Fingerprint(), StandardPolicy().Fingerprint());
  }
}

}  // namespace
}  // namespace bouncekit
