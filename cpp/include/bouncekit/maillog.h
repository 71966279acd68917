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

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "bouncekit/parse.h"

namespace bouncekit {

// format: "auto" (per line), "postfix" or "exim". Events carry
// record = line index, offset = 0.
ParseBatch ParseMailLog(const std::vector<absl::string_view>& lines, absl::string_view format);

}  // namespace bouncekit

#endif  // BOUNCEKIT_MAILLOG_H_
