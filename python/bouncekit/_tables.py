"""Table adapters: everything users hand to bouncekit becomes Arrow batches.

Inputs accepted by the batch APIs: pandas and polars DataFrames, pyarrow
Tables / RecordBatches / RecordBatchReaders, any object exposing the Arrow
PyCapsule interface (``__arrow_c_stream__`` or ``__arrow_c_array__``), a dict
of columns, or separate columns as keyword arguments. Strings that already
live in Arrow memory (pyarrow, polars, pandas' Arrow-backed strings) are
passed to the C++ core without copying; Python objects are converted once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from ._lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa
else:  # imported on first use: `import bouncekit` stays light
    np = lazy_module("numpy")
    pa = lazy_module("pyarrow")

from .errors import InvalidArgumentError, NotFoundError

__all__ = ["InputTable", "read_input", "to_capsules"]


@dataclass
class InputTable:
    """A normalised input: Arrow columns under bouncekit's names."""

    table: pa.Table
    num_rows: int
    pandas_index: Any = None  # the input DataFrame's index, reused for the output
    kind: str = "arrow"  # pandas | polars | arrow


def _is_pandas(obj: Any) -> bool:
    mod = type(obj).__module__
    return mod.startswith("pandas") and hasattr(obj, "columns") and hasattr(obj, "index")


def _is_polars(obj: Any) -> bool:
    return type(obj).__module__.startswith("polars") and hasattr(obj, "to_arrow")


def _first_bad_object(values: Any, ok_types: Tuple[type, ...]) -> Tuple[int, Any]:
    for i, v in enumerate(values):
        if v is None or isinstance(v, ok_types):
            continue
        if isinstance(v, float) and v != v:  # NaN counts as missing
            continue
        return i, v
    return -1, None


def _string_array_from_objects(values: Sequence[Any], column: str) -> pa.Array:
    """Python objects (str, bytes, None, NaN) -> an Arrow string array."""
    row, bad = _first_bad_object(values, (str, bytes, bytearray))
    if row >= 0:
        raise InvalidArgumentError(
            f"column '{column}' row {row}: expected text, got {type(bad).__name__} {bad!r}",
            column=column, row=row)
    try:
        return pa.array(values, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
        pass
    # bytes or strings that are not valid UTF-8: keep the bytes as they are.
    enc: List[Optional[bytes]] = []
    for v in values:
        if v is None or (isinstance(v, float) and v != v):
            enc.append(None)
        elif isinstance(v, str):
            enc.append(v.encode("utf-8", "surrogateescape"))
        else:
            enc.append(bytes(v))
    return pa.array(enc, type=pa.large_binary()).view(pa.large_string())


_CODE_COLUMNS = ("reply_code",)


def _code_array_from_objects(values: Sequence[Any], column: str) -> pa.Array:
    """Mixed Python objects in a reply-code column -> int64 with nulls.

    Integers are kept; strings such as "550" are parsed; anything else that is
    text ("abc", "") becomes null (no code), like a missing value. Floats must
    be whole numbers; other types are an error naming the row.
    """
    out: List[Optional[int]] = []
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and v != v):
            out.append(None)
        elif isinstance(v, bool):
            raise InvalidArgumentError(
                f"column '{column}' row {i}: expected a reply code, got bool {v!r}", column=column, row=i)
        elif isinstance(v, (int, np.integer)):
            out.append(int(v) if -(1 << 62) < int(v) < (1 << 62) else -1)
        elif isinstance(v, (float, np.floating)):
            if v != int(v):
                raise InvalidArgumentError(
                    f"column '{column}' row {i}: reply code {float(v)!r} is not a whole number",
                    column=column, row=i)
            out.append(int(v) if abs(v) < 1e6 else -1)
        elif isinstance(v, (str, bytes)):
            t = v.strip() if isinstance(v, str) else v.strip().decode("ascii", "replace")
            out.append(int(t) if len(t) == 3 and t.isdigit() else None)
        else:
            raise InvalidArgumentError(
                f"column '{column}' row {i}: expected a reply code, got {type(v).__name__} {v!r}",
                column=column, row=i)
    return pa.array(out, type=pa.int64())


def _to_arrow_column(values: Any, column: str) -> pa.ChunkedArray:
    """One column given on its own (list, numpy, pandas/polars Series, Arrow)."""
    if isinstance(values, pa.ChunkedArray):
        return values
    if isinstance(values, pa.Array):
        return pa.chunked_array([values])
    if _is_polars(values):
        return pa.chunked_array([values.to_arrow()])
    if type(values).__module__.startswith("pandas"):
        return pa.chunked_array([_pandas_series_to_arrow(values, column)])
    if hasattr(values, "__arrow_c_array__") or hasattr(values, "__arrow_c_stream__"):
        return pa.chunked_array(pa.array(values) if hasattr(values, "__arrow_c_array__") else values)
    arr = np.asarray(values) if not isinstance(values, (list, tuple)) else None
    if arr is not None and arr.dtype.kind in "iuf":
        return pa.chunked_array([pa.array(arr, from_pandas=True)])
    seq = list(values)
    if column in _CODE_COLUMNS:
        return pa.chunked_array([_code_array_from_objects(seq, column)])
    if all(v is None or (isinstance(v, float) and v != v) or (isinstance(v, int) and not isinstance(v, bool))
           for v in seq):
        return pa.chunked_array([pa.array(seq, type=pa.int64(), from_pandas=True)])
    return pa.chunked_array([_string_array_from_objects(seq, column)])


def _pandas_series_to_arrow(s: Any, column: str) -> pa.Array:
    if getattr(s.dtype, "kind", "") == "O":
        if column in _CODE_COLUMNS:
            return _code_array_from_objects(list(s), column)
        try:
            return pa.Array.from_pandas(s)
        except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
            return _string_array_from_objects(list(s), column)
    try:
        arr = pa.Array.from_pandas(s)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
        return _string_array_from_objects(list(s), column)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _pandas_to_arrow(df: Any, names: Mapping[str, str]) -> pa.Table:
    cols = []
    for ours, theirs in names.items():
        s = df[theirs]
        if getattr(s, "ndim", 1) != 1:
            raise InvalidArgumentError(f"column '{theirs}' appears more than once in the input",
                                       column=theirs)
        cols.append(pa.chunked_array([_pandas_series_to_arrow(s, ours)]))
    return pa.table(dict(zip(names.keys(), cols))) if cols else pa.table({})


def read_input(
    data: Any,
    columns: Optional[Mapping[str, Optional[str]]],
    required: Sequence[str],
    optional: Sequence[str],
    separate: Optional[Mapping[str, Any]] = None,
) -> InputTable:
    """Normalises `data` (or separate columns) to an Arrow table.

    `columns` maps bouncekit's column names to the input's names (``None``
    means "the input has no such column"). A required column that is missing
    raises :class:`NotFoundError`; columns of different lengths raise
    :class:`InvalidArgumentError`.
    """
    mapping: Dict[str, Optional[str]] = {c: c for c in list(required) + list(optional)}
    for k, v in (columns or {}).items():
        if k not in mapping:
            raise NotFoundError(
                f"columns= names '{k}', which is not an input column of this function "
                f"(expected one of: {', '.join(mapping)})", field=k)
        mapping[k] = v
    separate = {k: v for k, v in (separate or {}).items() if v is not None}

    if data is None:
        if not separate:
            raise InvalidArgumentError("no input: pass a table or columns such as diagnostic=[...]")
        arrays: Dict[str, pa.ChunkedArray] = {}
        length = None
        first = None
        for name, values in separate.items():
            arr = _to_arrow_column(values, name)
            if length is None:
                length, first = len(arr), name
            elif len(arr) != length:
                raise InvalidArgumentError(
                    f"column '{name}' has {len(arr)} rows but column '{first}' has {length}",
                    column=name)
            arrays[name] = arr
        for name in required:
            if name not in arrays and mapping.get(name) is not None:
                raise NotFoundError(f"required column '{name}' was not given", column=name)
        return InputTable(pa.table(arrays), int(length or 0))

    if separate:
        raise InvalidArgumentError("pass either a table or separate columns, not both")

    kind = "arrow"
    index = None
    if _is_pandas(data):
        kind = "pandas"
        available = [str(c) for c in data.columns]
    elif _is_polars(data):
        kind = "polars"
        available = list(data.columns)
    elif isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
        available = data.column_names
    elif isinstance(data, pa.Table):
        available = data.column_names
    elif isinstance(data, pa.RecordBatchReader) or hasattr(data, "__arrow_c_stream__"):
        data = pa.table(data) if not isinstance(data, pa.RecordBatchReader) else data.read_all()
        available = data.column_names
    elif hasattr(data, "__arrow_c_array__"):
        rb = pa.record_batch(data)
        data = pa.Table.from_batches([rb])
        available = data.column_names
    elif isinstance(data, Mapping):
        return read_input(None, columns, required, optional, separate=dict(data))
    else:
        raise InvalidArgumentError(
            f"cannot read a {type(data).__name__}: pass a pandas/polars DataFrame, a pyarrow "
            "Table or RecordBatch, an Arrow PyCapsule object, or a dict of columns")

    selected: Dict[str, str] = {}
    for ours, theirs in mapping.items():
        if theirs is None:
            continue
        if theirs in available:
            selected[ours] = theirs
        elif ours in required or (columns and ours in columns):
            hint = ""
            near = [c for c in available if c.lower().replace(" ", "_") == theirs.lower()]
            if near:
                hint = f" (did you mean '{near[0]}'?)"
            raise NotFoundError(
                f"column '{theirs}' not found in the input{hint}; it has: "
                f"{', '.join(available[:20])}{' ...' if len(available) > 20 else ''}. "
                f"Map your names with columns={{'{ours}': '<your column>'}}",
                column=theirs)

    if kind == "pandas":
        index = data.index
        table = _pandas_to_arrow(data, selected)
        n = len(data)
    elif kind == "polars":
        table = data.select(list(selected.values())).to_arrow()
        table = table.rename_columns(list(selected.keys()))
        n = data.height
    else:
        table = data.select(list(selected.values())).rename_columns(list(selected.keys()))
        n = data.num_rows
    return InputTable(table, n, index, kind)


def _normalise_string(arr: pa.Array, column: str) -> pa.Array:
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t):
        return arr
    if hasattr(pa.types, "is_string_view") and pa.types.is_string_view(t):
        return arr
    if pa.types.is_dictionary(t):
        return _normalise_string(arr.dictionary_decode(), column)
    if pa.types.is_binary(t):
        return arr.view(pa.string())
    if pa.types.is_large_binary(t):
        return arr.view(pa.large_string())
    if hasattr(pa.types, "is_binary_view") and pa.types.is_binary_view(t):
        return arr.cast(pa.large_binary()).view(pa.large_string())
    raise InvalidArgumentError(
        f"column '{column}' has type {t}; expected text (strings)", column=column)


def _normalise_code(arr: pa.Array, column: str) -> pa.Array:
    t = arr.type
    if pa.types.is_integer(t) or pa.types.is_null(t):
        return arr
    if pa.types.is_floating(t):
        vals = arr.to_numpy(zero_copy_only=False)
        finite = np.isfinite(vals)
        nonint = finite & (vals != np.floor(np.where(finite, vals, 0)))
        if nonint.any():
            row = int(np.flatnonzero(nonint)[0])
            raise InvalidArgumentError(
                f"column '{column}' row {row}: reply code {float(vals[row])!r} is not a whole number",
                column=column, row=row)
        ints = np.where(finite & (np.abs(np.where(finite, vals, 0)) < 1e6), vals, -1).astype(np.int64)
        return pa.array(ints, mask=~finite, type=pa.int64())
    if pa.types.is_boolean(t):
        raise InvalidArgumentError(
            f"column '{column}' has type bool; expected integer reply codes", column=column)
    if pa.types.is_dictionary(t):
        return _normalise_code(arr.dictionary_decode(), column)
    try:
        return _normalise_string(arr, column)
    except InvalidArgumentError:
        raise InvalidArgumentError(
            f"column '{column}' has type {t}; expected integer reply codes (or strings like '550')",
            column=column) from None


def iter_chunks(table: pa.Table, chunk_rows: int) -> Iterator[Tuple[int, List[pa.RecordBatch]]]:
    """Yields (first row, batches) groups of about `chunk_rows` rows."""
    start = 0
    group: List[pa.RecordBatch] = []
    rows = 0
    for batch in table.to_batches(max_chunksize=chunk_rows):
        if batch.num_rows == 0:
            continue
        group.append(batch)
        rows += batch.num_rows
        if rows >= chunk_rows:
            yield start, group
            start += rows
            group, rows = [], 0
    if group:
        yield start, group


def to_capsules(batch: pa.RecordBatch, code_columns: Sequence[str] = ("reply_code",)) -> Dict[str, Any]:
    """One record batch -> {column: (schema capsule, array capsule)} for _core."""
    out: Dict[str, Any] = {"__num_rows__": batch.num_rows}
    for name, arr in zip(batch.schema.names, batch.columns):
        if name in code_columns:
            arr = _normalise_code(arr, name)
        else:
            arr = _normalise_string(arr, name)
        out[name] = arr.__arrow_c_array__()
    return out
