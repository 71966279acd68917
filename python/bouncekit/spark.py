"""bouncekit on Apache Spark (PySpark): classification and bounce history.

* :func:`classify` runs :func:`bouncekit.classify` on Arrow batches with
  ``DataFrame.mapInArrow`` (lazy; the input columns plus ``bounce_class``,
  ``category``, ``blame``, ``retryable``, ``rule_id``);
* :func:`suppress` groups the events into buckets by a hash of the
  recipient and runs the C++ history engine per bucket with
  ``groupBy(...).applyInPandas`` (each bucket holds all events of its
  recipients);
* :func:`aggregate` computes partial campaign x domain counts per bucket the
  same way and merges them with a Spark ``groupBy().sum()``;
* :func:`analyze_history` collects both as pandas DataFrames equal to the
  single-machine :func:`bouncekit.analyze_history`.

Spark does not keep a file's row order across a shuffle, so events of one
recipient with the same ``ts`` need an order: pass ``order="event_id"`` (a
column that increases with the input order). Without it the order of
``monotonically_increasing_id()`` at the point of the call is used, which is
the input order for a DataFrame read from a single source in order.

The executors need bouncekit installed (the same wheel as the driver).

Example (not run as a doctest: it starts a JVM)::

    from pyspark.sql import SparkSession
    import bouncekit.spark as bks
    spark = SparkSession.builder.master("local[2]").getOrCreate()
    events = spark.read.parquet("history.parquet")
    classified = bks.classify(events)
    result = bks.analyze_history(classified, order="event_id")
    result.suppressions.head()
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Optional

from ._distributed import CLASSIFY_OUT, COUNT_COLUMNS, ORDER_COLUMN, finish_suppressions, history_frame
from .history import HISTORY_COLUMNS, SUPPRESSION_POLICIES, HistoryResult

__all__ = ["classify", "suppress", "aggregate", "analyze_history", "SUPPRESSION_SCHEMA", "AGGREGATE_SCHEMA"]

#: Spark schema (DDL) of :func:`suppress`'s result.
SUPPRESSION_SCHEMA = "recipient string, reason string, suppressed_at long, event_count_seen long"
_COUNTS_SCHEMA = "campaign_id long, domain string, " + ", ".join(f"{c} long" for c in COUNT_COLUMNS)
#: Spark schema (DDL) of :func:`aggregate`'s result.
AGGREGATE_SCHEMA = (_COUNTS_SCHEMA + ", hard_rate double, soft_rate double, block_rate double, "
                    "hard_flag tinyint, soft_flag tinyint, block_flag tinyint")


def classify(sdf: Any, *, profile: str = "default", columns: Optional[Mapping[str, Optional[str]]] = None,
             rules: Any = None) -> Any:
    """`sdf` with the classification columns appended, computed by
    ``mapInArrow`` on each Arrow batch (no pandas conversion)."""
    import pyarrow as pa
    from pyspark.sql.types import BooleanType, StringType, StructField, StructType
    from .classify import classify as _classify
    fields = list(sdf.schema.fields) + [StructField(c, BooleanType() if c == "retryable" else StringType(), True)
                                        for c in CLASSIFY_OUT]
    schema = StructType(fields)

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        for b in batches:
            if b.num_rows == 0:
                continue
            out = _classify(pa.Table.from_batches([b]), profile=profile, columns=columns, rules=rules,
                            threads=1, output="arrow", progress=False)
            arrays = list(b.columns)
            for c in CLASSIFY_OUT:
                col = out.column(c).combine_chunks() if hasattr(out.column(c), "combine_chunks") else out.column(c)
                arrays.append(col if c == "retryable" else col.cast(pa.string()))
            yield pa.RecordBatch.from_arrays(arrays, names=[*b.schema.names, *CLASSIFY_OUT])

    return sdf.mapInArrow(run, schema)


def _buckets(sdf: Any, order: Optional[str], buckets: Optional[int]) -> Any:
    from pyspark.sql import functions as F
    if order is None:
        sdf = sdf.withColumn(ORDER_COLUMN, F.monotonically_increasing_id())
        order = ORDER_COLUMN
    elif order not in sdf.columns:
        from .errors import NotFoundError
        raise NotFoundError(f"order column '{order}' not found", column=order)
    n = buckets or int(sdf.sparkSession.conf.get("spark.sql.shuffle.partitions", "200"))
    return sdf.select(*HISTORY_COLUMNS, F.col(order).cast("long").alias(ORDER_COLUMN)).withColumn(
        "_bk_bucket", F.pmod(F.xxhash64("recipient"), F.lit(n)))


def suppress(sdf: Any, *, policy: str = "standard", order: Optional[str] = None,
             buckets: Optional[int] = None) -> Any:
    """The suppression list as a Spark DataFrame (``SUPPRESSION_SCHEMA``), one
    row per suppressed recipient; see the module docstring for `order`.

    Args:
        sdf: events with ``recipient``, ``campaign_id``, ``ts``, ``bounce_class``.
        policy: the suppression policy.
        order: a column giving the input order of events with equal ``ts``.
        buckets: recipient buckets (default: ``spark.sql.shuffle.partitions``).
    """
    if policy not in SUPPRESSION_POLICIES:
        from .errors import NotFoundError
        raise NotFoundError(f"unknown suppression policy {policy!r} (known: {', '.join(SUPPRESSION_POLICIES)})",
                            field="policy")

    def run(pdf: Any) -> Any:
        return history_frame(pdf.drop(columns=["_bk_bucket"]), ORDER_COLUMN, policy=policy)[0]

    return _buckets(sdf, order, buckets).groupBy("_bk_bucket").applyInPandas(run, SUPPRESSION_SCHEMA)


def aggregate(sdf: Any, *, buckets: Optional[int] = None) -> Any:
    """Campaign x domain counts, rates and flags as a Spark DataFrame
    (``AGGREGATE_SCHEMA``; same definitions as :func:`bouncekit.aggregate`),
    from partial counts per recipient bucket merged by Spark."""
    from pyspark.sql import functions as F
    from .history import aggregate as _aggregate

    def run(pdf: Any) -> Any:
        if len(pdf) == 0:
            import pandas as pd
            return pd.DataFrame(columns=["campaign_id", "domain", *COUNT_COLUMNS])
        return _aggregate(pdf[list(HISTORY_COLUMNS)], threads=1, progress=False)[
            ["campaign_id", "domain", *COUNT_COLUMNS]]

    sdf = sdf.select(*HISTORY_COLUMNS).withColumn("_bk_bucket", F.pmod(
        F.xxhash64("recipient"), F.lit(buckets or int(sdf.sparkSession.conf.get("spark.sql.shuffle.partitions",
                                                                                    "200")))))
    partial = sdf.groupBy("_bk_bucket").applyInPandas(run, _COUNTS_SCHEMA)
    g = partial.groupBy("campaign_id", "domain").agg(*[F.sum(c).cast("long").alias(c) for c in COUNT_COLUMNS])
    for c in ("hard", "soft", "block"):
        g = g.withColumn(f"{c}_rate", F.when(F.col("sent") > 0, F.col(c) / F.col("sent")).otherwise(F.lit(0.0)))
    g = (g.withColumn("hard_flag", (F.col("hard") * 20 > F.col("sent")).cast("tinyint"))
          .withColumn("soft_flag", (F.col("soft") * 10 > F.col("sent")).cast("tinyint"))
          .withColumn("block_flag", (F.col("block") * 20 > F.col("sent")).cast("tinyint")))
    return g.orderBy("campaign_id", "domain")


def _to_pandas(sdf: Any) -> Any:
    """Collects through Arrow (``DataFrame.toArrow``, PySpark >= 4) when available."""
    if hasattr(sdf, "toArrow"):
        return sdf.toArrow().to_pandas()
    return sdf.toPandas()


def analyze_history(sdf: Any, *, policy: str = "standard", order: Optional[str] = None,
                    buckets: Optional[int] = None) -> HistoryResult:
    """:func:`suppress` and :func:`aggregate`, collected to pandas in the
    single-machine layout (equal to :func:`bouncekit.analyze_history`)."""
    import pandas as pd
    import numpy as np
    sup = finish_suppressions(_to_pandas(suppress(sdf, policy=policy, order=order, buckets=buckets)))
    agg = _to_pandas(aggregate(sdf, buckets=buckets))
    agg = agg.astype({"campaign_id": "int64", **{c: "int64" for c in COUNT_COLUMNS},
                      "hard_flag": np.int8, "soft_flag": np.int8, "block_flag": np.int8})
    agg["domain"] = agg["domain"].astype(str)
    agg = pd.DataFrame(agg.sort_values(["campaign_id", "domain"], kind="stable").reset_index(drop=True))
    return HistoryResult(suppressions=sup, aggregates=agg, rows=int(sdf.count()), recipients=None)
