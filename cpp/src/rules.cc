// Copyright 2026 The bouncekit authors.

#include "bouncekit/rules.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bouncekit/error_location.h"
#include "re2/re2.h"

namespace bouncekit {

absl::StatusOr<CodePattern> ParseCodePattern(absl::string_view text) {
  absl::string_view s = absl::StripAsciiWhitespace(text);
  if (s == "none") return CodePattern{0, 0};
  auto bad = [&]() {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad reply-code pattern '", s,
        "': want three characters, a digit then digits or trailing 'x' (421, 45x, 5xx)"));
  };
  if (s.size() != 3 || !absl::ascii_isdigit(s[0])) return bad();
  // A pattern outside 200..599 could never match (reply codes outside that
  // range read as "no code"): reject it instead of keeping a dead rule.
  if (s[0] < '2' || s[0] > '5') {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad reply-code pattern '", s, "': reply codes run from 200 to 599"));
  }
  int lo = s[0] - '0', hi = lo;
  bool wild = false;
  for (int i = 1; i < 3; ++i) {
    const char c = absl::ascii_tolower(s[i]);
    if (c == 'x') {
      wild = true;
      lo = lo * 10;
      hi = hi * 10 + 9;
    } else if (absl::ascii_isdigit(c) && !wild) {
      lo = lo * 10 + (c - '0');
      hi = hi * 10 + (c - '0');
    } else {
      return bad();
    }
  }
  return CodePattern{static_cast<int16_t>(lo), static_cast<int16_t>(hi)};
}

absl::StatusOr<StatusPattern> ParseStatusPattern(absl::string_view text) {
  absl::string_view s = absl::StripAsciiWhitespace(text);
  if (s == "none") return StatusPattern{};
  std::vector<absl::string_view> parts = absl::StrSplit(s, '.');
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("bad status pattern '", s, "': ", why));
  };
  if (s.empty() || parts.size() > 3) {
    return bad("want 1 to 3 dot-separated numbers (5, 5.7, 5.1.1; x.7.26 for any class)");
  }
  StatusPattern p;
  p.parts = static_cast<int8_t>(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    absl::string_view part = parts[i];
    if (i == 0 && (part == "x" || part == "X")) {
      p.klass = -1;
      continue;
    }
    if (part.empty() || part.size() > 3) return bad("each part is 1 to 3 digits");
    int v = 0, v_hi = 0;
    bool wild = false;
    for (size_t k = 0; k < part.size(); ++k) {
      const char c = part[k];
      if ((c == 'x' || c == 'X') && i == 2 && k > 0) {
        wild = true;
        v = v * 10;
        v_hi = v_hi * 10 + 9;
        continue;
      }
      if (!absl::ascii_isdigit(c) || wild) {
        return bad(i == 2 ? "the detail is 1 to 3 digits, or digits then 'x' wildcards (5xx, 50x)"
                          : "each part is 1 to 3 digits");
      }
      v = v * 10 + (c - '0');
      v_hi = v_hi * 10 + (c - '0');
    }
    if (i == 0) {
      if (part.size() != 1 || (v != 2 && v != 4 && v != 5)) return bad("the class is 2, 4, 5 or x");
      p.klass = static_cast<int8_t>(v);
    } else if (i == 1) {
      p.subject = static_cast<int16_t>(v);
    } else {
      p.detail = static_cast<int16_t>(v);
      p.detail_hi = static_cast<int16_t>(v_hi);
      p.detail_width = static_cast<int8_t>(part.size());
    }
  }
  if (p.parts == 1 && p.klass == -1) return bad("'x' alone would match every status");
  return p;
}

std::string StatusPattern::ToString() const {
  if (parts == 0) return "none";
  std::string out = klass < 0 ? "x" : absl::StrCat(klass);
  if (parts >= 2) absl::StrAppend(&out, ".", subject);
  if (parts >= 3) {
    std::string d = absl::StrCat(detail);
    if (detail_hi != detail) {
      // Wildcards replace the trailing digits: "5xx" spans 500..599, "0x" 0..9.
      std::string hi = absl::StrCat(detail_hi);
      const size_t width = detail_width > 0 ? static_cast<size_t>(detail_width) : hi.size();
      while (d.size() < width) d.insert(d.begin(), '0');
      while (hi.size() < width) hi.insert(hi.begin(), '0');
      for (size_t k = 0; k < d.size() && k < hi.size(); ++k) {
        if (d[k] != hi[k]) d[k] = 'x';
      }
    }
    absl::StrAppend(&out, ".", d);
  }
  return out;
}

bool Rule::ActiveIn(absl::string_view profile) const {
  for (const std::string& p : not_profiles) {
    if (p == profile) return false;
  }
  if (profiles.empty()) return true;
  for (const std::string& p : profiles) {
    if (p == profile) return true;
  }
  return false;
}

bool Rule::HasCondition() const {
  return !codes.empty() || !statuses.empty() || !text.empty() || !not_text.empty() ||
         !commands.empty() || !actions.empty() || !remote_host.empty() || !destination.empty();
}

const Profile* RuleSet::FindProfile(absl::string_view name) const {
  for (const Profile& p : profiles_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

absl::string_view RuleSet::ClassLabel(BounceClass c) const {
  const std::string& label = class_labels_[static_cast<int>(c)];
  return label.empty() ? BounceClassName(c) : absl::string_view(label);
}

// Builds a RuleSet from a document, validating as it goes.
class RuleSetBuilder {
 public:
  explicit RuleSetBuilder(absl::string_view source) : source_(source) {}

  absl::StatusOr<RuleSet> FromConfig(const ConfigValue& doc) {
    if (!doc.is_table()) return Fail(doc, "", "a rule file is a table at the top level");
    for (const auto& [key, value] : doc.entries()) {
      if (key != "ruleset" && key != "profiles" && key != "categories" && key != "rules") {
        return Fail(value, key, absl::StrCat("unknown top-level key '", key,
                                             "' (expected ruleset, profiles, categories, rules)"));
      }
    }
    if (const ConfigValue* meta = doc.Find("ruleset")) {
      absl::Status st = ReadMeta(*meta);
      if (!st.ok()) return st;
    }
    if (const ConfigValue* cats = doc.Find("categories")) {
      absl::Status st = ReadCategories(*cats);
      if (!st.ok()) return st;
    }
    if (const ConfigValue* profiles = doc.Find("profiles")) {
      absl::Status st = ReadProfiles(*profiles);
      if (!st.ok()) return st;
    }
    EnsureDefaultProfile();
    const ConfigValue* rules = doc.Find("rules");
    if (rules == nullptr) return Fail(doc, "rules", "a rule file needs at least one [[rules]] entry");
    if (!rules->is_array()) return Fail(*rules, "rules", "'rules' must be an array of tables ([[rules]])");
    for (const ConfigValue& r : rules->items()) {
      absl::Status st = ReadRule(r);
      if (!st.ok()) return st;
    }
    if (set_.rules_.empty()) return Fail(*rules, "rules", "the rule list is empty");
    absl::Status st = ValidateProfileReferences();
    if (!st.ok()) return st;
    return std::move(set_);
  }

  absl::StatusOr<RuleSet> FromTsv(absl::string_view text) {
    set_.infer_codes_from_text_ = false;  // SPEC W1: columns are taken as given
    std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
    std::vector<std::string> header;
    int line_no = 0;
    size_t header_line = 0;
    for (absl::string_view raw : lines) {
      ++line_no;
      absl::string_view line = absl::StripSuffix(raw, "\r");
      if (absl::StripAsciiWhitespace(line).empty() || absl::StartsWith(line, "#")) continue;
      std::vector<std::string> cells = absl::StrSplit(line, '\t');
      if (header.empty()) {
        header = cells;
        header_line = line_no;
        for (std::string& h : header) h = std::string(absl::StripAsciiWhitespace(h));
        static constexpr absl::string_view kRequired[] = {
            "rule_id", "code", "status", "diag_regex", "bounce_class", "category"};
        for (absl::string_view req : kRequired) {
          if (std::find(header.begin(), header.end(), req) == header.end()) {
            return TsvError(line_no, 1, req,
                            absl::StrCat("the header has no '", req, "' column (a rule TSV starts with "
                                         "rule_id, code, status, diag_regex, bounce_class, category)"));
          }
        }
        absl::flat_hash_set<std::string> seen;
        for (size_t i = 0; i < header.size(); ++i) {
          if (!IsTsvColumn(header[i])) {
            return TsvError(line_no, static_cast<int>(i) + 1, header[i],
                            absl::StrCat("unknown column '", header[i], "'"));
          }
          if (!seen.insert(header[i]).second) {
            return TsvError(line_no, static_cast<int>(i) + 1, header[i],
                            absl::StrCat("column '", header[i], "' appears twice"));
          }
        }
        continue;
      }
      if (cells.size() > header.size()) {
        return TsvError(line_no, static_cast<int>(header.size()) + 1, "",
                        absl::StrCat("line has ", cells.size(), " cells but the header has ",
                                     header.size()));
      }
      ConfigValue rule = ConfigValue::Table();
      rule.set_position(line_no, 1);
      for (size_t i = 0; i < cells.size(); ++i) {
        const std::string& col = header[i];
        absl::string_view cell = cells[i];
        if (col != "diag_regex" && col != "note") cell = absl::StripAsciiWhitespace(cell);
        if (cell.empty()) continue;
        std::string key = col == "rule_id" ? "id"
                          : col == "diag_regex" ? "text"
                          : col == "bounce_class" ? "class"
                          : col == "note" ? "why"
                                          : col;
        ConfigValue v;
        if (key == "code" || key == "status" || key == "command" || key == "action" ||
            key == "profiles" || key == "not_profiles") {
          v = ConfigValue::Array();
          for (absl::string_view part : absl::StrSplit(cell, ',')) {
            ConfigValue item = ConfigValue::String(std::string(absl::StripAsciiWhitespace(part)));
            item.set_position(line_no, static_cast<int>(i) + 1);
            v.mutable_items().push_back(std::move(item));
          }
        } else if (key == "retryable") {
          if (cell != "true" && cell != "false") {
            return TsvError(line_no, static_cast<int>(i) + 1, col, "retryable is 'true' or 'false'");
          }
          v = ConfigValue::Bool(cell == "true");
        } else {
          v = ConfigValue::String(std::string(cell));
        }
        v.set_position(line_no, static_cast<int>(i) + 1);
        rule.Set(std::move(key), std::move(v));
        if (col == "bounce_class" && cell == "unknown") {
          set_.class_labels_[static_cast<int>(BounceClass::kUndetermined)] = "unknown";
        }
      }
      if (rule.Find("category") == nullptr) {
        return TsvError(line_no, 1, "category", "every rule needs a category");
      }
      absl::Status st = ReadRule(rule);
      if (!st.ok()) return st;
    }
    if (header.empty()) return TsvError(1, 1, "", "empty rule file");
    if (set_.rules_.empty()) return TsvError(static_cast<int>(header_line), 1, "", "no rules after the header");
    EnsureDefaultProfile();
    absl::Status st = ValidateProfileReferences();
    if (!st.ok()) return st;
    return std::move(set_);
  }

 private:
  static bool IsTsvColumn(absl::string_view c) {
    static constexpr absl::string_view kCols[] = {
        "rule_id", "code", "status", "diag_regex", "bounce_class", "category", "note",
        "not_text", "command", "action", "remote_host", "destination", "profiles",
        "not_profiles", "blame", "retryable"};
    for (absl::string_view k : kCols) {
      if (c == k) return true;
    }
    return false;
  }

  absl::Status TsvError(int line, int column, absl::string_view field, absl::string_view message) {
    std::string prefix = source_.empty() ? "" : absl::StrCat(source_, ":");
    absl::Status st = absl::InvalidArgumentError(absl::StrCat(prefix, line, ": ", message));
    st = WithTextPosition(std::move(st), line, column);
    if (!field.empty()) st = WithField(std::move(st), field);
    if (!source_.empty()) st = WithSource(std::move(st), source_);
    return st;
  }

  absl::Status Fail(const ConfigValue& at, absl::string_view field, absl::string_view message) {
    std::string where;
    if (!source_.empty()) absl::StrAppend(&where, source_, ":");
    if (at.line() > 0) absl::StrAppend(&where, at.line(), ":", at.column(), ":");
    if (!where.empty()) absl::StrAppend(&where, " ");
    absl::Status st = absl::InvalidArgumentError(absl::StrCat(where, message));
    if (at.line() > 0) st = WithTextPosition(std::move(st), at.line(), at.column());
    if (!field.empty()) st = WithField(std::move(st), field);
    if (!source_.empty()) st = WithSource(std::move(st), source_);
    return st;
  }

  absl::StatusOr<std::string> GetString(const ConfigValue& v, absl::string_view field,
                                        absl::string_view context) {
    if (!v.is_string()) {
      return Fail(v, field, absl::StrCat(context, "'", field, "' must be a string, not a ",
                                         v.TypeName()));
    }
    return v.string_value();
  }

  // A string or an array of strings.
  absl::StatusOr<std::vector<std::string>> GetStringList(const ConfigValue& v, absl::string_view field,
                                                         absl::string_view context) {
    std::vector<std::string> out;
    if (v.is_string()) {
      for (absl::string_view part : absl::StrSplit(v.string_value(), ',')) {
        absl::string_view p = absl::StripAsciiWhitespace(part);
        if (!p.empty()) out.emplace_back(p);
      }
      return out;
    }
    if (!v.is_array()) {
      return Fail(v, field, absl::StrCat(context, "'", field,
                                         "' must be a string or an array of strings, not a ",
                                         v.TypeName()));
    }
    for (const ConfigValue& item : v.items()) {
      if (!item.is_string()) {
        return Fail(item, field, absl::StrCat(context, "'", field, "' items must be strings, not ",
                                              item.TypeName()));
      }
      out.push_back(item.string_value());
    }
    return out;
  }

  absl::Status CheckRegex(const ConfigValue& at, absl::string_view field, const std::string& pattern,
                          absl::string_view context) {
    RE2::Options opts;
    opts.set_case_sensitive(false);
    opts.set_log_errors(false);
    opts.set_never_capture(true);
    RE2 re(pattern, opts);
    if (!re.ok()) {
      return Fail(at, field, absl::StrCat(context, "'", field, "' is not a valid RE2 regex: ",
                                          re.error()));
    }
    return absl::OkStatus();
  }

  absl::Status ReadMeta(const ConfigValue& meta) {
    if (!meta.is_table()) return Fail(meta, "ruleset", "[ruleset] must be a table");
    for (const auto& [key, v] : meta.entries()) {
      if (key == "name" || key == "version" || key == "description") {
        absl::StatusOr<std::string> s = GetString(v, key, "[ruleset] ");
        if (!s.ok()) return s.status();
        (key == "name" ? set_.name_ : key == "version" ? set_.version_ : set_.description_) = *s;
      } else if (key == "infer_codes_from_text") {
        if (!v.is_bool()) return Fail(v, key, "[ruleset] 'infer_codes_from_text' must be true or false");
        set_.infer_codes_from_text_ = v.bool_value();
      } else {
        return Fail(v, key, absl::StrCat("unknown [ruleset] key '", key,
                                         "' (expected name, version, description, infer_codes_from_text)"));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<BounceClass> ReadClass(const ConfigValue& v, absl::string_view field,
                                        absl::string_view context) {
    absl::StatusOr<std::string> s = GetString(v, field, context);
    if (!s.ok()) return s.status();
    std::optional<BounceClass> c = ParseBounceClass(*s);
    if (!c.has_value()) {
      return Fail(v, field, absl::StrCat(context, "unknown class '", *s,
                                         "' (expected delivered, soft, hard, block, complaint, "
                                         "auto_reply, undetermined)"));
    }
    if (*s == "unknown") set_.class_labels_[static_cast<int>(BounceClass::kUndetermined)] = "unknown";
    return *c;
  }

  absl::StatusOr<Blame> ReadBlame(const ConfigValue& v, absl::string_view context) {
    absl::StatusOr<std::string> s = GetString(v, "blame", context);
    if (!s.ok()) return s.status();
    std::optional<Blame> b = ParseBlame(*s);
    if (!b.has_value()) {
      return Fail(v, "blame", absl::StrCat(context, "unknown blame '", *s,
                                           "' (expected recipient, message, sender, "
                                           "infrastructure, unknown)"));
    }
    return *b;
  }

  bool KnownCategory(absl::string_view name) const {
    if (FindCategory(name) != nullptr) return true;
    for (const CustomCategory& c : set_.custom_categories_) {
      if (c.name == name) return true;
    }
    return false;
  }

  absl::Status ReadCategories(const ConfigValue& cats) {
    if (!cats.is_table()) return Fail(cats, "categories", "[categories] must be a table of tables");
    for (const auto& [name, v] : cats.entries()) {
      const std::string ctx = absl::StrCat("category '", name, "': ");
      if (!v.is_table()) return Fail(v, name, absl::StrCat(ctx, "must be a table"));
      if (FindCategory(name) != nullptr) {
        return Fail(v, name, absl::StrCat(ctx, "is a built-in category; choose another name"));
      }
      CustomCategory c;
      c.name = name;
      bool has_class = false;
      for (const auto& [key, f] : v.entries()) {
        if (key == "class") {
          absl::StatusOr<BounceClass> k = ReadClass(f, key, ctx);
          if (!k.ok()) return k.status();
          c.default_class = *k;
          has_class = true;
        } else if (key == "blame") {
          absl::StatusOr<Blame> b = ReadBlame(f, ctx);
          if (!b.ok()) return b.status();
          c.blame = *b;
        } else if (key == "retryable") {
          if (!f.is_bool()) return Fail(f, key, absl::StrCat(ctx, "'retryable' must be true or false"));
          c.retryable = f.bool_value();
        } else if (key == "sisimai_reason" || key == "description") {
          absl::StatusOr<std::string> s = GetString(f, key, ctx);
          if (!s.ok()) return s.status();
          (key == "description" ? c.description : c.sisimai_reason) = *s;
        } else {
          return Fail(f, key, absl::StrCat(ctx, "unknown key '", key,
                                           "' (expected class, blame, retryable, sisimai_reason, description)"));
        }
      }
      if (!has_class) return Fail(v, "class", absl::StrCat(ctx, "needs a 'class'"));
      set_.custom_categories_.push_back(std::move(c));
    }
    return absl::OkStatus();
  }

  absl::Status ReadProfiles(const ConfigValue& profiles) {
    if (!profiles.is_table()) return Fail(profiles, "profiles", "[profiles] must be a table of tables");
    for (const auto& [name, v] : profiles.entries()) {
      const std::string ctx = absl::StrCat("profile '", name, "': ");
      if (!v.is_table()) return Fail(v, name, absl::StrCat(ctx, "must be a table"));
      Profile p;
      p.name = name;
      for (const auto& [key, f] : v.entries()) {
        if (key == "description") {
          absl::StatusOr<std::string> s = GetString(f, key, ctx);
          if (!s.ok()) return s.status();
          p.description = *s;
        } else if (key == "class_from_reply_code" || key == "soften_transient") {
          if (!f.is_bool()) return Fail(f, key, absl::StrCat(ctx, "'", key, "' must be true or false"));
          (key == "soften_transient" ? p.soften_transient : p.class_from_reply_code) = f.bool_value();
        } else if (key == "classes") {
          if (!f.is_table()) return Fail(f, key, absl::StrCat(ctx, "'classes' must be a table category = class"));
          for (const auto& [cat, cv] : f.entries()) {
            if (!KnownCategory(cat)) {
              return Fail(cv, cat, absl::StrCat(ctx, "'classes' names unknown category '", cat, "'"));
            }
            absl::StatusOr<BounceClass> k = ReadClass(cv, cat, ctx);
            if (!k.ok()) return k.status();
            p.classes[cat] = *k;
          }
        } else {
          return Fail(f, key, absl::StrCat(ctx, "unknown key '", key,
                                           "' (expected description, classes, class_from_reply_code, "
                                           "soften_transient)"));
        }
      }
      set_.profiles_.push_back(std::move(p));
    }
    return absl::OkStatus();
  }

  void EnsureDefaultProfile() {
    if (set_.FindProfile("default") != nullptr) return;
    Profile p;
    p.name = "default";
    p.description = "The rule file's own classes.";
    set_.profiles_.insert(set_.profiles_.begin(), std::move(p));
  }

  absl::Status ValidateProfileReferences() {
    for (const Rule& r : set_.rules_) {
      for (const auto* list : {&r.profiles, &r.not_profiles}) {
        for (const std::string& p : *list) {
          if (set_.FindProfile(p) == nullptr) {
            std::vector<std::string> names;
            for (const Profile& q : set_.profiles_) names.push_back(q.name);
            absl::Status st = absl::InvalidArgumentError(absl::StrCat(
                source_.empty() ? "" : absl::StrCat(source_, ": "), "rule '", r.id,
                "' names unknown profile '", p, "' (defined: ", absl::StrJoin(names, ", "), ")"));
            if (r.source_line > 0) st = WithTextPosition(std::move(st), r.source_line, 1);
            return WithField(std::move(st), list == &r.profiles ? "profiles" : "not_profiles");
          }
        }
      }
    }
    return absl::OkStatus();
  }

  absl::Status ReadRule(const ConfigValue& v) {
    if (!v.is_table()) return Fail(v, "rules", "each [[rules]] entry must be a table");
    Rule r;
    r.source_line = v.line();
    const ConfigValue* id = v.Find("id");
    if (id == nullptr) {
      return Fail(v, "id", absl::StrCat("rule #", set_.rules_.size() + 1, " has no 'id'"));
    }
    if (id->is_int()) {
      r.id = absl::StrCat(id->int_value());
    } else {
      absl::StatusOr<std::string> s = GetString(*id, "id", "");
      if (!s.ok()) return s.status();
      r.id = *s;
    }
    if (r.id.empty()) return Fail(*id, "id", "rule id is empty");
    if (!ids_.insert(r.id).second) return Fail(*id, "id", absl::StrCat("duplicate rule id '", r.id, "'"));
    const std::string ctx = absl::StrCat("rule '", r.id, "': ");
    bool has_category = false;
    for (const auto& [key, f] : v.entries()) {
      if (key == "id") continue;
      if (key == "code") {
        absl::StatusOr<std::vector<std::string>> list = GetStringList(f, key, ctx);
        if (!list.ok()) return list.status();
        for (const std::string& s : *list) {
          absl::StatusOr<CodePattern> p = ParseCodePattern(s);
          if (!p.ok()) return Fail(f, key, absl::StrCat(ctx, p.status().message()));
          r.codes.push_back(*p);
        }
      } else if (key == "status") {
        absl::StatusOr<std::vector<std::string>> list = GetStringList(f, key, ctx);
        if (!list.ok()) return list.status();
        for (const std::string& s : *list) {
          absl::StatusOr<StatusPattern> p = ParseStatusPattern(s);
          if (!p.ok()) return Fail(f, key, absl::StrCat(ctx, p.status().message()));
          r.statuses.push_back(*p);
        }
      } else if (key == "text" || key == "not_text" || key == "remote_host" || key == "destination") {
        absl::StatusOr<std::string> s = GetString(f, key, ctx);
        if (!s.ok()) return s.status();
        if (s->empty()) continue;
        absl::Status st = CheckRegex(f, key, *s, ctx);
        if (!st.ok()) return st;
        (key == "text" ? r.text : key == "not_text" ? r.not_text
                                : key == "remote_host" ? r.remote_host : r.destination) = *s;
      } else if (key == "command" || key == "action") {
        absl::StatusOr<std::vector<std::string>> list = GetStringList(f, key, ctx);
        if (!list.ok()) return list.status();
        for (std::string s : *list) {
          if (key == "command") {
            absl::AsciiStrToUpper(&s);
            r.commands.push_back(std::move(s));
          } else {
            absl::AsciiStrToLower(&s);
            r.actions.push_back(std::move(s));
          }
        }
      } else if (key == "profiles" || key == "not_profiles") {
        absl::StatusOr<std::vector<std::string>> list = GetStringList(f, key, ctx);
        if (!list.ok()) return list.status();
        (key == "profiles" ? r.profiles : r.not_profiles) = *list;
      } else if (key == "category") {
        absl::StatusOr<std::string> s = GetString(f, key, ctx);
        if (!s.ok()) return s.status();
        if (s->empty()) return Fail(f, key, absl::StrCat(ctx, "'category' is empty"));
        r.category = *s;
        has_category = true;
      } else if (key == "class") {
        absl::StatusOr<BounceClass> k = ReadClass(f, key, ctx);
        if (!k.ok()) return k.status();
        r.bounce_class = *k;
      } else if (key == "blame") {
        absl::StatusOr<Blame> b = ReadBlame(f, ctx);
        if (!b.ok()) return b.status();
        r.blame = *b;
      } else if (key == "retryable") {
        if (!f.is_bool()) return Fail(f, key, absl::StrCat(ctx, "'retryable' must be true or false"));
        r.retryable = f.bool_value();
      } else if (key == "why") {
        absl::StatusOr<std::string> s = GetString(f, key, ctx);
        if (!s.ok()) return s.status();
        r.why = *s;
      } else {
        return Fail(f, key, absl::StrCat(ctx, "unknown key '", key,
                                         "' (conditions: code, status, text, not_text, command, action, "
                                         "remote_host, destination, profiles, not_profiles; results: "
                                         "category, class, blame, retryable, why)"));
      }
    }
    if (!has_category) return Fail(v, "category", absl::StrCat(ctx, "needs a 'category'"));
    if (!r.bounce_class.has_value() && !KnownCategory(r.category)) {
      return Fail(v, "class", absl::StrCat(ctx, "category '", r.category,
                                           "' is not built in, so the rule needs a 'class' "
                                           "(or define the category under [categories])"));
    }
    set_.rules_.push_back(std::move(r));
    return absl::OkStatus();
  }

  std::string source_;
  RuleSet set_;
  absl::flat_hash_set<std::string> ids_;
};

absl::StatusOr<RuleSet> RuleSet::FromConfig(const ConfigValue& doc, absl::string_view source_name) {
  RuleSetBuilder b(source_name);
  return b.FromConfig(doc);
}

absl::StatusOr<RuleSet> RuleSet::ParseTsv(absl::string_view text, absl::string_view source_name) {
  RuleSetBuilder b(source_name);
  return b.FromTsv(text);
}

absl::StatusOr<RuleSet> RuleSet::ParseTomlText(absl::string_view text, absl::string_view source_name) {
  absl::StatusOr<ConfigValue> doc = ParseToml(text, source_name);
  if (!doc.ok()) return doc.status();
  return FromConfig(*doc, source_name);
}

absl::StatusOr<RuleSet> RuleSet::Parse(absl::string_view text, absl::string_view source_name) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    absl::string_view l = absl::StripLeadingAsciiWhitespace(line);
    if (l.empty() || absl::StartsWith(l, "#")) continue;
    if (absl::StartsWith(line, "rule_id\t")) return ParseTsv(text, source_name);
    break;
  }
  return ParseTomlText(text, source_name);
}

}  // namespace bouncekit
