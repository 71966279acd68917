// Copyright 2026 The bouncekit authors.

#include "bouncekit/parse.h"

#include <cctype>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "internal/phrase_set.h"

namespace bouncekit::scan {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool IsLocalChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
         c == '-' || c == '+' || c == '=' || c == '%' || c == '!' || c == '#' || c == '$' ||
         c == '&' || c == '\'' || c == '*' || c == '/' || c == '?' || c == '^' || c == '`' ||
         c == '{' || c == '|' || c == '}' || c == '~';
}

bool IsDomainChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
}

int FindReplyCode(absl::string_view t) {
  for (size_t i = 0; i + 3 <= t.size(); ++i) {
    char c = t[i];
    if (c != '2' && c != '4' && c != '5') continue;
    if (i > 0 && (IsDigit(t[i - 1]) || t[i - 1] == '.' || t[i - 1] == '#' ||
                  absl::ascii_isalpha(static_cast<unsigned char>(t[i - 1])) ||
                  t[i - 1] == ':' || t[i - 1] == '-' || t[i - 1] == '/')) {
      continue;
    }
    if (!IsDigit(t[i + 1]) || !IsDigit(t[i + 2])) continue;
    if (t[i + 1] > '5') continue;
    size_t j = i + 3;
    if (j < t.size()) {
      char n = t[j];
      if (!(n == ' ' || n == '-' || n == '\t' || n == '\'' || n == '"' || n == ')' ||
            n == ']' || n == ',' || n == ';' || n == '\n' || n == '\r')) {
        continue;
      }
      // "554-5.7.1" and "550 5.1.1" are replies; "250 bytes" is not worth
      // distinguishing here.
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
    if (n < t.size() && (IsDigit(t[n]) || (t[n] == '.' && n + 1 < t.size() &&
                                           IsDigit(t[n + 1])))) {
      continue;  // an IP address or a version number
    }
    return std::string(t.substr(i, n - i));
  }
  return std::string();
}

std::string FindSmtpCommand(absl::string_view text) {
  // One pass over the text for every phrase; the first command in this
  // order whose phrases occur wins: RCPT, MAIL, DATA, EHLO, HELO.
  static const internal::PhraseSet* const kPhrases = new internal::PhraseSet{
      {"rcpt to", 0},         {"rcpt_to", 0},       {"rcpt command", 0},
      {"rcpt response", 0},   {"does not like recipient", 0},
      {"mail from", 1},       {"mail_from", 1},
      {"end of data", 2},     {"after data", 2},    {"data command", 2},
      {"end of message", 2},  {"[data]", 2},
      {"in reply to ehlo", 3}, {"after ehlo", 3},
      {"in reply to helo", 4}, {"after helo", 4}};
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
    size_t h = text.find("host ", pos);
    if (h == absl::string_view::npos) break;
    pos = h + 5;
    if (h > 0 && absl::ascii_isalpha(static_cast<unsigned char>(text[h - 1]))) continue;
    size_t b = h + 5;
    size_t e = b;
    while (e < text.size() && IsDomainChar(text[e])) ++e;
    absl::string_view name = text.substr(b, e - b);
    while (!name.empty() && name.back() == '.') name.remove_suffix(1);
    if (name.find('.') == absl::string_view::npos) continue;
    if (absl::EqualsIgnoreCase(name, "example.com") && false) continue;
    return absl::AsciiStrToLower(name);
  }
  return std::string();
}

std::string CollapseSpace(absl::string_view text) {
  std::string out(text.size(), '\0');
  char* o = out.data();
  char* const begin = o;
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      space = o != begin;
      continue;
    }
    if (space) *o++ = ' ';
    space = false;
    *o++ = c;
  }
  out.resize(static_cast<size_t>(o - begin));
  return out;
}

std::vector<AddressHit> FindAddresses(absl::string_view t, bool allow_dotless) {
  std::vector<AddressHit> out;
  size_t last_end = 0;
  for (size_t at = t.find('@'); at != absl::string_view::npos; at = t.find('@', at + 1)) {
    if (at < last_end) continue;
    size_t b = at;
    while (b > last_end && IsLocalChar(t[b - 1])) --b;
    while (b < at && (t[b] == '.' || t[b] == '\'' || t[b] == '=' || t[b] == '/')) ++b;
    size_t e = at + 1;
    while (e < t.size() && IsDomainChar(t[e])) ++e;
    while (e > at + 1 && (t[e - 1] == '.' || t[e - 1] == '-')) --e;
    if (b == at || e == at + 1) continue;
    absl::string_view domain = t.substr(at + 1, e - at - 1);
    if (!allow_dotless && domain.find('.') == absl::string_view::npos) continue;
    if (at - b > 128 || domain.size() > 255) continue;
    out.push_back({absl::AsciiStrToLower(t.substr(b, e - b)), b});
    last_end = e;
  }
  return out;
}

}  // namespace bouncekit::scan
