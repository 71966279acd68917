"""A generated history of 10^6 events and its single-machine results, made once
per test session (shared by the Dask and Spark tests)."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any, Dict

import numpy as np

N_EVENTS = 1_000_000
FILES = 4


@functools.lru_cache(maxsize=1)
def million() -> Dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    import bouncekit
    from bouncekit import generate
    h = generate.history(N_EVENTS, seed=42)
    h.insert(0, "event_id", np.arange(len(h), dtype=np.int64))
    # Files of 250k events each, in order (part-0 .. part-3); Parquet drops the pandas index.
    d = Path(tempfile.mkdtemp(prefix="bouncekit-million-"))
    t = pa.Table.from_pandas(h, preserve_index=False)
    step = len(h) // FILES
    for i in range(FILES):
        pq.write_table(t.slice(i * step, step if i < FILES - 1 else len(h) - i * step), d / f"part-{i}.parquet",
                       row_group_size=125_000)
    out = bouncekit.classify(h)
    classified = h.assign(**{c: out[c].astype(str) for c in ("bounce_class", "category", "blame", "rule_id")},
                          retryable=out["retryable"].to_numpy(dtype=bool))
    local = bouncekit.analyze_history(classified)
    return {"dir": d, "events": h, "classified": classified, "local": local}
