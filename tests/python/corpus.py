"""Scoring helpers for the Sisimai DEV corpus (../shared/corpora/sisimai).

Only the input fields are given to the classifier: replycode,
deliverystatus (dropped where deliverystatus_pseudo is true, because Sisimai
derived it from the label), diagnosticcode, smtpcommand, rhost, action,
destination. Shared by the corpus test and tests/benchmarks/score_corpus.py.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pandas as pd

REPO = Path(__file__).resolve().parents[2]


def shared_dir() -> Optional[Path]:
    env = os.environ.get("BOUNCEKIT_SHARED")
    for cand in ([Path(env)] if env else []) + [REPO.parent / "shared", REPO / "shared"]:
        if (cand / "corpora" / "sisimai" / "dev.jsonl").exists():
            return cand
    return None


def load_dev(shared: Path) -> List[Dict[str, Any]]:
    with open(shared / "corpora" / "sisimai" / "dev.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def inputs_frame(rows: List[Dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame({
        "reply_code": [r["replycode"] or None for r in rows],
        "enhanced_status": ["" if r["deliverystatus_pseudo"] else r["deliverystatus"] for r in rows],
        "diagnostic": [r["diagnosticcode"] for r in rows],
        "smtp_command": [r["smtpcommand"] for r in rows],
        "remote_host": [r["rhost"] for r in rows],
        "action": [r["action"] for r in rows],
        "destination": [r["destination"] for r in rows],
    })


def score(rows: List[Dict[str, Any]], out: pd.DataFrame) -> Tuple[float, float, pd.DataFrame]:
    """(reason agreement, hard agreement, per-family table)."""
    fam: Dict[str, List[int]] = defaultdict(lambda: [0, 0, 0])
    reason_ok = hard_ok = 0
    for r, (_, o) in zip(rows, out.iterrows()):
        a = str(o["sisimai_reason"]) == r["label_reason"]
        b = (str(o["bounce_class"]) == "hard") == bool(r["label_hardbounce"])
        reason_ok += a
        hard_ok += b
        f = fam[r["sample_family"]]
        f[0] += 1
        f[1] += a
        f[2] += b
    n = len(rows)
    table = pd.DataFrame(
        [(k, v[0], v[1] / v[0], v[2] / v[0]) for k, v in sorted(fam.items())],
        columns=["sample_family", "rows", "reason_agreement", "hard_agreement"])
    return reason_ok / n, hard_ok / n, table
