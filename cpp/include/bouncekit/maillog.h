// Copyright 2026 The bouncekit authors.
//
// MTA log lines -> events.
//  * Postfix: delivery agent lines "QID: to=<rcpt>, relay=..., dsn=X.Y.Z,
//    status=bounced|deferred|expired (text)"; qmgr "QID: from=<sender>" and
//    cleanup "QID: message-id=<id>" lines are joined by queue id so that each
//    event carries its sender and message id (reassembly across lines).
//  * Exim main log: "** rcpt ... : text" (failed), "== rcpt ... defer ..."
//    (deferred); "<=" arrival lines give sender and id= by message id.
// One record = one line. Lines that are not deliveries (connects, "sent",
// daemon messages) are counted as skipped; a delivery line that cannot be
// read (no recipient) is an error. Linear time; no regular expressions.

#ifndef BOUNCEKIT_MAILLOG_H_
#define BOUNCEKIT_MAILLOG_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "bouncekit/parse.h"

namespace bouncekit {

// format: "auto" (per line), "postfix" or "exim". Events carry
// record = line index, offset = 0.
// OK for those three formats; InvalidArgument (field "format") for any
// other, which every reader here would take as "no line is a delivery".
absl::Status CheckLogFormat(absl::string_view format);
ParseBatch ParseMailLog(const std::vector<absl::string_view>& lines, absl::string_view format);

class QueueMap;

// ParseMailLog for a log read in batches of lines: the queues seen (sender
// and message id by queue id) are kept from one batch to the next, so a
// delivery line is joined to its queue's earlier lines wherever the batches
// were cut. A queue is forgotten at its "removed" (Postfix) or "Completed"
// (Exim) line; at most `max_queues` are kept (the most recent: see
// QueueMap in maillog.cc), so memory stays bounded on logs whose queues
// never end.
class MailLogReader {
 public:
  explicit MailLogReader(absl::string_view format, size_t max_queues = size_t{1} << 20);
  ~MailLogReader();
  MailLogReader(const MailLogReader&) = delete;
  MailLogReader& operator=(const MailLogReader&) = delete;

  // The next batch: events and errors with record = index in `lines`.
  ParseBatch Read(const std::vector<absl::string_view>& lines);
  // Queues kept now (tests).
  size_t queues() const;

 private:
  std::string format_;
  std::unique_ptr<QueueMap> queues_;
};

}  // namespace bouncekit

#endif  // BOUNCEKIT_MAILLOG_H_
