// Copyright 2026 The bouncekit authors.
//
// bouncekit's bounce taxonomy: the classes (what the result means for the
// address), the categories (why it happened), who is to blame, and the
// mappings of each category to Sisimai reasons, Amazon SES bounce types and
// SparkPost bounce classes. The full table with descriptions is documented in
// README.md ("Taxonomy", generated from Categories(); a test keeps it in sync).

#ifndef BOUNCEKIT_TAXONOMY_H_
#define BOUNCEKIT_TAXONOMY_H_

#include <cstdint>
#include <optional>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace bouncekit {

// What a result means for the recipient address.
enum class BounceClass : uint8_t {
  kDelivered = 0,
  kSoft = 1,          // temporary: the address is fine, try again later
  kHard = 2,          // the address is permanently bad
  kBlock = 3,         // refused because of the sender or the message
  kComplaint = 4,     // feedback-loop / abuse report
  kAutoReply = 5,     // vacation, out of office, challenge-response
  kUndetermined = 6,  // nothing known fits
};
inline constexpr int kNumBounceClasses = 7;
absl::string_view BounceClassName(BounceClass c);
// Accepts the names above and "unknown" (a synonym of "undetermined").
std::optional<BounceClass> ParseBounceClass(absl::string_view name);

// Who has to act for the problem to go away.
enum class Blame : uint8_t {
  kRecipient = 0,       // the address or mailbox
  kMessage = 1,         // this message's size, content, format
  kSender = 2,          // sending IP/domain: reputation, authentication, policy
  kInfrastructure = 3,  // networks, DNS, servers on either side
  kUnknown = 4,
};
inline constexpr int kNumBlames = 5;
absl::string_view BlameName(Blame b);
std::optional<Blame> ParseBlame(absl::string_view name);

// Whether a category's failure is worth retrying.
enum class Retry : uint8_t {
  kYes,     // retrying the same message can succeed
  kNo,      // it cannot (the address, the message or the sender must change)
  kByCode,  // follows the reply class: 4xx/4.x.x yes, 5xx/5.x.x no
};

// Amazon SES bounce type / subtype (SNS and event-publishing payloads).
struct SesBounce {
  absl::string_view type;     // Undetermined | Permanent | Transient
  absl::string_view subtype;  // General | NoEmail | MailboxFull | ...
};

struct CategoryInfo {
  absl::string_view name;
  BounceClass default_class;
  Blame blame;
  Retry retry;
  absl::string_view sisimai_reason;  // Sisimai 5 reason name
  // SES type for this category; "" = by reply class (Permanent for 5xx,
  // Transient for 4xx, Undetermined without a code).
  absl::string_view ses_type;
  absl::string_view ses_subtype;
  int16_t sparkpost_class;  // SparkPost bounce classification; 0 = none
  absl::string_view group;  // recipient | message | sender | infrastructure | outcome | unknown
  absl::string_view description;
};

// Every built-in category, in a stable order (the order of the docs).
absl::Span<const CategoryInfo> Categories();
// nullptr when `name` is not a built-in category.
const CategoryInfo* FindCategory(absl::string_view name);

// SES mapping of a classified result. For categories with a fixed SES type
// the table decides; otherwise the reply class does.
SesBounce MapToSes(const CategoryInfo* category, BounceClass bounce_class,
                   int reply_class);

// SparkPost class for a result (falls back on the bounce class for categories
// outside the taxonomy).
int MapToSparkPost(const CategoryInfo* category, BounceClass bounce_class,
                   int reply_class);

}  // namespace bouncekit

#endif  // BOUNCEKIT_TAXONOMY_H_
