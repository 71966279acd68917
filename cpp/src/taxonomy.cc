// Copyright 2026 The bouncekit authors.

#include "bouncekit/taxonomy.h"

#include <array>

namespace bouncekit {
namespace {

using BC = BounceClass;
using BL = Blame;
using RT = Retry;

// The taxonomy. Columns: name, default class, blame, retry, Sisimai 5 reason,
// SES type, SES subtype, SparkPost class, group, description.
// SES type "" means "by reply class". Facts behind the mappings:
// ../shared/reference/esp-taxonomies.md and sparkpost-bounce-classes.tsv.
constexpr CategoryInfo kCategories[] = {
    // ---- outcomes that are not failures
    {"delivered", BC::kDelivered, BL::kUnknown, RT::kNo, "delivered", "", "", 0, "outcome",
     "The receiver accepted the message (2xx)."},
    {"delayed", BC::kSoft, BL::kUnknown, RT::kYes, "expired", "Transient", "General", 70, "outcome",
     "A delay notice (DSN Action: delayed): the sender is still retrying."},
    {"complaint", BC::kComplaint, BL::kRecipient, RT::kNo, "feedback", "", "", 0, "outcome",
     "A feedback-loop report (ARF): the recipient marked the message as spam."},
    {"auto_reply", BC::kAutoReply, BL::kUnknown, RT::kNo, "vacation", "Transient", "General", 60, "outcome",
     "An out-of-office or other automatic reply (RFC 3834), not a failure."},
    {"challenge_response", BC::kAutoReply, BL::kUnknown, RT::kNo, "vacation", "Transient", "General", 100, "outcome",
     "A challenge-response system asks the sender to verify itself."},
    // ---- the address (recipient)
    {"user_unknown", BC::kHard, BL::kRecipient, RT::kNo, "userunknown", "Permanent", "NoEmail", 10, "recipient",
     "The mailbox does not exist at the receiving domain."},
    {"invalid_address", BC::kHard, BL::kRecipient, RT::kNo, "userunknown", "Permanent", "General", 10, "recipient",
     "The address is syntactically invalid (X.1.3)."},
    {"mailbox_moved", BC::kHard, BL::kRecipient, RT::kNo, "hasmoved", "Permanent", "General", 10, "recipient",
     "The mailbox has moved and mail is not forwarded (X.1.6)."},
    {"bad_domain", BC::kHard, BL::kRecipient, RT::kNo, "hostunknown", "Permanent", "General", 10, "recipient",
     "The recipient domain does not exist or has no mail host (X.1.2)."},
    {"domain_rejects_mail", BC::kHard, BL::kRecipient, RT::kNo, "notaccept", "Permanent", "General", 10, "recipient",
     "The domain accepts no mail at all (null MX, 521/556, X.1.10)."},
    {"mailbox_disabled", BC::kHard, BL::kRecipient, RT::kNo, "suspend", "Permanent", "General", 10, "recipient",
     "The mailbox exists but is disabled, suspended or inactive (X.2.1, X.7.13)."},
    {"mailbox_full", BC::kSoft, BL::kRecipient, RT::kYes, "mailboxfull", "Transient", "MailboxFull", 22, "recipient",
     "The recipient's mailbox is over quota (X.2.2); RFC 3463 calls it transient."},
    {"mailbox_full_inactive", BC::kHard, BL::kRecipient, RT::kNo, "mailboxfull", "Transient", "MailboxFull", 22, "recipient",
     "Mailbox full and reported inactive by the provider: an abandoned mailbox."},
    {"recipient_rate_limited", BC::kSoft, BL::kRecipient, RT::kYes, "speeding", "Transient", "General", 20, "recipient",
     "The recipient is receiving mail too fast (per-mailbox rate limit)."},
    {"recipient_filtered", BC::kBlock, BL::kRecipient, RT::kNo, "filtered", "Transient", "ContentRejected", 50, "recipient",
     "The recipient's own filter or preferences refused the message."},
    // ---- the message
    {"message_too_large", BC::kSoft, BL::kMessage, RT::kNo, "mesgtoobig", "Transient", "MessageTooLarge", 23, "message",
     "The message is larger than the receiving system accepts (X.3.4)."},
    {"exceeds_mailbox_limit", BC::kSoft, BL::kMessage, RT::kNo, "exceedlimit", "Transient", "MessageTooLarge", 23, "message",
     "The message exceeds a per-mailbox limit (X.2.3: length, headers, attachments)."},
    {"too_many_recipients", BC::kSoft, BL::kMessage, RT::kYes, "toomanyconn", "Transient", "General", 20, "message",
     "Too many recipients in one transaction; temporary even with 552 (RFC 5321 4.5.3.1.10)."},
    {"spam_content", BC::kBlock, BL::kMessage, RT::kNo, "spamdetected", "Transient", "ContentRejected", 52, "message",
     "The content was judged to be spam."},
    {"virus", BC::kBlock, BL::kMessage, RT::kNo, "virusdetected", "Transient", "AttachmentRejected", 53, "message",
     "A virus or malware was found in the message."},
    {"attachment_rejected", BC::kBlock, BL::kMessage, RT::kNo, "policyviolation", "Transient", "AttachmentRejected", 53, "message",
     "An attachment type or the message's content is forbidden by security policy."},
    {"content_rejected", BC::kBlock, BL::kMessage, RT::kNo, "contenterror", "Transient", "ContentRejected", 52, "message",
     "Headers or MIME structure were rejected (X.6.x media/content errors)."},
    {"not_rfc_compliant", BC::kBlock, BL::kMessage, RT::kNo, "notcompliantrfc", "Transient", "ContentRejected", 52, "message",
     "The message does not follow RFC 5322 (duplicate headers, bad From:)."},
    {"mail_loop", BC::kSoft, BL::kMessage, RT::kNo, "networkerror", "", "General", 40, "message",
     "Too many hops: a routing loop (X.4.6)."},
    // ---- the sender
    {"blocklisted", BC::kBlock, BL::kSender, RT::kByCode, "blocked", "", "General", 51, "sender",
     "The sending IP or domain is on a DNS blocklist (Spamhaus, Barracuda, SORBS, ...)."},
    {"ip_blocked", BC::kBlock, BL::kSender, RT::kByCode, "blocked", "", "General", 50, "sender",
     "The receiver refuses the sending host (client host rejected, banned IP)."},
    {"bad_reputation", BC::kBlock, BL::kSender, RT::kByCode, "badreputation", "", "General", 51, "sender",
     "The sending IP or domain has poor reputation."},
    {"ptr_required", BC::kBlock, BL::kSender, RT::kByCode, "requireptr", "", "General", 50, "sender",
     "The sending IP has no valid reverse DNS (PTR) (X.7.25)."},
    {"auth_spf", BC::kBlock, BL::kSender, RT::kByCode, "authfailure", "", "General", 50, "sender",
     "SPF did not pass (X.7.23, Gmail X.7.27)."},
    {"auth_dkim", BC::kBlock, BL::kSender, RT::kByCode, "authfailure", "", "General", 50, "sender",
     "DKIM did not pass (X.7.20-22, Gmail X.7.30)."},
    {"auth_dmarc", BC::kBlock, BL::kSender, RT::kByCode, "authfailure", "", "General", 50, "sender",
     "The From: domain's DMARC policy rejected the message (Microsoft 5.7.509)."},
    {"auth_failure", BC::kBlock, BL::kSender, RT::kByCode, "authfailure", "", "General", 50, "sender",
     "Sender authentication failed or is missing (X.7.26, Microsoft 5.7.515)."},
    {"sender_rejected", BC::kBlock, BL::kSender, RT::kByCode, "rejected", "", "General", 50, "sender",
     "The envelope sender address or its domain was refused (X.1.7, X.1.8)."},
    {"relay_denied", BC::kBlock, BL::kSender, RT::kNo, "norelaying", "", "General", 54, "sender",
     "The receiver will not relay for this sender (misrouted or misconfigured)."},
    {"policy", BC::kBlock, BL::kSender, RT::kByCode, "policyviolation", "", "General", 50, "sender",
     "Rejected by the receiver's local policy."},
    {"security_policy", BC::kBlock, BL::kSender, RT::kByCode, "securityerror", "", "General", 50, "sender",
     "A security requirement was not met (authentication required, X.7.x)."},
    {"tls_required", BC::kBlock, BL::kSender, RT::kByCode, "failedstarttls", "", "General", 50, "sender",
     "The receiver requires TLS (or STARTTLS failed)."},
    {"rate_limited", BC::kSoft, BL::kSender, RT::kYes, "speeding", "Transient", "General", 70, "sender",
     "The sender is throttled: too many messages or too fast (421 4.7.0, 4.7.28, 4.7.5xx)."},
    {"too_many_connections", BC::kSoft, BL::kSender, RT::kYes, "toomanyconn", "Transient", "General", 70, "sender",
     "Too many concurrent connections from the sender."},
    {"greylisted", BC::kSoft, BL::kInfrastructure, RT::kYes, "blocked", "Transient", "General", 70, "sender",
     "Greylisting: the first attempt from an unknown sender is deferred; a retry succeeds."},
    {"suppressed", BC::kHard, BL::kSender, RT::kNo, "suppressed", "Permanent", "OnAccountSuppressionList", 25, "sender",
     "Not attempted: the address is on the sending platform's suppression list."},
    // ---- infrastructure
    {"server_unavailable", BC::kSoft, BL::kInfrastructure, RT::kYes, "systemerror", "Transient", "General", 20, "infrastructure",
     "The receiving service is unavailable or busy (421, try again later)."},
    {"no_answer_from_host", BC::kSoft, BL::kInfrastructure, RT::kYes, "networkerror", "Transient", "General", 24, "infrastructure",
     "No answer from the receiving host: connection timed out (X.4.1)."},
    {"bad_connection", BC::kSoft, BL::kInfrastructure, RT::kYes, "networkerror", "Transient", "General", 20, "infrastructure",
     "The connection was refused, reset or lost (X.4.2)."},
    {"dns_failure", BC::kSoft, BL::kInfrastructure, RT::kYes, "networkerror", "Transient", "General", 21, "infrastructure",
     "A DNS lookup failed temporarily (X.4.3)."},
    {"routing_error", BC::kSoft, BL::kInfrastructure, RT::kByCode, "networkerror", "", "General", 21, "infrastructure",
     "The message could not be routed (X.4.4)."},
    {"system_full", BC::kSoft, BL::kInfrastructure, RT::kYes, "systemfull", "Transient", "General", 20, "infrastructure",
     "The receiving system is out of storage (X.3.1, 452 insufficient storage)."},
    {"system_error", BC::kSoft, BL::kInfrastructure, RT::kByCode, "systemerror", "", "General", 20, "infrastructure",
     "A local error on the receiving system."},
    {"bad_configuration", BC::kSoft, BL::kInfrastructure, RT::kByCode, "systemerror", "", "General", 20, "infrastructure",
     "The receiving system is misconfigured (X.3.5)."},
    {"protocol_error", BC::kSoft, BL::kInfrastructure, RT::kByCode, "syntaxerror", "", "General", 20, "infrastructure",
     "An SMTP protocol error: command syntax or sequence (500-504, X.5.x)."},
    {"mailer_error", BC::kSoft, BL::kInfrastructure, RT::kByCode, "mailererror", "", "General", 20, "infrastructure",
     "The local delivery program on the receiving host failed."},
    {"expired", BC::kSoft, BL::kInfrastructure, RT::kNo, "expired", "Transient", "General", 24, "infrastructure",
     "Delivery time expired after retries (X.4.7): says nothing about the address."},
    // ---- fallbacks
    {"generic_transient", BC::kSoft, BL::kUnknown, RT::kYes, "onhold", "Transient", "General", 20, "unknown",
     "A temporary failure (4xx) with no recognisable reason."},
    {"generic_permanent", BC::kHard, BL::kUnknown, RT::kNo, "onhold", "Permanent", "General", 30, "unknown",
     "A permanent failure (5xx) with no recognisable reason."},
    {"undetermined", BC::kUndetermined, BL::kUnknown, RT::kByCode, "undefined", "Undetermined", "Undetermined", 1, "unknown",
     "Nothing known fits: no code, no recognisable text."},
};

}  // namespace

absl::string_view BounceClassName(BounceClass c) {
  switch (c) {
    case BounceClass::kDelivered: return "delivered";
    case BounceClass::kSoft: return "soft";
    case BounceClass::kHard: return "hard";
    case BounceClass::kBlock: return "block";
    case BounceClass::kComplaint: return "complaint";
    case BounceClass::kAutoReply: return "auto_reply";
    case BounceClass::kUndetermined: return "undetermined";
  }
  return "undetermined";
}

std::optional<BounceClass> ParseBounceClass(absl::string_view name) {
  for (int i = 0; i < kNumBounceClasses; ++i) {
    BounceClass c = static_cast<BounceClass>(i);
    if (name == BounceClassName(c)) return c;
  }
  if (name == "unknown") return BounceClass::kUndetermined;
  return std::nullopt;
}

absl::string_view BlameName(Blame b) {
  switch (b) {
    case Blame::kRecipient: return "recipient";
    case Blame::kMessage: return "message";
    case Blame::kSender: return "sender";
    case Blame::kInfrastructure: return "infrastructure";
    case Blame::kUnknown: return "unknown";
  }
  return "unknown";
}

std::optional<Blame> ParseBlame(absl::string_view name) {
  for (int i = 0; i < kNumBlames; ++i) {
    Blame b = static_cast<Blame>(i);
    if (name == BlameName(b)) return b;
  }
  return std::nullopt;
}

absl::Span<const CategoryInfo> Categories() {
  return absl::MakeConstSpan(kCategories);
}

const CategoryInfo* FindCategory(absl::string_view name) {
  for (const CategoryInfo& c : kCategories) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

SesBounce MapToSes(const CategoryInfo* category, BounceClass bounce_class, int reply_class) {
  if (bounce_class == BounceClass::kDelivered || bounce_class == BounceClass::kComplaint) {
    return {"", ""};
  }
  if (category != nullptr && !category->ses_type.empty()) {
    return {category->ses_type, category->ses_subtype};
  }
  absl::string_view subtype =
      category != nullptr && !category->ses_subtype.empty() ? category->ses_subtype : "General";
  if (reply_class == 5) return {"Permanent", subtype};
  if (reply_class == 4) return {"Transient", subtype};
  switch (bounce_class) {
    case BounceClass::kHard: return {"Permanent", subtype};
    case BounceClass::kSoft:
    case BounceClass::kAutoReply: return {"Transient", subtype};
    default: return {"Undetermined", "Undetermined"};
  }
}

int MapToSparkPost(const CategoryInfo* category, BounceClass bounce_class, int reply_class) {
  if (category != nullptr) return category->sparkpost_class;
  switch (bounce_class) {
    case BounceClass::kDelivered:
    case BounceClass::kComplaint: return 0;
    case BounceClass::kHard: return 10;
    case BounceClass::kBlock: return 50;
    case BounceClass::kAutoReply: return 60;
    case BounceClass::kSoft: return reply_class == 5 ? 40 : 20;
    case BounceClass::kUndetermined: return 1;
  }
  return 1;
}

}  // namespace bouncekit
