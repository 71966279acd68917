// Copyright 2026 The bouncekit authors.
//
// SMTP reply codes (RFC 5321) and enhanced status codes (RFC 3463 / RFC 5248):
// parsing, the IANA registry, and finding both inside free diagnostic text
// such as "smtp; 550 5.1.1 <a@b>: user unknown" or multi-line replies
// ("452-4.2.2 The email account ...").
//
// All scanning here is hand-written and linear in the input length.

#ifndef BOUNCEKIT_SMTP_STATUS_H_
#define BOUNCEKIT_SMTP_STATUS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace bouncekit {

// An RFC 3463 enhanced status code "class.subject.detail".
// klass == 0 means "absent". Details of up to three digits are accepted
// (Microsoft's 4.7.500-699, 5.1.351, ...), as are unregistered codes.
struct EnhancedStatus {
  int8_t klass = 0;     // 2, 4 or 5; 0 when absent
  int16_t subject = 0;  // 0..999 (the registry uses 0..7)
  int16_t detail = 0;   // 0..999

  bool present() const { return klass != 0; }
  // "X.0.0" or "X.Y.0": says little beyond the class (and subject).
  bool generic() const { return present() && detail == 0; }
  std::string ToString() const;  // "" when absent

  friend bool operator==(const EnhancedStatus& a, const EnhancedStatus& b) {
    return a.klass == b.klass && a.subject == b.subject &&
           a.detail == b.detail;
  }
  friend bool operator!=(const EnhancedStatus& a, const EnhancedStatus& b) {
    return !(a == b);
  }
};

// Strict parse of a whole string: exactly "D.D{1,3}.D{1,3}" with class 2, 4
// or 5 (surrounding ASCII whitespace allowed). Errors say what is wrong:
// "5.1" (two parts), "5.1.1.1" (four parts), "6.0.0" (class 6).
absl::StatusOr<EnhancedStatus> ParseEnhancedStatus(absl::string_view text);

// Lenient parse for data columns: like ParseEnhancedStatus but returns an
// absent status instead of an error, and also accepts a status followed by
// other text ("5.1.1 (user unknown)").
EnhancedStatus ParseEnhancedStatusLenient(absl::string_view text);

// What the IANA "SMTP Enhanced Status Codes" registry says about a code.
struct StatusDescription {
  bool registered = false;          // subject.detail is in the registry
  absl::string_view class_name;     // "Success", "Persistent Transient Failure", ...
  absl::string_view subject_name;   // "Addressing Status", ... ("" if unknown)
  absl::string_view detail_name;    // "Bad destination mailbox address", ...
};
StatusDescription DescribeStatus(const EnhancedStatus& status);

// Parses a reply-code cell: "550", " 550 ", "550.0" is rejected. Returns
// nullopt unless the text is a three-digit code whose first digit is 2..5
// (so "abc", "999", "" and "1234" are all "no code").
std::optional<int> ParseReplyCode(absl::string_view text);
// Whether an integer is usable as a reply code (200..599).
inline bool IsValidReplyCode(int64_t code) { return code >= 200 && code <= 599; }

// Codes found inside diagnostic text.
struct TextCodes {
  int reply_code = 0;          // 0 when none found
  EnhancedStatus status;       // absent when none found
  int64_t reply_code_pos = -1;  // byte offset of the code in the text
  int64_t status_pos = -1;      // byte offset of the status in the text
};

// Finds the reply code and enhanced status a diagnostic text reports.
// Preference: the first "code status" pair ("550 5.1.1", "550-5.1.1",
// "550: 5.1.1"); otherwise the first delimited status ("#5.1.2", "(#5.5.0)")
// and the first reply code in a reply position (start of the text or of an
// "smtp;" value, after "said:", "<<<", "returned", "error", quotes, '#').
// Numbers inside IP addresses, dates, sizes or longer dotted strings are
// never taken for codes.
TextCodes FindCodesInText(absl::string_view text);

}  // namespace bouncekit

#endif  // BOUNCEKIT_SMTP_STATUS_H_
