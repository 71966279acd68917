"""Synthetic delivery results for examples, notebooks and the README's job.

:func:`responses` draws SMTP results in the styles of large mailbox providers
and common MTAs (texts written for bouncekit, with addresses, IPs and queue
ids varied per row), each with the category it was generated from, so a
classifier can be checked against it. Seeded: the same arguments give the
same rows.

>>> from bouncekit import sample
>>> df = sample.responses(1000, seed=7)
>>> list(df.columns)
['recipient', 'reply_code', 'enhanced_status', 'diagnostic', 'smtp_command', 'remote_host', 'action', 'truth_category']
>>> len(df)
1000
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, List, Sequence, Tuple

from ._lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:  # imported on first use: `import bouncekit` stays light
    np = lazy_module("numpy")

__all__ = ["responses", "sample_path", "load_sample"]

# (weight, reply code or 0, status or "", template, category, command)
# Placeholders: {addr} {ip} {host} {id} {dom} {n}
_TEMPLATES: Sequence[Tuple[float, int, str, str, str, str]] = [
    (900.0, 250, "2.0.0", "250 2.0.0 OK {id} - accepted for delivery", "delivered", "DATA"),
    (120.0, 250, "2.0.0", "250 2.0.0 <{id}@{dom}> Queued mail for delivery", "delivered", "DATA"),
    (25.0, 550, "5.1.1", "550-5.1.1 The email account that you tried to reach does not exist. Please check "
     "the address for typos. {id} - gsmtp", "user_unknown", "RCPT"),
    (15.0, 550, "5.1.1", "550 5.1.1 <{addr}>: Recipient address rejected: User unknown in virtual mailbox table",
     "user_unknown", "RCPT"),
    (10.0, 550, "5.5.0", "550 Requested action not taken: mailbox unavailable ({id})", "user_unknown", "RCPT"),
    (8.0, 554, "5.0.0", "554 delivery error: dd This user doesn't have a {dom} account ({addr}) [0]",
     "user_unknown", "DATA"),
    (6.0, 550, "5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient {addr} not found by SMTP address "
     "lookup", "user_unknown", "RCPT"),
    (6.0, 450, "4.1.1", "450 4.1.1 <{addr}>: Recipient address rejected: unverified address: host {host} said: "
     "550 no such user", "user_unknown", "RCPT"),
    (6.0, 550, "5.1.2", "550 5.1.2 <{addr}>: Recipient address rejected: Domain not found", "bad_domain", "RCPT"),
    (3.0, 0, "", "Host or domain name not found. Name service error for name={dom} type=A: Host not found",
     "bad_domain", ""),
    (12.0, 452, "4.2.2", "452-4.2.2 The recipient's inbox is out of storage space. Please direct the recipient "
     "to free up space. {id} - gsmtp", "mailbox_full", "RCPT"),
    (8.0, 552, "5.2.2", "552 5.2.2 <{addr}>: user is over quota", "mailbox_full", "RCPT"),
    (3.0, 552, "5.2.2", "552-5.2.2 The recipient's inbox is out of storage space and inactive. {id} - gsmtp",
     "mailbox_full_inactive", "RCPT"),
    (5.0, 550, "5.2.1", "550 5.2.1 The email account that you tried to reach is disabled. {id} - gsmtp",
     "mailbox_disabled", "RCPT"),
    (3.0, 554, "5.7.13", "554 5.7.13 Disabled recipient address {addr}", "mailbox_disabled", "RCPT"),
    (14.0, 451, "4.7.1", "451 4.7.1 <{addr}>: Recipient address rejected: Greylisted, please try again in "
     "300 seconds", "greylisted", "RCPT"),
    (12.0, 421, "4.7.0", "421 4.7.0 [TSS04] Messages from {ip} temporarily deferred due to unexpected volume or "
     "user complaints", "rate_limited", "MAIL"),
    (10.0, 451, "4.7.500", "451 4.7.500 Server busy. Please try again later from [{ip}]. (AS{n})",
     "rate_limited", "RCPT"),
    (6.0, 421, "4.7.28", "421-4.7.28 Our system has detected an unusual rate of mail originating from your IP "
     "address {ip}. {id} - gsmtp", "rate_limited", "DATA"),
    (6.0, 450, "4.2.1", "450-4.2.1 The user you are trying to contact is receiving mail too quickly. Please "
     "resend later. {id} - gsmtp", "recipient_rate_limited", "RCPT"),
    (9.0, 554, "5.7.1", "554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org",
     "blocklisted", "RCPT"),
    (5.0, 550, "5.7.1", "550 5.7.1 Unfortunately, messages from [{ip}] weren't sent. Please contact your "
     "Internet service provider since part of their network is on our block list (S3150)", "blocklisted", "RCPT"),
    (5.0, 451, "4.7.650", "451 4.7.650 The mail server [{ip}] has been temporarily rate limited due to IP "
     "reputation.", "bad_reputation", "MAIL"),
    (6.0, 550, "5.7.26", "550-5.7.26 This mail has been blocked because the sender is unauthenticated. Senders "
     "must authenticate with SPF or DKIM. {id} - gsmtp", "auth_failure", "DATA"),
    (4.0, 550, "5.7.509", "550 5.7.509 Access denied, sending domain [{dom}] does not pass DMARC verification "
     "and has a DMARC policy of reject.", "auth_dmarc", "DATA"),
    (3.0, 550, "5.7.23", "550 5.7.23 The message was rejected because of Sender Policy Framework violation",
     "auth_spf", "MAIL"),
    (4.0, 554, "5.7.1", "554 5.7.1 Message rejected as spam by the content filter (score 11.2)",
     "spam_content", "DATA"),
    (3.0, 552, "5.3.4", "552 5.3.4 Message size exceeds fixed limit", "message_too_large", "DATA"),
    (4.0, 421, "4.4.2", "421 4.4.2 {host} Error: timeout exceeded", "no_answer_from_host", ""),
    (3.0, 0, "4.4.1", "connect to {host}[{ip}]:25: Connection refused", "bad_connection", ""),
    (3.0, 421, "4.3.2", "421 4.3.2 Service not available, closing transmission channel", "server_unavailable", ""),
    (2.0, 0, "5.4.7", "Delivery time expired: message was not delivered after 5 days in the queue",
     "expired", ""),
    (2.0, 550, "5.7.1", "550 5.7.1 <{addr}>: Relay access denied", "relay_denied", "RCPT"),
    (2.0, 553, "5.1.8", "553 5.1.8 Domain of sender address bounces@{dom} does not exist", "sender_rejected",
     "MAIL"),
    (1.5, 554, "5.7.9", "554 5.7.9 Message not accepted for policy reasons", "policy", "DATA"),
    (1.0, 530, "5.7.0", "530 5.7.0 Must issue a STARTTLS command first", "tls_required", "MAIL"),
    (1.0, 0, "", "This is an automatic reply: I am out of the office until Monday with limited access to email.",
     "auto_reply", ""),
    (1.0, 0, "", "This is an email abuse report for an email message received from IP {ip}",
     "complaint", ""),
]

_PROVIDERS = ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "example.org", "mail.example.net",
              "corp.example.com", "web.example.de", "post.example.fr", "isp.example.jp"]


def responses(n: int, seed: int = 0) -> Any:
    """`n` synthetic delivery results as a pandas DataFrame (seeded)."""
    import pandas as pd
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        from .errors import InvalidArgumentError
        raise InvalidArgumentError(f"the number of rows must be a non-negative integer, not {n!r}", field="rows")
    rng = np.random.default_rng(seed)
    w = np.array([t[0] for t in _TEMPLATES], dtype=float)
    pick = rng.choice(len(_TEMPLATES), size=n, p=w / w.sum())
    doms = rng.choice(len(_PROVIDERS), size=n, p=np.array([30, 20, 15, 5, 6, 6, 6, 4, 4, 4]) / 100)
    rows: List[Tuple[Any, ...]] = []
    for i in range(n):
        _, code, status, tmpl, cat, cmd = _TEMPLATES[pick[i]]
        dom = _PROVIDERS[doms[i]]
        user = f"user{rng.integers(1, 10_000_000)}"
        addr = f"{user}@{dom}"
        ip = f"192.0.2.{rng.integers(1, 255)}" if rng.random() < 0.5 else f"198.51.100.{rng.integers(1, 255)}"
        host = f"mx{rng.integers(1, 9)}.{dom}"
        qid = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz0123456789"), 12))
        text = tmpl.format(addr=addr, ip=ip, host=host, id=qid, dom=dom, n=rng.integers(100, 999))
        # Some senders log only the text, without the parsed code/status.
        drop = rng.random() < 0.1
        transient = code // 100 == 4 or status.startswith("4.")
        action = "delivered" if cat == "delivered" else ("delayed" if transient else "failed")
        rows.append((addr, None if (code == 0 or drop) else code, "" if drop else status, text, cmd, host,
                     action, cat))
    cols = ["recipient", "reply_code", "enhanced_status", "diagnostic", "smtp_command", "remote_host",
            "action", "truth_category"]
    df = pd.DataFrame(rows, columns=cols)
    df["reply_code"] = df["reply_code"].astype("Int16")
    return df


def sample_path() -> Path:
    """The sample file shipped with the package (5,000 rows)."""
    return Path(str(resources.files("bouncekit") / "data" / "sample_bounces.csv"))


def load_sample() -> Any:
    """The bundled sample as a pandas DataFrame."""
    import pandas as pd
    return pd.read_csv(sample_path(), dtype={"reply_code": "Int16"}, keep_default_na=False,
                       na_values={"reply_code": [""]})
