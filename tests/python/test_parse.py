"""Unit tests of the bounce readers (issue 5): MIME/DSN features, ARF,
RFC 3834, the heuristic path, MTA logs, ESP JSON, and per-record errors."""

from __future__ import annotations

import base64
import json
import mailbox
from pathlib import Path

import pytest

import bouncekit
from bouncekit.parse import parse_emails, parse_esp_json, parse_maillog


def dsn(nl: str = "\n", encode_status: bool = False) -> bytes:
    status = (
        "Reporting-MTA: dns; mx.example.org\n"
        "Arrival-Date: Thu, 29 Apr 2021 23:34:45 +0900\n"
        "\n"
        "Final-Recipient: rfc822; Alice@Example.NET\n"
        "Original-Recipient: rfc822; alice@example.net\n"
        "Action: failed\n"
        "Status: 5.1.1\n"
        "Remote-MTA: dns; mx.example.net\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <alice@example.net>: Recipient address\n"
        "    rejected: User unknown in virtual mailbox table\n"
        "\n"
        "Final-Recipient: rfc822; bob@example.com\n"
        "Action: delayed\n"
        "Status: 4.2.2\n"
        "Diagnostic-Code: smtp; 452 4.2.2 Mailbox full\n"
    )
    if encode_status:
        status_part = ("Content-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n"
                       + base64.encodebytes(status.encode()).decode())
    else:
        status_part = "Content-Type: message/delivery-status\n\n" + status
    text = (
        "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n"
        "To: sender@example.org\n"
        "Subject: =?UTF-8?B?VW5kZWxpdmVyZWQgTWFpbA==?=\n"
        "Date: Thu, 29 Apr 2021 23:34:45 +0900 (JST)\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=delivery-status;\n"
        "\tboundary=\"BOUND\"\n"
        "\n"
        "--BOUND\n"
        "Content-Type: text/plain; charset=us-ascii\n"
        "Content-Transfer-Encoding: quoted-printable\n"
        "\n"
        "This is the mail system. I'm sorry to have to inform you that your message co=\n"
        "uld not be delivered.\n"
        "\n"
        "--BOUND\n" + status_part + "\n"
        "--BOUND\n"
        "Content-Type: message/rfc822\n"
        "\n"
        "Message-ID: <orig-1@example.org>\n"
        "From: sender@example.org\n"
        "To: alice@example.net, bob@example.com\n"
        "Subject: hello\n"
        "\n"
        "hello\n"
        "--BOUND--\n"
    )
    return text.replace("\n", nl).encode()


@pytest.mark.parametrize("nl", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("encode_status", [False, True])
def test_dsn_per_recipient_fields_any_line_ending(nl: str, encode_status: bool) -> None:
    r = parse_emails([dsn(nl, encode_status)])
    assert r.summary()["errors"] == 0
    ev = r.events.set_index("recipient")
    assert list(ev.index) == ["alice@example.net", "bob@example.com"]
    a = ev.loc["alice@example.net"]
    assert a["kind"] == "bounce" and a["action"] == "failed"
    assert a["enhanced_status"] == "5.1.1" and a["reply_code"] == 550
    # the folded Diagnostic-Code line is joined
    assert a["diagnostic"].endswith("User unknown in virtual mailbox table")
    assert a["diagnostic_type"] == "smtp"
    assert a["remote_host"] == "mx.example.net"
    assert a["message_id"] == "<orig-1@example.org>"
    assert a["source_format"] == "dsn"
    assert a["category"] == "user_unknown"
    b = ev.loc["bob@example.com"]
    assert b["kind"] == "delay" and b["enhanced_status"] == "4.2.2"
    assert b["category"] == "mailbox_full"
    assert b["time"] == "Thu, 29 Apr 2021 23:34:45 +0900"


def test_nested_multipart_and_heuristic_qmail_style() -> None:
    raw = (b"From: MAILER-DAEMON@mx4.example.jp\nTo: nekochan@example.jp\n"
           b"Subject: failure notice\nContent-Type: multipart/mixed; boundary=\"o\"\n\n"
           b"--o\nContent-Type: multipart/alternative; boundary=\"i\"\n\n"
           b"--i\nContent-Type: text/plain\n\n"
           b"Hi. This is the qmail-send program at mx4.example.jp.\n"
           b"I'm afraid I wasn't able to deliver your message to the following addresses.\n\n"
           b"<kijitora@example.ne.jp>:\n192.0.2.32 does not like recipient.\n"
           b"Remote host said: 550 5.1.1 <kijitora@example.ne.jp>... User Unknown\n"
           b"Giving up on 192.0.2.32.\n\n"
           b"--- Below this line is a copy of the message.\n\n"
           b"Message-ID: <m@example.jp>\nTo: kijitora@example.ne.jp\n\nneko\n"
           b"--i--\n--o--\n")
    r = parse_emails([raw])
    ev = r.events.iloc[0]
    assert len(r.events) == 1
    assert ev["recipient"] == "kijitora@example.ne.jp"
    assert ev["source_format"] == "heuristic"
    assert ev["smtp_command"] == "RCPT"
    assert ev["reply_code"] == 550 and ev["enhanced_status"] == "5.1.1"
    assert ev["message_id"] == "<m@example.jp>"
    assert ev["category"] == "user_unknown"


def test_exim_style_text_and_x_failed_recipients() -> None:
    raw = (b"From: Mail Delivery System <Mailer-Daemon@mx.example.org>\n"
           b"To: sender@example.org\nX-Failed-Recipients: user@example.com\n"
           b"Subject: Mail delivery failed: returning message to sender\n\n"
           b"This message was created automatically by mail delivery software.\n\n"
           b"A message that you sent could not be delivered to one or more of its\n"
           b"recipients. This is a permanent error. The following address(es) failed:\n\n"
           b"  user@example.com\n"
           b"    host mx.example.com [192.0.2.1]\n"
           b"    SMTP error from remote mail server after RCPT TO:<user@example.com>:\n"
           b"    550 5.2.2 mailbox full\n")
    ev = parse_emails([raw]).events.iloc[0]
    assert ev["recipient"] == "user@example.com"
    assert ev["remote_host"] == "mx.example.com"
    assert ev["smtp_command"] == "RCPT"
    assert ev["category"] == "mailbox_full"


ARF = (b"From: staff@hotmail.example\nTo: fbl@example.org\nSubject: complaint\n"
       b"Content-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\n\n"
       b"--b\nContent-Type: text/plain\n\nThis is an email abuse report.\n"
       b"--b\nContent-Type: message/feedback-report\n\n"
       b"Feedback-Type: abuse\nUser-Agent: X/1\nVersion: 1\n"
       b"Original-Rcpt-To: <complainer@example.net>\nSource-IP: 192.0.2.9\n"
       b"Arrival-Date: Thu, 8 Mar 2005 14:00:00 EDT\n"
       b"--b\nContent-Type: message/rfc822\n\nMessage-ID: <x@example.org>\n"
       b"To: complainer@example.net\n\nhi\n--b--\n")
AUTO_REPLY = (b"From: kijitora@example.net\nTo: neko@example.org\nAuto-Submitted: auto-replied\n"
              b"Subject: Away until May 5\n\nI am currently away until May 5th.\n")


def test_arf_feedback_report_is_a_complaint() -> None:
    raw = ARF
    r = parse_emails([raw], profile="sisimai")
    ev = r.events.iloc[0]
    assert (ev["kind"], ev["recipient"], ev["diagnostic_type"], ev["remote_host"]) == (
        "complaint", "complainer@example.net", "abuse", "192.0.2.9")
    assert ev["sisimai_reason"] == "feedback"
    assert ev["message_id"] == "<x@example.org>"


def test_auto_reply() -> None:
    raw = AUTO_REPLY
    ev = parse_emails([raw], profile="sisimai").events.iloc[0]
    assert (ev["kind"], ev["recipient"], ev["sisimai_reason"]) == (
        "auto_reply", "kijitora@example.net", "vacation")


def test_bad_records_are_errors_and_never_stop_the_others(tmp_path: Path) -> None:
    good = dsn()
    truncated = good[: good.index(b"Content-Type: message/delivery-status")]
    truncated = truncated.replace(b"could not be delivered", b"was fine")
    junk = bytes(range(256)) * 40
    huge = b"From: a@example.org\nSubject: big\n\n" + b"x" * (50 << 20)
    not_a_bounce = b"From: friend@example.org\nTo: me@example.org\nSubject: lunch?\n\nSee you.\n"
    recs = [good, truncated, junk, huge, not_a_bounce, good]
    r = parse_emails(recs)
    s = r.summary()
    assert s["records"] == 6 == s["records_with_events"] + s["errors"] + s["records_skipped"]
    assert s["records_with_events"] == 2 and s["events"] == 4
    codes = dict(zip(r.errors["record"], r.errors["code"]))
    assert codes == {1: "DATA_LOSS", 2: "INVALID_ARGUMENT", 3: "RESOURCE_EXHAUSTED", 4: "NOT_FOUND"}
    msgs = dict(zip(r.errors["record"], r.errors["message"]))
    assert "truncated" in msgs[1] and "no header block" in msgs[2] and "limit" in msgs[3]
    assert sorted(set(r.events["record"])) == [0, 5]


def test_folders_mbox_and_maildir(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "a.eml").write_bytes(dsn())
    (tmp_path / "dir" / "b.eml").write_bytes(dsn("\r\n"))
    r = parse_emails(tmp_path / "dir")
    assert r.summary()["records"] == 2 and len(r.events) == 4
    assert set(r.events["source"]) == {str(tmp_path / "dir" / "a.eml"), str(tmp_path / "dir" / "b.eml")}
    mb = tmp_path / "box.mbox"
    mb.write_bytes(b"From MAILER-DAEMON Thu Apr 29 23:34:45 2021\n" + dsn() + b"\n"
                   b"From MAILER-DAEMON Thu Apr 29 23:34:46 2021\n" + dsn())
    r = parse_emails(mb)
    assert r.summary()["records"] == 2 and len(r.events) == 4
    md = mailbox.Maildir(str(tmp_path / "md"), create=True)
    md.add(dsn())
    r = parse_emails(tmp_path / "md")
    assert r.summary()["records"] == 1 and len(r.events) == 2


POSTFIX_LOG = [
    "Jan  1 00:00:00 mx postfix/smtpd[9]: connect from client.example.org[192.0.2.5]",
    "Jan  1 00:00:01 mx postfix/cleanup[10]: 4F2A1: message-id=<m1@example.org>",
    "Jan  1 00:00:01 mx postfix/qmgr[11]: 4F2A1: from=<news@example.org>, size=1200, nrcpt=2 (queue active)",
    "Jan  1 00:00:02 mx postfix/smtp[12]: 4F2A1: to=<bob@example.net>, relay=mx.example.net[192.0.2.1]:25, "
    "delay=1, delays=0/0/0/1, dsn=5.1.1, status=bounced (host mx.example.net[192.0.2.1] said: 550 5.1.1 "
    "<bob@example.net>: Recipient address rejected: User unknown (in reply to RCPT TO command))",
    "Jan  1 00:00:03 mx postfix/smtp[12]: 4F2A1: to=<carol@example.com>, relay=none, delay=30, "
    "dsn=4.4.1, status=deferred (connect to mx.example.com[192.0.2.2]:25: Connection timed out)",
    "Jan  1 00:00:04 mx postfix/smtp[12]: 4F2A1: to=<dave@example.com>, relay=mx.example.com[192.0.2.2]:25, "
    "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued)",
    "Jan  1 00:00:05 mx postfix/smtp[12]: 77AB2: status=bounced (no recipient on this line)",
    "\x00\x01\x02 binary junk",
]


def test_postfix_log_reassembly_by_queue_id() -> None:
    r = parse_maillog(POSTFIX_LOG)
    s = r.summary()
    assert s["records"] == len(POSTFIX_LOG) == s["records_with_events"] + s["errors"] + s["records_skipped"]
    ev = r.events.set_index("recipient")
    assert list(ev.index) == ["bob@example.net", "carol@example.com"]
    bob = ev.loc["bob@example.net"]
    assert (bob["message_id"], bob["sender"], bob["enhanced_status"], bob["smtp_command"],
            bob["remote_host"], bob["offset"], bob["kind"]) == (
        "m1@example.org", "news@example.org", "5.1.1", "RCPT", "mx.example.net", 4, "bounce")
    assert bob["category"] == "user_unknown"
    assert ev.loc["carol@example.com", "kind"] == "delay"
    assert list(r.errors["offset"]) == [7]


def test_postfix_queue_joined_across_batches() -> None:
    # parse_maillog hands the core 65,536 lines at a time; a queue's
    # message-id= / from= lines at the end of one batch still reach its
    # delivery line at the start of the next (before: the queue id and no
    # sender, for every deferred retry far from its message's first lines).
    noise = "Jan  1 00:00:00 mx postfix/smtpd[9]: connect from c.example.org[192.0.2.1]"
    log = [noise] * 65534 + POSTFIX_LOG[1:4]  # bob's line is the first of the second batch
    r = parse_maillog(log, classify=False)
    assert r.summary()["records"] == len(log)
    bob = r.events.set_index("recipient").loc["bob@example.net"]
    assert (bob["message_id"], bob["sender"], bob["offset"]) == ("m1@example.org", "news@example.org", 65537)


def test_rotated_logs_are_read_oldest_first(tmp_path: Path) -> None:
    # A folder of logrotate's copies: mail.log.2.gz holds the queue's
    # message-id= and from= lines, mail.log its bounce days later. Read by
    # name, mail.log came first and the bounce had no message id or sender.
    import gzip
    (tmp_path / "mail.log.2.gz").write_bytes(gzip.compress("\n".join(POSTFIX_LOG[1:3]).encode()))
    (tmp_path / "mail.log.1").write_text(POSTFIX_LOG[0] + "\n")
    (tmp_path / "mail.log").write_text(POSTFIX_LOG[3] + "\n")
    r = parse_maillog(tmp_path, classify=False)
    assert [Path(s).name for s in r.events["source"]] == ["mail.log"]
    bob = r.events.iloc[0]
    assert (bob["recipient"], bob["message_id"], bob["sender"], bob["offset"]) == (
        "bob@example.net", "m1@example.org", "news@example.org", 1)


def test_exim_log() -> None:
    log = [
        "2024-01-01 12:00:00 1rXyZa-000ABC-12 <= news@example.org H=localhost [127.0.0.1] P=esmtp S=900 id=abc@example.org",
        "2024-01-01 12:00:01 1rXyZa-000ABC-12 ** user@example.com R=dnslookup T=remote_smtp "
        "H=mx.example.com [192.0.2.1]: SMTP error from remote mail server after RCPT TO:<user@example.com>: "
        "550 5.1.1 User unknown",
        "2024-01-01 12:00:02 1rXyZa-000ABC-12 == slow@example.net R=dnslookup T=remote_smtp defer (-44) "
        "H=mx.example.net [192.0.2.3]: SMTP error from remote mail server after RCPT TO:<slow@example.net>: "
        "451 4.7.1 Greylisted",
        "2024-01-01 12:00:03 1rXyZa-000ABC-12 Completed",
    ]
    r = parse_maillog(log, format="exim")
    assert r.summary()["records"] == 4 and len(r.events) == 2
    ev = r.events.set_index("recipient")
    u = ev.loc["user@example.com"]
    assert (u["message_id"], u["sender"], u["reply_code"], u["remote_host"], u["category"]) == (
        "abc@example.org", "news@example.org", 550, "mx.example.com", "user_unknown")
    assert ev.loc["slow@example.net", "kind"] == "delay"
    assert ev.loc["slow@example.net", "enhanced_status"] == "4.7.1"


ESP = [
    # SES via SNS (envelope with the notification as a JSON string)
    {"Type": "Notification", "MessageId": "x", "Message": json.dumps({
        "notificationType": "Bounce", "mail": {"messageId": "ses-1", "source": "s@example.org"},
        "bounce": {"bounceType": "Transient", "bounceSubType": "MailboxFull",
                   "timestamp": "2026-01-01T00:00:00Z", "remoteMtaIp": "192.0.2.1",
                   "bouncedRecipients": [{"emailAddress": "full@example.com", "action": "failed",
                                          "status": "4.2.2",
                                          "diagnosticCode": "smtp; 452 4.2.2 Mailbox full"}]}})},
    # SES event publishing complaint
    {"eventType": "Complaint", "mail": {"messageId": "ses-2"},
     "complaint": {"complainedRecipients": [{"emailAddress": "c@example.com"}],
                   "timestamp": "2026-01-01T00:00:00Z", "complaintFeedbackType": "abuse"}},
    # SendGrid webhook batch (array)
    [{"email": "sg@example.com", "timestamp": 1700000000, "event": "bounce", "type": "bounce",
      "status": "5.1.1", "reason": "550 5.1.1 The email account that you tried to reach does not exist",
      "sg_message_id": "sg-1", "bounce_classification": "Invalid Address"},
     {"email": "open@example.com", "timestamp": 1700000000, "event": "open"}],
    # Mailgun
    {"signature": {}, "event-data": {"event": "failed", "severity": "permanent", "reason": "bounce",
                                     "recipient": "mg@example.com", "timestamp": 1700000000.5,
                                     "delivery-status": {"code": 550, "message": "5.1.1 no such user",
                                                         "mx-host": "mx.example.com"},
                                     "message": {"headers": {"message-id": "mg-1@example.org"}}}},
    # Postmark
    {"RecordType": "Bounce", "Type": "HardBounce", "TypeCode": 1, "Email": "pm@example.com",
     "BouncedAt": "2026-01-01T00:00:00Z", "Details": "smtp;550 5.1.1 unknown user", "MessageID": "pm-1"},
    # SparkPost
    [{"msys": {"message_event": {"type": "bounce", "bounce_class": "10", "rcpt_to": "sp@example.com",
                                 "raw_reason": "550 5.1.1 user unknown", "error_code": "550",
                                 "timestamp": "1700000000", "message_id": "sp-1",
                                 "campaign_id": "spring"}}}],
    {"hello": "world"},
    "{not json",
]


def test_esp_json_all_providers() -> None:
    r = parse_esp_json(ESP)
    s = r.summary()
    assert s["records"] == len(ESP) == s["records_with_events"] + s["errors"] + s["records_skipped"]
    ev = r.events.set_index("recipient")
    assert set(ev.index) == {"full@example.com", "c@example.com", "sg@example.com", "mg@example.com",
                             "pm@example.com", "sp@example.com"}
    assert tuple(ev.loc["full@example.com", ["source_format", "esp_class", "esp_subclass", "category",
                                             "message_id"]]) == (
        "ses", "Transient", "MailboxFull", "mailbox_full", "ses-1")
    assert ev.loc["c@example.com", "kind"] == "complaint"
    assert ev.loc["sg@example.com", "esp_subclass"] == "Invalid Address"
    assert ev.loc["sg@example.com", "offset"] == 3  # the 3rd record
    assert ev.loc["mg@example.com", "esp_class"] == "permanent"
    assert ev.loc["mg@example.com", "remote_host"] == "mx.example.com"
    assert ev.loc["pm@example.com", "esp_class"] == "HardBounce"
    assert ev.loc["sp@example.com", "esp_class"] == "10"
    assert ev.loc["sp@example.com", "campaign"] == "spring"
    for who in ("sg@example.com", "mg@example.com", "pm@example.com", "sp@example.com"):
        assert ev.loc[who, "category"] == "user_unknown", who
    assert list(r.errors["offset"]) == [7, 8]
    assert "unknown shape" in r.errors["message"].iloc[0]
    assert "invalid JSON" in r.errors["message"].iloc[1]


def test_jsonl_file(tmp_path: Path) -> None:
    p = tmp_path / "events.jsonl"
    p.write_text("\n".join(json.dumps(x) if not isinstance(x, str) else x for x in ESP) + "\n")
    r = parse_esp_json(p, classify=False)
    assert r.summary()["records"] == len(ESP)
    assert (r.events["source"] == str(p)).all()
    assert "category" not in r.events.columns


@pytest.mark.parametrize("junk", [
    b"\xff", b"\xe2\x82", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xf5\x80",
    b"\xe2\x82\xac ok \xf0\x9f\x98\x80", b"\x80\x80\x80", b"\xf0\x9f\x98", b"a\xc3",
])
def test_text_that_is_not_utf8_is_replaced_like_python(junk: bytes) -> None:
    # The core hands columns over as Arrow buffers; bytes that are not UTF-8
    # must come out exactly as bytes.decode("utf-8", "replace") gives them.
    said = b"550 5.1.1 <a@b.c>: unknown " + junk + b" user"
    line = (b"Dec  1 00:00:00 mx postfix/smtp[1]: ABC: to=<a@b.c>, relay=x[192.0.2.1]:25, delay=1, "
            b"status=bounced (host x[192.0.2.1] said: " + said + b")")
    arrow = parse_maillog([line], classify=False, output="arrow").events
    arrow.validate(full=True)  # (fails on bytes that are not UTF-8 in a string column)
    ev = arrow.to_pandas()
    assert len(ev) == 1
    diag = ev["diagnostic"].iloc[0]
    assert said.decode("utf-8", "replace") in diag, (diag, junk)
    assert ev["recipient"].iloc[0] == "a@b.c"


def test_replaced_text_lengthens_its_column_and_the_rows_after_it_stay_right() -> None:
    # Each bad byte becomes U+FFFD (three bytes): the column's data buffer,
    # sized from the raw fields, grows in mid-batch. Every row after that
    # must still read its own text.
    rows = [(f"u{i}@b.c", (b"\xff" * (i % 7) + f" user {i}".encode())) for i in range(300)]
    lines = [(f"Dec  1 00:00:00 mx postfix/smtp[1]: Q{i}: to=<{r}>, relay=x[192.0.2.1]:25, delay=1, "
              f"status=bounced (host x[192.0.2.1] said: 550 5.1.1 ").encode() + said + b")"
             for i, (r, said) in enumerate(rows)]
    arrow = parse_maillog(lines, classify=False, output="arrow").events
    arrow.validate(full=True)
    ev = arrow.to_pandas()
    assert len(ev) == len(rows)
    for i, (r, said) in enumerate(rows):
        assert ev["recipient"].iloc[i] == r
        assert ev["diagnostic"].iloc[i].endswith(said.decode("utf-8", "replace")), (i, ev["diagnostic"].iloc[i])
        assert ev["destination"].iloc[i] == "b.c"


@pytest.mark.parametrize("junk", [
    b"\xff", b"\xe2\x82", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80\x80\x80", b"a\xc3",
])
def test_email_text_that_is_not_utf8_is_replaced_like_python(junk: bytes) -> None:
    # parse_emails builds its columns in the core as the e-mails are read
    # (not from a finished batch, as the log and JSON readers do): the same
    # replacement must hold there, in the diagnostic and the remote host,
    # with good e-mails before and after.
    bad = dsn().replace(b"User unknown in virtual", b"User " + junk + b" unknown in virtual")
    bad = bad.replace(b"Remote-MTA: dns; mx.example.net", b"Remote-MTA: dns; mx." + junk + b".example.net")
    arrow = parse_emails([dsn(), bad, dsn()], classify=False, output="arrow").events
    arrow.validate(full=True)  # (fails on bytes that are not UTF-8 in a string column)
    ev = arrow.to_pandas()
    assert len(ev) == 6
    assert (b"User " + junk + b" unknown").decode("utf-8", "replace") in ev["diagnostic"].iloc[2]
    assert ev["remote_host"].iloc[2] == (b"mx." + junk + b".example.net").decode("utf-8", "replace")
    assert ev["recipient"].iloc[2] == "alice@example.net" and ev["destination"].iloc[2] == "example.net"
    good = parse_emails([dsn()], classify=False).events
    for i in (0, 1, 4, 5):
        assert ev.iloc[i].drop(["source", "record"]).equals(good.iloc[i % 2].drop(["source", "record"]))


def test_replaced_email_text_lengthens_its_column_and_the_rows_after_it_stay_right() -> None:
    # Each bad byte becomes U+FFFD (three bytes): every row after a repaired
    # one must still read its own text.
    mails = [dsn().replace(b"Mailbox full", b"Mailbox" + b"\xff" * (i % 5) + f" full {i}".encode())
             for i in range(300)]
    arrow = parse_emails(mails, classify=False, output="arrow").events
    arrow.validate(full=True)
    ev = arrow.to_pandas()
    assert len(ev) == 600
    for i in range(300):
        assert ev["diagnostic"].iloc[2 * i + 1].endswith("Mailbox" + "\ufffd" * (i % 5) + f" full {i}"), i
        assert ev["recipient"].iloc[2 * i + 1] == "bob@example.com"
        assert ev["destination"].iloc[2 * i] == "example.net"


def _as_pandas(t: object) -> "object":
    import pandas as pd
    import pyarrow as pa
    arrow = t if isinstance(t, pa.Table) else t.to_arrow()  # type: ignore[attr-defined]
    df = arrow.to_pandas()
    if "reply_code" in df.columns:  # Arrow's nullable integers come back as floats
        df["reply_code"] = pd.array(arrow["reply_code"].to_pylist(), dtype="Int64")
    return df


@pytest.mark.parametrize("output", ["arrow", "polars"])
def test_every_reader_gives_the_same_tables_as_arrow_and_polars(output: str) -> None:
    import pandas as pd
    import pyarrow as pa
    runs = [
        (parse_emails, [dsn(), dsn("\r\n", True), ARF, AUTO_REPLY, b"\x00\x01binary junk"], {"profile": "sisimai"}),
        (parse_maillog, POSTFIX_LOG + ["not a log line"], {}),
        (parse_esp_json, ESP + [{"wrong": "shape"}], {}),
    ]
    for fn, src, kw in runs:
        for classify in (False, True):
            want = fn(src, classify=classify, **kw)
            got = fn(src, classify=classify, output=output, **kw)
            kind = pa.Table if output == "arrow" else __import__("polars").DataFrame
            assert isinstance(got.events, kind) and isinstance(got.errors, kind)
            assert got.summary() == want.summary() and len(want.events) > 0 and len(want.errors) > 0
            pd.testing.assert_frame_equal(_as_pandas(got.events), want.events, check_dtype=False,
                                          check_categorical=False)
            pd.testing.assert_frame_equal(_as_pandas(got.errors), want.errors, check_dtype=False)
            if classify and fn is parse_emails:  # the complaint and the auto-reply keep their reasons
                assert {"feedback", "vacation"} <= set(want.events["sisimai_reason"].astype(str))


def test_no_events_still_give_every_column_with_its_type() -> None:
    for classify in (False, True):
        r = parse_emails([b"\x00junk"], classify=classify)
        empty = parse_emails([], classify=classify)
        full = parse_emails([dsn()], classify=classify)
        assert len(r.events) == len(empty.events) == 0 and len(r.errors) == 1 and len(empty.errors) == 0
        assert list(r.events.columns) == list(empty.events.columns) == list(full.events.columns)
        assert r.events.dtypes.astype(str).tolist() == full.events.dtypes.astype(str).tolist()
        assert str(r.events["reply_code"].dtype) == "Int64"
    t = parse_maillog([], output="arrow")
    assert t.events.num_rows == 0 and t.events.schema.field("record").type == "int64"


def test_an_unknown_output_is_an_error_naming_the_field() -> None:
    for fn, src in ((parse_emails, [dsn()]), (parse_maillog, POSTFIX_LOG), (parse_esp_json, ESP)):
        with pytest.raises(bouncekit.InvalidArgumentError) as e:
            fn(src, output="excel")
        assert e.value.field == "output"


@pytest.mark.parametrize("batch,batch_bytes", [(100, 1 << 30), (1 << 20, 20_000)])
def test_a_list_of_raw_emails_names_its_rows_like_the_general_path(monkeypatch: pytest.MonkeyPatch, batch: int,
                                                                    batch_bytes: int) -> None:
    # A list of bytes takes a fast path (slices, names made for the rows of
    # the result only); over several batches (cut by count, or by bytes),
    # with errors among the records, every row must match what the general
    # (name, bytes) path gives, and what one batch gives.
    import bouncekit.parse as P
    good, junk = dsn(), b"\x00\x01 not an e-mail"
    recs = [junk if i % 7 == 3 else good for i in range(1100)]
    whole = parse_emails(recs, classify=False, output="arrow")
    calls = []
    real = P._core.parse_emails
    monkeypatch.setattr(P._core, "parse_emails", lambda part, *a: calls.append(len(part)) or real(part, *a))
    monkeypatch.setattr(P, "_BATCH", batch)
    monkeypatch.setattr(P, "_BATCH_BYTES", batch_bytes)
    fast = parse_emails(recs, classify=False, output="arrow")
    assert len(calls) > 5 and sum(calls) == 1100, calls
    slow = parse_emails([(f"<input>[{i}]", r) for i, r in enumerate(recs)], classify=False, output="arrow")
    assert len(calls) > 10 and sum(calls) == 2200
    assert fast.events.equals(slow.events) and fast.errors.equals(slow.errors)
    assert fast.events.equals(whole.events) and fast.errors.equals(whole.errors)
    assert fast.summary() == slow.summary()
    assert fast.summary()["records"] == 1100 and len(fast.errors) == len([i for i in range(1100) if i % 7 == 3])
    ev = fast.events.to_pydict()
    assert all(s == f"<input>[{r}]" for s, r in zip(ev["source"], ev["record"]))
    assert ev["destination"] == [x.rpartition("@")[2] for x in ev["recipient"]]
    assert fast.errors.to_pydict()["source"][-1] == "<input>[1095]"


def test_threads_change_nothing_but_are_checked() -> None:
    recs = [dsn(), dsn("\r\n")] * 20
    one = parse_emails(recs, threads=1, output="arrow")
    assert one.events.equals(parse_emails(recs, threads=2, output="arrow").events)
    log = ["Jan  1 00:00:02 mx postfix/smtp[11]: 4F2A1: to=<bob@example.net>, relay=none, delay=1, dsn=5.1.1, "
           "status=bounced (host mx.example.net[192.0.2.1] said: 550 5.1.1 User unknown)"]
    assert parse_maillog(log, threads=1).events["category"].tolist() == ["user_unknown"]
    with pytest.raises(bouncekit.InvalidArgumentError) as e:
        parse_emails(recs, threads=0)
    assert e.value.field == "threads"
