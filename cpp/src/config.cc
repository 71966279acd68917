// Copyright 2026 The bouncekit authors.
//
// A strict, small TOML reader (see config.h for the subset). Linear in the
// input, bounded recursion (nesting depth), never throws.

#include "bouncekit/config.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bouncekit/error_location.h"
#include "internal/utf8.h"

namespace bouncekit {

ConfigValue ConfigValue::Bool(bool v) {
  ConfigValue c;
  c.type_ = Type::kBool;
  c.bool_ = v;
  return c;
}
ConfigValue ConfigValue::Int(int64_t v) {
  ConfigValue c;
  c.type_ = Type::kInt;
  c.int_ = v;
  return c;
}
ConfigValue ConfigValue::Double(double v) {
  ConfigValue c;
  c.type_ = Type::kDouble;
  c.double_ = v;
  return c;
}
ConfigValue ConfigValue::String(std::string v) {
  ConfigValue c;
  c.type_ = Type::kString;
  c.string_ = std::move(v);
  return c;
}
ConfigValue ConfigValue::Array() {
  ConfigValue c;
  c.type_ = Type::kArray;
  return c;
}
ConfigValue ConfigValue::Table() {
  ConfigValue c;
  c.type_ = Type::kTable;
  return c;
}

const ConfigValue* ConfigValue::Find(absl::string_view key) const {
  if (type_ != Type::kTable) return nullptr;
  for (const auto& [k, v] : entries_) {
    if (k == key) return &v;
  }
  return nullptr;
}

ConfigValue* ConfigValue::FindMutable(absl::string_view key) {
  if (type_ != Type::kTable) return nullptr;
  for (auto& [k, v] : entries_) {
    if (k == key) return &v;
  }
  return nullptr;
}

ConfigValue& ConfigValue::Set(std::string key, ConfigValue value) {
  entries_.emplace_back(std::move(key), std::move(value));
  return entries_.back().second;
}

absl::string_view ConfigValue::TypeName(Type t) {
  switch (t) {
    case Type::kNull: return "null";
    case Type::kBool: return "boolean";
    case Type::kInt: return "integer";
    case Type::kDouble: return "float";
    case Type::kString: return "string";
    case Type::kArray: return "array";
    case Type::kTable: return "table";
  }
  return "null";
}

absl::string_view ConfigValue::TypeName() const { return TypeName(type_); }

namespace {

constexpr int kMaxDepth = 64;

inline bool IsBareKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '-';
}

class TomlParser {
 public:
  TomlParser(absl::string_view text, absl::string_view source)
      : s_(text), source_(source) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < s_.size(); ++i) {
      if (s_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  absl::StatusOr<ConfigValue> Parse() {
    ConfigValue root = ConfigValue::Table();
    root.set_position(1, 1);
    std::vector<std::string> current_path;  // path of the current [table]
    ConfigValue* current = &root;
    while (true) {
      SkipWhitespaceCommentsAndNewlines();
      if (AtEnd()) break;
      const size_t start = p_;
      if (s_[p_] == '[') {
        const bool array_of_tables = p_ + 1 < s_.size() && s_[p_ + 1] == '[';
        p_ += array_of_tables ? 2 : 1;
        SkipBlanks();
        std::vector<std::string> path;
        absl::Status st = ParseKey(&path);
        if (!st.ok()) return st;
        SkipBlanks();
        if (array_of_tables) {
          if (!Consume("]]")) return Error(p_, "expected ']]' to close the [[table]] header");
        } else if (!Consume("]")) {
          return Error(p_, "expected ']' to close the [table] header");
        }
        absl::Status end = ExpectLineEnd();
        if (!end.ok()) return end;
        absl::StatusOr<ConfigValue*> t = OpenTable(&root, path, array_of_tables, start);
        if (!t.ok()) return t.status();
        current = *t;
        current_path = path;
        continue;
      }
      absl::Status st = ParseKeyValue(current, 0);
      if (!st.ok()) return st;
      absl::Status end = ExpectLineEnd();
      if (!end.ok()) return end;
    }
    return root;
  }

 private:
  bool AtEnd() const { return p_ >= s_.size(); }
  bool Consume(absl::string_view lit) {
    if (s_.substr(p_, lit.size()) == lit) {
      p_ += lit.size();
      return true;
    }
    return false;
  }

  std::pair<int32_t, int32_t> Position(size_t pos) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), pos);
    const size_t line = static_cast<size_t>(it - line_starts_.begin());
    const size_t col = pos - line_starts_[line - 1] + 1;
    return {static_cast<int32_t>(line), static_cast<int32_t>(col)};
  }

  absl::Status Error(size_t pos, absl::string_view message) const {
    auto [line, col] = Position(std::min(pos, s_.size()));
    std::string prefix = source_.empty() ? "" : absl::StrCat(source_, ":");
    absl::Status st = absl::InvalidArgumentError(
        absl::StrCat(prefix, line, ":", col, ": ", message));
    st = WithTextPosition(std::move(st), line, col);
    if (!source_.empty()) st = WithSource(std::move(st), source_);
    return st;
  }

  void SkipBlanks() {
    while (!AtEnd() && (s_[p_] == ' ' || s_[p_] == '\t')) ++p_;
  }

  void SkipComment() {
    if (!AtEnd() && s_[p_] == '#') {
      while (!AtEnd() && s_[p_] != '\n') ++p_;
    }
  }

  void SkipWhitespaceCommentsAndNewlines() {
    while (!AtEnd()) {
      char c = s_[p_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++p_;
      } else if (c == '#') {
        SkipComment();
      } else {
        break;
      }
    }
  }

  absl::Status ExpectLineEnd() {
    SkipBlanks();
    SkipComment();
    if (AtEnd()) return absl::OkStatus();
    if (s_[p_] == '\n') {
      ++p_;
      return absl::OkStatus();
    }
    if (s_[p_] == '\r' && p_ + 1 < s_.size() && s_[p_ + 1] == '\n') {
      p_ += 2;
      return absl::OkStatus();
    }
    return Error(p_, absl::StrCat("unexpected '", s_.substr(p_, 1),
                                  "' after a value (one key = value per line)"));
  }

  // key ( '.' key )*
  absl::Status ParseKey(std::vector<std::string>* path) {
    while (true) {
      SkipBlanks();
      if (AtEnd()) return Error(p_, "expected a key");
      std::string part;
      const char c = s_[p_];
      if (c == '"' || c == '\'') {
        if (s_.substr(p_, 3) == "\"\"\"" || s_.substr(p_, 3) == "'''") {
          return Error(p_, "multi-line strings cannot be keys");
        }
        absl::StatusOr<std::string> k = c == '"' ? ParseBasicString() : ParseLiteralString();
        if (!k.ok()) return k.status();
        part = std::move(*k);
      } else if (IsBareKeyChar(c)) {
        const size_t b = p_;
        while (!AtEnd() && IsBareKeyChar(s_[p_])) ++p_;
        part = std::string(s_.substr(b, p_ - b));
      } else {
        return Error(p_, absl::StrCat("unexpected '", s_.substr(p_, 1), "' where a key was expected"));
      }
      path->push_back(std::move(part));
      SkipBlanks();
      if (!AtEnd() && s_[p_] == '.') {
        ++p_;
        continue;
      }
      return absl::OkStatus();
    }
  }

  // Finds or creates the table at `path` for a [header] or [[header]].
  absl::StatusOr<ConfigValue*> OpenTable(ConfigValue* root, const std::vector<std::string>& path,
                                         bool array_of_tables, size_t pos) {
    ConfigValue* t = root;
    std::string key_path;
    // Unambiguous id of the table ("a.b" quoted is not a.b), independent of
    // where the tables sit in memory (their storage moves as tables grow).
    std::string table_id;
    for (size_t i = 0; i + 1 < path.size(); ++i) {
      absl::StrAppend(&key_path, key_path.empty() ? "" : ".", path[i]);
      absl::StrAppend(&table_id, path[i].size(), ":", path[i]);
      ConfigValue* next = t->FindMutable(path[i]);
      if (next == nullptr) {
        ConfigValue tab = ConfigValue::Table();
        auto [l, c] = Position(pos);
        tab.set_position(l, c);
        next = &t->Set(path[i], std::move(tab));
      } else if (next->is_array() && array_tables_.contains(key_path) && !next->items().empty()) {
        absl::StrAppend(&key_path, "#", next->items().size() - 1);
        absl::StrAppend(&table_id, "#", next->items().size() - 1, "|");
        next = &next->mutable_items().back();
      } else if (!next->is_table()) {
        return Error(pos, absl::StrCat("'", key_path, "' is already a ", next->TypeName(),
                                       ", not a table"));
      }
      t = next;
    }
    absl::StrAppend(&key_path, key_path.empty() ? "" : ".", path.back());
    absl::StrAppend(&table_id, path.back().size(), ":", path.back());
    ConfigValue* last = t->FindMutable(path.back());
    auto [line, col] = Position(pos);
    if (array_of_tables) {
      if (last == nullptr) {
        ConfigValue arr = ConfigValue::Array();
        arr.set_position(line, col);
        last = &t->Set(path.back(), std::move(arr));
        array_tables_.insert(key_path);
      } else if (!last->is_array() || !array_tables_.contains(key_path)) {
        return Error(pos, absl::StrCat("'", key_path, "' is already a ", last->TypeName(),
                                       ", not an array of tables"));
      }
      ConfigValue tab = ConfigValue::Table();
      tab.set_position(line, col);
      last->mutable_items().push_back(std::move(tab));
      return &last->mutable_items().back();
    }
    if (last == nullptr) {
      ConfigValue tab = ConfigValue::Table();
      tab.set_position(line, col);
      last = &t->Set(path.back(), std::move(tab));
    } else if (!last->is_table()) {
      return Error(pos, absl::StrCat("'", key_path, "' is already a ", last->TypeName(),
                                     ", not a table"));
    }
    if (!defined_tables_.insert(table_id).second) {
      return Error(pos, absl::StrCat("table [", key_path, "] is defined twice"));
    }
    return last;
  }

  // key = value, into `table`.
  absl::Status ParseKeyValue(ConfigValue* table, int depth) {
    const size_t key_pos = p_;
    std::vector<std::string> path;
    absl::Status st = ParseKey(&path);
    if (!st.ok()) return st;
    SkipBlanks();
    if (!Consume("=")) return Error(p_, "expected '=' after the key");
    SkipBlanks();
    ConfigValue* t = table;
    for (size_t i = 0; i + 1 < path.size(); ++i) {
      ConfigValue* next = t->FindMutable(path[i]);
      if (next == nullptr) {
        ConfigValue tab = ConfigValue::Table();
        auto [l, c] = Position(key_pos);
        tab.set_position(l, c);
        next = &t->Set(path[i], std::move(tab));
      } else if (!next->is_table()) {
        return Error(key_pos, absl::StrCat("key '", path[i], "' is already a ",
                                           next->TypeName(), ", not a table"));
      }
      t = next;
    }
    if (t->Find(path.back()) != nullptr) {
      return Error(key_pos, absl::StrCat("duplicate key '", absl::StrJoin(path, "."), "'"));
    }
    absl::StatusOr<ConfigValue> v = ParseValue(depth);
    if (!v.ok()) return v.status();
    t->Set(path.back(), std::move(*v));
    return absl::OkStatus();
  }

  absl::StatusOr<ConfigValue> ParseValue(int depth) {
    if (depth > kMaxDepth) return Error(p_, "values are nested too deeply");
    if (AtEnd()) return Error(p_, "expected a value");
    const size_t start = p_;
    auto [line, col] = Position(start);
    const char c = s_[p_];
    ConfigValue v;
    if (c == '"') {
      absl::StatusOr<std::string> s =
          s_.substr(p_, 3) == "\"\"\"" ? ParseMultilineBasicString() : ParseBasicString();
      if (!s.ok()) return s.status();
      v = ConfigValue::String(std::move(*s));
    } else if (c == '\'') {
      absl::StatusOr<std::string> s =
          s_.substr(p_, 3) == "'''" ? ParseMultilineLiteralString() : ParseLiteralString();
      if (!s.ok()) return s.status();
      v = ConfigValue::String(std::move(*s));
    } else if (c == '[') {
      absl::StatusOr<ConfigValue> a = ParseArray(depth);
      if (!a.ok()) return a.status();
      v = std::move(*a);
    } else if (c == '{') {
      absl::StatusOr<ConfigValue> t = ParseInlineTable(depth);
      if (!t.ok()) return t.status();
      v = std::move(*t);
    } else if (Consume("true")) {
      v = ConfigValue::Bool(true);
    } else if (Consume("false")) {
      v = ConfigValue::Bool(false);
    } else {
      absl::StatusOr<ConfigValue> n = ParseNumber();
      if (!n.ok()) return n.status();
      v = std::move(*n);
    }
    v.set_position(line, col);
    return v;
  }

  absl::StatusOr<ConfigValue> ParseArray(int depth) {
    ++p_;  // '['
    ConfigValue arr = ConfigValue::Array();
    while (true) {
      SkipWhitespaceCommentsAndNewlines();
      if (AtEnd()) return Error(p_, "unterminated array (missing ']')");
      if (s_[p_] == ']') {
        ++p_;
        return arr;
      }
      absl::StatusOr<ConfigValue> v = ParseValue(depth + 1);
      if (!v.ok()) return v.status();
      arr.mutable_items().push_back(std::move(*v));
      SkipWhitespaceCommentsAndNewlines();
      if (AtEnd()) return Error(p_, "unterminated array (missing ']')");
      if (s_[p_] == ',') {
        ++p_;
        continue;
      }
      if (s_[p_] == ']') {
        ++p_;
        return arr;
      }
      return Error(p_, "expected ',' or ']' in an array");
    }
  }

  absl::StatusOr<ConfigValue> ParseInlineTable(int depth) {
    ++p_;  // '{'
    ConfigValue tab = ConfigValue::Table();
    SkipWhitespaceCommentsAndNewlines();
    if (!AtEnd() && s_[p_] == '}') {
      ++p_;
      return tab;
    }
    while (true) {
      SkipWhitespaceCommentsAndNewlines();
      absl::Status st = ParseKeyValue(&tab, depth + 1);
      if (!st.ok()) return st;
      SkipWhitespaceCommentsAndNewlines();
      if (AtEnd()) return Error(p_, "unterminated inline table (missing '}')");
      if (s_[p_] == ',') {
        ++p_;
        continue;
      }
      if (s_[p_] == '}') {
        ++p_;
        return tab;
      }
      return Error(p_, "expected ',' or '}' in an inline table");
    }
  }

  // At a backslash inside a basic string.
  absl::Status ParseEscape(std::string* out) {
    const size_t at = p_;
    ++p_;
    if (AtEnd()) return Error(at, "unterminated escape sequence");
    const char e = s_[p_++];
    switch (e) {
      case 'b': out->push_back('\b'); return absl::OkStatus();
      case 't': out->push_back('\t'); return absl::OkStatus();
      case 'n': out->push_back('\n'); return absl::OkStatus();
      case 'f': out->push_back('\f'); return absl::OkStatus();
      case 'r': out->push_back('\r'); return absl::OkStatus();
      case 'e': out->push_back('\x1b'); return absl::OkStatus();
      case '"': out->push_back('"'); return absl::OkStatus();
      case '\\': out->push_back('\\'); return absl::OkStatus();
      case 'u':
      case 'U': {
        const int digits = e == 'u' ? 4 : 8;
        if (p_ + digits > s_.size()) return Error(at, "truncated \\u escape");
        uint32_t cp = 0;
        for (int i = 0; i < digits; ++i) {
          const char h = s_[p_ + i];
          uint32_t d;
          if (h >= '0' && h <= '9') d = h - '0';
          else if (h >= 'a' && h <= 'f') d = h - 'a' + 10;
          else if (h >= 'A' && h <= 'F') d = h - 'A' + 10;
          else return Error(p_ + i, "bad hex digit in a unicode escape");
          cp = cp * 16 + d;
        }
        p_ += digits;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
          return Error(at, "unicode escape is not a valid code point");
        }
        internal::AppendUtf8(cp, out);
        return absl::OkStatus();
      }
      default:
        return Error(at, absl::StrCat("unknown escape '\\", s_.substr(p_ - 1, 1),
                                      "' (regexes read best in 'literal strings')"));
    }
  }

  absl::StatusOr<std::string> ParseBasicString() {
    const size_t start = p_;
    ++p_;
    std::string out;
    while (true) {
      if (AtEnd() || s_[p_] == '\n') return Error(start, "unterminated string");
      const char c = s_[p_];
      if (c == '"') {
        ++p_;
        return out;
      }
      if (c == '\\') {
        absl::Status st = ParseEscape(&out);
        if (!st.ok()) return st;
        continue;
      }
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
        return Error(p_, "control character in a string");
      }
      out.push_back(c);
      ++p_;
    }
  }

  absl::StatusOr<std::string> ParseMultilineBasicString() {
    const size_t start = p_;
    p_ += 3;
    if (Consume("\r\n") || Consume("\n")) {
    }
    std::string out;
    while (true) {
      if (AtEnd()) return Error(start, "unterminated multi-line string");
      if (s_.substr(p_, 3) == "\"\"\"") {
        p_ += 3;
        // Up to two more quotes belong to the content.
        int extra = 0;
        while (extra < 2 && !AtEnd() && s_[p_] == '"') {
          out.push_back('"');
          ++p_;
          ++extra;
        }
        return out;
      }
      const char c = s_[p_];
      if (c == '\\') {
        // Line-ending backslash: trim the newline and following whitespace.
        size_t q = p_ + 1;
        while (q < s_.size() && (s_[q] == ' ' || s_[q] == '\t')) ++q;
        if (q < s_.size() && (s_[q] == '\n' || s_[q] == '\r')) {
          p_ = q;
          while (!AtEnd() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r')) ++p_;
          continue;
        }
        absl::Status st = ParseEscape(&out);
        if (!st.ok()) return st;
        continue;
      }
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
        return Error(p_, "control character in a string");
      }
      out.push_back(c);
      ++p_;
    }
  }

  absl::StatusOr<std::string> ParseLiteralString() {
    const size_t start = p_;
    ++p_;
    const size_t b = p_;
    while (true) {
      if (AtEnd() || s_[p_] == '\n') return Error(start, "unterminated string");
      if (s_[p_] == '\'') break;
      ++p_;
    }
    std::string out(s_.substr(b, p_ - b));
    ++p_;
    return out;
  }

  absl::StatusOr<std::string> ParseMultilineLiteralString() {
    const size_t start = p_;
    p_ += 3;
    if (Consume("\r\n") || Consume("\n")) {
    }
    const size_t b = p_;
    while (true) {
      if (AtEnd()) return Error(start, "unterminated multi-line string");
      if (s_.substr(p_, 3) == "'''") break;
      ++p_;
    }
    size_t e = p_;
    p_ += 3;
    while (p_ < s_.size() && s_[p_] == '\'' && p_ - e < 5) ++p_;
    return std::string(s_.substr(b, p_ - 3 - b));
  }

  absl::StatusOr<ConfigValue> ParseNumber() {
    const size_t start = p_;
    while (!AtEnd()) {
      char c = s_[p_];
      if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          c == '_' || c == '+' || c == '-' || c == '.' || c == ':') {
        ++p_;
      } else {
        break;
      }
    }
    absl::string_view tok = s_.substr(start, p_ - start);
    if (tok.empty()) {
      return Error(start, absl::StrCat("unexpected '", s_.substr(start, 1),
                                       "' where a value was expected"));
    }
    if (tok.size() >= 5 && tok[4] == '-' && tok[0] >= '0' && tok[0] <= '9') {
      return Error(start, "dates and times are not supported here; use a string");
    }
    if (tok.find(':') != absl::string_view::npos) {
      return Error(start, "times are not supported here; use a string");
    }
    std::string clean;
    clean.reserve(tok.size());
    for (size_t i = 0; i < tok.size(); ++i) {
      if (tok[i] == '_') {
        const bool ok = i > 0 && i + 1 < tok.size() && std::isalnum(static_cast<unsigned char>(tok[i - 1])) &&
                        std::isalnum(static_cast<unsigned char>(tok[i + 1]));
        if (!ok) return Error(start + i, "'_' in a number must sit between digits");
        continue;
      }
      clean.push_back(tok[i]);
    }
    absl::string_view body = clean;
    bool negative = false;
    if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
      negative = body[0] == '-';
      body.remove_prefix(1);
    }
    if (body == "inf") return ConfigValue::Double(negative ? -INFINITY : INFINITY);
    if (body == "nan") return ConfigValue::Double(std::nan(""));
    if (body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'o' || body[1] == 'b')) {
      const int base = body[1] == 'x' ? 16 : body[1] == 'o' ? 8 : 2;
      uint64_t v = 0;
      for (char c : body.substr(2)) {
        int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return Error(start, absl::StrCat("bad number '", tok, "'"));
        if (d >= base) return Error(start, absl::StrCat("bad number '", tok, "'"));
        if (v > (std::numeric_limits<uint64_t>::max() - d) / base) {
          return Error(start, absl::StrCat("number '", tok, "' is out of range"));
        }
        v = v * base + d;
      }
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Error(start, absl::StrCat("number '", tok, "' is out of range"));
      }
      return ConfigValue::Int(negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v));
    }
    const bool is_float = body.find_first_of(".eE") != absl::string_view::npos;
    for (char c : body) {
      if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) {
        return Error(start, absl::StrCat("unexpected '", tok,
                                         "' where a value was expected (strings need quotes)"));
      }
    }
    if (is_float) {
      if (body.size() > 1 && body[0] == '0' && body[1] >= '0' && body[1] <= '9') {
        return Error(start, "numbers may not have leading zeros");
      }
      double d;
      if (body.empty() || body[0] == '.' || body.back() == '.' || !absl::SimpleAtod(clean, &d)) {
        return Error(start, absl::StrCat("bad number '", tok, "'"));
      }
      return ConfigValue::Double(d);
    }
    int64_t i;
    if (body.empty() || !absl::SimpleAtoi(clean, &i)) {
      return Error(start, absl::StrCat("bad or out-of-range integer '", tok, "'"));
    }
    if (body.size() > 1 && body[0] == '0') {
      return Error(start, "integers may not have leading zeros");
    }
    return ConfigValue::Int(i);
  }

  absl::string_view s_;
  absl::string_view source_;
  size_t p_ = 0;
  std::vector<size_t> line_starts_;
  absl::flat_hash_set<std::string> array_tables_;
  absl::flat_hash_set<std::string> defined_tables_;
};

}  // namespace

absl::StatusOr<ConfigValue> ParseToml(absl::string_view text, absl::string_view source_name) {
  TomlParser parser(text, source_name);
  return parser.Parse();
}

}  // namespace bouncekit
