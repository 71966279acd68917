// Copyright 2026 The bouncekit authors.
//
// Fuzz target: SMTP reply codes and RFC 3463 enhanced statuses — the strict
// and lenient parsers, the registry lookup, and FindCodesInText (codes inside
// free diagnostic text). Besides crashes it checks that:
//  * a strict parse agrees with the lenient one and prints back to itself;
//  * ParseReplyCode only returns 200..599;
//  * FindCodesInText's positions point at the code/status it returns.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bouncekit/smtp_status.h"
#include "fuzz_input.h"

using bouncekit::EnhancedStatus;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<EnhancedStatus> strict = bouncekit::ParseEnhancedStatus(text);
  const EnhancedStatus lenient = bouncekit::ParseEnhancedStatusLenient(text);
  if (strict.ok()) {
    BK_FUZZ_CHECK(strict->present());
    BK_FUZZ_CHECK(lenient == *strict);
    absl::StatusOr<EnhancedStatus> again = bouncekit::ParseEnhancedStatus(strict->ToString());
    BK_FUZZ_CHECK(again.ok() && *again == *strict);
  } else {
    BK_FUZZ_CHECK(!strict.status().message().empty());
  }
  if (lenient.present()) {
    BK_FUZZ_CHECK(lenient.klass == 2 || lenient.klass == 4 || lenient.klass == 5);
    BK_FUZZ_CHECK(lenient.subject >= 0 && lenient.subject <= 999);
    BK_FUZZ_CHECK(lenient.detail >= 0 && lenient.detail <= 999);
  }
  bouncekit::StatusDescription d = bouncekit::DescribeStatus(lenient);
  BK_FUZZ_CHECK(lenient.present() || !d.registered);

  std::optional<int> code = bouncekit::ParseReplyCode(text);
  if (code.has_value()) BK_FUZZ_CHECK(bouncekit::IsValidReplyCode(*code));

  bouncekit::TextCodes found = bouncekit::FindCodesInText(text);
  if (found.reply_code != 0) {
    BK_FUZZ_CHECK(found.reply_code >= 200 && found.reply_code <= 599);
    BK_FUZZ_CHECK(found.reply_code_pos >= 0 &&
                  static_cast<size_t>(found.reply_code_pos) + 3 <= size);
    const std::string digits = std::to_string(found.reply_code);
    BK_FUZZ_CHECK(text.substr(found.reply_code_pos, 3) == digits);
  } else {
    BK_FUZZ_CHECK(found.reply_code_pos == -1);
  }
  if (found.status.present()) {
    BK_FUZZ_CHECK(found.status_pos >= 0 && static_cast<size_t>(found.status_pos) < size);
    // The status found parses leniently at its position (up to its last
    // digit, whatever follows it).
    const std::string printed = found.status.ToString();
    const absl::string_view at = text.substr(found.status_pos);
    EnhancedStatus reparsed = bouncekit::ParseEnhancedStatusLenient(at.substr(0, printed.size()));
    // Leading zeros ("5.01.1") print shorter than written; compare values
    // only when the text is the canonical spelling.
    if (at.substr(0, printed.size()) == printed) BK_FUZZ_CHECK(reparsed == found.status);
    BK_FUZZ_CHECK(at[0] == '0' + found.status.klass);
  } else {
    BK_FUZZ_CHECK(found.status_pos == -1);
  }
  return 0;
}
