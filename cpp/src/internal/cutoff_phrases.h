// Copyright 2026 The bouncekit authors.
//
// The phrases by which the e-mail reader recognises the line where the copy
// of the original message starts ("----- Original message -----", "Below
// this line is a copy of the message."), and a test for them that reads a
// line only where one of four words occurs.
//
// Group 0: the words every phrase of group 1 names (the original, a
// message, a copy, headers). Group 1: phrases that start the copy on any
// line. Group 2: phrases that start it on a ruled line.

#ifndef BOUNCEKIT_SRC_INTERNAL_CUTOFF_PHRASES_H_
#define BOUNCEKIT_SRC_INTERNAL_CUTOFF_PHRASES_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "internal/email_scan.h"

namespace bouncekit::internal {

inline constexpr absl::string_view kCutoffWords[] = {"origin", "message", "copy", "header"};
inline constexpr absl::string_view kCutoffPhrases[] = {
    "below this line is a copy",      "this is a copy of the message",
    "original message headers",       "original message follows",
    "header of the original message", "headers of the original message",
    "content-type: message/rfc822",   "unsent message follows",
    "original message header",        "returned message follows",
    "unsent message below",           "your message reads",
    "message header follows",         "copy of the original message"};
inline constexpr absl::string_view kCutoffRuledPhrases[] = {"original",     "returned mail", "headers",
                                                            "message text", "message body",  "copy of"};

// What a PhraseSet of the three groups (0, 1, 2, in this order) gives for
// `l` with Find(l, /*stop_mask=*/2), in its bits 0 and 1: bit 1 when a
// group-1 phrase occurs in `l`; bit 0 when a group-0 word occurs in `l`
// and, if a group-1 phrase does too, starts at or before the first such
// phrase (Find stops there; at one position it tries group 0 first).
// Found from the group-0 words alone: each group-1 phrase holds one at a
// fixed offset, so the phrases are compared only where a word occurs.
// ASCII case is ignored. Linear in the length of `l`.
//
// `first` is FindCutoffWordStart(l, 0) when the caller has it (npos:
// none), and `readable_end` how far past `l` its buffer may be read.
inline uint64_t CutoffPhrasesFound(absl::string_view l, size_t first, const char* readable_end = nullptr) {
  constexpr size_t kNumPhrases = sizeof(kCutoffPhrases) / sizeof(kCutoffPhrases[0]);
  // Per group-0 word, the phrases whose first group-0 word it is, with
  // that word's offset in them.
  struct Anchored {
    size_t count = 0;
    size_t phrase[kNumPhrases] = {};
    size_t offset[kNumPhrases] = {};
  };
  static const std::array<Anchored, 4> kByWord = [] {
    std::array<Anchored, 4> by_word{};
    for (size_t i = 0; i < kNumPhrases; ++i) {
      const absl::string_view p = kCutoffPhrases[i];
      bool done = false;
      for (size_t o = 0; o < p.size() && !done; ++o) {
        for (int w = 0; w < 4 && !done; ++w) {
          if (p.substr(o, kCutoffWords[w].size()) != kCutoffWords[w]) continue;
          Anchored& a = by_word[w];
          a.phrase[a.count] = i;
          a.offset[a.count] = o;
          ++a.count;
          done = true;
        }
      }
    }
    return by_word;
  }();
  constexpr size_t npos = absl::string_view::npos;
  size_t first_word = npos, first_phrase = npos;
  // Every start of "ori", "mes", "cop" or "hea" (any case): where a word
  // may start. Their first letters differ, so that letter names the word.
  for (size_t q = first; q != npos; q = FindCutoffWordStart(l, q + 1, readable_end)) {
    const char c = static_cast<char>(l[q] | 0x20);
    const int w = c == 'o' ? 0 : c == 'm' ? 1 : c == 'c' ? 2 : 3;
    const absl::string_view word = kCutoffWords[w];
    if (l.size() - q < word.size() || !EqualsLower(l.substr(q, word.size()), word)) continue;
    if (first_word == npos) first_word = q;
    const Anchored& a = kByWord[w];
    for (size_t k = 0; k < a.count; ++k) {
      if (q < a.offset[k]) continue;
      const size_t s = q - a.offset[k];  // where the phrase would start
      const absl::string_view p = kCutoffPhrases[a.phrase[k]];
      if (s >= first_phrase || l.size() - s < p.size()) continue;
      // Compared from the end: phrases share their starts ("original
      // message ..."), and a line that names the word rarely goes on so.
      const char* const t = l.data() + s;
      size_t j = p.size();
      while (j > 0 && LowerAscii(t[j - 1]) == p[j - 1]) --j;
      if (j == 0) first_phrase = s;
    }
  }
  if (first_phrase == npos) return first_word == npos ? 0 : 1;
  return (first_word <= first_phrase ? 1 : 0) | 2;
}

inline uint64_t CutoffPhrasesFound(absl::string_view l) {
  return CutoffPhrasesFound(l, FindCutoffWordStart(l, 0));
}

}  // namespace bouncekit::internal

#endif  // BOUNCEKIT_SRC_INTERNAL_CUTOFF_PHRASES_H_
