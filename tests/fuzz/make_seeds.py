#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<name>/)
from real samples: the Sisimai corpus (../shared/corpora/sisimai/dev.jsonl),
the bundled sample responses, the bench's edge cases
(../shared/bench/tests/edge_cases.csv), the built-in rules.toml and the
bench's rules.tsv. Run once; the seeds are committed.

    python3 tests/fuzz/make_seeds.py [--shared ../shared]
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
US, RS = "\x1f", "\x1e"


def write(name: str, items: list[bytes]) -> None:
    d = REPO / "tests" / "fuzz" / "corpus" / name
    d.mkdir(parents=True, exist_ok=True)
    seen = set()
    for data in items:
        h = hashlib.sha1(data).hexdigest()[:16]
        if h in seen:
            continue
        seen.add(h)
        (d / h).write_bytes(data)
    print(f"{name}: {len(seen)} seeds")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.environ.get("BOUNCEKIT_SHARED", str(REPO.parent / "shared")))
    a = ap.parse_args()
    shared = Path(a.shared)
    jsonl = [json.loads(line) for line in (shared / "corpora/sisimai/dev.jsonl").read_text(encoding="utf-8").split("\n") if line.strip()]
    with open(REPO / "python/bouncekit/data/sample_bounces.csv", newline="") as f:
        sample = list(csv.DictReader(f))[:300]
    with open(shared / "bench/tests/edge_cases.csv", newline="") as f:
        edges = list(csv.DictReader(f))

    # status: codes, statuses and whole diagnostics.
    status = [b"550", b"5.1.1", b" 4.7.500 ", b"5.1", b"6.0.0", b"5.1.1.1", b"2.0.0 (ok)"]
    for r in jsonl:
        for k in ("diagnosticcode", "deliverystatus", "replycode"):
            if r.get(k):
                status.append(str(r[k]).encode("utf-8", "surrogateescape"))
    for r in sample[:150] + edges:
        status.append(r["diagnostic"].encode())
    write("status", status)

    # classify: rows of (code, status, diagnostic, command, rhost, action, destination).
    def row(code: str, st: str, diag: str, cmd: str = "", rhost: str = "", action: str = "",
            dest: str = "") -> str:
        return US.join([code, st, diag, cmd, rhost, action, dest])

    rows = [row(str(r.get("replycode") or ""), r.get("deliverystatus") or "", r.get("diagnosticcode") or "",
                r.get("smtpcommand") or "", r.get("rhost") or "", r.get("action") or "",
                r.get("destination") or "") for r in jsonl]
    rows += [row(r["reply_code"], r["enhanced_status"], r["diagnostic"], r["smtp_command"], r["remote_host"],
                 r["action"]) for r in sample]
    rows += [row(r["reply_code"], r["enhanced_status"], r["diagnostic"]) for r in edges]
    classify = [x.encode() for x in rows]
    classify += [RS.join(rows[i:i + 8]).encode() for i in range(0, len(rows), 37)]
    write("classify", classify)

    # toml: the real rule files and pieces of them.
    rules_toml = (REPO / "python/bouncekit/data/rules.toml").read_bytes()
    rules_tsv = (shared / "bench/rules.tsv").read_bytes()
    toml = [rules_toml, rules_tsv]
    blocks = rules_toml.split(b"\n[[rules]]")
    toml += [b"[[rules]]" + blk for blk in blocks[1:40]]
    toml += [blocks[0]]
    tsv_lines = rules_tsv.splitlines(keepends=True)
    toml += [tsv_lines[0] + line for line in tsv_lines[1:30]]
    toml += [b'a = 1\nb = "x"\n[t]\nc = [1, 2.5, "s", true]\nd = { e = 0x1f, f = \'lit\' }\n[[arr]]\ng = """m\nl"""\n']
    write("toml", toml)

    # history: edge_cases.csv's events in the target's 4-byte encoding.
    classes = ["delivered", "soft", "hard", "block"]
    recips: dict[str, int] = {}
    camps: dict[str, int] = {}
    hist = []
    chunk: list[int] = []
    t0 = min(int(r["ts"]) for r in edges)
    for r in edges:
        ri = recips.setdefault(r["recipient"], len(recips) % 16)
        ci = camps.setdefault(r["campaign_id"], len(camps) % 8)
        k = classes.index(r["bounce_class"]) if r["bounce_class"] in classes else 4
        tb = ((int(r["ts"]) - t0) // (5 * 86400)) % 32
        chunk += [ri, k, ci, tb]
        if len(chunk) >= 4 * 24:
            hist.append(bytes([len(hist) * 37 % 256] + chunk))
            chunk = []
    if chunk:
        hist.append(bytes([3] + chunk))
    write("history", hist)

    # csv: fields that need quoting and fields that do not.
    csvs = [US.join([r["recipient"], r["diagnostic"], r["enhanced_status"]]).encode() for r in sample[:60]]
    csvs += [b'a,b' + US.encode() + b'say "hi"' + US.encode() + b"line\nbreak\r\n" + US.encode() + b"", b""]
    write("csv", csvs)


if __name__ == "__main__":
    main()
