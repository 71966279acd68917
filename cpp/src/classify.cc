// Copyright 2026 The bouncekit authors.

#include "bouncekit/classify.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "bouncekit/error_location.h"
#include "internal/text_dfa.h"
#include "re2/re2.h"
#include "re2/set.h"

namespace bouncekit {
namespace {

constexpr int64_t kUnitRows = 8192;  // rows per work unit in batches

RE2::Options PatternOptions() {
  RE2::Options o;
  o.set_case_sensitive(false);
  o.set_log_errors(false);
  o.set_never_capture(true);
  o.set_max_mem(64 << 20);
  return o;
}

// The bytes of a text of at most 8 bytes as one number, distinct for
// distinct texts of one length (fixed-size loads: a variable-length copy
// into a stack word stalls the load that follows it).
inline uint64_t ShortKey(absl::string_view s) {
  const char* p = s.data();
  const size_t n = s.size();
  if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    return a | (uint64_t{b} << 32);
  }
  uint64_t h = 0;
  for (size_t k = 0; k < n; ++k) h |= uint64_t{static_cast<uint8_t>(p[k])} << (8 * k);
  return h;
}

// First word of an SMTP command cell, upper-cased: "rcpt to:<x>" -> "RCPT".
std::string NormalizeCommand(absl::string_view s) {
  s = absl::StripAsciiWhitespace(s);
  size_t e = 0;
  while (e < s.size() && absl::ascii_isalpha(s[e])) ++e;
  std::string out(s.substr(0, e));
  absl::AsciiStrToUpper(&out);
  return out;
}

std::string NormalizeAction(absl::string_view s) {
  std::string out(absl::StripAsciiWhitespace(s));
  absl::AsciiStrToLower(&out);
  // RFC 3464 uses "failed"; some MTAs write "failure".
  if (out == "failure") out = "failed";
  return out;
}

bool StatusMatches(const StatusPattern& p, const EnhancedStatus& s) {
  if (p.parts == 0) return !s.present();
  if (!s.present()) return false;
  if (p.klass >= 0 && p.klass != s.klass) return false;
  if (p.parts >= 2 && p.subject != s.subject) return false;
  if (p.parts >= 3 && (s.detail < p.detail || s.detail > p.detail_hi)) return false;
  return true;
}

// SPEC W1 semantics for rule sets that take columns as given: the status
// cell is a string, and pattern p matches s when s == p or s starts with
// p + '.', compared component by component as text ("5.1.1" matches
// "5.1.1.1" but not "5.1.10"; "5.1" matches "5.1").
bool RawStatusMatches(const StatusPattern& p, absl::string_view raw) {
  if (p.parts == 0) return raw.empty();
  if (raw.empty()) return false;
  absl::string_view comp[3];
  size_t start = 0;
  for (int k = 0; k < p.parts; ++k) {
    if (start > raw.size()) return false;
    size_t dot = start;  // statuses are short: a plain loop beats an out-of-line find
    while (dot < raw.size() && raw[dot] != '.') ++dot;
    if (dot == raw.size()) dot = absl::string_view::npos;
    const bool last = k + 1 == p.parts;
    if (dot == absl::string_view::npos) {
      if (!last) return false;
      comp[k] = raw.substr(start);
      start = raw.size() + 1;
    } else {
      comp[k] = raw.substr(start, dot - start);
      start = dot + 1;
    }
  }
  auto digits = [](absl::string_view c) {
    if (c.empty()) return false;
    for (char ch : c) {
      if (ch < '0' || ch > '9') return false;
    }
    return true;
  };
  // Whether component c is the decimal text of v (no sign, no leading zero),
  // without formatting v: this runs for every row and status pattern.
  auto is_text_of = [&](absl::string_view c, int v) {
    if (c.empty() || c.size() > 9 || !digits(c) || (c.size() > 1 && c[0] == '0')) return false;
    int x = 0;
    for (char ch : c) x = x * 10 + (ch - '0');
    return x == v;
  };
  auto decimal_width = [](int v) {
    int w = 1;
    while (v >= 10) {
      v /= 10;
      ++w;
    }
    return static_cast<size_t>(w);
  };
  if (p.klass >= 0) {
    if (!is_text_of(comp[0], p.klass)) return false;
  } else if (comp[0].size() != 1 || !digits(comp[0])) {
    return false;
  }
  if (p.parts >= 2 && !is_text_of(comp[1], p.subject)) return false;
  if (p.parts >= 3) {
    if (p.detail == p.detail_hi) return is_text_of(comp[2], p.detail);
    if (comp[2].size() != decimal_width(p.detail_hi) || !digits(comp[2])) return false;
    int v = 0;
    for (char ch : comp[2]) v = v * 10 + (ch - '0');
    return v >= p.detail && v <= p.detail_hi;
  }
  return true;
}

// Windows-1252 characters in 0x80..0x9F, by the byte they stand for.
struct Cp1252 {
  uint16_t cp;
  uint8_t byte;
};
constexpr Cp1252 kCp1252[] = {
    {0x20AC, 0x80}, {0x201A, 0x82}, {0x0192, 0x83}, {0x201E, 0x84}, {0x2026, 0x85},
    {0x2020, 0x86}, {0x2021, 0x87}, {0x02C6, 0x88}, {0x2030, 0x89}, {0x0160, 0x8A},
    {0x2039, 0x8B}, {0x0152, 0x8C}, {0x017D, 0x8E}, {0x2018, 0x91}, {0x2019, 0x92},
    {0x201C, 0x93}, {0x201D, 0x94}, {0x2022, 0x95}, {0x2013, 0x96}, {0x2014, 0x97},
    {0x02DC, 0x98}, {0x2122, 0x99}, {0x0161, 0x9A}, {0x203A, 0x9B}, {0x0153, 0x9C},
    {0x017E, 0x9E}, {0x0178, 0x9F},
};

// Decodes one UTF-8 sequence at s[*i]; returns -1 on invalid UTF-8.
int32_t DecodeUtf8(absl::string_view s, size_t* i) {
  const unsigned char c = static_cast<unsigned char>(s[*i]);
  int n;
  int32_t cp;
  if (c < 0x80) {
    ++*i;
    return c;
  } else if ((c & 0xE0) == 0xC0) {
    n = 1;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 2;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 3;
    cp = c & 0x07;
  } else {
    return -1;
  }
  if (*i + n >= s.size()) return -1;  // the sequence is cut off
  for (int k = 1; k <= n; ++k) {
    const unsigned char d = static_cast<unsigned char>(s[*i + k]);
    if ((d & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (d & 0x3F);
  }
  if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF) {
    return -1;
  }
  *i += n + 1;
  return cp;
}

bool IsValidUtf8WithMultibyte(absl::string_view s) {
  bool multi = false;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (DecodeUtf8(s, &i) < 0) return false;
    multi = multi || c >= 0x80;
  }
  return multi;
}

}  // namespace

bool RepairDoubleEncodedUtf8(absl::string_view text, std::string* out) {
  // Only texts with the lead bytes of U+0080..U+00FF or of the Windows-1252
  // punctuation can be double-encoded; most texts leave here.
  // Plain ASCII (no byte >= 0x80) is skipped eight bytes at a time.
  size_t k = 0;
  for (; k + 8 <= text.size(); k += 8) {
    uint64_t word;
    std::memcpy(&word, text.data() + k, 8);
    if ((word & 0x8080808080808080ull) != 0) break;
  }
  bool candidate = false;
  for (; k < text.size(); ++k) {
    const unsigned char c = static_cast<unsigned char>(text[k]);
    if (c == 0xC2 || c == 0xC3 || c == 0xC5 || c == 0xC6 || c == 0xCB || c == 0xE2) {
      candidate = true;
      break;
    }
  }
  if (!candidate) return false;
  out->clear();
  out->reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const int32_t cp = DecodeUtf8(text, &i);
    if (cp < 0) return false;
    if (cp < 0x100) {
      out->push_back(static_cast<char>(cp));
      continue;
    }
    bool found = false;
    for (const Cp1252& e : kCp1252) {
      if (e.cp == cp) {
        out->push_back(static_cast<char>(e.byte));
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return IsValidUtf8WithMultibyte(*out);
}

namespace {

int ReplyClass(int code, const EnhancedStatus& status) {
  if (code > 0) return code / 100;
  if (status.present()) return status.klass;
  return 0;
}

}  // namespace

struct Classifier::CompiledRule {
  int32_t rule_index = 0;
  std::vector<CodePattern> codes;
  std::vector<StatusPattern> statuses;
  std::vector<std::string> commands;
  std::vector<std::string> actions;
  int32_t text = -1;
  int32_t not_text = -1;
  int32_t remote_host = -1;
  int32_t destination = -1;
  int32_t category = 0;
  BounceClass base_class = BounceClass::kUndetermined;
  std::optional<BounceClass> profile_class;  // profile override for the category
  Blame blame = Blame::kUnknown;
  std::optional<bool> retryable;  // rule's explicit value
  Retry retry = Retry::kByCode;    // category's rule otherwise
};

// Per-thread regex state: the compiled set over all text patterns plus
// single regexes (fallback and match spans), and the lazily computed matches
// of the current row.
class Classifier::Matcher {
 public:
  Matcher(const std::vector<std::string>& text_patterns,
          const std::vector<std::string>& other_patterns) {
    const RE2::Options opts = PatternOptions();
    set_ = std::make_unique<RE2::Set>(opts, RE2::UNANCHORED);
    for (const std::string& p : text_patterns) {
      set_->Add(p, nullptr);
      singles_.push_back(std::make_unique<RE2>(p, opts));
    }
    set_ok_ = text_patterns.empty() ? false : set_->Compile();
    // ASCII texts are read by bouncekit's own DFA when every pattern is in
    // its syntax (the usual case); RE2 reads the others.
    if (!text_patterns.empty()) {
      absl::StatusOr<std::unique_ptr<internal::TextDfa>> dfa = internal::TextDfa::Compile(text_patterns);
      if (dfa.ok()) dfa_ = *std::move(dfa);
    }
    for (const std::string& p : other_patterns) {
      others_.push_back(std::make_unique<RE2>(p, opts));
    }
    flags_.assign(text_patterns.size(), 0);
  }

  // Rules whose code/status conditions hold, remembered per key (the
  // effective code and status). nullptr when the key is not cached yet.
  const std::pair<uint32_t, uint32_t>* FindPlan(uint64_t key) const {
    auto it = plans_.find(key);
    return it == plans_.end() ? nullptr : &it->second;
  }
  std::pair<uint32_t, uint32_t> AddPlan(uint64_t key, const std::vector<int32_t>& rules) {
    if (plans_.size() >= kMaxPlans || plan_rules_.size() >= (size_t{1} << 22)) {
      plans_.clear();
      plan_rules_.clear();
    }
    const std::pair<uint32_t, uint32_t> span(static_cast<uint32_t>(plan_rules_.size()),
                                             static_cast<uint32_t>(rules.size()));
    plan_rules_.insert(plan_rules_.end(), rules.begin(), rules.end());
    plans_.emplace(key, span);
    return span;
  }
  const int32_t* plan_rules() const { return plan_rules_.data(); }
  // A small id per distinct raw status text (for plan keys when statuses are
  // matched as text), or -1 once too many texts were seen.
  int64_t RawStatusId(absl::string_view raw) {
    if (have_last_raw_ && raw == last_raw_) return last_raw_id_;
    auto it = raw_ids_.find(raw);
    int64_t id;
    if (it != raw_ids_.end()) {
      id = it->second;
    } else if (raw_ids_.size() < kMaxRawStatuses) {
      id = static_cast<int64_t>(raw_ids_.size());
      raw_ids_.emplace(std::string(raw), static_cast<uint32_t>(id));
    } else {
      return -1;
    }
    last_raw_.assign(raw.data(), raw.size());
    last_raw_id_ = id;
    have_last_raw_ = true;
    return id;
  }

  void BeginRow(absl::string_view text) {
    if (!hits_.empty()) {
      for (int i : hits_) flags_[i] = 0;
      hits_.clear();
    }
    text_ = text;
    repaired_ = false;
    evaluated_ = false;
    if (preset_ != nullptr) {  // the DFA already read this text (FindAll)
      const bool utf8 = preset_utf8_;
      const int32_t* const preset = preset_;
      preset_ = nullptr;
      preset_utf8_ = false;
      // A non-ASCII text was read as it came. When it needs the repair of
      // double-encoded UTF-8, Evaluate reads the repaired text instead, as
      // for any text without a preset.
      if (utf8 && RepairDoubleEncodedUtf8(text_, &repair_buffer_)) return;
      AddHits(preset, preset + preset_count_);
      if (utf8) AddNonAsciiHits();  // as Evaluate after FindUtf8
      evaluated_ = true;
    }
  }

  // The DFA, when the text patterns are in its syntax (else nullptr).
  internal::TextDfa* dfa() { return dfa_.get(); }
  // The patterns found in the next row's text, read beforehand (FindAll;
  // `utf8`: read as FindUtf8 reads it): the next BeginRow takes them instead
  // of reading the text.
  void Preset(const int32_t* found, int32_t count, bool utf8) {
    preset_ = found;
    preset_count_ = count;
    preset_utf8_ = utf8;
  }

  // Whether the current row's text was repaired (spans then refer to the
  // repaired text, so none are reported).
  bool repaired() const { return repaired_; }

  bool TextMatches(int32_t idx) {
    if (!evaluated_) Evaluate();
    return flags_[idx] != 0;
  }

  bool OtherMatches(int32_t idx, absl::string_view s) const {
    return RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), *others_[idx]);
  }

  // Byte span of the first match of text pattern idx.
  std::pair<int32_t, int32_t> Span(int32_t idx) const {
    re2::StringPiece sp(text_.data(), text_.size());
    re2::StringPiece m;
    if (!singles_[idx]->Match(sp, 0, sp.size(), RE2::UNANCHORED, &m, 1)) return {-1, -1};
    const int64_t b = m.data() - sp.data();
    return {static_cast<int32_t>(b), static_cast<int32_t>(b + m.size())};
  }

 private:
  // The text patterns found in the current row's text, from the DFA.
  void AddHits(const int32_t* begin, const int32_t* end) {
    for (const int32_t* k = begin; k != end; ++k) {
      hits_.push_back(*k);
      flags_[static_cast<size_t>(*k)] = 1;
    }
  }
  // RE2's answers for the patterns that name non-ASCII text, which the DFA
  // leaves out of what it reads as UTF-8 (FindUtf8, FindAll).
  void AddNonAsciiHits() {
    const re2::StringPiece sp(text_.data(), text_.size());
    for (const int32_t k : dfa_->NonAsciiPatterns()) {
      if (RE2::PartialMatch(sp, *singles_[static_cast<size_t>(k)])) {
        hits_.push_back(k);
        flags_[static_cast<size_t>(k)] = 1;
      }
    }
  }

  void Evaluate() {
    evaluated_ = true;
    if (dfa_ != nullptr) {
      if (const std::vector<int32_t>* found = dfa_->Find(text_)) {  // ASCII: nothing to repair
        AddHits(found->data(), found->data() + found->size());
        return;
      }
    }
    // Text is repaired only when a rule needs to look at it.
    repaired_ = RepairDoubleEncodedUtf8(text_, &repair_buffer_);
    if (repaired_) text_ = repair_buffer_;
    re2::StringPiece sp(text_.data(), text_.size());
    if (dfa_ != nullptr) {
      // Non-ASCII UTF-8: the DFA reads it too (each character as one symbol),
      // and RE2 answers only for the patterns that name non-ASCII characters
      // (on the corpus' non-ASCII diagnostics, 20 % fewer instructions a row
      // than the RE2 set over every pattern).
      if (const std::vector<int32_t>* found = dfa_->FindUtf8(text_)) {
        AddHits(found->data(), found->data() + found->size());
        AddNonAsciiHits();
        return;
      }
    }
    bool done = false;
    if (set_ok_) {
      RE2::Set::ErrorInfo info;
      const bool any = set_->Match(sp, &hits_, &info);
      if (any || info.kind == RE2::Set::kNoError) {
        done = true;
      } else {
        hits_.clear();  // DFA ran out of memory: fall back to single regexes
      }
    }
    if (!done) {
      for (size_t i = 0; i < singles_.size(); ++i) {
        if (RE2::PartialMatch(sp, *singles_[i])) hits_.push_back(static_cast<int>(i));
      }
    }
    for (int i : hits_) flags_[i] = 1;
  }

  static constexpr size_t kMaxPlans = 1 << 16;
  static constexpr size_t kMaxRawStatuses = 1 << 14;

  std::unique_ptr<RE2::Set> set_;
  bool set_ok_ = false;
  std::unique_ptr<internal::TextDfa> dfa_;
  const int32_t* preset_ = nullptr;
  int32_t preset_count_ = 0;
  bool preset_utf8_ = false;
  absl::flat_hash_map<uint64_t, std::pair<uint32_t, uint32_t>> plans_;
  std::vector<int32_t> plan_rules_;
  absl::flat_hash_map<std::string, uint32_t> raw_ids_;
  std::string last_raw_;
  int64_t last_raw_id_ = -1;
  bool have_last_raw_ = false;
  std::vector<std::unique_ptr<RE2>> singles_;
  std::vector<std::unique_ptr<RE2>> others_;
  absl::string_view text_;
  std::string repair_buffer_;
  bool repaired_ = false;
  bool evaluated_ = false;
  std::vector<int> hits_;
  std::vector<uint8_t> flags_;
};

struct Classifier::Pool {
  absl::Mutex mu;
  std::vector<std::unique_ptr<Matcher>> free ABSL_GUARDED_BY(mu);
};

Classifier::~Classifier() = default;

absl::StatusOr<std::unique_ptr<Classifier>> Classifier::Create(RuleSet rules,
                                                               const ClassifierOptions& options) {
  std::unique_ptr<Classifier> c(new Classifier());
  const Profile* profile = rules.FindProfile(options.profile);
  if (profile == nullptr) {
    std::vector<std::string> names;
    for (const Profile& p : rules.profiles()) names.push_back(p.name);
    return WithField(absl::NotFoundError(absl::StrCat("unknown profile '", options.profile,
                                                      "' (this rule set defines: ",
                                                      absl::StrJoin(names, ", "), ")")),
                     "profile");
  }
  c->profile_ = *profile;
  c->infer_ = options.infer_codes_from_text.value_or(rules.infer_codes_from_text());

  // Category table: the built-in taxonomy, then custom ones in order of use.
  struct CatAttr {
    BounceClass klass;
    Blame blame;
    Retry retry;
  };
  std::vector<CatAttr> attrs;
  absl::flat_hash_map<std::string, int32_t> cat_index;
  for (const CategoryInfo& info : Categories()) {
    cat_index[info.name] = static_cast<int32_t>(c->category_names_.size());
    c->category_names_.emplace_back(info.name);
    c->category_infos_.push_back(&info);
    attrs.push_back({info.default_class, info.blame, info.retry});
  }
  auto add_custom = [&](const std::string& name, BounceClass klass, std::optional<Blame> blame,
                        std::optional<bool> retryable) {
    cat_index[name] = static_cast<int32_t>(c->category_names_.size());
    c->category_names_.push_back(name);
    c->category_infos_.push_back(nullptr);
    Blame b = blame.value_or(klass == BounceClass::kHard    ? Blame::kRecipient
                             : klass == BounceClass::kBlock ? Blame::kSender
                                                            : Blame::kUnknown);
    Retry r = retryable.has_value() ? (*retryable ? Retry::kYes : Retry::kNo) : Retry::kByCode;
    attrs.push_back({klass, b, r});
  };
  for (const CustomCategory& cc : rules.custom_categories()) {
    add_custom(cc.name, cc.default_class, cc.blame, cc.retryable);
  }

  absl::flat_hash_map<std::string, int32_t> text_index, other_index;
  auto intern = [](absl::flat_hash_map<std::string, int32_t>& index,
                   std::vector<std::string>& list, const std::string& p) {
    auto it = index.find(p);
    if (it != index.end()) return it->second;
    const int32_t i = static_cast<int32_t>(list.size());
    index.emplace(p, i);
    list.push_back(p);
    return i;
  };

  const std::vector<Rule>& rl = rules.rules();
  for (size_t i = 0; i < rl.size(); ++i) {
    const Rule& r = rl[i];
    if (!r.ActiveIn(c->profile_.name)) continue;
    CompiledRule cr;
    cr.rule_index = static_cast<int32_t>(i);
    cr.codes = r.codes;
    cr.statuses = r.statuses;
    cr.commands = r.commands;
    cr.actions = r.actions;
    if (!r.text.empty()) cr.text = intern(text_index, c->text_patterns_, r.text);
    if (!r.not_text.empty()) cr.not_text = intern(text_index, c->text_patterns_, r.not_text);
    if (!r.remote_host.empty()) cr.remote_host = intern(other_index, c->other_patterns_, r.remote_host);
    if (!r.destination.empty()) cr.destination = intern(other_index, c->other_patterns_, r.destination);
    auto it = cat_index.find(r.category);
    if (it == cat_index.end()) {
      // A rule-file category without a [categories] entry: the rule's class
      // decides (the parser guarantees one).
      add_custom(r.category, r.bounce_class.value_or(BounceClass::kUndetermined), r.blame,
                 r.retryable);
      it = cat_index.find(r.category);
    }
    cr.category = it->second;
    const CatAttr& a = attrs[cr.category];
    cr.base_class = r.bounce_class.value_or(a.klass);
    auto pc = c->profile_.classes.find(r.category);
    if (pc != c->profile_.classes.end()) cr.profile_class = pc->second;
    cr.blame = r.blame.value_or(a.blame);
    cr.retryable = r.retryable;
    cr.retry = a.retry;
    // Rules with no condition besides code, status and text (most) are
    // tried from a compact list.
    RuleBrief brief;
    brief.text = cr.text;
    brief.not_text = cr.not_text;
    brief.simple = cr.commands.empty() && cr.actions.empty() && cr.remote_host < 0 && cr.destination < 0;
    c->briefs_.push_back(brief);
    c->compiled_.push_back(std::move(cr));
  }
  c->rules_ = std::move(rules);
  c->pool_ = std::make_unique<Pool>();
  // Compile once up front so that a bad pattern set fails here, not later.
  std::unique_ptr<Matcher> m = std::make_unique<Matcher>(c->text_patterns_, c->other_patterns_);
  c->ReleaseMatcher(std::move(m));
  return c;
}

const CategoryInfo* Classifier::category_info(int32_t category) const {
  if (category < 0 || category >= static_cast<int32_t>(category_infos_.size())) return nullptr;
  return category_infos_[category];
}

std::unique_ptr<Classifier::Matcher> Classifier::AcquireMatcher() const {
  {
    absl::MutexLock lock(&pool_->mu);
    if (!pool_->free.empty()) {
      std::unique_ptr<Matcher> m = std::move(pool_->free.back());
      pool_->free.pop_back();
      return m;
    }
  }
  return std::make_unique<Matcher>(text_patterns_, other_patterns_);
}

void Classifier::ReleaseMatcher(std::unique_ptr<Matcher> m) const {
  absl::MutexLock lock(&pool_->mu);
  pool_->free.push_back(std::move(m));
}

Classification Classifier::ClassifyWith(Matcher& m, const Response& r, bool spans) const {
  return ClassifyParsed(m, r, ParseEnhancedStatusLenient(r.enhanced_status), spans);
}

Classification Classifier::ClassifyParsed(Matcher& m, const Response& r, EnhancedStatus status,
                                          bool spans) const {
  Classification out;
  int code = IsValidReplyCode(r.reply_code) ? r.reply_code : 0;
  CodeSource code_src = code ? CodeSource::kGiven : CodeSource::kNone;
  CodeSource status_src = status.present() ? CodeSource::kGiven : CodeSource::kNone;
  // Codes are looked for in the text when something is missing, or when the
  // given status of a failure is generic ("5.0.0"); a 2xx success needs nothing.
  if (!r.diagnostic.empty() && MayReadCodesFromText(code, status)) {
    TextCodes tc = FindCodesInText(r.diagnostic);
    if (code == 0 && tc.reply_code != 0) {
      code = tc.reply_code;
      code_src = CodeSource::kText;
    }
    if (tc.status.present()) {
      if (!status.present()) {
        status = tc.status;
        status_src = CodeSource::kText;
      } else if (!tc.status.generic() && tc.status.klass == status.klass) {
        // "Status: 5.0.0" with "550 5.1.1 ..." in the text: the text is more specific.
        status = tc.status;
        status_src = CodeSource::kText;
      }
    }
  }
  out.reply_code = static_cast<int16_t>(code);
  out.reply_code_source = code_src;
  out.status = status;
  out.status_source = status_src;

  m.BeginRow(r.diagnostic);
  // The rules whose code and status conditions hold depend only on the
  // effective code and status (or, when statuses are matched as text, on the
  // status text): they are worked out once per distinct key and remembered.
  uint64_t key = 0;
  bool cacheable = true;
  if (infer_) {
    key = static_cast<uint64_t>(code) | (static_cast<uint64_t>(status.klass & 0xf) << 10) |
          (static_cast<uint64_t>(status.subject & 0x3ff) << 14) |
          (static_cast<uint64_t>(status.detail & 0x3ff) << 24);
  } else {
    const int64_t id = m.RawStatusId(r.enhanced_status);
    cacheable = id >= 0;
    key = static_cast<uint64_t>(code) | (static_cast<uint64_t>(id) << 10) | (uint64_t{1} << 63);
  }
  const std::pair<uint32_t, uint32_t>* plan = cacheable ? m.FindPlan(key) : nullptr;
  std::pair<uint32_t, uint32_t> new_plan;
  if (plan == nullptr) {
    std::vector<int32_t> hold;
    for (size_t k = 0; k < compiled_.size(); ++k) {
      if (CodeAndStatusHold(compiled_[k], code, status, r.enhanced_status)) {
        hold.push_back(static_cast<int32_t>(k));
      }
    }
    if (cacheable) {
      new_plan = m.AddPlan(key, hold);
      plan = &new_plan;
    } else {
      // Not cached: walk the list just made.
      return Decide(m, r, code, status, hold.data(), hold.size(), spans, std::move(out));
    }
  }
  return Decide(m, r, code, status, m.plan_rules() + plan->first, plan->second, spans, std::move(out));
}

bool Classifier::CodeAndStatusHold(const CompiledRule& cr, int code, const EnhancedStatus& status,
                                   absl::string_view raw_status) const {
  if (!cr.codes.empty()) {
    bool any = false;
    for (const CodePattern& p : cr.codes) {
      if (code >= p.lo && code <= p.hi) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  if (!cr.statuses.empty()) {
    bool any = false;
    for (const StatusPattern& p : cr.statuses) {
      if (infer_ ? StatusMatches(p, status) : RawStatusMatches(p, raw_status)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  return true;
}

// Whether codes are looked for in a row's text: when something is missing, or
// when the given status of a failure is generic ("5.0.0"); a 2xx success
// needs nothing. (ClassifyParsed does so only for a non-empty text.)
bool Classifier::MayReadCodesFromText(int code, const EnhancedStatus& status) const {
  return infer_ && (code == 0 || !status.present() || (status.generic() && status.klass != 2)) &&
         !(code >= 200 && code < 300 && (!status.present() || status.klass == 2));
}

// The rules whose code and status conditions hold for a row with this reply
// code and status, when no code or status would be looked for in its text
// (false otherwise): ClassifyPlanned then decides such rows as
// ClassifyParsed would.
bool Classifier::PlanFor(int reply_code, const EnhancedStatus& status, absl::string_view raw_status,
                         std::vector<int32_t>* plan) const {
  const int code = IsValidReplyCode(reply_code) ? reply_code : 0;
  if (MayReadCodesFromText(code, status)) return false;
  plan->clear();
  for (size_t k = 0; k < compiled_.size(); ++k) {
    if (CodeAndStatusHold(compiled_[k], code, status, raw_status)) plan->push_back(static_cast<int32_t>(k));
  }
  return true;
}

// Whether a plan (PlanFor's) decides its rows alone: its first rule has no
// condition besides code and status. Then *out is the outcome ClassifyParsed
// gives every row with this code and status, whatever its text and context.
bool Classifier::FixedOutcome(int reply_code, const EnhancedStatus& status, const std::vector<int32_t>& plan,
                              Classification* out) const {
  if (plan.empty()) return false;
  const CompiledRule& cr = compiled_[static_cast<size_t>(plan[0])];
  if (!cr.commands.empty() || !cr.actions.empty() || cr.text >= 0 || cr.not_text >= 0 || cr.remote_host >= 0 ||
      cr.destination >= 0) {
    return false;
  }
  const int code = IsValidReplyCode(reply_code) ? reply_code : 0;
  *out = Classification();
  out->reply_code = static_cast<int16_t>(code);
  out->reply_code_source = code ? CodeSource::kGiven : CodeSource::kNone;
  out->status = status;
  out->status_source = status.present() ? CodeSource::kGiven : CodeSource::kNone;
  Verdict(cr, code, status, out);
  return true;
}

Classification Classifier::ClassifyPlanned(Matcher& m, const Response& r, const EnhancedStatus& status,
                                           const int32_t* rules, size_t n_rules, bool spans) const {
  Classification out;
  const int code = IsValidReplyCode(r.reply_code) ? r.reply_code : 0;
  out.reply_code = static_cast<int16_t>(code);
  out.reply_code_source = code ? CodeSource::kGiven : CodeSource::kNone;
  out.status = status;
  out.status_source = status.present() ? CodeSource::kGiven : CodeSource::kNone;
  m.BeginRow(r.diagnostic);
  return Decide(m, r, code, status, rules, n_rules, spans, std::move(out));
}

void Classifier::Verdict(const CompiledRule& cr, int code, const EnhancedStatus& status,
                         Classification* out) const {
  // Decide the class under the profile.
  const int reply_class = ReplyClass(code, status);
  BounceClass k = cr.base_class;
  // A verdict made soft because the receiver answered 4xx is retryable:
  // the receiver itself said it is temporary.
  bool softened = false;
  if (cr.profile_class.has_value()) {
    k = *cr.profile_class;
  } else if (profile_.class_from_reply_code &&
             (k == BounceClass::kSoft || k == BounceClass::kHard) &&
             (reply_class == 4 || reply_class == 5)) {
    softened = k == BounceClass::kHard && reply_class == 4;
    k = reply_class == 5 ? BounceClass::kHard : BounceClass::kSoft;
  } else if (profile_.soften_transient && k == BounceClass::kHard && reply_class == 4) {
    k = BounceClass::kSoft;
    softened = true;
  }
  bool retry;
  if (cr.retryable.has_value()) {
    retry = *cr.retryable;
  } else if (softened) {
    retry = true;
  } else if (k == BounceClass::kHard || k == BounceClass::kDelivered ||
             k == BounceClass::kComplaint || k == BounceClass::kAutoReply) {
    retry = false;
  } else if (cr.retry == Retry::kYes) {
    retry = true;
  } else if (cr.retry == Retry::kNo) {
    retry = false;
  } else {
    retry = reply_class == 4 || (reply_class == 0 && k == BounceClass::kSoft);
  }
  out->bounce_class = k;
  out->category = cr.category;
  out->blame = cr.blame;
  out->retryable = retry;
  out->rule = cr.rule_index;
}

Classification Classifier::Decide(Matcher& m, const Response& r, int code, const EnhancedStatus& status,
                                  const int32_t* rules, size_t n_rules, bool spans,
                                  Classification out) const {
  std::string command, action;
  bool have_command = false, have_action = false;
  for (size_t j = 0; j < n_rules; ++j) {
    const RuleBrief& b = briefs_[static_cast<size_t>(rules[j])];
    if (b.text >= 0 && !m.TextMatches(b.text)) continue;
    if (b.not_text >= 0 && m.TextMatches(b.not_text)) continue;
    const CompiledRule& cr = compiled_[rules[j]];
    if (!b.simple && !OtherConditionsHold(m, r, cr, &command, &have_command, &action, &have_action)) continue;
    Verdict(cr, code, status, &out);
    if (spans && cr.text >= 0 && !m.repaired()) {
      auto [mb, me] = m.Span(cr.text);
      out.match_begin = mb;
      out.match_end = me;
    }
    return out;
  }
  // No rule matched (a rule file without a catch-all).
  out.bounce_class = BounceClass::kUndetermined;
  out.category = static_cast<int32_t>(FindCategory("undetermined") - Categories().data());
  out.blame = Blame::kUnknown;
  out.retryable = ReplyClass(code, status) == 4;
  out.rule = -1;
  return out;
}

bool Classifier::OtherConditionsHold(Matcher& m, const Response& r, const CompiledRule& cr, std::string* command,
                                     bool* have_command, std::string* action, bool* have_action) const {
  if (!cr.commands.empty()) {
    if (!*have_command) {
      *command = NormalizeCommand(r.smtp_command);
      *have_command = true;
    }
    if (std::find(cr.commands.begin(), cr.commands.end(), *command) == cr.commands.end()) return false;
  }
  if (!cr.actions.empty()) {
    if (!*have_action) {
      *action = NormalizeAction(r.action);
      *have_action = true;
    }
    if (std::find(cr.actions.begin(), cr.actions.end(), *action) == cr.actions.end()) return false;
  }
  if (cr.remote_host >= 0 && !m.OtherMatches(cr.remote_host, r.remote_host)) return false;
  if (cr.destination >= 0 && !m.OtherMatches(cr.destination, r.destination)) return false;
  return true;
}

Classification Classifier::Classify(const Response& response) const {
  std::unique_ptr<Matcher> m = AcquireMatcher();
  Classification c = ClassifyWith(*m, response, /*spans=*/true);
  ReleaseMatcher(std::move(m));
  return c;
}

absl::Status Classifier::ClassifyBatches(absl::Span<const ClassifyInput> inputs, int threads,
                                         const ClassifyOutput& out,
                                         StatusDictionary* statuses) const {
  struct Unit {
    int32_t batch;
    int64_t begin;
    int64_t end;
    int64_t out_offset;
  };
  std::vector<Unit> units;
  int64_t total = 0;
  for (size_t b = 0; b < inputs.size(); ++b) {
    const ClassifyInput& in = inputs[b];
    const int64_t n = in.num_rows;
    const std::pair<const char*, int64_t> sizes[] = {
        {"reply_code", in.reply_code.size()},   {"enhanced_status", in.enhanced_status.size()},
        {"diagnostic", in.diagnostic.size()},   {"smtp_command", in.smtp_command.size()},
        {"remote_host", in.remote_host.size()}, {"action", in.action.size()},
        {"destination", in.destination.size()}};
    for (const auto& [name, size] : sizes) {
      if (size != n) {
        return WithColumn(absl::InvalidArgumentError(absl::StrCat(
                              "column '", name, "' has ", size, " rows in batch ", b,
                              " but the batch has ", n, " rows")),
                          name);
      }
    }
    for (int64_t s = 0; s < n; s += kUnitRows) {
      units.push_back({static_cast<int32_t>(b), s, std::min(n, s + kUnitRows), total + s});
    }
    total += n;
  }
  // Every output is optional (an empty span is not written); one that is
  // given must hold every row.
  const std::pair<const char*, size_t> out_sizes[] = {
      {"bounce_class", out.bounce_class.size()}, {"category", out.category.size()},
      {"blame", out.blame.size()},               {"retryable", out.retryable.size()},
      {"rule", out.rule.size()},                 {"reply_code", out.reply_code.size()},
      {"reply_code_source", out.reply_code_source.size()},
      {"status", out.status.size()},             {"status_source", out.status_source.size()},
      {"status_class", out.status_class.size()}, {"status_subject", out.status_subject.size()},
      {"status_detail", out.status_detail.size()},
      {"status_registered", out.status_registered.size()},
      {"match_begin", out.match_begin.size()},   {"match_end", out.match_end.size()}};
  for (const auto& [name, size] : out_sizes) {
    if (size != 0 && static_cast<int64_t>(size) < total) {
      return absl::InvalidArgumentError(
          absl::StrCat("output '", name, "' holds ", size, " rows; ", total, " are needed"));
    }
  }
  const bool spans = !out.match_begin.empty() || !out.match_end.empty();
  const bool want_status = !out.status.empty();
  const bool want_registered = !out.status_registered.empty();
  if (units.empty()) {
    statuses->statuses.clear();
    return absl::OkStatus();
  }
  const int n_threads = std::max(1, std::min<int>(threads, static_cast<int>(units.size())));

  // Each worker keeps a local status dictionary; they are merged into one
  // sorted dictionary afterwards so that indices do not depend on threads.
  struct Worker {
    absl::flat_hash_map<int32_t, int32_t> local;  // packed status -> local index
    std::vector<int32_t> packed;                  // local index -> packed status
    std::vector<int32_t> unit_ids;
  };
  std::vector<Worker> workers(n_threads);
  std::atomic<size_t> next{0};
  auto pack = [](const EnhancedStatus& s) {
    return static_cast<int32_t>(s.klass) * 1000000 + s.subject * 1000 + s.detail;
  };
  // Raw pointers to the outputs (nullptr: not asked for): the row loop then
  // pays no bounds assertion per write (Debian's Abseil is hardened).
  auto raw = [](auto span) { return span.empty() ? nullptr : span.data(); };
  const auto o_bounce_class = raw(out.bounce_class), o_blame = raw(out.blame), o_retryable = raw(out.retryable),
             o_reply_code_source = raw(out.reply_code_source), o_status_source = raw(out.status_source),
             o_status_registered = raw(out.status_registered);
  const auto o_category = raw(out.category), o_rule = raw(out.rule), o_match_begin = raw(out.match_begin),
             o_match_end = raw(out.match_end), o_status = raw(out.status);
  const auto o_reply_code = raw(out.reply_code);
  const auto o_status_class = raw(out.status_class);
  const auto o_status_subject = raw(out.status_subject), o_status_detail = raw(out.status_detail);
  const bool more_outputs = o_blame || o_retryable || o_reply_code_source || o_status_source ||
                            o_status_registered || o_match_begin || o_match_end || o_status || o_reply_code ||
                            o_status_class || o_status_subject || o_status_detail;
  auto work = [&](int w) {
    Worker& me = workers[w];
    std::unique_ptr<Matcher> m = AcquireMatcher();
    int32_t last_packed = -1, last_local = -1;
    EnhancedStatus last_described;
    bool last_registered = false;
    // One-entry cache of the last status cell (runs of equal cells are
    // common), then a bounded table of every status text seen, and whether
    // each packed status is registered.
    constexpr size_t kMaxCachedStatuses = 4096;
    absl::flat_hash_map<std::string, EnhancedStatus> parsed_statuses;
    absl::flat_hash_map<int32_t, bool> registered;
    std::string last_status_text;
    EnhancedStatus last_status;
    bool have_last_status = false;
    // Per (reply code, status text): the outcome, when those two decide it.
    struct FixedEntry {
      bool fixed = false;
      Classification outcome;
      // When not fixed: the rules whose code and status conditions hold,
      // when no code or status can come from the text (planned).
      bool planned = false;
      std::vector<int32_t> plan;
    };
    std::vector<FixedEntry> fixed;
    absl::flat_hash_map<std::string, int32_t> fixed_index;
    std::string fixed_key;
    int32_t last_fixed = -1;
    int last_fixed_code = 0;
    struct Pending {
      int64_t row;
      EnhancedStatus status;
      int32_t entry;  // index into fixed, or -1
    };
    std::vector<Pending> pending;
    std::vector<int> codes;
    std::vector<absl::string_view> unit_statuses;
    std::vector<absl::string_view> pending_texts;
    std::vector<int32_t> found;
    std::vector<std::pair<int32_t, int32_t>> found_spans;
    std::vector<uint8_t> found_utf8;
    struct Slot {
      uint64_t head = 0;
      uint32_t length = ~0u;  // never a real length: the slot is empty
      int code = 0;
      EnhancedStatus status;
      int32_t fixed = -1;
      // A fixed outcome's class, category and rule, here (no indirection on
      // the commonest path: W1's three outputs for a decided row).
      bool is_fixed = false;
      uint8_t klass = 0;
      int32_t category = 0;
      int32_t rule = 0;
    };
    constexpr int kSlotBits = 8;
    std::vector<Slot> slots(size_t{1} << kSlotBits);
    while (true) {
      const size_t u = next.fetch_add(1, std::memory_order_relaxed);
      if (u >= units.size()) break;
      me.unit_ids.push_back(static_cast<int32_t>(u));
      const Unit& unit = units[u];
      const ClassifyInput& in = inputs[unit.batch];
      Response r;  // reused: zeroing it per row showed up in profiles
      // Writes row i's outcome.
      auto write = [&](int64_t i, const Classification& c) ABSL_ATTRIBUTE_ALWAYS_INLINE {
        const int64_t o = unit.out_offset + (i - unit.begin);
        if (o_bounce_class != nullptr) o_bounce_class[o] = static_cast<uint8_t>(c.bounce_class);
        if (o_category != nullptr) o_category[o] = c.category;
        if (o_rule != nullptr) o_rule[o] = c.rule;
        if (!more_outputs) return;  // W1 asks for the three above only
        if (o_blame != nullptr) o_blame[o] = static_cast<uint8_t>(c.blame);
        if (o_retryable != nullptr) o_retryable[o] = c.retryable ? 1 : 0;
        if (o_reply_code != nullptr) o_reply_code[o] = c.reply_code;
        if (o_reply_code_source != nullptr) {
          o_reply_code_source[o] = static_cast<uint8_t>(c.reply_code_source);
        }
        if (o_status_source != nullptr) o_status_source[o] = static_cast<uint8_t>(c.status_source);
        if (o_match_begin != nullptr) o_match_begin[o] = c.match_begin;
        if (o_match_end != nullptr) o_match_end[o] = c.match_end;
        if (o_status_class != nullptr) o_status_class[o] = c.status.klass;
        if (o_status_subject != nullptr) o_status_subject[o] = c.status.subject;
        if (o_status_detail != nullptr) o_status_detail[o] = c.status.detail;
        if (!c.status.present()) {
          if (want_status) o_status[o] = -1;
          if (want_registered) o_status_registered[o] = 0;
          return;
        }
        const int32_t p = pack(c.status);
        if (want_registered) {
          if (c.status != last_described) {
            last_described = c.status;
            auto it = registered.find(p);
            if (it == registered.end()) it = registered.emplace(p, DescribeStatus(c.status).registered).first;
            last_registered = it->second;
          }
          o_status_registered[o] = last_registered ? 1 : 0;
        }
        if (!want_status) return;
        if (p != last_packed) {
          auto [it, inserted] = me.local.try_emplace(p, static_cast<int32_t>(me.packed.size()));
          if (inserted) me.packed.push_back(p);
          last_packed = p;
          last_local = it->second;
        }
        o_status[o] = last_local;
      };
      // Pass 1: rows that their code and status decide are written now; the
      // others wait, with their parsed status.
      pending.clear();
      codes.resize(static_cast<size_t>(unit.end - unit.begin));
      in.reply_code.GetRange(unit.begin, unit.end - unit.begin, codes.data());
      unit_statuses.resize(codes.size());
      in.enhanced_status.GetRange(unit.begin, unit.end - unit.begin, unit_statuses.data());
      for (int64_t i = unit.begin; i < unit.end; ++i) {
        r.reply_code = codes[static_cast<size_t>(i - unit.begin)];
        r.enhanced_status = unit_statuses[static_cast<size_t>(i - unit.begin)];
        // Statuses of up to 8 bytes go through a direct-mapped table keyed by
        // (code, status bytes); the maps below see only its misses.
        const absl::string_view st = r.enhanced_status;
        Slot* slot = nullptr;
        uint64_t head = 0;
        bool hit = false;
        const EnhancedStatus* row_status = &last_status;
        if (st.size() <= 8) {
          head = ShortKey(st);
          const uint64_t h = (head ^ (uint64_t{st.size()} << 59) ^
                              (static_cast<uint64_t>(static_cast<uint32_t>(r.reply_code)) * 0x9E3779B97F4A7C15ull)) *
                             0xD6E8FEB86659FD93ull;
          slot = &slots[h >> (64 - kSlotBits)];
          if (slot->head == head && slot->length == st.size() && slot->code == r.reply_code) {
            if (slot->is_fixed && !more_outputs) {
              const int64_t o = unit.out_offset + (i - unit.begin);
              if (o_bounce_class != nullptr) o_bounce_class[o] = slot->klass;
              if (o_category != nullptr) o_category[o] = slot->category;
              if (o_rule != nullptr) o_rule[o] = slot->rule;
              continue;
            }
            row_status = &slot->status;
            last_fixed = slot->fixed;
            have_last_status = false;  // last_status_text no longer describes last_status
            hit = true;
          }
        }
        if (!hit) {
          if (!have_last_status || r.enhanced_status != last_status_text) {
            // A column holds few distinct status texts: parse each once.
            auto it = parsed_statuses.find(r.enhanced_status);
            if (it == parsed_statuses.end()) {
              if (parsed_statuses.size() >= kMaxCachedStatuses) parsed_statuses.clear();
              it = parsed_statuses
                       .emplace(std::string(r.enhanced_status), ParseEnhancedStatusLenient(r.enhanced_status))
                       .first;
            }
            last_status = it->second;
            last_status_text.assign(r.enhanced_status.data(), r.enhanced_status.size());
            have_last_status = true;
            last_fixed = -1;
          }
          if (last_fixed < 0 || r.reply_code != last_fixed_code) {
            // Whether this (code, status) decides the row alone, worked out
            // once per pair (most rows are deliveries and plain 4xx/5xx codes).
            fixed_key.assign(reinterpret_cast<const char*>(&r.reply_code), sizeof(r.reply_code));
            fixed_key.append(r.enhanced_status.data(), r.enhanced_status.size());
            auto it = fixed_index.find(fixed_key);
            if (it == fixed_index.end()) {
              if (fixed.size() >= kMaxCachedStatuses) {
                fixed_index.clear();
                fixed.clear();
                slots.assign(slots.size(), Slot{});
                for (Pending& q : pending) q.entry = -1;  // their entries are gone
              }
              FixedEntry e;
              e.planned = PlanFor(r.reply_code, last_status, r.enhanced_status, &e.plan);
              e.fixed = e.planned && FixedOutcome(r.reply_code, last_status, e.plan, &e.outcome);
              it = fixed_index.emplace(fixed_key, static_cast<int32_t>(fixed.size())).first;
              fixed.push_back(e);
            }
            last_fixed = it->second;
            last_fixed_code = r.reply_code;
          }
          if (slot != nullptr) {
            const FixedEntry& e = fixed[static_cast<size_t>(last_fixed)];
            *slot = Slot{head,
                         static_cast<uint32_t>(st.size()),
                         r.reply_code,
                         last_status,
                         last_fixed,
                         e.fixed,
                         static_cast<uint8_t>(e.outcome.bounce_class),
                         e.outcome.category,
                         e.outcome.rule};
          }
        }
        const FixedEntry& fe = fixed[static_cast<size_t>(last_fixed)];
        if (fe.fixed) {
          write(i, fe.outcome);
        } else {
          pending.push_back({i, *row_status, last_fixed});
        }
      }
      // Pass 2: the DFA reads the pending rows' texts, eight at a time.
      internal::TextDfa* dfa = m->dfa();
      if (dfa != nullptr && !pending.empty()) {
        pending_texts.clear();
        for (const Pending& q : pending) pending_texts.push_back(in.diagnostic.Get(q.row));
        dfa->FindAll(pending_texts, &found, &found_spans, &found_utf8);
      }
      // Pass 3: the rules for each pending row (RE2 reads the texts the DFA
      // did not).
      for (size_t k = 0; k < pending.size(); ++k) {
        const int64_t i = pending[k].row;
        r.reply_code = in.reply_code.Get(i);
        r.enhanced_status = in.enhanced_status.Get(i);
        r.diagnostic = in.diagnostic.Get(i);
        r.smtp_command = in.smtp_command.Get(i);
        r.remote_host = in.remote_host.Get(i);
        r.action = in.action.Get(i);
        r.destination = in.destination.Get(i);
        if (dfa != nullptr && found_spans[k].second >= 0) {
          m->Preset(found.data() + found_spans[k].first, found_spans[k].second, found_utf8[k] != 0);
        }
        const int32_t entry = pending[k].entry;
        if (entry >= 0 && fixed[static_cast<size_t>(entry)].planned) {
          const std::vector<int32_t>& plan = fixed[static_cast<size_t>(entry)].plan;
          write(i, ClassifyPlanned(*m, r, pending[k].status, plan.data(), plan.size(), spans));
        } else {
          write(i, ClassifyParsed(*m, r, pending[k].status, spans));
        }
      }
    }
    ReleaseMatcher(std::move(m));
  };
  if (n_threads == 1) {
    work(0);
  } else {
    std::vector<std::thread> pool;
    pool.reserve(n_threads);
    for (int w = 0; w < n_threads; ++w) pool.emplace_back(work, w);
    for (std::thread& t : pool) t.join();
  }

  // Merge the local dictionaries into one, sorted by (class, subject, detail).
  std::vector<int32_t> all;
  for (const Worker& w : workers) all.insert(all.end(), w.packed.begin(), w.packed.end());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  absl::flat_hash_map<int32_t, int32_t> global;
  statuses->statuses.clear();
  for (size_t i = 0; i < all.size(); ++i) {
    global[all[i]] = static_cast<int32_t>(i);
    EnhancedStatus s;
    s.klass = static_cast<int8_t>(all[i] / 1000000);
    s.subject = static_cast<int16_t>((all[i] / 1000) % 1000);
    s.detail = static_cast<int16_t>(all[i] % 1000);
    statuses->statuses.push_back(s);
  }
  for (const Worker& w : workers) {
    std::vector<int32_t> remap(w.packed.size());
    bool identity = true;
    for (size_t i = 0; i < w.packed.size(); ++i) {
      remap[i] = global[w.packed[i]];
      identity = identity && remap[i] == static_cast<int32_t>(i);
    }
    if (identity) continue;
    for (int32_t u : w.unit_ids) {
      const Unit& unit = units[u];
      for (int64_t o = unit.out_offset; o < unit.out_offset + (unit.end - unit.begin); ++o) {
        if (out.status[o] >= 0) out.status[o] = remap[out.status[o]];
      }
    }
  }
  return absl::OkStatus();
}

std::string Classifier::RuleExplanation(int32_t rule) const {
  if (rule < 0 || rule >= static_cast<int32_t>(rules_.rules().size())) {
    return "no rule matched: undetermined";
  }
  const Rule& r = rules_.rules()[rule];
  if (!r.why.empty()) return r.why;
  std::vector<std::string> conds;
  if (!r.codes.empty()) {
    std::vector<std::string> c;
    for (const CodePattern& p : r.codes) {
      if (p.hi == 0) {
        c.push_back("none");
      } else if (p.lo == p.hi) {
        c.push_back(absl::StrCat(p.lo));
      } else {
        std::string s = absl::StrCat(p.lo);
        if (p.hi - p.lo == 9) s[2] = 'x';
        if (p.hi - p.lo == 99) s[1] = s[2] = 'x';
        c.push_back(s);
      }
    }
    conds.push_back(absl::StrCat("reply code ", absl::StrJoin(c, "/")));  // "none" = no code
  }
  if (!r.statuses.empty()) {
    std::vector<std::string> s;
    for (const StatusPattern& p : r.statuses) s.push_back(p.ToString());
    conds.push_back(absl::StrCat("status ", absl::StrJoin(s, "/")));
  }
  if (!r.text.empty()) conds.push_back(absl::StrCat("text matches /", r.text, "/"));
  if (!r.not_text.empty()) conds.push_back(absl::StrCat("text does not match /", r.not_text, "/"));
  if (!r.commands.empty()) conds.push_back(absl::StrCat("at ", absl::StrJoin(r.commands, "/")));
  if (!r.actions.empty()) conds.push_back(absl::StrCat("action ", absl::StrJoin(r.actions, "/")));
  if (!r.remote_host.empty()) conds.push_back(absl::StrCat("remote host matches /", r.remote_host, "/"));
  if (!r.destination.empty()) conds.push_back(absl::StrCat("destination matches /", r.destination, "/"));
  if (conds.empty()) return absl::StrCat("catch-all: ", r.category);
  return absl::StrCat(absl::StrJoin(conds, ", "), " -> ", r.category);
}

std::string Classifier::Explain(const Response& response, const Classification& c) const {
  std::string out;
  absl::string_view cls = class_label(c.bounce_class);
  absl::string_view cat = c.category >= 0 && c.category < static_cast<int32_t>(category_names_.size())
                              ? absl::string_view(category_names_[c.category])
                              : absl::string_view("undetermined");
  if (c.rule < 0) {
    absl::StrAppend(&out, cls, "/", cat, ": no rule matched");
  } else {
    const Rule& r = rules_.rules()[c.rule];
    absl::StrAppend(&out, cls, "/", cat, " by rule '", r.id, "'");
    std::vector<std::string> parts;
    if (!r.codes.empty()) parts.push_back(absl::StrCat("reply code ", c.reply_code));
    if (!r.statuses.empty()) parts.push_back(absl::StrCat("status ", c.status.ToString()));
    if (!r.commands.empty()) parts.push_back(absl::StrCat("command ", NormalizeCommand(response.smtp_command)));
    if (!r.actions.empty()) parts.push_back(absl::StrCat("action ", NormalizeAction(response.action)));
    if (!r.text.empty() && c.match_begin >= 0 &&
        c.match_end <= static_cast<int32_t>(response.diagnostic.size())) {
      parts.push_back(absl::StrCat("text '", response.diagnostic.substr(c.match_begin, c.match_end - c.match_begin), "'"));
    }
    if (!parts.empty()) absl::StrAppend(&out, " (matched ", absl::StrJoin(parts, ", "), ")");
    absl::StrAppend(&out, ": ", RuleExplanation(c.rule));
  }
  if (c.reply_code_source == CodeSource::kText) {
    absl::StrAppend(&out, "; reply code ", c.reply_code, " read from the text");
  }
  if (c.status_source == CodeSource::kText) {
    absl::StrAppend(&out, "; status ", c.status.ToString(), " read from the text");
  }
  return out;
}

}  // namespace bouncekit
