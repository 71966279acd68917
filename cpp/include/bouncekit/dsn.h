// Copyright 2026 The bouncekit authors.
//
// Bounce e-mails -> events. Reads, in this order:
//  * RFC 3464 delivery status notifications (message/delivery-status and
//    message/global-delivery-status parts, per-recipient field groups with
//    folded lines), one event per recipient;
//  * ARF feedback reports (RFC 5965, message/feedback-report) and
//    non-standard abuse reports -> `complaint` events;
//  * RFC 3834 automatic replies -> `auto_reply` events;
//  * bounces without a DSN part (qmail, Exim, Postfix without DSN, Sendmail,
//    Exchange, Gmail, Yahoo, ...): the human-readable part is scanned for the
//    failed recipients (address lines, X-Failed-Recipients, or the attached
//    original's To) and the text around each is taken as its diagnostic.
// Linear time in the input size; never throws.

#ifndef BOUNCEKIT_DSN_H_
#define BOUNCEKIT_DSN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bouncekit/parse.h"

namespace bouncekit {

struct EmailParseOptions {
  // Larger e-mails are refused (ResourceExhausted), not parsed.
  int64_t max_bytes = 32 << 20;
  int max_depth = 24;
  // Events per e-mail at most (a report listing thousands of recipients is
  // cut there; the rest is reported as an error by the batch reader).
  int max_recipients = 10000;
  // Batch reader only: keep each e-mail's Message-ID (of the original),
  // date and sender once in ParseBatch::shared instead of copying them into
  // each of its events (which then leave them empty; see RecordFields).
  bool share_record_fields = false;
};

// Events of one e-mail. Errors: ResourceExhausted (too large),
// InvalidArgument (not an e-mail: binary data, no header block), NotFound
// (an e-mail, but no failed recipient, complaint or auto-reply in it).
absl::StatusOr<std::vector<BounceEvent>> ParseBounceEmail(
    absl::string_view raw, const EmailParseOptions& options = {});

// Many e-mails; one bad record never stops the others. Events carry
// `record` = position in `records`.
ParseBatch ParseBounceEmails(const std::vector<absl::string_view>& records,
                             const EmailParseOptions& options = {});

}  // namespace bouncekit

#endif  // BOUNCEKIT_DSN_H_
