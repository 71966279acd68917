#!/usr/bin/env python3
"""W1 (classify) benchmark: bouncekit against the peers in ../shared/bench,
on one generated Parquet file, in one run.

    python3 tests/benchmarks/bench_w1.py --rows 10000000 [--seed 1] [--workdir DIR]

Two measurements, both printed as ratios against DuckDB:

1. end to end (file in, CSV out, as the peers do), each program in its own
   process under /usr/bin/time -v (wall time, peak RSS): w1_python_re.py,
   w1_pandas.py, w1_duckdb.py, and bouncekit with the spec's rules.tsv and with
   its built-in rules, on 1 and 2 threads;
2. classification alone on data already in memory: bouncekit on an Arrow
   table; DuckDB querying that same Arrow table (CREATE TABLE AS SELECT with the
   peer's own CASE expression); pandas running the peer's cascade on the same
   DataFrame (its main() with file reading/writing replaced).

The bouncekit rules.tsv output is checked byte for byte against the oracle.
This is a benchmark, not a test: it prints, it does not assert.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _bench as B  # noqa: E402


W1_FIELDS = ["bounce_class", "category", "rule_id"]


def in_memory(data: Path, bench: Path, threads_list, skip_python: bool) -> list:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    import bouncekit
    sys.path.insert(0, str(bench))
    C = importlib.import_module("_common")
    rules_tsv = bouncekit.load_rules(bench / "rules.tsv")
    cols = ["reply_code", "enhanced_status", "diagnostic"]
    table = pq.read_table(data, columns=cols)
    table = table.combine_chunks()
    n = table.num_rows
    rows = []

    def best(fn, reps=2):
        ts = []
        for _ in range(reps):
            gc.collect()
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        return min(ts)

    for th in threads_list:
        # The three columns W1 asks for (DuckDB's query computes those too).
        t = best(lambda: bouncekit.classify(table, rules=rules_tsv, threads=th, output="arrow", fields=W1_FIELDS))
        rows.append((f"bouncekit rules.tsv, {th} thread(s)", t))
        t = best(lambda: bouncekit.classify(table, threads=th, output="arrow", fields=W1_FIELDS))
        rows.append((f"bouncekit built-in rules, {th} thread(s)", t))

    import duckdb
    w1d = importlib.import_module("w1_duckdb")
    sql = w1d.build_sql(str(data), "/dev/null")[-1]
    select = sql[len("COPY ("):sql.rindex(") TO ")]
    for th in (1, 2):
        con = duckdb.connect()
        con.execute(f"SET threads TO {th}")
        con.register("ev_arrow", table)
        con.execute("CREATE VIEW ev AS SELECT reply_code, coalesce(enhanced_status, '') AS enhanced_status, "
                    "coalesce(diagnostic, '') AS diagnostic FROM ev_arrow")

        def run() -> None:
            con.execute("CREATE OR REPLACE TEMP TABLE w1_out AS " + select)
        rows.append((f"duckdb {duckdb.__version__}, {th} thread(s)", best(run)))
        con.close()

    import pandas as pd
    df = table.to_pandas(types_mapper={pa.string(): pd.ArrowDtype(pa.string()),
                                       pa.large_string(): pd.ArrowDtype(pa.large_string())}.get)
    df["reply_code"] = df["reply_code"].to_numpy(dtype=np.int16)
    w1p = importlib.import_module("w1_pandas")
    orig = (C.read_pandas, C.write_pandas_csv, C.parse_args)
    C.read_pandas = lambda path, columns, categorical=(): df
    C.write_pandas_csv = lambda out, path: None
    C.parse_args = lambda desc, extra=None: argparse.Namespace(inp="mem", out="mem")
    try:
        rows.append((f"pandas {pd.__version__} cascade", best(w1p.main, reps=1)))
        if not skip_python:
            w1r = importlib.import_module("w1_python_re")
            lists = [c.to_pylist() for c in table.columns]
            C.iter_rows = lambda path, columns, batch_size=65536: zip(*lists)
            C.csv_writer = lambda path: (open(os.devnull, "w"), __import__("csv").writer(open(os.devnull, "w")))
            rows.append(("python re loop", best(w1r.main, reps=1)))
    finally:
        C.read_pandas, C.write_pandas_csv, C.parse_args = orig
    return [(name, t, n / t) for name, t in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", default=str(B.REPO / "tests" / "benchmarks" / "work"))
    ap.add_argument("--skip-python", action="store_true", help="skip the slow pure-Python peer")
    a = ap.parse_args()
    work = Path(a.workdir)
    bench = B.shared_dir() / "bench"
    data = B.ensure_data(a.rows, a.seed, work)
    out = work / "out"
    out.mkdir(exist_ok=True)
    import duckdb
    import pandas
    import pyarrow

    import bouncekit
    print(f"W1 benchmark: {a.rows:,} rows, {data.name}; bouncekit {bouncekit.__version__}, "
          f"duckdb {duckdb.__version__}, pandas {pandas.__version__}, pyarrow {pyarrow.__version__}, "
          f"{os.cpu_count()} cores", flush=True)

    # 1. end to end
    here = Path(__file__).resolve().parent
    runs = [
        ("duckdb (w1_duckdb.py)", [sys.executable, str(bench / "w1_duckdb.py"), "--in", str(data)]),
        ("pandas (w1_pandas.py)", [sys.executable, str(bench / "w1_pandas.py"), "--in", str(data)]),
    ]
    if not a.skip_python:
        runs.append(("python re (w1_python_re.py, oracle)",
                     [sys.executable, str(bench / "w1_python_re.py"), "--in", str(data)]))
    for th in (1, 2):
        runs.append((f"bouncekit rules.tsv, {th} thread(s)",
                     [sys.executable, str(here / "w1_bouncekit.py"), "--in", str(data), "--rules",
                      str(bench / "rules.tsv"), "--threads", str(th)]))
        runs.append((f"bouncekit built-in rules, {th} thread(s)",
                     [sys.executable, str(here / "w1_bouncekit.py"), "--in", str(data), "--threads", str(th)]))
    # The input in the page cache before the first timed program (which would
    # otherwise be the only one to read it from disk).
    with open(data, "rb") as f:
        while f.read(1 << 24):
            pass
    results = {}
    for name, cmd in runs:
        # One stable file per program, removed before it runs (as in
        # bench_history.py): every program writes a new file, and outputs do
        # not pile up run after run (str hash() differs per process, so the
        # names used to, filling the disk and the page cache with old runs).
        target = out / ("w1-" + re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") + ".csv")
        if target.exists():
            target.unlink()
        wall, rss, rc = B.timed(cmd + ["--out", str(target)], target.with_suffix(".log"))
        results[name] = (wall, rss, rc, target)
        print(f"  {name}: {wall:.2f} s, {rss:.0f} MiB, exit {rc}", flush=True)
    ref = results.get("python re (w1_python_re.py, oracle)", (0, 0, 1, None))[3]
    if ref is None or not ref.exists():
        ref = results["duckdb (w1_duckdb.py)"][3]
    duck = results["duckdb (w1_duckdb.py)"][0]
    rows = []
    for name, (wall, rss, rc, target) in results.items():
        check = "-" if "built-in" in name else (B.same_csv(ref, target) if rc == 0 else "failed")
        rows.append([name, f"{wall:.2f}", f"{rss:.0f}", f"{duck / wall:.2f}x", check])
    print("\n1) end to end: Parquet in, CSV out (wall s, peak RSS MiB, speed vs DuckDB, output vs oracle)")
    print(B.table(rows, ["program", "wall s", "RSS MiB", "vs duckdb", "output"]))

    # 2. classification alone, in memory
    mem = in_memory(data, bench, (1, 2), a.skip_python)
    duck_mem = {n: t for n, t, _ in mem if n.startswith("duckdb")}
    d2 = [t for n, t in duck_mem.items() if n.endswith("2 thread(s)")][0]
    d1 = [t for n, t in duck_mem.items() if n.endswith("1 thread(s)")][0]
    print("\n2) classification alone on in-memory data (best of 2; speed vs DuckDB on 2 threads and on 1)")
    print(B.table([[n, f"{t:.3f}", f"{r / 1e6:.1f}", f"{d2 / t:.1f}x", f"{d1 / t:.1f}x"] for n, t, r in mem],
                  ["engine", "seconds", "M rows/s", "vs duckdb 2t", "vs duckdb 1t"]))


if __name__ == "__main__":
    main()
