"""Bounce history: who to stop mailing, and how each campaign fared per domain.

Two computations over a table of delivery events (one row per attempt, with
``recipient``, ``campaign_id``, ``ts`` in epoch seconds and ``bounce_class``):

* :func:`suppress` — the suppression list under a policy. Policy
  ``standard``: per recipient, events in ``(ts, input row)`` order, suppress
  at the first hard bounce, or at a soft bounce once the soft bounces since
  the last delivery come from 3 distinct campaigns (``soft_streak``), or the
  soft bounces of the last 30 days do (``soft_window``);
* :func:`aggregate` — per ``(campaign_id, domain)`` counts of sent,
  delivered, soft, hard and block events, their rates and threshold flags;
* :func:`analyze_history` — both in one pass over the data;
* :class:`BounceHistory` — the same, fed batch by batch (streams, many files).

The work runs in C++ over Arrow memory: recipients are interned once, events
kept in 16 bytes each, and Parquet/CSV files are read in batches, so inputs of
10^8 rows never need to be in memory as a table.

>>> import pandas as pd, bouncekit
>>> events = pd.DataFrame({
...     "recipient": ["ann@example.com", "ann@example.com", "bob@Example.com", "bob@Example.com",
...                   "bob@Example.com"],
...     "campaign_id": [1, 2, 1, 2, 3],
...     "ts": [1000, 2000, 1000, 2000, 3000],
...     "bounce_class": ["delivered", "hard", "soft", "soft", "soft"]})
>>> bouncekit.suppress(events)
         recipient       reason  suppressed_at  event_count_seen
0  ann@example.com  hard_bounce           2000                 2
1  bob@Example.com  soft_streak           3000                 3
>>> bouncekit.aggregate(events)[["campaign_id", "domain", "sent", "hard", "hard_rate", "hard_flag"]]
   campaign_id       domain  sent  hard  hard_rate  hard_flag
0            1  example.com     2     0        0.0          0
1            2  example.com     2     1        0.5          1
2            3  example.com     1     0        0.0          0
"""

from __future__ import annotations

import csv
import gc
import os
import sys
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import (TYPE_CHECKING, Any, Callable, Deque, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence,
                    Tuple, Union)

from ._lazy import lazy_module, loaded_instance

if TYPE_CHECKING:
    from concurrent.futures import Future

    import numpy as np
    import pyarrow as pa
else:  # imported on first use: `import bouncekit` stays light
    np = lazy_module("numpy")
    pa = lazy_module("pyarrow")

from . import _core
from ._parquet import NativeParquet, open_native
from ._progress import progress_bar
from ._tables import _normalise_string, read_input
from .errors import BouncekitError, InvalidArgumentError, NotFoundError

__all__ = [
    "HISTORY_COLUMNS",
    "SUPPRESSION_POLICIES",
    "SUPPRESSION_REASONS",
    "SUPPRESSION_COLUMNS",
    "AGGREGATE_COLUMNS",
    "BounceHistory",
    "HistoryResult",
    "HistoryFiles",
    "suppress",
    "aggregate",
    "analyze_history",
    "write_history_csv",
]

#: Input columns the history functions read (all required).
HISTORY_COLUMNS = ("recipient", "campaign_id", "ts", "bounce_class")
#: Suppression policies by name.
SUPPRESSION_POLICIES = tuple(_core.suppression_policies())
#: Values of the suppression list's ``reason`` column.
SUPPRESSION_REASONS = tuple(_core.SUPPRESSION_REASONS)
#: Columns of :func:`suppress`'s result.
SUPPRESSION_COLUMNS = ("recipient", "reason", "suppressed_at", "event_count_seen")
#: Columns of :func:`aggregate`'s result.
AGGREGATE_COLUMNS = ("campaign_id", "domain", "sent", "delivered", "soft", "hard", "block",
                     "hard_rate", "soft_rate", "block_rate", "hard_flag", "soft_flag", "block_flag")

_DEFAULT_BATCH_ROWS = 1 << 20
# Parquet row groups up to this size are read whole (faster); larger ones are
# streamed in batches, so memory stays bounded whatever the file's layout.
_MAX_ROW_GROUP_ROWS = 1 << 23
_OUTPUTS = ("pandas", "arrow", "polars")
# bounce_class value -> index into _core.EVENT_CLASSES (anything else: 0, "other").
_CLASS_CODES: Dict[Union[str, bytes], int] = {}
for _i, _name in enumerate(_core.EVENT_CLASSES):
    if _name != "other":
        _CLASS_CODES[_name] = _i
        _CLASS_CODES[_name.encode()] = _i
_TS_UNITS = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class HistoryResult:
    """What :func:`analyze_history` and :meth:`BounceHistory.finish` return.

    Attributes:
        suppressions: the suppression list (``None`` when not asked for).
        aggregates: the campaign x domain table (``None`` when not asked for).
        rows: events read.
        recipients: distinct recipients among them (``None`` when only the
            aggregates were computed: recipients are then not kept).
    """

    suppressions: Any
    aggregates: Any
    rows: int
    recipients: Optional[int]

    def _counts(self) -> Tuple[Optional[int], Optional[int], Optional[int], Dict[str, int]]:
        sup = None if self.suppressions is None else len(self.suppressions)
        cells = flagged = None
        reasons: Dict[str, int] = {}
        if self.suppressions is not None and sup:
            col = self.suppressions["reason"]
            values = col.to_pylist() if hasattr(col, "to_pylist") else [str(v) for v in col]
            for v in values:
                reasons[str(v)] = reasons.get(str(v), 0) + 1
        if self.aggregates is not None:
            agg = self.aggregates
            cells = len(agg)
            flags = [np.asarray(agg[c]) for c in ("hard_flag", "soft_flag", "block_flag")]
            flagged = int(np.count_nonzero(flags[0] | flags[1] | flags[2])) if cells else 0
        return sup, cells, flagged, reasons

    def __repr__(self) -> str:
        """A one-line summary (the tables themselves are attributes).

        >>> analyze_history({"recipient": ["a@x.org"], "campaign_id": [1], "ts": [0], "bounce_class": ["hard"]})
        HistoryResult(rows=1, recipients=1, suppressed=1 (hard_bounce 1), aggregate_cells=1, flagged_cells=1)
        """
        sup, cells, flagged, reasons = self._counts()
        why = f" ({', '.join(f'{k} {v}' for k, v in sorted(reasons.items()))})" if reasons else ""
        return (f"HistoryResult(rows={self.rows}, recipients={self.recipients}, suppressed={sup}{why}, "
                f"aggregate_cells={cells}, flagged_cells={flagged})")

    def _repr_html_(self) -> str:
        """A summary and the first rows of each table, for Jupyter."""
        import html
        sup, cells, flagged, reasons = self._counts()
        parts = [f"<div><b>HistoryResult</b>: {self.rows:,} events"
                 + (f", {self.recipients:,} recipients" if self.recipients is not None else "")
                 + (f", <b>{sup:,}</b> suppressed" if sup is not None else "")
                 + (" (" + ", ".join(f"{html.escape(k)} {v:,}" for k, v in sorted(reasons.items())) + ")"
                    if reasons else "")
                 + (f", {cells:,} campaign x domain cells, {flagged:,} flagged" if cells is not None else "")]
        for name, table in (("suppressions", self.suppressions), ("aggregates", self.aggregates)):
            if table is None:
                continue
            head = table.head(5) if hasattr(table, "head") else table.slice(0, 5)
            if hasattr(head, "to_html"):
                body = head.to_html(index=False)
            elif hasattr(head, "_repr_html_"):
                body = head._repr_html_()
            else:
                body = "<pre>" + html.escape(repr(head)) + "</pre>"
            parts.append(f"<details><summary>{name} (first 5 rows)</summary>{body}</details>")
        parts.append("</div>")
        return "".join(parts)


# ------------------------------------------------------------------ input

def _int64_column(arr: pa.Array, column: str, first_row: int) -> pa.Array:
    """An integer-like column as int64 (nulls kept: the core names their rows)."""
    t = arr.type
    if pa.types.is_int64(t):
        return arr
    if pa.types.is_dictionary(t):
        return _int64_column(arr.dictionary_decode(), column, first_row)
    if pa.types.is_null(t):
        return pa.nulls(len(arr), pa.int64())
    if pa.types.is_integer(t):
        if pa.types.is_uint64(t):
            vals = arr.to_numpy(zero_copy_only=False)
            big = np.flatnonzero(np.nan_to_num(vals.astype(np.float64), nan=0.0) > float(2 ** 63 - 1))
            if len(big):
                row = first_row + int(big[0])
                raise InvalidArgumentError(f"column '{column}' row {row}: {vals[big[0]]} does not fit int64",
                                           column=column, row=row)
        return arr.cast(pa.int64())
    if column == "ts" and pa.types.is_timestamp(t):
        per_second = _TS_UNITS[t.unit]
        ints = arr.cast(pa.int64())
        if per_second == 1:
            return ints
        mask = ints.is_null().to_numpy(zero_copy_only=False) if ints.null_count else None
        secs = np.floor_divide(ints.fill_null(0).to_numpy(), per_second)
        return pa.array(secs, mask=mask, type=pa.int64())
    if pa.types.is_floating(t):
        vals = arr.to_numpy(zero_copy_only=False).astype(np.float64)
        finite = np.isfinite(vals)
        bad = np.flatnonzero((~finite & ~np.isnan(vals)) | (finite & (vals != np.trunc(np.where(finite, vals, 0)))))
        if len(bad):
            row = first_row + int(bad[0])
            raise InvalidArgumentError(f"column '{column}' row {row}: {float(vals[bad[0]])!r} is not a whole number",
                                       column=column, row=row)
        mask = ~finite if not finite.all() else None
        return pa.array(np.where(finite, vals, 0).astype(np.int64), mask=mask, type=pa.int64())
    raise InvalidArgumentError(f"column '{column}' has type {t}; expected integers (int64)", column=column)


def _class_codes(arr: pa.DictionaryArray) -> Dict[str, np.ndarray]:
    """Dictionary-encoded classes -> their indices and the EventClass of each
    dictionary value (null: the extra last entry); the core maps them, one
    lookup per value, without new memory per batch."""
    values = arr.dictionary.to_pylist()
    lut = np.array([_CLASS_CODES.get(v, 0) if v is not None else 0 for v in values] + [0], dtype=np.uint8)
    idx = arr.indices
    if idx.null_count:
        idx = idx.fill_null(len(values))
    # The index buffer read in place (Array.to_numpy would import pandas).
    dtype = np.dtype(str(idx.type))  # (Arrow's integer type names are numpy's)
    raw = np.frombuffer(idx.buffers()[1], dtype=dtype, count=len(idx), offset=idx.offset * dtype.itemsize)
    if dtype != np.int32:
        raw = raw.astype(np.int64)
        if len(raw) and int(raw.max()) >= len(lut):  # (unsigned values past int32 would wrap)
            raise InvalidArgumentError("column 'bounce_class' has a dictionary index outside its dictionary",
                                       column="bounce_class")
        raw = raw.astype(np.int32)
    return {"bounce_class_indices": raw, "bounce_class_lut": lut}


def _batch_capsules(batch: pa.RecordBatch, first_row: int) -> Dict[str, Any]:
    """One batch with bouncekit's column names -> the dict _core.History.add() takes."""
    out: Dict[str, Any] = {}
    for name in HISTORY_COLUMNS:
        arr = batch.column(batch.schema.get_field_index(name))
        if name in ("campaign_id", "ts"):
            out[name] = _int64_column(arr, name, first_row).__arrow_c_array__()
        elif name == "bounce_class" and pa.types.is_dictionary(arr.type):
            out.update(_class_codes(arr))
        else:
            out[name] = _normalise_string(arr, name).__arrow_c_array__()
    return out


def _native_parquet_enabled() -> bool:
    # BOUNCEKIT_PARQUET_READER=pyarrow reads every file with pyarrow (to compare, or
    # to work around a problem with the core's reader).
    return os.environ.get("BOUNCEKIT_PARQUET_READER", "").lower() != "pyarrow"


# How much lower the read-ahead threads run than the thread that feeds the
# core (Linux nice levels): see _lower_priority.
_READ_AHEAD_NICE = 3


def _lower_priority() -> None:
    """Runs the calling thread (a read-ahead worker) at a lower priority.

    The reads have slack and the core's ingest of the batch before them is
    the critical path: on a machine with fewer free cores than threads, the
    scheduler then gives the ingest (and the helper threads it starts, which
    inherit its priority) the cores first. With idle cores it changes
    nothing. W2 at 10^7 on 2 cores, 12 alternating runs: median wall 1.060 s
    at equal priority, 1.020 s with nice 3 (1.030 s with nice 5). Linux only
    (there a thread has its own nice value); a failure is ignored.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + _READ_AHEAD_NICE)
    except OSError:
        pass


def _read_ahead(read: Callable[[int], Any], n: int, threads: int) -> Iterator[Any]:
    """read(0), ..., read(n - 1) in that order; with threads > 1 they run on
    that many threads (at a lower priority: _lower_priority), one read per
    thread in flight while the consumer works on the item before them (a
    deeper queue only holds more decoded row groups in memory: the reads keep
    up either way)."""
    if threads <= 1:
        for i in range(n):
            yield read(i)
        return
    from concurrent.futures import ThreadPoolExecutor  # (not imported with bouncekit: ~5 ms, logging included)
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bouncekit-read",
                            initializer=_lower_priority) as pool:
        ahead: Deque[Future[Any]] = deque(pool.submit(read, i) for i in range(min(n, threads)))
        following = len(ahead)
        while ahead:
            item = ahead.popleft().result()
            if following < n:
                ahead.append(pool.submit(read, following))
                following += 1
            yield item
            del item


def _native_batches(native: NativeParquet, theirs: List[str], ours: List[str], dictionary: List[str],
                    batch_rows: int, read_threads: int, first_group: int = 0) -> Iterator[pa.RecordBatch]:
    """Row groups first_group.. decoded by the core (on read_threads threads, a
    few ahead), in file order, as batches of at most batch_rows with
    bouncekit's names."""
    n = native.num_row_groups - first_group

    def read(i: int) -> pa.RecordBatch:
        b = native.read_row_group(first_group + i, theirs, dictionary)
        return pa.RecordBatch.from_arrays(b.columns, names=ours)

    def pieces(b: pa.RecordBatch) -> Iterator[pa.RecordBatch]:
        for start in range(0, b.num_rows, batch_rows):
            yield b.slice(start, batch_rows)

    for batch in _read_ahead(read, n, read_threads):
        yield from pieces(batch)
        del batch  # before the next row group is waited for


def _is_path(x: Any) -> bool:
    return isinstance(x, (str, os.PathLike))


def _file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix == ".csv":
        return "csv"
    raise InvalidArgumentError(f"{path}: cannot read '{suffix or '(no suffix)'}' files here; "
                               "use .parquet or .csv (or read the file yourself and pass the table)",
                               source=str(path))


def _check_columns(available: List[str], names: Mapping[str, str], path: Path) -> None:
    for ours, theirs in names.items():
        if theirs not in available:
            raise NotFoundError(
                f"{path}: column '{theirs}' not found; the file has: {', '.join(available[:20])}"
                f"{' ...' if len(available) > 20 else ''}. Map your names with "
                f"columns={{'{ours}': '<your column>'}}", column=theirs, source=str(path))


def _their_names(e: BouncekitError, names: Mapping[str, str]) -> BouncekitError:
    """`e` with the user's name of the column it names (columns= mapping)."""
    theirs = names.get(e.column or "")
    if theirs is None or theirs == e.column:
        return e
    return type(e)(e.message.replace(f"'{e.column}'", f"'{theirs}'"), code=e.code, row=e.row,
                   column=theirs, field=e.field, line=e.line, text_column=e.text_column, source=e.source)


def _native_history_file(path: Path, names: Mapping[str, str]) -> Optional[NativeParquet]:
    """The core's reader for a Parquet file whose history columns it reads as
    they are (text recipient and class, integer campaign and time) in row
    groups read whole; None for anything else (pyarrow's path then converts,
    or says what is wrong)."""
    if not _native_parquet_enabled() or _file_format(path) != "parquet" or not path.is_file():
        return None
    native = open_native(path, [names[c] for c in HISTORY_COLUMNS])
    if native is None:
        return None
    if not (native.is_text(names["recipient"]) and native.is_text(names["bounce_class"])
            and native.is_integer(names["campaign_id"]) and native.is_integer(names["ts"])):
        return None
    largest = max((native.row_group_rows(i) for i in range(native.num_row_groups)), default=0)
    return native if largest <= _MAX_ROW_GROUP_ROWS else None


def _file_batches(path: Path, names: Mapping[str, str], batch_rows: int, read_threads: int = 1,
                  first_group: int = 0) -> Tuple[Iterator[pa.RecordBatch], int]:
    """Batches of a Parquet/CSV file with bouncekit's column names, and the row
    count when the file says it (0 otherwise). Parquet files read by the core
    start at row group `first_group` (where add_parquet stopped)."""
    fmt = _file_format(path)
    if not path.exists():
        raise NotFoundError(f"{path}: no such file", source=str(path))
    ours = list(names.keys())
    theirs = [names[c] for c in ours]
    if fmt == "parquet":
        # The core's own reader when it reads these columns (flat strings and
        # integers): it decodes straight into string views over the
        # decompressed pages; pyarrow otherwise (which also says what is
        # wrong with a file the core does not take).
        native = open_native(path, theirs) if _native_parquet_enabled() else None
        if native is not None:
            largest = max((native.row_group_rows(i) for i in range(native.num_row_groups)), default=0)
            if largest <= _MAX_ROW_GROUP_ROWS:
                cls = names["bounce_class"]
                dictionary = [cls] if native.is_text(cls) else []
                return _wrap_read_errors(_native_batches(native, theirs, ours, dictionary, batch_rows,
                                                         read_threads, first_group), path), native.num_rows
        import pyarrow.parquet as pq
        try:
            schema = pq.read_schema(path)
        except (pa.ArrowInvalid, OSError) as e:
            raise InvalidArgumentError(f"{path}: cannot read as Parquet: {e}", source=str(path)) from None
        _check_columns(schema.names, names, path)
        cls = names["bounce_class"]
        t = schema.field(cls).type
        as_dict = [cls] if (pa.types.is_string(t) or pa.types.is_large_string(t)) else None
        pf = pq.ParquetFile(path, read_dictionary=as_dict)
        total = pf.metadata.num_rows

        def renamed(b: pa.RecordBatch) -> pa.RecordBatch:
            return pa.RecordBatch.from_arrays([b.column(b.schema.get_field_index(c)) for c in theirs], names=ours)

        def parquet_batches() -> Iterator[pa.RecordBatch]:
            n = pf.metadata.num_row_groups
            largest = max((pf.metadata.row_group(i).num_rows for i in range(n)), default=0)
            if largest > _MAX_ROW_GROUP_ROWS:  # stream huge row groups batch by batch
                for b in pf.iter_batches(batch_size=batch_rows, columns=theirs, use_threads=read_threads > 1):
                    yield renamed(b)
                return
            # Whole row groups, decoded by read_threads threads (each with its
            # own file handle) a few ahead of the core, handed over in file
            # order; or by this thread alone.
            local = threading.local()

            def read(i: int) -> pa.Table:
                f = getattr(local, "pf", None)
                if f is None:
                    f = local.pf = pq.ParquetFile(path, read_dictionary=as_dict, pre_buffer=False)
                return f.read_row_group(i, columns=theirs, use_threads=False)

            def split(t: pa.Table) -> Iterator[pa.RecordBatch]:
                for b in t.to_batches(max_chunksize=batch_rows):
                    if b.num_rows:
                        yield renamed(b)

            for table in _read_ahead(read, n, read_threads):
                yield from split(table)
                del table  # before the next row group is waited for
        return _wrap_read_errors(parquet_batches(), path), total

    import pyarrow.csv as pcsv
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        header = next(csv.reader(f), [])
    _check_columns(header, names, path)
    types = {names["recipient"]: pa.string(), names["bounce_class"]: pa.dictionary(pa.int32(), pa.string()),
             names["campaign_id"]: pa.int64(), names["ts"]: pa.int64()}
    try:
        reader = pcsv.open_csv(
            path, read_options=pcsv.ReadOptions(block_size=1 << 24),
            convert_options=pcsv.ConvertOptions(include_columns=theirs, column_types=types,
                                                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        raise _csv_read_error(e, path, header) from None

    def csv_batches() -> Iterator[pa.RecordBatch]:
        try:
            for b in reader:
                cols = [b.column(b.schema.get_field_index(c)) for c in theirs]
                for start in range(0, b.num_rows, batch_rows):
                    yield pa.RecordBatch.from_arrays([c.slice(start, batch_rows) for c in cols], names=ours)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            raise _csv_read_error(e, path, header) from None
    return _wrap_read_errors(csv_batches(), path), 0


def _csv_read_error(e: Exception, path: Path, header: Sequence[str]) -> InvalidArgumentError:
    """pyarrow's CSV conversion error ("In CSV column #2: CSV conversion error
    to int64: invalid value 'x'") with the column's name and the (0-based)
    data row of the first such value, found by reading the file again."""
    import re
    m = re.search(r"CSV column #(\d+): CSV conversion error to (\w+): invalid value '(.*)'", str(e))
    if m is None or int(m.group(1)) >= len(header):
        return InvalidArgumentError(f"{path}: cannot read as CSV: {e}", source=str(path))
    k, value = int(m.group(1)), m.group(3)
    column = header[k]
    row: Optional[int] = None
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        records = csv.reader(f)
        next(records, None)
        for i, rec in enumerate(records):
            if k < len(rec) and rec[k] == value:
                row = i
                break
    where = "" if row is None else f" row {row}"
    return InvalidArgumentError(f"{path}: column '{column}'{where}: {value!r} is not an integer "
                                f"(the column is read as {m.group(2)})", column=column, row=row, source=str(path))


def _wrap_read_errors(batches: Iterator[pa.RecordBatch], path: Path) -> Iterator[pa.RecordBatch]:
    try:
        yield from batches
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError) as e:
        raise InvalidArgumentError(f"{path}: {e}", source=str(path)) from None


def _reader_batches(reader: pa.RecordBatchReader, names: Mapping[str, str]) -> Iterator[pa.RecordBatch]:
    _check_columns(reader.schema.names, names, Path("<stream>"))
    idx = [reader.schema.get_field_index(names[c]) for c in names]
    for b in reader:
        yield pa.RecordBatch.from_arrays([b.column(i) for i in idx], names=list(names))


# ----------------------------------------------------------------- output

def _large_strings(n: int, offsets: np.ndarray, data: np.ndarray) -> pa.Array:
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def _strings(values: Sequence[str]) -> pa.Array:
    """A few Python strings as an Arrow string array (pa.array would import pandas)."""
    data = [v.encode() for v in values]
    offsets = np.cumsum([0] + [len(v) for v in data], dtype=np.int64)
    return _large_strings(len(data), offsets, np.frombuffer(b"".join(data), dtype=np.uint8))


def _numbers(values: np.ndarray, type: pa.DataType) -> pa.Array:
    """A numpy array as an Arrow array without a copy (pa.array would import pandas)."""
    return pa.Array.from_buffers(type, len(values), [None, pa.py_buffer(np.ascontiguousarray(values))])


def _suppression_table(d: Mapping[str, Any]) -> pa.Table:
    n = int(d["num_rows"])
    reason = pa.DictionaryArray.from_arrays(_numbers(d["reason"], pa.int8()),
                                            _strings(SUPPRESSION_REASONS))
    return pa.table({
        "recipient": _large_strings(n, d["recipient_offsets"], d["recipient_data"]),
        "reason": reason,
        "suppressed_at": _numbers(d["suppressed_at"], pa.int64()),
        "event_count_seen": _numbers(d["event_count_seen"], pa.int64()),
    })


def _aggregate_table(d: Mapping[str, Any]) -> pa.Table:
    domains = _large_strings(int(d["num_domains"]), d["domain_offsets"], d["domain_data"])
    cols: Dict[str, pa.Array] = {
        "campaign_id": _numbers(d["campaign_id"], pa.int64()),
        "domain": domains.take(_numbers(d["domain"], pa.int32())),
    }
    for c in ("sent", "delivered", "soft", "hard", "block"):
        cols[c] = _numbers(d[c], pa.int64())
    for c in ("hard_rate", "soft_rate", "block_rate"):
        cols[c] = _numbers(d[c], pa.float64())
    for c in ("hard_flag", "soft_flag", "block_flag"):  # 1/0 integers, as the spec writes them
        cols[c] = _numbers(d[c], pa.int8())
    return pa.table(cols)


def _convert(table: pa.Table, output: str) -> Any:
    if output == "arrow":
        return table
    if output == "polars":
        import polars as pl
        return pl.from_arrow(table)
    return table.to_pandas()


# ---------------------------------------------------------------- engine

def _check_output(output: str) -> None:
    if output not in _OUTPUTS:
        raise InvalidArgumentError(f"output must be 'pandas', 'arrow' or 'polars', not {output!r}",
                                   field="output")


def _is_integer(x: Any) -> bool:
    """An int or a numpy integer (numpy is not imported to tell), not a bool."""
    return (isinstance(x, int) or loaded_instance(x, "numpy", "integer")) and not isinstance(x, bool)


def _check_threads(threads: Optional[int]) -> int:
    if threads is None:
        return os.cpu_count() or 1
    if not _is_integer(threads) or threads < 1:
        raise InvalidArgumentError(f"threads must be a positive integer, not {threads!r}", field="threads")
    return int(threads)


def _csv_targets(caller: str, suppressions: Optional[PathLike], aggregates: Optional[PathLike],
                 float_digits: Any) -> Tuple[Optional[Path], Optional[Path]]:
    """The checked arguments of finish_csv / write_history_csv: the two paths
    (at least one, not the same file) and float_digits."""
    if not _is_integer(float_digits) or not 0 <= float_digits <= 17:
        raise InvalidArgumentError(f"float_digits must be an integer from 0 to 17, not {float_digits!r}",
                                   field="float_digits")
    if suppressions is None and aggregates is None:
        raise InvalidArgumentError(f"{caller} needs a path for the suppressions, the aggregates or both",
                                   field="suppressions")
    sup = None if suppressions is None else Path(os.fspath(suppressions))
    agg = None if aggregates is None else Path(os.fspath(aggregates))
    if sup is not None and agg is not None and os.path.abspath(sup) == os.path.abspath(agg):
        raise InvalidArgumentError(f"the suppressions and the aggregates would both be written to {sup}",
                                   field="aggregates")
    return sup, agg


@dataclass(frozen=True)
class HistoryFiles:
    """What :func:`write_history_csv` and :meth:`BounceHistory.finish_csv` return.

    Attributes:
        rows: events read.
        recipients: distinct recipients among them (``None`` when only the
            aggregates were computed).
        suppressions: the suppression list's file (``None``: not written).
        aggregates: the aggregates' file (``None``: not written).
        suppressed: rows written to the suppression list (``None``: not written).
        aggregate_cells: rows written to the aggregates (``None``: not written).
    """

    rows: int
    recipients: Optional[int]
    suppressions: Optional[Path]
    aggregates: Optional[Path]
    suppressed: Optional[int]
    aggregate_cells: Optional[int]


class BounceHistory:
    """Accumulates bounce events, batch by batch, for :func:`suppress` (W2) and
    :func:`aggregate` (W3) results.

    Rows are numbered in the order they are added (across :meth:`add` calls);
    that number breaks ties in ``ts``. The results do not depend on how the
    rows are split into batches or on the number of threads.

    Args:
        policy: the suppression policy (see :data:`SUPPRESSION_POLICIES`).
        suppressions: compute the suppression list (keeps about 8 bytes per event
            until :meth:`finish`).
        aggregates: compute the campaign x domain table.
        threads: threads for reading files ahead, for ingesting each batch
            (the recipients are split among them) and for :meth:`finish`
            (default: all cores). Results do not depend on it; 1 runs
            everything in the calling thread.

    >>> import bouncekit
    >>> h = bouncekit.BounceHistory(aggregates=False)
    >>> h.add({"recipient": ["a@x.org"], "campaign_id": [1], "ts": [10], "bounce_class": ["soft"]})
    >>> h.add({"recipient": ["a@x.org"], "campaign_id": [1], "ts": [5], "bounce_class": ["hard"]})
    >>> h.rows_seen, h.recipients
    (2, 1)
    >>> h.finish().suppressions.values.tolist()
    [['a@x.org', 'hard_bounce', 5, 1]]
    """

    def __init__(self, *, policy: str = "standard", suppressions: bool = True, aggregates: bool = True,
                 threads: Optional[int] = None) -> None:
        if policy not in SUPPRESSION_POLICIES:
            raise NotFoundError(f"unknown suppression policy {policy!r} (known: {', '.join(SUPPRESSION_POLICIES)})",
                                field="policy")
        self._threads = _check_threads(threads)
        self._core = _core.History(policy, bool(suppressions), bool(aggregates), self._threads)
        self._submitted = 0  # rows handed to the core (or on their way)
        self._finished = False
        # add() imports pyarrow beside the core's own Parquet reads, for the
        # tables finish() builds; write_history_csv, which builds none, says no.
        self._import_arrow_aside = True

    @property
    def rows_seen(self) -> int:
        """Rows added so far."""
        return int(self._core.rows_seen)

    @property
    def recipients(self) -> Optional[int]:
        """Distinct recipients added so far (``None`` when only aggregates are computed)."""
        return int(self._core.recipients) if self._core.suppressions else None

    def add(self, events: Any, *, columns: Optional[Mapping[str, Optional[str]]] = None,
            batch_rows: int = _DEFAULT_BATCH_ROWS, progress: Optional[bool] = None) -> None:
        """Adds events: a table (pandas, polars, pyarrow, Arrow PyCapsule, dict of
        columns), a ``pyarrow.RecordBatchReader`` (streamed), or the path of a
        Parquet or CSV file (read in batches of ``batch_rows`` rows).

        Args:
            events: the events.
            columns: maps bouncekit's names (``recipient``, ``campaign_id``,
                ``ts``, ``bounce_class``) to yours.
            batch_rows: rows per batch handed to the core.
            progress: show a progress bar (default: only for large inputs).
        """
        if self._finished:
            raise InvalidArgumentError("add() after finish()")
        if not _is_integer(batch_rows) or batch_rows < 1:
            raise InvalidArgumentError(f"batch_rows must be a positive integer, not {batch_rows!r}",
                                       field="batch_rows")
        names: Dict[str, str] = {c: c for c in HISTORY_COLUMNS}
        for k, v in (columns or {}).items():
            if k not in names:
                raise NotFoundError(f"columns= names '{k}', which is not an input column of the history "
                                    f"functions (expected one of: {', '.join(HISTORY_COLUMNS)})", field=k)
            if v is None:
                raise NotFoundError(f"column '{k}' is required by the history functions", column=k)
            names[k] = str(v)
        total = 0
        first_group = 0
        if _is_path(events):
            native = _native_history_file(Path(events), names)
            if native is not None:
                first_group = self._add_native(native, names, int(batch_rows), progress)
                if first_group >= native.num_row_groups:
                    return
            batches, total = _file_batches(Path(events), names, int(batch_rows), self._threads, first_group)
            if native is not None and first_group:
                total -= sum(native.row_group_rows(i) for i in range(first_group))
        elif isinstance(events, pa.RecordBatchReader):
            batches = _reader_batches(events, names)
        else:
            inp = read_input(events, names, required=HISTORY_COLUMNS, optional=())
            total = inp.num_rows
            batches = iter(inp.table.to_batches(max_chunksize=int(batch_rows)))
        bar = progress_bar(total, "history", progress)
        try:
            self._feed(batches, names, bar)
        finally:
            bar.close()

    def _add_one(self, caps: Dict[str, Any], num_rows: int, names: Mapping[str, str]) -> None:
        try:
            self._core.add(caps, num_rows)
        except BouncekitError as e:
            raise _their_names(e, names) from None

    def _add_native(self, native: NativeParquet, names: Mapping[str, str], batch_rows: int,
                    progress: Optional[bool]) -> int:
        """Adds a Parquet file the core reads by itself (see _native_history_file):
        its reader and the ingest run in C++ on a worker thread, without the
        GIL, while this thread imports pyarrow (which the results need; about
        0.1 s, a tenth of W2 at 10^7 rows on 2 cores, no longer spent before
        the work starts) and keeps the progress bar. Returns the row group it
        stopped at: all of them, or the first one the core's reader does not
        decode, for _file_batches to go on from."""
        columns = [native.column_index(names[c]) for c in HISTORY_COLUMNS]
        outcome: Dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["stopped"] = self._core.add_parquet(native.file, columns, batch_rows, self._threads)
            except BaseException as e:  # re-raised by the caller's thread
                outcome["error"] = e

        start = int(self._core.rows_added)
        worker = threading.Thread(target=work, name="bouncekit-history-parquet", daemon=True)
        worker.start()
        bar = progress_bar(native.num_rows, "history", progress)
        try:
            if self._import_arrow_aside and "pyarrow" not in sys.modules:
                # (Without the cyclic GC, which would otherwise walk the
                # objects of every module imported so far several times.)
                gc_was_on = gc.isenabled()
                gc.disable()
                try:
                    import pyarrow  # noqa: F401  (beside the work: see above)
                finally:
                    if gc_was_on:
                        gc.enable()
            shown = 0
            while worker.is_alive():
                worker.join(0.1)
                done = int(self._core.rows_added) - start
                bar.update(done - shown)
                shown = done
        finally:
            worker.join()
            bar.close()
            self._submitted = self.rows_seen
        if "error" in outcome:
            e = outcome["error"]
            if isinstance(e, BouncekitError):
                raise _their_names(e, names) from None
            raise e
        return int(outcome["stopped"])

    def _feed(self, batches: Iterable[pa.RecordBatch], names: Mapping[str, str], bar: Any) -> None:
        if self._threads <= 1:
            for b in batches:
                if b.num_rows:
                    self._add_one(_batch_capsules(b, self._submitted), b.num_rows, names)
                    self._submitted += b.num_rows
                    bar.update(b.num_rows)
            return
        # Read and convert batch k+1 here while the core ingests batch k (the
        # core releases the GIL); one batch in flight keeps the row order.
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bouncekit-history") as pool:
            pending: Optional[Future[None]] = None
            pending_rows = 0
            try:
                for b in batches:
                    if not b.num_rows:
                        continue
                    caps = _batch_capsules(b, self._submitted)
                    self._submitted += b.num_rows
                    if pending is not None:
                        pending.result()
                        bar.update(pending_rows)
                    pending = pool.submit(self._add_one, caps, b.num_rows, names)
                    pending_rows = b.num_rows
                if pending is not None:
                    pending.result()
                    bar.update(pending_rows)
            finally:
                self._submitted = self.rows_seen

    def finish(self, *, output: str = "pandas", threads: Optional[int] = None) -> HistoryResult:
        """Computes the results; the history cannot take more events after this.

        Args:
            output: ``"pandas"`` (default), ``"arrow"`` or ``"polars"``.
            threads: threads for the computation (default: the constructor's).
        """
        _check_output(output)
        th = self._threads if threads is None else _check_threads(threads)
        if self._finished:
            raise InvalidArgumentError("finish() was already called")
        self._finished = True
        d = self._core.finish(th)
        sup = _convert(_suppression_table(d["suppressions"]), output) if "suppressions" in d else None
        agg = _convert(_aggregate_table(d["aggregates"]), output) if "aggregates" in d else None
        recipients = int(d["recipients"])
        return HistoryResult(suppressions=sup, aggregates=agg, rows=int(d["rows"]),
                             recipients=recipients if recipients >= 0 else None)

    def finish_csv(self, suppressions: Optional[PathLike] = None, aggregates: Optional[PathLike] = None, *,
                   threads: Optional[int] = None, float_digits: int = 12, durable: bool = False) -> HistoryFiles:
        """Computes the results like :meth:`finish` and writes them to CSV files
        from the core, without building pandas or Arrow tables (so neither numpy
        nor pyarrow is needed): the fastest way from a history to files.

        The files are byte for byte what :func:`write_csv` writes of
        :meth:`finish`'s tables. Each file is complete or absent (written
        under a temporary name, then renamed); with both tables, the
        suppressions are written first.

        Args:
            suppressions: where to write the suppression list (``None``: not written).
            aggregates: where to write the campaign x domain aggregates.
            threads: threads for the computation (default: the constructor's).
            float_digits: digits after the decimal point of the rates.
            durable: fsync each file before its rename.

        >>> import bouncekit, tempfile
        >>> from pathlib import Path
        >>> h = bouncekit.BounceHistory(aggregates=False)
        >>> h.add({"recipient": ["a@x.org"], "campaign_id": [1], "ts": [5], "bounce_class": ["hard"]})
        >>> path = Path(tempfile.mkdtemp()) / "suppressions.csv"
        >>> h.finish_csv(suppressions=path).suppressed
        1
        >>> print(path.read_text(), end="")
        recipient,reason,suppressed_at,event_count_seen
        a@x.org,hard_bounce,5,1
        """
        th = self._threads if threads is None else _check_threads(threads)
        sup, agg = _csv_targets("finish_csv()", suppressions, aggregates, float_digits)
        if suppressions is not None and not self._core.suppressions:
            raise InvalidArgumentError("this history was made with suppressions=False: it has no suppression "
                                       "list to write", field="suppressions")
        if aggregates is not None and not self._core.aggregates:
            raise InvalidArgumentError("this history was made with aggregates=False: it has no aggregates "
                                       "to write", field="aggregates")
        if self._finished:
            raise InvalidArgumentError("finish() was already called")
        self._finished = True
        d = self._core.finish_csv(th, "" if sup is None else str(sup), "" if agg is None else str(agg),
                                  int(float_digits), bool(durable))
        recipients = int(d["recipients"])
        return HistoryFiles(rows=int(d["rows"]), recipients=recipients if recipients >= 0 else None,
                            suppressions=sup, aggregates=agg,
                            suppressed=None if sup is None else int(d["suppressions"]),
                            aggregate_cells=None if agg is None else int(d["aggregates"]))


def analyze_history(
    events: Any,
    *,
    policy: str = "standard",
    suppressions: bool = True,
    aggregates: bool = True,
    columns: Optional[Mapping[str, str]] = None,
    output: str = "pandas",
    threads: Optional[int] = None,
    batch_rows: int = _DEFAULT_BATCH_ROWS,
    progress: Optional[bool] = None,
) -> HistoryResult:
    """The suppression list and the campaign x domain aggregates, in one pass.

    Args:
        events: a pandas or polars DataFrame, a pyarrow Table / RecordBatch /
            RecordBatchReader, an Arrow PyCapsule object, a dict of columns,
            or the path of a Parquet or CSV file (read in batches).
        policy: the suppression policy (``"standard"``).
        suppressions: compute the suppression list.
        aggregates: compute the aggregates.
        columns: maps bouncekit's input names (``recipient``, ``campaign_id``,
            ``ts``, ``bounce_class``) to yours.
        output: ``"pandas"`` (default), ``"arrow"`` or ``"polars"``.
        threads: worker threads (default: all cores). Results do not depend on it.
        batch_rows: rows per batch handed to the core.
        progress: show a progress bar (default: only for large inputs).

    Input: ``recipient`` text (compared byte for byte, case-sensitive; null
    is ''), ``campaign_id`` integers, ``ts`` integer epoch seconds (timestamp
    columns are converted to seconds, rounded down) and ``bounce_class`` text:
    ``delivered``, ``soft``, ``hard``, ``block``; any other value only counts
    as an event. A null ``campaign_id`` or ``ts`` raises
    :class:`InvalidArgumentError` naming the row and the column.

    >>> import bouncekit
    >>> r = analyze_history({"recipient": ["a@x.org", "b@x.org"], "campaign_id": [7, 7],
    ...                      "ts": [100, 100], "bounce_class": ["hard", "delivered"]})
    >>> (r.rows, r.recipients, len(r.suppressions), r.aggregates["sent"].tolist())
    (2, 2, 1, [2])
    """
    _check_output(output)
    h = BounceHistory(policy=policy, suppressions=suppressions, aggregates=aggregates, threads=threads)
    h.add(events, columns=columns, batch_rows=batch_rows, progress=progress)
    return h.finish(output=output)


def write_history_csv(
    events: Any,
    *,
    suppressions: Optional[PathLike] = None,
    aggregates: Optional[PathLike] = None,
    policy: str = "standard",
    columns: Optional[Mapping[str, Optional[str]]] = None,
    threads: Optional[int] = None,
    batch_rows: int = _DEFAULT_BATCH_ROWS,
    progress: Optional[bool] = None,
    float_digits: int = 12,
    durable: bool = False,
) -> HistoryFiles:
    """:func:`analyze_history` straight to CSV files: the suppression list
    and/or the aggregates are written by the core, and only what has a path is
    computed. No pandas or Arrow table is built, so a Parquet file the core
    reads by itself goes from file to files without numpy or pyarrow (a daily
    job that hands the list to an ESP needs nothing else).

    Args:
        events: as :func:`analyze_history`.
        suppressions: where to write the suppression list (``None``: not computed).
        aggregates: where to write the campaign x domain aggregates (``None``: not computed).
        policy, columns, threads, batch_rows, progress: as :func:`analyze_history`.
        float_digits, durable: as :meth:`BounceHistory.finish_csv`.

    >>> import bouncekit, tempfile
    >>> from pathlib import Path
    >>> out = Path(tempfile.mkdtemp())
    >>> files = write_history_csv({"recipient": ["a@x.org", "b@x.org"], "campaign_id": [7, 7],
    ...                            "ts": [100, 100], "bounce_class": ["hard", "delivered"]},
    ...                           aggregates=out / "aggregates.csv")
    >>> (files.rows, files.recipients, files.suppressed, files.aggregate_cells)
    (2, None, None, 1)
    >>> print(files.aggregates.read_text(), end="")
    campaign_id,domain,sent,delivered,soft,hard,block,hard_rate,soft_rate,block_rate,hard_flag,soft_flag,block_flag
    7,x.org,2,1,0,1,0,0.500000000000,0.000000000000,0.000000000000,1,0,0
    """
    _csv_targets("write_history_csv()", suppressions, aggregates, float_digits)  # before the work, not after
    h = BounceHistory(policy=policy, suppressions=suppressions is not None, aggregates=aggregates is not None,
                      threads=threads)
    h._import_arrow_aside = False
    h.add(events, columns=columns, batch_rows=batch_rows, progress=progress)
    return h.finish_csv(suppressions, aggregates, float_digits=float_digits, durable=durable)


def suppress(
    events: Any,
    *,
    policy: str = "standard",
    columns: Optional[Mapping[str, str]] = None,
    output: str = "pandas",
    threads: Optional[int] = None,
    batch_rows: int = _DEFAULT_BATCH_ROWS,
    progress: Optional[bool] = None,
) -> Any:
    """The recipients to suppress under `policy`, sorted by recipient (bytes).

    Policy ``standard`` (the benchmark spec's W2): each recipient's events are
    taken in ``(ts, input row)`` order and the recipient is suppressed at the
    first event where

    * the event is a ``hard`` bounce (reason ``hard_bounce``), or
    * the event is ``soft`` and the soft events since the recipient's last
      ``delivered`` event come from at least 3 distinct campaigns
      (``soft_streak``), or the soft events with ``t - 30 days < ts <= t``
      (only those already processed) do (``soft_window``; ``soft_streak``
      wins when both hold).

    ``block`` and other classes neither count nor break a streak; a delivery
    of any campaign clears the streak but not the window.

    Args: as :func:`analyze_history`.

    Returns:
        Columns ``recipient``, ``reason`` (categorical: ``hard_bounce``,
        ``soft_streak``, ``soft_window``), ``suppressed_at`` (the ts of the
        suppressing event) and ``event_count_seen`` (its 1-based number among
        the recipient's events, every class counted). Recipients never
        suppressed are not listed.

    >>> import bouncekit
    >>> events = {"recipient": ["c@x.org"] * 4, "campaign_id": [1, 2, 1, 3],
    ...           "ts": [0, 86400, 2 * 86400, 60 * 86400], "bounce_class": ["soft"] * 4}
    >>> bouncekit.suppress(events, output="arrow").to_pylist()
    [{'recipient': 'c@x.org', 'reason': 'soft_streak', 'suppressed_at': 5184000, 'event_count_seen': 4}]
    """
    return analyze_history(events, policy=policy, suppressions=True, aggregates=False, columns=columns,
                           output=output, threads=threads, batch_rows=batch_rows,
                           progress=progress).suppressions


def aggregate(
    events: Any,
    *,
    columns: Optional[Mapping[str, str]] = None,
    output: str = "pandas",
    threads: Optional[int] = None,
    batch_rows: int = _DEFAULT_BATCH_ROWS,
    progress: Optional[bool] = None,
) -> Any:
    """Per (campaign_id, domain) counts, rates and flags (the benchmark spec's W3).

    The domain is the part of the recipient after its last ``@``, with ASCII
    letters lower-cased (``''`` without an ``@``). Rows are sorted by
    ``campaign_id``, then domain bytes.

    Args: as :func:`analyze_history`.

    Returns:
        Columns ``campaign_id``, ``domain``, ``sent`` (all events),
        ``delivered``, ``soft``, ``hard``, ``block``, ``hard_rate``,
        ``soft_rate``, ``block_rate`` (count / sent) and ``hard_flag``
        (``20*hard > sent``), ``soft_flag`` (``10*soft > sent``),
        ``block_flag`` (``20*block > sent``) as 1/0 integers.

    >>> import bouncekit
    >>> events = {"recipient": ["a@b@Example.ORG", "no-at-sign"], "campaign_id": [1, 1],
    ...           "ts": [0, 0], "bounce_class": ["block", "unknown"]}
    >>> bouncekit.aggregate(events)[["domain", "sent", "block", "block_flag"]].values.tolist()
    [['', 1, 0, 0], ['example.org', 1, 1, 1]]
    """
    return analyze_history(events, suppressions=False, aggregates=True, columns=columns, output=output,
                           threads=threads, batch_rows=batch_rows, progress=progress).aggregates
