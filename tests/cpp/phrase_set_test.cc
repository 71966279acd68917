// Copyright 2026 The bouncekit authors.
//
// PhraseSet (cpp/src/internal/phrase_set.h) against a naive reference: for
// random texts over a small alphabet (so phrases occur often, overlap and
// straddle case changes), the group mask is what one case-insensitive
// substring search per phrase gives.

#include "internal/phrase_set.h"

#include "internal/cutoff_phrases.h"

#include <cstdint>
#include <cstdio>
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
  // The same phrases with the SSE2 prefilter (the SSSE3 tables off).
  PhraseSet sse2 = set;
  sse2.set_shuffle(false);
  EXPECT_FALSE(sse2.shuffle());
  if (!set.shuffle()) std::printf("PhraseSet: this CPU has no SSSE3; only the SSE2 prefilter is tested\n");
  std::mt19937 rng(11);
  const std::string alphabet = "aAbBcC []x{}@`";
  for (int iter = 0; iter < 20000; ++iter) {
    std::string text(rng() % 70, ' ');
    for (char& ch : text) ch = alphabet[rng() % alphabet.size()];
    const uint64_t want = Naive(ref, text);
    ASSERT_EQ(set.Find(text), want) << "text: '" << text << "'";
    ASSERT_EQ(sse2.Find(text), want) << "text: '" << text << "'";
    // With a stop mask the result is a subset that still holds the stop group.
    const uint64_t stop = set.Find(text, /*stop_mask=*/uint64_t{1} << 3);
    ASSERT_EQ(stop & ~want, 0u);
    ASSERT_EQ(sse2.Find(text, /*stop_mask=*/uint64_t{1} << 3), stop);
  }
  EXPECT_EQ(set.Find(std::string(40, 'x') + "RCP AbC"), uint64_t{1});
}

// Sixteen distinct prefixes share the eight buckets of the SSSE3 tables:
// positions whose bytes mix the nibbles of two prefixes of a bucket are
// candidates that the comparison rejects; no phrase may be missed. Texts
// are pieces of the phrases in mixed case with filler.
TEST(PhraseSetTest, SharedBucketsMatchNaiveSearch) {
  const std::vector<Ref> ref{
      {"undeliver", 0},      {"not be delivered", 1}, {"could not deliver", 2}, {"delivery fail", 3},
      {"failure notice", 4}, {"returned mail", 5},    {"unable to deliver", 6}, {"permanent error", 7},
      {"mail delivery", 8},  {"rejected", 9},         {"user unknown", 10},     {"does not exist", 11},
      {"non remis", 12},     {"error", 13},           {"~x\x80\xff", 14},      {"\x80\x7f~", 15}};
  std::vector<PhraseSet::Phrase> phrases;
  for (const Ref& r : ref) phrases.push_back({r.text, r.group});
  const PhraseSet set(phrases);
  // Sixteen prefixes: the most that still get a prefilter.
  EXPECT_EQ(set.shuffle(), __builtin_cpu_supports("ssse3") != 0);
  PhraseSet sse2 = set;
  sse2.set_shuffle(false);
  std::mt19937 rng(23);
  const std::vector<std::string> pieces = {"undel", "iver", "not be ", "deliv", "ered", "fail", "ure ", "notice",
                                           "retu", "rned", "mail", "perm", "anent", "err", "or", "rej", "ected",
                                           "user", " unknown", "does", " not", " exist", "non", " remis", "~x", "\x80", "\xff", "\x7f", "~", " ", "zz", "UNDELIVER",
                                           "Error", "\xa0", "\xc0"};
  for (int iter = 0; iter < 20000; ++iter) {
    std::string text;
    const int parts = static_cast<int>(rng() % 24);
    for (int k = 0; k < parts; ++k) text += pieces[rng() % pieces.size()];
    const uint64_t want = Naive(ref, text);
    ASSERT_EQ(set.Find(text), want) << "text: '" << text << "'";
    ASSERT_EQ(sse2.Find(text), want) << "text: '" << text << "'";
  }
}

// Anchored phrases (Phrase::anchor): indexed and prefiltered by bytes in
// their middle, compared from their start. Short texts take the byte loop
// (where a phrase shorter than eight bytes is compared byte by byte from
// its first byte, which the index did not check), longer ones the blocks;
// a phrase may start before the text does (anchor found near position 0).
TEST(PhraseSetTest, AnchoredPhrasesMatchNaiveSearch) {
  const std::vector<Ref> ref{{"in reply to ehlo", 0}, {"end of data", 1}, {"mail from", 2},
                             {"xab", 3},              {"ab", 4},          {"c[data]", 5},
                             {"does not like recipient", 6}};
  const PhraseSet set{{"in reply to ehlo", 0, 12}, {"end of data", 1, 7}, {"mail from", 2, 3},
                      {"xab", 3, 1},               {"ab", 4, 0},          {"c[data]", 5, 2},
                      {"does not like recipient", 6, 9}};
  PhraseSet sse2 = set;
  sse2.set_shuffle(false);
  // "xab" and "ab" leave two bytes after the anchor: no prefilter, the byte loop.
  const PhraseSet prefiltered{{"in reply to ehlo", 0, 12}, {"end of data", 1, 7}, {"mail from", 2, 3},
                              {"c[data]", 5, 2}, {"does not like recipient", 6, 9}};
  const std::vector<Ref> prefiltered_ref{{"in reply to ehlo", 0}, {"end of data", 1}, {"mail from", 2},
                                         {"c[data]", 5}, {"does not like recipient", 6}};
  EXPECT_EQ(prefiltered.shuffle(), __builtin_cpu_supports("ssse3") != 0);
  PhraseSet prefiltered_sse2 = prefiltered;
  prefiltered_sse2.set_shuffle(false);
  std::mt19937 rng(31);
  const std::vector<std::string> pieces = {"in ", "reply ", "to ", "EHLO", "ehl", "end ", "of ", "DATA", "data",
                                           "dat", "mail", " from", "l fr", "x", "ab", "A", "c[", "[data]", "c",
                                           "does ", "not ", "like ", "recipient", "LIKE", " ", "zz", "\x80"};
  for (int iter = 0; iter < 30000; ++iter) {
    std::string text;
    const int parts = static_cast<int>(rng() % (iter % 2 == 0 ? 4 : 30));
    for (int k = 0; k < parts; ++k) text += pieces[rng() % pieces.size()];
    const uint64_t want = Naive(ref, text);
    ASSERT_EQ(set.Find(text), want) << "text: '" << text << "'";
    ASSERT_EQ(sse2.Find(text), want) << "text: '" << text << "'";
    const uint64_t want_prefiltered = Naive(prefiltered_ref, text);
    ASSERT_EQ(prefiltered.Find(text), want_prefiltered) << "text: '" << text << "'";
    ASSERT_EQ(prefiltered_sse2.Find(text), want_prefiltered) << "text: '" << text << "'";
    // With a stop mask: a subset of the groups, with the stop group when it occurs.
    const uint64_t stop = prefiltered.Find(text, /*stop_mask=*/1);
    ASSERT_EQ(stop & ~want_prefiltered, 0u);
    ASSERT_EQ(stop & 1, want_prefiltered & 1);
  }
  // The anchor's bytes alone are no match; the phrase around them is.
  EXPECT_EQ(set.Find("ehlo"), uint64_t{0});
  EXPECT_EQ(set.Find("in reply to EHLO"), uint64_t{1});
  EXPECT_EQ(set.Find("ta"), uint64_t{0});
  EXPECT_EQ(set.Find("Xab"), uint64_t{(1 << 3) | (1 << 4)});
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
