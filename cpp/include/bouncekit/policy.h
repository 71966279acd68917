// Copyright 2026 The bouncekit authors.
//
// Declarative suppression policies and the engine that applies them to a
// bounce history, incrementally (state can be saved and resumed).
//
// A Policy is data: a list of rules, each with a kind, a threshold and an
// action, plus a few policy-wide switches. It is built by hand, from a
// configuration tree (PolicyFromConfig: TOML via ParseToml, or a dict/YAML
// document converted by the Python binding) and validated with errors that
// name the offending field ("rules[2].window_days").
//
// Rule kinds (per recipient; events walked in (ts, input row) order):
//   hard         `count` hard bounces (recipient-blame only unless
//                blame = "any"; a sender-blame hard never counts)
//   complaint    `count` complaints (feedback-loop reports)
//   soft_streak  `count` soft bounces since the last delivery
//   soft_window  `count` soft bounces with t - window < ts <= t
//   soft_total   `count` soft bounces ever (no window, no reset)
// Soft counting: `distinct_campaigns` counts campaigns instead of events;
// `count_engaged` replaces `count` once the recipient has engaged (an event
// with the engaged flag); the policy's `min_spacing_seconds` ignores a soft
// bounce closer than that to the previous counted one; with
// `greylist_exempt`, a greylisting deferral is held back and counts only if
// no delivery of its campaign arrives within `greylist_grace_seconds` (it is
// counted at the recipient's first later event past the grace period).
// Blocks (sender blame) never count for any rule.
//
// Actions: suppress (final: later events are counted but decide nothing),
// pause (until decision time + pause_seconds; the rule's counter restarts),
// monitor (recorded; the rule's counter restarts; it never replaces a pause
// still in force). When several rules hold
// at one event, the first in policy order wins.

#ifndef BOUNCEKIT_POLICY_H_
#define BOUNCEKIT_POLICY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "bouncekit/column.h"
#include "bouncekit/config.h"
#include "bouncekit/history.h"

namespace bouncekit {

// The class of an event for the policy engine.
enum class PolicyClass : uint8_t {
  kOther = 0,  // neither counts nor resets (e.g. "unknown")
  kDelivered = 1,
  kSoft = 2,
  kHard = 3,
  kBlock = 4,
  kComplaint = 5,
};
inline constexpr int kNumPolicyClasses = 6;
// A class code marking a row as invalid (skipped; counted in the summary).
inline constexpr uint8_t kInvalidClassCode = 255;
absl::string_view PolicyClassName(PolicyClass c);

// Per-event flags (a bit set).
inline constexpr uint8_t kFlagGreylist = 1;     // a greylisting deferral
inline constexpr uint8_t kFlagSenderBlame = 2;  // the sender's fault (never the address's)
inline constexpr uint8_t kFlagEngaged = 4;      // the recipient opened/clicked
inline constexpr uint8_t kFlagMailboxFull = 8;  // a full-mailbox reply

enum class RuleKind : uint8_t { kHard, kComplaint, kSoftStreak, kSoftWindow, kSoftTotal };
enum class PolicyAction : uint8_t { kNone = 0, kMonitor = 1, kPause = 2, kSuppress = 3 };
absl::string_view RuleKindName(RuleKind k);
absl::string_view PolicyActionName(PolicyAction a);

struct PolicyRule {
  std::string name;  // reported as the decision's rule; defaults to the kind
  RuleKind kind = RuleKind::kHard;
  PolicyAction action = PolicyAction::kSuppress;
  int count = 1;
  int count_engaged = 0;            // 0: same as count
  bool distinct_campaigns = false;  // soft rules: count campaigns
  int64_t window_seconds = 0;       // soft_window only (> 0)
  int64_t pause_seconds = 0;        // pause only (> 0)
  bool any_blame = false;           // hard only: sender-blame hards count too
};

struct Policy {
  std::string name;
  std::string description;
  std::string source;  // where the thresholds come from
  std::vector<PolicyRule> rules;
  int64_t min_spacing_seconds = 0;
  bool greylist_exempt = false;
  int64_t greylist_grace_seconds = 3 * 86400;

  static constexpr int kMaxCount = 64;
  static constexpr int kMaxRules = 32;

  // InvalidArgument naming the field ("rules[1].count") when out of range.
  absl::Status Validate() const;
  // A canonical one-line text of every semantic field (stored in state files
  // so that a state is only resumed with the same policy).
  std::string Fingerprint() const;
};

// Builds a policy from a configuration table:
//   name = "seeds"  description = "..."  source = "..."
//   min_spacing_hours = 24   greylist_exempt = true   greylist_grace_hours = 72
//   [[rules]]
//   kind = "soft_window"  count = 3  window_days = 30  distinct_campaigns = true
//   action = "suppress" | "pause" | "monitor"   pause_days = 7
//   count_engaged = 15   blame = "recipient" | "any"   name = "..."
// Unknown keys, kinds and actions, wrong types and bad ranges are errors
// naming the field (and the line, for TOML).
absl::StatusOr<Policy> PolicyFromConfig(const ConfigValue& doc, absl::string_view source = "");
absl::StatusOr<Policy> ParsePolicyToml(absl::string_view text, absl::string_view source = "");
// SPEC.md W2 as a declarative policy (same decisions as the W2 fast path).
Policy StandardPolicy();

// One batch of events for the engine. Rows with an empty/null recipient, a
// null campaign_id or ts, or class code kInvalidClassCode are skipped and
// counted in the summary.
struct PolicyBatch {
  int64_t num_rows = 0;
  StringColumn recipient;
  Int64ColumnView campaign_id;
  Int64ColumnView ts;
  absl::Span<const uint8_t> klass;  // PolicyClass values (or kInvalidClassCode)
  absl::Span<const uint8_t> flags;  // optional (empty: no flags)
};

// Why rows were skipped.
enum class SkipReason : uint8_t { kEmptyRecipient = 0, kNullCampaign = 1, kNullTs = 2, kBadClass = 3 };
inline constexpr int kNumSkipReasons = 4;
absl::string_view SkipReasonName(SkipReason r);

struct InputSummary {
  int64_t rows = 0;  // all rows added, over every run
  int64_t used = 0;
  int64_t skipped[kNumSkipReasons] = {0, 0, 0, 0};
  // Used rows older than the recipient's last event of an earlier run
  // (processed in arrival order, so a resumed run can differ from one run).
  int64_t late = 0;
  int64_t by_class[kNumPolicyClasses] = {0, 0, 0, 0, 0, 0};
  int64_t greylist_pending = 0;  // held-back deferrals still waiting (now)
};

// An event that made a decision.
struct EvidenceEvent {
  int64_t row = 0;  // global input row number
  int64_t ts = 0;
  int64_t campaign_id = 0;
  uint8_t klass = 0;  // PolicyClass
};

// The current decision for every decided recipient, sorted by recipient.
struct DecisionTable {
  std::vector<std::string> recipient;
  std::vector<uint8_t> action;      // PolicyAction
  std::vector<int32_t> rule;        // index into the policy's rules
  std::vector<int64_t> decided_at;  // ts of the deciding event
  std::vector<int64_t> until;       // pause end (0 otherwise)
  std::vector<int64_t> event_number;  // 1-based, all events of the recipient counted
  std::vector<int32_t> decisions;   // how many decisions the recipient has had
  std::vector<std::vector<EvidenceEvent>> evidence;
  int64_t size() const { return static_cast<int64_t>(recipient.size()); }
};

// Per-recipient counters for risk scoring (every recipient seen).
struct RecipientFeatures {
  std::vector<std::string> recipient;
  std::vector<int64_t> events, delivered, soft, hard, block, complaint, mailbox_full;
  std::vector<int32_t> soft_streak;  // counted soft bounces since the last delivery
  std::vector<int64_t> first_ts, last_ts, last_delivered;  // last_delivered: INT64_MIN if never
  std::vector<uint8_t> engaged;
  std::vector<uint8_t> action;  // current PolicyAction
  int64_t size() const { return static_cast<int64_t>(recipient.size()); }
};

class PolicyEngine {
 public:
  ~PolicyEngine();
  PolicyEngine(const PolicyEngine&) = delete;
  PolicyEngine& operator=(const PolicyEngine&) = delete;

  static absl::StatusOr<std::unique_ptr<PolicyEngine>> Create(const Policy& policy);

  // Buffers the next rows (numbered on from the rows of earlier runs).
  // Errors name the column; the engine is then unchanged.
  absl::Status Add(const PolicyBatch& batch);
  // Walks the buffered events into the per-recipient state and empties the
  // buffer. Processing day 1..n with Run() after each day gives the same
  // state as adding everything and running once, when each day's events are
  // not older than the previous days' events of the same recipient.
  absl::Status Run();

  const Policy& policy() const;
  const InputSummary& summary() const;
  int64_t num_recipients() const;
  DecisionTable Decisions() const;
  RecipientFeatures Features() const;
  // One recipient's features (NotFound if unseen).
  absl::StatusOr<RecipientFeatures> FeaturesOf(absl::string_view recipient) const;
  // One recipient's decision (size 0 or 1) and features; NotFound if unseen.
  absl::StatusOr<DecisionTable> DecisionOf(absl::string_view recipient) const;

  // The state (policy fingerprint, summary, every recipient) as bytes in the
  // versioned format below, and back. Buffered, unrun events are refused.
  absl::StatusOr<std::string> SerializeState() const;
  static absl::StatusOr<std::unique_ptr<PolicyEngine>> FromState(const Policy& policy, absl::string_view bytes);
  // Atomic save: a temporary file in the same folder, fsync, rename, fsync
  // of the folder. A crash leaves the previous file intact.
  absl::Status SaveState(const std::string& path) const;
  static absl::StatusOr<std::unique_ptr<PolicyEngine>> LoadState(const Policy& policy, const std::string& path);

  // State format: "BKPSTATE" magic, uint32 version (kStateVersion), uint64
  // payload length, uint64 FNV-1a of the payload, payload. Other versions are
  // refused (FailedPrecondition), damaged files are DataLoss.
  static constexpr uint32_t kStateVersion = 1;

  class Impl;

 private:
  explicit PolicyEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bouncekit

#endif  // BOUNCEKIT_POLICY_H_
