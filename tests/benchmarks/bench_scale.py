#!/usr/bin/env python3
"""Scale-out benchmark: throughput of bouncekit.dask and bouncekit.spark against
worker count, next to the single-machine run, on one generated history.

    python3 tests/benchmarks/bench_scale.py [--rows 1000000] [--workers 1,2] [--engines local,dask,spark]
        [--repeat 2]

For each engine and worker count it times (a) classification of every row and
(b) the history (suppression list + campaign x domain aggregates) of the
classified rows, checks that the results equal the single-machine ones, and
prints events per second. Dask runs on a ``distributed.LocalCluster`` with N
single-threaded worker processes; Spark on ``local[N]``. The single-machine
run uses bouncekit's own threads (N threads).

It prints the machine's core count with the table: on a 2-core machine the
curve stops at 2 workers, and the engines' overheads (task scheduling,
serialisation to worker processes, the JVM) dominate; the point of the
engines is more than one machine. This is a benchmark, not a test: it prints,
it does not assert (except result equality).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import numpy as np


def best_of(fn: Callable[[], Any], repeat: int) -> Tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--engines", default="local,dask,spark")
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    import bouncekit
    from bouncekit import generate
    workers = [int(w) for w in a.workers.split(",")]
    engines = a.engines.split(",")
    print(f"machine: {os.cpu_count()} cores; rows: {a.rows:,}; workers: {workers}; best of {a.repeat}", flush=True)
    t = time.perf_counter()
    h = generate.history(a.rows, seed=7)
    h.insert(0, "event_id", np.arange(len(h), dtype=np.int64))
    print(f"generated {len(h):,} events in {time.perf_counter() - t:.1f} s", flush=True)
    d = Path(tempfile.mkdtemp(prefix="bouncekit-bench-scale-"))
    tab = pa.Table.from_pandas(h, preserve_index=False)
    files = 8
    step = -(-len(h) // files)
    for i in range(files):
        pq.write_table(tab.slice(i * step, step), d / f"part-{i}.parquet")
    local_cls = bouncekit.classify(h, progress=False)
    classified = h.assign(bounce_class=local_cls["bounce_class"].astype(str))
    hist_cols = ["event_id", "recipient", "campaign_id", "ts", "bounce_class"]
    pq.write_table(pa.Table.from_pandas(classified[hist_cols], preserve_index=False), d / "classified.parquet")
    want = bouncekit.analyze_history(classified[hist_cols[1:]])
    rows: List[Dict[str, Any]] = []

    def record(engine: str, n: int, what: str, secs: float, ok: bool) -> None:
        rows.append({"engine": engine, "workers": n, "step": what, "seconds": round(secs, 2),
                     "events/s": int(len(h) / secs), "equal": ok})
        print(f"  {engine:<6} workers={n} {what:<9} {secs:7.2f} s  {len(h) / secs:12,.0f} events/s  "
              f"equal={ok}", flush=True)

    if "local" in engines:
        for n in workers:
            s, out = best_of(lambda: bouncekit.classify(h, threads=n, progress=False), a.repeat)
            record("local", n, "classify", s, out["category"].equals(local_cls["category"]))
            s, r = best_of(lambda: bouncekit.analyze_history(classified[hist_cols[1:]], threads=n), a.repeat)
            record("local", n, "history", s, r.suppressions.equals(want.suppressions)
                   and r.aggregates.equals(want.aggregates))
    if "dask" in engines:
        import dask.dataframe as dd
        import distributed
        import bouncekit.dask as bkd
        for n in workers:
            with distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                          dashboard_address=":0", memory_limit="3GiB") as cluster, \
                    distributed.Client(cluster):
                ev = dd.read_parquet(str(d / "part-*.parquet"))
                s, out = best_of(lambda: bkd.classify(ev)[["category"]].compute(), a.repeat)
                record("dask", n, "classify", s, out["category"].tolist() == local_cls["category"].astype(str).tolist())
                cl = dd.read_parquet(str(d / "classified.parquet")).repartition(npartitions=8)
                s, r = best_of(lambda: bkd.analyze_history(cl, order="event_id"), a.repeat)
                record("dask", n, "history", s, r.suppressions.equals(want.suppressions)
                       and r.aggregates.equals(want.aggregates))
    if "spark" in engines:
        os.environ["PYSPARK_PYTHON"] = sys.executable
        from pyspark.sql import SparkSession
        import bouncekit.spark as bks
        for n in workers:
            spark = (SparkSession.builder.master(f"local[{n}]").appName("bench-scale")
                     .config("spark.sql.shuffle.partitions", str(4 * n)).config("spark.driver.memory", "3g")
                     .config("spark.ui.enabled", "false").getOrCreate())
            spark.sparkContext.setLogLevel("ERROR")
            ev = spark.read.parquet(str(d / "part-*.parquet"))
            s, out = best_of(lambda: bks.classify(ev).select("event_id", "category").toArrow().to_pandas(),
                             a.repeat)
            out = out.sort_values("event_id")
            record("spark", n, "classify", s, out["category"].tolist() == local_cls["category"].astype(str).tolist())
            cl = spark.read.parquet(str(d / "classified.parquet"))
            s, r = best_of(lambda: bks.analyze_history(cl, order="event_id"), a.repeat)
            record("spark", n, "history", s, r.suppressions.equals(want.suppressions)
                   and r.aggregates.equals(want.aggregates))
            spark.stop()
    print()
    print(pd.DataFrame(rows).to_string(index=False))
    print(f"\n{os.cpu_count()} cores on this machine: more workers than cores cannot go faster here.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
