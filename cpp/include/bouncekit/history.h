// Copyright 2026 The bouncekit authors.
//
// The bounce-history engine: per-recipient suppression (policy `standard`,
// SPEC.md section 3, "W2") and per-(campaign, domain) aggregates (SPEC.md
// section 4, "W3"), computed in one streaming pass over column batches.
//
// Usage:
//
//   absl::StatusOr<std::unique_ptr<HistoryAccumulator>> acc =
//       HistoryAccumulator::Create(HistoryOptions{});
//   for (const HistoryBatch& batch : batches) {
//     absl::Status st = (*acc)->Add(batch);  // rows are numbered on from 0
//   }
//   absl::StatusOr<HistoryResult> result = (*acc)->Finish(/*threads=*/2);
//
// Batches are added in input order: the k-th row added is input row k, and
// W2 breaks ties in `ts` by that row number. Splitting the same rows into
// different batches, or finishing on a different number of threads, gives
// identical results.
//
// How it works, and what it costs. For W2 the recipients are split by hash
// into 256 buckets. Rows are first staged: copied, with the recipient's
// hash, into their bucket's staging buffer (sequential writes, a full cache
// line at a time). Every ~64 MiB the staged rows are interned bucket by
// bucket, so that each bucket's interner (dense 32-bit ids, an arena with
// each distinct recipient once) stays in the cache while it serves all of
// that bucket's rows, instead of every row missing the cache twice. Each
// event is then kept in its bucket's list as an 8-byte record (recipient
// id and class; ts as a 32-bit offset from a base set by the first row),
// with a soft event's campaign index in a list of its own; an event whose ts
// is more than 2^31 away from the first row's is kept whole (16 bytes).
// Finish() handles one bucket at a time:
// a counting sort groups its events by recipient (input order kept inside a
// group), each group is sorted by ts (stable, so ties stay in row order)
// and walked with the policy's constant-size state. For W3 every row increments the counters of
// its (campaign, domain) group at once: with W2, the domain is computed once
// per distinct recipient; for W3 alone no recipient is kept, and each row's
// domain is found in place (an interned lower-case copy per distinct domain).
// Memory is about 8 bytes per event for W2, plus the distinct recipients,
// domains and groups, plus the staging buffers (64 MiB, or as much as the
// interned recipients; a batch that would overflow them drains them first). Optionally each batch is ingested by several
// threads: for W2 they stage contiguous row ranges and intern disjoint sets
// of buckets; for W3 alone each counts a contiguous row range into its own
// groups, merged by Finish().
//
// Limits: at most 2^32 - 1 rows per accumulator, and 2^29 distinct campaign
// ids with W2 (2^30 per ingest thread for W3 alone); ResourceExhausted
// beyond.

#ifndef BOUNCEKIT_HISTORY_H_
#define BOUNCEKIT_HISTORY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "bouncekit/column.h"

namespace bouncekit {

// What an event's `bounce_class` says, as the history engine sees it. Every
// string other than the four class names is kOther (it counts in W3's `sent`
// and in W2's event numbers, and changes nothing else).
enum class EventClass : uint8_t {
  kOther = 0,
  kDelivered = 1,
  kSoft = 2,
  kHard = 3,
  kBlock = 4,
};
inline constexpr int kNumEventClasses = 5;

// "delivered", "soft", "hard", "block" (exact bytes) -> that class; anything
// else -> kOther.
EventClass ParseEventClass(absl::string_view bounce_class);
// The name of a class ("other" for kOther).
absl::string_view EventClassName(EventClass c);

// A view of an Arrow int64 column (values + optional validity bitmap).
struct Int64ColumnView {
  const int64_t* values = nullptr;
  const uint8_t* validity = nullptr;  // nullptr: no nulls
  int64_t offset = 0;                 // Arrow array offset, in elements
  int64_t length = 0;

  bool IsNull(int64_t i) const {
    return validity != nullptr && !ArrowBitIsSet(validity, offset + i);
  }
  int64_t Get(int64_t i) const { return values[offset + i]; }
};

// One batch of events. Every column has `num_rows` rows. A null recipient or
// bounce_class reads as ''; a null campaign_id or ts is an error.
struct HistoryBatch {
  int64_t num_rows = 0;
  StringColumn recipient;
  Int64ColumnView campaign_id;
  Int64ColumnView ts;  // epoch seconds
  // The class of each row, either as strings...
  StringColumn bounce_class;
  // ...or, when this span is not empty, as EventClass values (one per row;
  // values above kBlock are an error). Lets callers map a dictionary-encoded
  // column once per distinct value instead of once per row.
  absl::Span<const uint8_t> bounce_class_codes;
};

// A suppression policy for W2. `standard` (SPEC.md section 3): suppress at
// the first hard bounce; or at a soft bounce after which the soft bounces
// since the last delivery span >= 3 distinct campaigns (streak), or the soft
// bounces of the last 30 days span >= 3 distinct campaigns (window).
struct SuppressionPolicy {
  std::string name = "standard";
  // The window holds the soft events with t - window_seconds < ts_i <= t.
  int64_t window_seconds = 30 * 86400;
  int streak_campaigns = 3;  // distinct campaigns that make a streak
  int window_campaigns = 3;  // distinct campaigns that fill the window
  // Largest accepted threshold (the per-recipient state is fixed-size).
  static constexpr int kMaxCampaigns = 16;

  // InvalidArgument when a field is out of range.
  absl::Status Validate() const;
};

// The built-in policies by name ("standard"); NotFound for other names.
absl::StatusOr<SuppressionPolicy> SuppressionPolicyByName(absl::string_view name);
// Names accepted by SuppressionPolicyByName, in documentation order.
std::vector<std::string> SuppressionPolicyNames();

enum class SuppressionReason : uint8_t {
  kHardBounce = 0,
  kSoftStreak = 1,
  kSoftWindow = 2,
};
inline constexpr int kNumSuppressionReasons = 3;
// "hard_bounce", "soft_streak", "soft_window".
absl::string_view SuppressionReasonName(SuppressionReason r);

// W2 output: one row per suppressed recipient, sorted by recipient bytes.
// Recipients are stored like an Arrow large_string array.
struct SuppressionTable {
  std::vector<int64_t> recipient_offsets;  // size() + 1 entries
  std::string recipient_data;
  std::vector<uint8_t> reason;              // SuppressionReason
  std::vector<int64_t> suppressed_at;       // ts of the suppressing event
  std::vector<int64_t> event_count_seen;    // its 1-based number

  int64_t size() const { return static_cast<int64_t>(reason.size()); }
  absl::string_view recipient(int64_t i) const {
    return absl::string_view(recipient_data.data() + recipient_offsets[i],
                             static_cast<size_t>(recipient_offsets[i + 1] - recipient_offsets[i]));
  }
};

// W3 output: one row per (campaign_id, domain), sorted by campaign_id then
// domain bytes. Domains are a dictionary sorted by bytes (so `domain` indices
// ascend with the domain), stored like an Arrow large_string array.
struct AggregateTable {
  std::vector<int64_t> campaign_id;
  std::vector<int32_t> domain;  // index into the domain dictionary
  std::vector<int64_t> domain_offsets;  // dictionary size + 1 entries
  std::string domain_data;
  std::vector<int64_t> sent, delivered, soft, hard, block;
  std::vector<double> hard_rate, soft_rate, block_rate;  // count / sent
  // 20*hard > sent, 10*soft > sent, 20*block > sent (exact integer tests).
  std::vector<uint8_t> hard_flag, soft_flag, block_flag;

  int64_t size() const { return static_cast<int64_t>(campaign_id.size()); }
  int64_t num_domains() const { return static_cast<int64_t>(domain_offsets.size()) - 1; }
  absl::string_view domain_name(int32_t d) const {
    return absl::string_view(domain_data.data() + domain_offsets[d],
                             static_cast<size_t>(domain_offsets[d + 1] - domain_offsets[d]));
  }
};

struct HistoryResult {
  SuppressionTable suppressions;  // empty unless HistoryOptions::suppressions
  AggregateTable aggregates;      // empty unless HistoryOptions::aggregates
  int64_t rows = 0;               // events added
  int64_t recipients = 0;         // distinct recipients among them; -1 when only
                                  // aggregates were computed (recipients are not kept)
};

// The tables as CSV files, with the columns and text of write_csv on the
// tables Python builds from them (spec conventions: floats with
// `float_digits` digits after the point, flags as 1/0). Written under a
// temporary name and renamed when complete; `durable` fsyncs first.
absl::Status WriteSuppressionsCsv(const SuppressionTable& table, absl::string_view path, bool durable = false);
absl::Status WriteAggregatesCsv(const AggregateTable& table, absl::string_view path, int float_digits = 12,
                                bool durable = false);

struct HistoryOptions {
  bool suppressions = true;  // compute W2 (keeps ~8 bytes per event until Finish)
  bool aggregates = true;    // compute W3
  SuppressionPolicy policy;
  // Threads that ingest each batch (1, 2, 4 or 8; other values are rounded
  // down); they share nothing. Results do not depend on it.
  int ingest_threads = 1;
  // W2: rows are staged (copied by recipient bucket) and interned once
  // this many bytes are staged; 0 picks the default (64 MiB, or the size of
  // the interned recipients when larger). Results do not depend on it;
  // tests set it small so that staging and interning alternate often.
  int64_t staging_bytes = 0;
};

// The domain of a recipient for W3: the bytes after its last '@', with ASCII
// letters lower-cased; '' when there is no '@'. Appends to *out.
void AppendRecipientDomain(absl::string_view recipient, std::string* out);

class HistoryAccumulator {
 public:
  ~HistoryAccumulator();
  HistoryAccumulator(const HistoryAccumulator&) = delete;
  HistoryAccumulator& operator=(const HistoryAccumulator&) = delete;

  // InvalidArgument for a bad policy or when neither workload is asked for.
  static absl::StatusOr<std::unique_ptr<HistoryAccumulator>> Create(const HistoryOptions& options);

  // Adds the next `batch.num_rows` input rows. Errors (a null campaign_id or
  // ts, columns of the wrong length, a bad class code) name the input row
  // and column, and leave the accumulator as it was. ResourceExhausted when
  // a limit is passed; the accumulator is then unusable.
  absl::Status Add(const HistoryBatch& batch);

  // Computes the results on up to `threads` threads (results do not depend
  // on it) and releases the accumulated events. Only once: a second call,
  // or an Add() after it, is FailedPrecondition.
  absl::StatusOr<HistoryResult> Finish(int threads = 1);

  const HistoryOptions& options() const;
  int64_t rows_seen() const;
  // Distinct recipients so far (0 when only aggregates are computed).
  int64_t num_recipients() const;
  // Bytes held by the accumulator's own buffers (approximate).
  int64_t MemoryUsage() const;

  class Impl;

 private:
  explicit HistoryAccumulator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bouncekit

#endif  // BOUNCEKIT_HISTORY_H_
