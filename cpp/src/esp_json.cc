// Copyright 2026 The bouncekit authors.

#include "bouncekit/esp_json.h"
#include "internal/utf8.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bouncekit/error_location.h"

namespace bouncekit {
namespace {

class JsonParser {
 public:
  JsonParser(absl::string_view s, int max_depth) : s_(s), max_depth_(max_depth) {}

  absl::StatusOr<JsonValue> Document() {
    JsonValue v;
    if (absl::Status st = Value(&v, 0); !st.ok()) return st;
    Ws();
    if (i_ != s_.size()) return Error("unexpected data after the JSON value");
    return v;
  }

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON at byte ", i_, ": ", what));
  }
  void Ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool Lit(absl::string_view lit) {
    if (s_.substr(i_, lit.size()) != lit) return false;
    i_ += lit.size();
    return true;
  }

  absl::Status Value(JsonValue* v, int depth) {
    if (depth > max_depth_) return Error("nesting too deep");
    Ws();
    if (i_ >= s_.size()) return Error("unexpected end of input");
    char c = s_[i_];
    if (c == '{') {
      v->type = JsonValue::Type::kObject;
      ++i_;
      Ws();
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return absl::OkStatus();
      }
      while (true) {
        Ws();
        if (i_ >= s_.size() || s_[i_] != '"') return Error("expected a member name");
        std::string key;
        if (absl::Status st = String(&key); !st.ok()) return st;
        Ws();
        if (i_ >= s_.size() || s_[i_] != ':') return Error("expected ':'");
        ++i_;
        JsonValue child;
        if (absl::Status st = Value(&child, depth + 1); !st.ok()) return st;
        v->members.push_back(JsonMember{std::move(key), std::move(child)});
        Ws();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < s_.size() && s_[i_] == '}') {
          ++i_;
          return absl::OkStatus();
        }
        return Error("expected ',' or '}'");
      }
    }
    if (c == '[') {
      v->type = JsonValue::Type::kArray;
      ++i_;
      Ws();
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return absl::OkStatus();
      }
      while (true) {
        JsonValue child;
        if (absl::Status st = Value(&child, depth + 1); !st.ok()) return st;
        v->items.push_back(std::move(child));
        Ws();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < s_.size() && s_[i_] == ']') {
          ++i_;
          return absl::OkStatus();
        }
        return Error("expected ',' or ']'");
      }
    }
    if (c == '"') {
      v->type = JsonValue::Type::kString;
      return String(&v->text);
    }
    if (Lit("true")) {
      v->type = JsonValue::Type::kBool;
      v->boolean = true;
      return absl::OkStatus();
    }
    if (Lit("false")) {
      v->type = JsonValue::Type::kBool;
      return absl::OkStatus();
    }
    if (Lit("null")) return absl::OkStatus();
    if (c == '-' || (c >= '0' && c <= '9')) {
      size_t b = i_;
      if (s_[i_] == '-') ++i_;
      size_t digits = i_;
      while (i_ < s_.size() && absl::ascii_isdigit(s_[i_])) ++i_;
      if (i_ == digits) return Error("bad number");
      if (i_ < s_.size() && s_[i_] == '.') {
        ++i_;
        size_t f = i_;
        while (i_ < s_.size() && absl::ascii_isdigit(s_[i_])) ++i_;
        if (i_ == f) return Error("bad number");
      }
      if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
        ++i_;
        if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
        size_t f = i_;
        while (i_ < s_.size() && absl::ascii_isdigit(s_[i_])) ++i_;
        if (i_ == f) return Error("bad number");
      }
      v->type = JsonValue::Type::kNumber;
      v->text = std::string(s_.substr(b, i_ - b));
      return absl::OkStatus();
    }
    return Error("unexpected character");
  }

  bool Hex4(uint32_t* out) {
    if (i_ + 4 > s_.size()) return false;
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_ + k];
      int d = (c >= '0' && c <= '9') ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (d < 0) return false;
      v = v * 16 + static_cast<uint32_t>(d);
    }
    i_ += 4;
    *out = v;
    return true;
  }

  absl::Status String(std::string* out) {
    ++i_;  // opening quote
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '"') {
        ++i_;
        return absl::OkStatus();
      }
      if (static_cast<unsigned char>(c) < 0x20) return Error("control character in a string");
      if (c != '\\') {
        out->push_back(c);
        ++i_;
        continue;
      }
      ++i_;
      if (i_ >= s_.size()) break;
      char e = s_[i_++];
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(&cp)) return Error("bad \\u escape");
          if (cp >= 0xD800 && cp < 0xDC00 && i_ + 1 < s_.size() && s_[i_] == '\\' &&
              s_[i_ + 1] == 'u') {
            i_ += 2;
            uint32_t lo = 0;
            if (!Hex4(&lo)) return Error("bad \\u escape");
            if (lo >= 0xDC00 && lo < 0xE000) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          internal::AppendUtf8(cp, out);
          break;
        }
        default:
          return Error("bad escape");
      }
    }
    return Error("unterminated string");
  }

  absl::string_view s_;
  size_t i_ = 0;
  int max_depth_;
};

std::string Lower(absl::string_view s) { return absl::AsciiStrToLower(s); }

std::string TextAt(const JsonValue* v, absl::string_view key) {
  if (v == nullptr) return std::string();
  const JsonValue* c = v->Get(key);
  return c ? c->AsText() : std::string();
}

void FromDiagnostic(BounceEvent* e) {
  // "smtp; 550 5.1.1 user unknown" -> type + text
  size_t semi = e->diagnostic.find(';');
  if (semi != std::string::npos && semi <= 12 && e->diagnostic_type.empty()) {
    e->diagnostic_type = Lower(absl::StripAsciiWhitespace(e->diagnostic.substr(0, semi)));
    e->diagnostic = std::string(absl::StripAsciiWhitespace(e->diagnostic.substr(semi + 1)));
  }
  if (e->reply_code == 0) e->reply_code = scan::FindReplyCode(e->diagnostic);
  if (e->enhanced_status.empty()) e->enhanced_status = scan::FindEnhancedStatus(e->diagnostic);
  if (e->smtp_command.empty()) e->smtp_command = scan::FindSmtpCommand(e->diagnostic);
}

int ToInt(const std::string& s) {
  int v = 0;
  return absl::SimpleAtoi(s, &v) ? v : 0;
}

// ------------------------------------------------------------------- SES
absl::Status Ses(const JsonValue& root, std::vector<BounceEvent>* out, int64_t* skipped) {
  const JsonValue* doc = &root;
  JsonValue inner;
  // SNS envelope: {"Type": "Notification", "Message": "<json>"}.
  if (const JsonValue* m = root.Get("Message"); m && m->type == JsonValue::Type::kString) {
    auto parsed = ParseJson(m->text);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("SNS Message field is not JSON: ", parsed.status().message()));
    }
    inner = std::move(*parsed);
    doc = &inner;
  }
  std::string type = TextAt(doc, "notificationType");
  if (type.empty()) type = TextAt(doc, "eventType");
  const JsonValue* mail = doc->Get("mail");
  std::string message_id = TextAt(mail, "messageId");
  std::string sender = TextAt(mail, "source");
  std::string lt = Lower(type);
  // Every SES record kind lists its recipients in an array of one section.
  const JsonValue* section = nullptr;
  auto recipients = [&](const char* section_name, const char* list_name,
                        absl::string_view what) -> absl::StatusOr<const JsonValue*> {
    section = doc->Get(section_name);
    const JsonValue* list = section ? section->Get(list_name) : nullptr;
    if (list == nullptr || list->type != JsonValue::Type::kArray) {
      return absl::InvalidArgumentError(absl::StrCat("SES ", what, " without ", section_name, ".",
                                                     list_name, "[]"));
    }
    return list;
  };
  // The fields every SES event shares.
  auto ses_event = [&](const char* kind) {
    BounceEvent e;
    e.kind = kind;
    e.source_format = "ses";
    e.message_id = message_id;
    e.sender = sender;
    e.esp_event = type;
    return e;
  };
  if (lt == "bounce") {
    absl::StatusOr<const JsonValue*> list = recipients("bounce", "bouncedRecipients", "bounce");
    if (!list.ok()) return list.status();
    for (const JsonValue& r : (*list)->items) {
      BounceEvent e = ses_event("bounce");
      e.recipient = Lower(TextAt(&r, "emailAddress"));
      e.action = Lower(TextAt(&r, "action"));
      e.enhanced_status = TextAt(&r, "status");
      e.diagnostic = TextAt(&r, "diagnosticCode");
      e.time = TextAt(section, "timestamp");
      e.remote_host = TextAt(section, "remoteMtaIp");
      e.esp_class = TextAt(section, "bounceType");
      e.esp_subclass = TextAt(section, "bounceSubType");
      if (e.action.empty()) e.action = "failed";
      if (e.recipient.empty()) return absl::InvalidArgumentError("SES bounced recipient without emailAddress");
      FromDiagnostic(&e);
      out->push_back(std::move(e));
    }
    return absl::OkStatus();
  }
  if (lt == "complaint") {
    absl::StatusOr<const JsonValue*> list = recipients("complaint", "complainedRecipients", "complaint");
    if (!list.ok()) return list.status();
    for (const JsonValue& r : (*list)->items) {
      BounceEvent e = ses_event("complaint");
      e.recipient = Lower(TextAt(&r, "emailAddress"));
      e.time = TextAt(section, "timestamp");
      e.esp_class = TextAt(section, "complaintFeedbackType");
      e.esp_subclass = TextAt(section, "complaintSubType");
      e.diagnostic = "complaint";
      out->push_back(std::move(e));
    }
    return absl::OkStatus();
  }
  if (lt == "deliverydelay") {
    absl::StatusOr<const JsonValue*> list = recipients("deliveryDelay", "delayedRecipients", "DeliveryDelay");
    if (!list.ok()) return list.status();
    for (const JsonValue& r : (*list)->items) {
      BounceEvent e = ses_event("delay");
      e.action = "delayed";
      e.recipient = Lower(TextAt(&r, "emailAddress"));
      e.enhanced_status = TextAt(&r, "status");
      e.diagnostic = TextAt(&r, "diagnosticCode");
      e.time = TextAt(section, "timestamp");
      e.esp_class = TextAt(section, "delayType");
      FromDiagnostic(&e);
      out->push_back(std::move(e));
    }
    return absl::OkStatus();
  }
  if (lt == "delivery") {
    absl::StatusOr<const JsonValue*> list = recipients("delivery", "recipients", "Delivery");
    if (!list.ok()) return list.status();
    for (const JsonValue& r : (*list)->items) {
      BounceEvent e = ses_event("delivered");
      e.action = "delivered";
      e.recipient = Lower(r.AsText());
      e.diagnostic = TextAt(section, "smtpResponse");
      e.remote_host = Lower(TextAt(section, "reportingMTA"));
      e.time = TextAt(section, "timestamp");
      FromDiagnostic(&e);
      out->push_back(std::move(e));
    }
    return absl::OkStatus();
  }
  if (lt.empty()) return absl::InvalidArgumentError("SES record without notificationType/eventType");
  ++*skipped;  // Delivery, Send, Open, Click, ...
  return absl::OkStatus();
}

// -------------------------------------------------------------- SendGrid
absl::Status SendGridOne(const JsonValue& r, std::vector<BounceEvent>* out, int64_t* skipped) {
  std::string ev = Lower(TextAt(&r, "event"));
  std::string email = Lower(TextAt(&r, "email"));
  if (ev.empty() || email.empty()) {
    return absl::InvalidArgumentError("SendGrid event without 'event' or 'email'");
  }
  BounceEvent e;
  e.source_format = "sendgrid";
  e.recipient = email;
  e.time = TextAt(&r, "timestamp");
  e.message_id = TextAt(&r, "sg_message_id");
  e.esp_event = ev;
  e.esp_class = TextAt(&r, "type");
  e.esp_subclass = TextAt(&r, "bounce_classification");
  e.diagnostic = TextAt(&r, "reason");
  if (e.diagnostic.empty()) e.diagnostic = TextAt(&r, "response");
  e.enhanced_status = scan::FindEnhancedStatus(TextAt(&r, "status"));
  const JsonValue* cat = r.Get("category");
  if (cat && cat->type == JsonValue::Type::kArray && !cat->items.empty()) {
    e.campaign = cat->items[0].AsText();
  } else {
    e.campaign = TextAt(&r, "category");
  }
  if (ev == "bounce" || ev == "dropped" || ev == "blocked") {
    e.kind = "bounce";
    e.action = "failed";
  } else if (ev == "deferred") {
    e.kind = "delay";
    e.action = "delayed";
  } else if (ev == "spamreport") {
    e.kind = "complaint";
  } else {
    ++*skipped;
    return absl::OkStatus();
  }
  FromDiagnostic(&e);
  out->push_back(std::move(e));
  return absl::OkStatus();
}

// --------------------------------------------------------------- Mailgun
absl::Status Mailgun(const JsonValue& root, std::vector<BounceEvent>* out, int64_t* skipped) {
  const JsonValue* d = root.Get("event-data");
  if (d == nullptr) d = &root;
  std::string ev = Lower(TextAt(d, "event"));
  std::string rcpt = Lower(TextAt(d, "recipient"));
  if (ev.empty() || rcpt.empty()) {
    return absl::InvalidArgumentError("Mailgun event without 'event' or 'recipient'");
  }
  BounceEvent e;
  e.source_format = "mailgun";
  e.recipient = rcpt;
  e.time = TextAt(d, "timestamp");
  e.esp_event = ev;
  e.esp_class = TextAt(d, "severity");
  e.esp_subclass = TextAt(d, "reason");
  const JsonValue* ds = d->Get("delivery-status");
  if (ds != nullptr) {
    e.reply_code = ToInt(TextAt(ds, "code"));
    e.diagnostic = TextAt(ds, "message");
    std::string desc = TextAt(ds, "description");
    if (!desc.empty() && desc != e.diagnostic) {
      e.diagnostic = e.diagnostic.empty() ? desc : absl::StrCat(e.diagnostic, " ", desc);
    }
    e.enhanced_status = TextAt(ds, "enhanced-code");
    e.remote_host = Lower(TextAt(ds, "mx-host"));
  }
  const JsonValue* msg = d->Get("message");
  const JsonValue* headers = msg ? msg->Get("headers") : nullptr;
  e.message_id = TextAt(headers, "message-id");
  const JsonValue* tags = d->Get("tags");
  if (tags && tags->type == JsonValue::Type::kArray && !tags->items.empty()) {
    e.campaign = tags->items[0].AsText();
  }
  if (ev == "failed" || ev == "bounced" || ev == "dropped" || ev == "rejected") {
    bool temporary = Lower(e.esp_class) == "temporary";
    e.kind = temporary ? "delay" : "bounce";
    e.action = temporary ? "delayed" : "failed";
  } else if (ev == "complained") {
    e.kind = "complaint";
  } else {
    ++*skipped;
    return absl::OkStatus();
  }
  FromDiagnostic(&e);
  out->push_back(std::move(e));
  return absl::OkStatus();
}

// -------------------------------------------------------------- Postmark
absl::Status Postmark(const JsonValue& r, std::vector<BounceEvent>* out, int64_t* skipped) {
  std::string rt = TextAt(&r, "RecordType");
  std::string email = Lower(TextAt(&r, "Email"));
  if (email.empty()) return absl::InvalidArgumentError("Postmark record without 'Email'");
  BounceEvent e;
  e.source_format = "postmark";
  e.recipient = email;
  e.time = TextAt(&r, "BouncedAt");
  e.message_id = TextAt(&r, "MessageID");
  e.campaign = TextAt(&r, "Tag");
  e.esp_event = rt.empty() ? "Bounce" : rt;
  e.esp_class = TextAt(&r, "Type");
  e.esp_subclass = TextAt(&r, "TypeCode");
  e.diagnostic = TextAt(&r, "Details");
  if (e.diagnostic.empty()) e.diagnostic = TextAt(&r, "Description");
  std::string type = e.esp_class;
  if (rt == "SpamComplaint" || type == "SpamComplaint") {
    e.kind = "complaint";
  } else if (type == "AutoResponder") {
    e.kind = "auto_reply";
  } else if (rt.empty() || rt == "Bounce") {
    e.kind = (type == "Transient" || type == "SoftBounce" || type == "DnsError") ? "bounce" : "bounce";
    e.action = "failed";
  } else {
    ++*skipped;
    return absl::OkStatus();
  }
  FromDiagnostic(&e);
  out->push_back(std::move(e));
  return absl::OkStatus();
}

// ------------------------------------------------------------- SparkPost
absl::Status SparkPostOne(const JsonValue& r, std::vector<BounceEvent>* out, int64_t* skipped) {
  const JsonValue* ev = &r;
  if (const JsonValue* msys = r.Get("msys")) {
    ev = nullptr;
    for (const auto& [k, v] : msys->members) {
      if (v.type == JsonValue::Type::kObject) ev = &v;
    }
    if (ev == nullptr) {  // {"msys": {}} is SparkPost's test ping
      ++*skipped;
      return absl::OkStatus();
    }
  }
  std::string type = Lower(TextAt(ev, "type"));
  std::string rcpt = Lower(TextAt(ev, "rcpt_to"));
  if (rcpt.empty()) rcpt = Lower(TextAt(ev, "raw_rcpt_to"));
  if (type.empty()) return absl::InvalidArgumentError("SparkPost event without 'type'");
  BounceEvent e;
  e.source_format = "sparkpost";
  e.recipient = rcpt;
  e.time = TextAt(ev, "timestamp");
  e.message_id = TextAt(ev, "message_id");
  e.campaign = TextAt(ev, "campaign_id");
  e.esp_event = type;
  e.esp_class = TextAt(ev, "bounce_class");
  e.esp_subclass = TextAt(ev, "fbtype");
  e.diagnostic = TextAt(ev, "raw_reason");
  if (e.diagnostic.empty()) e.diagnostic = TextAt(ev, "reason");
  e.reply_code = ToInt(TextAt(ev, "error_code"));
  if (type == "bounce" || type == "out_of_band" || type == "policy_rejection" ||
      type == "generation_rejection" || type == "generation_failure") {
    e.kind = "bounce";
    e.action = "failed";
  } else if (type == "delay") {
    e.kind = "delay";
    e.action = "delayed";
  } else if (type == "spam_complaint") {
    e.kind = "complaint";
  } else {
    ++*skipped;
    return absl::OkStatus();
  }
  if (e.recipient.empty()) return absl::InvalidArgumentError("SparkPost event without rcpt_to");
  FromDiagnostic(&e);
  out->push_back(std::move(e));
  return absl::OkStatus();
}

std::string Detect(const JsonValue& v) {
  if (v.Get("notificationType") || v.Get("eventType") ||
      (v.Get("Type") && v.Get("Message"))) {
    return "ses";
  }
  if (v.Get("msys")) return "sparkpost";
  if (v.Get("event-data") || (v.Get("event") && v.Get("recipient"))) return "mailgun";
  if (v.Get("event") && v.Get("email")) return "sendgrid";
  if (v.Get("RecordType") || (v.Get("Email") && v.Get("TypeCode"))) return "postmark";
  if (v.Get("type") && (v.Get("rcpt_to") || v.Get("raw_rcpt_to"))) return "sparkpost";
  return std::string();
}

absl::Status OneObject(const JsonValue& v, absl::string_view provider,
                       std::vector<BounceEvent>* out, int64_t* skipped) {
  if (v.type != JsonValue::Type::kObject) {
    return absl::InvalidArgumentError("expected a JSON object for an ESP event");
  }
  std::string p = provider == "auto" ? Detect(v) : std::string(provider);
  if (p == "ses") return Ses(v, out, skipped);
  if (p == "sendgrid") return SendGridOne(v, out, skipped);
  if (p == "mailgun") return Mailgun(v, out, skipped);
  if (p == "postmark") return Postmark(v, out, skipped);
  if (p == "sparkpost") return SparkPostOne(v, out, skipped);
  if (p.empty()) {
    return absl::InvalidArgumentError(
        "JSON object of an unknown shape (not an SES, SendGrid, Mailgun, Postmark or "
        "SparkPost event)");
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown provider '", p, "'"));
}

}  // namespace

const JsonValue* JsonValue::Get(absl::string_view key) const {
  if (type != Type::kObject) return nullptr;
  for (const auto& [k, v] : members) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string JsonValue::AsText() const {
  switch (type) {
    case Type::kString:
    case Type::kNumber:
      return text;
    case Type::kBool:
      return boolean ? "true" : "false";
    default:
      return std::string();
  }
}

absl::StatusOr<JsonValue> ParseJson(absl::string_view text, int max_depth) {
  JsonParser p(text, max_depth);
  return p.Document();
}

absl::StatusOr<std::vector<BounceEvent>> ParseEspEvent(absl::string_view json,
                                                       absl::string_view provider,
                                                       int64_t* skipped) {
  auto doc = ParseJson(json);
  if (!doc.ok()) return doc.status();
  std::vector<BounceEvent> out;
  if (doc->type == JsonValue::Type::kArray) {
    for (size_t i = 0; i < doc->items.size(); ++i) {
      std::vector<BounceEvent> one;
      absl::Status st = OneObject(doc->items[i], provider, &one, skipped);
      if (!st.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("array item ", i, ": ", st.message()));
      }
      for (BounceEvent& e : one) {
        e.offset = static_cast<int64_t>(i);
        out.push_back(std::move(e));
      }
    }
    return out;
  }
  absl::Status st = OneObject(*doc, provider, &out, skipped);
  if (!st.ok()) return st;
  return out;
}

absl::Status CheckEspProvider(absl::string_view provider) {
  static constexpr absl::string_view kProviders[] = {"auto", "ses", "sendgrid", "mailgun", "postmark", "sparkpost"};
  for (absl::string_view p : kProviders) {
    if (provider == p) return absl::OkStatus();
  }
  return WithField(absl::InvalidArgumentError(absl::StrCat(
                       "provider must be one of '", absl::StrJoin(kProviders, "', '"), "', not '", provider, "'")),
                   "provider");
}

ParseBatch ParseEspJson(const std::vector<absl::string_view>& records,
                        absl::string_view provider) {
  ParseBatch out;
  for (size_t i = 0; i < records.size(); ++i) {
    ++out.records;
    int64_t skipped = 0;
    auto r = ParseEspEvent(records[i], provider, &skipped);
    if (!r.ok()) {
      out.errors.push_back({static_cast<int64_t>(i), 0,
                            absl::StatusCodeToString(r.status().code()),
                            std::string(r.status().message())});
      continue;
    }
    if (r->empty()) {
      ++out.records_skipped;
      continue;
    }
    ++out.records_with_events;
    for (BounceEvent& e : *r) {
      e.record = static_cast<int64_t>(i);
      out.events.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace bouncekit
