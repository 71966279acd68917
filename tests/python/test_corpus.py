"""The classifier on real bounces: Sisimai's DEV corpus, profile 'sisimai'.

Only input fields are used (replycode; deliverystatus unless it is a
Sisimai pseudo-status derived from the label; diagnosticcode, smtpcommand,
rhost, action, destination). Thresholds from the foundation issue: reason
agreement >= 95 %, hard-bounce agreement >= 99 %.
"""

from __future__ import annotations

from pathlib import Path

import corpus

import bouncekit


def test_sisimai_dev_corpus_agreement(shared_dir: Path) -> None:
    rows = corpus.load_dev(shared_dir)
    out = bouncekit.classify(corpus.inputs_frame(rows), profile="sisimai", mappings=["sisimai"])
    assert len(out) == len(rows) == 218
    reason, hard, per_family = corpus.score(rows, out)
    print("\nper sample_family (profile sisimai):")
    print(per_family.to_string(index=False))
    print(f"reason agreement {reason:.4f} ({round(reason * len(rows))}/{len(rows)}), "
          f"hard agreement {hard:.4f} ({round(hard * len(rows))}/{len(rows)})")
    assert reason >= 0.95
    assert hard >= 0.99


def test_default_profile_on_the_corpus_never_calls_sender_problems_hard(shared_dir: Path) -> None:
    rows = corpus.load_dev(shared_dir)
    out = bouncekit.classify(corpus.inputs_frame(rows), mappings=["sisimai"])
    sender = {"blocked", "badreputation", "requireptr", "authfailure", "rejected", "policyviolation",
              "spamdetected", "securityerror", "virusdetected"}
    for r, (_, o) in zip(rows, out.iterrows()):
        # A receiver that answers 'Unknown user' for a sender-side refusal
        # (NTT docomo after DATA) is read as user unknown by the default profile.
        if r["label_reason"] in sender and "unknown user" not in r["diagnosticcode"].lower():
            assert str(o["bounce_class"]) != "hard", (r["id"], o["category"])
