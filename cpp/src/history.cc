// Copyright 2026 The bouncekit authors.
//
// The bounce-history engine (see history.h for the contract and the design).

#include "bouncekit/history.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bouncekit/error_location.h"
#include "internal/history_tables.h"

namespace bouncekit {
namespace {

using internal::EventRecord;
using internal::GroupCounts;
using internal::GroupTable;
using internal::RecordList;
using internal::StringInterner;

// Events go to kPartitions lists by recipient (the shard's share of the
// partitions, then the recipient's id), so that Finish() handles a
// cache-sized slice of the recipients at a time.
constexpr int kPartitionBits = 8;
constexpr uint32_t kPartitions = 1u << kPartitionBits;
constexpr uint32_t kMaxCampaigns = 1u << 30;  // campaign index << 2 fits 32 bits
constexpr int64_t kMaxRows = 0xffffffffLL;
// The ingest loop's pipeline: stages kAhead rows apart, in a ring of kRing rows.
constexpr int64_t kAhead = 16;
constexpr int64_t kRing = 128;

// What W2 needs of a class, in 2 bits (block and other are the same to it).
enum PolicyClass : uint32_t { kNeutral = 0, kDeliveredEvent = 1, kSoftEvent = 2, kHardEvent = 3 };

constexpr uint32_t kPolicyClassOf[kNumEventClasses] = {kNeutral, kDeliveredEvent, kSoftEvent,
                                                       kHardEvent, kNeutral};

absl::Status ColumnError(absl::Status st, absl::string_view column) {
  return WithColumn(std::move(st), column);
}

absl::Status RowError(absl::string_view column, int64_t row, absl::string_view what) {
  return WithRow(WithColumn(absl::InvalidArgumentError(
                                absl::StrCat("column '", column, "' row ", row, ": ", what)),
                            column),
                 row);
}

std::optional<int64_t> FirstNull(const Int64ColumnView& c, int64_t n) {
  if (c.validity == nullptr) return std::nullopt;
  for (int64_t i = 0; i < n; ++i) {
    if (c.IsNull(i)) return i;
  }
  return std::nullopt;
}

// ------------------------------------------------------------------ policy

struct Suppression {
  uint32_t recipient;  // id in its shard's interner
  uint8_t shard;
  uint8_t reason;      // SuppressionReason
  uint32_t event_number;
  int64_t ts;
};

// Walks one recipient's events (sorted by (ts, row)) with policy `p`. The
// state is fixed-size: before a suppression the streak holds fewer than
// streak_campaigns campaigns, and the window fewer than window_campaigns
// distinct ones (each represented by its latest soft ts), since reaching the
// threshold suppresses.
bool RunPolicy(const SuppressionPolicy& p, const int64_t* ts, const uint32_t* cc, uint32_t m,
               Suppression* out) {
  uint32_t streak[SuppressionPolicy::kMaxCampaigns];
  int streak_n = 0;
  uint32_t win_campaign[SuppressionPolicy::kMaxCampaigns];
  int64_t win_last[SuppressionPolicy::kMaxCampaigns];
  int win_n = 0;
  for (uint32_t j = 0; j < m; ++j) {
    const uint32_t cls = cc[j] & 3;
    if (cls == kNeutral) continue;
    if (cls == kHardEvent) {
      *out = Suppression{0, 0, static_cast<uint8_t>(SuppressionReason::kHardBounce), j + 1, ts[j]};
      return true;
    }
    if (cls == kDeliveredEvent) {
      streak_n = 0;
      continue;
    }
    // A soft event.
    const uint32_t c = cc[j] >> 2;
    const int64_t t = ts[j];
    bool streak_full = false;
    {
      int k = 0;
      while (k < streak_n && streak[k] != c) ++k;
      if (k == streak_n) {
        if (streak_n + 1 >= p.streak_campaigns) {
          streak_full = true;
        } else {
          streak[streak_n++] = c;
        }
      }
    }
    // Window: drop campaigns whose latest soft event left it, then add c.
    int64_t cutoff;
    const bool unbounded = __builtin_sub_overflow(t, p.window_seconds, &cutoff);
    int kept = 0;
    bool found = false;
    for (int k = 0; k < win_n; ++k) {
      if (win_campaign[k] == c) {
        found = true;
        win_campaign[kept] = c;
        win_last[kept++] = t;
      } else if (unbounded || win_last[k] > cutoff) {
        win_campaign[kept] = win_campaign[k];
        win_last[kept++] = win_last[k];
      }
    }
    win_n = kept;
    bool window_full = false;
    if (!found) {
      if (win_n + 1 >= p.window_campaigns) {
        window_full = true;
      } else {
        win_campaign[win_n] = c;
        win_last[win_n++] = t;
      }
    }
    if (streak_full || window_full) {
      const SuppressionReason r =
          streak_full ? SuppressionReason::kSoftStreak : SuppressionReason::kSoftWindow;
      *out = Suppression{0, 0, static_cast<uint8_t>(r), j + 1, t};
      return true;
    }
  }
  return false;
}

// Per-thread buffers for W2 partitions.
struct PartitionScratch {
  std::vector<uint32_t> start;
  std::vector<int64_t> ts;
  std::vector<uint32_t> cc;
  std::vector<uint32_t> order;
  std::vector<int64_t> tmp_ts;
  std::vector<uint32_t> tmp_cc;
};

// Sorts one group by ts, keeping the input order of equal ts.
void SortGroup(int64_t* ts, uint32_t* cc, uint32_t m, PartitionScratch* s) {
  uint32_t j = 1;
  while (j < m && ts[j - 1] <= ts[j]) ++j;
  if (j >= m) return;  // already sorted: the common case
  if (m <= 48) {       // insertion sort (stable)
    for (; j < m; ++j) {
      const int64_t t = ts[j];
      const uint32_t c = cc[j];
      uint32_t k = j;
      while (k > 0 && ts[k - 1] > t) {
        ts[k] = ts[k - 1];
        cc[k] = cc[k - 1];
        --k;
      }
      ts[k] = t;
      cc[k] = c;
    }
    return;
  }
  s->order.resize(m);
  for (uint32_t k = 0; k < m; ++k) s->order[k] = k;
  std::stable_sort(s->order.begin(), s->order.end(),
                   [ts](uint32_t a, uint32_t b) { return ts[a] < ts[b]; });
  s->tmp_ts.assign(ts, ts + m);
  s->tmp_cc.assign(cc, cc + m);
  for (uint32_t k = 0; k < m; ++k) {
    ts[k] = s->tmp_ts[s->order[k]];
    cc[k] = s->tmp_cc[s->order[k]];
  }
}

// Groups a partition's events by recipient and runs the policy on each. The
// partition holds the `num_local` recipients of shard `shard` whose ids are
// (l << local_shift) | sub for l = 0, 1, ...; records name them by l.
void ProcessPartition(const SuppressionPolicy& policy, uint8_t shard, uint32_t sub, int local_shift,
                      uint32_t num_local, RecordList* events, PartitionScratch* s, std::vector<Suppression>* out) {
  const size_t n = events->size();
  if (n == 0) return;
  s->start.assign(num_local + 1, 0);
  events->ForEach([&](const EventRecord& r) { ++s->start[r.local + 1]; });
  for (uint32_t l = 0; l < num_local; ++l) s->start[l + 1] += s->start[l];
  s->ts.resize(n);
  s->cc.resize(n);
  // Scatter in input order: each group keeps its rows' order.
  events->ForEach([&](const EventRecord& r) {
    const uint32_t pos = s->start[r.local]++;
    s->ts[pos] = r.ts;
    s->cc[pos] = r.campaign_class;
  });
  events->Clear();
  uint32_t begin = 0;  // start[l] is now the end of group l
  for (uint32_t l = 0; l < num_local; ++l) {
    const uint32_t end = s->start[l];
    const uint32_t m = end - begin;
    if (m > 0) {
      SortGroup(&s->ts[begin], &s->cc[begin], m, s);
      Suppression hit;
      if (RunPolicy(policy, &s->ts[begin], &s->cc[begin], m, &hit)) {
        hit.recipient = (l << local_shift) | sub;
        hit.shard = shard;
        out->push_back(hit);
      }
    }
    begin = end;
  }
}

// Calls fn(thread, i) for i in [0, n) on up to `threads` threads
// (thread in [0, threads) names the caller's scratch space).
template <typename F>
void ParallelFor(int threads, uint32_t n, F&& fn) {
  if (threads <= 1 || n <= 1) {
    for (uint32_t i = 0; i < n; ++i) fn(0, i);
    return;
  }
  std::atomic<uint32_t> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (uint32_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) fn(t, i);
    });
  }
  for (std::thread& th : pool) th.join();
}

// The last '@' of s, or nullptr.
const char* LastAt(absl::string_view s) {
  if (s.empty()) return nullptr;
#if defined(__GLIBC__)
  return static_cast<const char*>(memrchr(s.data(), '@', s.size()));
#else
  for (size_t i = s.size(); i > 0; --i) {
    if (s[i - 1] == '@') return s.data() + i - 1;
  }
  return nullptr;
#endif
}

uint64_t BigEndianPrefix(absl::string_view s) {
  unsigned char b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  if (!s.empty()) std::memcpy(b, s.data(), std::min<size_t>(8, s.size()));
  uint64_t v = 0;
  for (int k = 0; k < 8; ++k) v = (v << 8) | b[k];
  return v;
}

}  // namespace

// ------------------------------------------------------------ public helpers

EventClass ParseEventClass(absl::string_view s) {
  switch (s.size()) {
    case 4:
      if (s == "soft") return EventClass::kSoft;
      if (s == "hard") return EventClass::kHard;
      break;
    case 5:
      if (s == "block") return EventClass::kBlock;
      break;
    case 9:
      if (s == "delivered") return EventClass::kDelivered;
      break;
    default:
      break;
  }
  return EventClass::kOther;
}

absl::string_view EventClassName(EventClass c) {
  switch (c) {
    case EventClass::kDelivered: return "delivered";
    case EventClass::kSoft: return "soft";
    case EventClass::kHard: return "hard";
    case EventClass::kBlock: return "block";
    case EventClass::kOther: break;
  }
  return "other";
}

absl::string_view SuppressionReasonName(SuppressionReason r) {
  switch (r) {
    case SuppressionReason::kHardBounce: return "hard_bounce";
    case SuppressionReason::kSoftStreak: return "soft_streak";
    case SuppressionReason::kSoftWindow: return "soft_window";
  }
  return "unknown";
}

absl::Status SuppressionPolicy::Validate() const {
  if (window_seconds < 1) {
    return WithField(absl::InvalidArgumentError(absl::StrCat(
                         "policy '", name, "': window_seconds must be at least 1, not ", window_seconds)),
                     "window_seconds");
  }
  if (streak_campaigns < 1 || streak_campaigns > kMaxCampaigns) {
    return WithField(absl::InvalidArgumentError(absl::StrCat("policy '", name, "': streak_campaigns must be in 1..",
                                                             kMaxCampaigns, ", not ", streak_campaigns)),
                     "streak_campaigns");
  }
  if (window_campaigns < 1 || window_campaigns > kMaxCampaigns) {
    return WithField(absl::InvalidArgumentError(absl::StrCat("policy '", name, "': window_campaigns must be in 1..",
                                                             kMaxCampaigns, ", not ", window_campaigns)),
                     "window_campaigns");
  }
  return absl::OkStatus();
}

std::vector<std::string> SuppressionPolicyNames() { return {"standard"}; }

absl::StatusOr<SuppressionPolicy> SuppressionPolicyByName(absl::string_view name) {
  if (name == "standard") return SuppressionPolicy{};
  return WithField(absl::NotFoundError(absl::StrCat("unknown suppression policy '", name, "' (known: ",
                                                    absl::StrJoin(SuppressionPolicyNames(), ", "), ")")),
                   "policy");
}

void AppendRecipientDomain(absl::string_view recipient, std::string* out) {
  const size_t at = recipient.rfind('@');
  if (at == absl::string_view::npos) return;
  const size_t begin = out->size();
  out->append(recipient.data() + at + 1, recipient.size() - at - 1);
  for (size_t k = begin; k < out->size(); ++k) {
    char& ch = (*out)[k];
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch + ('a' - 'A'));
  }
}

// ------------------------------------------------------------------- shards

// One ingest shard: the recipients whose hash falls to it, with everything
// keyed by them. Shards share nothing, so they ingest a batch in parallel;
// each takes its rows in input order.
struct Shard {
  StringInterner recipients;  // payload: shard-local domain id (W3)

  absl::flat_hash_map<int64_t, uint32_t> campaign_index;
  std::vector<int64_t> campaign_values;  // shard-local campaign index -> campaign_id
  int64_t last_campaign = 0;
  uint32_t last_campaign_index = 0;
  bool have_last_campaign = false;

  StringInterner domains;  // shard-local domain ids
  std::string domain_buf;

  GroupTable groups;  // W3, keyed by shard-local campaign index and domain id

  // The shard-local index of a campaign id; false past kMaxCampaigns.
  bool CampaignIndex(int64_t campaign, uint32_t* out) {
    if (campaign == last_campaign && have_last_campaign) {
      *out = last_campaign_index;
      return true;
    }
    auto [it, inserted] = campaign_index.try_emplace(campaign, static_cast<uint32_t>(campaign_values.size()));
    if (inserted) {
      if (campaign_values.size() >= kMaxCampaigns) {
        campaign_index.erase(it);
        return false;
      }
      campaign_values.push_back(campaign);
    }
    last_campaign = campaign;
    last_campaign_index = it->second;
    have_last_campaign = true;
    *out = it->second;
    return true;
  }

  // The domain of a recipient (lower-cased in domain_buf when needed) and its hash.
  absl::string_view Domain(absl::string_view recipient, uint64_t* hash) {
    const char* at = LastAt(recipient);
    absl::string_view d;
    if (at != nullptr) d = absl::string_view(at + 1, static_cast<size_t>(recipient.data() + recipient.size() - at - 1));
    for (char ch : d) {
      if (ch >= 'A' && ch <= 'Z') {
        domain_buf.clear();
        AppendRecipientDomain(recipient, &domain_buf);
        d = domain_buf;
        break;
      }
    }
    *hash = StringInterner::Hash(d);
    return d;
  }

  // The shard-local id of a domain (hash: StringInterner::Hash(domain));
  // false when memory runs out.
  bool DomainId(absl::string_view domain, uint64_t hash, uint32_t* id) {
    StringInterner::Entry e;
    if (!domains.FindOrInsert(domain, hash, [] { return 0u; }, &e)) return false;
    *id = e.id;
    return true;
  }

  int64_t MemoryUsage() const {
    return recipients.MemoryUsage() + groups.MemoryUsage() + domains.MemoryUsage() +
           static_cast<int64_t>(campaign_values.capacity() * 8 + campaign_index.capacity() * 16);
  }
};

// A W3 group of one shard with its output sort key.
struct KeyedGroup {
  uint64_t key;  // campaign rank << domain bits | domain rank
  uint32_t shard;
  uint32_t group;
};

// Sorts by key with an LSD radix sort over its low `bits` bits.
void RadixSortByKey(std::vector<KeyedGroup>* v, int bits) {
  constexpr int kDigit = 11;
  std::vector<KeyedGroup> tmp(v->size());
  std::vector<size_t> count(size_t{1} << kDigit);
  for (int shift = 0; shift < bits; shift += kDigit) {
    std::fill(count.begin(), count.end(), 0);
    const uint64_t mask = (uint64_t{1} << kDigit) - 1;
    for (const KeyedGroup& g : *v) ++count[(g.key >> shift) & mask];
    size_t sum = 0;
    for (size_t& c : count) {
      const size_t n = c;
      c = sum;
      sum += n;
    }
    for (const KeyedGroup& g : *v) tmp[count[(g.key >> shift) & mask]++] = g;
    v->swap(tmp);
  }
}

int BitsFor(uint64_t n) {  // bits needed for values 0..n-1
  int b = 0;
  while (b < 64 && (uint64_t{1} << b) < n) ++b;
  return b;
}

// --------------------------------------------------------------------- Impl

class HistoryAccumulator::Impl {
 public:
  explicit Impl(const HistoryOptions& options) : options_(options) {
    const int wanted = std::clamp(options_.ingest_threads, 1, kMaxShards);
    while ((1 << (shard_bits_ + 1)) <= wanted) ++shard_bits_;
    for (int t = 0; t < (1 << shard_bits_); ++t) shards_.push_back(std::make_unique<Shard>());
    if (options_.suppressions) partitions_ = std::make_unique<RecordList[]>(kPartitions);
  }

  const HistoryOptions& options() const { return options_; }
  int64_t rows_seen() const { return rows_seen_; }
  int64_t num_recipients() const {
    int64_t n = 0;
    for (const auto& sh : shards_) n += static_cast<int64_t>(sh->recipients.size());
    return n;
  }

  int64_t MemoryUsage() const {
    int64_t bytes = 0;
    for (const auto& sh : shards_) bytes += sh->MemoryUsage();
    if (partitions_ != nullptr) {
      for (uint32_t p = 0; p < kPartitions; ++p) bytes += partitions_[p].MemoryUsage();
    }
    return bytes;
  }

  absl::Status Add(const HistoryBatch& b) {
    if (finished_) return absl::FailedPreconditionError("Add() after Finish()");
    if (!broken_.ok()) return BrokenError();
    absl::Status st = Validate(b);
    if (!st.ok()) return st;
    st = Ingest(b);
    if (!st.ok()) broken_ = st;
    return st;
  }

  absl::StatusOr<HistoryResult> Finish(int threads) {
    if (finished_) return absl::FailedPreconditionError("Finish() was already called");
    if (!broken_.ok()) return BrokenError();
    finished_ = true;
    threads = std::clamp(threads, 1, 256);
    HistoryResult result;
    result.rows = rows_seen_;
    result.recipients = options_.suppressions ? num_recipients() : -1;
    for (auto& sh : shards_) sh->campaign_index = {};
    std::thread w3_thread;
    if (options_.aggregates) {
      if (threads > 1 && options_.suppressions) {
        // W3's merge runs beside W2's partitions.
        w3_thread = std::thread([&] { FinishAggregates(&result.aggregates); });
        --threads;
      } else {
        FinishAggregates(&result.aggregates);
      }
    }
    if (options_.suppressions) FinishSuppressions(threads, &result.suppressions);
    if (w3_thread.joinable()) w3_thread.join();
    return result;
  }

 private:
  static constexpr int kMaxShards = 8;

  absl::Status BrokenError() const {
    return absl::FailedPreconditionError(
        absl::StrCat("the history accumulator failed earlier and cannot go on: ", broken_.message()));
  }

  absl::Status Validate(const HistoryBatch& b) const {
    const int64_t n = b.num_rows;
    if (n < 0) return absl::InvalidArgumentError("negative num_rows");
    auto length_error = [&](absl::string_view column, int64_t len) {
      return ColumnError(absl::InvalidArgumentError(absl::StrCat("column '", column, "' has ", len,
                                                                 " rows; the batch has ", n)),
                         column);
    };
    if (b.recipient.size() != n) return length_error("recipient", b.recipient.size());
    if (b.campaign_id.length != n) return length_error("campaign_id", b.campaign_id.length);
    if (b.ts.length != n) return length_error("ts", b.ts.length);
    if (b.bounce_class_codes.empty()) {
      if (b.bounce_class.size() != n) return length_error("bounce_class", b.bounce_class.size());
    } else if (static_cast<int64_t>(b.bounce_class_codes.size()) != n) {
      return length_error("bounce_class", static_cast<int64_t>(b.bounce_class_codes.size()));
    }
    if (n > 0 && (b.campaign_id.values == nullptr || b.ts.values == nullptr)) {
      return absl::InvalidArgumentError("an integer column has no values buffer");
    }
    if (rows_seen_ + n > kMaxRows) {
      return absl::ResourceExhaustedError(
          absl::StrCat("a history holds at most ", kMaxRows, " rows; this batch would make ", rows_seen_ + n));
    }
    if (std::optional<int64_t> i = FirstNull(b.campaign_id, n)) {
      return RowError("campaign_id", rows_seen_ + *i, "is null; every event needs a campaign_id");
    }
    if (std::optional<int64_t> i = FirstNull(b.ts, n)) {
      return RowError("ts", rows_seen_ + *i, "is null; every event needs a ts");
    }
    for (size_t i = 0; i < b.bounce_class_codes.size(); ++i) {
      if (b.bounce_class_codes[i] >= kNumEventClasses) {
        return RowError("bounce_class", rows_seen_ + static_cast<int64_t>(i),
                        absl::StrCat("class code ", b.bounce_class_codes[i], " is not an EventClass"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Ingest(const HistoryBatch& b) {
    const int num_shards = static_cast<int>(shards_.size());
    // Threads cost more than they save on small batches.
    constexpr int64_t kMinRowsPerThread = 16384;
    if (num_shards == 1 || b.num_rows < kMinRowsPerThread) {
      for (int t = 0; t < num_shards; ++t) {
        absl::Status st = IngestShard(t, b);
        if (!st.ok()) return st;
      }
    } else {
      std::vector<absl::Status> status(static_cast<size_t>(num_shards));
      std::vector<std::thread> pool;
      for (int t = 1; t < num_shards; ++t) {
        pool.emplace_back([&, t] { status[static_cast<size_t>(t)] = IngestShard(t, b); });
      }
      status[0] = IngestShard(0, b);
      for (std::thread& th : pool) th.join();
      for (const absl::Status& st : status) {
        if (!st.ok()) return st;
      }
    }
    RecordList::Fence();
    rows_seen_ += b.num_rows;
    return absl::OkStatus();
  }

  // Ingests the rows of `b` that fall to shard t.
  absl::Status IngestShard(int t, const HistoryBatch& b) {
    return options_.suppressions ? IngestRecipients(t, b) : IngestDomains(t, b);
  }

  // W3 alone: no recipient is kept; each row's domain is found (and
  // lower-cased) in place and counted under (campaign, domain). Rows are
  // split among shards by domain hash.
  absl::Status IngestDomains(int t, const HistoryBatch& b) {
    Shard& sh = *shards_[static_cast<size_t>(t)];
    const int64_t n = b.num_rows;
    const bool codes = !b.bounce_class_codes.empty();
    const int shard_shift = 64 - shard_bits_;
    // A row's domain is copied, lower-cased, into its ring slot (longer ones
    // are looked up at once), then goes through stages kAhead rows apart:
    //   0: copy and hash the domain, prefetch its slot; campaign, class;
    //   1: prefetch the domain's arena entry;
    //   2: domain id; hash the (campaign, domain) group, prefetch its slot;
    //   3: prefetch the group's counters;
    //   4: count.
    constexpr size_t kInlineDomain = 48;
    struct Row {
      char domain_bytes[kInlineDomain];
      uint32_t domain_length;
      bool have_domain;
      uint64_t domain_hash;
      uint64_t group_hash;
      uint32_t campaign;
      uint32_t domain;
      uint8_t klass;
    };
    Row ring[kRing];
    int64_t mine = std::numeric_limits<int64_t>::max();
    auto stages = [&](int64_t k) -> bool {
      int64_t j = k - kAhead;
      if (j >= 0 && j < mine) {
        const Row& r = ring[j & (kRing - 1)];
        if (!r.have_domain) sh.domains.PrefetchEntry(r.domain_hash, r.domain_length);
      }
      j -= kAhead;
      if (j >= 0 && j < mine) {
        Row& r = ring[j & (kRing - 1)];
        if (!r.have_domain &&
            !sh.DomainId(absl::string_view(r.domain_bytes, r.domain_length), r.domain_hash, &r.domain)) {
          return false;
        }
        r.group_hash = GroupTable::Hash(r.campaign, r.domain);
        sh.groups.PrefetchSlot(r.group_hash);
      }
      j -= kAhead;
      if (j >= 0 && j < mine) sh.groups.PrefetchGroup(ring[j & (kRing - 1)].group_hash);
      j -= kAhead;
      if (j >= 0 && j < mine) {
        const Row& r = ring[j & (kRing - 1)];
        GroupCounts* g = sh.groups.FindOrInsert(r.campaign, r.domain, r.group_hash);
        if (g == nullptr) return false;
        ++g->counts[r.klass];
      }
      return true;
    };
    const absl::Status oom = absl::ResourceExhaustedError("out of memory for domains or campaign/domain groups");
    int64_t k = 0;
    for (int64_t i = 0; i < n; ++i) {
      const absl::string_view rec = b.recipient.Get(i);
      const char* at = LastAt(rec);
      const size_t len = at == nullptr ? 0 : static_cast<size_t>(rec.data() + rec.size() - at - 1);
      Row& r = ring[k & (kRing - 1)];
      uint64_t h;
      if (len <= kInlineDomain) {
        for (size_t c = 0; c < len; ++c) {
          const unsigned char ch = static_cast<unsigned char>(at[1 + c]);
          r.domain_bytes[c] = static_cast<char>(ch + (static_cast<unsigned char>(ch - 'A') < 26 ? 32 : 0));
        }
        r.domain_length = static_cast<uint32_t>(len);
        h = StringInterner::Hash(absl::string_view(r.domain_bytes, len));
        if (shard_bits_ > 0 && static_cast<int>(h >> shard_shift) != t) continue;
        r.have_domain = false;
        r.domain_hash = h;
        sh.domains.PrefetchSlot(h);
      } else {
        const absl::string_view domain = sh.Domain(rec, &h);
        if (shard_bits_ > 0 && static_cast<int>(h >> shard_shift) != t) continue;
        if (!sh.DomainId(domain, h, &r.domain)) return oom;
        r.have_domain = true;
      }
      if (!sh.CampaignIndex(b.campaign_id.Get(i), &r.campaign)) {
        return absl::ResourceExhaustedError(absl::StrCat("more than ", kMaxCampaigns, " distinct campaign_id values"));
      }
      r.klass = codes ? b.bounce_class_codes[i] : static_cast<uint8_t>(ParseEventClass(b.bounce_class.Get(i)));
      if (!stages(k)) return oom;
      ++k;
    }
    mine = k;
    for (const int64_t last = k + 4 * kAhead; k < last; ++k) {
      if (!stages(k)) return oom;
    }
    return absl::OkStatus();
  }

  // W2, and W3 when asked for: recipients are interned (each distinct one's
  // domain found once); rows are split among shards by recipient hash.
  absl::Status IngestRecipients(int t, const HistoryBatch& b) {
    Shard& sh = *shards_[static_cast<size_t>(t)];
    const int64_t n = b.num_rows;
    const bool w2 = options_.suppressions;
    const bool w3 = options_.aggregates;
    const bool codes = !b.bounce_class_codes.empty();
    const int shard_shift = 64 - shard_bits_;
    const int local_shift = kPartitionBits - shard_bits_;  // partitions per shard: 1 << local_shift
    const uint32_t first_partition = static_cast<uint32_t>(t) << local_shift;
    // The shard's rows go through up to five stages, kAhead rows apart, so
    // that each row's cache misses are in flight while other rows are
    // worked on:
    //   0: hash the recipient, prefetch its hash slot;
    //   1: prefetch the arena entry that slot points to;
    //   2: intern; campaign index and class; append the W2 record; W3: hash
    //      the (campaign, domain) group, prefetch its slot;
    //   3: W3: prefetch the group's counters;
    //   4: W3: count.
    struct Row {
      int64_t row;
      absl::string_view recipient;
      uint64_t hash;
      uint64_t group_hash;
      uint32_t campaign;
      uint32_t domain;
      uint8_t klass;
    };
    Row ring[kRing];
    int64_t mine = std::numeric_limits<int64_t>::max();  // rows of this shard, once known
    // Runs stages 1.. for the shard's k-th row and the ones before it.
    auto stages = [&](int64_t k) -> absl::Status {
      int64_t j = k - kAhead;
      if (j >= 0 && j < mine) {
        const Row& r = ring[j & (kRing - 1)];
        sh.recipients.PrefetchEntry(r.hash, r.recipient.size());
      }
      j -= kAhead;
      if (j >= 0 && j < mine) {
        Row& r = ring[j & (kRing - 1)];
        const absl::string_view rec = r.recipient;
        bool domain_ok = true;
        auto make_payload = [&]() -> uint32_t {  // the domain id of a new recipient
          if (!w3) return 0;
          uint64_t dh;
          const absl::string_view domain = sh.Domain(rec, &dh);
          uint32_t id = 0;
          domain_ok = sh.DomainId(domain, dh, &id);
          return id;
        };
        StringInterner::Entry e;
        if (!sh.recipients.FindOrInsert(rec, r.hash, make_payload, &e) || !domain_ok) {
          return WithRow(WithColumn(absl::ResourceExhaustedError(
                                        "out of memory interning recipients (or a recipient over 4 GiB)"),
                                    "recipient"),
                         rows_seen_ + r.row);
        }
        if (!sh.CampaignIndex(b.campaign_id.Get(r.row), &r.campaign)) {
          return absl::ResourceExhaustedError(
              absl::StrCat("more than ", kMaxCampaigns, " distinct campaign_id values"));
        }
        r.klass = codes ? b.bounce_class_codes[r.row]
                        : static_cast<uint8_t>(ParseEventClass(b.bounce_class.Get(r.row)));
        if (w2) {
          const uint32_t sub = e.id & ((1u << local_shift) - 1);
          const EventRecord out{e.id >> local_shift, (r.campaign << 2) | kPolicyClassOf[r.klass],
                                b.ts.Get(r.row)};
          if (!partitions_[first_partition + sub].Append(out)) {
            return absl::ResourceExhaustedError("out of memory storing events");
          }
        }
        if (w3) {
          r.domain = e.payload;
          r.group_hash = GroupTable::Hash(r.campaign, r.domain);
          sh.groups.PrefetchSlot(r.group_hash);
        }
      }
      if (!w3) return absl::OkStatus();
      j -= kAhead;
      if (j >= 0 && j < mine) sh.groups.PrefetchGroup(ring[j & (kRing - 1)].group_hash);
      j -= kAhead;
      if (j >= 0 && j < mine) {
        const Row& r = ring[j & (kRing - 1)];
        GroupCounts* g = sh.groups.FindOrInsert(r.campaign, r.domain, r.group_hash);
        if (g == nullptr) return absl::ResourceExhaustedError("out of memory for campaign/domain groups");
        ++g->counts[r.klass];
      }
      return absl::OkStatus();
    };
    int64_t k = 0;
    for (int64_t i = 0; i < n; ++i) {
      const absl::string_view rec = b.recipient.Get(i);
      const uint64_t h = StringInterner::Hash(rec);
      if (shard_bits_ > 0 && static_cast<int>(h >> shard_shift) != t) continue;
      Row& r = ring[k & (kRing - 1)];
      r.row = i;
      r.recipient = rec;
      r.hash = h;
      sh.recipients.PrefetchSlot(h);
      absl::Status st = stages(k);
      if (!st.ok()) return st;
      ++k;
    }
    mine = k;
    const int64_t last = k + (w3 ? 4 : 2) * kAhead;
    for (; k < last; ++k) {
      absl::Status st = stages(k);
      if (!st.ok()) return st;
    }
    return absl::OkStatus();
  }

  void FinishSuppressions(int threads, SuppressionTable* out) {
    const int local_shift = kPartitionBits - shard_bits_;
    const uint32_t per_shard = 1u << local_shift;
    std::vector<std::vector<Suppression>> found(kPartitions);
    std::vector<PartitionScratch> scratch(static_cast<size_t>(threads));
    ParallelFor(threads, kPartitions, [&](int th, uint32_t p) {
      const uint32_t t = p >> local_shift;
      const uint32_t sub = p & (per_shard - 1);
      const uint32_t n = static_cast<uint32_t>(shards_[t]->recipients.size());
      const uint32_t num_local = n > sub ? (n - sub + per_shard - 1) >> local_shift : 0;
      ProcessPartition(options_.policy, static_cast<uint8_t>(t), sub, local_shift, num_local, &partitions_[p],
                       &scratch[static_cast<size_t>(th)], &found[p]);
    });
    scratch.clear();
    size_t total = 0;
    for (const auto& f : found) total += f.size();
    std::vector<Suppression> rows;
    rows.reserve(total);
    for (auto& f : found) {
      rows.insert(rows.end(), f.begin(), f.end());
      std::vector<Suppression>().swap(f);
    }
    auto name = [&](const Suppression& s) { return shards_[s.shard]->recipients.Get(s.recipient); };
    // Sort by recipient bytes: 8-byte prefixes first, full strings on ties.
    std::vector<std::pair<uint64_t, uint32_t>> order(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) order[i] = {BigEndianPrefix(name(rows[i])), static_cast<uint32_t>(i)};
    std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
      if (a.first != b.first) return a.first < b.first;
      return name(rows[a.second]) < name(rows[b.second]);
    });
    const size_t k = rows.size();
    out->recipient_offsets.resize(k + 1);
    out->reason.resize(k);
    out->suppressed_at.resize(k);
    out->event_count_seen.resize(k);
    size_t bytes = 0;
    for (const Suppression& s : rows) bytes += name(s).size();
    out->recipient_data.clear();
    out->recipient_data.reserve(bytes);
    out->recipient_offsets[0] = 0;
    for (size_t i = 0; i < k; ++i) {
      const Suppression& s = rows[order[i].second];
      const absl::string_view r = name(s);
      out->recipient_data.append(r.data(), r.size());
      out->recipient_offsets[i + 1] = static_cast<int64_t>(out->recipient_data.size());
      out->reason[i] = s.reason;
      out->suppressed_at[i] = s.ts;
      out->event_count_seen[i] = s.event_number;
    }
  }

  void FinishAggregates(AggregateTable* out) {
    // The output's domain dictionary (sorted, distinct) and campaign order,
    // and each shard's local ids mapped to their ranks there.
    std::vector<absl::string_view> domains;
    std::vector<int64_t> campaigns;
    for (const auto& sh : shards_) {
      for (size_t d = 0; d < sh->domains.size(); ++d) domains.push_back(sh->domains.Get(static_cast<uint32_t>(d)));
      campaigns.insert(campaigns.end(), sh->campaign_values.begin(), sh->campaign_values.end());
    }
    std::sort(domains.begin(), domains.end());
    domains.erase(std::unique(domains.begin(), domains.end()), domains.end());
    std::sort(campaigns.begin(), campaigns.end());
    campaigns.erase(std::unique(campaigns.begin(), campaigns.end()), campaigns.end());
    const int domain_bits = BitsFor(domains.size());
    const int campaign_bits = BitsFor(campaigns.size());
    std::vector<std::vector<uint32_t>> domain_rank(shards_.size()), campaign_rank(shards_.size());
    size_t num_groups = 0;
    for (size_t t = 0; t < shards_.size(); ++t) {
      const Shard& sh = *shards_[t];
      for (size_t d = 0; d < sh.domains.size(); ++d) {
        domain_rank[t].push_back(static_cast<uint32_t>(
            std::lower_bound(domains.begin(), domains.end(), sh.domains.Get(static_cast<uint32_t>(d))) -
            domains.begin()));
      }
      for (int64_t c : sh.campaign_values) {
        campaign_rank[t].push_back(
            static_cast<uint32_t>(std::lower_bound(campaigns.begin(), campaigns.end(), c) - campaigns.begin()));
      }
      num_groups += sh.groups.size();
    }
    std::vector<KeyedGroup> keyed;
    keyed.reserve(num_groups);
    for (size_t t = 0; t < shards_.size(); ++t) {
      shards_[t]->groups.DropIndex();
      const GroupTable& g = shards_[t]->groups;
      for (size_t i = 0; i < g.size(); ++i) {
        const GroupCounts& gc = g.group(i);
        const uint64_t key = (uint64_t{campaign_rank[t][gc.campaign]} << domain_bits) | domain_rank[t][gc.domain];
        keyed.push_back({key, static_cast<uint32_t>(t), static_cast<uint32_t>(i)});
      }
    }
    RadixSortByKey(&keyed, domain_bits + campaign_bits);

    out->domain_offsets.assign(domains.size() + 1, 0);
    out->domain_data.clear();
    for (size_t r = 0; r < domains.size(); ++r) {
      out->domain_data.append(domains[r].data(), domains[r].size());
      out->domain_offsets[r + 1] = static_cast<int64_t>(out->domain_data.size());
    }
    // Shards share groups: merge runs of equal keys.
    size_t ng = 0;
    for (size_t i = 0; i < keyed.size(); ++i) ng += (i == 0 || keyed[i].key != keyed[i - 1].key);
    for (auto* v : {&out->campaign_id, &out->sent, &out->delivered, &out->soft, &out->hard, &out->block}) v->resize(ng);
    out->domain.resize(ng);
    for (auto* v : {&out->hard_rate, &out->soft_rate, &out->block_rate}) v->resize(ng);
    for (auto* v : {&out->hard_flag, &out->soft_flag, &out->block_flag}) v->resize(ng);
    const uint64_t domain_mask = (uint64_t{1} << domain_bits) - 1;
    size_t row = 0;
    for (size_t i = 0; i < keyed.size();) {
      int64_t c[kNumEventClasses] = {0, 0, 0, 0, 0};
      const uint64_t key = keyed[i].key;
      for (; i < keyed.size() && keyed[i].key == key; ++i) {
        const GroupCounts& gc = shards_[keyed[i].shard]->groups.group(keyed[i].group);
        for (int k = 0; k < kNumEventClasses; ++k) c[k] += gc.counts[k];
      }
      const int64_t delivered = c[static_cast<int>(EventClass::kDelivered)];
      const int64_t soft = c[static_cast<int>(EventClass::kSoft)];
      const int64_t hard = c[static_cast<int>(EventClass::kHard)];
      const int64_t block = c[static_cast<int>(EventClass::kBlock)];
      const int64_t sent = delivered + soft + hard + block + c[static_cast<int>(EventClass::kOther)];
      out->campaign_id[row] = campaigns[key >> domain_bits];
      out->domain[row] = static_cast<int32_t>(key & domain_mask);
      out->sent[row] = sent;
      out->delivered[row] = delivered;
      out->soft[row] = soft;
      out->hard[row] = hard;
      out->block[row] = block;
      out->hard_rate[row] = static_cast<double>(hard) / static_cast<double>(sent);
      out->soft_rate[row] = static_cast<double>(soft) / static_cast<double>(sent);
      out->block_rate[row] = static_cast<double>(block) / static_cast<double>(sent);
      out->hard_flag[row] = 20 * hard > sent;
      out->soft_flag[row] = 10 * soft > sent;
      out->block_flag[row] = 20 * block > sent;
      ++row;
    }
    for (auto& sh : shards_) sh->groups.Clear();
  }

  HistoryOptions options_;
  int shard_bits_ = 0;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::unique_ptr<RecordList[]> partitions_;  // W2: kPartitions lists, or null
  int64_t rows_seen_ = 0;
  bool finished_ = false;
  absl::Status broken_;
};

// ------------------------------------------------------ HistoryAccumulator

HistoryAccumulator::HistoryAccumulator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HistoryAccumulator::~HistoryAccumulator() = default;

absl::StatusOr<std::unique_ptr<HistoryAccumulator>> HistoryAccumulator::Create(const HistoryOptions& options) {
  absl::Status st = options.policy.Validate();
  if (!st.ok()) return st;
  if (!options.suppressions && !options.aggregates) {
    return absl::InvalidArgumentError("nothing to compute: ask for suppressions, aggregates or both");
  }
  return std::unique_ptr<HistoryAccumulator>(new HistoryAccumulator(std::make_unique<Impl>(options)));
}

absl::Status HistoryAccumulator::Add(const HistoryBatch& batch) { return impl_->Add(batch); }
absl::StatusOr<HistoryResult> HistoryAccumulator::Finish(int threads) { return impl_->Finish(threads); }
const HistoryOptions& HistoryAccumulator::options() const { return impl_->options(); }
int64_t HistoryAccumulator::rows_seen() const { return impl_->rows_seen(); }
int64_t HistoryAccumulator::num_recipients() const { return impl_->num_recipients(); }
int64_t HistoryAccumulator::MemoryUsage() const { return impl_->MemoryUsage(); }

}  // namespace bouncekit
