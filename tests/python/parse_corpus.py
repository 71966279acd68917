"""Scoring of bouncekit.parse_emails on the Sisimai DEV e-mails (shared by
tests/python/test_parse_corpus.py and tests/benchmarks/bench_parse.py).

A dev.jsonl row is matched to an event of the same e-mail whose recipient's
domain is the row's `destination` (in order, each event used once). The row
counts as 'recipient found' when such an event exists; its reason agrees
when the event's sisimai_reason equals label_reason; hard agrees when
(bounce_class == 'hard') equals label_hardbounce.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pandas as pd


def score(rows: List[Dict[str, Any]], events: pd.DataFrame, emails_dir: Path
          ) -> Tuple[Dict[str, float], pd.DataFrame, List[Tuple[str, str, str]]]:
    by_source: Dict[str, List[int]] = defaultdict(list)
    for i, s in enumerate(events["source"]):
        s = str(s)
        head, _, tail = s.rpartition(":")
        if tail.isdigit():  # "file:N": the N-th message of an mbox file
            s = head
        by_source[str(Path(s).resolve())].append(i)
    used: set = set()
    fam: Dict[str, List[int]] = defaultdict(lambda: [0, 0, 0, 0])
    found = reason = hard = 0
    misses: List[Tuple[str, str, str]] = []
    for r in rows:
        path = str((emails_dir / r["sample_path"]).resolve())
        cands = [i for i in by_source.get(path, []) if i not in used]
        hit = None
        for i in cands:
            if str(events.at[i, "recipient"]).rpartition("@")[2] == r["destination"]:
                hit = i
                break
        f = fam[r["sample_family"]]
        f[0] += 1
        if hit is None:
            misses.append((r["id"], "recipient", ",".join(str(events.at[i, "recipient"]) for i in cands)))
            continue
        used.add(hit)
        ev = events.loc[hit]
        a = str(ev["sisimai_reason"]) == r["label_reason"]
        b = (str(ev["bounce_class"]) == "hard") == bool(r["label_hardbounce"])
        found += 1
        reason += a
        hard += b
        f[1] += 1
        f[2] += a
        f[3] += b
        if not a:
            misses.append((r["id"], f"reason {ev['sisimai_reason']} != {r['label_reason']}",
                           str(ev["diagnostic"])[:200]))
    n = len(rows)
    table = pd.DataFrame([(k, v[0], v[1] / v[0], v[2] / v[0], v[3] / v[0])
                          for k, v in sorted(fam.items())],
                         columns=["sample_family", "rows", "recipient_found", "reason_agreement",
                                  "hard_agreement"])
    return ({"recipient_found": found / n, "reason_agreement": reason / n,
             "hard_agreement": hard / n}, table, misses)
