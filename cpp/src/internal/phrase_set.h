// Copyright 2026 The bouncekit authors.
//
// PhraseSet: which of a fixed set of phrases occur in a text, ASCII
// case-insensitively, in one pass. The readers ask many "does this line
// mention X or Y or Z" questions of every line of an e-mail; a chain of
// substring searches reads the line once per phrase, this reads it once.
//
// Phrases are indexed by their first (lower-case) byte; at each position of
// the text only the phrases starting with that byte are compared. Each
// phrase carries a group number (0..63); the result is the bitmask of the
// groups of all phrases found. Linear in text size times the longest phrase
// (phrases are short constants), no allocation while scanning.

#ifndef BOUNCEKIT_SRC_INTERNAL_PHRASE_SET_H_
#define BOUNCEKIT_SRC_INTERNAL_PHRASE_SET_H_

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace bouncekit::internal {

class PhraseSet {
 public:
  struct Phrase {
    absl::string_view text;  // lower-case ASCII, not empty
    int group;               // 0..63
  };

  PhraseSet(std::initializer_list<Phrase> phrases) {
    for (const Phrase& p : phrases) {
      const auto first = static_cast<unsigned char>(p.text[0]);
      by_first_[first].push_back(Entry{std::string(p.text), uint64_t{1} << p.group});
      starts_[first] = 1;
      starts_[static_cast<unsigned char>(absl::ascii_toupper(first))] = 1;
    }
  }

  // Bitmask of the groups whose phrases occur in `text` (any case).
  // `stop_mask`: return as soon as any of these groups is found.
  uint64_t Find(absl::string_view text, uint64_t stop_mask = 0) const {
    uint64_t found = 0;
    const size_t n = text.size();
    const auto* const bytes = reinterpret_cast<const unsigned char*>(text.data());
    for (size_t k = 0; k < n; ++k) {
      if (starts_[bytes[k]] == 0) continue;  // the common case: one load, one test
      const std::vector<Entry>& cands = by_first_[absl::ascii_tolower(bytes[k])];
      for (const Entry& e : cands) {
        if ((found & e.group_bit) != 0 || e.text.size() > n - k) continue;
        size_t j = 1;
        while (j < e.text.size() &&
               absl::ascii_tolower(static_cast<unsigned char>(text[k + j])) == e.text[j]) {
          ++j;
        }
        if (j == e.text.size()) {
          found |= e.group_bit;
          if ((found & stop_mask) != 0) return found;
        }
      }
    }
    return found;
  }

 private:
  struct Entry {
    std::string text;
    uint64_t group_bit;
  };
  std::array<std::vector<Entry>, 256> by_first_;
  std::array<uint8_t, 256> starts_{};  // 1 where a phrase starts with this byte (any case)
};

}  // namespace bouncekit::internal

#endif  // BOUNCEKIT_SRC_INTERNAL_PHRASE_SET_H_
