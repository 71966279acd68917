"""Shared helpers for benchmarks: data generation, timed subprocesses, tables."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    for cand in [Path(os.environ.get("BOUNCEKIT_SHARED", "")), REPO.parent / "shared"]:
        if str(cand) and (cand / "bench" / "SPEC.md").exists():
            return cand
    sys.exit("benchmark: ../shared/bench not found (set BOUNCEKIT_SHARED)")


def ensure_data(rows: int, seed: int, workdir: Path) -> Path:
    """Generates (once) the benchmark's Parquet file with the spec's generator."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"events-{rows}-s{seed}.parquet"
    if not path.exists():
        t = time.time()
        subprocess.run([sys.executable, str(shared_dir() / "bench" / "gen_events.py"), "--rows", str(rows),
                        "--seed", str(seed), "--out", str(path)], check=True)
        print(f"generated {path.name} in {time.time() - t:.1f} s", flush=True)
    return path


def timed(cmd: Sequence[str], log: Path, env: Optional[Dict[str, str]] = None) -> Tuple[float, float, int]:
    """Runs cmd under /usr/bin/time -v: (wall seconds, peak RSS MiB, exit code)."""
    tf = log.with_suffix(".time")
    full = ["/usr/bin/time", "-v", "-o", str(tf), *cmd] if Path("/usr/bin/time").exists() else list(cmd)
    t0 = time.time()
    with open(log, "w") as f:
        rc = subprocess.run(full, stdout=f, stderr=subprocess.STDOUT, env=env).returncode
    wall = time.time() - t0
    rss = float("nan")
    if tf.exists():
        txt = tf.read_text()
        m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", txt)
        if m:
            parts = [float(x) for x in m.group(1).split(":")]
            wall = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", txt)
        if m:
            rss = int(m.group(1)) / 1024
    return wall, rss, rc


def same_csv(a: Path, b: Path) -> str:
    if a.read_bytes() == b.read_bytes():
        return "identical"
    r = subprocess.run([sys.executable, str(shared_dir() / "bench" / "compare.py"), str(a), str(b)],
                       capture_output=True, text=True)
    return "equal" if r.returncode == 0 else "DIFFERENT"


def table(rows: List[List[str]], header: List[str]) -> str:
    w = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = "  ".join("{:<%d}" % n for n in w)
    out = [fmt.format(*header), fmt.format(*["-" * n for n in w])]
    out += [fmt.format(*[str(x) for x in r]) for r in rows]
    return "\n".join(out)
