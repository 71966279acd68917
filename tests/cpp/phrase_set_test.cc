// Copyright 2026 The bouncekit authors.
//
// PhraseSet (cpp/src/internal/phrase_set.h) against a naive reference: for
// random texts over a small alphabet (so phrases occur often, overlap and
// straddle case changes), the group mask is what one case-insensitive
// substring search per phrase gives.

#include "internal/phrase_set.h"

#include "internal/cutoff_phrases.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace bouncekit::internal {
namespace {

struct Ref {
  std::string text;
  int group;
};

uint64_t Naive(const std::vector<Ref>& phrases, const std::string& text) {
  const std::string lower = absl::AsciiStrToLower(text);
  uint64_t found = 0;
  for (const Ref& p : phrases) {
    if (absl::StrContains(lower, p.text)) found |= uint64_t{1} << p.group;
  }
  return found;
}

TEST(PhraseSetTest, MatchesNaiveSearchOnRandomTexts) {
  const PhraseSet set{{"ab", 0}, {"abc", 1}, {"bca", 1}, {"c a", 2}, {"aaa", 3},
                      {"[x]", 4}, {"b", 5},   {"cab c", 63}};
  const std::vector<Ref> ref{{"ab", 0}, {"abc", 1}, {"bca", 1}, {"c a", 2}, {"aaa", 3},
                             {"[x]", 4}, {"b", 5},   {"cab c", 63}};
  std::mt19937 rng(7);
  const std::string alphabet = "aAbBcC []x";
  for (int iter = 0; iter < 20000; ++iter) {
    std::string text(rng() % 12, ' ');
    for (char& ch : text) ch = alphabet[rng() % alphabet.size()];
    ASSERT_EQ(set.Find(text), Naive(ref, text)) << "text: '" << text << "'";
  }
}

// Phrases of three bytes or more take the sixteen-positions-at-a-time
// prefilter; longer texts so that whole blocks and the tail are both used,
// and bytes that equal a letter once 0x20 is or-ed in ('A' ^ 0x20 = 'a',
// '@', '`', '{', '[').
TEST(PhraseSetTest, PrefilterMatchesNaiveSearch) {
  const std::vector<Ref> ref{{"abc", 0}, {"bca", 1}, {"c a", 2}, {"aaa", 3}, {"[x]", 4},
                             {"cab c", 5}, {"{x}", 6}, {"ab`", 7}, {"a@b", 63}};
  const PhraseSet set{{"abc", 0}, {"bca", 1}, {"c a", 2}, {"aaa", 3}, {"[x]", 4},
                      {"cab c", 5}, {"{x}", 6}, {"ab`", 7}, {"a@b", 63}};
  std::mt19937 rng(11);
  const std::string alphabet = "aAbBcC []x{}@`";
  for (int iter = 0; iter < 20000; ++iter) {
    std::string text(rng() % 70, ' ');
    for (char& ch : text) ch = alphabet[rng() % alphabet.size()];
    ASSERT_EQ(set.Find(text), Naive(ref, text)) << "text: '" << text << "'";
    // With a stop mask the result is a subset that still holds the stop group.
    const uint64_t stop = set.Find(text, /*stop_mask=*/uint64_t{1} << 3);
    ASSERT_EQ(stop & ~Naive(ref, text), 0u);
  }
  EXPECT_EQ(set.Find(std::string(40, 'x') + "RCP AbC"), uint64_t{1});
}

TEST(PhraseSetTest, StopMaskReturnsEarlyWithThatGroup) {
  const PhraseSet set{{"rcpt to", 0}, {"mail from", 1}, {"data", 2}};
  // Group 0 is found first; with it in the stop mask the later phrases are
  // not looked for.
  EXPECT_EQ(set.Find("RCPT TO: then MAIL FROM and DATA", /*stop_mask=*/1), uint64_t{1});
  EXPECT_EQ(set.Find("RCPT TO: then MAIL FROM and DATA"), uint64_t{7});
  EXPECT_EQ(set.Find("nothing here"), uint64_t{0});
  EXPECT_EQ(set.Find(""), uint64_t{0});
  EXPECT_EQ(set.Find("dat"), uint64_t{0});  // a phrase longer than the rest of the text
}

}  // namespace
}  // namespace bouncekit::internal

namespace bouncekit::internal {
namespace {

// The e-mail reader's cut-off test (internal/cutoff_phrases.h) reads a
// line only where a group-0 word occurs; it must give the bits 0 and 1 of
// the PhraseSet of all three groups with stop_mask 2 (the set it stands in
// for). Random lines are pieces of the phrases and words, in mixed case,
// with filler, so that phrases occur, overlap and are cut short.
TEST(PhraseSetTest, CutoffPhrasesMatchPhraseSetFind) {
  std::vector<PhraseSet::Phrase> all;
  std::vector<std::string> pieces;
  for (absl::string_view w : kCutoffWords) all.push_back({w, 0});
  for (absl::string_view p : kCutoffPhrases) all.push_back({p, 1});
  for (absl::string_view p : kCutoffRuledPhrases) all.push_back({p, 2});
  for (const PhraseSet::Phrase& p : all) pieces.emplace_back(p.text);
  const PhraseSet set(all);
  std::mt19937 rng(13);
  for (int iter = 0; iter < 200000; ++iter) {
    std::string line;
    const int parts = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < parts; ++k) {
      const std::string& p = pieces[rng() % pieces.size()];
      size_t from = rng() % 3 == 0 ? rng() % p.size() : 0;
      size_t len = rng() % 3 == 0 ? rng() % (p.size() - from + 1) : p.size() - from;
      line += p.substr(from, len);
      if (rng() % 2 == 0) line += " -:/"[rng() % 4];
    }
    for (char& ch : line) {
      if (rng() % 5 == 0) ch = static_cast<char>(absl::ascii_toupper(static_cast<unsigned char>(ch)));
    }
    ASSERT_EQ(CutoffPhrasesFound(line), set.Find(line, /*stop_mask=*/2) & 3) << "line: '" << line << "'";
  }
}

}  // namespace
}  // namespace bouncekit::internal
