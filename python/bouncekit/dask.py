"""bouncekit on Dask: classification and bounce history over a Dask DataFrame.

* :func:`classify` maps :func:`bouncekit.classify` over the partitions
  (``map_partitions``; lazy, one output row per input row, same order);
* :func:`analyze_history` (and :func:`suppress` / :func:`aggregate`) shuffles
  the events by recipient so that each partition holds all events of its
  recipients, runs the C++ history engine on every partition, and merges
  the partial campaign x domain counts. The results equal the
  single-machine :func:`bouncekit.analyze_history` on the same rows.

Rows of one recipient with the same ``ts`` are taken in input order, as on
one machine. Dask keeps the partition order, so the input order is known;
pass ``order="event_id"`` to use a column of your own instead.

Works with any scheduler (threads, processes, a ``distributed`` cluster):
the work inside a partition is single-threaded C++ that releases the GIL.

>>> import dask.dataframe as dd, bouncekit, bouncekit.dask as bkd
>>> from bouncekit import generate
>>> events = dd.from_pandas(generate.history(4000, seed=2), npartitions=3)
>>> classified = bkd.classify(events)
>>> r = bkd.analyze_history(classified)
>>> local = bouncekit.analyze_history(classified.compute())
>>> r.suppressions.equals(local.suppressions), r.aggregates.equals(local.aggregates)
(True, True)
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

import numpy as np

from ._distributed import (
    CLASSIFY_OUT,
    ORDER_COLUMN,
    classify_frame,
    finish_suppressions,
    history_frame,
    merge_aggregates,
)
from .history import HISTORY_COLUMNS, HistoryResult

__all__ = ["classify", "analyze_history", "suppress", "aggregate"]


def classify(ddf: Any, *, profile: str = "default", columns: Optional[Mapping[str, Optional[str]]] = None,
             rules: Any = None) -> Any:
    """`ddf` with ``bounce_class``, ``category``, ``blame``, ``retryable`` and
    ``rule_id`` columns appended (lazy; computed partition by partition).

    Args: as :func:`bouncekit.classify` (``profile``, ``columns``, ``rules``).
    """
    import pandas as pd
    meta = ddf._meta.copy()
    for c in CLASSIFY_OUT:
        meta[c] = pd.Series(dtype=bool if c == "retryable" else str)
    return ddf.map_partitions(classify_frame, profile=profile, columns=columns, rules=rules, meta=meta)


def _ordered(ddf: Any, order: Optional[str]) -> Any:
    """The history columns plus an order column (the input row when `order` is None)."""
    cols = list(HISTORY_COLUMNS)
    if order is not None:
        if order not in ddf.columns:
            from .errors import NotFoundError
            raise NotFoundError(f"order column '{order}' not found", column=order)
        return ddf[cols + [order]].rename(columns={order: ORDER_COLUMN})
    lengths = ddf.map_partitions(len).compute()
    offsets = np.concatenate([[0], np.cumsum(np.asarray(lengths, dtype=np.int64))[:-1]])

    def number(part: Any, partition_info: Optional[Mapping[str, Any]] = None) -> Any:
        i = int(partition_info["number"]) if partition_info else 0
        start = int(offsets[i])
        return part.assign(**{ORDER_COLUMN: np.arange(start, start + len(part), dtype=np.int64)})

    sub = ddf[cols]
    meta = sub._meta.assign(**{ORDER_COLUMN: np.array([], dtype=np.int64)})
    return sub.map_partitions(number, meta=meta)


def analyze_history(ddf: Any, *, policy: str = "standard", order: Optional[str] = None,
                    npartitions: Optional[int] = None) -> HistoryResult:
    """The suppression list and the campaign x domain aggregates of a Dask
    DataFrame with ``recipient``, ``campaign_id``, ``ts`` and
    ``bounce_class`` columns, as pandas DataFrames equal to the
    single-machine :func:`bouncekit.analyze_history`.

    Args:
        ddf: the events.
        policy: the suppression policy.
        order: a column giving the input order of events with equal ``ts``
            (default: the row order of `ddf`).
        npartitions: partitions after the shuffle by recipient (default:
            as many as `ddf` has).
    """
    import dask
    import pandas as pd
    from .history import SUPPRESSION_POLICIES
    if policy not in SUPPRESSION_POLICIES:
        from .errors import NotFoundError
        raise NotFoundError(f"unknown suppression policy {policy!r} (known: {', '.join(SUPPRESSION_POLICIES)})",
                            field="policy")
    events = _ordered(ddf, order)
    by_recipient = events.shuffle(on="recipient", npartitions=npartitions or ddf.npartitions)
    sup_meta = pd.DataFrame({"recipient": pd.Series(dtype=object), "reason": pd.Series(dtype=object),
                             "suppressed_at": pd.Series(dtype="int64"),
                             "event_count_seen": pd.Series(dtype="int64")})
    cnt_meta = pd.DataFrame({"campaign_id": pd.Series(dtype="int64"), "domain": pd.Series(dtype=object),
                             **{c: pd.Series(dtype="int64") for c in ("sent", "delivered", "soft", "hard",
                                                                      "block")}})

    def parts(df: Any) -> Any:
        return history_frame(df, ORDER_COLUMN, policy=policy)

    sup = by_recipient.map_partitions(lambda df: parts(df)[0], meta=sup_meta)
    cnt = by_recipient.map_partitions(lambda df: parts(df)[1], meta=cnt_meta)
    # one pass over the shuffled data for both (the partition work is cached per task graph key)
    sup_pd, cnt_pd = dask.compute(sup, cnt)
    rows = int(sum(np.asarray(ddf.map_partitions(len).compute(), dtype=np.int64)))
    suppressions = finish_suppressions(sup_pd)
    return HistoryResult(suppressions=suppressions, aggregates=merge_aggregates(cnt_pd), rows=rows,
                         recipients=None)


def suppress(ddf: Any, *, policy: str = "standard", order: Optional[str] = None) -> Any:
    """The suppression list (pandas) of a Dask DataFrame; see :func:`analyze_history`."""
    return analyze_history(ddf, policy=policy, order=order).suppressions


def aggregate(ddf: Any) -> Any:
    """The campaign x domain aggregates (pandas) of a Dask DataFrame (partial
    counts per partition, merged)."""
    import dask
    from ._distributed import COUNT_COLUMNS
    from .history import aggregate as _aggregate
    import pandas as pd
    meta = pd.DataFrame({"campaign_id": pd.Series(dtype="int64"), "domain": pd.Series(dtype=object),
                         **{c: pd.Series(dtype="int64") for c in COUNT_COLUMNS}})

    def part(df: Any) -> Any:
        if len(df) == 0:
            return meta.copy()
        return _aggregate(df[list(HISTORY_COLUMNS)], threads=1, progress=False)[["campaign_id", "domain",
                                                                                 *COUNT_COLUMNS]]

    (partials,) = dask.compute(ddf.map_partitions(part, meta=meta))
    return merge_aggregates(partials)
