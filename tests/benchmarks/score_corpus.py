#!/usr/bin/env python3
"""Scores the built-in classifier on the Sisimai DEV corpus and lists misses.

    python3 tests/benchmarks/score_corpus.py [--profile sisimai] [--misses]
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
import corpus  # noqa: E402

import bouncekit  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", default="sisimai")
    ap.add_argument("--misses", action="store_true")
    a = ap.parse_args()
    shared = corpus.shared_dir()
    rows = corpus.load_dev(shared)
    df = corpus.inputs_frame(rows)
    out = bouncekit.classify(df, profile=a.profile, mappings=["sisimai"], threads=1)
    reason, hard, fam = corpus.score(rows, out)
    print(fam.to_string(index=False))
    print(f"reason agreement {reason:.4f}  hard agreement {hard:.4f}  rows {len(rows)}")
    if a.misses:
        for r, (_, o) in zip(rows, out.iterrows()):
            ok_r = str(o["sisimai_reason"]) == r["label_reason"]
            ok_h = (str(o["bounce_class"]) == "hard") == bool(r["label_hardbounce"])
            if not (ok_r and ok_h):
                print(f"--- {r['id']}  want {r['label_reason']}/{'hard' if r['label_hardbounce'] else '-'}"
                      f"  got {o['sisimai_reason']}/{o['bounce_class']} ({o['category']}, rule {o['rule_id']})")
                ds = '' if r['deliverystatus_pseudo'] else r['deliverystatus']
                print(f"    code={r['replycode']!r} status={ds!r} cmd={r['smtpcommand']!r} action={r['action']!r}")
                print(f"    {r['diagnosticcode'][:300]!r}")


if __name__ == "__main__":
    main()
