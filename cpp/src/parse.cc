// Copyright 2026 The bouncekit authors.

#include "bouncekit/parse.h"

#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "internal/code_scan.h"
#include "internal/email_scan.h"
#include "internal/phrase_set.h"

namespace bouncekit::scan {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool IsLocalChar(char c) {  // internal::IsLocalCharFast is the same as a table
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
         c == '-' || c == '+' || c == '=' || c == '%' || c == '!' || c == '#' || c == '$' ||
         c == '&' || c == '\'' || c == '*' || c == '/' || c == '?' || c == '^' || c == '`' ||
         c == '{' || c == '|' || c == '}' || c == '~';
}

bool IsDomainChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
}

namespace {

// The reply code at t[i] (a '2', '4' or '5' with two bytes after it), or
// 0: not part of a longer number, a word or an address, and followed by a
// break.
int ReplyCodeAt(absl::string_view t, size_t i) {
  if (i > 0 && (IsDigit(t[i - 1]) || t[i - 1] == '.' || t[i - 1] == '#' ||
                absl::ascii_isalpha(static_cast<unsigned char>(t[i - 1])) ||
                t[i - 1] == ':' || t[i - 1] == '-' || t[i - 1] == '/')) {
    return 0;
  }
  if (!IsDigit(t[i + 1]) || !IsDigit(t[i + 2])) return 0;
  if (t[i + 1] > '5') return 0;
  const size_t j = i + 3;
  if (j < t.size()) {
    const char n = t[j];
    if (!(n == ' ' || n == '-' || n == '\t' || n == '\'' || n == '"' || n == ')' ||
          n == ']' || n == ',' || n == ';' || n == '\n' || n == '\r')) {
      return 0;
    }
    // "554-5.7.1" and "550 5.1.1" are replies; "250 bytes" is not worth
    // distinguishing here.
  }
  return (t[i] - '0') * 100 + (t[i + 1] - '0') * 10 + (t[i + 2] - '0');
}

// The end of the enhanced status at t[i] (a '2', '4' or '5' followed by a
// '.', with four bytes after it), or 0 when there is none.
size_t StatusEndAt(absl::string_view t, size_t i) {
  if (i > 0 && (IsDigit(t[i - 1]) || t[i - 1] == '.' ||
                absl::ascii_isalpha(static_cast<unsigned char>(t[i - 1])))) {
    return 0;
  }
  if (t[i + 1] != '.') return 0;
  const size_t j = i + 2;
  size_t k = j;
  while (k < t.size() && IsDigit(t[k]) && k - j < 3) ++k;
  if (k == j || k >= t.size() || t[k] != '.') return 0;
  const size_t m = k + 1;
  size_t n = m;
  while (n < t.size() && IsDigit(t[n]) && n - m < 3) ++n;
  if (n == m) return 0;
  if (n < t.size() && (IsDigit(t[n]) || (t[n] == '.' && n + 1 < t.size() && IsDigit(t[n + 1])))) {
    return 0;  // an IP address or a version number
  }
  return n;
}

}  // namespace

int FindReplyCode(absl::string_view t) {
  if (t.size() < 3) return 0;
  const size_t end = t.size() - 2;  // starts with three bytes left
  for (size_t i = internal::NextCodeStart(t, 0, end, false); i < end; i = internal::NextCodeStart(t, i + 1, end, false)) {
    if (const int code = ReplyCodeAt(t, i); code != 0) return code;
  }
  return 0;
}

std::string FindEnhancedStatus(absl::string_view t) {
  if (t.size() < 5) return std::string();
  const size_t end = t.size() - 4;  // starts with five bytes left
  for (size_t i = internal::NextCodeStart(t, 0, end, true); i < end; i = internal::NextCodeStart(t, i + 1, end, true)) {
    if (const size_t n = StatusEndAt(t, i); n != 0) return std::string(t.substr(i, n - i));
  }
  return std::string();
}

void FindCodes(absl::string_view t, int* code, std::string* status) {
  *code = 0;
  status->clear();
  if (t.size() < 3) return;
  // One walk over the starts of both (every '2', '4' or '5' that leaves
  // three bytes), until both are found.
  const size_t code_end = t.size() - 2;
  const size_t status_end = t.size() >= 5 ? t.size() - 4 : 0;
  bool have_code = false, have_status = status_end == 0;
  for (size_t i = internal::NextCodeStart(t, 0, code_end, false); i < code_end;
       i = internal::NextCodeStart(t, i + 1, code_end, false)) {
    if (!have_code) {
      *code = ReplyCodeAt(t, i);
      have_code = *code != 0;
    }
    if (!have_status && i < status_end && t[i + 1] == '.') {
      if (const size_t n = StatusEndAt(t, i); n != 0) {
        status->assign(t.data() + i, n - i);
        have_status = true;
      }
    }
    if (have_code && have_status) return;
  }
}

std::string FindSmtpCommand(absl::string_view text) {
  // One pass over the text for every phrase; the first command in this
  // order whose phrases occur wins: RCPT, MAIL, DATA, EHLO, HELO. Each
  // phrase is anchored on a rare part of it (its third argument: the
  // offset of that part): "in ", "end", "mai" and "aft", where most of
  // them start, are common in diagnostics, and each occurrence was a
  // candidate to compare.
  static const internal::PhraseSet* const kPhrases = new internal::PhraseSet{
      {"rcpt to", 0, 0},          {"rcpt_to", 0, 0},      {"rcpt command", 0, 0},
      {"rcpt response", 0, 0},    {"does not like recipient", 0, 9},  // "like"
      {"mail from", 1, 3},        {"mail_from", 1, 3},                // "l from"
      {"end of data", 2, 7},      {"after data", 2, 6},   {"data command", 2, 0},
      {"end of message", 2, 5},   {"[data]", 2, 1},                   // "f message", "data"
      {"in reply to ehlo", 3, 12}, {"after ehlo", 3, 6},
      {"in reply to helo", 4, 12}, {"after helo", 4, 6}};
  const uint64_t found = kPhrases->Find(text, /*stop_mask=*/1);
  static constexpr const char* kCommands[] = {"RCPT", "MAIL", "DATA", "EHLO", "HELO"};
  for (int g = 0; g < 5; ++g) {
    if ((found >> g) & 1) return kCommands[g];
  }
  return std::string();
}

std::string FindRemoteHost(absl::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    // (std::string_view's find is inlined; Debian's absl::string_view calls
    // into libabsl_strings for it, a few percent of the e-mail reader.)
    size_t h = std::string_view(text.data(), text.size()).find("host ", pos);
    if (h == std::string_view::npos) break;
    pos = h + 5;
    if (h > 0 && absl::ascii_isalpha(static_cast<unsigned char>(text[h - 1]))) continue;
    size_t b = h + 5;
    size_t e = b;
    while (e < text.size() && IsDomainChar(text[e])) ++e;
    absl::string_view name = text.substr(b, e - b);
    while (!name.empty() && name.back() == '.') name.remove_suffix(1);
    if (name.find('.') == absl::string_view::npos) continue;
    return absl::AsciiStrToLower(name);
  }
  return std::string();
}

std::string CollapseSpace(absl::string_view text) {
  std::string out;
  CollapseSpaceInto(text, &out);
  return out;
}

void CollapseSpaceInto(absl::string_view text, std::string* out_string) {
  // Each run of whitespace becomes one space, none at either end. Sixteen
  // bytes at a time: a block is stored at once with its whitespace bytes
  // made spaces, and the output advances past the part of it whose
  // whitespace bytes are single (prose: most blocks whole); a longer run
  // (a CRLF, indentation) is then skipped. The output never runs ahead of
  // the input, so the 16 bytes of slack hold the last wide store.
  const size_t n = text.size();
  std::string& out = *out_string;
  out.resize(n + 16);  // (a kept buffer: no new allocation once it is large enough)
  const char* const p = text.data();
  char* const begin = out.data();
  char* o = begin;
  size_t i = 0;
  bool pending = false;  // whitespace read since the last byte written
  auto is_space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
#if defined(__SSE2__)
  const __m128i sp = _mm_set1_epi8(' ');
  const __m128i below_tab = _mm_set1_epi8('\t' - 1), above_cr = _mm_set1_epi8('\r' + 1);
  while (i + 16 <= n) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i ws = _mm_or_si128(
        _mm_cmpeq_epi8(v, sp), _mm_and_si128(_mm_cmpgt_epi8(v, below_tab), _mm_cmplt_epi8(v, above_cr)));
    const unsigned m = static_cast<unsigned>(_mm_movemask_epi8(ws));
    if (m & 1) {  // a run of whitespace starts here: skip it
      while (i < n && is_space(p[i])) ++i;
      pending = true;
      continue;
    }
    if (pending && o != begin) *o++ = ' ';
    pending = false;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o),
                     _mm_or_si128(_mm_andnot_si128(ws, v), _mm_and_si128(ws, sp)));
    const unsigned pairs = m & (m >> 1);  // bit k: bytes k and k + 1 both whitespace
    if (pairs != 0) {
      // Keep the bytes before the run (the byte before it is no space);
      // the loop skips the run.
      const unsigned k = static_cast<unsigned>(__builtin_ctz(pairs));
      o += k;
      i += k;
    } else if (m & 0x8000) {
      // The last byte is whitespace and may go on in the next block.
      o += 15;
      i += 16;
      pending = true;
    } else {
      o += 16;
      i += 16;
    }
  }
#endif
  for (; i < n; ++i) {
    const char c = p[i];
    if (is_space(c)) {
      pending = true;
      continue;
    }
    if (pending && o != begin) *o++ = ' ';
    pending = false;
    *o++ = c;
  }
  out.resize(static_cast<size_t>(o - begin));
}

std::vector<AddressHit> FindAddresses(absl::string_view t, bool allow_dotless) {
  std::vector<AddressHit> out;
  internal::ForEachAddress(t, allow_dotless, [&](size_t b, size_t e) {
    out.push_back({absl::AsciiStrToLower(t.substr(b, e - b)), b});
    return true;
  });
  return out;
}

}  // namespace bouncekit::scan
