// Copyright 2026 The bouncekit authors.
//
// The policy engine's private state (shared by policy.cc and the state
// file code in policy_state.cc).

#ifndef BOUNCEKIT_SRC_POLICY_INTERNAL_H_
#define BOUNCEKIT_SRC_POLICY_INTERNAL_H_

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "bouncekit/policy.h"

namespace bouncekit {
namespace internal {

// A buffered input event.
struct Event {
  uint32_t recipient = 0;
  uint8_t klass = 0;
  uint8_t flags = 0;
  int64_t ts = 0;
  int64_t campaign_id = 0;
  int64_t row = 0;
};

// An event kept in a recipient's state (counted soft, hard, complaint, or a
// held-back greylisting deferral).
struct CountedEvent {
  int64_t row = 0;
  int64_t ts = 0;
  int64_t campaign_id = 0;
  uint64_t seq = 0;  // 1-based number among counted events of its kind
  uint8_t klass = 0;
  uint8_t flags = 0;
};

struct RecipientState {
  int64_t events = 0;
  int64_t by_class[kNumPolicyClasses] = {0, 0, 0, 0, 0, 0};
  int64_t mailbox_full = 0;
  int64_t first_ts = 0;
  int64_t last_ts = std::numeric_limits<int64_t>::min();
  int64_t last_delivered = std::numeric_limits<int64_t>::min();
  int64_t last_counted_soft = std::numeric_limits<int64_t>::min();
  uint64_t soft_seq = 0, hard_seq = 0, complaint_seq = 0;
  uint64_t streak_from_seq = 0;  // soft_seq at the last delivery
  uint8_t engaged = 0;
  std::vector<CountedEvent> softs, hards, complaints, pending;
  std::vector<uint64_t> rule_since;  // per rule: counted entries up to this seq are spent
  // The current decision.
  uint8_t action = 0;  // PolicyAction
  int32_t rule = -1;
  int64_t decided_at = 0;
  int64_t until = 0;
  int64_t event_number = 0;
  int32_t decisions = 0;
  std::vector<EvidenceEvent> evidence;

  int32_t SoftStreak() const;
};

// Applies a policy to one recipient's events, one at a time.
class Walker {
 public:
  explicit Walker(const Policy& p);
  void Step(RecipientState* s, const Event& e);

 private:
  void CountSoftEvent(RecipientState* s, const CountedEvent& e);
  void EvaluateSoft(RecipientState* s, int64_t t);
  void EvaluateOther(RecipientState* s, RuleKind kind, int64_t t);
  void Decide(RecipientState* s, int rule_index, int64_t t, std::vector<EvidenceEvent> evidence);
  void Prune(RecipientState* s, int64_t t);

  const Policy& policy_;
  int64_t max_window_ = 0;
  bool any_distinct_ = false;
};

}  // namespace internal

class PolicyEngine::Impl {
 public:
  explicit Impl(const Policy& p);
  uint32_t Intern(absl::string_view r);
  absl::Status Add(const PolicyBatch& b);
  absl::Status Run();
  std::vector<uint32_t> SortedIds(bool decided_only) const;
  void AppendDecision(uint32_t i, DecisionTable* t) const;
  RecipientFeatures FeaturesFor(const std::vector<uint32_t>& ids) const;

  Policy policy;
  internal::Walker walker;
  InputSummary summary;
  absl::flat_hash_map<std::string, uint32_t> index;
  std::vector<std::string> names;
  std::vector<internal::RecipientState> states;
  std::vector<internal::Event> pending;
};

}  // namespace bouncekit

#endif  // BOUNCEKIT_SRC_POLICY_INTERNAL_H_
