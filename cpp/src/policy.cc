// Copyright 2026 The bouncekit authors.
//
// Declarative policies: validation, reading from a configuration tree, and
// the engine that walks each recipient's events (see policy.h).

#include "bouncekit/policy.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "bouncekit/error_location.h"
#include "policy_internal.h"

namespace bouncekit {

absl::string_view PolicyClassName(PolicyClass c) {
  switch (c) {
    case PolicyClass::kDelivered: return "delivered";
    case PolicyClass::kSoft: return "soft";
    case PolicyClass::kHard: return "hard";
    case PolicyClass::kBlock: return "block";
    case PolicyClass::kComplaint: return "complaint";
    case PolicyClass::kOther: break;
  }
  return "other";
}

absl::string_view RuleKindName(RuleKind k) {
  switch (k) {
    case RuleKind::kHard: return "hard";
    case RuleKind::kComplaint: return "complaint";
    case RuleKind::kSoftStreak: return "soft_streak";
    case RuleKind::kSoftWindow: return "soft_window";
    case RuleKind::kSoftTotal: return "soft_total";
  }
  return "unknown";
}

absl::string_view PolicyActionName(PolicyAction a) {
  switch (a) {
    case PolicyAction::kNone: return "none";
    case PolicyAction::kMonitor: return "monitor";
    case PolicyAction::kPause: return "pause";
    case PolicyAction::kSuppress: return "suppress";
  }
  return "unknown";
}

absl::string_view SkipReasonName(SkipReason r) {
  switch (r) {
    case SkipReason::kEmptyRecipient: return "empty_recipient";
    case SkipReason::kNullCampaign: return "null_campaign_id";
    case SkipReason::kNullTs: return "null_ts";
    case SkipReason::kBadClass: return "unrecognized_class";
  }
  return "unknown";
}

// ------------------------------------------------------------- validation

namespace {

absl::Status FieldError(absl::string_view field, absl::string_view message) {
  return WithField(absl::InvalidArgumentError(absl::StrCat(field, ": ", message)), field);
}

bool IsSoftKind(RuleKind k) {
  return k == RuleKind::kSoftStreak || k == RuleKind::kSoftWindow || k == RuleKind::kSoftTotal;
}

}  // namespace

absl::Status Policy::Validate() const {
  if (rules.empty()) return FieldError("rules", absl::StrCat("policy '", name, "' has no rules"));
  if (static_cast<int>(rules.size()) > kMaxRules) {
    return FieldError("rules", absl::StrCat("at most ", kMaxRules, " rules, not ", rules.size()));
  }
  if (min_spacing_seconds < 0) {
    return FieldError("min_spacing_hours", absl::StrCat("must not be negative (got ", min_spacing_seconds, " s)"));
  }
  if (greylist_grace_seconds <= 0) {
    return FieldError("greylist_grace_hours", absl::StrCat("must be positive (got ", greylist_grace_seconds, " s)"));
  }
  for (size_t i = 0; i < rules.size(); ++i) {
    const PolicyRule& r = rules[i];
    const std::string at = absl::StrCat("rules[", i, "]");
    if (r.count < 1 || r.count > kMaxCount) {
      return FieldError(at + ".count", absl::StrCat("must be in 1..", kMaxCount, ", not ", r.count));
    }
    if (r.count_engaged != 0 && (r.count_engaged < 1 || r.count_engaged > kMaxCount)) {
      return FieldError(at + ".count_engaged", absl::StrCat("must be in 1..", kMaxCount, ", not ", r.count_engaged));
    }
    if (r.kind == RuleKind::kSoftWindow) {
      if (r.window_seconds <= 0) {
        return FieldError(at + ".window_days",
                          absl::StrCat("a soft_window rule needs a positive window (got ", r.window_seconds, " s)"));
      }
    } else if (r.window_seconds != 0) {
      return FieldError(at + ".window_days", absl::StrCat("only soft_window rules have a window (this rule is ",
                                                          RuleKindName(r.kind), ")"));
    }
    if (r.action == PolicyAction::kNone) return FieldError(at + ".action", "no action");
    if (r.action == PolicyAction::kPause) {
      if (r.pause_seconds <= 0) {
        return FieldError(at + ".pause_days", absl::StrCat("a pause needs a positive length (got ", r.pause_seconds, " s)"));
      }
    } else if (r.pause_seconds != 0) {
      return FieldError(at + ".pause_days", "only 'pause' actions have a length");
    }
    if (r.any_blame && r.kind != RuleKind::kHard) return FieldError(at + ".blame", "only hard rules take 'blame'");
    if (r.distinct_campaigns && !IsSoftKind(r.kind)) {
      return FieldError(at + ".distinct_campaigns", "only soft rules count distinct campaigns");
    }
    if (r.count_engaged != 0 && !IsSoftKind(r.kind)) {
      return FieldError(at + ".count_engaged", "only soft rules have an engaged threshold");
    }
  }
  return absl::OkStatus();
}

std::string Policy::Fingerprint() const {
  std::string s = absl::StrCat("v1;spacing=", min_spacing_seconds, ";grey=", greylist_exempt ? 1 : 0, ";grace=",
                               greylist_grace_seconds);
  for (const PolicyRule& r : rules) {
    absl::StrAppend(&s, ";", r.name, ":", RuleKindName(r.kind), ":", PolicyActionName(r.action), ":", r.count, ":",
                    r.count_engaged, ":", r.distinct_campaigns ? 1 : 0, ":", r.window_seconds, ":", r.pause_seconds,
                    ":", r.any_blame ? 1 : 0);
  }
  return s;
}

Policy StandardPolicy() {
  Policy p;
  p.name = "standard";
  p.description = "SPEC.md W2: first hard bounce; 3 distinct campaigns soft-bouncing since the last delivery, "
                  "or within 30 days";
  p.source = "../shared/bench/SPEC.md section 3";
  PolicyRule hard;
  hard.name = "hard_bounce";
  hard.kind = RuleKind::kHard;
  hard.any_blame = true;
  PolicyRule streak;
  streak.name = "soft_streak";
  streak.kind = RuleKind::kSoftStreak;
  streak.count = 3;
  streak.distinct_campaigns = true;
  PolicyRule window = streak;
  window.name = "soft_window";
  window.kind = RuleKind::kSoftWindow;
  window.window_seconds = 30 * 86400;
  p.rules = {hard, streak, window};
  return p;
}

// ------------------------------------------------------ reading from config

namespace {

class ConfigReader {
 public:
  explicit ConfigReader(absl::string_view source) : source_(source) {}

  absl::Status Fail(const ConfigValue& at, absl::string_view field, absl::string_view message) {
    std::string where;
    if (!source_.empty()) absl::StrAppend(&where, source_, ":");
    if (at.line() > 0) absl::StrAppend(&where, at.line(), ":", at.column(), ":");
    if (!where.empty()) absl::StrAppend(&where, " ");
    absl::Status st = absl::InvalidArgumentError(absl::StrCat(where, field, ": ", message));
    if (at.line() > 0) st = WithTextPosition(std::move(st), at.line(), at.column());
    st = WithField(std::move(st), field);
    if (!source_.empty()) st = WithSource(std::move(st), source_);
    return st;
  }

  absl::StatusOr<std::string> String(const ConfigValue& v, absl::string_view field) {
    if (!v.is_string()) return Fail(v, field, absl::StrCat("expected a string, got ", v.TypeName()));
    return v.string_value();
  }
  absl::StatusOr<bool> Bool(const ConfigValue& v, absl::string_view field) {
    if (!v.is_bool()) return Fail(v, field, absl::StrCat("expected true or false, got ", v.TypeName()));
    return v.bool_value();
  }
  absl::StatusOr<int> Count(const ConfigValue& v, absl::string_view field) {
    if (!v.is_int()) return Fail(v, field, absl::StrCat("expected an integer, got ", v.TypeName()));
    if (v.int_value() < 1 || v.int_value() > Policy::kMaxCount) {
      return Fail(v, field, absl::StrCat("must be in 1..", Policy::kMaxCount, ", not ", v.int_value()));
    }
    return static_cast<int>(v.int_value());
  }
  // A duration in `unit_seconds` units (integer or float) -> whole seconds.
  absl::StatusOr<int64_t> Duration(const ConfigValue& v, absl::string_view field, double unit_seconds,
                                   bool allow_zero) {
    if (!v.is_number()) return Fail(v, field, absl::StrCat("expected a number, got ", v.TypeName()));
    const double x = v.number_value();
    if (!std::isfinite(x)) return Fail(v, field, "must be finite");
    if (x < 0) return Fail(v, field, absl::StrCat("must not be negative (got ", x, ")"));
    if (!allow_zero && x == 0) return Fail(v, field, "must be positive (got 0)");
    const double s = std::round(x * unit_seconds);
    if (s > 1e15) return Fail(v, field, absl::StrCat("too large (", x, ")"));
    return static_cast<int64_t>(s);
  }

  absl::StatusOr<PolicyRule> Rule(const ConfigValue& t, size_t index) {
    const std::string at = absl::StrCat("rules[", index, "]");
    if (!t.is_table()) return Fail(t, at, absl::StrCat("expected a table, got ", t.TypeName()));
    PolicyRule r;
    const ConfigValue* kind = t.Find("kind");
    if (kind == nullptr) return Fail(t, at + ".kind", "missing (hard, complaint, soft_streak, soft_window, soft_total)");
    absl::StatusOr<std::string> k = String(*kind, at + ".kind");
    if (!k.ok()) return k.status();
    if (*k == "hard") r.kind = RuleKind::kHard;
    else if (*k == "complaint") r.kind = RuleKind::kComplaint;
    else if (*k == "soft_streak") r.kind = RuleKind::kSoftStreak;
    else if (*k == "soft_window") r.kind = RuleKind::kSoftWindow;
    else if (*k == "soft_total") r.kind = RuleKind::kSoftTotal;
    else {
      return Fail(*kind, at + ".kind", absl::StrCat("unknown rule kind '", *k,
                                                    "' (known: hard, complaint, soft_streak, soft_window, soft_total)"));
    }
    r.name = *k;
    for (const auto& [key, v] : t.entries()) {
      const std::string f = absl::StrCat(at, ".", key);
      if (key == "kind") continue;
      if (key == "name") {
        absl::StatusOr<std::string> s = String(v, f);
        if (!s.ok()) return s.status();
        if (s->empty()) return Fail(v, f, "must not be empty");
        r.name = *s;
      } else if (key == "action") {
        absl::StatusOr<std::string> s = String(v, f);
        if (!s.ok()) return s.status();
        if (*s == "suppress") r.action = PolicyAction::kSuppress;
        else if (*s == "pause") r.action = PolicyAction::kPause;
        else if (*s == "monitor") r.action = PolicyAction::kMonitor;
        else return Fail(v, f, absl::StrCat("unknown action '", *s, "' (known: suppress, pause, monitor)"));
      } else if (key == "count") {
        absl::StatusOr<int> c = Count(v, f);
        if (!c.ok()) return c.status();
        r.count = *c;
      } else if (key == "count_engaged") {
        absl::StatusOr<int> c = Count(v, f);
        if (!c.ok()) return c.status();
        r.count_engaged = *c;
      } else if (key == "distinct_campaigns") {
        absl::StatusOr<bool> b = Bool(v, f);
        if (!b.ok()) return b.status();
        r.distinct_campaigns = *b;
      } else if (key == "window_days" || key == "window_hours") {
        absl::StatusOr<int64_t> d = Duration(v, f, key == "window_days" ? 86400.0 : 3600.0, false);
        if (!d.ok()) return d.status();
        r.window_seconds = *d;
      } else if (key == "pause_days" || key == "pause_hours") {
        absl::StatusOr<int64_t> d = Duration(v, f, key == "pause_days" ? 86400.0 : 3600.0, false);
        if (!d.ok()) return d.status();
        r.pause_seconds = *d;
      } else if (key == "blame") {
        absl::StatusOr<std::string> s = String(v, f);
        if (!s.ok()) return s.status();
        if (*s == "any") r.any_blame = true;
        else if (*s == "recipient") r.any_blame = false;
        else return Fail(v, f, absl::StrCat("unknown blame '", *s, "' (known: recipient, any)"));
      } else {
        return Fail(v, f,
                    absl::StrCat("unknown rule field '", key,
                                 "' (known: kind, name, action, count, count_engaged, distinct_campaigns, "
                                 "window_days, window_hours, pause_days, pause_hours, blame)"));
      }
    }
    return r;
  }

  absl::StatusOr<Policy> Read(const ConfigValue& doc) {
    if (!doc.is_table()) return Fail(doc, "policy", absl::StrCat("expected a table, got ", doc.TypeName()));
    Policy p;
    const ConfigValue* rules = nullptr;
    for (const auto& [key, v] : doc.entries()) {
      if (key == "name" || key == "description" || key == "source") {
        absl::StatusOr<std::string> s = String(v, key);
        if (!s.ok()) return s.status();
        (key == "name" ? p.name : key == "description" ? p.description : p.source) = *s;
      } else if (key == "min_spacing_hours") {
        absl::StatusOr<int64_t> d = Duration(v, key, 3600.0, true);
        if (!d.ok()) return d.status();
        p.min_spacing_seconds = *d;
      } else if (key == "greylist_exempt") {
        absl::StatusOr<bool> b = Bool(v, key);
        if (!b.ok()) return b.status();
        p.greylist_exempt = *b;
      } else if (key == "greylist_grace_hours") {
        absl::StatusOr<int64_t> d = Duration(v, key, 3600.0, false);
        if (!d.ok()) return d.status();
        p.greylist_grace_seconds = *d;
      } else if (key == "rules") {
        rules = &v;
      } else {
        return Fail(v, key,
                    absl::StrCat("unknown policy field '", key,
                                 "' (known: name, description, source, min_spacing_hours, greylist_exempt, "
                                 "greylist_grace_hours, rules)"));
      }
    }
    if (rules == nullptr) return Fail(doc, "rules", "missing: a policy needs at least one [[rules]] table");
    if (!rules->is_array()) return Fail(*rules, "rules", absl::StrCat("expected an array of tables, got ", rules->TypeName()));
    if (rules->items().empty()) return Fail(*rules, "rules", "a policy needs at least one rule");
    if (static_cast<int>(rules->items().size()) > Policy::kMaxRules) {
      return Fail(*rules, "rules", absl::StrCat("at most ", Policy::kMaxRules, " rules"));
    }
    for (size_t i = 0; i < rules->items().size(); ++i) {
      absl::StatusOr<PolicyRule> r = Rule(rules->items()[i], i);
      if (!r.ok()) return r.status();
      p.rules.push_back(*std::move(r));
    }
    absl::Status st = p.Validate();
    if (!st.ok()) {
      ErrorLocation loc = GetErrorLocation(st);
      // Point at the rule's table when the check is a cross-field one.
      const ConfigValue* at = &doc;
      if (loc.field && absl::StartsWith(*loc.field, "rules[")) {
        const size_t i = static_cast<size_t>(std::atoi(loc.field->c_str() + 6));
        if (i < rules->items().size()) at = &rules->items()[i];
      }
      return Fail(*at, loc.field.value_or("policy"), st.message());
    }
    return p;
  }

 private:
  std::string source_;
};

}  // namespace

absl::StatusOr<Policy> PolicyFromConfig(const ConfigValue& doc, absl::string_view source) {
  ConfigReader reader(source);
  return reader.Read(doc);
}

absl::StatusOr<Policy> ParsePolicyToml(absl::string_view text, absl::string_view source) {
  absl::StatusOr<ConfigValue> doc = ParseToml(text, source);
  if (!doc.ok()) return doc.status();
  return PolicyFromConfig(*doc, source);
}

// ------------------------------------------------------------------ engine

namespace internal {

namespace {

// How many counted entries (of one rule's kind) satisfy the rule now, and
// their evidence. Entries are in processing order.
int CountSoft(const PolicyRule& rule, const RecipientState& s, uint64_t since, int64_t t,
              std::vector<EvidenceEvent>* evidence) {
  uint64_t from = since;
  if (rule.kind == RuleKind::kSoftStreak) from = std::max(from, s.streak_from_seq);
  int64_t cutoff = std::numeric_limits<int64_t>::min();
  if (rule.kind == RuleKind::kSoftWindow && __builtin_sub_overflow(t, rule.window_seconds, &cutoff)) {
    cutoff = std::numeric_limits<int64_t>::min();
  }
  int n = 0;
  absl::flat_hash_set<int64_t> campaigns;
  if (evidence != nullptr) evidence->clear();
  for (const CountedEvent& e : s.softs) {
    if (e.seq <= from) continue;
    if (rule.kind == RuleKind::kSoftWindow && !(e.ts > cutoff && e.ts <= t)) continue;
    if (rule.distinct_campaigns) {
      if (!campaigns.insert(e.campaign_id).second) {
        if (evidence != nullptr) evidence->push_back({e.row, e.ts, e.campaign_id, e.klass});
        continue;
      }
    }
    ++n;
    if (evidence != nullptr) evidence->push_back({e.row, e.ts, e.campaign_id, e.klass});
  }
  return n;
}

}  // namespace

void Walker::Decide(RecipientState* s, int rule_index, int64_t t, std::vector<EvidenceEvent> evidence) {
  const PolicyRule& r = policy_.rules[static_cast<size_t>(rule_index)];
  const bool soft = IsSoftKind(r.kind);
  const uint64_t spent = soft ? s->soft_seq : (r.kind == RuleKind::kHard ? s->hard_seq : s->complaint_seq);
  if (r.action == PolicyAction::kMonitor && s->action == static_cast<uint8_t>(PolicyAction::kPause) && t < s->until) {
    // A monitor never downgrades a pause in force; its counter restarts.
    s->rule_since.resize(policy_.rules.size(), 0);
    s->rule_since[static_cast<size_t>(rule_index)] = spent;
    return;
  }
  s->action = static_cast<uint8_t>(r.action);
  s->rule = rule_index;
  s->decided_at = t;
  s->until = r.action == PolicyAction::kPause ? t + r.pause_seconds : 0;
  s->event_number = s->events;
  ++s->decisions;
  if (evidence.size() > static_cast<size_t>(Policy::kMaxCount)) {
    evidence.erase(evidence.begin(), evidence.end() - Policy::kMaxCount);
  }
  s->evidence = std::move(evidence);
  if (r.action != PolicyAction::kSuppress) {
    // The rule's counter starts again after a pause or a monitor.
    s->rule_since.resize(policy_.rules.size(), 0);
    s->rule_since[static_cast<size_t>(rule_index)] = spent;
  }
}

void Walker::EvaluateSoft(RecipientState* s, int64_t t) {
  if (s->action == static_cast<uint8_t>(PolicyAction::kSuppress)) return;
  for (size_t i = 0; i < policy_.rules.size(); ++i) {
    const PolicyRule& r = policy_.rules[i];
    if (!IsSoftKind(r.kind)) continue;
    const uint64_t since = i < s->rule_since.size() ? s->rule_since[i] : 0;
    const int need = (s->engaged && r.count_engaged > 0) ? r.count_engaged : r.count;
    if (CountSoft(r, *s, since, t, nullptr) >= need) {
      std::vector<EvidenceEvent> ev;
      CountSoft(r, *s, since, t, &ev);
      Decide(s, static_cast<int>(i), t, std::move(ev));
      return;
    }
  }
}

void Walker::EvaluateOther(RecipientState* s, RuleKind kind, int64_t t) {
  if (s->action == static_cast<uint8_t>(PolicyAction::kSuppress)) return;
  const std::vector<CountedEvent>& list = kind == RuleKind::kHard ? s->hards : s->complaints;
  for (size_t i = 0; i < policy_.rules.size(); ++i) {
    const PolicyRule& r = policy_.rules[i];
    if (r.kind != kind) continue;
    const uint64_t since = i < s->rule_since.size() ? s->rule_since[i] : 0;
    std::vector<EvidenceEvent> ev;
    for (const CountedEvent& e : list) {
      if (e.seq <= since) continue;
      if (kind == RuleKind::kHard && !r.any_blame && (e.flags & kFlagSenderBlame)) continue;
      ev.push_back({e.row, e.ts, e.campaign_id, e.klass});
    }
    if (static_cast<int>(ev.size()) >= r.count) {
      Decide(s, static_cast<int>(i), t, std::move(ev));
      return;
    }
  }
}

void Walker::CountSoftEvent(RecipientState* s, const CountedEvent& e) {
  if (policy_.min_spacing_seconds > 0 && s->last_counted_soft != std::numeric_limits<int64_t>::min() &&
      e.ts - s->last_counted_soft < policy_.min_spacing_seconds) {
    return;
  }
  s->last_counted_soft = std::max(s->last_counted_soft, e.ts);
  CountedEvent c = e;
  c.seq = ++s->soft_seq;
  s->softs.push_back(c);
  if (s->softs.size() > static_cast<size_t>(4 * Policy::kMaxCount)) Prune(s, e.ts);
  EvaluateSoft(s, e.ts);
}

// Drops soft entries no rule can need again: outside every window, not
// among the latest kMaxCount entries, and (for distinct-campaign rules) not
// the latest entry of one of the latest kMaxCount distinct campaigns. Every
// count compared with a threshold (<= kMaxCount) is unchanged.
void Walker::Prune(RecipientState* s, int64_t t) {
  int64_t cutoff = std::numeric_limits<int64_t>::max();
  if (max_window_ > 0 && __builtin_sub_overflow(t, max_window_, &cutoff)) cutoff = std::numeric_limits<int64_t>::min();
  std::vector<CountedEvent> kept;
  absl::flat_hash_set<int64_t> seen;
  int newer = 0;
  for (size_t k = s->softs.size(); k > 0; --k) {
    const CountedEvent& e = s->softs[k - 1];
    bool keep = e.ts > cutoff || newer < Policy::kMaxCount;
    if (any_distinct_ && static_cast<int>(seen.size()) < Policy::kMaxCount && !seen.contains(e.campaign_id)) {
      keep = true;
    }
    seen.insert(e.campaign_id);
    ++newer;
    if (keep) kept.push_back(e);
  }
  std::reverse(kept.begin(), kept.end());
  s->softs = std::move(kept);
}

void Walker::Step(RecipientState* s, const Event& e) {
  ++s->events;
  if (s->events == 1) s->first_ts = e.ts;
  s->last_ts = std::max(s->last_ts, e.ts);
  if (e.flags & kFlagEngaged) s->engaged = 1;
  if (e.flags & kFlagMailboxFull) ++s->mailbox_full;
  const PolicyClass c = static_cast<PolicyClass>(e.klass);
  ++s->by_class[e.klass];
  // Held-back greylisting deferrals whose grace period has passed count now.
  if (!s->pending.empty()) {
    std::vector<CountedEvent> still;
    for (const CountedEvent& p : s->pending) {
      if (e.ts - p.ts >= policy_.greylist_grace_seconds) {
        CountSoftEvent(s, p);
      } else if (!(c == PolicyClass::kDelivered && p.campaign_id == e.campaign_id)) {
        still.push_back(p);
      }
    }
    s->pending = std::move(still);
  }
  CountedEvent ce{e.row, e.ts, e.campaign_id, 0, e.klass, e.flags};
  switch (c) {
    case PolicyClass::kDelivered:
      s->last_delivered = std::max(s->last_delivered, e.ts);
      s->streak_from_seq = s->soft_seq;
      break;
    case PolicyClass::kSoft:
      if (policy_.greylist_exempt && (e.flags & kFlagGreylist)) {
        if (s->pending.size() < static_cast<size_t>(Policy::kMaxCount)) {
          s->pending.push_back(ce);
        } else {
          CountSoftEvent(s, ce);  // a flood of deferrals: no longer held back
        }
      } else {
        CountSoftEvent(s, ce);
      }
      break;
    case PolicyClass::kHard:
      ce.seq = ++s->hard_seq;
      s->hards.push_back(ce);
      if (s->hards.size() > static_cast<size_t>(4 * Policy::kMaxCount)) {
        // Keep the latest kMaxCount hards, and the latest kMaxCount
        // recipient-blame ones (rules that ignore sender blame count those).
        std::vector<CountedEvent> kept;
        int all = 0, own = 0;
        for (size_t k = s->hards.size(); k > 0; --k) {
          const CountedEvent& h = s->hards[k - 1];
          const bool mine = !(h.flags & kFlagSenderBlame);
          if (all < Policy::kMaxCount || (mine && own < Policy::kMaxCount)) kept.push_back(h);
          ++all;
          own += mine;
        }
        std::reverse(kept.begin(), kept.end());
        s->hards = std::move(kept);
      }
      EvaluateOther(s, RuleKind::kHard, e.ts);
      break;
    case PolicyClass::kComplaint:
      ce.seq = ++s->complaint_seq;
      s->complaints.push_back(ce);
      if (s->complaints.size() > static_cast<size_t>(2 * Policy::kMaxCount)) {
        s->complaints.erase(s->complaints.begin(), s->complaints.end() - Policy::kMaxCount);
      }
      EvaluateOther(s, RuleKind::kComplaint, e.ts);
      break;
    case PolicyClass::kBlock:
    case PolicyClass::kOther:
      break;
  }
}

Walker::Walker(const Policy& p) : policy_(p) {
  for (const PolicyRule& r : p.rules) {
    if (r.kind == RuleKind::kSoftWindow) max_window_ = std::max(max_window_, r.window_seconds);
    if (r.distinct_campaigns) any_distinct_ = true;
  }
}

int32_t RecipientState::SoftStreak() const {
  int32_t n = 0;
  for (const CountedEvent& e : softs) n += e.seq > streak_from_seq;
  return n;
}

}  // namespace internal

// ---------------------------------------------------------- PolicyEngine

using internal::Event;
using internal::RecipientState;

PolicyEngine::Impl::Impl(const Policy& p) : policy(p), walker(policy) {}

uint32_t PolicyEngine::Impl::Intern(absl::string_view r) {
  auto [it, inserted] = index.try_emplace(r, static_cast<uint32_t>(names.size()));
  if (inserted) {
    names.emplace_back(r);
    states.emplace_back();
  }
  return it->second;
}

absl::Status PolicyEngine::Impl::Add(const PolicyBatch& b) {
  const int64_t n = b.num_rows;
  auto check_len = [&](int64_t len, absl::string_view col) -> absl::Status {
    if (len != n) {
      return WithColumn(absl::InvalidArgumentError(absl::StrCat("column '", col, "' has ", len, " rows, expected ", n)),
                        col);
    }
    return absl::OkStatus();
  };
  for (absl::Status st : {check_len(b.recipient.size(), "recipient"), check_len(b.campaign_id.length, "campaign_id"),
                          check_len(b.ts.length, "ts"), check_len(static_cast<int64_t>(b.klass.size()), "bounce_class")}) {
    if (!st.ok()) return st;
  }
  if (!b.flags.empty() && static_cast<int64_t>(b.flags.size()) != n) {
    return check_len(static_cast<int64_t>(b.flags.size()), "flags");
  }
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t k = b.klass[static_cast<size_t>(i)];
    if (k >= kNumPolicyClasses && k != kInvalidClassCode) {
      return WithRow(WithColumn(absl::InvalidArgumentError(absl::StrCat("bounce_class code ", int{k}, " at row ",
                                                                         summary.rows + i, " is not a class")),
                                "bounce_class"),
                     summary.rows + i);
    }
  }
  pending.reserve(pending.size() + static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t row = summary.rows + i;
    const absl::string_view rec = b.recipient.Get(i);
    const uint8_t k = b.klass[static_cast<size_t>(i)];
    SkipReason why;
    if (rec.empty()) why = SkipReason::kEmptyRecipient;
    else if (b.campaign_id.IsNull(i)) why = SkipReason::kNullCampaign;
    else if (b.ts.IsNull(i)) why = SkipReason::kNullTs;
    else if (k == kInvalidClassCode) why = SkipReason::kBadClass;
    else {
      Event e;
      e.recipient = Intern(rec);
      e.klass = k;
      e.flags = b.flags.empty() ? 0 : b.flags[static_cast<size_t>(i)];
      e.ts = b.ts.Get(i);
      e.campaign_id = b.campaign_id.Get(i);
      e.row = row;
      pending.push_back(e);
      ++summary.used;
      ++summary.by_class[k];
      continue;
    }
    ++summary.skipped[static_cast<int>(why)];
  }
  summary.rows += n;
  return absl::OkStatus();
}

absl::Status PolicyEngine::Impl::Run() {
  std::sort(pending.begin(), pending.end(), [](const Event& a, const Event& b) {
    if (a.recipient != b.recipient) return a.recipient < b.recipient;
    if (a.ts != b.ts) return a.ts < b.ts;
    return a.row < b.row;
  });
  uint32_t current = std::numeric_limits<uint32_t>::max();
  int64_t previous_last = std::numeric_limits<int64_t>::min();
  for (const Event& e : pending) {
    RecipientState& s = states[e.recipient];
    if (e.recipient != current) {
      current = e.recipient;
      previous_last = s.events > 0 ? s.last_ts : std::numeric_limits<int64_t>::min();
    }
    if (e.ts < previous_last) ++summary.late;
    walker.Step(&s, e);
  }
  std::vector<Event>().swap(pending);
  int64_t grey = 0;
  for (const RecipientState& s : states) grey += static_cast<int64_t>(s.pending.size());
  summary.greylist_pending = grey;
  return absl::OkStatus();
}

std::vector<uint32_t> PolicyEngine::Impl::SortedIds(bool decided_only) const {
  std::vector<uint32_t> ids;
  for (uint32_t i = 0; i < states.size(); ++i) {
    if (!decided_only || states[i].action != 0) ids.push_back(i);
  }
  std::sort(ids.begin(), ids.end(), [&](uint32_t a, uint32_t b) { return names[a] < names[b]; });
  return ids;
}

void PolicyEngine::Impl::AppendDecision(uint32_t i, DecisionTable* t) const {
  const RecipientState& s = states[i];
  t->recipient.push_back(names[i]);
  t->action.push_back(s.action);
  t->rule.push_back(s.rule);
  t->decided_at.push_back(s.decided_at);
  t->until.push_back(s.until);
  t->event_number.push_back(s.event_number);
  t->decisions.push_back(s.decisions);
  t->evidence.push_back(s.evidence);
}

PolicyEngine::PolicyEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PolicyEngine::~PolicyEngine() = default;

absl::StatusOr<std::unique_ptr<PolicyEngine>> PolicyEngine::Create(const Policy& policy) {
  absl::Status st = policy.Validate();
  if (!st.ok()) return st;
  return std::unique_ptr<PolicyEngine>(new PolicyEngine(std::make_unique<Impl>(policy)));
}

absl::Status PolicyEngine::Add(const PolicyBatch& batch) { return impl_->Add(batch); }
absl::Status PolicyEngine::Run() { return impl_->Run(); }
const Policy& PolicyEngine::policy() const { return impl_->policy; }
const InputSummary& PolicyEngine::summary() const { return impl_->summary; }
int64_t PolicyEngine::num_recipients() const { return static_cast<int64_t>(impl_->names.size()); }

DecisionTable PolicyEngine::Decisions() const {
  DecisionTable t;
  for (uint32_t i : impl_->SortedIds(true)) impl_->AppendDecision(i, &t);
  return t;
}

absl::StatusOr<DecisionTable> PolicyEngine::DecisionOf(absl::string_view recipient) const {
  auto it = impl_->index.find(recipient);
  if (it == impl_->index.end()) {
    return WithField(absl::NotFoundError(absl::StrCat("recipient '", recipient, "' is not in the history")),
                     "recipient");
  }
  DecisionTable t;
  if (impl_->states[it->second].action != 0) impl_->AppendDecision(it->second, &t);
  return t;
}

RecipientFeatures PolicyEngine::Features() const { return impl_->FeaturesFor(impl_->SortedIds(false)); }

absl::StatusOr<RecipientFeatures> PolicyEngine::FeaturesOf(absl::string_view recipient) const {
  auto it = impl_->index.find(recipient);
  if (it == impl_->index.end()) {
    return WithField(absl::NotFoundError(absl::StrCat("recipient '", recipient, "' is not in the history")),
                     "recipient");
  }
  return impl_->FeaturesFor({it->second});
}

RecipientFeatures PolicyEngine::Impl::FeaturesFor(const std::vector<uint32_t>& ids) const {
  RecipientFeatures f;
  const size_t n = ids.size();
  f.recipient.reserve(n);
  for (uint32_t i : ids) {
    const RecipientState& s = states[i];
    f.recipient.push_back(names[i]);
    f.events.push_back(s.events);
    f.delivered.push_back(s.by_class[static_cast<int>(PolicyClass::kDelivered)]);
    f.soft.push_back(s.by_class[static_cast<int>(PolicyClass::kSoft)]);
    f.hard.push_back(s.by_class[static_cast<int>(PolicyClass::kHard)]);
    f.block.push_back(s.by_class[static_cast<int>(PolicyClass::kBlock)]);
    f.complaint.push_back(s.by_class[static_cast<int>(PolicyClass::kComplaint)]);
    f.mailbox_full.push_back(s.mailbox_full);
    f.soft_streak.push_back(s.SoftStreak());
    f.first_ts.push_back(s.first_ts);
    f.last_ts.push_back(s.last_ts);
    f.last_delivered.push_back(s.last_delivered);
    f.engaged.push_back(s.engaged);
    f.action.push_back(s.action);
  }
  return f;
}

}  // namespace bouncekit
