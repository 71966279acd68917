"""Acceptance 1 of issue 5: every DEV e-mail of the Sisimai corpus is parsed
(bouncekit.parse_emails, the C++ readers), classified with profile 'sisimai',
and compared with dev.jsonl: recipient found (an event whose recipient is in
the row's destination domain), reason agreement (sisimai_reason vs
label_reason) and hard agreement. Prints per sample_family scores; fails
below 97 % recipients found or 93 % reason agreement.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import corpus
import parse_corpus

import bouncekit


def test_parse_sisimai_dev_emails(shared_dir: Path) -> None:
    rows = corpus.load_dev(shared_dir)
    emails = shared_dir / "corpora" / "sisimai" / "emails"
    files = sorted({r["sample_path"] for r in rows})
    res = bouncekit.parse_emails([emails / f for f in files], profile="sisimai")
    s = res.summary()
    # Every record is accounted for.
    assert s["records"] == s["records_with_events"] + s["errors"] + s["records_skipped"]
    assert s["records"] >= len(files)
    scores, per_family, misses = parse_corpus.score(rows, res.events, emails)
    with pd.option_context("display.width", 160):
        print("\nper sample_family (parse_emails + classify, profile sisimai):")
        print(per_family.to_string(index=False))
    print("records:", s)
    print("errors:\n" + res.errors[["source", "code", "message"]].to_string(index=False))
    print("misses:")
    for m in misses:
        print("  ", m[0], "|", m[1])
    print({k: round(v, 4) for k, v in scores.items()})
    assert scores["recipient_found"] >= 0.97
    assert scores["reason_agreement"] >= 0.93
    # Every event points back to its source.
    assert res.events["source"].map(lambda p: Path(str(p).rsplit(":", 1)[0]).exists()).all()
