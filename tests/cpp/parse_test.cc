// Copyright 2026 The bouncekit authors.
//
// Tests of the bounce readers in the core: MIME decoding, DSN fields,
// heuristic bounces, the JSON parser, ESP mappings and log lines.

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "bouncekit/dsn.h"
#include "bouncekit/esp_json.h"
#include "bouncekit/maillog.h"
#include "bouncekit/mime.h"
#include "bouncekit/parse.h"
#include "internal/email_scan.h"
#include "internal/mime_simd.h"
#include "test_files.h"

namespace bouncekit {
namespace {

// A text of up to max_len - 1 bytes drawn from `alphabet`, in its own
// allocation (so that the sanitizer build catches a read past it).
std::string RandomText(std::mt19937& rng, const std::string& alphabet, size_t max_len) {
  std::string text(rng() % max_len, ' ');
  for (char& ch : text) ch = alphabet[rng() % alphabet.size()];
  return text;
}

TEST(Mime, Decoders) {
  EXPECT_EQ(mime::DecodeBase64("aGVsbG8g\nd29ybGQ="), "hello world");
  EXPECT_EQ(mime::DecodeQuotedPrintable("a=3Db=\nc"), "a=bc");
  EXPECT_EQ(mime::DecodeEncodedWords("=?UTF-8?B?aGk=?= =?ISO-8859-1?Q?a_b=21?= end"), "hia b! end");
  EXPECT_EQ(mime::DecodeEncodedWords("=?x?q?unterminated"), "=?x?q?unterminated");
  EXPECT_EQ(mime::HeaderParam("multipart/report; report-type=x;\tboundary=\"a;b\"", "boundary"),
            "a;b");
}

// NextLine finds line ends sixteen bytes at a time: every terminator
// (LF, CRLF, lone CR) at every position of a block, and the tail.
TEST(Mime, NextLineAtEveryOffset) {
  for (absl::string_view eol : {"\n", "\r\n", "\r"}) {
    for (size_t len = 0; len < 40; ++len) {
      const std::string a(len, 'x');
      const std::string text = a + std::string(eol) + "yz" + std::string(eol) + a;
      std::vector<std::string> lines;
      size_t pos = 0;
      absl::string_view line;
      while (mime::NextLine(text, &pos, &line)) lines.emplace_back(line);
      std::vector<std::string> want = {a, "yz"};
      if (len > 0) want.push_back(a);
      EXPECT_EQ(lines, want) << "len " << len << " eol " << eol.size();
    }
  }
}

// SkipContinuationLines agrees with a walk over NextLine's lines: from a
// line that starts with a blank, the first later line that does not.
TEST(Mime, SkipContinuationLinesMatchesLineWalk) {
  std::mt19937 rng(11);
  const std::string alphabet = "ab: \t\t\r\n\n";
  for (int iter = 0; iter < 20000; ++iter) {
    const std::string owned = RandomText(rng, alphabet, 200);
    // Every line start, and where the reference walk says each one skips to.
    std::vector<size_t> starts;
    size_t pos = 0;
    absl::string_view line;
    while (pos < owned.size()) {
      starts.push_back(pos);
      if (!mime::NextLine(owned, &pos, &line)) break;
    }
    for (size_t k = 0; k < starts.size(); ++k) {
      size_t want = starts[k];
      if (owned[want] == ' ' || owned[want] == '\t') {
        want = owned.size();
        for (size_t j = k + 1; j < starts.size(); ++j) {
          if (owned[starts[j]] != ' ' && owned[starts[j]] != '\t') {
            want = starts[j];
            break;
          }
        }
      }
      ASSERT_EQ(internal::SkipContinuationLines(owned, starts[k]), want)
          << absl::CEscape(owned) << " from " << starts[k];
    }
  }
  // Across 64-byte blocks, and a CRLF split by a block boundary.
  for (size_t len = 50; len < 200; ++len) {
    const std::string text = " " + std::string(len, 'x') + "\r\n\t" + std::string(len % 70, 'y') + "\r\nNext: z\r\n";
    EXPECT_EQ(internal::SkipContinuationLines(text, 0), text.find("Next:")) << len;
  }
}

TEST(Mime, HeaderParamsAndEncodedWordCheck) {
  EXPECT_EQ(mime::HeaderParam("text/plain; Charset = \"x\\\"y\" ; a=b", "charset"), "x\"y");
  EXPECT_EQ(mime::HeaderParam("text/plain; charset=\"unterminated", "charset"), "unterminated");
  EXPECT_EQ(mime::HeaderParam("text/plain; a=\"q;b=1\"; b=2", "b"), "2");
  EXPECT_EQ(mime::HeaderParam("text/plain; B=3", "B"), "");  // the name asked for is lower-case
  EXPECT_EQ(mime::HeaderParam("text/plain", "charset"), "");
  EXPECT_TRUE(mime::HasEncodedWord("a =?b"));
  EXPECT_FALSE(mime::HasEncodedWord("a = ? =="));
}

// The e-mail reader's inline helpers agree with the functions they stand
// in for, on every byte.
TEST(Mime, InlineHelpersAgreeWithScanners) {
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    EXPECT_EQ(internal::IsLocalCharFast(ch), scan::IsLocalChar(ch)) << c;
    EXPECT_EQ(internal::IsDomainCharFast(ch), scan::IsDomainChar(ch)) << c;
    const std::string one(1, ch);
    EXPECT_EQ(internal::EqualsIgnoreCaseAscii(one, "a"), absl::EqualsIgnoreCase(one, "a")) << c;
    EXPECT_EQ(internal::EqualsIgnoreCaseAscii(one, "-"), absl::EqualsIgnoreCase(one, "-")) << c;
    EXPECT_EQ(internal::TrimAsciiInline(one + "x" + one), absl::StripAsciiWhitespace(one + "x" + one)) << c;
  }
  // Trim on random texts of 0-69 bytes (the byte loops below 16 bytes, the
  // 16-byte masks from there on), whitespace runs of every kind at either
  // end, all-whitespace texts and bytes >= 0x80 included.
  {
    std::mt19937 rng(43);
    const std::string alphabet = std::string(" \t\n\v\f\r   ab\x80\xff\x08\x0e\x1f!\0", 18);
    for (int iter = 0; iter < 60000; ++iter) {
      const std::string text = RandomText(rng, iter % 4 == 0 ? std::string(" \t\r\n") : alphabet, 70);
      ASSERT_EQ(internal::TrimAsciiInline(text), absl::StripAsciiWhitespace(text)) << absl::CEscape(text);
    }
  }
  // "=?" at every position of texts of every length up to 40.
  for (size_t n = 0; n <= 40; ++n) {
    EXPECT_FALSE(internal::HasEncodedWordFast(std::string(n, '=')));
    for (size_t at = 0; at + 2 <= n; ++at) {
      std::string t(n, 'x');
      t[at] = '=';
      t[at + 1] = '?';
      EXPECT_TRUE(internal::HasEncodedWordFast(t)) << n << " " << at;
    }
  }
  // Field names: the fast scan against the rule it implements, on random
  // lines cut from a larger buffer (so blocks may run past the line).
  std::mt19937 rng(3);
  const std::string alphabet = "ab-:: \t\x7f\x80\r\n";
  for (int iter = 0; iter < 20000; ++iter) {
    std::string buf(rng() % 100, 'x');
    for (char& ch : buf) {
      if (rng() % 4 == 0) ch = alphabet[rng() % alphabet.size()];
    }
    const size_t len = buf.empty() ? 0 : rng() % (buf.size() + 1);
    const absl::string_view line(buf.data(), len);
    size_t want = 0;
    const size_t colon = line.find(':');
    if (colon != absl::string_view::npos && colon >= 1 && colon <= 76) {
      bool clean = true;
      for (size_t k = 0; k < colon; ++k) {
        const unsigned char c = static_cast<unsigned char>(line[k]);
        clean = clean && c > 32 && c < 127;
      }
      if (clean) want = colon;
    }
    ASSERT_EQ(internal::SimpleFieldNameLength(line, buf.data() + buf.size()), want) << buf << " " << len;
  }
  EXPECT_TRUE(internal::HasEncodedWordFast(std::string(40, 'x') + "=?"));
  EXPECT_FALSE(internal::HasEncodedWordFast(std::string(40, 'x') + "="));
  EXPECT_TRUE(internal::HasEncodedWordFast(std::string(15, 'x') + "=?" + std::string(20, 'x')));
}

// The e-mail reader's search for the cut-off words' first letters against
// a byte-wise reference, from every start, on random texts of those
// letters in both cases (and bytes that only match after | 0x20).
TEST(Mime, CutoffWordStartMatchesReference) {
  auto reference = [](absl::string_view t, size_t from) {
    for (size_t i = from; i + 3 <= t.size(); ++i) {
      const char a = static_cast<char>(t[i] | 0x20), b = static_cast<char>(t[i + 1] | 0x20),
                 c = static_cast<char>(t[i + 2] | 0x20);
      if ((a == 'o' && b == 'r' && c == 'i') || (a == 'm' && b == 'e' && c == 's') ||
          (a == 'c' && b == 'o' && c == 'p') || (a == 'h' && b == 'e' && c == 'a')) {
        return i;
      }
    }
    return absl::string_view::npos;
  };
  std::mt19937 rng(5);
  const std::string alphabet = "oriORImesMEScopCOPheaHEA \n\x0f\x4f\x6f";
  for (int iter = 0; iter < 20000; ++iter) {
    std::string text(rng() % 60, 'x');
    for (char& ch : text) ch = alphabet[rng() % alphabet.size()];
    // A line cut from the text, whose blocks may read on to the text's end.
    const absl::string_view line = absl::string_view(text).substr(0, rng() % (text.size() + 1));
    for (size_t from = 0; from <= text.size(); ++from) {
      ASSERT_EQ(internal::FindCutoffWordStart(text, from), reference(text, from)) << text << " " << from;
      ASSERT_EQ(internal::FindCutoffWordStart(line, from, text.data() + text.size()), reference(line, from))
          << text << " " << line.size() << " " << from;
    }
  }
}

// Lower-casing sixteen bytes at a time against absl, for every length up
// to 40 and every byte value.
TEST(Mime, LowerAsciiInPlaceMatchesAbsl) {
  std::mt19937 rng(17);
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s(rng() % 41, 'x');
    for (char& ch : s) ch = static_cast<char>(rng() % 256);
    std::string got = s;
    internal::LowerAsciiInPlace(got.data(), got.size());
    ASSERT_EQ(got, absl::AsciiStrToLower(s)) << absl::CEscape(s);
  }
}

// ParseHeadersInto with one list and buffer reused for several blocks gives
// what ParseHeaders gives for each.
TEST(Mime, ParseHeadersIntoReusesItsList) {
  const std::vector<std::string> blocks = {
      "To: a@example.com,\r\n b@example.com\r\nSubject: =?UTF-8?B?aGk=?=\r\n\r\nbody",
      "From: x@example.org\nX-Long: " + std::string(600, 'y') + "\n continued\n\n",
      "Message-ID: <1@example.net>\n"};
  mime::HeaderList list;
  std::string folded;
  for (const std::string& b : blocks) {
    size_t want_start = 0, got_start = 0;
    const mime::HeaderList want = mime::ParseHeaders(b, &want_start);
    mime::ParseHeadersInto(b, &got_start, nullptr, &list, &folded);
    EXPECT_EQ(got_start, want_start);
    ASSERT_EQ(list.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(list[i].name, want[i].name);
      EXPECT_EQ(list[i].value, want[i].value);
    }
  }
}

// ParseInto reuses a Message's parts in place: parsing e-mails of more,
// fewer and again more parts into one Message gives what a fresh parse of
// each gives.
// A boundary decoded from an encoded word may hold a line break; the
// delimiter then never fits on a line (this used to throw out_of_range
// from string_view::substr and end the process).
TEST(Mime, BoundaryWithALineBreak) {
  const std::string raw =
      "Content-Type: multipart/mixed; boundary==?UTF-8?Q?a=0Ab?=\n\n--a\nb\n\nx\n--a\nb--\n";
  auto m = mime::Parse(raw);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->truncated);  // no delimiter was found: the body is kept as text
  const std::vector<absl::string_view> recs = {raw};
  const ParseBatch b = ParseBounceEmails(recs);
  EXPECT_EQ(b.records, 1);  // read to its end, no crash
}

// The multipart splitter looks for delimiter lines sixteen positions at a
// time (and one by one near the end, and with memmem for boundaries over 128
// bytes): every boundary length and every alignment of the delimiters must
// give the same parts, with decoys in mid-line and longer boundaries skipped.
TEST(Mime, DelimiterLinesAtEveryAlignmentAndBoundaryLength) {
  // With AVX2 (where the CPU has it: 32 positions at a time) and without.
  const bool wide = internal::MimeWideDelimiterSearch();
  if (!wide) std::printf("Mime: this CPU has no AVX2; only the SSE2 delimiter search is tested\n");
  for (const bool use_wide : {wide, false}) {
    internal::SetMimeWideDelimiterSearch(use_wide);
    for (const size_t blen : {1, 2, 7, 14, 15, 16, 17, 31, 32, 33, 40, 70, 125, 126, 127, 128, 200}) {
      std::string boundary;
      for (size_t i = 0; i < blen; ++i) boundary.push_back(static_cast<char>('a' + i % 26));
      for (const absl::string_view eol : {"\n", "\r\n", "\r"}) {
        for (size_t pad = 0; pad < 70; ++pad) {
          const std::string d = "--" + boundary;
          const std::string one = std::string(pad, 'p') + " x" + d + std::string(eol) + "y" + d + " in mid-line" +
                                  std::string(eol) + d + "x longer";
          const std::string two = "last " + d.substr(0, d.size() - 1);
          std::string raw = absl::StrCat("Content-Type: multipart/mixed; boundary=\"", boundary, "\"", eol, eol,
                                         "preamble", eol, d, eol, eol, one, eol, d, "  ", eol, eol, two, eol, d,
                                         "--", eol);
          auto m = mime::Parse(raw);
          ASSERT_TRUE(m.ok()) << m.status();
          SCOPED_TRACE(absl::StrCat("boundary ", blen, " pad ", pad, " eol ", eol.size()));
          EXPECT_FALSE(m->truncated);
          ASSERT_EQ(m->parts.size(), 3u);
          EXPECT_EQ(m->parts[1].body, one);
          EXPECT_EQ(m->parts[2].body, two);
          // Without its closing delimiter: the last part runs to the end.
          raw.resize(raw.size() - d.size() - 2 - eol.size());
          m = mime::Parse(raw);
          ASSERT_TRUE(m.ok()) << m.status();
          EXPECT_TRUE(m->truncated);
          ASSERT_EQ(m->parts.size(), 3u);
          EXPECT_EQ(m->parts[1].body, one);
        }
      }
    }
  }
  internal::SetMimeWideDelimiterSearch(true);
  EXPECT_EQ(internal::MimeWideDelimiterSearch(), wide);
}

TEST(Mime, ParseIntoReusesPartsInPlace) {
  const std::string many =
      "From: a@example.com\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n"
      "--b1\nContent-Type: text/plain\n\nhello\n"
      "--b1\nContent-Type: message/rfc822\n\nTo: c@example.com\nSubject: x\n\nbody\n"
      "--b1\nContent-Type: multipart/alternative; boundary=b2\n\n--b2\n\ninner\n--b2--\n"
      "--b1--\n";
  const std::string one = "To: d@example.com\nContent-Type: text/html\n\n<p>hi</p>\n";
  mime::Message msg;
  for (const std::string* raw : {&many, &one, &many, &one, &one, &many}) {
    ASSERT_TRUE(mime::ParseInto(*raw, {}, &msg).ok());
    auto fresh = mime::Parse(*raw);
    ASSERT_TRUE(fresh.ok());
    ASSERT_EQ(msg.parts.size(), fresh->parts.size());
    for (size_t i = 0; i < msg.parts.size(); ++i) {
      const mime::Part& a = msg.parts[i];
      const mime::Part& b = fresh->parts[i];
      EXPECT_EQ(a.content_type, b.content_type) << i;
      EXPECT_EQ(a.boundary, b.boundary) << i;
      EXPECT_EQ(a.report_type, b.report_type) << i;
      EXPECT_EQ(a.body, b.body) << i;
      EXPECT_EQ(a.offset, b.offset) << i;
      EXPECT_EQ(a.body_offset, b.body_offset) << i;
      EXPECT_EQ(a.depth, b.depth) << i;
      EXPECT_EQ(a.in_attached, b.in_attached) << i;
      EXPECT_EQ(a.undecoded, b.undecoded) << i;
      EXPECT_EQ(a.parent, b.parent) << i;
      ASSERT_EQ(a.headers.size(), b.headers.size()) << i;
      for (size_t k = 0; k < a.headers.size(); ++k) {
        EXPECT_EQ(a.headers[k].name, b.headers[k].name);
        EXPECT_EQ(a.headers[k].value, b.headers[k].value);
      }
    }
  }
}

// IsCollapsed says exactly when CollapseSpace leaves a text as it is, on
// random texts of letters, spaces and other whitespace of every length.
TEST(Mime, IsCollapsedMatchesCollapseSpace) {
  std::mt19937 rng(31);
  const std::string alphabet = "ab  \t\r\n\x0b\x0c\x1f";
  for (int iter = 0; iter < 100000; ++iter) {
    std::string s(rng() % 50, 'x');
    for (char& ch : s) {
      if (rng() % 3 == 0) ch = alphabet[rng() % alphabet.size()];
    }
    ASSERT_EQ(internal::IsCollapsed(s), scan::CollapseSpace(s) == s) << absl::CEscape(s);
  }
}

TEST(Mime, Base64EdgeCases) {
  EXPECT_EQ(mime::DecodeBase64(""), "");
  EXPECT_EQ(mime::DecodeBase64("YQ"), "a");
  EXPECT_EQ(mime::DecodeBase64("Y Q\r\n=YWJj"), "a");  // '=' ends the data
  EXPECT_EQ(mime::DecodeBase64("-_-_"), mime::DecodeBase64("+/+/"));  // URL-safe alphabet too
  EXPECT_EQ(mime::DecodeBase64("\xff\x80YWJj"), "abc");
}

// The scanners as they were written before they scanned sixteen bytes at a
// time: the reference for random texts.
namespace ref {
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
int FindReplyCode(absl::string_view t) {
  for (size_t i = 0; i + 3 <= t.size(); ++i) {
    char c = t[i];
    if (c != '2' && c != '4' && c != '5') continue;
    if (i > 0 && (IsDigit(t[i - 1]) || t[i - 1] == '.' || t[i - 1] == '#' ||
                  absl::ascii_isalpha(static_cast<unsigned char>(t[i - 1])) || t[i - 1] == ':' ||
                  t[i - 1] == '-' || t[i - 1] == '/')) {
      continue;
    }
    if (!IsDigit(t[i + 1]) || !IsDigit(t[i + 2])) continue;
    if (t[i + 1] > '5') continue;
    size_t j = i + 3;
    if (j < t.size()) {
      char n = t[j];
      if (!(n == ' ' || n == '-' || n == '\t' || n == '\'' || n == '"' || n == ')' || n == ']' ||
            n == ',' || n == ';' || n == '\n' || n == '\r')) {
        continue;
      }
    }
    return (c - '0') * 100 + (t[i + 1] - '0') * 10 + (t[i + 2] - '0');
  }
  return 0;
}
std::string FindEnhancedStatus(absl::string_view t) {
  for (size_t i = 0; i + 5 <= t.size(); ++i) {
    char c = t[i];
    if (c != '2' && c != '4' && c != '5') continue;
    if (i > 0 && (IsDigit(t[i - 1]) || t[i - 1] == '.' ||
                  absl::ascii_isalpha(static_cast<unsigned char>(t[i - 1])))) {
      continue;
    }
    if (t[i + 1] != '.') continue;
    size_t j = i + 2;
    size_t k = j;
    while (k < t.size() && IsDigit(t[k]) && k - j < 3) ++k;
    if (k == j || k >= t.size() || t[k] != '.') continue;
    size_t m = k + 1;
    size_t n = m;
    while (n < t.size() && IsDigit(t[n]) && n - m < 3) ++n;
    if (n == m) continue;
    if (n < t.size() && (IsDigit(t[n]) || (t[n] == '.' && n + 1 < t.size() && IsDigit(t[n + 1])))) {
      continue;
    }
    return std::string(t.substr(i, n - i));
  }
  return std::string();
}
std::string CollapseSpace(absl::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}
// The quoted-printable decoder as a byte loop.
std::string DecodeQuotedPrintable(absl::string_view in) {
  auto hex = [](char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
  };
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c != '=') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < in.size() && (in[i + 1] == '\n' || in[i + 1] == '\r')) {  // soft break
      ++i;
      if (in[i] == '\r' && i + 1 < in.size() && in[i + 1] == '\n') ++i;
      continue;
    }
    if (i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2])));
      i += 2;
      continue;
    }
    out.push_back(c);
  }
  return out;
}
}  // namespace ref

TEST(Mime, QuotedPrintableMatchesByteLoop) {
  std::mt19937 rng(7);
  const std::string alphabet = "====\r\n\r\n0A9fFgz .\x80";
  for (int iter = 0; iter < 40000; ++iter) {
    const std::string owned = RandomText(rng, alphabet, 120);
    ASSERT_EQ(mime::DecodeQuotedPrintable(owned), ref::DecodeQuotedPrintable(owned)) << absl::CEscape(owned);
  }
  // Escapes at every offset of a block, and at the very end.
  for (size_t k = 0; k < 40; ++k) {
    const std::string t = std::string(k, 'a') + "=3D=\r\n" + std::string(k % 17, 'b') + "=4";
    EXPECT_EQ(mime::DecodeQuotedPrintable(t), ref::DecodeQuotedPrintable(t)) << k;
  }
}

TEST(Scan, FastScannersMatchByteLoops) {
  std::mt19937 rng(5);
  const std::string alphabet = "2455.0119 \t\n\r\v\f\x80\xff-a:x";
  for (int iter = 0; iter < 30000; ++iter) {
    const std::string owned = RandomText(rng, alphabet, 90);
    ASSERT_EQ(scan::FindReplyCode(owned), ref::FindReplyCode(owned)) << owned;
    ASSERT_EQ(scan::FindEnhancedStatus(owned), ref::FindEnhancedStatus(owned)) << owned;
    ASSERT_EQ(scan::CollapseSpace(owned), ref::CollapseSpace(owned)) << owned;
  }
  // Prose-like texts (mostly single spaces, some line breaks and runs):
  // CollapseSpace's whole-block path.
  for (int iter = 0; iter < 30000; ++iter) {
    std::string text(rng() % 200, ' ');
    for (char& ch : text) {
      const unsigned r = rng() % 64;
      ch = r < 52 ? static_cast<char>('a' + r % 26) : r < 60 ? ' ' : "\t\r\n\x80"[r - 60];
    }
    const std::string owned = text;
    ASSERT_EQ(scan::CollapseSpace(owned), ref::CollapseSpace(owned)) << owned;
  }
  EXPECT_EQ(scan::CollapseSpace(std::string(40, 'a') + " \t " + std::string(40, 'b') + "  "),
            std::string(40, 'a') + " " + std::string(40, 'b'));
  EXPECT_EQ(scan::FindEnhancedStatus(std::string(30, 'x') + " 5.1.1"), "5.1.1");
  EXPECT_EQ(scan::FindReplyCode(std::string(30, 'x') + " 550"), 550);
}

TEST(Mime, DecodeFieldFilterKeepsOtherFieldsAsWritten) {
  const std::string raw =
      "Received: from a\n\tby b\nSubject: =?UTF-8?B?aGk=?=\n  there\nX-Other: =?UTF-8?B?aGk=?=\n"
      "Content-Type: multipart/mixed; boundary=\"b\\\"1\"; Report-Type=X; boundary=no\n\n--b\"1\n"
      "Content-Type: text/plain\n\nhi\n--b\"1--\n";
  mime::MimeOptions all;
  auto full = mime::Parse(raw, all);
  ASSERT_TRUE(full.ok());
  ASSERT_EQ(full->parts[0].headers.size(), 4u);
  EXPECT_EQ(full->parts[0].headers[0].value, "from a by b");
  EXPECT_EQ(full->parts[0].headers[1].value, "hi there");
  EXPECT_EQ(full->parts[0].headers[2].value, "hi");
  EXPECT_EQ(full->parts[0].boundary, "b\"1");
  EXPECT_EQ(full->parts[0].report_type, "x");
  mime::MimeOptions some;
  some.decode_field = [](absl::string_view name) {
    return absl::EqualsIgnoreCase(name, "subject") || absl::EqualsIgnoreCase(name, "content-type");
  };
  auto part = mime::Parse(raw, some);
  ASSERT_TRUE(part.ok());
  ASSERT_EQ(full->parts.size(), 2u);
  ASSERT_EQ(part->parts.size(), 2u);
  ASSERT_EQ(part->parts[0].headers.size(), 4u);
  EXPECT_EQ(part->parts[0].headers[0].name, "Received");
  EXPECT_EQ(part->parts[0].headers[0].value, " from a");  // first line, as written
  EXPECT_EQ(part->parts[0].headers[1].value, "hi there");
  EXPECT_EQ(part->parts[0].headers[2].value, " =?UTF-8?B?aGk=?=");
  EXPECT_EQ(part->parts[0].boundary, "b\"1");
  EXPECT_EQ(part->parts[1].body, "hi");
}

// decode_attached_field applies to the header blocks inside an attached
// message (its own and its parts'), decode_field to the others.
TEST(Mime, DecodeAttachedFieldFilterAppliesInsideAttachedMessages) {
  const std::string raw =
      "Subject: =?UTF-8?B?aGk=?=\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
      "Content-Type: message/rfc822\n\nSubject: =?UTF-8?B?aGk=?=\nTo: =?UTF-8?B?aGk=?=\n\nbody\n--b--\n";
  mime::MimeOptions opts;
  opts.decode_attached_field = [](absl::string_view name) { return absl::EqualsIgnoreCase(name, "to"); };
  auto msg = mime::Parse(raw, opts);
  ASSERT_TRUE(msg.ok());
  ASSERT_EQ(msg->parts.size(), 3u);
  EXPECT_EQ(msg->parts[0].headers[0].value, "hi");  // decode_field (null: every field)
  EXPECT_TRUE(msg->parts[2].in_attached);
  ASSERT_EQ(msg->parts[2].headers.size(), 2u);
  EXPECT_EQ(msg->parts[2].headers[0].value, " =?UTF-8?B?aGk=?=");  // Subject: as written
  EXPECT_EQ(msg->parts[2].headers[1].value, "hi");                 // To: decoded
}

TEST(Mime, ListOnlyDecodedFieldsCountsTheOthers) {
  const std::string raw =
      "Subject: s\nReceived: x\n\ty\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
      "Content-Type: message/rfc822\n\nReceived: from a\n\tby b\n  for c\nSubject: x\nTo: =?UTF-8?B?aGk=?=\n"
      "X-Other: 1\n\nbody\n--b\nContent-Type: message/rfc822\n\nReceived: only\n\nbody\n--b--\n";
  mime::MimeOptions opts;
  opts.decode_field = [](absl::string_view name) {
    return absl::EqualsIgnoreCase(name, "subject") || absl::EqualsIgnoreCase(name, "content-type");
  };
  opts.decode_attached_field = [](absl::string_view name) { return absl::EqualsIgnoreCase(name, "to"); };
  opts.list_only_decoded_fields = true;
  auto msg = mime::Parse(raw, opts);
  ASSERT_TRUE(msg.ok());
  ASSERT_EQ(msg->parts.size(), 5u);
  // The message's own block: Subject and Content-Type listed, Received counted.
  ASSERT_EQ(msg->parts[0].headers.size(), 2u);
  EXPECT_EQ(msg->parts[0].headers[1].name, "Content-Type");
  EXPECT_EQ(msg->parts[0].headers.skipped(), 1u);
  EXPECT_EQ(msg->parts[0].content_type, "multipart/mixed");
  EXPECT_EQ(msg->parts[1].content_type, "message/rfc822");
  // An attached message's block: decode_attached_field decides.
  const mime::HeaderList& h = msg->parts[2].headers;
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].name, "To");
  EXPECT_EQ(h[0].value, "hi");
  EXPECT_EQ(h.skipped(), 3u);  // Received (folded), Subject, X-Other
  EXPECT_EQ(msg->parts[2].body, "body");
  // A block whose fields are all left out is not empty.
  EXPECT_EQ(msg->parts[4].headers.size(), 0u);
  EXPECT_FALSE(msg->parts[4].headers.empty());
  // Without the option the same fields are listed, as written.
  opts.list_only_decoded_fields = false;
  auto all = mime::Parse(raw, opts);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->parts[0].headers.size(), 3u);
  EXPECT_EQ(all->parts[2].headers.size(), 4u);
  EXPECT_EQ(all->parts[2].headers.skipped(), 0u);
  EXPECT_EQ(all->parts[2].body, "body");
  // The walker's own fields are listed even when not decoded: the parts
  // are still found.
  opts.list_only_decoded_fields = true;
  opts.decode_field = [](absl::string_view) { return false; };
  auto walked = mime::Parse(raw, opts);
  ASSERT_TRUE(walked.ok());
  ASSERT_EQ(walked->parts.size(), 5u);
  ASSERT_EQ(walked->parts[0].headers.size(), 1u);
  EXPECT_EQ(walked->parts[0].headers.skipped(), 2u);
}

TEST(Mime, DecodePartFilterLeavesBodiesForDecodedBody) {
  const std::string raw =
      "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n"
      "Content-Transfer-Encoding: base64\n\naGk=\n--b\nContent-Type: text/html\n"
      "Content-Transfer-Encoding: Quoted-Printable \n\n<p>a=3Db</p>\n--b\nContent-Type: image/png\n\nxyz\n--b--\n";
  auto full = mime::Parse(raw);
  ASSERT_TRUE(full.ok());
  mime::MimeOptions opts;
  opts.decode_part = [](absl::string_view type) { return type == "text/plain"; };
  auto some = mime::Parse(raw, opts);
  ASSERT_TRUE(some.ok());
  ASSERT_EQ(full->parts.size(), 4u);
  ASSERT_EQ(some->parts.size(), 4u);
  EXPECT_EQ(some->parts[1].body, "hi");
  EXPECT_FALSE(some->parts[1].undecoded);
  EXPECT_EQ(some->parts[2].body, "<p>a=3Db</p>");
  EXPECT_TRUE(some->parts[2].undecoded);
  for (size_t i = 0; i < 4; ++i) {
    std::string a, b;
    EXPECT_EQ(mime::DecodedBody(some->parts[i], &a), mime::DecodedBody(full->parts[i], &b)) << i;
  }
  std::string storage;
  EXPECT_EQ(mime::DecodedBody(some->parts[2], &storage), "<p>a=b</p>");
}

// Dates lose their comments (nested too) and any stray ')', wherever it is.
TEST(Dsn, DateCommentsAndStrayParentheses) {
  const std::string raw =
      "From: MAILER-DAEMON@mx.example.org\n"
      "Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n"
      "\n"
      "--B\n"
      "Content-Type: message/delivery-status\n"
      "\n"
      "Final-Recipient: rfc822; one@example.com\n"
      "Action: failed\n"
      "Status: 5.1.1\n"
      "Last-Attempt-Date: Tue, 2 Jan) 2024 (a (b) c) 11:00:00 )\n"
      "--B--\n";
  auto events = ParseBounceEmail(raw);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].time, "Tue, 2 Jan 2024  11:00:00");
}

// DSN groups without blank lines between recipients, folded and encoded
// field values, field names in any case, a source-routed final recipient,
// Arrival-Date from the per-message group (the values are the reader's
// output before its DSN fields were read in one pass).
TEST(Dsn, GroupsFoldedEncodedAndRoutedFields) {
  const std::string raw =
      "From: MAILER-DAEMON@mx.example.org\n"
      "To: sender@example.com\n"
      "Subject: Undelivered Mail\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n"
      "\n"
      "--B\n"
      "Content-Type: text/plain\n"
      "\n"
      "Delivery failed.\n"
      "--B\n"
      "Content-Type: message/delivery-status\n"
      "\n"
      "Reporting-MTA: dns; mx.example.org\n"
      "ARRIVAL-DATE: Mon, 1 Jan 2024 10:00:00 +0000 (UTC)\n"
      "\n"
      "Final-Recipient: rfc822; One@Example.COM\n"
      "Action: Failed (permanent)\n"
      "Status: 5.1.1\n"
      "Remote-MTA: dns; mx1.example.com [192.0.2.1]\n"
      "Diagnostic-Code: smtp; 550-5.1.1 The email account\n"
      "    550-5.1.1 that you tried to reach\n"
      "    550 5.1.1 does not exist\n"
      "Final-Recipient: rfc822; two@example.com\n"
      "Action: delayed\n"
      "Status: 4.4.1\n"
      "Diagnostic-Code: =?UTF-8?Q?smtp=3B_451_try_later?=\n"
      "final-recipient: rfc822; @relay:three@example.com\n"
      "original-recipient: rfc822; Three@Example.com\n"
      "action: failed\n"
      "Last-Attempt-Date: Tue, 2 Jan 2024 (x) 11:00:00\n"
      "\n"
      "X-Actual-Recipient: rfc822; four@example.com\n"
      "Original-Recipient: rfc822;\n"
      "Action: failed\n"
      "--B--\n";
  auto events = ParseBounceEmail(raw);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 4u);
  const auto& e = *events;
  EXPECT_EQ(e[0].recipient, "one@example.com");
  EXPECT_EQ(e[0].action, "failed");
  EXPECT_EQ(e[0].kind, "bounce");
  EXPECT_EQ(e[0].reply_code, 550);
  EXPECT_EQ(e[0].enhanced_status, "5.1.1");
  EXPECT_EQ(e[0].diagnostic, "550-5.1.1 The email account that you tried to reach does not exist");
  EXPECT_EQ(e[0].diagnostic_type, "smtp");
  EXPECT_EQ(e[0].remote_host, "mx1.example.com");
  EXPECT_EQ(e[0].time, "Mon, 1 Jan 2024 10:00:00 +0000");
  EXPECT_EQ(e[1].recipient, "two@example.com");
  EXPECT_EQ(e[1].kind, "delay");
  EXPECT_EQ(e[1].reply_code, 451);
  EXPECT_EQ(e[1].enhanced_status, "4.4.1");
  EXPECT_EQ(e[1].diagnostic, "451 try later");
  EXPECT_EQ(e[1].diagnostic_type, "smtp");
  EXPECT_EQ(e[2].recipient, "three@example.com");
  EXPECT_EQ(e[2].time, "Tue, 2 Jan 2024  11:00:00");
  EXPECT_EQ(e[2].diagnostic, "Delivery failed.");
  EXPECT_EQ(e[3].recipient, "four@example.com");
  EXPECT_EQ(e[3].time, "Mon, 1 Jan 2024 10:00:00 +0000");
  for (const auto& ev : e) EXPECT_EQ(ev.source_format, "dsn");
}

// An HTML-only bounce: tags and entities in any case, text between them,
// a quoted-printable body decoded when the reader falls back to it (the
// values are the reader's output before HtmlToText copied runs at once).
TEST(Dsn, HtmlOnlyBounce) {
  const std::string raw =
      "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\n"
      "To: sender@example.com\n"
      "Subject: Undeliverable: hello\n"
      "Content-Type: text/html; charset=utf-8\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "<HTML><BODY><P>Delivery has failed to these recipients:</P><Div>&lt;<B>bad.user@example.net</b>&GT;<BR>550 5.1.1 &quot;User unknown&quot;&amp;more &#39;x&#39; &nbsp;</DIV><li>second=3Dline</Li><PRE>tail & more <unclosed\n";
  auto events = ParseBounceEmail(raw);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].recipient, "bad.user@example.net");
  EXPECT_EQ((*events)[0].reply_code, 550);
  EXPECT_EQ((*events)[0].enhanced_status, "5.1.1");
  EXPECT_EQ((*events)[0].diagnostic, "550 5.1.1 \"User unknown\"&more 'x'");
}

TEST(Mime, NestedPartsAndTruncation) {
  std::string raw =
      "Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: multipart/alternative; "
      "boundary=i\n\n--i\nContent-Type: text/plain\n\nhi\n--i--\n--o\nContent-Type: text/html\n\n<p>x";
  auto m = mime::Parse(raw);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->truncated);  // the outer part has no closing delimiter
  ASSERT_EQ(m->parts.size(), 4u);
  EXPECT_EQ(m->parts[2].content_type, "text/plain");
  EXPECT_EQ(m->parts[2].body, "hi");
  EXPECT_EQ(m->parts[2].depth, 2);
  EXPECT_EQ(m->parts[3].content_type, "text/html");
  EXPECT_FALSE(mime::Parse("\x01\x02 no header").ok());
}

std::string Dsn() {
  return "From: MAILER-DAEMON@mx.example.org\nTo: s@example.org\n"
         "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
         "--B\nContent-Type: text/plain\n\nfailed\n"
         "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
         "Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 5.1.1\n"
         "Diagnostic-Code: smtp; 550-5.1.1 first line\n 550 5.1.1 second line\n"
         "Final-Recipient: rfc822; b@example.net\nAction: delayed\nStatus: 4.4.1\n"
         "--B--\n";
}

TEST(Dsn, RecipientsFieldsAndLineEndings) {
  for (const char* nl : {"\n", "\r\n", "\r"}) {
    std::string raw = absl::StrReplaceAll(Dsn(), {{"\n", nl}});
    auto ev = ParseBounceEmail(raw);
    ASSERT_TRUE(ev.ok()) << ev.status();
    ASSERT_EQ(ev->size(), 2u);
    EXPECT_EQ((*ev)[0].recipient, "a@example.net");
    EXPECT_EQ((*ev)[0].enhanced_status, "5.1.1");
    EXPECT_EQ((*ev)[0].reply_code, 550);
    EXPECT_EQ((*ev)[0].diagnostic, "550-5.1.1 first line second line");
    EXPECT_EQ((*ev)[1].kind, "delay");
  }
}

void ExpectFacts(const BounceEvent& e, int code, absl::string_view status, absl::string_view command,
                 absl::string_view host) {
  SCOPED_TRACE(e.recipient);
  EXPECT_EQ(e.reply_code, code);
  EXPECT_EQ(e.enhanced_status, status);
  EXPECT_EQ(e.smtp_command, command);
  EXPECT_EQ(e.remote_host, host);
}

// Recipients with different diagnostics get their own code, status, SMTP
// command and remote host; those sharing one text get the same facts
// (Finish() scans each distinct text once and must not mix them up).
TEST(Dsn, PerRecipientDiagnosticFacts) {
  const std::string raw =
      "From: MAILER-DAEMON@mx.example.org\nTo: s@example.org\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
      "--B\nContent-Type: text/plain\n\nfailed\n"
      "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
      "Final-Recipient: rfc822; a@example.net\nAction: failed\n"
      "Diagnostic-Code: smtp; host mx1.example.net said: 550 5.1.1 no such user (in reply to RCPT TO)\n\n"
      "Final-Recipient: rfc822; b@example.net\nAction: failed\n"
      "Diagnostic-Code: smtp; host mx2.example.com said: 452 4.2.2 mailbox full (after end of data)\n\n"
      "Final-Recipient: rfc822; c@example.net\nAction: failed\n"
      "Diagnostic-Code: smtp; host mx1.example.net said: 550 5.1.1 no such user (in reply to RCPT TO)\n"
      "--B--\n";
  auto ev = ParseBounceEmail(raw);
  ASSERT_TRUE(ev.ok()) << ev.status();
  ASSERT_EQ(ev->size(), 3u);
  ExpectFacts((*ev)[0], 550, "5.1.1", "RCPT", "mx1.example.net");
  ExpectFacts((*ev)[1], 452, "4.2.2", "DATA", "mx2.example.com");
  ExpectFacts((*ev)[2], 550, "5.1.1", "RCPT", "mx1.example.net");
  EXPECT_EQ((*ev)[0].diagnostic, (*ev)[2].diagnostic);
  EXPECT_NE((*ev)[0].diagnostic, (*ev)[1].diagnostic);

  // A heuristic bounce: every recipient carries the whole text.
  const std::string text =
      "From: MAILER-DAEMON@mx.example.org\nTo: s@example.org\nSubject: Undelivered Mail\n\n"
      "This is the mail system. Your message could not be delivered to:\n\n"
      "x@example.net\ny@example.net\n\n"
      "Remote host said: 550 5.7.1 rejected by policy\n";
  absl::StatusOr<std::vector<BounceEvent>> hv = ParseBounceEmail(text);
  ASSERT_TRUE(hv.ok() && hv->size() == 2u) << hv.status();
  for (const BounceEvent& e : *hv) {
    ExpectFacts(e, 550, "5.7.1", "", "");
    EXPECT_EQ(e.diagnostic, hv->front().diagnostic);
  }
}

TEST(Dsn, ErrorsPerRecord) {
  std::string big(40 << 20, 'x');
  std::string d1 = Dsn(), d2 = Dsn();
  std::vector<absl::string_view> recs = {d1, absl::string_view("\x00\x01junk", 7), big, d2};
  ParseBatch b = ParseBounceEmails(recs);
  EXPECT_EQ(b.records, 4);
  EXPECT_EQ(b.records_with_events, 2);
  ASSERT_EQ(b.errors.size(), 2u);
  EXPECT_EQ(b.errors[0].code, "INVALID_ARGUMENT");
  EXPECT_EQ(b.errors[1].code, "RESOURCE_EXHAUSTED");
  EXPECT_EQ(b.events.back().record, 3);
}

// The batch reader appends each e-mail's events straight into its output:
// the same events (and per-e-mail limits) as one e-mail at a time.
TEST(Dsn, BatchEqualsOneAtATime) {
  const std::string heuristic =
      "From: MAILER-DAEMON@mx.example.org\nTo: s@example.org\nSubject: Undelivered Mail\n\n"
      "This is the mail system. Your message could not be delivered to:\n\n"
      "x@example.net\ny@example.net\nz@example.net\n\n"
      "Remote host said: 550 5.7.1 rejected by policy\n";
  const std::string d1 = Dsn();
  // With a date, and the original attached (its Message-ID and sender).
  const std::string d2 = absl::StrReplaceAll(
      Dsn(), {{"To: s@example.org\n", "To: s@example.org\nDate: Mon, 1 Jun 2026 10:00:00 +0000\n"},
              {"--B--\n", "--B\nContent-Type: message/rfc822\n\nMessage-ID: <m1@example.org>\n"
                           "From: Sender <sender@example.org>\nTo: a@example.net\n\nhi\n--B--\n"}});
  const std::vector<absl::string_view> recs = {heuristic, absl::string_view("\x00\x01junk", 7), d1,
                                               "Subject: nothing\n\nhello\n", d2, heuristic};
  for (int limit : {10000, 2, 0}) {
    EmailParseOptions opts;
    opts.max_recipients = limit;
    const ParseBatch b = ParseBounceEmails(recs, opts);
    std::vector<BounceEvent> want;
    int64_t with_events = 0;
    size_t errors = 0;
    for (size_t i = 0; i < recs.size(); ++i) {
      auto r = ParseBounceEmail(recs[i], opts);
      if (!r.ok()) {
        ASSERT_LT(errors, b.errors.size());
        EXPECT_EQ(b.errors[errors].record, static_cast<int64_t>(i));
        EXPECT_EQ(b.errors[errors].message, std::string(r.status().message()));
        ++errors;
        continue;
      }
      ++with_events;
      for (BounceEvent& e : *r) {
        e.record = static_cast<int64_t>(i);
        want.push_back(e);
      }
    }
    EXPECT_EQ(b.errors.size(), errors);
    EXPECT_EQ(b.records_with_events, with_events);
    ASSERT_EQ(b.events.size(), want.size()) << limit;
    EXPECT_TRUE(b.shared.empty());
    for (size_t k = 0; k < want.size(); ++k) {
      EXPECT_EQ(b.events[k].record, want[k].record);
      EXPECT_EQ(b.events[k].recipient, want[k].recipient);
      EXPECT_EQ(b.events[k].diagnostic, want[k].diagnostic);
      EXPECT_EQ(b.events[k].message_id, want[k].message_id);
      EXPECT_EQ(b.events[k].time, want[k].time);
      EXPECT_EQ(b.events[k].sender, want[k].sender);
    }
    // With the per-record fields kept once: an empty field stands for the
    // record's value, and that gives every event its fields as before.
    opts.share_record_fields = true;
    const ParseBatch s = ParseBounceEmails(recs, opts);
    ASSERT_EQ(s.shared.bounds.size(), 4 * recs.size());
    ASSERT_EQ(s.events.size(), want.size());
    if (limit > 0) {
      EXPECT_EQ(s.shared.Get(4, RecordFields::kMessageId), "<m1@example.org>");
      EXPECT_EQ(s.shared.Get(4, RecordFields::kSender), "sender@example.org");
      EXPECT_FALSE(s.shared.Get(4, RecordFields::kTime).empty());
    }
    for (size_t k = 0; k < want.size(); ++k) {
      const BounceEvent& e = s.events[k];
      auto field = [&](const std::string& own, RecordFields::Field f) {
        return own.empty() ? std::string(s.shared.Get(e.record, f)) : own;
      };
      EXPECT_EQ(field(e.message_id, RecordFields::kMessageId), want[k].message_id);
      EXPECT_EQ(field(e.time, RecordFields::kTime), want[k].time);
      EXPECT_EQ(field(e.sender, RecordFields::kSender), want[k].sender);
      EXPECT_EQ(e.diagnostic, want[k].diagnostic);
    }
  }
}

// The batch reader with a sink hands each e-mail's events over and reuses
// them (strings and all) for the next e-mail's: every field of every event
// must still be what the batch reader without a sink gives (nothing left
// over from an earlier e-mail's event), over the Sisimai corpus (e-mails of
// every kind, one after the other, twice over) with bad records among them
// and the recipient limit cutting reports short.
TEST(Dsn, SinkGetsTheBatchEvents) {
  std::vector<std::string> files;
  const std::string dir = std::string(BOUNCEKIT_SHARED_DIR) + "/corpora/sisimai/emails/maildir";
  std::vector<std::string> paths;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) paths.push_back(e.path().string());
  }
  std::sort(paths.begin(), paths.end());
  ASSERT_GT(paths.size(), 100u) << dir;
  for (const std::string& p : paths) files.push_back(testing::Slurp(p));
  std::vector<absl::string_view> recs;
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 0; i < files.size(); ++i) {
      recs.push_back(files[i]);
      if (i % 50 == 7) recs.push_back(absl::string_view("\x00\x01junk", 7));
      if (i % 50 == 9) recs.push_back("Subject: nothing\n\nhello\n");
    }
  }
  struct Sink : EmailEventSink {
    std::vector<BounceEvent> events;
    std::vector<std::array<std::string, 3>> shared;
    void Take(absl::Span<const BounceEvent> got, absl::string_view message_id, absl::string_view time,
              absl::string_view sender) override {
      EXPECT_FALSE(got.empty());
      for (const BounceEvent& e : got) {
        events.push_back(e);
        shared.push_back({std::string(message_id), std::string(time), std::string(sender)});
      }
    }
  };
  for (int limit : {10000, 2}) {
    for (bool share : {true, false}) {
      EmailParseOptions opts;
      opts.max_recipients = limit;
      opts.share_record_fields = share;
      const ParseBatch want = ParseBounceEmails(recs, opts);
      Sink sink;
      const ParseBatch got = ParseBounceEmails(recs, opts, &sink);
      EXPECT_TRUE(got.events.empty());
      EXPECT_TRUE(got.shared.empty());
      EXPECT_EQ(got.records, want.records);
      EXPECT_EQ(got.records_with_events, want.records_with_events);
      ASSERT_EQ(got.errors.size(), want.errors.size());
      for (size_t k = 0; k < want.errors.size(); ++k) {
        EXPECT_EQ(got.errors[k].record, want.errors[k].record);
        EXPECT_EQ(got.errors[k].message, want.errors[k].message);
      }
      ASSERT_EQ(sink.events.size(), want.events.size());
      ASSERT_GT(want.events.size(), 300u);
      for (size_t k = 0; k < want.events.size(); ++k) {
        const BounceEvent& a = sink.events[k];
        const BounceEvent& b = want.events[k];
        auto field = [&](const std::string& own, RecordFields::Field f) {
          return !share || !own.empty() ? own : std::string(want.shared.Get(b.record, f));
        };
        SCOPED_TRACE(absl::StrCat("event ", k, " of record ", b.record));
        EXPECT_EQ(a.record, b.record);
        EXPECT_EQ(a.offset, b.offset);
        EXPECT_EQ(a.reply_code, b.reply_code);
        const std::string* fa[] = {&a.kind, &a.recipient, &a.time, &a.message_id, &a.enhanced_status,
                                   &a.diagnostic, &a.diagnostic_type, &a.action, &a.remote_host,
                                   &a.smtp_command, &a.source_format, &a.sender, &a.campaign, &a.esp_event,
                                   &a.esp_class, &a.esp_subclass};
        const std::string* fb[] = {&b.kind, &b.recipient, &b.time, &b.message_id, &b.enhanced_status,
                                   &b.diagnostic, &b.diagnostic_type, &b.action, &b.remote_host,
                                   &b.smtp_command, &b.source_format, &b.sender, &b.campaign, &b.esp_event,
                                   &b.esp_class, &b.esp_subclass};
        for (size_t f = 0; f < 16; ++f) EXPECT_EQ(*fa[f], *fb[f]) << "field " << f;
        if (share) {  // the values the sink was given are the record's
          EXPECT_EQ(a.message_id.empty() ? sink.shared[k][0] : a.message_id,
                    field(b.message_id, RecordFields::kMessageId));
          EXPECT_EQ(a.time.empty() ? sink.shared[k][1] : a.time, field(b.time, RecordFields::kTime));
          EXPECT_EQ(a.sender.empty() ? sink.shared[k][2] : a.sender, field(b.sender, RecordFields::kSender));
        }
      }
    }
  }
}

// FindCodes (one pass) gives what FindReplyCode and FindEnhancedStatus
// give, on random texts dense in digits, dots and the bytes that end or
// rule out a code.
TEST(Scan, FindCodesMatchesTheTwoScans) {
  std::mt19937 rng(47);
  const std::string alphabet = "2455501.. -:#/a x;)\n\r";
  for (int iter = 0; iter < 60000; ++iter) {
    const std::string text = RandomText(rng, alphabet, iter % 2 == 0 ? 12 : 60);
    int code = -1;
    std::string status = "x";
    scan::FindCodes(text, &code, &status);
    ASSERT_EQ(code, scan::FindReplyCode(text)) << absl::CEscape(text);
    ASSERT_EQ(status, scan::FindEnhancedStatus(text)) << absl::CEscape(text);
  }
  int code = 0;
  std::string status;
  scan::FindCodes("host said: 550 5.1.1 <a@b.c>: user unknown", &code, &status);
  EXPECT_EQ(code, 550);
  EXPECT_EQ(status, "5.1.1");
  scan::FindCodes("4.2.2 full", &code, &status);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(status, "4.2.2");
}

// FindSmtpCommand against the rule it implements, written out: the first
// command, in the order RCPT, MAIL, DATA, EHLO, HELO, one of whose phrases
// the text holds (any case). Texts are pieces of the phrases, in mixed
// case, with filler.
TEST(Scan, SmtpCommandMatchesPhraseByPhraseSearch) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> rule = {
      {"RCPT", {"rcpt to", "rcpt_to", "rcpt command", "rcpt response", "does not like recipient"}},
      {"MAIL", {"mail from", "mail_from"}},
      {"DATA", {"end of data", "after data", "data command", "end of message", "[data]"}},
      {"EHLO", {"in reply to ehlo", "after ehlo"}},
      {"HELO", {"in reply to helo", "after helo"}}};
  auto expected = [&](const std::string& text) -> std::string {
    const std::string lower = absl::AsciiStrToLower(text);
    for (const auto& [command, phrases] : rule) {
      for (const std::string& p : phrases) {
        if (absl::StrContains(lower, p)) return command;
      }
    }
    return "";
  };
  const std::vector<std::string> pieces = {
      "rcpt", " to", "_to", "RCPT ", "command", " response", "does not ", "like ", "recipient", "mail", " from",
      "_from", "MAIL FROM", "end of ", "data", "DATA", "after ", "message", "[", "]", "in reply to ", "ehlo",
      "helo", "HELO", "EHLO", "550 5.1.1 ", "user unknown", " ", "\n", "x", "mai", "dat", "l f"};
  std::mt19937 rng(41);
  for (int iter = 0; iter < 40000; ++iter) {
    std::string text;
    const int parts = static_cast<int>(rng() % (iter % 3 == 0 ? 5 : 40));
    for (int k = 0; k < parts; ++k) text += pieces[rng() % pieces.size()];
    ASSERT_EQ(scan::FindSmtpCommand(text), expected(text)) << "text: '" << text << "'";
  }
  EXPECT_EQ(scan::FindSmtpCommand("host said: 550 mailbox unavailable (in reply to MAIL FROM command)"), "MAIL");
  EXPECT_EQ(scan::FindSmtpCommand("after helo and rcpt_to"), "RCPT");
  EXPECT_EQ(scan::FindSmtpCommand("[DATA]"), "DATA");
  EXPECT_EQ(scan::FindSmtpCommand("ehlo"), "");
}


TEST(Scan, Codes) {
  EXPECT_EQ(scan::FindReplyCode("host 192.0.2.250 said: 550 5.1.1 x"), 550);
  EXPECT_EQ(scan::FindReplyCode("no code 5501 here"), 0);
  EXPECT_EQ(scan::FindEnhancedStatus("ip 5.6.7.8 then 4.2.2 full"), "4.2.2");
  EXPECT_EQ(scan::FindSmtpCommand("(in reply to end of DATA command)"), "DATA");
  auto a = scan::FindAddresses("to <Bob@Example.COM>, x@y and @@ c@d.e");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].address, "bob@example.com");
}

TEST(Json, Strict) {
  EXPECT_TRUE(ParseJson(R"({"a": [1, -2.5e3, true, null, "\u00e9\n"]})").ok());
  EXPECT_EQ(ParseJson(R"({"a": "\u00e9"})")->Get("a")->text, "\xc3\xa9");
  for (const char* bad : {"{", "[1,]", "{'a':1}", "01x", "\"\x01\"", "[1] 2", "nul"}) {
    EXPECT_FALSE(ParseJson(bad).ok()) << bad;
  }
  std::string deep(10000, '[');
  EXPECT_FALSE(ParseJson(deep).ok());
}

TEST(EspJson, PostmarkAndShapeErrors) {
  int64_t skipped = 0;
  auto ev = ParseEspEvent(
      R"({"RecordType":"Bounce","Type":"HardBounce","TypeCode":1,"Email":"X@example.com","Details":"smtp;550 5.1.1 unknown"})",
      "auto", &skipped);
  ASSERT_TRUE(ev.ok()) << ev.status();
  ASSERT_EQ(ev->size(), 1u);
  EXPECT_EQ((*ev)[0].recipient, "x@example.com");
  EXPECT_EQ((*ev)[0].esp_class, "HardBounce");
  EXPECT_EQ((*ev)[0].reply_code, 550);
  EXPECT_FALSE(ParseEspEvent("[1, 2]", "auto", &skipped).ok());
  EXPECT_FALSE(ParseEspEvent(R"({"x": 1})", "auto", &skipped).ok());
}

TEST(MailLog, PostfixQueueReassembly) {
  std::vector<absl::string_view> lines = {
      "Jan  1 00:00:01 mx postfix/cleanup[1]: ABC123: message-id=<m@x>",
      "Jan  1 00:00:02 mx postfix/smtp[2]: ABC123: to=<u@example.com>, relay=mx.example.com[192.0.2.1]:25, "
      "dsn=5.1.1, status=bounced (host mx.example.com[192.0.2.1] said: 550 5.1.1 no such user (in reply to "
      "RCPT TO command))",
      "garbage"};
  ParseBatch b = ParseMailLog(lines, "auto");
  ASSERT_EQ(b.events.size(), 1u);
  EXPECT_EQ(b.events[0].message_id, "m@x");
  EXPECT_EQ(b.events[0].remote_host, "mx.example.com");
  EXPECT_EQ(b.events[0].smtp_command, "RCPT");
  EXPECT_EQ(b.events[0].diagnostic,
            "host mx.example.com[192.0.2.1] said: 550 5.1.1 no such user (in reply to RCPT TO command)");
  EXPECT_EQ(b.records, 3);
  EXPECT_EQ(b.records_skipped, 2);
}

// A log read in batches (parse_maillog's 65,536 lines at a time): the
// queue's earlier lines are joined wherever the batches were cut. Before,
// each batch started with no queues, and a delivery line whose from= /
// message-id= lines were in an earlier batch got the queue id as message id
// and no sender (every deferred retry hours after its message arrived).
TEST(MailLog, ReaderJoinsAcrossBatches) {
  const std::string bounced =
      "Jan  1 00:00:02 mx postfix/smtp[2]: ABC123: to=<u@example.com>, relay=mx.example.com[192.0.2.1]:25, "
      "dsn=5.1.1, status=bounced (host mx.example.com[192.0.2.1] said: 550 5.1.1 no such user)";
  MailLogReader reader("auto");
  ParseBatch first = reader.Read({"Jan  1 00:00:01 mx postfix/cleanup[1]: ABC123: message-id=<m@x>",
                                  "Jan  1 00:00:01 mx postfix/qmgr[1]: ABC123: from=<news@x>, size=9, nrcpt=1"});
  EXPECT_TRUE(first.events.empty());
  EXPECT_EQ(reader.queues(), 1u);
  ParseBatch second = reader.Read({"garbage", bounced});
  ASSERT_EQ(second.events.size(), 1u);
  EXPECT_EQ(second.events[0].record, 1);  // records are numbered per batch
  EXPECT_EQ(second.events[0].message_id, "m@x");
  EXPECT_EQ(second.events[0].sender, "news@x");
  // ParseMailLog on the second batch alone has nothing to join.
  ParseBatch alone = ParseMailLog({"garbage", bounced}, "auto");
  ASSERT_EQ(alone.events.size(), 1u);
  EXPECT_EQ(alone.events[0].message_id, "ABC123");
  EXPECT_EQ(alone.events[0].sender, "");
  // "removed" ends the queue.
  reader.Read({"Jan  1 00:00:03 mx postfix/qmgr[1]: ABC123: removed"});
  EXPECT_EQ(reader.queues(), 0u);
  ParseBatch after = reader.Read({bounced});
  ASSERT_EQ(after.events.size(), 1u);
  EXPECT_EQ(after.events[0].message_id, "ABC123");
}

TEST(MailLog, EximCompletedEndsTheMessage) {
  MailLogReader reader("exim");
  const std::string failed =
      "2024-01-01 12:00:02 1P1cqy-0001Tl-9p ** bob@example.net R=dnslookup T=remote_smtp "
      "H=mx.example.net [192.0.2.1]: SMTP error from remote mail server after RCPT TO:<bob@example.net>: "
      "550 5.1.1 unknown user";
  reader.Read({"2024-01-01 12:00:00 1P1cqy-0001Tl-9p <= news@example.org H=a [192.0.2.9] P=esmtp S=900 "
               "id=m2@example.org"});
  ParseBatch b = reader.Read({failed});
  ASSERT_EQ(b.events.size(), 1u);
  EXPECT_EQ(b.events[0].message_id, "m2@example.org");
  EXPECT_EQ(b.events[0].sender, "news@example.org");
  EXPECT_EQ(reader.queues(), 1u);
  ParseBatch done = reader.Read({"2024-01-01 12:00:03 1P1cqy-0001Tl-9p Completed"});
  EXPECT_EQ(done.records_skipped, 1);
  EXPECT_EQ(reader.queues(), 0u);
}

// Queues that never end (no "removed" lines) are kept up to the limit, the
// most recent ones: memory stays bounded on any log.
TEST(MailLog, ReaderKeepsABoundedNumberOfQueues) {
  MailLogReader reader("postfix", 8);
  for (int q = 0; q < 100; ++q) {
    const std::string line = absl::StrCat("Jan  1 00:00:01 mx postfix/qmgr[1]: Q", q, ": from=<s", q, "@x>, size=1");
    reader.Read({line});
    EXPECT_LE(reader.queues(), 8u);
  }
  auto sender_of = [&](int q) {
    const std::string line = absl::StrCat("Jan  1 00:00:02 mx postfix/smtp[2]: Q", q,
                                          ": to=<u@example.com>, dsn=4.0.0, status=deferred (later)");
    ParseBatch b = reader.Read({line});
    return b.events.size() == 1 ? b.events[0].sender : std::string("?");
  };
  EXPECT_EQ(sender_of(99), "s99@x");
  EXPECT_EQ(sender_of(96), "s96@x");  // within the last max/2 queues
  EXPECT_EQ(sender_of(0), "");        // long forgotten
}

}  // namespace
}  // namespace bouncekit
