// Copyright 2026 The bouncekit authors.
//
// Fuzz target: the classifier's own regex DFA (cpp/src/internal/text_dfa.h)
// against RE2. The input's first line holds up to 8 patterns separated by
// tabs, the rest is the text. Patterns RE2 refuses are dropped (the rule
// loader refuses them too). When TextDfa compiles the set and reads the text
// (ASCII), every pattern's verdict must be RE2's, with the classifier's
// options (case-insensitive, UTF-8); a pattern TextDfa refuses must be one
// RE2 accepts (the classifier then keeps RE2), never a crash. FindUtf8 (any
// text, non-ASCII characters read as one symbol) must agree with RE2 on
// every pattern outside NonAsciiPatterns() whenever it answers. FindAll
// (texts walked in lockstep) reads the text's lines as separate texts, on a
// DFA with a cache of a few states that flushes and may give up while
// walks are under way: each text it answers must get RE2's verdicts (those
// it reads as UTF-8, for the patterns outside NonAsciiPatterns()), and,
// unless it gave up, it must answer every text FindUtf8 answers.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "fuzz_input.h"
#include "internal/text_dfa.h"
#include "re2/re2.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nl = in.find('\n');
  if (nl == absl::string_view::npos) return 0;
  const absl::string_view text = in.substr(nl + 1);
  RE2::Options o;
  o.set_case_sensitive(false);
  o.set_log_errors(false);
  o.set_never_capture(true);
  std::vector<std::string> patterns;
  std::vector<std::unique_ptr<RE2>> res;
  for (absl::string_view p : absl::StrSplit(in.substr(0, nl), '\t')) {
    if (p.empty() || patterns.size() >= 8) continue;
    auto re = std::make_unique<RE2>(re2::StringPiece(p.data(), p.size()), o);
    if (!re->ok()) continue;
    patterns.emplace_back(p);
    res.push_back(std::move(re));
  }
  if (patterns.empty()) return 0;
  auto dfa = bouncekit::internal::TextDfa::Compile(patterns);
  if (!dfa.ok()) return 0;
  if (text.size() <= (64 << 10)) {
    // The lines, repeated up to 40 texts at least (FindAll walks in lockstep
    // only when there are twice as many texts as walks).
    std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
    std::vector<absl::string_view> texts;
    while (texts.size() < 40) texts.insert(texts.end(), lines.begin(), lines.end());
    bouncekit::internal::TextDfa::Limits limits;
    limits.max_states = 4 + size % 61;
    limits.min_texts_per_fill = static_cast<int64_t>(size % 3);
    auto batch = bouncekit::internal::TextDfa::Compile(patterns, limits);
    BK_FUZZ_CHECK(batch.ok());
    std::vector<int32_t> found;
    std::vector<std::pair<int32_t, int32_t>> spans;
    std::vector<uint8_t> utf8;
    const bool with_utf8 = size % 2 == 0;
    (*batch)->FindAll(texts, &found, &spans, with_utf8 ? &utf8 : nullptr);
    BK_FUZZ_CHECK(spans.size() == texts.size());
    BK_FUZZ_CHECK(!with_utf8 || utf8.size() == texts.size());
    std::vector<uint8_t> left_out(patterns.size(), 0);
    for (int32_t k : (*batch)->NonAsciiPatterns()) left_out[static_cast<size_t>(k)] = 1;
    for (size_t t = 0; t < texts.size(); ++t) {
      if (spans[t].second < 0) {  // left to RE2: the DFA gave up, or (without utf8) a non-ASCII text
        BK_FUZZ_CHECK(!with_utf8 || (*batch)->given_up() || (*dfa)->FindUtf8(texts[t]) == nullptr);
        continue;
      }
      const bool as_utf8 = with_utf8 && utf8[t] != 0;
      if (!as_utf8) {
        for (char c : texts[t]) BK_FUZZ_CHECK(static_cast<unsigned char>(c) < 0x80);
      }
      BK_FUZZ_CHECK(spans[t].first >= 0 && static_cast<size_t>(spans[t].first) + spans[t].second <= found.size());
      std::vector<uint8_t> got(patterns.size(), 0);
      for (int32_t j = 0; j < spans[t].second; ++j) {
        const int32_t k = found[static_cast<size_t>(spans[t].first + j)];
        BK_FUZZ_CHECK(k >= 0 && static_cast<size_t>(k) < patterns.size());
        got[static_cast<size_t>(k)] = 1;
      }
      for (size_t i = 0; i < patterns.size(); ++i) {
        const uint8_t re2 = RE2::PartialMatch(re2::StringPiece(texts[t].data(), texts[t].size()), *res[i]) ? 1 : 0;
        BK_FUZZ_CHECK(as_utf8 && left_out[i] ? got[i] == 0 : got[i] == re2);
      }
    }
  }
  std::vector<uint8_t> want(patterns.size());
  for (size_t i = 0; i < patterns.size(); ++i) {
    want[i] = RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *res[i]) ? 1 : 0;
  }
  for (int pass = 0; pass < 2; ++pass) {  // the second pass runs on cached states
    if (const std::vector<int32_t>* found = (*dfa)->FindUtf8(text)) {
      std::vector<uint8_t> got(patterns.size(), 0);
      for (int32_t k : *found) {
        BK_FUZZ_CHECK(k >= 0 && static_cast<size_t>(k) < patterns.size());
        got[static_cast<size_t>(k)] = 1;
      }
      std::vector<uint8_t> left_out(patterns.size(), 0);
      for (int32_t k : (*dfa)->NonAsciiPatterns()) left_out[static_cast<size_t>(k)] = 1;
      for (size_t i = 0; i < patterns.size(); ++i) {
        BK_FUZZ_CHECK(left_out[i] ? got[i] == 0 : got[i] == want[i]);
      }
    }
  }
  for (int pass = 0; pass < 2; ++pass) {  // the second pass runs on cached states
    std::vector<uint8_t> hits;
    if (!(*dfa)->Match(text, &hits)) {
      bool ascii = true;
      for (char c : text) ascii &= static_cast<unsigned char>(c) < 0x80;
      BK_FUZZ_CHECK(!ascii || (*dfa)->given_up());
      return 0;
    }
    BK_FUZZ_CHECK(hits.size() == patterns.size());
    for (size_t i = 0; i < patterns.size(); ++i) BK_FUZZ_CHECK(hits[i] == want[i]);
  }
  return 0;
}
