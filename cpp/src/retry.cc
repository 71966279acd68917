// Copyright 2026 The bouncekit authors.
//
// Retry schedule models (see retry.h and ../shared/reference/retry-schedules.md).

#include "bouncekit/retry.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "bouncekit/error_location.h"
#include "internal/field_checks.h"

namespace bouncekit::retry {
namespace {

using internal::FieldError;
using internal::Num;

absl::Status CheckPositive(absl::string_view field, double v) {
  return internal::CheckPositive(field, v, "number of seconds");
}

absl::Status CheckNonNegative(absl::string_view field, double v, bool allow_inf = false) {
  if (!(v >= 0) || (!allow_inf && !std::isfinite(v))) {
    return FieldError(field, absl::StrCat("must be >= 0 seconds", allow_inf ? "" : " and finite", " (got ", Num(v), ")"));
  }
  return absl::OkStatus();
}

// Smallest grid point phase + n * step (n >= 0 integer) that is >= x.
double GridAtOrAfter(double x, double phase, double step) {
  if (x <= phase) return phase;
  double n = std::ceil((x - phase) / step - 1e-9);
  return phase + n * step;
}

// ---- Exim rule text -------------------------------------------------------

struct Cursor {
  absl::string_view text;
  size_t pos = 0;
  int line = 1;
  int first_column = 1;
  int column() const { return first_column + static_cast<int>(pos); }
  absl::Status Error(absl::string_view message, size_t at) const {
    return WithTextPosition(
        absl::InvalidArgumentError(absl::StrCat("Exim retry rule, line ", line, " column ",
                                                first_column + static_cast<int>(at), ": ", message)),
        line, first_column + static_cast<int64_t>(at));
  }
  void SkipSpaces() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
  }
};

absl::StatusOr<int64_t> ParseTimeAt(Cursor& c) {
  size_t start = c.pos;
  size_t end = c.text.find_first_of(",; \t", start);
  if (end == absl::string_view::npos) end = c.text.size();
  absl::string_view tok = c.text.substr(start, end - start);
  if (tok.empty()) return c.Error("expected a time such as 15m, 2h or 4d", start);
  int64_t total = 0;
  size_t i = 0;
  while (i < tok.size()) {
    if (!absl::ascii_isdigit(tok[i])) {
      return c.Error(absl::StrCat("expected a digit in time '", tok, "'"), start + i);
    }
    int64_t n = 0;
    while (i < tok.size() && absl::ascii_isdigit(tok[i])) {
      n = n * 10 + (tok[i] - '0');
      if (n > 100'000'000) return c.Error(absl::StrCat("time '", tok, "' is too large"), start);
      ++i;
    }
    int64_t unit = 1;
    if (i < tok.size()) {
      switch (tok[i]) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        case 'w': unit = 7 * 86400; break;
        default:
          return c.Error(absl::StrCat("unknown time unit '", tok.substr(i, 1), "' in '", tok,
                                      "' (use s, m, h, d or w)"),
                         start + i);
      }
      ++i;
    } else if (total != 0) {
      return c.Error(absl::StrCat("missing unit after the number in '", tok, "'"), start + i);
    }
    total += n * unit;
  }
  c.pos = end;
  return total;
}

absl::StatusOr<int64_t> ParseMultiplierAt(Cursor& c) {
  size_t start = c.pos;
  size_t end = c.text.find_first_of(",; \t", start);
  if (end == absl::string_view::npos) end = c.text.size();
  absl::string_view tok = c.text.substr(start, end - start);
  if (tok.empty()) return c.Error("expected a multiplier such as 1.5", start);
  int64_t whole = 0, frac = 0, scale = 1000;
  size_t i = 0;
  bool digits = false;
  while (i < tok.size() && absl::ascii_isdigit(tok[i])) {
    whole = whole * 10 + (tok[i] - '0');
    digits = true;
    if (whole > 1'000'000) return c.Error("multiplier is too large", start);
    ++i;
  }
  if (i < tok.size() && tok[i] == '.') {
    ++i;
    while (i < tok.size() && absl::ascii_isdigit(tok[i])) {
      digits = true;
      if (scale > 1) {
        scale /= 10;
        frac += (tok[i] - '0') * scale;
      }
      ++i;
    }
  }
  if (i != tok.size() || !digits) {
    return c.Error(absl::StrCat("bad multiplier '", tok, "' (expected a decimal number such as 1.5)"),
                   start + (digits ? i : 0));
  }
  int64_t milli = whole * 1000 + frac;
  if (milli <= 0) return c.Error("multiplier must be greater than 0", start);
  c.pos = end;
  return milli;
}

absl::Status ExpectComma(Cursor& c, absl::string_view what) {
  c.SkipSpaces();
  if (c.pos >= c.text.size() || c.text[c.pos] != ',') {
    return c.Error(absl::StrCat("expected ',' before the ", what), c.pos);
  }
  ++c.pos;
  c.SkipSpaces();
  return absl::OkStatus();
}

bool ErrorFieldKnown(absl::string_view e) {
  static constexpr absl::string_view kExact[] = {
      "*", "auth_failed", "data_4xx", "lost_connection", "mail_4xx", "quota", "rcpt_4xx",
      "refused", "refused_A", "refused_MX", "timeout", "timeout_A", "timeout_MX",
      "timeout_connect", "timeout_connect_A", "timeout_connect_MX", "tls_required"};
  for (absl::string_view k : kExact) {
    if (e == k) return true;
  }
  // quota_<time>, rcpt_45x / rcpt_451 style codes.
  if (absl::StartsWith(e, "quota_")) {
    Cursor c{e.substr(6)};
    return ParseTimeAt(c).ok() && c.pos == e.size() - 6;
  }
  for (absl::string_view p : {"rcpt_4", "mail_4", "data_4"}) {
    if (absl::StartsWith(e, p) && e.size() == p.size() + 2) {
      for (char ch : e.substr(p.size())) {
        if (!(absl::ascii_isdigit(ch) || ch == 'x')) return false;
      }
      return true;
    }
  }
  return false;
}

bool ErrorFieldMatches(absl::string_view rule, absl::string_view error) {
  if (rule == "*" || rule == error) return true;
  // rcpt_4xx matches rcpt_451; rcpt_45x matches rcpt_452.
  if (rule.size() == error.size() && rule.size() > 2) {
    for (size_t i = 0; i < rule.size(); ++i) {
      if (rule[i] != error[i] && rule[i] != 'x') return false;
    }
    return true;
  }
  // "quota" matches any quota_<time>; "refused" matches refused_A/_MX; same for timeouts.
  if (absl::StartsWith(error, absl::StrCat(rule, "_"))) return true;
  return false;
}

}  // namespace

const char* FamilyName(Family f) {
  switch (f) {
    case Family::kExplicit: return "explicit";
    case Family::kFixed: return "fixed";
    case Family::kExponential: return "exponential";
    case Family::kPostfix: return "postfix";
    case Family::kExim: return "exim";
  }
  return "?";
}

absl::StatusOr<int64_t> ParseEximTime(absl::string_view text) {
  Cursor c{text};
  absl::StatusOr<int64_t> t = ParseTimeAt(c);
  if (!t.ok()) return t.status();
  if (c.pos != text.size()) return c.Error("unexpected text after the time", c.pos);
  return t;
}

absl::StatusOr<std::vector<EximRule>> ParseEximRules(absl::string_view text, int line,
                                                     int first_column) {
  Cursor c{text, 0, line, first_column};
  std::vector<EximRule> rules;
  for (;;) {
    c.SkipSpaces();
    if (c.pos >= text.size()) {
      if (rules.empty()) return c.Error("empty retry rule list (expected e.g. F,2h,15m)", c.pos);
      return c.Error("expected a rule after ';'", c.pos);
    }
    EximRule r;
    r.text_column = c.column();
    size_t rule_start = c.pos;
    char k = text[c.pos];
    if (k != 'F' && k != 'G' && k != 'H') {
      return c.Error(absl::StrCat("unknown retry algorithm '", text.substr(c.pos, 1),
                                  "' (expected F, G or H)"),
                     c.pos);
    }
    r.kind = k;
    ++c.pos;
    if (absl::Status s = ExpectComma(c, "cutoff time"); !s.ok()) return s;
    size_t cutoff_at = c.pos;
    absl::StatusOr<int64_t> cutoff = ParseTimeAt(c);
    if (!cutoff.ok()) return cutoff.status();
    if (*cutoff <= 0) return c.Error("cutoff time must be greater than 0", cutoff_at);
    if (!rules.empty() && *cutoff <= rules.back().cutoff) {
      return c.Error(absl::StrCat("cutoff ", *cutoff, " s is not after the previous rule's cutoff (",
                                  rules.back().cutoff, " s); the rule could never apply"),
                     cutoff_at);
    }
    r.cutoff = *cutoff;
    if (absl::Status s = ExpectComma(c, k == 'F' ? "interval" : "start interval"); !s.ok()) return s;
    size_t interval_at = c.pos;
    absl::StatusOr<int64_t> interval = ParseTimeAt(c);
    if (!interval.ok()) return interval.status();
    if (*interval <= 0) return c.Error("interval must be greater than 0", interval_at);
    r.interval = *interval;
    if (k != 'F') {
      if (absl::Status s = ExpectComma(c, "multiplier"); !s.ok()) return s;
      absl::StatusOr<int64_t> m = ParseMultiplierAt(c);
      if (!m.ok()) return m.status();
      r.multiplier_milli = *m;
    }
    c.SkipSpaces();
    rules.push_back(r);
    if (c.pos >= text.size()) break;
    if (text[c.pos] == ',') {
      return c.Error(absl::StrCat(k == 'F' ? "F rules take 2 values (cutoff, interval)"
                                           : "G/H rules take 3 values (cutoff, start, multiplier)",
                                  "; unexpected ','"),
                     c.pos);
    }
    if (text[c.pos] != ';') {
      return c.Error(absl::StrCat("expected ';' between rules, found '", text.substr(c.pos, 1), "'"),
                     c.pos);
    }
    (void)rule_start;
    ++c.pos;
    c.SkipSpaces();
    if (c.pos >= text.size()) break;  // a trailing ';' is accepted
  }
  return rules;
}

absl::StatusOr<std::vector<EximRetryLine>> ParseEximRetryConfig(absl::string_view text) {
  std::vector<EximRetryLine> out;
  int line_no = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line_no;
    absl::string_view line = raw;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t p = line.find_first_not_of(" \t");
    if (p == absl::string_view::npos || line[p] == '#') continue;
    auto field_end = [&](size_t from) {
      size_t e = line.find_first_of(" \t", from);
      return e == absl::string_view::npos ? line.size() : e;
    };
    size_t pe = field_end(p);
    EximRetryLine l;
    l.line = line_no;
    l.pattern = std::string(line.substr(p, pe - p));
    size_t q = line.find_first_not_of(" \t", pe);
    if (q == absl::string_view::npos) {
      return WithTextPosition(absl::InvalidArgumentError(absl::StrCat(
                                  "Exim retry config, line ", line_no, " column ", pe + 1,
                                  ": expected an error type (e.g. * or quota) after the pattern")),
                              line_no, static_cast<int64_t>(pe + 1));
    }
    size_t qe = field_end(q);
    l.error = std::string(line.substr(q, qe - q));
    if (!ErrorFieldKnown(l.error)) {
      return WithTextPosition(absl::InvalidArgumentError(absl::StrCat(
                                  "Exim retry config, line ", line_no, " column ", q + 1,
                                  ": unknown error type '", l.error,
                                  "' (e.g. *, quota, quota_3d, rcpt_4xx, refused_MX, timeout)")),
                              line_no, static_cast<int64_t>(q + 1));
    }
    size_t r = line.find_first_not_of(" \t", qe);
    if (r == absl::string_view::npos) {
      return WithTextPosition(absl::InvalidArgumentError(absl::StrCat(
                                  "Exim retry config, line ", line_no, " column ", qe + 1,
                                  ": expected retry rules after the error type")),
                              line_no, static_cast<int64_t>(qe + 1));
    }
    absl::string_view rules_text = line.substr(r);
    while (!rules_text.empty() && (rules_text.back() == ' ' || rules_text.back() == '\t')) {
      rules_text.remove_suffix(1);
    }
    absl::StatusOr<std::vector<EximRule>> rules =
        ParseEximRules(rules_text, line_no, static_cast<int>(r + 1));
    if (!rules.ok()) return rules.status();
    l.rules = *std::move(rules);
    out.push_back(std::move(l));
  }
  if (out.empty()) return absl::InvalidArgumentError("Exim retry config has no retry lines");
  return out;
}

absl::StatusOr<EximRetryLine> SelectEximRetryLine(const std::vector<EximRetryLine>& lines,
                                                  absl::string_view domain, absl::string_view error,
                                                  absl::string_view local_part) {
  const std::string dom = absl::AsciiStrToLower(domain);
  const std::string address = absl::StrCat(absl::AsciiStrToLower(local_part), "@", dom);
  for (const EximRetryLine& l : lines) {
    const std::string pat = absl::AsciiStrToLower(l.pattern);
    bool match = false;
    if (pat == "*") {
      match = true;
    } else if (size_t at = pat.find('@'); at != std::string::npos) {
      absl::string_view lp = absl::string_view(pat).substr(0, at);
      absl::string_view pd = absl::string_view(pat).substr(at + 1);
      bool dom_ok = pd == dom || (absl::StartsWith(pd, "*.") && absl::EndsWith(dom, pd.substr(1)));
      match = dom_ok && (lp == "*" || (!local_part.empty() && address == pat));
    } else if (absl::StartsWith(pat, "*.")) {
      match = absl::EndsWith(dom, absl::string_view(pat).substr(1));
    } else if (absl::StartsWith(pat, "*")) {
      match = absl::EndsWith(dom, absl::string_view(pat).substr(1));
    } else {
      match = pat == dom;
    }
    if (match && ErrorFieldMatches(l.error, error)) return l;
  }
  return absl::NotFoundError(absl::StrCat("no Exim retry line matches domain '", domain,
                                          "' and error '", error, "'"));
}

// ---- Schedules ---------------------------------------------------------------

absl::StatusOr<Schedule> Schedule::Create(ScheduleSpec spec) {
  if (spec.max_attempts < 0) {
    return FieldError("max_attempts", absl::StrCat("must be >= 0 (0 = no limit), got ", spec.max_attempts));
  }
  if (absl::Status s = CheckNonNegative("lifetime", spec.lifetime, /*allow_inf=*/true); !s.ok()) return s;
  bool deterministic = true;
  switch (spec.family) {
    case Family::kExplicit:
      for (size_t i = 0; i < spec.intervals.size(); ++i) {
        if (absl::Status s = CheckPositive(absl::StrCat("intervals[", i, "]"), spec.intervals[i]); !s.ok()) {
          return s;
        }
      }
      break;
    case Family::kFixed:
      if (absl::Status s = CheckPositive("interval", spec.interval); !s.ok()) return s;
      break;
    case Family::kExponential:
      if (absl::Status s = CheckPositive("initial", spec.initial); !s.ok()) return s;
      if (!(spec.factor >= 1) || !std::isfinite(spec.factor)) {
        return FieldError("factor", absl::StrCat("must be a finite number >= 1 (got ", Num(spec.factor), ")"));
      }
      if (!(spec.cap > 0)) return FieldError("cap", absl::StrCat("must be > 0 seconds (got ", Num(spec.cap), ")"));
      if (spec.cap < spec.initial) {
        return FieldError("cap", absl::StrCat("the cap (", Num(spec.cap), " s) is below the initial interval (",
                                              Num(spec.initial), " s)"));
      }
      if (!(spec.jitter >= 0 && spec.jitter < 1)) {
        return FieldError("jitter", absl::StrCat("must be in [0, 1) (got ", Num(spec.jitter), ")"));
      }
      deterministic = spec.jitter == 0;
      break;
    case Family::kPostfix: {
      const PostfixParams& p = spec.postfix;
      if (absl::Status s = CheckPositive("queue_run_delay", p.queue_run_delay); !s.ok()) return s;
      if (absl::Status s = CheckPositive("minimal_backoff_time", p.minimal_backoff_time); !s.ok()) return s;
      if (absl::Status s = CheckPositive("maximal_backoff_time", p.maximal_backoff_time); !s.ok()) return s;
      if (p.maximal_backoff_time < p.minimal_backoff_time) {
        return FieldError("maximal_backoff_time",
                          absl::StrCat("maximal_backoff_time (", Num(p.maximal_backoff_time),
                                       " s) is below minimal_backoff_time (", Num(p.minimal_backoff_time), " s)"));
      }
      if (absl::Status s = CheckNonNegative("maximal_queue_lifetime", p.maximal_queue_lifetime); !s.ok()) return s;
      if (!(p.clock_offset >= 0 && p.clock_offset < 1)) {
        return FieldError("clock_offset", absl::StrCat("must be in [0, 1) (got ", Num(p.clock_offset), ")"));
      }
      if (!(p.scan_phase < p.queue_run_delay) || std::isnan(p.scan_phase)) {
        return FieldError("scan_phase", absl::StrCat("must be below queue_run_delay (got ", Num(p.scan_phase),
                                                     "; negative = random per message)"));
      }
      deterministic = !(p.queue_run_granularity && p.scan_phase < 0);
      spec.lifetime = p.maximal_queue_lifetime;
      spec.expiry = Expiry::kAfterAttempt;
      break;
    }
    case Family::kExim: {
      const EximParams& e = spec.exim;
      if (e.rules.empty()) return FieldError("rules", "an Exim retry rule list needs at least one rule");
      for (size_t i = 0; i < e.rules.size(); ++i) {
        const EximRule& r = e.rules[i];
        if ((r.kind != 'F' && r.kind != 'G' && r.kind != 'H') || r.cutoff <= 0 || r.interval <= 0 ||
            (r.kind != 'F' && r.multiplier_milli <= 0) || (i > 0 && r.cutoff <= e.rules[i - 1].cutoff)) {
          return FieldError(absl::StrCat("rules[", i, "]"), "invalid rule (kind, cutoff, interval or multiplier)");
        }
        if (r.kind == 'H') deterministic = false;
      }
      if (absl::Status s = CheckPositive("retry_interval_max", e.retry_interval_max); !s.ok()) return s;
      if (absl::Status s = CheckNonNegative("host_failing_for", e.host_failing_for); !s.ok()) return s;
      if (absl::Status s = CheckNonNegative("queue_run_interval", e.queue_run_interval); !s.ok()) return s;
      if (e.queue_run_interval > 0 && e.queue_run_phase >= e.queue_run_interval) {
        return FieldError("queue_run_phase", "must be below queue_run_interval (negative = random)");
      }
      if (e.queue_run_interval > 0 && e.queue_run_phase < 0) deterministic = false;
      break;
    }
  }
  if (spec.family != Family::kExplicit && spec.family != Family::kExim &&
      spec.family != Family::kPostfix && std::isinf(spec.lifetime) && spec.max_attempts == 0) {
    return FieldError("lifetime", "the schedule never gives up: set a finite lifetime or max_attempts");
  }
  Schedule s;
  s.spec_ = std::move(spec);
  s.deterministic_ = deterministic;
  Rng rng(0);
  s.timeline_ = s.Generate(rng);
  if (static_cast<int64_t>(s.timeline_.attempts.size()) >= kMaxTimelineAttempts) {
    return FieldError("lifetime", absl::StrCat("the schedule implies more than ", kMaxTimelineAttempts,
                                               " attempts; use a longer interval or a shorter lifetime"));
  }
  return s;
}

Timeline Schedule::Generate(Rng& rng) const {
  const ScheduleSpec& s = spec_;
  Timeline tl;
  tl.attempts.push_back(0);
  const bool after_attempt = s.expiry == Expiry::kAfterAttempt;
  double t = 0;
  double prev_gap = 0;
  // Exim state: the host record's last try and predicted next try.
  int64_t exim_last = 0, exim_next = 0;
  double postfix_phase = s.postfix.scan_phase;
  if (s.family == Family::kPostfix && postfix_phase < 0) {
    postfix_phase = rng.Uniform() * s.postfix.queue_run_delay;
  }
  double exim_phase = s.exim.queue_run_phase;
  if (s.family == Family::kExim && s.exim.queue_run_interval > 0 && exim_phase < 0) {
    exim_phase = rng.Uniform() * s.exim.queue_run_interval;
  }
  for (;;) {
    const int64_t n = static_cast<int64_t>(tl.attempts.size());
    if (n >= kMaxTimelineAttempts) {
      tl.expire_time = t;
      tl.give_up = GiveUp::kAttempts;
      break;
    }
    // Postfix compares its whole-second clock with the lifetime.
    const double age = (s.family == Family::kPostfix && s.postfix.whole_seconds)
                           ? std::floor(t + s.postfix.clock_offset)
                           : t;
    if (after_attempt && age >= s.lifetime) {
      tl.expire_time = t;
      tl.give_up = GiveUp::kLifetime;
      break;
    }
    if (s.max_attempts > 0 && n >= s.max_attempts) {
      tl.expire_time = t;
      tl.give_up = GiveUp::kAttempts;
      break;
    }
    double next = 0;
    switch (s.family) {
      case Family::kExplicit:
        if (static_cast<size_t>(n - 1) >= s.intervals.size()) {
          tl.expire_time = t;
          tl.give_up = GiveUp::kAttempts;
          return tl;
        }
        next = t + s.intervals[n - 1];
        break;
      case Family::kFixed:
        next = t + s.interval;
        break;
      case Family::kExponential: {
        double gap = n == 1 ? s.initial : std::min(prev_gap * s.factor, s.cap);
        prev_gap = gap;
        if (s.jitter > 0) gap *= 1 - s.jitter + 2 * s.jitter * rng.Uniform();
        next = t + gap;
        break;
      }
      case Family::kPostfix: {
        const PostfixParams& p = s.postfix;
        double now = t;  // qmgr's event_time(), relative to the arrival
        double shift = 0;
        if (p.whole_seconds) {
          now = std::floor(t + p.clock_offset);
          shift = p.clock_offset;
        }
        double delay = std::clamp(now, p.minimal_backoff_time, p.maximal_backoff_time);
        double eligible = now + delay - shift;
        if (p.queue_run_granularity) {
          // qmgr takes a deferred file whose time stamp is at most 1 s ahead.
          next = GridAtOrAfter(std::max(eligible - 1, t + 1e-9), postfix_phase, p.queue_run_delay);
        } else {
          next = eligible;
        }
        break;
      }
      case Family::kExim: {
        const EximParams& e = s.exim;
        const int64_t now = static_cast<int64_t>(std::llround(t));
        const int64_t host_age = now + static_cast<int64_t>(std::llround(e.host_failing_for));
        const EximRule* rule = nullptr;
        for (const EximRule& r : e.rules) {
          if (host_age < r.cutoff) {
            rule = &r;
            break;
          }
        }
        if (rule == nullptr) {  // past the final cutoff: this failure gives up
          tl.expire_time = t;
          tl.give_up = GiveUp::kLifetime;
          return tl;
        }
        int64_t next_try;
        if (rule->kind == 'F') {
          next_try = now + rule->interval;
        } else {
          int64_t last_gap = 0;
          if (n > 1) last_gap = std::min(exim_next - exim_last, now - exim_last);
          int64_t next_gap = last_gap * rule->multiplier_milli / 1000;
          if (rule->kind == 'G') {
            next_try = now + (last_gap < rule->interval ? rule->interval : next_gap);
          } else {
            next_try = now + rule->interval;
            if (next_gap > rule->interval) {
              int64_t span = next_gap - rule->interval;
              next_try += static_cast<int64_t>(rng.Uniform() * static_cast<double>(span)) / 2 + span / 2;
            }
          }
        }
        const int64_t cap = static_cast<int64_t>(e.retry_interval_max);
        if (next_try - now > cap) next_try = now + cap;
        // Whole seconds: a multiplier below 1 can shrink a gap to 0; retry a second later at least.
        if (next_try <= now) next_try = now + 1;
        exim_last = now;
        exim_next = next_try;
        next = static_cast<double>(next_try);
        if (e.queue_run_interval > 0) next = GridAtOrAfter(next, exim_phase, e.queue_run_interval);
        break;
      }
    }
    if (!after_attempt && next >= s.lifetime) {
      tl.expire_time = std::max(s.lifetime, t);
      tl.give_up = GiveUp::kLifetime;
      break;
    }
    tl.attempts.push_back(next);
    t = next;
  }
  return tl;
}

absl::StatusOr<Schedule> Schedule::Explicit(std::vector<double> intervals, double lifetime,
                                            int64_t max_attempts) {
  ScheduleSpec s;
  s.name = "explicit";
  s.family = Family::kExplicit;
  s.intervals = std::move(intervals);
  s.lifetime = lifetime;
  s.max_attempts = max_attempts;
  return Create(std::move(s));
}

absl::StatusOr<Schedule> Schedule::Fixed(double interval, double lifetime, int64_t max_attempts) {
  ScheduleSpec s;
  s.name = "fixed";
  s.family = Family::kFixed;
  s.interval = interval;
  s.lifetime = lifetime;
  s.max_attempts = max_attempts;
  return Create(std::move(s));
}

absl::StatusOr<Schedule> Schedule::Exponential(double initial, double factor, double cap, double jitter,
                                               double lifetime, int64_t max_attempts) {
  ScheduleSpec s;
  s.name = "exponential";
  s.family = Family::kExponential;
  s.initial = initial;
  s.factor = factor;
  s.cap = cap;
  s.jitter = jitter;
  s.lifetime = lifetime;
  s.max_attempts = max_attempts;
  return Create(std::move(s));
}

absl::StatusOr<Schedule> Schedule::Postfix(const PostfixParams& params) {
  ScheduleSpec s;
  s.name = "postfix";
  s.family = Family::kPostfix;
  s.postfix = params;
  return Create(std::move(s));
}

absl::StatusOr<Schedule> Schedule::Exim(absl::string_view rules, double host_failing_for,
                                        double queue_run_interval, double retry_interval_max) {
  absl::StatusOr<std::vector<EximRule>> parsed = ParseEximRules(rules);
  if (!parsed.ok()) return parsed.status();
  ScheduleSpec s;
  s.name = "exim";
  s.family = Family::kExim;
  s.exim.rules = *std::move(parsed);
  s.exim.host_failing_for = host_failing_for;
  s.exim.queue_run_interval = queue_run_interval;
  s.exim.retry_interval_max = retry_interval_max;
  return Create(std::move(s));
}

std::vector<std::string> Schedule::PresetNames() {
  return {"postfix", "postfix-idealised", "exim", "sendmail", "exchange", "kumomta", "haraka",
          "mailgun", "mailpro", "ses", "sendgrid", "mailchimp", "rfc5321"};
}

absl::StatusOr<Schedule> Schedule::Preset(absl::string_view name) {
  const std::string n = absl::AsciiStrToLower(name);
  absl::StatusOr<Schedule> out = absl::InvalidArgumentError("?");
  // The heuristic for senders that do not publish their schedule (reference
  // §9, SMTP.com guidance): retry after 15 min, then 1 h, then every 4 h.
  auto unpublished = [](double window) {
    std::vector<double> gaps = {15 * kMinute, 1 * kHour};
    while (gaps.size() < 64) gaps.push_back(4 * kHour);
    return Schedule::Explicit(std::move(gaps), window);
  };
  if (n == "postfix") {
    out = Postfix(PostfixParams{});
  } else if (n == "postfix-idealised") {
    PostfixParams p;
    p.queue_run_granularity = false;
    out = Postfix(p);
  } else if (n == "exim") {
    out = Exim("F,2h,15m; G,16h,1h,1.5; F,4d,6h");
  } else if (n == "sendmail") {
    ScheduleSpec s;  // daemon started with -q30m; Timeout.queuereturn 5d
    s.family = Family::kFixed;
    s.interval = 30 * kMinute;
    s.lifetime = 5 * kDay;
    s.expiry = Expiry::kAfterAttempt;
    out = Create(std::move(s));
  } else if (n == "exchange") {
    out = Fixed(15 * kMinute, 2 * kDay);  // MessageRetryInterval, MessageExpirationTimeout
  } else if (n == "kumomta") {
    out = Exponential(20 * kMinute, 2, kInf, 0, 7 * kDay);  // retry_interval, max_age
  } else if (n == "haraka") {
    std::vector<double> gaps;
    for (int i = 1; i <= 12; ++i) gaps.push_back(std::ldexp(1.0, i + 5));  // 2^(i+5) s
    out = Explicit(std::move(gaps), kInf, 13);  // maxTempFailures = 13
  } else if (n == "mailgun") {
    out = Explicit({10 * kMinute, 15 * kMinute, 30 * kMinute, 1 * kHour, 2 * kHour, 4 * kHour}, 8 * kHour);
  } else if (n == "mailpro") {
    out = Explicit({7 * kMinute, 38 * kMinute});  // retries 7 min and 45 min after the failure
  } else if (n == "ses") {
    out = unpublished(14 * kHour);  // MaxDeliverySeconds at its maximum
  } else if (n == "sendgrid") {
    out = unpublished(72 * kHour);
  } else if (n == "mailchimp") {
    out = unpublished(72 * kHour);
  } else if (n == "rfc5321") {
    out = Fixed(30 * kMinute, 4 * kDay);  // >= 30 min between tries, give up after >= 4-5 days
  } else {
    return WithField(absl::InvalidArgumentError(absl::StrCat("unknown schedule preset '", name, "'; known: ",
                                                             absl::StrJoin(PresetNames(), ", "))),
                     "preset");
  }
  if (out.ok()) out->spec_.name = n;
  return out;
}

std::string FormatDuration(double seconds) {
  if (std::isinf(seconds)) return "never";
  int64_t s = static_cast<int64_t>(std::llround(seconds));
  int64_t d = s / 86400, h = (s % 86400) / 3600, m = (s % 3600) / 60, sec = s % 60;
  std::string out;
  if (d) absl::StrAppend(&out, d, "d ");
  if (d || h) absl::StrAppend(&out, absl::StrFormat("%dh ", h));
  if (d || h || m) absl::StrAppend(&out, absl::StrFormat("%02dm ", m));
  absl::StrAppend(&out, absl::StrFormat("%02ds", sec));
  return out;
}

std::string Schedule::Describe(int max_lines) const {
  const Timeline& tl = timeline_;
  std::string out = absl::StrFormat("schedule %s (%s)%s\n", spec_.name, FamilyName(spec_.family),
                                    deterministic_ ? "" : ", randomised: one draw shown");
  absl::StrAppend(&out, absl::StrFormat("%5s  %16s  %14s\n", "#", "at", "gap"));
  const size_t n = tl.attempts.size();
  for (size_t i = 0; i < n; ++i) {
    if (static_cast<int>(i) == max_lines - 3 && n > static_cast<size_t>(max_lines)) {
      absl::StrAppend(&out, absl::StrFormat("%5s  ... %d more ...\n", "", n - max_lines + 1));
      i = n - 3;
    }
    double gap = i == 0 ? 0 : tl.attempts[i] - tl.attempts[i - 1];
    absl::StrAppend(&out, absl::StrFormat("%5d  %16s  %14s\n", i + 1, FormatDuration(tl.attempts[i]),
                                          i == 0 ? "" : FormatDuration(gap)));
  }
  absl::StrAppend(&out, absl::StrFormat("gives up at %s (%s) after %d attempts\n", FormatDuration(tl.expire_time),
                                        tl.give_up == GiveUp::kLifetime ? "lifetime" : "attempt limit", n));
  return out;
}

}  // namespace bouncekit::retry
