// Copyright 2026 The bouncekit authors.

#include "bouncekit/smtp_status.h"

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "internal/code_scan.h"

namespace bouncekit {
namespace {

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool IsWordChar(char c) { return IsDigit(c) || IsAlpha(c) || c == '_'; }

// Reads 1..3 digits at text[*pos]; fails on 0 or more than 3 digits.
bool ReadNumber(absl::string_view text, size_t* pos, int16_t* out) {
  size_t p = *pos;
  int v = 0;
  int n = 0;
  while (p < text.size() && IsDigit(text[p])) {
    if (++n > 3) return false;
    v = v * 10 + (text[p] - '0');
    ++p;
  }
  if (n == 0) return false;
  *out = static_cast<int16_t>(v);
  *pos = p;
  return true;
}

// Parses "C.S.D" at text[pos]; on success *end is one past the last digit.
// Does not look at what surrounds it.
bool ParseStatusAt(absl::string_view text, size_t pos, EnhancedStatus* st, size_t* end) {
  if (pos + 5 > text.size()) return false;
  char c = text[pos];
  if (c != '2' && c != '4' && c != '5') return false;
  if (text[pos + 1] != '.') return false;
  size_t p = pos + 2;
  int16_t subject = 0, detail = 0;
  if (!ReadNumber(text, &p, &subject)) return false;
  if (p >= text.size() || text[p] != '.') return false;
  ++p;
  if (!ReadNumber(text, &p, &detail)) return false;
  st->klass = static_cast<int8_t>(c - '0');
  st->subject = subject;
  st->detail = detail;
  *end = p;
  return true;
}

struct RegistryEntry {
  int16_t subject;
  int16_t detail;
  const char* name;
};

// IANA "SMTP Enhanced Status Codes" registry (RFC 3463, RFC 5248 and the RFCs
// named in ../shared/reference/enhanced-status-codes.tsv), as of late 2024.
constexpr RegistryEntry kRegistry[] = {
    {0, 0, "Other undefined Status"},
    {1, 0, "Other address status"},
    {1, 1, "Bad destination mailbox address"},
    {1, 2, "Bad destination system address"},
    {1, 3, "Bad destination mailbox address syntax"},
    {1, 4, "Destination mailbox address ambiguous"},
    {1, 5, "Destination address valid"},
    {1, 6, "Destination mailbox has moved, No forwarding address"},
    {1, 7, "Bad sender's mailbox address syntax"},
    {1, 8, "Bad sender's system address"},
    {1, 9, "Message relayed to non-compliant mailer"},
    {1, 10, "Recipient address has null MX"},
    {2, 0, "Other or undefined mailbox status"},
    {2, 1, "Mailbox disabled, not accepting messages"},
    {2, 2, "Mailbox full"},
    {2, 3, "Message length exceeds administrative limit"},
    {2, 4, "Mailing list expansion problem"},
    {3, 0, "Other or undefined mail system status"},
    {3, 1, "Mail system full"},
    {3, 2, "System not accepting network messages"},
    {3, 3, "System not capable of selected features"},
    {3, 4, "Message too big for system"},
    {3, 5, "System incorrectly configured"},
    {3, 6, "Requested priority was changed"},
    {4, 0, "Other or undefined network or routing status"},
    {4, 1, "No answer from host"},
    {4, 2, "Bad connection"},
    {4, 3, "Directory server failure"},
    {4, 4, "Unable to route"},
    {4, 5, "Mail system congestion"},
    {4, 6, "Routing loop detected"},
    {4, 7, "Delivery time expired"},
    {5, 0, "Other or undefined protocol status"},
    {5, 1, "Invalid command"},
    {5, 2, "Syntax error"},
    {5, 3, "Too many recipients"},
    {5, 4, "Invalid command arguments"},
    {5, 5, "Wrong protocol version"},
    {5, 6, "Authentication Exchange line is too long"},
    {6, 0, "Other or undefined media error"},
    {6, 1, "Media not supported"},
    {6, 2, "Conversion required and prohibited"},
    {6, 3, "Conversion required but not supported"},
    {6, 4, "Conversion with loss performed"},
    {6, 5, "Conversion Failed"},
    {6, 6, "Message content not available"},
    {6, 7, "Non-ASCII addresses not permitted for that sender/recipient"},
    {6, 8, "UTF-8 string reply is required, but not permitted by the SMTP client"},
    {6, 9, "UTF-8 header message cannot be transferred to one or more recipients"},
    {6, 10, "UTF-8 string reply is required (deprecated duplicate of X.6.8)"},
    {7, 0, "Other or undefined security status"},
    {7, 1, "Delivery not authorized, message refused"},
    {7, 2, "Mailing list expansion prohibited"},
    {7, 3, "Security conversion required but not possible"},
    {7, 4, "Security features not supported"},
    {7, 5, "Cryptographic failure"},
    {7, 6, "Cryptographic algorithm not supported"},
    {7, 7, "Message integrity failure"},
    {7, 8, "Authentication credentials invalid"},
    {7, 9, "Authentication mechanism is too weak"},
    {7, 10, "Encryption Needed"},
    {7, 11, "Encryption required for requested authentication mechanism"},
    {7, 12, "A password transition is needed"},
    {7, 13, "User Account Disabled"},
    {7, 14, "Trust relationship required"},
    {7, 15, "Priority Level is too low"},
    {7, 16, "Message is too big for the specified priority"},
    {7, 17, "Mailbox owner has changed"},
    {7, 18, "Domain owner has changed"},
    {7, 19, "RRVS test cannot be completed"},
    {7, 20, "No passing DKIM signature found"},
    {7, 21, "No acceptable DKIM signature found"},
    {7, 22, "No valid author-matched DKIM signature found"},
    {7, 23, "SPF validation failed"},
    {7, 24, "SPF validation error"},
    {7, 25, "Reverse DNS validation failed"},
    {7, 26, "Multiple authentication checks failed"},
    {7, 27, "Sender address has null MX"},
    {7, 28, "Mail flood detected"},
    {7, 29, "ARC validation failure"},
    {7, 30, "REQUIRETLS support required"},
};

constexpr const char* kSubjectNames[] = {
    "Other or Undefined Status", "Addressing Status", "Mailbox Status",
    "Mail System Status", "Network and Routing Status",
    "Mail Delivery Protocol Status", "Message Content or Media Status",
    "Security or Policy Status",
};

// Words after which a bare three-digit number is a reply code.
bool IsReplyWord(absl::string_view w) {
  static constexpr absl::string_view kWords[] = {
      "said", "returned", "code", "responsecode", "reply", "replied",
      "error", "response", "status", "smtp", "with", "failed", "answered"};
  for (absl::string_view k : kWords) {
    if (absl::EqualsIgnoreCase(w, k)) return true;
  }
  return false;
}

// Whether a bare code starting at text[pos] sits in a reply position.
bool InReplyPosition(absl::string_view text, size_t pos) {
  size_t p = pos;
  // Skip blanks and quoting/opening punctuation before the code.
  while (p > 0) {
    char c = text[p - 1];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\'' || c == '"' ||
        c == '#' || c == '(' || c == '[' || c == '=') {
      --p;
    } else {
      break;
    }
  }
  if (p == 0) return true;
  char c = text[p - 1];
  if (c == ';' || c == ':' || c == '<' || c == '>' || c == '|') return true;
  if (!IsAlpha(c)) return false;
  size_t e = p;
  while (p > 0 && IsAlpha(text[p - 1])) --p;
  if (p > 0 && IsWordChar(text[p - 1])) return false;
  return IsReplyWord(text.substr(p, e - p));
}

}  // namespace

std::string EnhancedStatus::ToString() const {
  if (!present()) return "";
  return absl::StrCat(klass, ".", subject, ".", detail);
}

absl::StatusOr<EnhancedStatus> ParseEnhancedStatus(absl::string_view text) {
  absl::string_view s = absl::StripAsciiWhitespace(text);
  if (s.empty()) return absl::InvalidArgumentError("empty enhanced status");
  // Count the dot-separated parts first, for a precise message.
  int parts = 1;
  for (char c : s) {
    if (c == '.') {
      ++parts;
    } else if (!IsDigit(c)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "enhanced status '", s, "' has a character other than digits and dots"));
    }
  }
  if (parts != 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "enhanced status '", s, "' has ", parts,
        " part(s); RFC 3463 codes have three (class.subject.detail)"));
  }
  EnhancedStatus st;
  size_t end = 0;
  if (s[0] != '2' && s[0] != '4' && s[0] != '5') {
    return absl::InvalidArgumentError(absl::StrCat(
        "enhanced status '", s, "' has class ", s.substr(0, s.find('.')),
        "; RFC 3463 classes are 2, 4 and 5"));
  }
  if (!ParseStatusAt(s, 0, &st, &end) || end != s.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "enhanced status '", s,
        "' is not class.subject.detail with a one-digit class and 1-3 digit parts"));
  }
  return st;
}

EnhancedStatus ParseEnhancedStatusLenient(absl::string_view text) {
  absl::string_view s = absl::StripLeadingAsciiWhitespace(text);
  EnhancedStatus st;
  size_t end = 0;
  if (!ParseStatusAt(s, 0, &st, &end)) return EnhancedStatus();
  if (end < s.size()) {
    char c = s[end];
    if (IsDigit(c) || IsAlpha(c) || c == '.') return EnhancedStatus();
  }
  return st;
}

StatusDescription DescribeStatus(const EnhancedStatus& status) {
  StatusDescription d;
  if (!status.present()) return d;
  switch (status.klass) {
    case 2: d.class_name = "Success"; break;
    case 4: d.class_name = "Persistent Transient Failure"; break;
    case 5: d.class_name = "Permanent Failure"; break;
    default: break;
  }
  if (status.subject >= 0 && status.subject <= 7) {
    d.subject_name = kSubjectNames[status.subject];
  }
  for (const RegistryEntry& e : kRegistry) {
    if (e.subject == status.subject && e.detail == status.detail) {
      d.registered = true;
      d.detail_name = e.name;
      break;
    }
  }
  return d;
}

std::optional<int> ParseReplyCode(absl::string_view text) {
  absl::string_view s = absl::StripAsciiWhitespace(text);
  if (s.size() != 3 || !IsDigit(s[0]) || !IsDigit(s[1]) || !IsDigit(s[2])) {
    return std::nullopt;
  }
  int v = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
  if (!IsValidReplyCode(v)) return std::nullopt;
  return v;
}

TextCodes FindCodesInText(absl::string_view text) {
  TextCodes out;
  const size_t n = text.size();
  bool have_pair = false;
  // Candidates are the '2's, '4's and '5's: sixteen bytes ruled out at a time.
  for (size_t i = internal::NextCodeStart(text, 0, n, false); i < n && !have_pair;
       i = internal::NextCodeStart(text, i + 1, n, false)) {
    const char c = text[i];
    if (i > 0) {
      char prev = text[i - 1];
      if (IsWordChar(prev) || prev == '.') continue;
    }
    // Enhanced status at i?
    EnhancedStatus st;
    size_t end = 0;
    if (ParseStatusAt(text, i, &st, &end)) {
      bool delimited = true;
      if (end < n) {
        char nc = text[end];
        if (IsWordChar(nc)) delimited = false;
        if (nc == '.' && end + 1 < n && IsDigit(text[end + 1])) delimited = false;
      }
      if (delimited && st.subject <= 7 && !out.status.present()) {
        out.status = st;
        out.status_pos = static_cast<int64_t>(i);
      }
      i = end - 1;
      continue;
    }
    // Reply code at i?
    if (i + 3 > n || !IsDigit(text[i + 1]) || !IsDigit(text[i + 2])) continue;
    if (text[i + 1] > '5') continue;
    if (i + 3 < n) {
      char nc = text[i + 3];
      if (IsWordChar(nc) || nc == '.' || nc == ',' || nc == '/' || nc == '%') {
        continue;
      }
    }
    const int code = (c - '0') * 100 + (text[i + 1] - '0') * 10 + (text[i + 2] - '0');
    // A status right after the code makes a pair: "550 5.1.1", "550-5.1.1",
    // "550: 5.1.1", "550 '5.1.1".
    size_t p = i + 3;
    size_t skipped = 0;
    while (p < n && skipped < 3 &&
           (text[p] == ' ' || text[p] == '-' || text[p] == ':' || text[p] == '\'' ||
            text[p] == '"')) {
      ++p;
      ++skipped;
    }
    EnhancedStatus pst;
    size_t pend = 0;
    if (skipped > 0 && ParseStatusAt(text, p, &pst, &pend) &&
        (pend >= n || (!IsWordChar(text[pend]) &&
                       !(text[pend] == '.' && pend + 1 < n && IsDigit(text[pend + 1]))))) {
      out.reply_code = code;
      out.reply_code_pos = static_cast<int64_t>(i);
      out.status = pst;
      out.status_pos = static_cast<int64_t>(p);
      have_pair = true;
      break;
    }
    if (out.reply_code == 0 && InReplyPosition(text, i)) {
      out.reply_code = code;
      out.reply_code_pos = static_cast<int64_t>(i);
    }
    i += 2;
  }
  return out;
}

}  // namespace bouncekit
