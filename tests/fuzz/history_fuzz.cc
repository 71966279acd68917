// Copyright 2026 The bouncekit authors.
//
// Fuzz target: the history engine (W2 suppression, policy "standard"; W3
// aggregates) against a plain oracle written here, straight from SPEC.md
// sections 3 and 4. The input's first byte picks the options (ingest
// threads, where to cut the rows into two batches, class strings or class
// codes); then every 4 bytes make one event:
//   byte 0: recipient (from a small pool, so recipients repeat; the pool has
//           mixed case, several '@', none, empty, non-UTF-8 bytes)
//   byte 1: bounce class (delivered, soft, hard, block, or other strings)
//   byte 2: campaign id (a few values, negative ones too)
//   byte 3: ts (in steps of 5 days, and many ties)
// Rows come unsorted, with ties and duplicates, as real exports do.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "bouncekit/column.h"
#include "bouncekit/history.h"
#include "fuzz_input.h"

using namespace bouncekit;  // NOLINT

namespace {

const char* const kRecipients[] = {
    "a@x.com", "A@X.COM", "b@x.com", "c@y.org", "noat", "", "d@a@B.net", "e@",
    "\xff\xfe@x.com", "a@x.com ", "z@Y.org", "@", "q@xn--bcher-kva.example",
    "b@X.com", "long.name+tag@sub.domain.example", "a@x.COM"};
const char* const kClasses[] = {"delivered", "soft", "hard", "block", "",
                                "Soft", "hard ", "unknown"};
const int64_t kCampaigns[] = {1, 2, 3, 4, 5, -7, 0, 9};
constexpr int64_t kDay = 86400;
constexpr int64_t kT0 = 1700000000;

struct Event {
  std::string recipient;
  int64_t campaign;
  int64_t ts;
  std::string klass;
};

struct W2Row {
  std::string recipient;
  int reason;  // SuppressionReason
  int64_t at;
  int64_t n;
};

// SPEC.md section 3, as the bench's w2_python.py walks it.
std::vector<W2Row> OracleW2(const std::vector<Event>& ev) {
  std::map<std::string, std::vector<std::pair<int64_t, size_t>>> by;  // (ts, row)
  for (size_t i = 0; i < ev.size(); ++i) by[ev[i].recipient].push_back({ev[i].ts, i});
  std::vector<W2Row> out;
  for (auto& [rec, list] : by) {
    std::sort(list.begin(), list.end());
    std::set<int64_t> streak;
    // Soft events in time order; those in (t - 30 days, t] are counted per
    // campaign (a sliding window, so the oracle stays linear on big inputs).
    std::vector<std::pair<int64_t, int64_t>> softs;  // (ts, campaign)
    std::map<int64_t, int> window;
    size_t lo = 0;
    int64_t n = 0;
    for (const auto& [t, row] : list) {
      ++n;
      const Event& e = ev[row];
      if (e.klass == "hard") {
        out.push_back({rec, 0, t, n});
        break;
      }
      if (e.klass == "delivered") {
        streak.clear();
      } else if (e.klass == "soft") {
        streak.insert(e.campaign);
        softs.push_back({t, e.campaign});
        ++window[e.campaign];
        while (softs[lo].first <= t - 30 * kDay) {
          if (--window[softs[lo].second] == 0) window.erase(softs[lo].second);
          ++lo;
        }
        if (streak.size() >= 3) {
          out.push_back({rec, 1, t, n});
          break;
        }
        if (window.size() >= 3) {
          out.push_back({rec, 2, t, n});
          break;
        }
      }
    }
  }
  return out;  // std::map iterates in byte order
}

std::string DomainOf(const std::string& r) {
  size_t at = r.rfind('@');
  if (at == std::string::npos) return "";
  std::string d = r.substr(at + 1);
  for (char& c : d) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return d;
}

struct Counts {
  int64_t sent = 0, delivered = 0, soft = 0, hard = 0, block = 0;
};

std::map<std::pair<int64_t, std::string>, Counts> OracleW3(const std::vector<Event>& ev) {
  std::map<std::pair<int64_t, std::string>, Counts> out;
  for (const Event& e : ev) {
    Counts& c = out[{e.campaign, DomainOf(e.recipient)}];
    ++c.sent;
    if (e.klass == "delivered") ++c.delivered;
    if (e.klass == "soft") ++c.soft;
    if (e.klass == "hard") ++c.hard;
    if (e.klass == "block") ++c.block;
  }
  return out;
}

struct Columns {
  std::vector<int64_t> rec_off{0}, cls_off{0}, campaign, ts;
  std::string rec, cls;
  std::vector<uint8_t> codes;
  HistoryBatch Batch(size_t begin, size_t end, bool use_codes) const {
    HistoryBatch b;
    b.num_rows = static_cast<int64_t>(end - begin);
    b.recipient = StringColumn::LargeUtf8(rec_off.data(), rec.data(), nullptr,
                                          static_cast<int64_t>(begin), b.num_rows);
    b.bounce_class = StringColumn::LargeUtf8(cls_off.data(), cls.data(), nullptr,
                                             static_cast<int64_t>(begin), b.num_rows);
    b.campaign_id = Int64ColumnView{campaign.data(), nullptr, static_cast<int64_t>(begin), b.num_rows};
    b.ts = Int64ColumnView{ts.data(), nullptr, static_cast<int64_t>(begin), b.num_rows};
    if (use_codes) b.bounce_class_codes = absl::MakeConstSpan(codes).subspan(begin, end - begin);
    return b;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > (1 << 20) + 1) return 0;
  const uint8_t opts = data[0];
  std::vector<Event> ev;
  Columns cols;
  for (size_t i = 1; i + 4 <= size; i += 4) {
    Event e;
    e.recipient = kRecipients[data[i] % 16];
    e.klass = kClasses[data[i + 1] % 8];
    e.campaign = kCampaigns[data[i + 2] % 8];
    e.ts = kT0 + static_cast<int64_t>(data[i + 3] % 32) * 5 * kDay +
           (data[i + 3] >= 128 ? 1 : 0);
    cols.rec += e.recipient;
    cols.rec_off.push_back(static_cast<int64_t>(cols.rec.size()));
    cols.cls += e.klass;
    cols.cls_off.push_back(static_cast<int64_t>(cols.cls.size()));
    cols.campaign.push_back(e.campaign);
    cols.ts.push_back(e.ts);
    cols.codes.push_back(static_cast<uint8_t>(ParseEventClass(e.klass)));
    ev.push_back(std::move(e));
  }
  const size_t n = ev.size();

  HistoryOptions options;
  options.ingest_threads = (opts & 1) ? 2 : 1;
  const bool use_codes = (opts & 2) != 0;
  options.suppressions = (opts & 12) != 4;  // 1 in 4: aggregates only
  options.aggregates = (opts & 12) != 8;    // 1 in 4: suppressions only
  const size_t cut = n == 0 ? 0 : (static_cast<size_t>(opts >> 4) * n) / 16;

  absl::StatusOr<std::unique_ptr<HistoryAccumulator>> acc = HistoryAccumulator::Create(options);
  BK_FUZZ_CHECK(acc.ok());
  BK_FUZZ_CHECK((*acc)->Add(cols.Batch(0, cut, use_codes)).ok());
  BK_FUZZ_CHECK((*acc)->Add(cols.Batch(cut, n, use_codes)).ok());
  BK_FUZZ_CHECK((*acc)->rows_seen() == static_cast<int64_t>(n));
  absl::StatusOr<HistoryResult> res = (*acc)->Finish(1 + (opts & 1));
  BK_FUZZ_CHECK(res.ok());
  BK_FUZZ_CHECK(res->rows == static_cast<int64_t>(n));
  BK_FUZZ_CHECK(!(*acc)->Finish(1).ok());  // only once

  if (options.suppressions) {
    const std::vector<W2Row> want = OracleW2(ev);
    const SuppressionTable& got = res->suppressions;
    BK_FUZZ_CHECK(got.size() == static_cast<int64_t>(want.size()));
    for (size_t i = 0; i < want.size(); ++i) {
      BK_FUZZ_CHECK(got.recipient(i) == want[i].recipient);
      BK_FUZZ_CHECK(got.reason[i] == want[i].reason);
      BK_FUZZ_CHECK(got.suppressed_at[i] == want[i].at);
      BK_FUZZ_CHECK(got.event_count_seen[i] == want[i].n);
    }
  } else {
    BK_FUZZ_CHECK(res->suppressions.size() == 0);
  }
  if (options.aggregates) {
    const auto want = OracleW3(ev);
    const AggregateTable& got = res->aggregates;
    BK_FUZZ_CHECK(got.size() == static_cast<int64_t>(want.size()));
    int64_t i = 0, total = 0;
    for (const auto& [key, c] : want) {
      BK_FUZZ_CHECK(got.campaign_id[i] == key.first);
      BK_FUZZ_CHECK(got.domain_name(got.domain[i]) == key.second);
      BK_FUZZ_CHECK(got.sent[i] == c.sent && got.delivered[i] == c.delivered &&
                    got.soft[i] == c.soft && got.hard[i] == c.hard && got.block[i] == c.block);
      BK_FUZZ_CHECK(got.hard_rate[i] == static_cast<double>(c.hard) / static_cast<double>(c.sent));
      BK_FUZZ_CHECK(got.soft_rate[i] == static_cast<double>(c.soft) / static_cast<double>(c.sent));
      BK_FUZZ_CHECK(got.block_rate[i] == static_cast<double>(c.block) / static_cast<double>(c.sent));
      BK_FUZZ_CHECK(got.hard_flag[i] == (20 * c.hard > c.sent ? 1 : 0));
      BK_FUZZ_CHECK(got.soft_flag[i] == (10 * c.soft > c.sent ? 1 : 0));
      BK_FUZZ_CHECK(got.block_flag[i] == (20 * c.block > c.sent ? 1 : 0));
      total += got.sent[i];
      ++i;
    }
    BK_FUZZ_CHECK(total == static_cast<int64_t>(n));  // rows in = rows counted
  } else {
    BK_FUZZ_CHECK(res->aggregates.size() == 0);
  }
  return 0;
}
