// Copyright 2026 The bouncekit authors.
//
// TextDfa: which of a set of case-insensitive regular expressions occur
// (unanchored) in an ASCII text, in one pass, by a lazily built DFA over all
// of them at once. It answers what RE2::Set::Match answers for the same
// patterns (RE2 syntax, case-insensitive, UTF-8 mode), for the texts it can
// read: Find and Match read ASCII texts only (a text with a byte >= 0x80 is
// left to RE2, whose Unicode case folding and UTF-8 `.` then apply);
// FindUtf8 also reads UTF-8 texts, for the patterns that name no non-ASCII
// character. FindAll reads many texts at once, in lockstep, both kinds.
//
// Why not RE2::Set alone: classifying a diagnostic asks this question once
// per row over ~100-byte texts, and RE2's DFA spends ~30 instructions a byte
// there (locking its cache, a malloc per match, flag bookkeeping). This one
// is a table walk: one class lookup and one transition per byte; states are
// made the first time they are reached and kept (a bounded cache, flushed
// when full), so the time stays linear in the text whatever the patterns.
//
// Supported syntax (anything else makes Compile fail, and the caller keeps
// RE2): literals, escaped punctuation, \xHH (ASCII), \t \n \r \f \v \a,
// `.`, bracket classes with ranges and negation, \d \D \s \S \w \W (also in
// classes), groups ( ) and (?: ), `|`, `?` `*` `+` `{m}` `{m,}` `{m,n}` (and
// their lazy forms, which match the same texts), `^` `$` \A \z (text
// boundaries, as RE2 without the m flag) and \b \B (ASCII word boundaries).

#ifndef BOUNCEKIT_SRC_INTERNAL_TEXT_DFA_H_
#define BOUNCEKIT_SRC_INTERNAL_TEXT_DFA_H_

#include <array>
#include <bitset>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace bouncekit::internal {

struct TextDfaLimits {
  size_t max_states = size_t{1} << 15;  // the state cache is flushed when full
  // A cache that fills up again within this many texts per state is
  // thrashing: the DFA then gives up and leaves every text to RE2.
  int64_t min_texts_per_fill = 4;
};

class TextDfa {
 public:
  // The patterns, numbered from 0 in the order given. Unimplemented when one
  // uses syntax outside the subset above (or would make too big an NFA).
  using Limits = TextDfaLimits;
  // The symbols a DFA step reads: the 128 ASCII bytes and, as symbol 128,
  // any non-ASCII character (FindUtf8); sets of them.
  static constexpr size_t kSymbols = 129;
  using ByteSet = std::bitset<kSymbols>;
  static absl::StatusOr<std::unique_ptr<TextDfa>> Compile(const std::vector<std::string>& patterns,
                                                          Limits limits = Limits());

  // The patterns found in `text`, in increasing order (valid until the next
  // call); nullptr when the text has a byte >= 0x80, or once the DFA has
  // given up (its state cache kept filling up: patterns whose DFA is too big
  // for the texts at hand, where RE2's own cache does better).
  const std::vector<int32_t>* Find(absl::string_view text);
  // Find for a text that may hold non-ASCII characters (UTF-8): each one is
  // read as one symbol that the patterns' `.`, negated classes and \D \S
  // \W take, as RE2 in UTF-8 mode does, so the answer is RE2's for every
  // pattern except those that name a non-ASCII character themselves
  // (NonAsciiPatterns(): they are always left out of it, and the caller
  // asks RE2 about them). nullptr when the text is not UTF-8, holds a character that
  // case folding ties to an ASCII letter (U+017F, U+212A; U+0130, U+0131 to
  // be safe), or the DFA gave up.
  const std::vector<int32_t>* FindUtf8(absl::string_view text);
  const std::vector<int32_t>& NonAsciiPatterns() const { return non_ascii_patterns_; }
  // Find for many texts, eight at a time in lockstep (a DFA walk waits on
  // each table load; independent walks overlap those waits). For text
  // i, spans[i] = {offset, count} of its patterns in *found, or {0, -1} when
  // Find would give nullptr. found and spans are cleared first.
  //
  // With `utf8`, the texts Find stops on (a non-ASCII byte) are read as
  // FindUtf8 reads them, in lockstep too: (*utf8)[i] = 1 when text i's
  // span is FindUtf8's answer (NonAsciiPatterns() left out, for the caller
  // to ask RE2), 0 when it is Find's (or {0, -1}).
  void FindAll(absl::Span<const absl::string_view> texts, std::vector<int32_t>* found,
               std::vector<std::pair<int32_t, int32_t>>* spans, std::vector<uint8_t>* utf8 = nullptr);
  // The same as flags: (*hits)[i] = 1 for every pattern i found (hits is
  // resized to the number of patterns); false when Find gives nullptr.
  bool Match(absl::string_view text, std::vector<uint8_t>* hits);

  size_t num_patterns() const { return num_patterns_; }
  // States made so far (tests and benchmarks).
  size_t num_states() const { return states_.size(); }
  int num_byte_classes() const { return num_classes_; }
  // Nodes of the start set (every pattern's start, closed; 0 before the
  // first text) and the nodes the states made so far keep of their own
  // (tests: states leave the start set out).
  size_t start_set_size() const { return start_set_.size(); }
  size_t state_own_nodes() const {
    size_t n = 0;
    for (const State& s : states_) n += s.nodes.size();
    return n;
  }
  int64_t cache_flushes() const { return flushes_; }
  bool given_up() const { return given_up_; }

  // Instances are per thread (the state cache is not shared).
  TextDfa(const TextDfa&) = delete;
  TextDfa& operator=(const TextDfa&) = delete;

 private:
  enum Op : uint8_t { kSet, kSplit, kEmpty, kMatch, kBeginText, kEndText, kWordBoundary, kNotWordBoundary };
  struct Node {
    Op op;
    int32_t out = -1;
    int32_t out1 = -1;  // kSplit's second branch
    int32_t arg = -1;   // kSet: index into sets_; kMatch: pattern
  };
  struct State {
    // kSet and assertion nodes alive, sorted, other than those of the start
    // set (see start_set_): a state's whole node set is these plus the start
    // set's nodes of patterns not found yet.
    std::vector<int32_t> nodes;
    std::vector<uint64_t> matched;  // patterns found so far
    bool at_start = false;          // position 0 (\A and ^ hold)
    bool prev_word = false;         // the byte before was a word byte
    int32_t end_matches = -1;       // index into end_lists_, once known
  };
  struct Parser;
  friend struct Parser;

  TextDfa() = default;
  int32_t AddNode(Op op, int32_t out = -1, int32_t out1 = -1, int32_t arg = -1);
  // Follows empty moves from `from` (and through assertions that hold when
  // `resolve`, given the context), adding kSet nodes and still-pending
  // assertions to nodes_out and found patterns to matched.
  void Closure(const std::vector<int32_t>& from, bool resolve, bool at_start, bool at_end, bool prev_word,
               bool next_word, std::vector<int32_t>* nodes_out, std::vector<uint64_t>* matched);
  int32_t AddState(State s);  // index of an equal state, or a new one; -1 when the cache is full
  // One step of the nodes `from` over `byte`: their pending assertions
  // decided (position 0 when `at_start`; `prev_word`: the byte before was a
  // word byte), the byte consumed, empty moves followed. The nodes reached go
  // to *out (not sorted, not deduplicated), the patterns found to *matched.
  void Advance(const std::vector<int32_t>& from, bool at_start, bool prev_word, uint8_t byte,
               std::vector<uint64_t>* matched, std::vector<int32_t>* out);
  int32_t Transition(int32_t state, uint8_t byte);  // the next state (made now)
  int32_t EndMatches(int32_t state);
  void Flush();
  // One step from row offset `at` over `byte`, making the state when needed;
  // kBail (-2) for a non-ASCII byte or once given up. A flush on the way
  // keeps the states at the row offsets in `keep` (updating them).
  int32_t SlowStep(int32_t at, uint8_t byte, absl::Span<int32_t* const> keep);
  // The same over byte class `cls` with `byte` one of its bytes (128 for
  // the class of non-ASCII characters).
  int32_t SlowStepClass(int32_t at, int32_t cls, uint8_t byte, absl::Span<int32_t* const> keep);
  // Flushes the cache, then adds the states at the row offsets in `keep`
  // again (updating them); false when the DFA gave up instead.
  bool FlushKeeping(absl::Span<int32_t* const> keep);
  int32_t StartState();
  // Find's and FindUtf8's first step: the start state for a new text
  // (flushing a full cache), or -1 once the DFA has given up.
  int32_t BeginText();
  // The start set: the closure of every pattern's start, which unanchored
  // search adds at every position. Every state holds it (less the nodes of
  // patterns already found), so states leave it out of their node lists and
  // the transitions take its part from StartMoves. With the built-in rules
  // the start set has ~600 nodes and a state ~30 of its own, so states cost
  // far less to make and to keep: the states for the Sisimai corpus'
  // diagnostics took 0.44 s to make with whole node sets, 0.03 s like this.
  void BuildStartSet();
  // What the start set contributes to a transition from a state with
  // `at_start` and `prev_word` over `byte` (a symbol, < kSymbols): the nodes it moves to
  // (closed, start set members left out, sorted) and the patterns found.
  struct StartMove {
    bool ready = false;
    std::vector<int32_t> nodes;
    std::vector<uint64_t> matched;
  };
  const StartMove& StartMoves(bool at_start, bool prev_word, uint8_t byte);
  // The patterns the start set's nodes find at the end of the text.
  const std::vector<uint64_t>& StartEndMatches(bool at_start, bool prev_word);

  Limits limits_;
  size_t num_patterns_ = 0;
  std::vector<Node> prog_;
  std::vector<ByteSet> sets_;
  std::vector<int32_t> pattern_of_;  // node -> pattern
  std::vector<int32_t> starts_;      // first node of each pattern
  std::array<uint8_t, 256> byte_class_{};
  std::array<uint8_t, 130> class_byte_{};  // one byte of each class (128: non-ASCII characters)
  int num_classes_ = 0;                    // the last class is bytes >= 0x80
  int32_t non_ascii_class_ = 0;            // the class of FindUtf8's non-ASCII characters
  std::vector<int32_t> non_ascii_patterns_;  // patterns naming a non-ASCII character, ascending
  std::vector<int32_t> utf8_found_;          // FindUtf8's answer when it leaves some out
  // FindAll's walks at once. The walks wait on table loads, and with the
  // built-in rules the table is megabytes (the Sisimai corpus' diagnostics
  // make ~13,000 states of 53 byte classes, 4 bytes a transition), so most
  // loads miss the L2 cache; more walks keep more of those misses in
  // flight. Measured on the benchmark's diagnostics: eight walks against
  // four, 175-205 ns a text against 208-548 (an earlier 2-core VM). With
  // the texts in input order sixteen walks were 7 % faster than eight (AMD
  // EPYC, 2 cores); walked by length, eight are 4 % faster than sixteen
  // (classify_arrow 3.29-3.30 ms against 3.41-3.45): they all fit in
  // registers.
  static constexpr int kLanes = 8;
  static_assert(kLanes == 4 || kLanes == 8 || kLanes == 16);
  // Appends the patterns of `all` outside NonAsciiPatterns() to *out.
  void AppendWithoutNonAsciiPatterns(const std::vector<int32_t>& all, std::vector<int32_t>* out) const;
  // order_ = the indices of `texts`, by length / 16 (stable).
  void SortByLength(absl::Span<const absl::string_view> texts);
  // Appends `text` to symbols_ as FindUtf8 reads it (ASCII bytes as they
  // are, each UTF-8 character as kNonAscii); false (nothing appended) where
  // FindUtf8 gives nullptr.
  bool AppendSymbols(absl::string_view text);
  // The lockstep walks of FindAll over texts[order_[0 ..]]: text i's answer
  // goes to spans[index ? index[i] : i]. `cls` maps bytes to classes;
  // `symbols`: the texts are AppendSymbols' (NonAsciiPatterns() left out of
  // the answers). The texts stopped by a byte >= 0x80 go to *stopped.
  void WalkLanes(absl::Span<const absl::string_view> texts, const uint32_t* index, const uint8_t* cls, bool symbols,
                 std::vector<int32_t>* found, std::vector<std::pair<int32_t, int32_t>>* spans,
                 std::vector<uint32_t>* stopped);
  std::vector<uint32_t> order_;              // FindAll's texts, by length
  std::vector<uint32_t> order_count_;
  std::vector<uint32_t> stopped_;            // FindAll: texts stopped by a non-ASCII byte
  std::string symbols_;                      // FindAll: those texts as symbols, one after the other
  std::vector<size_t> symbol_ends_;
  std::vector<uint32_t> symbol_index_;       // the text of each
  std::vector<absl::string_view> symbol_texts_;
  std::array<uint8_t, 256> symbol_class_{};  // byte_class_, but kNonAscii -> non_ascii_class_
  ByteSet word_;

  bool start_set_built_ = false;
  std::vector<uint8_t> in_start_set_;       // node -> member of the start set (kSet or assertion)
  std::vector<int32_t> start_set_;          // its members, sorted
  std::vector<uint64_t> start_set_matched_; // patterns found by the start set alone (empty matches)
  std::vector<StartMove> start_moves_;      // [(at_start * 2 + prev_word) * kSymbols + byte]
  std::array<std::vector<uint64_t>, 4> start_end_matched_;
  std::array<bool, 4> start_end_ready_{};

  std::vector<State> states_;
  absl::flat_hash_map<std::string, int32_t> state_index_;
  std::vector<int32_t> trans_;  // [state * num_classes_ + class]: state, kUnknown or kBail
  std::vector<std::vector<int32_t>> end_lists_;
  int32_t start_ = -1;
  int64_t flushes_ = 0;
  int64_t texts_since_flush_ = 0;
  bool given_up_ = false;
  // Closure scratch.
  std::vector<uint32_t> mark_;
  uint32_t generation_ = 0;
  std::vector<int32_t> stack_;
  std::vector<int32_t> scratch_a_, scratch_b_;
  std::string key_;
};

}  // namespace bouncekit::internal

#endif  // BOUNCEKIT_SRC_INTERNAL_TEXT_DFA_H_
