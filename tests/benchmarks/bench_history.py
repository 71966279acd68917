#!/usr/bin/env python3
"""W2 (suppression policy `standard`) and W3 (campaign x domain aggregates)
benchmark: bouncekit against the peers in ../shared/bench, on one generated
Parquet file, in one run.

    python3 tests/benchmarks/bench_history.py --rows 10000000 [--seed 1] [--workdir DIR]
        [--workloads w2,w3] [--skip REGEX] [--slow-max-rows 20000000] [--repeat N]

Every program runs end to end (Parquet in, CSV out, as the peers do) in its
own process under /usr/bin/time -v, which gives its wall time and peak RSS:
w2_python.py (the oracle), w2_pandas.py, w2_duckdb.py, w2_polars.py and
bouncekit (on all cores and on one), and the same for W3; plus bouncekit
computing W2 and W3 in one pass. Each output is compared with the oracle's
(or, when the oracles are skipped above --slow-max-rows, with DuckDB's) by
../shared/bench/compare.py, and a table gives each program's speed and
memory relative to DuckDB. This is a benchmark, not a test: it prints, it does
not assert.

The bouncekit runs use this same script as their program:

    python3 bench_history.py --run w2|w3|both --in events.parquet --out w2.csv [--out3 w3.csv] [--threads N]
        [--tables]

They write the CSV files with write_history_csv (straight from the core);
the `bouncekit_tables` runs (--tables) go through analyze_history's Arrow
tables and write_csv instead, which costs the import of pyarrow and numpy.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

PEERS = {"w2": ["python", "pandas", "duckdb", "polars"], "w3": ["python", "pandas", "duckdb", "polars"]}


def run_bouncekit(workload: str, inp: str, out: str, out3: Optional[str], threads: Optional[int],
                  tables: bool = False) -> None:
    """The program measured for bouncekit: file in, CSV out, like a peer.

    By default through write_history_csv (the core writes the CSV files; no
    pandas/Arrow table is built, so numpy and pyarrow are never imported);
    with `tables`, through analyze_history(output="arrow") and write_csv, the
    way a script that also looks at the tables goes."""
    t0 = time.perf_counter()
    import bouncekit
    sup = out if workload in ("w2", "both") else None
    agg = out if workload == "w3" else out3 if workload == "both" else None
    if workload == "both":
        assert out3 is not None, "--out3 is needed with --run both"
    if not tables:
        f = bouncekit.write_history_csv(inp, suppressions=sup, aggregates=agg, threads=threads)
        print(f"bouncekit {workload}: {f.rows} rows, {time.perf_counter() - t0:.2f} s (write_history_csv)",
              file=sys.stderr)
        return
    r = bouncekit.analyze_history(inp, suppressions=sup is not None, aggregates=agg is not None, output="arrow",
                                  threads=threads)
    t1 = time.perf_counter()
    if sup is not None:
        bouncekit.write_csv(r.suppressions, sup)
    if agg is not None:
        bouncekit.write_csv(r.aggregates, agg)
    print(f"bouncekit {workload}: {r.rows} rows, compute {t1 - t0:.2f} s, write {time.perf_counter() - t1:.2f} s "
          f"(analyze_history + write_csv)", file=sys.stderr)


def _fmt_ratio(x: float) -> str:
    return f"{x:.2f}x" if x == x else "-"


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", default=None, help="default: tests/benchmarks/work")
    ap.add_argument("--workloads", default="w2,w3", help="comma-separated: w2, w3")
    ap.add_argument("--skip", default="", help="regex on program names to leave out (e.g. 'pandas|polars')")
    ap.add_argument("--repeat", type=int, default=1, help="rounds of every program (best wall time is kept)")
    ap.add_argument("--slow-max-rows", type=int, default=20_000_000,
                    help="above this the pure-Python oracles are skipped (DuckDB becomes the reference)")
    ap.add_argument("--run", choices=["w2", "w3", "both"], help=argparse.SUPPRESS)
    ap.add_argument("--in", dest="inp", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--out3", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--tables", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.run:
        run_bouncekit(a.run, a.inp, a.out, a.out3, a.threads, a.tables)
        return
    # The harness (subprocess, timing, comparisons) is imported only here: the
    # measured program above is the same script, and needs none of it.
    import _bench as B

    work = Path(a.workdir or B.REPO / "tests" / "benchmarks" / "work")
    bench = B.shared_dir() / "bench"
    data = B.ensure_data(a.rows, a.seed, work)
    out = work / "out"
    out.mkdir(exist_ok=True)
    import duckdb
    import numpy
    import pandas
    import polars
    import pyarrow

    import bouncekit
    print(f"W2/W3 benchmark: {a.rows:,} rows, {data.name}; bouncekit {bouncekit.__version__}, "
          f"duckdb {duckdb.__version__}, polars {polars.__version__}, pandas {pandas.__version__}, "
          f"pyarrow {pyarrow.__version__}, numpy {numpy.__version__}, {os.cpu_count()} cores", flush=True)
    me = str(Path(__file__).resolve())
    skip = re.compile(a.skip) if a.skip else None
    workloads = [w.strip() for w in a.workloads.split(",") if w.strip()]

    # name -> (workload, command without --out, output file(s))
    runs: List[Tuple[str, str, List[str]]] = []
    for w in workloads:
        for peer in PEERS[w]:
            if peer == "python" and a.rows > a.slow_max_rows:
                continue
            runs.append((f"{w}_{peer}", w, [sys.executable, str(bench / f"{w}_{peer}.py"), "--in", str(data)]))
        for th in (os.cpu_count() or 1, 1):
            runs.append((f"{w}_bouncekit_{th}t", w, [sys.executable, me, "--run", w, "--in", str(data),
                                                     "--threads", str(th)]))
        # The same through pandas/Arrow tables (analyze_history + write_csv).
        th = os.cpu_count() or 1
        runs.append((f"{w}_bouncekit_tables_{th}t", w, [sys.executable, me, "--run", w, "--tables", "--in",
                                                         str(data), "--threads", str(th)]))
    if "w2" in workloads and "w3" in workloads:
        th = os.cpu_count() or 1
        runs.append((f"both_bouncekit_{th}t", "both", [sys.executable, me, "--run", "both", "--in", str(data),
                                                       "--threads", str(th), "--out3", str(out / "both_w3.csv")]))

    # With --repeat N the programs run N rounds, interleaved, so that each sees
    # the same machine states; the tables take each one's best wall time and
    # its highest peak RSS, and the per-round ratios show the spread.
    # Every program runs with OPENBLAS_NUM_THREADS=1 unless the caller set it:
    # none of them does linear algebra, but each that imports numpy (pandas'
    # and bouncekit's, through pyarrow) starts OpenBLAS threads that
    # busy-wait for a while, and on a machine of two cores that takes CPU
    # from the program's own threads (about 0.1 CPU s for bouncekit's W2 at
    # 10^7). DuckDB's program does not import numpy, so this changes nothing
    # for it. bench_parse.py does the same.
    env = dict(os.environ)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    every: Dict[str, List[Tuple[float, float, int]]] = {}
    results: Dict[str, Tuple[float, float, int, Path]] = {}
    for rnd in range(a.repeat):
        if a.repeat > 1:
            print(f" round {rnd + 1} of {a.repeat}", flush=True)
        for name, w, cmd in runs:
            if skip is not None and skip.search(name):
                continue
            target = out / f"{name}.csv"
            if target.exists():
                target.unlink()
            wall, rss, rc = B.timed(cmd + ["--out", str(target)], out / f"{name}.log", env)
            every.setdefault(name, []).append((wall, rss, rc))
            print(f"  {name}: {wall:.2f} s, {rss:.0f} MiB, exit {rc}", flush=True)
    for name, seen in every.items():
        bad = [r for r in seen if r[2] != 0]
        results[name] = (min(r[0] for r in seen), max(r[1] for r in seen), bad[0][2] if bad else 0,
                         out / f"{name}.csv")

    for w in workloads:
        ref_name = f"{w}_python" if f"{w}_python" in results and results[f"{w}_python"][2] == 0 else f"{w}_duckdb"
        ref = results.get(ref_name)
        duck = results.get(f"{w}_duckdb")
        rows = []
        entries = [(n, r) for n, r in results.items() if n.startswith(w + "_")]
        if w == "w3" and f"both_bouncekit_{os.cpu_count() or 1}t" in results:
            both = results[f"both_bouncekit_{os.cpu_count() or 1}t"]
            entries.append((f"both_bouncekit_{os.cpu_count() or 1}t (w3 part)",
                            (both[0], both[1], both[2], out / "both_w3.csv")))
        if w == "w2" and f"both_bouncekit_{os.cpu_count() or 1}t" in results:
            entries.append((f"both_bouncekit_{os.cpu_count() or 1}t (w2 part)",
                            results[f"both_bouncekit_{os.cpu_count() or 1}t"]))
        for name, (wall, rss, rc, target) in entries:
            if rc != 0 or not target.exists():
                check = f"FAILED (exit {rc}, see {name}.log)"
            elif ref is None or name == ref_name:
                check = "reference" if name == ref_name else "-"
            else:
                check = B.same_csv(ref[3], target)
            speed = duck[0] / wall if duck and duck[2] == 0 else float("nan")
            mem = rss / duck[1] if duck and duck[2] == 0 else float("nan")
            rows.append([name, f"{wall:.2f}", f"{rss:.0f}", _fmt_ratio(speed), _fmt_ratio(mem), check])
        best = " (best wall of each, highest RSS)" if a.repeat > 1 else ""
        print(f"\n{w.upper()} end to end, {a.rows:,} rows (reference: {ref_name}){best}; "
              "speed = DuckDB wall / wall, memory = peak RSS / DuckDB's")
        print(B.table(rows, ["program", "wall s", "RSS MiB", "speed vs duckdb", "memory vs duckdb",
                             "output vs reference"]))
        if a.repeat > 1 and f"{w}_duckdb" in every:
            for name in every:
                if name.startswith(w + "_bouncekit"):
                    per = [d[0] / b[0] for d, b in zip(every[f"{w}_duckdb"], every[name])]
                    print(f"  {name} vs duckdb, round by round: {', '.join(f'{x:.2f}x' for x in per)}")


if __name__ == "__main__":
    main()
