// Copyright 2026 The bouncekit authors.
//
// TextDfa (cpp/src/internal/text_dfa.h) against RE2: for the built-in rules,
// the benchmark's rules.tsv and a set of patterns chosen for their corner
// cases (anchors, word boundaries, counted repeats, classes, empty matches),
// the patterns found in a text are exactly those RE2 finds with the options
// the classifier uses (case-insensitive, UTF-8), on the real diagnostics of
// the Sisimai corpus and on random texts over small alphabets.

#include "internal/text_dfa.h"

#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "bouncekit/rules.h"
#include "gtest/gtest.h"
#include "test_files.h"
#include "re2/re2.h"

namespace bouncekit::internal {
namespace {

using testing::Slurp;

std::vector<std::string> TextPatterns(const std::string& path) {
  auto rs = RuleSet::Parse(Slurp(path), path);
  EXPECT_TRUE(rs.ok()) << rs.status();
  std::vector<std::string> out;
  if (!rs.ok()) return out;
  for (const Rule& r : rs->rules()) {
    if (!r.text.empty()) out.push_back(r.text);
    if (!r.not_text.empty()) out.push_back(r.not_text);
  }
  return out;
}

// What the classifier's RE2 objects say, one pattern at a time.
class Reference {
 public:
  explicit Reference(const std::vector<std::string>& patterns) {
    RE2::Options o;
    o.set_case_sensitive(false);
    o.set_log_errors(false);
    o.set_never_capture(true);
    for (const std::string& p : patterns) {
      res_.push_back(std::make_unique<RE2>(p, o));
      EXPECT_TRUE(res_.back()->ok()) << p;
    }
  }
  std::vector<uint8_t> Hits(const std::string& text) const {
    std::vector<uint8_t> h;
    for (const auto& re : res_) h.push_back(RE2::PartialMatch(text, *re) ? 1 : 0);
    return h;
  }

 private:
  std::vector<std::unique_ptr<RE2>> res_;
};

void ExpectSame(TextDfa& dfa, const Reference& ref, const std::vector<std::string>& patterns,
                const std::string& text) {
  std::vector<uint8_t> hits;
  ASSERT_TRUE(dfa.Match(text, &hits)) << text;
  const std::vector<uint8_t> want = ref.Hits(text);
  for (size_t i = 0; i < patterns.size(); ++i) {
    ASSERT_EQ(hits[i], want[i]) << "pattern " << i << " /" << patterns[i] << "/ on \"" << absl::CEscape(text)
                                << "\"";
  }
}

// The diagnostic texts of the Sisimai corpus (JSON escapes undone roughly:
// any text will do, as long as both engines read the same one).
std::vector<std::string> CorpusTexts(bool non_ascii = false) {
  std::vector<std::string> out;
  const std::string data = Slurp(std::string(BOUNCEKIT_SHARED_DIR) + "/corpora/sisimai/dev.jsonl");
  const std::string key = "\"diagnosticcode\": \"";
  for (absl::string_view line : absl::StrSplit(data, '\n')) {
    const size_t at = line.find(key);
    if (at == absl::string_view::npos) continue;
    std::string text;
    for (size_t i = at + key.size(); i < line.size() && line[i] != '"'; ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) {
        ++i;
        text.push_back(line[i] == 'n' ? '\n' : line[i] == 't' ? '\t' : line[i]);
      } else {
        text.push_back(line[i]);
      }
    }
    bool ascii = true;
    for (char c : text) ascii &= static_cast<unsigned char>(c) < 0x80;
    if (ascii != non_ascii) out.push_back(std::move(text));
  }
  return out;
}

// FindUtf8 plus RE2 for the patterns it leaves out, as the classifier asks.
std::vector<uint8_t> Utf8Hits(TextDfa& dfa, const std::vector<std::string>& patterns, const std::string& text,
                              bool* answered) {
  std::vector<uint8_t> hits(patterns.size(), 0);
  const std::vector<int32_t>* found = dfa.FindUtf8(text);
  *answered = found != nullptr;
  if (found == nullptr) return hits;
  for (int32_t k : *found) hits[static_cast<size_t>(k)] = 1;
  RE2::Options o;
  o.set_case_sensitive(false);
  o.set_log_errors(false);
  for (int32_t k : dfa.NonAsciiPatterns()) {
    EXPECT_EQ(hits[static_cast<size_t>(k)], 0) << "pattern " << k << " is left out of FindUtf8's answer";
    hits[static_cast<size_t>(k)] = RE2::PartialMatch(text, RE2(patterns[static_cast<size_t>(k)], o)) ? 1 : 0;
  }
  return hits;
}

TEST(TextDfa, RuleFilesAgreeWithRe2OnCorpusTexts) {
  const std::vector<std::string> texts = CorpusTexts();
  ASSERT_GT(texts.size(), 150u);
  for (const std::string path : {std::string(BOUNCEKIT_BUILTIN_RULES),
                                 std::string(BOUNCEKIT_SHARED_DIR) + "/bench/rules.tsv"}) {
    const std::vector<std::string> patterns = TextPatterns(path);
    ASSERT_GT(patterns.size(), 10u) << path;
    auto dfa = TextDfa::Compile(patterns);
    ASSERT_TRUE(dfa.ok()) << path << ": " << dfa.status();
    Reference ref(patterns);
    int found = 0;
    for (const std::string& t : texts) {
      for (const std::string& v : {t, absl::AsciiStrToUpper(t), t.substr(0, t.size() / 2), t.substr(t.size() / 3)}) {
        ExpectSame(**dfa, ref, patterns, v);
        if (HasFatalFailure()) return;
      }
      std::vector<uint8_t> hits;
      (*dfa)->Match(t, &hits);
      for (uint8_t h : hits) found += h;
    }
    EXPECT_GT(found, static_cast<int>(texts.size()) / 2) << path << ": the patterns should find things";
  }
}

// A state keeps the nodes it adds to the start set, not the start set
// itself (hundreds of nodes for the built-in rules, the same in every
// state): the cost of making a state, and its memory, follow what is
// particular to it.
TEST(TextDfa, StatesLeaveTheStartSetOut) {
  const std::vector<std::string> patterns = TextPatterns(BOUNCEKIT_BUILTIN_RULES);
  auto dfa = TextDfa::Compile(patterns);
  ASSERT_TRUE(dfa.ok()) << dfa.status();
  for (const std::string& t : CorpusTexts()) (*dfa)->Find(t);
  ASSERT_GT((*dfa)->num_states(), 1000u);
  ASSERT_GT((*dfa)->start_set_size(), 100u);
  const double own = static_cast<double>((*dfa)->state_own_nodes()) / static_cast<double>((*dfa)->num_states());
  EXPECT_LT(own, static_cast<double>((*dfa)->start_set_size()) / 8)
      << (*dfa)->num_states() << " states, start set of " << (*dfa)->start_set_size() << " nodes";
}

TEST(TextDfa, CornerCasesAgreeWithRe2OnRandomTexts) {
  const std::vector<std::string> patterns = {
      "^$", "^", "$", "^a", "a$", "^ab$", "\\bab\\b", "\\Bb", "b\\B", "\\b", "\\B", "a\\b", "\\ba",
      "(^|[^a-z0-9])(ab|ba)([^a-z0-9]|$)", "a{2,3}b", "a{2}", "a{2,}x", "(ab){0,2}c", "a{0}b", "(?:ab)+c",
      "x*", "[^a]", "[^a-c]b", ".", "a.c", "a..b", "[]a]", "[a-]x", "[-a]", "\\x41b", "[\\d_]+x", "\\s+$",
      "\\S\\s\\S", "\\w\\W", "\\D{2}", "a|b|", "(|a)x", "a*?b", "a+?b", "a??b", "b{1,3}?c", "\\.", "\\-\\[",
      "gr[ae]y[ -]?list", "(mailbox|inbox)( is)? full", "[^ ]+ (blocked|rejected)", "a\\nb", "^\\s*[0-9]{1,3}\\s*$",
      "\\Aab", "ab\\z", "caf\xc3\xa9", "[\xc3\xa9" "a]b", "[^\xc3\xa9]x", "[_-\xc3\xa9]", "(x|\xc3\xa9)+b", "_\\b", "\\b_", "(a{1,2}){2}", "(a|ab)(c|bcd)(d*)", "[a-c]{3,5}$",
      ".{08,}b", "a{01}", "x{0,02}a", "b{00}"};
  auto dfa = TextDfa::Compile(patterns);
  ASSERT_TRUE(dfa.ok()) << dfa.status();
  Reference ref(patterns);
  std::mt19937 rng(12345);
  const std::string alphabets[] = {"abc", "abx -_", "aAbB\n 0.[-", "abcdx0 _\t\n.-]AB", "grayls- ilt", "ab{}0128,x"};
  for (int round = 0; round < 20000; ++round) {
    const std::string& alpha = alphabets[static_cast<size_t>(round) % std::size(alphabets)];
    std::string text(rng() % 12, ' ');
    for (char& c : text) c = alpha[rng() % alpha.size()];
    ExpectSame(**dfa, ref, patterns, text);
    if (HasFatalFailure()) return;
  }
}

TEST(TextDfa, NonAsciiTextsAreLeftToRe2) {
  auto dfa = TextDfa::Compile({"caf", "x"});
  ASSERT_TRUE(dfa.ok());
  std::vector<uint8_t> hits;
  EXPECT_FALSE((*dfa)->Match("caf\xc3\xa9", &hits));
  EXPECT_FALSE((*dfa)->Match("\xff", &hits));
  EXPECT_TRUE((*dfa)->Match("cafe", &hits));
  EXPECT_EQ(hits, (std::vector<uint8_t>{1, 0}));
  EXPECT_TRUE((*dfa)->Match("", &hits));
  EXPECT_EQ(hits, (std::vector<uint8_t>{0, 0}));
}

// Non-ASCII texts through FindUtf8: every non-ASCII character is one
// symbol that `.`, negated classes and \D \S \W take (RE2's UTF-8 mode):
// counted repeats count characters, not bytes; \b sees a non-word
// character. Patterns that name non-ASCII characters are left to RE2.
TEST(TextDfa, NonAsciiTextsAgreeWithRe2OnRandomTexts) {
  const std::vector<std::string> patterns = {
      "^$", "^.$", "^..$", "^.{3}$", "a.b", "a..b", "a.{2,3}b", "[^a]", "^[^a]+$", "[^a-c]b", "\\D\\D\\D", "\\S\\s\\S",
      "\\w\\W", "\\W{2}", "\\bab\\b", "\\Ba", "a\\B", "\\b", "x$", "^x", "(a|.)b", "[^ ]+ (blocked|rejected)",
      ".*z", "[\\D]a", "[^\\d]{2}b", "[^\\W]b", "[a-z]+", "caf\xc3\xa9", "[\xc3\xa9x]b", "\xe6\x97\xa5.",
      "(x|\xc3\xa9)+b"};
  auto dfa = TextDfa::Compile(patterns);
  ASSERT_TRUE(dfa.ok()) << dfa.status();
  EXPECT_EQ((*dfa)->NonAsciiPatterns(), (std::vector<int32_t>{27, 28, 29, 30}));
  Reference ref(patterns);
  std::mt19937 rng(4242);
  // Characters of 1 to 4 bytes (and ASCII letters, a digit, spaces).
  const std::vector<std::string> alphabets[] = {
      {"a", "b", "\xc3\xa9", "\xe6\x97\xa5", " "},
      {"a", "b", "x", "z", "0", "\xc3\x89", "\xf0\x9f\x98\x80", "\n", "_"},
      {"a", "\xc3\xa9", "\xce\xb4", "\xd7\xa9", "\xe3\x83\xa1", " ", "-", "c", "f"}};
  int non_ascii = 0;
  for (int round = 0; round < 20000; ++round) {
    const auto& alpha = alphabets[static_cast<size_t>(round) % std::size(alphabets)];
    std::string text;
    for (int n = static_cast<int>(rng() % 10); n > 0; --n) text += alpha[rng() % alpha.size()];
    bool answered = false;
    const std::vector<uint8_t> got = Utf8Hits(**dfa, patterns, text, &answered);
    ASSERT_TRUE(answered) << absl::CEscape(text);
    const std::vector<uint8_t> want = ref.Hits(text);
    for (size_t i = 0; i < patterns.size(); ++i) {
      ASSERT_EQ(got[i], want[i]) << "pattern " << i << " /" << absl::CEscape(patterns[i]) << "/ on \""
                                 << absl::CEscape(text) << "\"";
    }
    for (char c : text) non_ascii += static_cast<unsigned char>(c) >= 0x80 ? 1 : 0;
  }
  EXPECT_GT(non_ascii, 10000);
}

// Texts FindUtf8 leaves to RE2: not UTF-8 (stray, truncated, overlong,
// surrogate, past U+10FFFF), or holding a character that case folding ties
// to an ASCII letter.
TEST(TextDfa, FindUtf8RefusesWhatItCannotReadLikeRe2) {
  auto dfa = TextDfa::Compile({"k", "s", "[^a]", "i"});
  ASSERT_TRUE(dfa.ok());
  for (const std::string t : {"\xff", "a\x80", "\xc3", "x\xe6\x97", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
                              "\xf4\x90\x80\x80", "\xe2\x84\xaa", "\xc5\xbf", "\xc4\xb0", "\xc4\xb1", "ok \xe2\x84\xaa"}) {
    EXPECT_EQ((*dfa)->FindUtf8(t), nullptr) << absl::CEscape(t);
  }
  const std::vector<int32_t>* f = (*dfa)->FindUtf8("\xc3\xa9s");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(*f, (std::vector<int32_t>{1, 2}));
  f = (*dfa)->FindUtf8("");
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(f->empty());
}

// The rule files on the corpus' non-ASCII diagnostics and on bounce texts
// in other languages: FindUtf8 with RE2 for the patterns it leaves out
// finds what RE2 finds.
TEST(TextDfa, RuleFilesAgreeWithRe2OnNonAsciiTexts) {
  std::vector<std::string> texts = CorpusTexts(/*non_ascii=*/true);
  for (const char* t : {
           "550 5.1.1 <j\xc3\xbcrgen@example.de>: Empf\xc3\xa4nger unbekannt / user unknown",
           "552 5.2.2 Postfach voll \xe2\x80\x94 mailbox full",
           "\xe9\x80\x81\xe4\xbf\xa1\xe5\x85\x88\xe3\x81\xae\xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab\xe3\x83\x9c"
           "\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9\xe3\x81\x8c\xe4\xb8\x80\xe6\x9d\xaf 452 4.2.2 over quota",
           "\xce\x94\xce\xb5\xce\xbd \xce\xad\xcf\x87\xce\xb5\xcf\x84\xce\xb5 \xce\xb4\xce\xb9\xce\xba\xce\xb1"
           "\xce\xaf\xcf\x89\xce\xbc\xce\xb1 \xce\xb1\xce\xbd\xce\xac\xcf\x81\xcf\x84\xce\xb7\xcf\x83\xce\xb7\xcf\x82",
           "The group you tried to contact (caf\xc3\xa9) may not exist",
           "554 5.7.1 Service unavailable; client host [192.0.2.1] blocked \xe2\x80\x9cspamhaus\xe2\x80\x9d",
           "421 4.7.0 Try again later, closing connection. \xf0\x9f\x93\xa7"}) {
    texts.push_back(t);
  }
  ASSERT_GT(texts.size(), 8u);
  for (const std::string path : {std::string(BOUNCEKIT_BUILTIN_RULES),
                                 std::string(BOUNCEKIT_SHARED_DIR) + "/bench/rules.tsv"}) {
    const std::vector<std::string> patterns = TextPatterns(path);
    auto dfa = TextDfa::Compile(patterns);
    ASSERT_TRUE(dfa.ok()) << path << ": " << dfa.status();
    Reference ref(patterns);
    int found = 0;
    for (const std::string& t : texts) {
      for (const std::string& v : {t, absl::AsciiStrToUpper(t), t.substr(0, t.size() / 2 + 1)}) {
        bool answered = false;
        const std::vector<uint8_t> got = Utf8Hits(**dfa, patterns, v, &answered);
        if (!answered) {  // only a text cut inside a character may be refused
          EXPECT_NE(v.size(), t.size()) << absl::CEscape(v);
          continue;
        }
        const std::vector<uint8_t> want = ref.Hits(v);
        for (size_t i = 0; i < patterns.size(); ++i) {
          ASSERT_EQ(got[i], want[i]) << path << " pattern " << i << " on \"" << absl::CEscape(v) << "\"";
        }
        for (uint8_t h : got) found += h;
      }
    }
    EXPECT_GT(found, static_cast<int>(texts.size())) << path;
  }
}

TEST(TextDfa, SyntaxOutsideTheSubsetIsRefused) {
  for (const std::string p : {"\\pL", "(?i)abc", "[[:alpha:]]", "\\Qa.b\\E", "\xc5\xbf", "[\xc4\x80-\xc6\x80]", "(?P<n>a)", "\\x{41}",
                              "\\xe9", "\\C", "\\1", "a{1001}"}) {
    auto dfa = TextDfa::Compile({"ok", p});
    EXPECT_FALSE(dfa.ok()) << p;
    if (!dfa.ok()) EXPECT_EQ(dfa.status().code(), absl::StatusCode::kUnimplemented) << p;
  }
}

TEST(TextDfa, FullCacheIsFlushedThenGivenUpAndResultsStayRight) {
  // The n-th byte from the end being an 'a' needs 2^n DFA states: random
  // texts keep making new ones, the cache fills, is flushed, fills again
  // soon after, and the DFA hands every later text to RE2 (Match false).
  const std::vector<std::string> patterns = {"a[ab]{15}$", "b[ab]{11}a", "ab"};
  auto dfa = TextDfa::Compile(patterns);
  ASSERT_TRUE(dfa.ok());
  Reference ref(patterns);
  std::mt19937 rng(7);
  int answered = 0;
  for (int round = 0; round < 6000; ++round) {
    std::string text(20 + rng() % 200, 'a');
    for (char& c : text) c = "ab"[rng() % 2];
    std::vector<uint8_t> hits;
    if (!(*dfa)->Match(text, &hits)) continue;
    ++answered;
    ASSERT_EQ(hits, ref.Hits(text)) << text;
  }
  EXPECT_GT(answered, 100);
  EXPECT_GT((*dfa)->cache_flushes(), 0);
  EXPECT_TRUE((*dfa)->given_up());
  std::vector<uint8_t> hits;
  EXPECT_FALSE((*dfa)->Match("ab", &hits));
}

// FindAll (texts walked in lockstep) against Find one text at a time, on a
// fresh DFA each: both rule files over the corpus texts mixed with non-ASCII
// and empty ones, and patterns whose cache fills, flushes and gives up while
// lanes are in the middle of their texts.
TEST(TextDfa, FindAllAgreesWithFind) {
  std::vector<std::string> texts = CorpusTexts();
  texts.push_back("");
  texts.push_back("caf\xc3\xa9 user unknown");
  texts.insert(texts.begin() + 7, "\xff");
  texts.insert(texts.begin() + 3, "");
  std::mt19937 rng(99);
  std::vector<std::string> ab;
  for (int i = 0; i < 3000; ++i) {
    std::string t(rng() % 300, 'a');
    for (char& c : t) c = "ab"[rng() % 2];
    ab.push_back(std::move(t));
  }
  struct Case {
    std::vector<std::string> patterns;
    const std::vector<std::string>* input;
    TextDfa::Limits limits;
    bool flushes, gives_up;
    int min_answered = 100;
  };
  const std::vector<Case> cases = {
      {TextPatterns(BOUNCEKIT_BUILTIN_RULES), &texts, {}, false, false},
      {TextPatterns(std::string(BOUNCEKIT_SHARED_DIR) + "/bench/rules.tsv"), &texts, {}, false, false},
      {{"a[ab]{9}$", "b[ab]{7}a", "ab"}, &ab, {40, 0}, true, false},     // flushes often, keeps going
      {{"a[ab]{15}$", "b[ab]{11}a", "ab"}, &ab, {}, true, true},  // flushes, gives up
      // A cache smaller than the walks under way: gives up at the first flush.
      {{"a[ab]{9}$", "b[ab]{7}a", "ab"}, &ab, {8, 0}, true, true, 0}};
  for (const Case& c : cases) {
    const std::vector<std::string>& patterns = c.patterns;
    const std::vector<std::string>* input = c.input;
    auto batch = TextDfa::Compile(patterns, c.limits);
    // The reference reads every text: its cache never fills. (A reference
    // with the batch's limits gives up too, and the texts after that were
    // left unchecked: a batch that went on walking with the states of the
    // flushed cache returned garbage pattern numbers for them.)
    auto single = TextDfa::Compile(patterns, TextDfa::Limits{size_t{1} << 22, 0});
    ASSERT_TRUE(batch.ok() && single.ok());
    std::vector<absl::string_view> views(input->begin(), input->end());
    std::vector<int32_t> found;
    std::vector<std::pair<int32_t, int32_t>> spans;
    (*batch)->FindAll(views, &found, &spans);
    ASSERT_EQ(spans.size(), views.size());
    int answered = 0;
    for (size_t i = 0; i < views.size(); ++i) {
      if (spans[i].second < 0) {
        // Left to RE2: a non-ASCII text, or the DFA gave up.
        bool ascii = true;
        for (char c : views[i]) ascii &= static_cast<unsigned char>(c) < 0x80;
        EXPECT_TRUE(!ascii || (*batch)->given_up()) << i;
        continue;
      }
      ++answered;
      const std::vector<int32_t>* want = (*single)->Find(views[i]);
      ASSERT_NE(want, nullptr) << i;
      const std::vector<int32_t> got(found.begin() + spans[i].first,
                                     found.begin() + spans[i].first + spans[i].second);
      ASSERT_EQ(got, *want) << "text " << i;
    }
    EXPECT_GE(answered, c.min_answered);
    EXPECT_EQ((*batch)->cache_flushes() > 0, c.flushes);
    EXPECT_EQ((*batch)->given_up(), c.gives_up);
  }
}

// FindAll with `utf8`: the texts Find stops on are read in lockstep as
// FindUtf8 reads them, and each answer is FindUtf8's (the patterns naming
// non-ASCII text left out); the others are Find's. Texts FindUtf8 refuses
// (not UTF-8, or a character that case folding ties to an ASCII letter)
// stay {0, -1}.
TEST(TextDfa, FindAllReadsNonAsciiTextsAsFindUtf8Does) {
  std::vector<std::string> texts = CorpusTexts();
  const std::vector<std::string> extras = {
      " caf\xc3\xa9",                                 // e acute
      "\xe9\x80\x81\xe4\xbf\xa1\xe3\x81\xa7\xe3\x81\x8d\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93",  // Japanese
      " die gruppe, die sie kontaktieren \xc3\xbc",  // the rule that names non-ASCII text, and u umlaut
      " \xff",                                         // not UTF-8
      " \xe2\x84\xaa",                               // Kelvin sign: left to RE2
      " caf\xc3",                                     // cut in a character
  };
  const size_t n = texts.size();
  for (size_t i = 0; i < n; ++i) {
    const std::string& extra = extras[i % extras.size()];
    if (i % 3 == 0) texts.push_back(texts[i] + extra);
    if (i % 4 == 1) texts.push_back(extra + texts[i]);
  }
  for (const std::vector<std::string>& patterns :
       {TextPatterns(BOUNCEKIT_BUILTIN_RULES), TextPatterns(std::string(BOUNCEKIT_SHARED_DIR) + "/bench/rules.tsv")}) {
    auto batch = TextDfa::Compile(patterns);
    auto single = TextDfa::Compile(patterns, TextDfa::Limits{size_t{1} << 22, 0});
    ASSERT_TRUE(batch.ok() && single.ok());
    std::vector<absl::string_view> views(texts.begin(), texts.end());
    std::vector<int32_t> found;
    std::vector<std::pair<int32_t, int32_t>> spans;
    std::vector<uint8_t> utf8;
    (*batch)->FindAll(views, &found, &spans, &utf8);
    ASSERT_FALSE((*batch)->given_up());
    ASSERT_EQ(utf8.size(), views.size());
    int as_utf8 = 0, refused = 0;
    for (size_t i = 0; i < views.size(); ++i) {
      bool ascii = true;
      for (char c : views[i]) ascii &= static_cast<unsigned char>(c) < 0x80;
      const std::vector<int32_t>* want = ascii ? (*single)->Find(views[i]) : (*single)->FindUtf8(views[i]);
      if (want == nullptr) {
        EXPECT_EQ(spans[i], (std::pair<int32_t, int32_t>(0, -1))) << i;
        ++refused;
        continue;
      }
      ASSERT_GE(spans[i].second, 0) << i;
      EXPECT_EQ(utf8[i], ascii ? 0 : 1) << i;
      as_utf8 += utf8[i];
      const std::vector<int32_t> got(found.begin() + spans[i].first,
                                     found.begin() + spans[i].first + spans[i].second);
      ASSERT_EQ(got, *want) << "text " << i;
    }
    EXPECT_GT(as_utf8, 40);  // 54 of the texts; 72 refused
    EXPECT_GT(refused, 40);
  }
}

// The cache gives up while other walks are in the middle of their texts:
// their states went with the cache, so those texts are left to RE2 ({0, -1}).
// Before, those walks went on over the emptied table and ended in states of
// the dropped cache: in the Python classifier that gave pattern numbers read
// from freed memory, and a crash (found with long JSON texts classified
// after an earlier call had filled much of the cache).
TEST(TextDfa, FindAllDropsTheWalksOfACacheThatGaveUp) {
  std::mt19937 rng(7);
  std::vector<std::string> texts;
  std::string ab(2000, 'a');
  for (char& c : ab) c = "ab"[rng() % 2];
  // FindAll walks texts by length, in input order among texts of like
  // lengths (these all count as long): the short ones below first, then
  // `ab` and the next seven or fifteen (as many as there are lanes) at once.
  texts.push_back(ab);  // fills the cache of 64 states long before the others end
  for (int i = 0; i < 15; ++i) texts.push_back(std::string(4000, 'x'));  // one cached step each
  for (int i = 0; i < 40; ++i) texts.push_back("xx ab xx");
  auto dfa = TextDfa::Compile({"a[ab]{15}$", "xx"}, TextDfa::Limits{64, 1000});
  auto reference = TextDfa::Compile({"a[ab]{15}$", "xx"}, TextDfa::Limits{size_t{1} << 22, 0});
  ASSERT_TRUE(dfa.ok() && reference.ok());
  std::vector<absl::string_view> views(texts.begin(), texts.end());
  std::vector<int32_t> found;
  std::vector<std::pair<int32_t, int32_t>> spans;
  (*dfa)->FindAll(views, &found, &spans);
  ASSERT_TRUE((*dfa)->given_up());
  ASSERT_EQ(spans.size(), views.size());
  for (size_t i = 0; i < views.size(); ++i) {
    if (i < 16) {
      EXPECT_EQ(spans[i], (std::pair<int32_t, int32_t>(0, -1))) << i;
      continue;
    }
    if (spans[i].second < 0) continue;
    const std::vector<int32_t>* want = (*reference)->Find(views[i]);
    ASSERT_NE(want, nullptr);
    EXPECT_EQ(std::vector<int32_t>(found.begin() + spans[i].first, found.begin() + spans[i].first + spans[i].second),
              *want) << i;
  }
}

}  // namespace
}  // namespace bouncekit::internal
