// Copyright 2026 The bouncekit authors.
//
// The event every bounce reader produces (DSN e-mails, MTA logs, ESP JSON),
// the per-record errors, and a few text scanners shared by the readers.
// Every event keeps a pointer to its source: a record number (file, line or
// JSON object, numbered by the caller) and a byte offset inside it.

#ifndef BOUNCEKIT_PARSE_H_
#define BOUNCEKIT_PARSE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace bouncekit {

struct BounceEvent {
  int64_t record = 0;       // index of the input record (set by batch callers)
  int64_t offset = 0;       // byte offset inside the record (or line number for logs)
  std::string kind;         // bounce | delay | delivered | complaint | auto_reply
  std::string recipient;
  std::string time;         // as written in the source (RFC 5322 date, ISO 8601, epoch)
  std::string message_id;   // original message id (or MTA queue id / ESP id)
  int reply_code = 0;       // 0 when none
  std::string enhanced_status;
  std::string diagnostic;
  std::string diagnostic_type;  // smtp, x-postfix, ...
  std::string action;       // DSN action: failed, delayed, delivered, ...
  std::string remote_host;
  std::string smtp_command; // RCPT, MAIL, DATA, HELO, ...
  std::string source_format;  // dsn, heuristic:<style>, arf, rfc3834, postfix, exim, ses, ...
  std::string sender;       // envelope or header sender when known
  std::string campaign;     // campaign / tag when the source carries one
  // The ESP's own classification, kept next to bouncekit's.
  std::string esp_event;    // the ESP's event name (bounce, dropped, Permanent, ...)
  std::string esp_class;    // the ESP's bounce type / class
  std::string esp_subclass; // the ESP's sub-type
};

struct RecordError {
  int64_t record = 0;
  int64_t offset = 0;
  std::string code;     // absl status code name
  std::string message;
};

// Values an e-mail's events share (the original's Message-ID and sender,
// the bounce's date), kept once per record in one buffer when the reader is
// asked to (EmailParseOptions::share_record_fields): the events then leave
// those fields empty where they would hold a copy of the shared value: two
// or three heap strings less per event.
struct RecordFields {
  enum Field { kMessageId = 0, kTime = 1, kSender = 2 };
  std::string text;
  // Per record four offsets into `text`: where each field starts, and the
  // end of the last one.
  std::vector<size_t> bounds;
  bool empty() const { return bounds.empty(); }
  // The field of record `record` (which must have been added).
  absl::string_view Get(int64_t record, Field field) const {
    const size_t* b = &bounds[static_cast<size_t>(record) * 4 + static_cast<size_t>(field)];
    return absl::string_view(text.data() + b[0], b[1] - b[0]);
  }
  void Add(absl::string_view message_id, absl::string_view time, absl::string_view sender) {
    for (absl::string_view v : {message_id, time, sender}) {
      bounds.push_back(text.size());
      text.append(v.data(), v.size());
    }
    bounds.push_back(text.size());
  }
};

struct ParseBatch {
  std::vector<BounceEvent> events;
  std::vector<RecordError> errors;
  // Filled only by readers asked to share per-record fields (see RecordFields):
  // then an event's empty message_id, time or sender means its record's.
  RecordFields shared;
  int64_t records = 0;             // records read
  int64_t records_with_events = 0; // records that produced >= 1 event
  int64_t records_skipped = 0;     // records with nothing to report (log noise, opens)
};

namespace scan {

// First SMTP reply code ([245]xx, not part of a longer number or an IP
// address) in `text`; 0 when none.
int FindReplyCode(absl::string_view text);
// First enhanced status (class.subject.detail, class 2/4/5) in `text`.
std::string FindEnhancedStatus(absl::string_view text);
// Both in one pass: *code = FindReplyCode(text), *status =
// FindEnhancedStatus(text).
void FindCodes(absl::string_view text, int* code, std::string* status);
// SMTP command named in a diagnostic ("in reply to RCPT TO command",
// "after end of data", "[RCPT_TO]"): RCPT, MAIL, DATA, HELO or "".
std::string FindSmtpCommand(absl::string_view text);
// Host named as "host NAME[ip]" / "host NAME [ip]" / "by NAME." or "".
std::string FindRemoteHost(absl::string_view text);
// Collapses runs of whitespace (incl. line breaks) to one space and trims.
std::string CollapseSpace(absl::string_view text);
// The same into `*out` (replaced; its buffer is reused). `text` must not
// view `*out`.
void CollapseSpaceInto(absl::string_view text, std::string* out);
// Is `c` allowed in an address local part / domain (scanner's view)?
bool IsLocalChar(char c);
bool IsDomainChar(char c);
// Every address-like token user@domain.tld in `text`, in order, with the
// offset where it starts. Lower-cased. The domain must contain a dot
// unless `allow_dotless` (DSN fields may name local hosts: user@mailhub).
struct AddressHit {
  std::string address;
  size_t offset;
};
std::vector<AddressHit> FindAddresses(absl::string_view text, bool allow_dotless = false);

}  // namespace scan
}  // namespace bouncekit

#endif  // BOUNCEKIT_PARSE_H_
