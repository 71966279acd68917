"""Enhanced status parsing, reply codes in text, single classification."""

from __future__ import annotations

import pytest

import bouncekit


def test_parse_status_describes_registry_entries() -> None:
    s = bouncekit.parse_status("5.1.1")
    assert (s.klass, s.subject, s.detail) == (5, 1, 1)
    assert s.registered
    assert s.detail_name == "Bad destination mailbox address"
    assert str(s) == "5.1.1"


@pytest.mark.parametrize("code", ["4.7.650", "5.7.515", "5.1.351", "4.7.32"])
def test_unregistered_provider_codes_are_accepted(code: str) -> None:
    s = bouncekit.parse_status(code)
    assert not s.registered
    assert str(s) == code


@pytest.mark.parametrize("code", ["5.7.27", "5.7.28", "5.7.29", "5.7.30", "5.1.10"])
def test_late_registry_additions_are_registered(code: str) -> None:
    assert bouncekit.parse_status(code).registered


@pytest.mark.parametrize("bad,fragment", [
    ("5.1", "2 part(s)"),
    ("5.1.1.1", "4 part(s)"),
    ("6.0.0", "class 6"),
    ("", "empty"),
    ("5.a.1", "other than digits"),
    ("5.1.1234", "1-3 digit"),
])
def test_parse_status_rejects_malformed(bad: str, fragment: str) -> None:
    with pytest.raises(bouncekit.InvalidArgumentError, match=".*") as ei:
        bouncekit.parse_status(bad)
    assert fragment in str(ei.value)


@pytest.mark.parametrize("text,code,status", [
    ("smtp; 550 5.1.1 <a@example.com>: Recipient address rejected", 550, "5.1.1"),
    ("452-4.2.2 The email account that you tried to reach is over quota", 452, "4.2.2"),
    ("host mx.example.com[192.0.2.5] said: 554 Transaction failed", 554, None),
    ("Sorry, I couldn't find any host named x. (#5.1.2)", None, "5.1.2"),
    ("Resources temporarily unavailable [#4.1.9].", None, "4.1.9"),
    ("[192.0.2.22 18] suspicious", None, None),
    ("unable to deliver in 840 minutes", None, None),
    ("deferred - 4.16.55.1; see postmaster", None, None),
])
def test_find_codes(text: str, code: object, status: object) -> None:
    assert bouncekit.find_codes(text) == (code, status)


def test_classify_one_explains_itself() -> None:
    r = bouncekit.classify_one(550, "5.1.1", "550 5.1.1 <a@b.example>: User unknown")
    assert (r.bounce_class, r.category, r.blame, r.retryable) == ("hard", "user_unknown", "recipient", False)
    assert r.rule_id == "user_unknown.status"
    assert "user_unknown.status" in r.explanation
    assert r.status is not None and r.status.registered
    assert r.sisimai_reason == "userunknown"
    assert (r.ses_bounce_type, r.ses_bounce_subtype) == ("Permanent", "NoEmail")
    assert r.sparkpost_class == 10


def test_classify_one_finds_codes_in_the_text() -> None:
    r = bouncekit.classify_one(diagnostic="smtp; 452-4.2.2 The email account that you tried to reach is over quota")
    assert r.reply_code == 452 and r.enhanced_status == "4.2.2"
    assert r.reply_code_source == "text" and r.status_source == "text"
    assert (r.bounce_class, r.category) == ("soft", "mailbox_full")


def test_text_match_is_reported_with_its_span() -> None:
    text = "550 5.7.1 Service unavailable; client [192.0.2.1] blocked using zen.spamhaus.org"
    r = bouncekit.classify_one(diagnostic=text)
    assert r.category == "blocklisted"
    assert r.match is not None
    b, e = r.match
    assert "spamhaus" in text[b:e].lower()


@pytest.mark.parametrize("profile,expected", [
    ("default", "soft"), ("sisimai", "hard"), ("strict_rfc", "soft"), ("ses", "soft"),
])
def test_450_unknown_user_by_profile(profile: str, expected: str) -> None:
    r = bouncekit.classify_one(450, "4.1.1", "450 4.1.1 <x@example.org>: Recipient address rejected: "
                               "User unknown in virtual alias table", profile=profile)
    assert r.category == "user_unknown"
    assert r.bounce_class == expected


@pytest.mark.parametrize("profile,expected", [
    ("default", "soft"), ("mailgun", "hard"), ("strict_rfc", "soft"), ("sisimai", "soft"),
])
def test_552_mailbox_full_by_profile(profile: str, expected: str) -> None:
    r = bouncekit.classify_one(552, "5.2.2", "552 5.2.2 Mailbox full", profile=profile)
    assert r.category == "mailbox_full"
    assert r.bounce_class == expected


def test_strict_rfc_follows_the_reply_class() -> None:
    r = bouncekit.classify_one(550, "", "550 mailbox disabled for this recipient", profile="strict_rfc")
    assert r.bounce_class == "hard"
    r = bouncekit.classify_one(452, "", "452 too many recipients", profile="strict_rfc")
    assert (r.category, r.bounce_class) == ("too_many_recipients", "soft")
    r = bouncekit.classify_one(552, "", "552 too many recipients", profile="strict_rfc")
    assert (r.category, r.bounce_class) == ("too_many_recipients", "soft")


@pytest.mark.parametrize("text,category,klass,blame", [
    ("550 5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail requires SPF or DKIM",
     "auth_failure", "block", "sender"),
    ("550 5.7.509 Access denied, sending domain [X] does not pass DMARC verification", "auth_dmarc", "block", "sender"),
    ("421 4.7.28 Gmail has detected an unusual rate of mail originating from your IP", "rate_limited", "soft", "sender"),
    ("451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation",
     "bad_reputation", "block", "sender"),
    ("451 4.7.1 Greylisted, see http://postgrey.schweikert.ch/help/example.org.html", "greylisted", "soft",
     "infrastructure"),
    ("552 5.3.4 Message size exceeds fixed limit", "message_too_large", "soft", "message"),
    ("554 5.7.1 Message rejected as spam by Content Filtering", "spam_content", "block", "message"),
    ("550 5.1.1 The email account that you tried to reach does not exist", "user_unknown", "hard", "recipient"),
    ("550 5.2.1 The email account that you tried to reach is disabled", "mailbox_disabled", "hard", "recipient"),
    ("552-5.2.2 The email account that you tried to reach is over quota and inactive",
     "mailbox_full_inactive", "hard", "recipient"),
    ("421 4.4.2 Connection timed out", "no_answer_from_host", "soft", "infrastructure"),
    ("554 5.4.6 Too many hops", "mail_loop", "soft", "message"),
    ("554 4.4.7 Message expired: unable to deliver in 840 minutes", "expired", "soft", "infrastructure"),
    ("550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
     "user_unknown", "hard", "recipient"),
    ("554 delivery error: dd This user doesn't have a yahoo.com account", "user_unknown", "hard", "recipient"),
    ("553 5.7.1 [BL21] Connections will not be accepted from 192.0.2.1, because the ip is in Spamhaus's list",
     "blocklisted", "block", "sender"),
    ("250 2.0.0 OK 1700000000 queued", "delivered", "delivered", "unknown"),
])
def test_representative_replies(text: str, category: str, klass: str, blame: str) -> None:
    r = bouncekit.classify_one(diagnostic=text)
    assert (r.category, r.bounce_class, r.blame) == (category, klass, blame), r.explanation


def test_block_retryable_follows_reply_class() -> None:
    assert bouncekit.classify_one(diagnostic="421 4.7.0 blocked using zen.spamhaus.org").retryable
    assert not bouncekit.classify_one(diagnostic="550 5.7.1 blocked using zen.spamhaus.org").retryable


def test_double_encoded_utf8_is_repaired_before_matching() -> None:
    good = "Die Gruppe, die Sie kontaktieren möchten, ist möglicherweise nicht vorhanden"
    mojibake = good.encode("utf-8").decode("latin-1")
    r = bouncekit.classify_one(diagnostic=mojibake)
    assert r.category == "sender_rejected"


def test_softened_verdicts_are_retryable() -> None:
    r = bouncekit.classify_one(450, "4.1.1", "450 4.1.1 <x@example.org>: Recipient address rejected: "
                               "User unknown in virtual alias table")
    assert (r.bounce_class, r.retryable) == ("soft", True)
    r = bouncekit.classify_one(550, "5.1.1", "550 5.1.1 user unknown")
    assert (r.bounce_class, r.retryable) == ("hard", False)
