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
#include "absl/types/span.h"
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

// Receives each e-mail's events as soon as the e-mail is read (the
// ParseBounceEmails overload below).
class EmailEventSink {
 public:
  virtual ~EmailEventSink() = default;
  // The events of one e-mail (each with its `record`), valid during the
  // call only. `message_id`, `time` and `sender` are the e-mail's shared
  // values (RecordFields), which an event's empty field stands for when
  // the options share record fields.
  virtual void Take(absl::Span<const BounceEvent> events, absl::string_view message_id, absl::string_view time,
                    absl::string_view sender) = 0;
};

// ParseBounceEmails for a caller that copies the events out (into columns,
// say) and keeps no BounceEvent: each e-mail's events go to `sink` (when
// it has any), and the reader then reuses them, strings and all, for the
// next e-mail's, so their fields are written into buffers that are already
// there rather than into new heap strings, and no batch of events is freed
// at the end. The result holds the errors and the counts, no events and no
// shared fields.
ParseBatch ParseBounceEmails(const std::vector<absl::string_view>& records, const EmailParseOptions& options,
                             EmailEventSink* sink);

}  // namespace bouncekit

#endif  // BOUNCEKIT_DSN_H_
