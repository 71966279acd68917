// Copyright 2026 The bouncekit authors.

#include "bouncekit/maillog.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bouncekit/error_location.h"
#include "internal/ascii.h"

namespace bouncekit {
namespace {

absl::string_view Trim(absl::string_view s) { return internal::TrimAscii(s); }

}  // namespace

struct QueueInfo {
  std::string sender;
  std::string message_id;
};

// The sender and message id of the queues seen, by queue id, in two
// generations of at most max/2 each: when the newer one fills, the older
// is dropped and the newer takes its place. So a log whose queues never end
// (no "removed" / "Completed" lines: filtered, or cut) keeps at most `max`
// of them, the most recent, and a lookup still finds a queue for at least
// max/2 new queues after its lines.
class QueueMap {
 public:
  explicit QueueMap(size_t max) : half_(std::max<size_t>(max / 2, 1)) {}
  QueueInfo& Upsert(const std::string& id) {
    if (auto it = young_.find(id); it != young_.end()) return it->second;
    if (young_.size() >= half_) {
      old_ = std::move(young_);
      young_.clear();
    }
    QueueInfo& q = young_[id];
    // A queue of the older generation moves up, keeping what it had.
    if (auto it = old_.find(id); it != old_.end()) {
      q = std::move(it->second);
      old_.erase(it);
    }
    return q;
  }
  const QueueInfo* Find(const std::string& id) const {
    if (auto it = young_.find(id); it != young_.end()) return &it->second;
    if (auto it = old_.find(id); it != old_.end()) return &it->second;
    return nullptr;
  }
  void Erase(const std::string& id) {
    young_.erase(id);
    old_.erase(id);
  }
  size_t size() const { return young_.size() + old_.size(); }

 private:
  size_t half_;
  absl::flat_hash_map<std::string, QueueInfo> young_, old_;
};

namespace {

// Value of "key=" up to ',' (or the end); `<...>` stripped.
std::string KeyValue(absl::string_view s, absl::string_view key) {
  size_t pos = 0;
  while (true) {
    size_t k = s.find(key, pos);
    if (k == absl::string_view::npos) return std::string();
    if (k > 0 && s[k - 1] != ' ' && s[k - 1] != ',') {
      pos = k + 1;
      continue;
    }
    size_t b = k + key.size();
    size_t e;
    if (b < s.size() && s[b] == '<') {
      e = s.find('>', b);
      if (e == absl::string_view::npos) return std::string(s.substr(b + 1));
      return std::string(s.substr(b + 1, e - b - 1));
    }
    e = s.find_first_of(", ", b);
    return std::string(s.substr(b, e == absl::string_view::npos ? e : e - b));
  }
}

// Leading timestamp of a syslog line: "Mon DD HH:MM:SS" or an ISO 8601 token.
std::string LineTime(absl::string_view line) {
  if (line.size() >= 15 && absl::ascii_isalpha(line[0]) && line[3] == ' ' &&
      line[9] == ':' && line[12] == ':') {
    return std::string(line.substr(0, 15));
  }
  size_t sp = line.find(' ');
  absl::string_view first = line.substr(0, sp);
  if (first.size() >= 10 && absl::ascii_isdigit(first[0]) && first[4] == '-') {
    // Exim: "2024-01-01 12:00:00"; syslog RFC 5424: "2024-01-01T12:00:00+00:00"
    if (first.size() == 10 && sp != absl::string_view::npos && line.size() >= sp + 9 &&
        line[sp + 3] == ':') {
      return std::string(line.substr(0, sp + 9));
    }
    return std::string(first);
  }
  return std::string();
}

bool IsEximId(absl::string_view t) {
  // 1P1cqy-0001Tl-9p (6-6-2) or the newer 6-11-4 form.
  if (t.size() != 16 && t.size() != 23) return false;
  if (t[6] != '-') return false;
  size_t second = t.find('-', 7);
  return second != absl::string_view::npos && (second == 13 || second == 18);
}

class LogReader {
 public:
  LogReader(absl::string_view format, QueueMap* queues) : format_(format), queue_(*queues) {}

  void Line(absl::string_view raw, int64_t index, ParseBatch* out) {
    ++out->records;
    absl::string_view line = Trim(raw);
    bool postfix = format_ == "postfix" ||
                   (format_ == "auto" && absl::StrContains(line, "postfix"));
    bool handled = false;
    if (postfix) {
      handled = Postfix(line, index, out);
    } else if (format_ == "exim" || format_ == "auto") {
      handled = Exim(line, index, out);
    }
    if (!handled) ++out->records_skipped;
  }

 private:
  void Error(int64_t index, std::string msg, ParseBatch* out) {
    out->errors.push_back({index, 0, "INVALID_ARGUMENT", std::move(msg)});
  }

  bool Postfix(absl::string_view line, int64_t index, ParseBatch* out) {
    // "... postfix/smtp[123]: 3F1A2B: to=<...>, ..."
    size_t tag = line.find("]: ");
    if (tag == absl::string_view::npos) return false;
    absl::string_view rest = line.substr(tag + 3);
    size_t colon = rest.find(": ");
    if (colon == absl::string_view::npos || colon > 40) return false;
    std::string qid(rest.substr(0, colon));
    for (char c : qid) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) return false;
    }
    absl::string_view body = rest.substr(colon + 2);
    if (absl::StartsWith(body, "message-id=")) {
      queue_.Upsert(qid).message_id = KeyValue(body, "message-id=");
      return false;
    }
    if (absl::StartsWith(body, "from=<")) {
      queue_.Upsert(qid).sender = KeyValue(body, "from=");
      return false;
    }
    if (absl::StartsWith(body, "removed")) {
      queue_.Erase(qid);
      return false;
    }
    std::string status = KeyValue(body, "status=");
    if (status.empty() || status == "sent" || status == "deliverable") return false;
    ++out->records_with_events;  // counted now; undone below on error
    BounceEvent e;
    e.record = index;
    e.source_format = "postfix";
    if (absl::StartsWith(body, "to=")) e.recipient = absl::AsciiStrToLower(KeyValue(body, "to="));
    if (e.recipient.empty()) {
      --out->records_with_events;
      Error(index, "Postfix delivery line without a recipient (to=<...>)", out);
      return true;
    }
    e.time = LineTime(line);
    e.message_id = qid;
    if (const QueueInfo* q = queue_.Find(qid)) {
      e.sender = q->sender;
      if (!q->message_id.empty()) e.message_id = q->message_id;
    }
    e.enhanced_status = KeyValue(body, "dsn=");
    std::string relay = KeyValue(body, "relay=");
    size_t br = relay.find('[');
    e.remote_host = absl::AsciiStrToLower(relay.substr(0, br));
    if (e.remote_host == "none") e.remote_host.clear();
    size_t st = body.find("status=");
    size_t paren = body.find('(', st);
    if (paren != absl::string_view::npos) {
      absl::string_view text = body.substr(paren + 1);
      if (!text.empty() && text.back() == ')') text.remove_suffix(1);
      e.diagnostic = std::string(Trim(text));
    }
    if (status == "deferred") {
      e.kind = "delay";
      e.action = "delayed";
    } else {
      e.kind = "bounce";
      e.action = "failed";
      if (status == "expired") e.diagnostic = absl::StrCat("expired: ", e.diagnostic);
    }
    e.diagnostic_type = "x-postfix";
    e.reply_code = scan::FindReplyCode(e.diagnostic);
    e.smtp_command = scan::FindSmtpCommand(e.diagnostic);
    out->events.push_back(std::move(e));
    return true;
  }

  bool Exim(absl::string_view line, int64_t index, ParseBatch* out) {
    // "2024-01-01 12:00:00 [pid] ID ** rcpt <orig> R=... T=... H=host [ip]: text"
    std::vector<absl::string_view> tok;
    size_t pos = 0;
    while (pos < line.size() && tok.size() < 6) {
      size_t e = line.find(' ', pos);
      if (e == absl::string_view::npos) e = line.size();
      if (e > pos) tok.push_back(line.substr(pos, e - pos));
      pos = e + 1;
    }
    size_t k = 0;
    while (k < tok.size() && !IsEximId(tok[k])) ++k;
    if (k + 1 < tok.size() && k <= 3 && tok[k + 1] == "Completed") {
      // "ID Completed": the message is done (its id is not used again).
      queue_.Erase(std::string(tok[k]));
      return false;
    }
    if (k >= tok.size() || k > 3 || k + 2 >= tok.size()) return false;
    std::string id(tok[k]);
    absl::string_view flag = tok[k + 1];
    size_t after_flag = static_cast<size_t>(flag.data() + flag.size() - line.data()) + 1;
    absl::string_view rest = after_flag < line.size() ? line.substr(after_flag) : absl::string_view();
    if (flag == "<=") {
      QueueInfo& q = queue_.Upsert(id);
      q.sender = absl::AsciiStrToLower(tok[k + 2]);
      if (q.sender == "<>") q.sender.clear();
      q.message_id = KeyValue(rest, "id=");
      return false;
    }
    if (flag != "**" && flag != "==") return false;
    ++out->records_with_events;
    BounceEvent e;
    e.record = index;
    e.source_format = "exim";
    auto addrs = scan::FindAddresses(rest.substr(0, rest.find(' ')), true);
    if (addrs.empty()) {
      --out->records_with_events;
      Error(index, "Exim delivery line without a recipient address", out);
      return true;
    }
    e.recipient = addrs.front().address;
    e.time = LineTime(line);
    e.message_id = id;
    if (const QueueInfo* q = queue_.Find(id)) {
      e.sender = q->sender;
      if (!q->message_id.empty()) e.message_id = q->message_id;
    }
    std::string host = KeyValue(rest, "H=");
    e.remote_host = absl::AsciiStrToLower(host);
    // The text after the routing fields: after "]: " (host [ip]: text) or ": ".
    size_t t = rest.find("]: ");
    if (t != absl::string_view::npos) {
      e.diagnostic = std::string(Trim(rest.substr(t + 3)));
    } else {
      size_t c = rest.find(": ");
      e.diagnostic = c == absl::string_view::npos ? std::string(rest)
                                                  : std::string(Trim(rest.substr(c + 2)));
    }
    if (flag == "==") {
      e.kind = "delay";
      e.action = "delayed";
    } else {
      e.kind = "bounce";
      e.action = "failed";
    }
    e.reply_code = scan::FindReplyCode(e.diagnostic);
    e.enhanced_status = scan::FindEnhancedStatus(e.diagnostic);
    e.smtp_command = scan::FindSmtpCommand(e.diagnostic);
    out->events.push_back(std::move(e));
    return true;
  }

  std::string format_;
  QueueMap& queue_;
};

}  // namespace

absl::Status CheckLogFormat(absl::string_view format) {
  if (format == "auto" || format == "postfix" || format == "exim") return absl::OkStatus();
  return WithField(absl::InvalidArgumentError(absl::StrCat("format must be one of 'auto', 'postfix', 'exim', not '",
                                                           format, "'")),
                   "format");
}

MailLogReader::MailLogReader(absl::string_view format, size_t max_queues)
    : format_(format), queues_(std::make_unique<QueueMap>(max_queues)) {}
MailLogReader::~MailLogReader() = default;

ParseBatch MailLogReader::Read(const std::vector<absl::string_view>& lines) {
  ParseBatch out;
  LogReader reader(format_, queues_.get());
  for (size_t i = 0; i < lines.size(); ++i) reader.Line(lines[i], static_cast<int64_t>(i), &out);
  return out;
}

size_t MailLogReader::queues() const { return queues_->size(); }

ParseBatch ParseMailLog(const std::vector<absl::string_view>& lines, absl::string_view format) {
  return MailLogReader(format).Read(lines);
}

}  // namespace bouncekit
