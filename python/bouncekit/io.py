"""Reading and writing tables.

:func:`write_csv` writes pandas / polars / Arrow tables in the conventions of
the benchmark spec (quotes only where needed, ``\\n`` line ends, floats with a
fixed number of digits), fast and atomically: the file appears under its name
only once it is complete, so an interrupted run never leaves half a file.
``durable=True`` also flushes the file to disk before it takes its name, so
that it survives a power loss too (slower; data exports seldom need it).

>>> import pandas as pd, bouncekit, tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "out.csv"
>>> bouncekit.write_csv(pd.DataFrame({"a": ["x", "y,z"], "b": [1, 2]}), path)
>>> print(path.read_text(), end="")
a,b
x,1
"y,z",2
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, List, Optional, Sequence, Union

from ._lazy import lazy_module

if TYPE_CHECKING:
    import pyarrow as pa
else:  # imported on first use: `import bouncekit` stays light
    pa = lazy_module("pyarrow")

from . import _core
from .errors import InvalidArgumentError

__all__ = ["write_csv", "CsvWriter", "to_arrow_table", "iter_parquet"]

PathLike = Union[str, "os.PathLike[str]"]


def iter_parquet(path: PathLike, columns: Sequence[str], *, batch_rows: int = 1 << 20) -> Any:
    """Yields a Parquet file's `columns` as RecordBatches of at most `batch_rows`.

    Flat string and integer columns are decoded by bouncekit's own reader
    (strings arrive as ``string_view`` arrays over the decompressed pages, no
    per-value copies); any other file is read by pyarrow. Memory stays bounded
    by one row group, whatever the file size.

    Example:
        >>> import bouncekit, pyarrow as pa, pyarrow.parquet as pq, tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.parquet"
        >>> pq.write_table(pa.table({"code": [550, 421], "text": ["user unknown", "try later"]}), path)
        >>> [b.column("text").to_pylist() for b in bouncekit.io.iter_parquet(path, ["text"])]
        [['user unknown', 'try later']]
    """
    from pathlib import Path

    from ._parquet import open_native
    names = list(columns)
    native = open_native(Path(path), names) if os.environ.get("BOUNCEKIT_PARQUET_READER", "").lower() != "pyarrow" \
        else None
    if native is None:
        import pyarrow.parquet as pq
        yield from pq.ParquetFile(path).iter_batches(batch_size=batch_rows, columns=names, use_threads=False)
        return
    for g in range(native.num_row_groups):
        b = native.read_row_group(g, names)
        for start in range(0, b.num_rows, batch_rows):
            yield b.slice(start, batch_rows)


def to_arrow_table(data: Any) -> pa.Table:
    """pandas / polars / Arrow (or PyCapsule) data as a pyarrow Table."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    mod = type(data).__module__
    if mod.startswith("pandas"):
        return pa.Table.from_pandas(data, preserve_index=False)
    if mod.startswith("polars"):
        return data.to_arrow()
    if hasattr(data, "__arrow_c_stream__"):
        return pa.table(data)
    raise InvalidArgumentError(f"cannot write a {type(data).__name__} as CSV")


def _prepare(arr: pa.Array) -> pa.Array:
    t = arr.type
    if pa.types.is_floating(t) and t != pa.float64():
        return arr.cast(pa.float64())
    if pa.types.is_dictionary(t) and not (pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type)):
        return arr.cast(t.value_type)
    if pa.types.is_timestamp(t) or pa.types.is_duration(t) or pa.types.is_date(t):
        return arr.cast(pa.string())
    return arr


class CsvWriter:
    """Streams batches into one CSV file; a context manager.

    >>> import pyarrow as pa, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> with CsvWriter(path, ["n"]) as w:
    ...     w.write(pa.table({"n": [1, 2]}))
    ...     w.write(pa.table({"n": [3]}))
    >>> path.read_text().split()
    ['n', '1', '2', '3']
    """

    def __init__(self, path: PathLike, header: Sequence[str], *, float_digits: int = 12,
                 durable: bool = False) -> None:
        self._header = list(header)
        self._w: Optional[_core.CsvWriter] = _core.CsvWriter(os.fspath(path), self._header, float_digits,
                                                             bool(durable))

    def write(self, data: Any) -> None:
        t = to_arrow_table(data)
        if t.column_names != self._header:
            raise InvalidArgumentError(
                f"batch columns {t.column_names} differ from the header {self._header}")
        assert self._w is not None, "the writer is closed"
        for batch in t.to_batches():
            cols: List[Any] = [_prepare(c).__arrow_c_array__() for c in batch.columns]
            self._w.write(cols, batch.num_rows)

    def commit(self) -> None:
        if self._w is not None:
            self._w.commit()
            self._w = None

    def abort(self) -> None:
        if self._w is not None:
            self._w.abort()
            self._w = None

    def __enter__(self) -> "CsvWriter":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def write_csv(data: Any, path: PathLike, *, float_digits: int = 12, durable: bool = False) -> None:
    """Writes a table as CSV (spec conventions; atomic).

    Args:
        data: pandas / polars / Arrow data.
        path: the output file; written under a temporary name, renamed when complete.
        float_digits: digits after the decimal point for floating-point columns.
        durable: fsync the file before the rename (survives a power loss, not
            only a crash of this process).
    """
    t = to_arrow_table(data)
    with CsvWriter(path, t.column_names, float_digits=float_digits, durable=durable) as w:
        w.write(t)
