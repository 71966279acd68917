// Copyright 2026 The bouncekit authors.

#include "bouncekit/parse.h"

#include <cctype>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

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
  std::string t = absl::AsciiStrToLower(text);
  if (absl::StrContains(t, "rcpt to") || absl::StrContains(t, "rcpt_to") ||
      absl::StrContains(t, "rcpt command") || absl::StrContains(t, "rcpt response") ||
      absl::StrContains(t, "does not like recipient")) {
    return "RCPT";
  }
  if (absl::StrContains(t, "mail from") || absl::StrContains(t, "mail_from")) return "MAIL";
  if (absl::StrContains(t, "end of data") || absl::StrContains(t, "after data") ||
      absl::StrContains(t, "to data command") || absl::StrContains(t, "data command") ||
      absl::StrContains(t, "end of message") || absl::StrContains(t, "[data]")) {
    return "DATA";
  }
  if (absl::StrContains(t, "in reply to ehlo") || absl::StrContains(t, "after ehlo")) return "EHLO";
  if (absl::StrContains(t, "in reply to helo") || absl::StrContains(t, "after helo")) return "HELO";
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
  std::string out;
  out.reserve(text.size());
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
