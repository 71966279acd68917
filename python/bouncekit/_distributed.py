"""Pieces shared by :mod:`bouncekit.dask` and :mod:`bouncekit.spark`.

Each engine runs these on its own partitions: classification row by row
(embarrassingly parallel), and the history (suppression + partial
aggregates) on partitions that hold *all* events of their recipients. The
partial aggregates add up (counts per campaign x domain) and are merged
here, then rates and flags are computed exactly as the C++ core does.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Tuple

import numpy as np

from .history import HISTORY_COLUMNS

__all__ = ["CLASSIFY_OUT", "COUNT_COLUMNS", "classify_frame", "history_frame", "merge_aggregates",
           "finish_suppressions", "ORDER_COLUMN"]

#: Columns the distributed classification adds to each row.
CLASSIFY_OUT = ("bounce_class", "category", "blame", "retryable", "rule_id")
#: Additive columns of the partial aggregates.
COUNT_COLUMNS = ("sent", "delivered", "soft", "hard", "block")
#: The column that carries the input order when the caller gives none.
ORDER_COLUMN = "_bk_row"


def classify_frame(df: Any, *, profile: str = "default", columns: Optional[Mapping[str, Optional[str]]] = None,
                   rules: Any = None) -> Any:
    """A pandas partition with the classification columns appended (one thread:
    the engine provides the parallelism)."""
    from .classify import classify
    out = classify(df, profile=profile, columns=columns, rules=rules, threads=1, progress=False)
    # Arrow-backed strings (no Python string objects): cheap to build and to ship between processes.
    add = {c: out[c].astype(str).array for c in CLASSIFY_OUT if c != "retryable"}
    add["retryable"] = out["retryable"].to_numpy(dtype=bool)
    res = df.copy()
    for c in CLASSIFY_OUT:
        res[c] = add[c]
    return res


def history_frame(df: Any, order: str, *, policy: str = "standard") -> Tuple[Any, Any]:
    """(suppressions, partial counts) of one partition holding all events of its
    recipients. Rows are put in ``(ts, order)`` order first, which is the
    order the single-machine run sees them in."""
    import pandas as pd
    from .history import analyze_history
    if len(df) == 0:
        return _empty_suppressions(), _empty_counts()
    part = df.sort_values(["ts", order], kind="stable")
    res = analyze_history(part[list(HISTORY_COLUMNS)].reset_index(drop=True), policy=policy, threads=1,
                          progress=False)
    sup = res.suppressions.assign(reason=res.suppressions["reason"].astype(str))
    counts = res.aggregates[["campaign_id", "domain", *COUNT_COLUMNS]]
    return pd.DataFrame(sup), pd.DataFrame(counts)


def _empty_suppressions() -> Any:
    import pandas as pd
    return pd.DataFrame({"recipient": pd.Series(dtype=str), "reason": pd.Series(dtype=str),
                         "suppressed_at": pd.Series(dtype="int64"), "event_count_seen": pd.Series(dtype="int64")})


def _empty_counts() -> Any:
    import pandas as pd
    d = {"campaign_id": pd.Series(dtype="int64"), "domain": pd.Series(dtype=str)}
    d.update({c: pd.Series(dtype="int64") for c in COUNT_COLUMNS})
    return pd.DataFrame(d)


def merge_aggregates(partials: Any) -> Any:
    """Sums partial counts per (campaign_id, domain) and adds the rates and
    flags of :func:`bouncekit.aggregate` (same definitions, same order)."""
    import pandas as pd
    if len(partials) == 0:
        g = _empty_counts()
    else:
        g = (partials.groupby(["campaign_id", "domain"], sort=False, observed=True)[list(COUNT_COLUMNS)]
             .sum().reset_index())
    g = g.astype({"campaign_id": "int64", **{c: "int64" for c in COUNT_COLUMNS}})
    sent = g["sent"].to_numpy(dtype=np.float64)
    for c in ("hard", "soft", "block"):
        g[f"{c}_rate"] = np.where(sent > 0, g[c].to_numpy(dtype=np.float64) / np.where(sent > 0, sent, 1), 0.0)
    g["hard_flag"] = (20 * g["hard"] > g["sent"]).astype(np.int8)
    g["soft_flag"] = (10 * g["soft"] > g["sent"]).astype(np.int8)
    g["block_flag"] = (20 * g["block"] > g["sent"]).astype(np.int8)
    g["domain"] = g["domain"].astype(str)
    # campaign, then domain bytes (UTF-8 byte order is code point order)
    g = g.sort_values(["campaign_id", "domain"], kind="stable").reset_index(drop=True)
    return pd.DataFrame(g)


def finish_suppressions(sup: Any) -> Any:
    """Concatenated partition results -> the single-machine layout (sorted by
    recipient, ``reason`` categorical)."""
    import pandas as pd
    from .history import SUPPRESSION_REASONS
    out = sup.sort_values("recipient", kind="stable").reset_index(drop=True)
    out["recipient"] = out["recipient"].astype(str)
    out["reason"] = pd.Categorical(out["reason"].astype(str), categories=list(SUPPRESSION_REASONS))
    out["suppressed_at"] = out["suppressed_at"].astype("int64")
    out["event_count_seen"] = out["event_count_seen"].astype("int64")
    return out
