"""Acceptance 2 of issue 5: every sample bounce shipped in Debian's
python3-flufl.bounce (its tests/data folder) goes through
bouncekit.parse_emails without a crash, every file accounted for; prints how
many yield a recipient and a status, and compares our recipients with
flufl.bounce's own answers (all_failures: temporary + permanent).

flufl.bounce is imported from /usr/lib/python3/dist-packages (Debian's
python3 is 3.11 like ours); when that import fails, /usr/bin/python3 runs it
in a subprocess. Skips, saying why, when the package is not installed
(.ci/setup.sh installs it).
"""

from __future__ import annotations

import email
import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, Set

import pytest

import bouncekit

DATA = Path("/usr/lib/python3/dist-packages/flufl/bounce/tests/data")

_FLUFL_SCRIPT = r"""
import email, json, sys
from pathlib import Path
from flufl.bounce import all_failures
out = {}
for p in sorted(Path(sys.argv[1]).iterdir()):
    if p.suffix not in ('.txt', '.eml'):
        continue
    msg = email.message_from_bytes(p.read_bytes())
    try:
        t, f = all_failures(msg)
    except Exception as e:
        out[p.name] = None
        continue
    s = set()
    for a in set(t) | set(f):
        s.add((a.decode('utf-8', 'replace') if isinstance(a, bytes) else str(a)).lower())
    out[p.name] = sorted(s)
print(json.dumps(out))
"""


def flufl_answers() -> Dict[str, Set[str]]:
    try:
        if "/usr/lib/python3/dist-packages" not in sys.path:
            sys.path.append("/usr/lib/python3/dist-packages")
        from flufl.bounce import all_failures  # type: ignore[import-not-found]
        out: Dict[str, Set[str]] = {}
        for p in sorted(DATA.iterdir()):
            if p.suffix not in (".txt", ".eml"):
                continue
            msg = email.message_from_bytes(p.read_bytes())
            try:
                t, f = all_failures(msg)
            except Exception:  # flufl's own failure on a sample: no answer
                continue
            out[p.name] = {(a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a)).lower()
                           for a in set(t) | set(f)}
        return out
    except ImportError:
        res = subprocess.run(["/usr/bin/python3", "-c", _FLUFL_SCRIPT, str(DATA)],
                             capture_output=True, text=True, check=True)
        return {k: set(v) for k, v in json.loads(res.stdout).items() if v is not None}


def test_flufl_bounce_samples() -> None:
    if not DATA.is_dir():
        pytest.skip("python3-flufl.bounce is not installed (apt-get install python3-flufl.bounce; "
                    ".ci/setup.sh does it), so its sample bounces are not here")
    files = sorted(p for p in DATA.iterdir() if p.suffix in (".txt", ".eml"))
    assert len(files) > 100
    res = bouncekit.parse_emails(files)
    s = res.summary()
    assert s["records"] == len(files) == s["records_with_events"] + s["errors"] + s["records_skipped"]
    ev = res.events
    ev = ev.assign(name=[Path(str(x)).name for x in ev["source"]])
    with_rcpt_status = ev[(ev["recipient"] != "") &
                          ((ev["enhanced_status"] != "") | ev["reply_code"].notna())]["name"].nunique()
    with_rcpt = ev[ev["recipient"] != ""]["name"].nunique()
    print(f"\nflufl.bounce samples: {len(files)} files; with a recipient: {with_rcpt}; "
          f"with a recipient and a status (enhanced status or reply code): {with_rcpt_status}")
    print("kinds:", ev["kind"].value_counts().to_dict())
    print("errors by code:", res.errors["code"].value_counts().to_dict())
    for _, e in res.errors.iterrows():
        print("   error:", Path(str(e["source"])).name, e["code"], e["message"])
    # No crash and no internal error: every error is a clear per-record verdict.
    assert set(res.errors["code"]) <= {"NOT_FOUND", "INVALID_ARGUMENT", "DATA_LOSS"}

    answers = flufl_answers()
    mine: Dict[str, Set[str]] = {}
    for name, rcpt in zip(ev["name"], ev["recipient"]):
        mine.setdefault(name, set()).add(rcpt)
    compared = agree_exact = agree_overlap = 0
    for name, theirs in sorted(answers.items()):
        if not theirs:
            continue
        compared += 1
        ours = mine.get(name, set())
        agree_exact += ours == theirs
        agree_overlap += bool(ours & theirs)
        if ours != theirs:
            print(f"   differs: {name}: flufl {sorted(theirs)} bouncekit {sorted(ours)}")
    print(f"flufl.bounce finds recipients in {compared} files; same set: {agree_exact} "
          f"({agree_exact / max(compared, 1):.1%}); at least one in common: {agree_overlap} "
          f"({agree_overlap / max(compared, 1):.1%})")
    assert compared > 50
    assert agree_overlap / compared >= 0.85
