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
using internal::LineBuffer;
using internal::NarrowRecord;
using internal::PodVector;
using internal::WriteCombiner;
using internal::RecordList;
using internal::StringInterner;

// W2 splits the recipients into kPartitions buckets by hash: each has its
// own interner, event list and staging buffer, so that interning and
// Finish() work on a cache-sized slice of the recipients at a time.
constexpr int kPartitionBits = 8;
constexpr uint32_t kPartitions = 1u << kPartitionBits;
// Staged rows are interned once they take this many bytes (or as many as
// the interners, whichever is more; see Impl::StageBatch).
constexpr size_t kMinStagedBytes = size_t{64} << 20;
constexpr size_t kNoRegion = ~size_t{0};
constexpr uint32_t kMaxCampaigns = 1u << 30;  // campaign index << 2 fits 32 bits
constexpr int64_t kMaxRows = 0xffffffffLL;
// The ingest loop's pipeline: stages kAhead rows apart, in a ring of kRing rows.
constexpr int64_t kAhead = 16;
constexpr int64_t kRing = 128;
// Threads cost more than they save on small batches.
constexpr int64_t kMinRowsPerThread = 16384;

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
  uint32_t recipient;  // id in its bucket's interner
  uint16_t bucket;
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
  std::vector<uint32_t> soft_campaigns;
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

// A W2 bucket's events as stored (see NarrowRecord): narrow records, the
// campaign indices of their soft events in the same order, and the events
// kept whole.
struct BucketEvents {
  RecordList<NarrowRecord> narrow;
  RecordList<uint32_t> soft_campaigns;
  RecordList<EventRecord> wide;

  void set_arena(internal::BlockArena* arena) {
    narrow.set_arena(arena);
    soft_campaigns.set_arena(arena);
    wide.set_arena(arena);
  }
  size_t size() const { return narrow.size() + wide.size(); }
  int64_t MemoryUsage() const { return narrow.MemoryUsage() + soft_campaigns.MemoryUsage() + wide.MemoryUsage(); }
  void Clear() {
    narrow.Clear();
    soft_campaigns.Clear();
    wide.Clear();
  }
};

// Groups a bucket's events by recipient (its `num_local` interner ids) and
// runs the policy on each. An event is kept wide only when its ts lies
// outside the narrow window (or its recipient's id needs more than 30 bits,
// and then all of that recipient's events are wide), so two events of one
// recipient with equal ts are both narrow or both wide: scattering the
// narrow ones, then the wide ones, each in input order, keeps the input
// order of equal ts within every group.
void ProcessPartition(const SuppressionPolicy& policy, uint16_t bucket, uint32_t num_local, uint64_t ts_base,
                      BucketEvents* events, PartitionScratch* s, std::vector<Suppression>* out) {
  const size_t n = events->size();
  if (n == 0) return;
  s->start.assign(num_local + 1, 0);
  events->narrow.ForEach([&](const NarrowRecord& r) { ++s->start[(r.local_class >> 2) + 1]; });
  events->wide.ForEach([&](const EventRecord& r) { ++s->start[r.local + 1]; });
  for (uint32_t l = 0; l < num_local; ++l) s->start[l + 1] += s->start[l];
  s->ts.resize(n);
  s->cc.resize(n);
  s->soft_campaigns.clear();
  events->soft_campaigns.ForEach([&](uint32_t c) { s->soft_campaigns.push_back(c); });
  // Scatter in input order: each group keeps its rows' order.
  size_t soft = 0;
  events->narrow.ForEach([&](const NarrowRecord& r) {
    const uint32_t cls = r.local_class & 3;
    const uint32_t pos = s->start[r.local_class >> 2]++;
    s->ts[pos] = static_cast<int64_t>(ts_base + r.ts_offset);
    s->cc[pos] = cls == kSoftEvent ? (s->soft_campaigns[soft++] << 2) | cls : cls;
  });
  events->wide.ForEach([&](const EventRecord& r) {
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
        hit.recipient = l;
        hit.bucket = bucket;
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

// Dense indices 0, 1, ... for campaign ids, in first-seen order. A history
// has few campaigns (their rows grouped or interleaved), so a small
// direct-mapped cache in front of the map answers almost every row.
struct CampaignMap {
  absl::flat_hash_map<int64_t, uint32_t> index;
  std::vector<int64_t> values;  // index -> campaign_id
  static constexpr int kCacheBits = 8;
  struct CacheSlot {
    int64_t campaign;
    uint32_t index;  // kEmpty: nothing cached
  };
  static constexpr uint32_t kEmpty = ~uint32_t{0};
  CacheSlot cache[1 << kCacheBits];

  CampaignMap() {
    for (CacheSlot& c : cache) c = CacheSlot{0, kEmpty};
  }

  // The index of a campaign id; false when it would be the limit-th.
  bool Find(int64_t campaign, uint32_t limit, uint32_t* out) {
    CacheSlot& slot =
        cache[(static_cast<uint64_t>(campaign) * 0x9E3779B97F4A7C15ull) >> (64 - kCacheBits)];
    if (slot.campaign == campaign && slot.index != kEmpty) {
      *out = slot.index;
      return true;
    }
    return FindSlow(campaign, limit, &slot, out);
  }
  int64_t MemoryUsage() const { return static_cast<int64_t>(values.capacity() * 8 + index.capacity() * 16); }

 private:
  bool FindSlow(int64_t campaign, uint32_t limit, CacheSlot* slot, uint32_t* out) {
    auto [it, inserted] = index.try_emplace(campaign, static_cast<uint32_t>(values.size()));
    if (inserted) {
      if (values.size() >= limit) {
        index.erase(it);
        return false;
      }
      values.push_back(campaign);
    }
    *slot = CacheSlot{campaign, it->second};
    *out = it->second;
    return true;
  }

};

// One ingest shard: what one ingest thread owns (campaign index, domains,
// W3 groups; with W2, the recipients of its share of the buckets). Shards
// share nothing, so they work on a batch in parallel; each takes its rows
// in input order.
struct Shard {
  // Shard-local campaign indices (W3 alone); with W2 the accumulator's
  // global ones are used, and copied here before Finish.
  CampaignMap campaigns;

  StringInterner domains;  // shard-local domain ids
  std::string domain_buf;

  GroupTable groups;  // W3, keyed by campaign index and shard-local domain id

  internal::BlockArena record_blocks;  // W2: event blocks of the shard's buckets

  // Counts an event of class `klass` under (campaign, domain); `hash` is
  // GroupTable::Hash of the pair. False when memory runs out.
  bool CountGroup(uint32_t campaign, uint32_t domain, uint64_t hash, uint8_t klass) {
    GroupCounts* g = groups.FindOrInsert(campaign, domain, hash);
    if (g == nullptr) return false;
    ++g->counts[klass];
    return true;
  }

  // The shard-local index of a campaign id; false past kMaxCampaigns.
  bool CampaignIndex(int64_t campaign, uint32_t* out) { return campaigns.Find(campaign, kMaxCampaigns, out); }

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
    return groups.MemoryUsage() + domains.MemoryUsage() +
           campaigns.MemoryUsage();
  }
};

// One W2 bucket: the recipients whose hash falls to it (ids dense from 0),
// their events, and rows staged for it that are not interned yet.
struct Bucket {
  StringInterner recipients{256};  // payload: domain id in the owning shard (W3)
  BucketEvents events;
  LineBuffer staged;  // StagedHeader + recipient bytes (8-byte aligned), input order

  int64_t MemoryUsage() const {
    return recipients.MemoryUsage() + events.MemoryUsage() + static_cast<int64_t>(staged.capacity());
  }
};

// A staged row, followed by its recipient's bytes.
struct StagedHeader {
  uint32_t length;
  uint32_t campaign_class;  // global campaign index << 3 | EventClass
  int64_t ts;
  uint64_t hash;  // StringInterner::Hash of the recipient
};
static_assert(sizeof(StagedHeader) == 24);
constexpr uint32_t kMaxStagedCampaigns = 1u << 29;

constexpr size_t StagedSize(size_t length) { return sizeof(StagedHeader) + ((length + 7) & ~size_t{7}); }
// In place of a StagedHeader's length: the rest of this 64-byte line is padding.
constexpr uint32_t kSkipToLine = 0xffffffffu;

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
    if (options_.suppressions) {
      buckets_ = std::make_unique<Bucket[]>(kPartitions);
      const int bits = kPartitionBits - shard_bits_;
      for (uint32_t k = 0; k < kPartitions; ++k) {
        buckets_[k].events.set_arena(&shards_[k >> bits]->record_blocks);
        buckets_[k].staged.set_arena(&staging_blocks_);  // only grown by StageBatch's serial step
      }
    }
  }

  const HistoryOptions& options() const { return options_; }
  int64_t rows_seen() const { return rows_seen_; }
  // Interns what is staged first, so that the count is exact.
  int64_t num_recipients() {
    if (buckets_ == nullptr || finished_) return num_recipients_;
    if (broken_.ok()) {
      absl::Status st = Drain();
      if (!st.ok()) broken_ = st;
    }
    return CountRecipients();
  }

  int64_t MemoryUsage() const {
    int64_t bytes = 0;
    for (const auto& sh : shards_) bytes += sh->MemoryUsage();
    if (buckets_ != nullptr) {
      for (uint32_t p = 0; p < kPartitions; ++p) bytes += buckets_[p].MemoryUsage();
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
    threads = std::clamp(threads, 1, 256);
    if (buckets_ != nullptr) {
      absl::Status st = Drain();
      if (!st.ok()) {
        broken_ = st;
        return st;
      }
      num_recipients_ = CountRecipients();
      // W3 beside W2 counted groups under the global campaign indices.
      for (auto& sh : shards_) sh->campaigns.values = campaigns_.values;
    }
    finished_ = true;
    HistoryResult result;
    result.rows = rows_seen_;
    result.recipients = options_.suppressions ? num_recipients_ : -1;
    for (auto& sh : shards_) sh->campaigns.index = {};
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
    absl::Status st;
    if (options_.suppressions) {
      st = StageBatch(b);
    } else {
      st = ForEachShard(b.num_rows, [&](int t) { return IngestDomains(t, b); });
    }
    if (!st.ok()) return st;
    rows_seen_ += b.num_rows;
    if (options_.suppressions && staged_bytes_ >= DrainThreshold()) return Drain();
    return absl::OkStatus();
  }

  // Runs fn(t) for every shard t: on one thread per shard when `rows` pays
  // for the threads, else one after the other. Returns the first failure
  // (in shard order).
  template <typename F>
  absl::Status ForEachShard(int64_t rows, F&& fn) {
    const int num_shards = static_cast<int>(shards_.size());
    if (num_shards == 1 || rows < kMinRowsPerThread) {
      for (int t = 0; t < num_shards; ++t) {
        absl::Status st = fn(t);
        if (!st.ok()) return st;
      }
      return absl::OkStatus();
    }
    std::vector<absl::Status> status(static_cast<size_t>(num_shards));
    std::vector<std::thread> pool;
    for (int t = 1; t < num_shards; ++t) {
      pool.emplace_back([&, t] { status[static_cast<size_t>(t)] = fn(t); });
    }
    status[0] = fn(0);
    for (std::thread& th : pool) th.join();
    for (const absl::Status& st : status) {
      if (!st.ok()) return st;
    }
    return absl::OkStatus();
  }

  static uint32_t BucketOf(uint64_t hash) {
    // Bits 32.. : independent of the interner's slot bits (low) and tag (top 24).
    return static_cast<uint32_t>(hash >> 32) & (kPartitions - 1);
  }

  int64_t CountRecipients() const {
    int64_t n = 0;
    for (uint32_t k = 0; k < kPartitions; ++k) n += static_cast<int64_t>(buckets_[k].recipients.size());
    return n;
  }

  // Staged rows are interned once they take as many bytes as the interners
  // (at least kMinStagedBytes): each bucket's interner is then read into
  // the cache about once per drain while it serves that bucket's many rows.
  size_t DrainThreshold() const {
    size_t interned = 0;
    for (uint32_t k = 0; k < kPartitions; ++k) interned += static_cast<size_t>(buckets_[k].recipients.MemoryUsage());
    if (options_.staging_bytes > 0) return static_cast<size_t>(options_.staging_bytes);
    return std::max(kMinStagedBytes, interned);
  }

  // W2 (and W3 with it), step 1: each row is copied, with its hash, into the
  // staging buffer of its recipient's bucket; inside a bucket the rows stay
  // in input order. The shards take contiguous ranges of the batch: a first
  // pass hashes the recipients and counts the bytes each range sends to each
  // bucket, a second copies every row to its place. Streaming writes only:
  // the random accesses come later, bucket by bucket (Drain). Campaign ids
  // get their (global) index here too, where rows still come in input
  // order, mostly grouped by campaign: each range maps them to its own
  // indices, which are then translated to the global ones.
  absl::Status StageBatch(const HistoryBatch& b) {
    const int64_t n = b.num_rows;
    if (n == 0) return absl::OkStatus();
    if (!have_ts_base_) {
      ts_base_ = static_cast<uint64_t>(b.ts.Get(0)) - (uint64_t{1} << 31);
      have_ts_base_ = true;
    }
    const int ranges = static_cast<int>(shards_.size());
    const bool codes = !b.bounce_class_codes.empty();
    hashes_.ClearKeepCapacity();
    uint64_t* const hashes = hashes_.Extend(static_cast<size_t>(n));
    range_campaign_.ClearKeepCapacity();
    uint32_t* const range_campaign = range_campaign_.Extend(static_cast<size_t>(n));
    if (hashes == nullptr || range_campaign == nullptr) {
      return absl::ResourceExhaustedError("out of memory staging events");
    }
    if (range_campaigns_.size() != static_cast<size_t>(ranges)) {
      range_campaigns_.resize(static_cast<size_t>(ranges));
      range_to_global_.resize(static_cast<size_t>(ranges));
    }
    stage_pos_.assign(static_cast<size_t>(ranges) * kPartitions, 0);
    const absl::Status too_many_campaigns = absl::ResourceExhaustedError(
        absl::StrCat("more than ", kMaxStagedCampaigns, " distinct campaign_id values"));
    auto range = [&](int t) { return std::pair<int64_t, int64_t>(n * t / ranges, n * (t + 1) / ranges); };
    absl::Status st = ForEachShard(n, [&](int t) -> absl::Status {
      const auto [lo, hi] = range(t);
      size_t* const bytes = &stage_pos_[static_cast<size_t>(t) * kPartitions];
      for (int64_t i = lo; i < hi; ++i) {
        const absl::string_view rec = b.recipient.Get(i);
        if (rec.size() >= kSkipToLine) {
          return WithRow(WithColumn(absl::ResourceExhaustedError("a recipient over 4 GiB"), "recipient"),
                         rows_seen_ + i);
        }
        const uint64_t h = StringInterner::Hash(rec);
        hashes[i] = h;
        bytes[BucketOf(h)] += StagedSize(rec.size());
        if (!range_campaigns_[static_cast<size_t>(t)].Find(b.campaign_id.Get(i), kMaxStagedCampaigns,
                                                           &range_campaign[i])) {
          return too_many_campaigns;
        }
      }
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
    for (int t = 0; t < ranges; ++t) {  // new range-local campaigns get their global index
      const std::vector<int64_t>& local = range_campaigns_[static_cast<size_t>(t)].values;
      std::vector<uint32_t>& to_global = range_to_global_[static_cast<size_t>(t)];
      for (size_t c = to_global.size(); c < local.size(); ++c) {
        uint32_t g;
        if (!campaigns_.Find(local[c], kMaxStagedCampaigns, &g)) return too_many_campaigns;
        to_global.push_back(g);
      }
    }
    // Room in each bucket, and where each range's rows go in it: every
    // range gets whole lines (a range that ends inside a line marks the rest
    // of it as padding), so no two threads write to one line.
    constexpr size_t kLine = LineBuffer::kLine;
    size_t batch_bytes = 0;
    for (size_t& c : stage_pos_) {
      c = (c + kLine - 1) & ~(kLine - 1);
      batch_bytes += c;
    }
    // What is staged already is interned first when this batch would take
    // the staging buffers past the drain threshold: they keep the size
    // their first block was given (a drain's share), never grown by copies.
    if (staged_bytes_ > 0 && staged_bytes_ + batch_bytes > DrainThreshold()) {
      absl::Status drained = Drain();
      if (!drained.ok()) return drained;
    }
    for (uint32_t k = 0; k < kPartitions; ++k) {
      size_t total = 0;
      for (int t = 0; t < ranges; ++t) total += stage_pos_[static_cast<size_t>(t) * kPartitions + k];
      if (total == 0) continue;
      LineBuffer& staged = buckets_[k].staged;
      if (staged.capacity() == 0) {
        // The first block: room for the bucket's share of a drain at once
        // when the batches are big (growing by copies would allocate, and
        // fault in, about three times as much), little for small inputs.
        const size_t share = DrainThreshold() / kPartitions;
        if (!staged.Reserve(std::max(total, std::min(share + share / 8, 8 * total)))) {
          return absl::ResourceExhaustedError("out of memory staging events");
        }
      }
      size_t pos = staged.size();
      if (staged.ExtendLines(total / kLine) == nullptr) {
        return absl::ResourceExhaustedError("out of memory staging events");
      }
      for (int t = 0; t < ranges; ++t) {
        size_t& p = stage_pos_[static_cast<size_t>(t) * kPartitions + k];
        const size_t c = p;
        p = c == 0 ? kNoRegion : pos;
        pos += c;
      }
      staged_bytes_ += total;
    }
    return ForEachShard(n, [&](int t) -> absl::Status {
      const auto [lo, hi] = range(t);
      const size_t* pos = &stage_pos_[static_cast<size_t>(t) * kPartitions];
      const uint32_t* to_global = range_to_global_[static_cast<size_t>(t)].data();
      WriteCombiner out(kPartitions);
      for (uint32_t k = 0; k < kPartitions; ++k) {
        if (pos[k] != kNoRegion) out.Start(k, buckets_[k].staged.data() + pos[k]);
      }
      for (int64_t i = lo; i < hi; ++i) {
        const absl::string_view rec = b.recipient.Get(i);
        StagedHeader head;
        head.length = static_cast<uint32_t>(rec.size());
        const uint32_t klass =
            codes ? b.bounce_class_codes[i] : static_cast<uint32_t>(ParseEventClass(b.bounce_class.Get(i)));
        head.campaign_class = (to_global[range_campaign[i]] << 3) | klass;
        head.ts = b.ts.Get(i);
        head.hash = hashes[i];
        const uint32_t k = BucketOf(head.hash);
        uint64_t w[sizeof(head) / 8];
        std::memcpy(w, &head, sizeof(head));
        out.PutRecord(k, w, rec.data(), rec.size());
      }
      for (uint32_t k = 0; k < kPartitions; ++k) {
        if (pos[k] == kNoRegion) continue;
        if (out.fill(k) > 0) out.PutWord(k, kSkipToLine);
        out.Finish(k);
      }
      internal::StreamFence();
      return absl::OkStatus();
    });
  }

  // Step 2: interns the staged rows, each shard its own buckets, one bucket
  // at a time (its interner stays in the cache), and appends their W2
  // records; with W3, counts them under (campaign, domain).
  absl::Status Drain() {
    if (staged_bytes_ == 0) return absl::OkStatus();
    const int64_t rows_estimate = static_cast<int64_t>(staged_bytes_ / sizeof(StagedHeader));
    absl::Status st = ForEachShard(rows_estimate, [&](int t) { return DrainShard(t); });
    internal::StreamFence();  // the record lists' non-temporal stores
    staged_bytes_ = 0;
    return st;
  }

  absl::Status DrainShard(int t) {
    Shard& sh = *shards_[static_cast<size_t>(t)];
    const bool w2 = options_.suppressions;
    const bool w3 = options_.aggregates;
    const int bits = kPartitionBits - shard_bits_;  // buckets per shard: 1 << bits
    const uint32_t first = static_cast<uint32_t>(t) << bits;
    const uint32_t last = static_cast<uint32_t>(t + 1) << bits;
    const absl::Status oom = absl::ResourceExhaustedError("out of memory interning recipients");
    // W3 counts go through two stages kAhead rows apart (prefetch the
    // group's slot, then its counters) before they are added.
    struct Pending {
      uint64_t hash;
      uint32_t campaign;
      uint32_t domain;
      uint8_t klass;
    };
    Pending ring[kRing];
    int64_t pending = 0;
    int64_t limit = std::numeric_limits<int64_t>::max();
    auto stages = [&](int64_t k) -> bool {
      int64_t j = k - kAhead;
      if (j >= 0 && j < limit) sh.groups.PrefetchGroup(ring[j & (kRing - 1)].hash);
      j -= kAhead;
      if (j >= 0 && j < limit) {
        const Pending& q = ring[j & (kRing - 1)];
        return sh.CountGroup(q.campaign, q.domain, q.hash, q.klass);
      }
      return true;
    };
    for (uint32_t k = first; k < last; ++k) {
      Bucket& bucket = buckets_[k];
      const char* p = bucket.staged.data();
      const char* const end = p + bucket.staged.size();
      if (p != end) internal::KeepValue(bucket.recipients.Warm());
      while (p < end) {
        uint32_t length;
        std::memcpy(&length, p, sizeof(length));
        if (length == kSkipToLine) {
          const size_t at = static_cast<size_t>(p - bucket.staged.data());
          p = bucket.staged.data() + ((at + LineBuffer::kLine) & ~(LineBuffer::kLine - 1));
          continue;
        }
        StagedHeader head;
        std::memcpy(&head, p, sizeof(head));
        const absl::string_view rec(p + sizeof(head), head.length);
        p += StagedSize(head.length);
        const uint32_t campaign = head.campaign_class >> 3;
        const uint32_t klass = head.campaign_class & 7;
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
        if (!bucket.recipients.FindOrInsert(rec, head.hash, make_payload, &e) || !domain_ok) return oom;
        if (w2) {
          const uint32_t cls = kPolicyClassOf[klass];
          const uint64_t offset = static_cast<uint64_t>(head.ts) - ts_base_;  // modulo 2^64
          bool stored;
          if (offset <= 0xffffffffu && e.id < (1u << 30)) {
            stored = bucket.events.narrow.Append(NarrowRecord{(e.id << 2) | cls, static_cast<uint32_t>(offset)}) &&
                     (cls != kSoftEvent || bucket.events.soft_campaigns.Append(campaign));
          } else {
            stored = bucket.events.wide.Append(EventRecord{e.id, (campaign << 2) | cls, head.ts});
          }
          if (!stored) return absl::ResourceExhaustedError("out of memory storing events");
        }
        if (w3) {
          Pending& q = ring[pending & (kRing - 1)];
          q = Pending{GroupTable::Hash(campaign, e.payload), campaign, e.payload, static_cast<uint8_t>(klass)};
          sh.groups.PrefetchSlot(q.hash);
          if (!stages(pending)) return oom;
          ++pending;
        }
      }
      bucket.staged.ClearKeepCapacity();
    }
    limit = pending;
    for (const int64_t stop = pending + 2 * kAhead; pending < stop; ++pending) {
      if (!stages(pending)) return oom;
    }
    return absl::OkStatus();
  }

  // W3 alone: no recipient is kept; each row's domain is found (and
  // lower-cased) in place and counted under (campaign, domain). Each shard
  // takes a contiguous range of the batch's rows, with its own campaign and
  // domain ids and groups; FinishAggregates merges equal groups.
  absl::Status IngestDomains(int t, const HistoryBatch& b) {
    Shard& sh = *shards_[static_cast<size_t>(t)];
    const int64_t n = b.num_rows;
    const bool codes = !b.bounce_class_codes.empty();
    const int ranges = static_cast<int>(shards_.size());
    const int64_t lo = ranges == 1 ? 0 : n * t / ranges;
    const int64_t hi = ranges == 1 ? n : n * (t + 1) / ranges;
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
        return sh.CountGroup(r.campaign, r.domain, r.group_hash, r.klass);
      }
      return true;
    };
    const absl::Status oom = absl::ResourceExhaustedError("out of memory for domains or campaign/domain groups");
    int64_t k = 0;
    for (int64_t i = lo; i < hi; ++i) {
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
        r.have_domain = false;
        r.domain_hash = h;
        sh.domains.PrefetchSlot(h);
      } else {
        const absl::string_view domain = sh.Domain(rec, &h);
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

  void FinishSuppressions(int threads, SuppressionTable* out) {
    std::vector<std::vector<Suppression>> found(kPartitions);
    std::vector<PartitionScratch> scratch(static_cast<size_t>(threads));
    ParallelFor(threads, kPartitions, [&](int th, uint32_t p) {
      Bucket& bucket = buckets_[p];
      bucket.recipients.DropIndex();  // only Get() is needed from here on
      bucket.staged.Clear();
      ProcessPartition(options_.policy, static_cast<uint16_t>(p), static_cast<uint32_t>(bucket.recipients.size()),
                       ts_base_, &bucket.events, &scratch[static_cast<size_t>(th)], &found[p]);
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
    auto name = [&](const Suppression& s) { return buckets_[s.bucket].recipients.Get(s.recipient); };
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
      campaigns.insert(campaigns.end(), sh->campaigns.values.begin(), sh->campaigns.values.end());
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
      for (int64_t c : sh.campaigns.values) {
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
  internal::BlockArena staging_blocks_;  // the buckets' staging buffers
  std::unique_ptr<Bucket[]> buckets_;    // W2: kPartitions buckets, or null
  size_t staged_bytes_ = 0;            // staged in the buckets, not yet interned
  // Narrow records keep ts - ts_base_ (modulo 2^64) when it is below 2^32;
  // the base is set, 2^31 below it, by the first row staged.
  uint64_t ts_base_ = 0;
  bool have_ts_base_ = false;
  int64_t num_recipients_ = 0;         // after Finish()
  PodVector<uint64_t> hashes_;         // StageBatch: the batch's recipient hashes
  PodVector<uint32_t> range_campaign_; // StageBatch: each row's range-local campaign index
  std::vector<CampaignMap> range_campaigns_;             // per range: campaign id -> range-local index
  std::vector<std::vector<uint32_t>> range_to_global_;   // per range: range-local -> global index
  CampaignMap campaigns_;              // W2: campaign id -> global index
  std::vector<size_t> stage_pos_;      // StageBatch: [range][bucket] byte counts, then write offsets
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
