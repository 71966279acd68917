// Copyright 2026 The bouncekit authors.
//
// PhraseSet (cpp/src/internal/phrase_set.h) against a naive reference: for
// random texts over a small alphabet (so phrases occur often, overlap and
// straddle case changes), the group mask is what one case-insensitive
// substring search per phrase gives.

#include "internal/phrase_set.h"

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
