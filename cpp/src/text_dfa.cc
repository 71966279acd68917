// Copyright 2026 The bouncekit authors.
//
// TextDfa (see internal/text_dfa.h): patterns are parsed into a small syntax
// tree, compiled into one Thompson NFA (a kMatch node per pattern), and run
// as a DFA whose states are made on first use: a state is the set of NFA
// nodes alive before the next byte (byte-consuming nodes and empty-width
// assertions not yet decided), the patterns already found, and the two
// facts the assertions need (position 0; whether the last byte was a word
// byte). Unanchored search adds every pattern's start at every position;
// that part (the start set) is the same in every state, so states keep only
// their other nodes and transitions take the start set's moves from a table
// built once per (context, byte).

#include "internal/text_dfa.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace bouncekit::internal {
namespace {

constexpr int32_t kUnknown = -1;
constexpr int32_t kBail = -2;
constexpr size_t kMaxNodes = 1 << 16;
constexpr int kMaxRepeat = 1000;

// Sets of ASCII bytes, and bit kNonAscii: whether the set takes every
// non-ASCII character (`.`, negated classes, \D \S \W); a text's non-ASCII
// characters are each read as that one symbol (see FindUtf8).
using ByteSet = TextDfa::ByteSet;
constexpr size_t kNonAscii = TextDfa::kSymbols - 1;

// The non-ASCII characters that case folding ties to ASCII letters (the
// dotted and dotless i, to be safe; the long s to s; the Kelvin sign to k):
// they are not "any non-ASCII character" to a pattern, so a pattern or a
// text with one of them stays with RE2.
constexpr int32_t kFoldsToAscii[] = {0x130, 0x131, 0x17F, 0x212A};

// Whether a text's code point `cp` (-1: not UTF-8) is read as kNonAscii.
bool ReadsAsNonAscii(int32_t cp) {
  if (cp < 0) return false;
  for (const int32_t f : kFoldsToAscii) {
    if (cp == f) return false;
  }
  return true;
}

bool IsWordByte(int c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// Syntax tree of one pattern.
struct Ast {
  enum Kind { kBytes, kConcat, kAlternate, kRepeat, kAssert, kNothing } kind = kNothing;
  ByteSet bytes;  // kBytes (case folded)
  std::vector<Ast> subs;   // kConcat, kAlternate; kRepeat: one
  int min = 0, max = 0;    // kRepeat; max -1 = unbounded
  int assertion = 0;       // kAssert: TextDfa op
};

}  // namespace

// Recursive-descent parser of the supported subset. Fails (Unimplemented)
// on anything else; the caller then uses RE2, which accepted the pattern.
struct TextDfa::Parser {
  absl::string_view p;
  size_t i = 0;
  int depth = 0;
  absl::Status error;
  bool non_ascii = false;  // the pattern names a non-ASCII character

  bool Fail(absl::string_view why) {
    if (error.ok()) error = absl::UnimplementedError(absl::StrCat("at offset ", i, ": ", why));
    return false;
  }
  bool More() const { return i < p.size(); }

  // A non-ASCII character of the pattern (UTF-8 at p[i]), consumed; -1 when
  // the bytes are not UTF-8.
  int CodePoint() {
    const auto b0 = static_cast<unsigned char>(p[i]);
    const int len = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC0 ? 2 : 0;
    if (len == 0 || i + static_cast<size_t>(len) > p.size()) return -1;
    int cp = b0 & (0x3F >> (len - 1));
    for (int k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(p[i + static_cast<size_t>(k)]);
      if ((b & 0xC0) != 0x80) return -1;
      cp = cp << 6 | (b & 0x3F);
    }
    i += static_cast<size_t>(len);
    non_ascii = true;
    return cp;
  }
  // Non-ASCII characters match no ASCII text, except kFoldsToAscii: a
  // pattern with one of those stays with RE2.
  static bool FoldsToAscii(int lo, int hi) {
    for (const int32_t cp : kFoldsToAscii) {
      if (lo <= cp && cp <= hi) return true;
    }
    return false;
  }
  char Peek() const { return p[i]; }

  static ByteSet Range(int lo, int hi) {
    ByteSet b;
    for (int c = lo; c <= hi; ++c) b.set(static_cast<size_t>(c));
    return b;
  }
  static ByteSet Fold(ByteSet b) {
    for (int c = 'a'; c <= 'z'; ++c) {
      if (b.test(static_cast<size_t>(c)) || b.test(static_cast<size_t>(c - 32))) {
        b.set(static_cast<size_t>(c));
        b.set(static_cast<size_t>(c - 32));
      }
    }
    return b;
  }
  static ByteSet Perl(char c) {
    ByteSet b;
    switch (c | 0x20) {
      case 'd': b = Range('0', '9'); break;
      case 's':
        for (char x : {'\t', '\n', '\f', '\r', ' '}) b.set(static_cast<size_t>(x));
        break;
      case 'w':
        for (int x = 0; x < 128; ++x) b.set(static_cast<size_t>(x), IsWordByte(x));
        break;
    }
    return (c >= 'A' && c <= 'Z') ? ~b : b;  // \D \S \W (within ASCII)
  }

  // An escaped single byte after '\' (p[i] is the byte after it); -1 when not one.
  int EscapedByte() {
    const char c = p[i];
    switch (c) {
      case 't': ++i; return '\t';
      case 'n': ++i; return '\n';
      case 'r': ++i; return '\r';
      case 'f': ++i; return '\f';
      case 'v': ++i; return '\v';
      case 'a': ++i; return '\a';
      case 'x': {
        if (i + 3 > p.size()) return -1;
        auto hex = [](char h) {
          if (h >= '0' && h <= '9') return h - '0';
          if (h >= 'a' && h <= 'f') return h - 'a' + 10;
          if (h >= 'A' && h <= 'F') return h - 'A' + 10;
          return -1;
        };
        const int a = hex(p[i + 1]), b = hex(p[i + 2]);
        if (a < 0 || b < 0 || a * 16 + b >= 0x80) return -1;
        i += 3;
        return a * 16 + b;
      }
      default:
        if (static_cast<unsigned char>(c) < 0x80 && !absl::ascii_isalnum(static_cast<unsigned char>(c))) {
          ++i;
          return static_cast<unsigned char>(c);
        }
        return -1;
    }
  }

  bool ParseAlternate(Ast* out) {
    if (++depth > 200) return Fail("nesting too deep");
    Ast alt;
    alt.kind = Ast::kAlternate;
    while (true) {
      Ast cat;
      if (!ParseConcat(&cat)) return false;
      alt.subs.push_back(std::move(cat));
      if (More() && Peek() == '|') {
        ++i;
        continue;
      }
      break;
    }
    --depth;
    *out = alt.subs.size() == 1 ? std::move(alt.subs[0]) : std::move(alt);
    return true;
  }

  bool ParseConcat(Ast* out) {
    out->kind = Ast::kConcat;
    while (More() && Peek() != '|' && Peek() != ')') {
      Ast atom;
      if (!ParseAtom(&atom)) return false;
      if (!ParseRepeats(&atom)) return false;
      out->subs.push_back(std::move(atom));
    }
    return true;
  }

  bool ParseRepeats(Ast* atom) {
    while (More()) {
      int lo, hi;
      const char c = Peek();
      if (c == '*') {
        lo = 0, hi = -1, ++i;
      } else if (c == '+') {
        lo = 1, hi = -1, ++i;
      } else if (c == '?') {
        lo = 0, hi = 1, ++i;
      } else if (c == '{') {
        size_t j = i + 1;
        bool leading_zero = false;
        auto number = [&](int* v) {
          const size_t s = j;
          int64_t x = 0;
          while (j < p.size() && p[j] >= '0' && p[j] <= '9' && x <= kMaxRepeat) x = x * 10 + (p[j++] - '0');
          *v = static_cast<int>(x);
          if (j - s > 1 && p[s] == '0') leading_zero = true;
          return j > s;
        };
        if (!number(&lo)) return true;  // a literal '{' (RE2 reads it so); the caller sees it next
        hi = lo;
        if (j < p.size() && p[j] == ',') {
          ++j;
          if (!number(&hi)) hi = -1;
        }
        // RE2 takes no count with a leading zero ("{08,}"): the braces are
        // then literal text, as when they are not closed.
        if (j >= p.size() || p[j] != '}' || leading_zero) return true;
        if (lo > kMaxRepeat || hi > kMaxRepeat || (hi >= 0 && hi < lo)) return Fail("bad repeat");
        i = j + 1;
      } else {
        return true;
      }
      if (More() && Peek() == '?') ++i;  // lazy: the same texts match
      if (atom->kind == Ast::kAssert) return Fail("repeated assertion");
      Ast r;
      r.kind = Ast::kRepeat;
      r.min = lo;
      r.max = hi;
      r.subs.push_back(std::move(*atom));
      *atom = std::move(r);
    }
    return true;
  }

  bool ParseAtom(Ast* out) {
    const char c = p[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      const int cp = CodePoint();
      if (cp < 0) return Fail("pattern is not UTF-8");
      if (FoldsToAscii(cp, cp)) return Fail("character folding to ASCII");
      out->kind = Ast::kBytes;  // matches no ASCII byte
      return true;
    }
    switch (c) {
      case '(': {
        ++i;
        if (More() && Peek() == '?') {
          if (i + 1 < p.size() && p[i + 1] == ':') {
            i += 2;
          } else {
            return Fail("group flags or names");
          }
        }
        if (!ParseAlternate(out)) return false;
        if (!More() || Peek() != ')') return Fail("missing )");
        ++i;
        return true;
      }
      case '[':
        return ParseClass(out);
      case '.':
        ++i;
        out->kind = Ast::kBytes;
        out->bytes = Range(0, 127);
        out->bytes.reset('\n');
        out->bytes.set(kNonAscii);
        return true;
      case '^':
        ++i;
        out->kind = Ast::kAssert;
        out->assertion = kBeginText;
        return true;
      case '$':
        ++i;
        out->kind = Ast::kAssert;
        out->assertion = kEndText;
        return true;
      case '*': case '+': case '?':
        return Fail("repeat of nothing");
      case '\\': {
        ++i;
        if (!More()) return Fail("trailing backslash");
        const char e = Peek();
        if (e == 'b' || e == 'B' || e == 'A' || e == 'z') {
          ++i;
          out->kind = Ast::kAssert;
          out->assertion = e == 'b' ? kWordBoundary : e == 'B' ? kNotWordBoundary : e == 'A' ? kBeginText : kEndText;
          return true;
        }
        if (e == 'd' || e == 'D' || e == 's' || e == 'S' || e == 'w' || e == 'W') {
          ++i;
          out->kind = Ast::kBytes;
          out->bytes = Fold(Perl(e));
          return true;
        }
        const int b = EscapedByte();
        if (b < 0) return Fail("escape");
        out->kind = Ast::kBytes;
        out->bytes.set(static_cast<size_t>(b));
        out->bytes = Fold(out->bytes);
        return true;
      }
      default:
        ++i;
        out->kind = Ast::kBytes;
        out->bytes.set(static_cast<unsigned char>(c));
        out->bytes = Fold(out->bytes);
        return true;
    }
  }

  bool ParseClass(Ast* out) {
    ++i;  // '['
    bool negate = false;
    if (More() && Peek() == '^') {
      negate = true;
      ++i;
    }
    ByteSet set;
    bool first = true;
    while (true) {
      if (!More()) return Fail("missing ]");
      char c = Peek();
      if (c == ']' && !first) {
        ++i;
        break;
      }
      first = false;
      if (c == '[' && i + 1 < p.size() && (p[i + 1] == ':' || p[i + 1] == '=' || p[i + 1] == '.')) {
        return Fail("POSIX class");
      }
      int lo = -1;  // (set by ClassByte on success)
      if (!ClassByte(&lo, &set)) return false;
      if (lo < 0) continue;  // a \d-like class was added
      int hi = lo;
      if (i + 1 < p.size() && Peek() == '-' && p[i + 1] != ']') {
        ++i;
        ByteSet unused;
        if (!ClassByte(&hi, &unused)) return false;
        if (hi < 0 || hi < lo) return Fail("bad class range");
      }
      if (FoldsToAscii(lo, hi)) return Fail("class with a character folding to ASCII");
      if (lo < 128) set |= Range(lo, std::min(hi, 127));  // the rest matches no ASCII byte
    }
    set = Fold(set);
    if (negate) set = ~set;  // within ASCII: other bytes send the text to RE2
    out->kind = Ast::kBytes;
    out->bytes = set;
    return true;
  }

  // One class element: a character (*b) or a Perl class added to *set (*b = -1).
  bool ClassByte(int* b, ByteSet* set) {
    const char c = Peek();
    if (static_cast<unsigned char>(c) >= 0x80) {
      *b = CodePoint();
      return *b >= 0 || Fail("pattern is not UTF-8");
    }
    if (c != '\\') {
      ++i;
      *b = static_cast<unsigned char>(c);
      return true;
    }
    ++i;
    if (!More()) return Fail("trailing backslash");
    const char e = Peek();
    if (e == 'd' || e == 'D' || e == 's' || e == 'S' || e == 'w' || e == 'W') {
      ++i;
      *set |= Perl(e);
      *b = -1;
      return true;
    }
    const int x = EscapedByte();
    if (x < 0) return Fail("escape in class");
    *b = x;
    return true;
  }
};

int32_t TextDfa::AddNode(Op op, int32_t out, int32_t out1, int32_t arg) {
  prog_.push_back(Node{op, out, out1, arg});
  return static_cast<int32_t>(prog_.size() - 1);
}

namespace {

// Compiles `a` so that it continues at node `next`; returns its first node
// (or -1 when the program grows too big).
template <typename AddNode, typename AddSet, typename SetOut>
int32_t CompileAst(const Ast& a, int32_t next, AddNode&& add, AddSet&& add_set, SetOut&& set_out, size_t* budget) {
  if (*budget == 0) return -1;
  --*budget;
  switch (a.kind) {
    case Ast::kNothing:
      return next;
    case Ast::kBytes:
      return add(0, next, -1, add_set(a.bytes));
    case Ast::kAssert:
      return add(a.assertion, next, -1, -1);
    case Ast::kConcat: {
      int32_t cur = next;
      for (size_t k = a.subs.size(); k-- > 0;) {
        cur = CompileAst(a.subs[k], cur, add, add_set, set_out, budget);
        if (cur < 0) return -1;
      }
      return cur;
    }
    case Ast::kAlternate: {
      int32_t cur = CompileAst(a.subs.back(), next, add, add_set, set_out, budget);
      for (size_t k = a.subs.size() - 1; k-- > 0 && cur >= 0;) {
        const int32_t first = CompileAst(a.subs[k], next, add, add_set, set_out, budget);
        if (first < 0) return -1;
        cur = add(1, first, cur, -1);
      }
      return cur;
    }
    case Ast::kRepeat: {
      const Ast& x = a.subs[0];
      int32_t cur = next;
      if (a.max < 0) {  // x{min,}: x^min x*
        const int32_t loop = add(1, -1, next, -1);
        const int32_t body = CompileAst(x, loop, add, add_set, set_out, budget);
        if (body < 0) return -1;
        set_out(loop, body);
        cur = loop;
      } else {  // optional copies, nested: (x(x)?)?
        for (int k = a.min; k < a.max; ++k) {
          const int32_t body = CompileAst(x, cur, add, add_set, set_out, budget);
          if (body < 0) return -1;
          cur = add(1, body, next, -1);
        }
      }
      for (int k = 0; k < a.min; ++k) {
        cur = CompileAst(x, cur, add, add_set, set_out, budget);
        if (cur < 0) return -1;
      }
      return cur;
    }
  }
  return -1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TextDfa>> TextDfa::Compile(const std::vector<std::string>& patterns, Limits limits) {
  std::unique_ptr<TextDfa> d(new TextDfa());
  d->limits_ = limits;
  d->num_patterns_ = patterns.size();
  auto add = [&](int op, int32_t out, int32_t out1, int32_t arg) {
    return d->AddNode(static_cast<Op>(op), out, out1, arg);
  };
  absl::flat_hash_map<std::string, int32_t> set_ids;
  auto add_set = [&](const ByteSet& b) {
    const std::string key = b.to_string();
    auto [it, inserted] = set_ids.try_emplace(key, static_cast<int32_t>(d->sets_.size()));
    if (inserted) d->sets_.push_back(b);
    return it->second;
  };
  auto set_out = [&](int32_t node, int32_t out) { d->prog_[static_cast<size_t>(node)].out = out; };
  for (size_t k = 0; k < patterns.size(); ++k) {
    Parser parser;
    parser.p = patterns[k];
    Ast ast;
    if (!parser.ParseAlternate(&ast) || parser.More()) {
      if (parser.error.ok()) parser.Fail("unbalanced )");
      return absl::UnimplementedError(absl::StrCat("pattern ", k, ": ", parser.error.message()));
    }
    const int32_t match = d->AddNode(kMatch, -1, -1, static_cast<int32_t>(k));
    size_t budget = kMaxNodes;
    const int32_t start = CompileAst(ast, match, add, add_set, set_out, &budget);
    if (start < 0 || d->prog_.size() > kMaxNodes) {
      return absl::UnimplementedError(absl::StrCat("pattern ", k, " makes too big an automaton"));
    }
    d->starts_.push_back(start);
    d->pattern_of_.resize(d->prog_.size(), static_cast<int32_t>(k));
    if (parser.non_ascii) d->non_ascii_patterns_.push_back(static_cast<int32_t>(k));
  }
  // Byte classes: bytes that every set (and the word test) treats alike.
  for (int c = 0; c < 128; ++c) d->word_.set(static_cast<size_t>(c), IsWordByte(c));
  absl::flat_hash_map<std::string, uint8_t> classes;
  // c = kNonAscii stands for any non-ASCII character (FindUtf8's symbol).
  for (int c = 0; c <= static_cast<int>(kNonAscii); ++c) {
    std::string sig(d->sets_.size() + 1, '0');
    for (size_t s = 0; s < d->sets_.size(); ++s) sig[s] = d->sets_[s].test(static_cast<size_t>(c)) ? '1' : '0';
    sig.back() = d->word_.test(static_cast<size_t>(c)) ? '1' : '0';
    auto [it, inserted] = classes.try_emplace(sig, static_cast<uint8_t>(classes.size()));
    if (inserted) d->class_byte_[it->second] = static_cast<uint8_t>(c);
    if (c < 128) {
      d->byte_class_[static_cast<size_t>(c)] = it->second;
    } else {
      d->non_ascii_class_ = it->second;
    }
  }
  d->num_classes_ = static_cast<int>(classes.size()) + 1;
  for (int c = 128; c < 256; ++c) d->byte_class_[static_cast<size_t>(c)] = static_cast<uint8_t>(classes.size());
  d->symbol_class_ = d->byte_class_;
  d->symbol_class_[kNonAscii] = static_cast<uint8_t>(d->non_ascii_class_);
  d->mark_.assign(d->prog_.size(), 0);
  return d;
}

void TextDfa::Closure(const std::vector<int32_t>& from, bool resolve, bool at_start, bool at_end, bool prev_word,
                      bool next_word, std::vector<int32_t>* nodes_out, std::vector<uint64_t>* matched) {
  if (++generation_ == 0) {
    std::fill(mark_.begin(), mark_.end(), 0);
    generation_ = 1;
  }
  stack_.assign(from.rbegin(), from.rend());
  while (!stack_.empty()) {
    const int32_t id = stack_.back();
    stack_.pop_back();
    if (id < 0 || mark_[static_cast<size_t>(id)] == generation_) continue;
    mark_[static_cast<size_t>(id)] = generation_;
    const Node& n = prog_[static_cast<size_t>(id)];
    const size_t pat = static_cast<size_t>(pattern_of_[static_cast<size_t>(id)]);
    if ((*matched)[pat / 64] >> (pat % 64) & 1) continue;  // found already: nothing more to learn
    switch (n.op) {
      case kSet:
        nodes_out->push_back(id);
        break;
      case kSplit:
        stack_.push_back(n.out1);
        stack_.push_back(n.out);
        break;
      case kEmpty:
        stack_.push_back(n.out);
        break;
      case kMatch:
        (*matched)[static_cast<size_t>(n.arg) / 64] |= uint64_t{1} << (n.arg % 64);
        break;
      default: {  // an assertion
        if (!resolve) {
          nodes_out->push_back(id);
          break;
        }
        bool holds = false;
        if (n.op == kBeginText) holds = at_start;
        if (n.op == kEndText) holds = at_end;
        if (n.op == kWordBoundary) holds = prev_word != next_word;
        if (n.op == kNotWordBoundary) holds = prev_word == next_word;
        if (holds) stack_.push_back(n.out);
        break;
      }
    }
  }
}

int32_t TextDfa::AddState(State s) {
  // Nodes of patterns already found can go: they change nothing any more.
  // Start set members go too: every state has them (see StartMoves).
  std::vector<int32_t>& nodes = s.nodes;
  nodes.erase(std::remove_if(nodes.begin(), nodes.end(),
                             [&](int32_t id) {
                               const size_t pat = static_cast<size_t>(pattern_of_[static_cast<size_t>(id)]);
                               return in_start_set_[static_cast<size_t>(id)] != 0 ||
                                      (s.matched[pat / 64] >> (pat % 64) & 1) != 0;
                             }),
              nodes.end());
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  key_.clear();
  key_.push_back(static_cast<char>((s.at_start ? 1 : 0) | (s.prev_word ? 2 : 0)));
  key_.append(reinterpret_cast<const char*>(s.matched.data()), s.matched.size() * sizeof(uint64_t));
  key_.append(reinterpret_cast<const char*>(nodes.data()), nodes.size() * sizeof(int32_t));
  auto it = state_index_.find(key_);
  if (it != state_index_.end()) return it->second;
  if (states_.size() >= limits_.max_states) return -1;
  const int32_t index = static_cast<int32_t>(states_.size());
  state_index_.emplace(key_, index);
  states_.push_back(std::move(s));
  trans_.resize(states_.size() * static_cast<size_t>(num_classes_), kUnknown);
  trans_[static_cast<size_t>(index) * static_cast<size_t>(num_classes_) + static_cast<size_t>(num_classes_ - 1)] =
      kBail;
  return index;
}

void TextDfa::Flush() {
  if (texts_since_flush_ < limits_.min_texts_per_fill * static_cast<int64_t>(states_.size())) given_up_ = true;
  texts_since_flush_ = 0;
  states_.clear();
  state_index_.clear();
  trans_.clear();
  end_lists_.clear();
  start_ = -1;
  ++flushes_;
}

void TextDfa::BuildStartSet() {
  if (start_set_built_) return;
  start_set_built_ = true;
  in_start_set_.assign(prog_.size(), 0);
  start_set_matched_.assign((num_patterns_ + 63) / 64, 0);
  start_set_.clear();
  Closure(starts_, /*resolve=*/false, false, false, false, false, &start_set_, &start_set_matched_);
  std::sort(start_set_.begin(), start_set_.end());
  start_set_.erase(std::unique(start_set_.begin(), start_set_.end()), start_set_.end());
  for (int32_t id : start_set_) in_start_set_[static_cast<size_t>(id)] = 1;
  start_moves_.assign(4 * kSymbols, StartMove());
  start_end_ready_.fill(false);
}

const TextDfa::StartMove& TextDfa::StartMoves(bool at_start, bool prev_word, uint8_t byte) {
  StartMove& m = start_moves_[static_cast<size_t>(((at_start ? 2 : 0) + (prev_word ? 1 : 0)) * kSymbols + byte)];
  if (m.ready) return m;
  m.matched = start_set_matched_;
  m.nodes.clear();
  Advance(start_set_, at_start, prev_word, byte, &m.matched, &m.nodes);
  m.nodes.erase(std::remove_if(m.nodes.begin(), m.nodes.end(),
                               [&](int32_t id) { return in_start_set_[static_cast<size_t>(id)] != 0; }),
                m.nodes.end());
  std::sort(m.nodes.begin(), m.nodes.end());
  m.nodes.erase(std::unique(m.nodes.begin(), m.nodes.end()), m.nodes.end());
  m.ready = true;
  return m;
}

const std::vector<uint64_t>& TextDfa::StartEndMatches(bool at_start, bool prev_word) {
  const size_t k = (at_start ? 2 : 0) + (prev_word ? 1 : 0);
  std::vector<uint64_t>& matched = start_end_matched_[k];
  if (start_end_ready_[k]) return matched;
  matched = start_set_matched_;
  scratch_a_.clear();
  Closure(start_set_, /*resolve=*/true, at_start, /*at_end=*/true, prev_word, /*next_word=*/false, &scratch_a_,
          &matched);
  start_end_ready_[k] = true;
  return matched;
}

int32_t TextDfa::StartState() {
  if (start_ >= 0) return start_;
  BuildStartSet();
  State s;
  s.matched = start_set_matched_;  // the start set's nodes are implied
  s.at_start = true;
  start_ = AddState(std::move(s));
  return start_;
}

int32_t TextDfa::Transition(int32_t state, uint8_t byte) {
  // The start set's part comes from its table (it is the same for every
  // state with this context); the state's own nodes are stepped here. The
  // start set's nodes of patterns found already would be dropped anyway
  // (AddState), so taking all of them changes nothing.
  const StartMove& sm = StartMoves(states_[static_cast<size_t>(state)].at_start,
                                   states_[static_cast<size_t>(state)].prev_word, byte);
  const State& from = states_[static_cast<size_t>(state)];
  State to;
  to.prev_word = IsWordByte(byte);
  to.matched = from.matched;
  for (size_t w = 0; w < to.matched.size(); ++w) to.matched[w] |= sm.matched[w];
  Advance(from.nodes, from.at_start, from.prev_word, byte, &to.matched, &to.nodes);
  to.nodes.insert(to.nodes.end(), sm.nodes.begin(), sm.nodes.end());
  return AddState(std::move(to));
}

void TextDfa::Advance(const std::vector<int32_t>& from, bool at_start, bool prev_word, uint8_t byte,
                      std::vector<uint64_t>* matched, std::vector<int32_t>* out) {
  // Decide the pending assertions now that the next byte is known, then
  // move over the byte and follow the empty moves.
  scratch_a_.clear();
  Closure(from, /*resolve=*/true, at_start, /*at_end=*/false, prev_word, IsWordByte(byte), &scratch_a_, matched);
  scratch_b_.clear();
  for (int32_t id : scratch_a_) {
    const Node& n = prog_[static_cast<size_t>(id)];
    if (n.op == kSet && sets_[static_cast<size_t>(n.arg)].test(byte)) scratch_b_.push_back(n.out);
  }
  Closure(scratch_b_, /*resolve=*/false, false, false, false, false, out, matched);
}

int32_t TextDfa::EndMatches(int32_t state) {
  if (states_[static_cast<size_t>(state)].end_matches >= 0) return states_[static_cast<size_t>(state)].end_matches;
  const std::vector<uint64_t>& from_start = StartEndMatches(states_[static_cast<size_t>(state)].at_start,
                                                            states_[static_cast<size_t>(state)].prev_word);
  State& s = states_[static_cast<size_t>(state)];
  std::vector<uint64_t> matched = s.matched;
  for (size_t w = 0; w < matched.size(); ++w) matched[w] |= from_start[w];
  scratch_a_.clear();
  Closure(s.nodes, /*resolve=*/true, s.at_start, /*at_end=*/true, s.prev_word, /*next_word=*/false, &scratch_a_,
          &matched);
  std::vector<int32_t> list;
  for (size_t p = 0; p < num_patterns_; ++p) {
    if (matched[p / 64] >> (p % 64) & 1) list.push_back(static_cast<int32_t>(p));
  }
  s.end_matches = static_cast<int32_t>(end_lists_.size());
  end_lists_.push_back(std::move(list));
  return s.end_matches;
}

bool TextDfa::FlushKeeping(absl::Span<int32_t* const> keep) {
  const int32_t nc = num_classes_;
  std::vector<State> copies;
  for (int32_t* k : keep) copies.push_back(states_[static_cast<size_t>(*k / nc)]);
  Flush();
  if (given_up_) return false;
  for (size_t j = 0; j < keep.size(); ++j) {
    copies[j].end_matches = -1;
    const int32_t s = AddState(std::move(copies[j]));
    if (s < 0) {  // a cache too small even for the walks under way (tiny Limits::max_states)
      given_up_ = true;
      return false;
    }
    *keep[j] = s * nc;
  }
  return true;
}

int32_t TextDfa::SlowStep(int32_t at, uint8_t byte, absl::Span<int32_t* const> keep) {
  return SlowStepClass(at, byte_class_[byte], byte, keep);
}

int32_t TextDfa::SlowStepClass(int32_t at, int32_t cls, uint8_t byte, absl::Span<int32_t* const> keep) {
  const int32_t nc = num_classes_;
  const int32_t cell = at + cls;
  if (trans_[static_cast<size_t>(cell)] == kBail || given_up_) return kBail;
  int32_t made = Transition(at / nc, byte);
  int32_t from = at / nc;
  if (made < 0) {
    // The cache is full: start a new one with the states still in use (this
    // one and the other walks').
    int32_t here = at;
    std::vector<int32_t*> all(keep.begin(), keep.end());
    all.push_back(&here);
    if (!FlushKeeping(absl::MakeSpan(all))) return kBail;
    from = here / nc;
    made = Transition(from, byte);
    if (made < 0) {  // the kept walks fill the new cache (tiny Limits::max_states)
      given_up_ = true;
      return kBail;
    }
  }
  trans_[static_cast<size_t>(from * nc + cls)] = made * nc;
  return made * nc;
}

int32_t TextDfa::BeginText() {
  if (given_up_) return -1;
  ++texts_since_flush_;
  int32_t s = StartState();
  if (s < 0) {  // the cache was flushed while full: start a new one
    Flush();
    s = StartState();
  }
  return s;
}

const std::vector<int32_t>* TextDfa::Find(absl::string_view text) {
  const int32_t s = BeginText();
  if (s < 0) return nullptr;
  // The table holds states as offsets of their rows (state * classes), so
  // a step is two loads and an add.
  const int32_t* table = trans_.data();
  const uint8_t* const cls = byte_class_.data();
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const auto* const end = p + text.size();
  int32_t at = s * num_classes_;
  for (; p < end; ++p) {
    int32_t next = table[at + cls[*p]];
    if (ABSL_PREDICT_FALSE(next < 0)) {
      next = SlowStep(at, *p, {});
      if (next == kBail) return nullptr;
      table = trans_.data();
    }
    at = next;
  }
  return &end_lists_[static_cast<size_t>(EndMatches(at / num_classes_))];
}

namespace {
// The code point of the UTF-8 character at p (of at most `left` bytes) and
// its length in *len; -1 when the bytes there are not UTF-8 (overlong
// forms, surrogates and values past U+10FFFF included).
int32_t DecodeUtf8(const uint8_t* p, size_t left, int* len) {
  const uint8_t b0 = p[0];
  int n;
  int32_t cp, min;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2, cp = b0 & 0x1F, min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3, cp = b0 & 0x0F, min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return -1;
  }
  if (left < static_cast<size_t>(n)) return -1;
  for (int k = 1; k < n; ++k) {
    if ((p[k] & 0xC0) != 0x80) return -1;
    cp = cp << 6 | (p[k] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  *len = n;
  return cp;
}
}  // namespace

const std::vector<int32_t>* TextDfa::FindUtf8(absl::string_view text) {
  const int32_t s = BeginText();
  if (s < 0) return nullptr;
  const int32_t nc = num_classes_;
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const auto* const end = p + text.size();
  int32_t at = s * nc;
  while (p < end) {
    int32_t cls;
    uint8_t byte;
    if (*p < 0x80) {
      byte = *p++;
      cls = byte_class_[byte];
    } else {
      int len = 0;
      const int32_t cp = DecodeUtf8(p, static_cast<size_t>(end - p), &len);
      if (!ReadsAsNonAscii(cp)) return nullptr;  // RE2 reads the text
      p += len;
      byte = static_cast<uint8_t>(kNonAscii);
      cls = non_ascii_class_;
    }
    int32_t next = trans_[static_cast<size_t>(at + cls)];
    if (next < 0) {
      next = SlowStepClass(at, cls, byte, {});
      if (next == kBail) return nullptr;
    }
    at = next;
  }
  const std::vector<int32_t>& all = end_lists_[static_cast<size_t>(EndMatches(at / nc))];
  if (non_ascii_patterns_.empty()) return &all;
  utf8_found_.clear();
  AppendWithoutNonAsciiPatterns(all, &utf8_found_);
  return &utf8_found_;
}

void TextDfa::AppendWithoutNonAsciiPatterns(const std::vector<int32_t>& all, std::vector<int32_t>* out) const {
  for (const int32_t k : all) {
    if (!std::binary_search(non_ascii_patterns_.begin(), non_ascii_patterns_.end(), k)) out->push_back(k);
  }
}

void TextDfa::SortByLength(absl::Span<const absl::string_view> texts) {
  // A counting sort on length / 16, stable: texts of like lengths side by
  // side, in input order.
  constexpr size_t kBuckets = 64;
  order_count_.assign(kBuckets + 1, 0);
  for (const absl::string_view t : texts) ++order_count_[std::min(t.size() / 16, kBuckets - 1) + 1];
  for (size_t b = 1; b <= kBuckets; ++b) order_count_[b] += order_count_[b - 1];
  order_.resize(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    order_[order_count_[std::min(texts[i].size() / 16, kBuckets - 1)]++] = static_cast<uint32_t>(i);
  }
}

bool TextDfa::AppendSymbols(absl::string_view text) {
  const size_t start = symbols_.size();
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const auto* const end = p + text.size();
  while (p < end) {
    const uint8_t* q = p;
    while (q < end && *q < 0x80) ++q;
    symbols_.append(reinterpret_cast<const char*>(p), static_cast<size_t>(q - p));
    if (q == end) break;
    int len = 0;
    if (!ReadsAsNonAscii(DecodeUtf8(q, static_cast<size_t>(end - q), &len))) {  // as FindUtf8: left to RE2
      symbols_.resize(start);
      return false;
    }
    symbols_.push_back(static_cast<char>(kNonAscii));
    p = q + len;
  }
  return true;
}

void TextDfa::FindAll(absl::Span<const absl::string_view> texts, std::vector<int32_t>* found,
                      std::vector<std::pair<int32_t, int32_t>>* spans, std::vector<uint8_t>* utf8) {
  found->clear();
  spans->assign(texts.size(), {0, -1});
  if (utf8 != nullptr) utf8->assign(texts.size(), 0);
  if (given_up_ || texts.size() < 2 * kLanes) {
    for (size_t i = 0; i < texts.size(); ++i) {
      if (const std::vector<int32_t>* f = Find(texts[i])) {
        (*spans)[i] = {static_cast<int32_t>(found->size()), static_cast<int32_t>(f->size())};
        found->insert(found->end(), f->begin(), f->end());
      }
    }
    return;
  }
  // The texts are walked by length: the lanes step together until the
  // shortest of their texts ends, so texts of like lengths keep more lanes
  // busy per round. (In input order a round mostly ended one text:
  // classify_arrow on bench_parse's 10,750 events went from 4.1 to 3.6 ms
  // with this.)
  SortByLength(texts);
  stopped_.clear();
  WalkLanes(texts, nullptr, byte_class_.data(), /*symbols=*/false, found, spans,
            utf8 != nullptr ? &stopped_ : nullptr);
  if (utf8 == nullptr || stopped_.empty() || given_up_) return;
  // The texts stopped by a non-ASCII byte, again in lanes: each as a string
  // of symbols, a UTF-8 character being the one symbol kNonAscii, which is
  // what FindUtf8 reads character by character (and one at a time).
  symbols_.clear();
  symbol_ends_.clear();
  symbol_index_.clear();
  for (const uint32_t i : stopped_) {
    if (!AppendSymbols(texts[i])) continue;
    symbol_ends_.push_back(symbols_.size());
    symbol_index_.push_back(i);
  }
  if (symbol_index_.empty()) return;
  symbol_texts_.clear();
  size_t from = 0;
  for (const size_t to : symbol_ends_) {
    symbol_texts_.emplace_back(symbols_.data() + from, to - from);
    from = to;
  }
  SortByLength(symbol_texts_);
  WalkLanes(symbol_texts_, symbol_index_.data(), symbol_class_.data(), /*symbols=*/true, found, spans, nullptr);
  for (const uint32_t i : symbol_index_) {
    if ((*spans)[i].second >= 0) (*utf8)[i] = 1;
  }
}

void TextDfa::WalkLanes(absl::Span<const absl::string_view> texts, const uint32_t* index, const uint8_t* cls,
                        bool symbols, std::vector<int32_t>* found, std::vector<std::pair<int32_t, int32_t>>* spans,
                        std::vector<uint32_t>* stopped) {
  const int32_t nc = num_classes_;
  const uint32_t* const order = order_.data();
  // The output index of text i (its index in the caller's texts).
  auto out_index = [&](size_t i) -> size_t { return index == nullptr ? i : index[i]; };
  // Each lane walks one text; a finished (or bailed) lane takes the next.
  const uint8_t* p[kLanes];
  const uint8_t* end[kLanes];
  int32_t at[kLanes];
  size_t text_of[kLanes];
  size_t next_text = 0;
  int active = 0;
  bool live[kLanes] = {};
  // The states of the walks other than lane k (kept across a cache flush).
  int32_t* others[kLanes - 1];
  auto others_of = [&](int k) {
    size_t n = 0;
    for (int o = 0; o < kLanes; ++o) {
      if (o != k && live[o]) others[n++] = &at[o];
    }
    return absl::MakeSpan(others, n);
  };
  auto load = [&](int k) -> bool {
    while (next_text < texts.size() && !given_up_) {
      int32_t s = StartState();
      if (s < 0) {  // flushed, and the cache filled up again: flush it, keeping the other walks
        if (!FlushKeeping(others_of(k))) return false;
        s = StartState();
      }
      const absl::string_view t = texts[order[next_text++]];
      // The texts of a batch's undecided rows lie far apart: ask for one a
      // few loads ahead now (its first lines), so it is in cache by then.
      constexpr size_t kAhead = 2 * kLanes;
      if (next_text + kAhead < texts.size()) {
        const char* ahead = texts[order[next_text + kAhead]].data();
        __builtin_prefetch(ahead);
        __builtin_prefetch(ahead + 64);
        __builtin_prefetch(ahead + 128);
      }
      if (s < 0) continue;  // cannot happen (the new cache has room); RE2 reads the text
      p[k] = reinterpret_cast<const uint8_t*>(t.data());
      end[k] = p[k] + t.size();
      at[k] = s * nc;
      text_of[k] = out_index(order[next_text - 1]);
      ++texts_since_flush_;
      return true;
    }
    return false;
  };
  // One step of lane k the slow way, making the state when needed; false
  // when the lane stops (a non-ASCII byte, or the DFA gave up).
  auto slow_step = [&](int k) -> bool {
    int32_t next = trans_[static_cast<size_t>(at[k] + cls[*p[k]])];
    if (next < 0) {
      next = SlowStepClass(at[k], cls[*p[k]], *p[k], others_of(k));
      if (next == kBail) {
        if (stopped != nullptr && *p[k] >= 0x80 && !given_up_) stopped->push_back(static_cast<uint32_t>(text_of[k]));
        return false;
      }
    }
    at[k] = next;
    ++p[k];
    return true;
  };
  auto finish = [&](int k, bool bailed) {
    if (!bailed) {
      const std::vector<int32_t>& f = end_lists_[static_cast<size_t>(EndMatches(at[k] / nc))];
      const size_t before = found->size();
      if (symbols && !non_ascii_patterns_.empty()) {  // as FindUtf8: those patterns are RE2's to answer
        AppendWithoutNonAsciiPatterns(f, found);
      } else {
        found->insert(found->end(), f.begin(), f.end());
      }
      (*spans)[text_of[k]] = {static_cast<int32_t>(before), static_cast<int32_t>(found->size() - before)};
    }
  };
  // When a flush gives up (the cache filled again too soon), the states of
  // every walk still under way go with the cache: those texts are left to
  // RE2 (their spans stay {0, -1}), as are the ones not yet started.
  auto drop_all = [&] {
    for (int k = 0; k < kLanes; ++k) live[k] = false;
  };
  for (int k = 0; k < kLanes && !given_up_; ++k) {
    live[k] = load(k);
  }
  if (given_up_) drop_all();
  for (int k = 0; k < kLanes; ++k) active += live[k];
  while (active == kLanes) {
    size_t m = static_cast<size_t>(end[0] - p[0]);
    for (int k = 1; k < kLanes; ++k) m = std::min(m, static_cast<size_t>(end[k] - p[k]));
    const int32_t* table = trans_.data();
    // The walks in locals (registers), unrolled by hand: the compiler keeps
    // arrays indexed by lane in memory.
#define BK_LANE_STEP(k) const int32_t n##k = table[a##k + cls[q##k[j]]];
#define BK_LANE_VARS(k) int32_t a##k = at[k]; const uint8_t* const q##k = p[k];
    size_t j = 0;
    if constexpr (kLanes == 4) {
      BK_LANE_VARS(0) BK_LANE_VARS(1) BK_LANE_VARS(2) BK_LANE_VARS(3)
      for (; j < m; ++j) {
        BK_LANE_STEP(0) BK_LANE_STEP(1) BK_LANE_STEP(2) BK_LANE_STEP(3)
        if (ABSL_PREDICT_FALSE((n0 | n1 | n2 | n3) < 0)) break;
        a0 = n0, a1 = n1, a2 = n2, a3 = n3;
      }
      at[0] = a0, at[1] = a1, at[2] = a2, at[3] = a3;
    } else if constexpr (kLanes == 8) {
      BK_LANE_VARS(0) BK_LANE_VARS(1) BK_LANE_VARS(2) BK_LANE_VARS(3)
      BK_LANE_VARS(4) BK_LANE_VARS(5) BK_LANE_VARS(6) BK_LANE_VARS(7)
      for (; j < m; ++j) {
        BK_LANE_STEP(0) BK_LANE_STEP(1) BK_LANE_STEP(2) BK_LANE_STEP(3)
        BK_LANE_STEP(4) BK_LANE_STEP(5) BK_LANE_STEP(6) BK_LANE_STEP(7)
        if (ABSL_PREDICT_FALSE((n0 | n1 | n2 | n3 | n4 | n5 | n6 | n7) < 0)) break;
        a0 = n0, a1 = n1, a2 = n2, a3 = n3, a4 = n4, a5 = n5, a6 = n6, a7 = n7;
      }
      at[0] = a0, at[1] = a1, at[2] = a2, at[3] = a3, at[4] = a4, at[5] = a5, at[6] = a6, at[7] = a7;
    } else if constexpr (kLanes == 16) {
      BK_LANE_VARS(0) BK_LANE_VARS(1) BK_LANE_VARS(2) BK_LANE_VARS(3)
      BK_LANE_VARS(4) BK_LANE_VARS(5) BK_LANE_VARS(6) BK_LANE_VARS(7)
      BK_LANE_VARS(8) BK_LANE_VARS(9) BK_LANE_VARS(10) BK_LANE_VARS(11)
      BK_LANE_VARS(12) BK_LANE_VARS(13) BK_LANE_VARS(14) BK_LANE_VARS(15)
      for (; j < m; ++j) {
        BK_LANE_STEP(0) BK_LANE_STEP(1) BK_LANE_STEP(2) BK_LANE_STEP(3)
        BK_LANE_STEP(4) BK_LANE_STEP(5) BK_LANE_STEP(6) BK_LANE_STEP(7)
        BK_LANE_STEP(8) BK_LANE_STEP(9) BK_LANE_STEP(10) BK_LANE_STEP(11)
        BK_LANE_STEP(12) BK_LANE_STEP(13) BK_LANE_STEP(14) BK_LANE_STEP(15)
        if (ABSL_PREDICT_FALSE((n0 | n1 | n2 | n3 | n4 | n5 | n6 | n7 | n8 | n9 | n10 | n11 | n12 | n13 | n14 | n15) < 0)) break;
        a0 = n0, a1 = n1, a2 = n2, a3 = n3, a4 = n4, a5 = n5, a6 = n6, a7 = n7;
        a8 = n8, a9 = n9, a10 = n10, a11 = n11, a12 = n12, a13 = n13, a14 = n14, a15 = n15;
      }
      at[0] = a0, at[1] = a1, at[2] = a2, at[3] = a3, at[4] = a4, at[5] = a5, at[6] = a6, at[7] = a7;
      at[8] = a8, at[9] = a9, at[10] = a10, at[11] = a11, at[12] = a12, at[13] = a13, at[14] = a14, at[15] = a15;
    }
#undef BK_LANE_STEP
#undef BK_LANE_VARS
    for (int k = 0; k < kLanes; ++k) p[k] += j;
    if (j < m) {  // some lane needs a new state (or met a non-ASCII byte): one step each, slowly
      for (int k = 0; k < kLanes && !given_up_; ++k) {
        if (live[k] && !slow_step(k)) live[k] = false;  // its span stays {0, -1}
      }
    }
    for (int k = 0; k < kLanes && !given_up_; ++k) {
      if (live[k] && p[k] == end[k]) {
        finish(k, false);
        live[k] = false;
      }
      if (!live[k]) live[k] = load(k);
    }
    if (given_up_) drop_all();
    active = 0;
    for (int k = 0; k < kLanes; ++k) active += live[k];
  }
  // The last few texts, one at a time.
  for (int k = 0; k < kLanes && !given_up_; ++k) {
    if (!live[k]) continue;
    bool ok = true;
    while (ok && p[k] < end[k]) ok = slow_step(k);
    if (given_up_) break;  // the other lanes' states are gone with the cache
    finish(k, !ok);
    live[k] = false;
  }
  for (; next_text < texts.size(); ++next_text) {  // left after the DFA gave up: RE2 reads them
    (*spans)[out_index(order[next_text])] = {0, -1};
  }
}

bool TextDfa::Match(absl::string_view text, std::vector<uint8_t>* hits) {
  const std::vector<int32_t>* found = Find(text);
  if (found == nullptr) return false;
  hits->assign(num_patterns_, 0);
  for (int32_t pat : *found) (*hits)[static_cast<size_t>(pat)] = 1;
  return true;
}

}  // namespace bouncekit::internal
