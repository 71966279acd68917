"""Reading Parquet row groups with the core's own reader (private).

The core decodes a column chunk straight into Arrow layouts: strings as
string views into the decompressed pages (no per-value copies), fully
dictionary-encoded strings as dictionary arrays when asked, integers as they
are. Files it does not read (nested schemas, other types, encodings or codecs)
make :func:`open_native` return None, and callers use pyarrow instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence

from ._lazy import lazy_module

if TYPE_CHECKING:
    import pyarrow as pa
else:  # imported on first use: `import bouncekit` stays light
    pa = lazy_module("pyarrow")

from . import _core
from .errors import BouncekitError, UnimplementedError

_BYTE_ARRAY, _INT32, _INT64 = 6, 1, 2


class NativeParquet:
    """A Parquet file read by the core; see :func:`open_native`."""

    def __init__(self, f: Any, path: Path) -> None:
        self._f = f
        self.path = path
        # Columns whose values mean what the core hands out: text (no
        # annotation, UTF8/ENUM/JSON), and signed integers with no annotation
        # or an integer one. Timestamps, dates, decimals, unsigned integers ...
        # are left to pyarrow, which converts them.
        self._columns = {}
        for i, (name, ptype, _opt, _bits, converted, logical, signed) in enumerate(f.columns()):
            if ptype == _BYTE_ARRAY:
                ok = converted in (-1, 0, 4, 19) and logical in (0, 1, 4, 12)
            elif ptype in (_INT32, _INT64):
                ok = converted in (-1, 15, 16, 17, 18) and logical in (0, 10) and signed
            else:
                ok = False
            self._columns[name] = (i, ptype if ok else -1)
        self.num_rows = int(f.num_rows)
        self.num_row_groups = int(f.num_row_groups)

    def row_group_rows(self, index: int) -> int:
        """Rows in row group `index`."""
        return int(self._f.row_group_rows(index))

    @property
    def file(self) -> Any:
        """The core's ``_core.ParquetFile``."""
        return self._f

    def column_index(self, name: str) -> int:
        """The file's index of column `name`."""
        return int(self._columns[name][0])

    def is_integer(self, name: str) -> bool:
        """Whether column `name` is one the core reads as (signed) integers."""
        return name in self._columns and self._columns[name][1] in (_INT32, _INT64)

    def is_text(self, name: str) -> bool:
        """Whether column `name` is one the core reads as text."""
        return name in self._columns and self._columns[name][1] == _BYTE_ARRAY

    def supports(self, names: Sequence[str]) -> bool:
        return all(n in self._columns and self._columns[n][1] in (_BYTE_ARRAY, _INT32, _INT64) for n in names)

    def read_row_group(self, index: int, names: Sequence[str], dictionary: Sequence[str] = ()) -> pa.RecordBatch:
        """Row group `index` as a RecordBatch of `names` (the core decodes with the GIL released).

        A chunk the core does not read (an encoding or codec it lacks, met
        only in this row group) is read by pyarrow instead; a damaged one
        raises a :class:`BouncekitError` naming the row group and column.
        """
        arrays = []
        for n in names:
            try:
                arrays.append(_to_arrow(self._f.read(index, self._columns[n][0], n in dictionary)))
            except UnimplementedError:
                arrays.append(self._pyarrow_column(index, n, n in dictionary))
        return pa.RecordBatch.from_arrays(arrays, names=list(names))

    def _pyarrow_column(self, index: int, name: str, dictionary: bool) -> pa.Array:
        import pyarrow.parquet as pq
        f = pq.ParquetFile(self.path, read_dictionary=[name] if dictionary else None)
        return f.read_row_group(index, columns=[name], use_threads=False).column(0).combine_chunks()


def open_native(path: Path, names: Sequence[str]) -> Optional[NativeParquet]:
    """The core's reader for `path` when it can read columns `names`, else None."""
    try:
        f = NativeParquet(_core.ParquetFile(str(path)), path)
    except BouncekitError:
        return None  # not a file it reads (pyarrow will say what is wrong, if anything)
    return f if f.supports(names) else None


def _to_arrow(d: Dict[str, Any]) -> pa.Array:
    n = int(d["length"])
    nulls = int(d["null_count"])
    validity = pa.py_buffer(d["validity"]) if nulls and d["validity"] is not None else None
    kind = d["kind"]
    if kind == "views":
        buffers: List[Optional[pa.Buffer]] = [validity, pa.py_buffer(d["views"])]
        buffers += [pa.py_buffer(b) for b in d["buffers"]]
        return pa.Array.from_buffers(pa.string_view(), n, buffers, null_count=nulls)
    if kind == "dictionary":
        offsets = d["offsets"]
        dictionary = pa.Array.from_buffers(pa.string(), len(offsets) - 1,
                                           [None, pa.py_buffer(offsets), pa.py_buffer(d["data"])])
        indices = pa.Array.from_buffers(pa.int32(), n, [validity, pa.py_buffer(d["indices"])], null_count=nulls)
        # The core checked every valid row's index against the dictionary's
        # size (null rows hold 0, and the dictionary is empty when all rows
        # are null, which Arrow allows), so pyarrow's own pass is skipped.
        return pa.DictionaryArray.from_arrays(indices, dictionary, safe=False)
    t = pa.int32() if kind == "int32" else pa.int64()
    return pa.Array.from_buffers(t, n, [validity, pa.py_buffer(d["values"])], null_count=nulls)
