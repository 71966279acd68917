"""File formats for the CLI and readers: CSV, Parquet, JSON lines."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Sequence

from ._lazy import lazy_module

if TYPE_CHECKING:
    import pyarrow as pa
else:  # imported on first use: `import bouncekit` stays light
    pa = lazy_module("pyarrow")

from .errors import InvalidArgumentError, NotFoundError

__all__ = ["read_table", "write_table", "file_format"]

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl",
           ".json": "jsonl"}


def file_format(path: "os.PathLike[str] | str") -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InvalidArgumentError(
            f"{path}: unknown file format '{suffix or '(none)'}' (use .csv, .parquet or .jsonl)",
            source=str(path))
    return FORMATS[suffix]


def read_table(path: "os.PathLike[str] | str", string_columns: Sequence[str] = ()) -> pa.Table:
    """Reads a CSV / Parquet / JSON-lines file; named columns are read as text."""
    p = Path(path)
    fmt = file_format(p)
    if not p.exists():
        raise NotFoundError(f"{p}: no such file", source=str(p))
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq
            return pq.read_table(p)
        if fmt == "csv":
            import pyarrow.csv as pcsv
            with open(p, "rb") as f:
                header = f.readline().decode("utf-8", "replace").strip().split(",")
            types = {c.strip('"'): pa.string() for c in header if c.strip('"') in string_columns}
            return pcsv.read_csv(p, convert_options=pcsv.ConvertOptions(
                column_types=types, strings_can_be_null=False, quoted_strings_can_be_null=False),
                read_options=pcsv.ReadOptions(block_size=1 << 24))
        import pyarrow.json as pjson
        return pjson.read_json(p)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError) as e:
        raise InvalidArgumentError(f"{p}: cannot read as {fmt}: {e}", source=str(p)) from None


def write_table(table: Any, path: "os.PathLike[str] | str", fmt: Optional[str] = None) -> None:
    """Writes atomically (temporary file, then rename)."""
    from .io import to_arrow_table, write_csv
    p = Path(path)
    fmt = fmt or file_format(p)
    if fmt == "csv":
        write_csv(table, p)
        return
    t = to_arrow_table(table)
    tmp = p.with_name(f".{p.name}.tmp-{os.getpid()}")
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq
            pq.write_table(t, tmp)
        else:
            import pandas as pd
            df = t.to_pandas()
            for c in df.columns:
                if isinstance(df[c].dtype, pd.CategoricalDtype):
                    df[c] = df[c].astype(object)
            df.to_json(tmp, orient="records", lines=True)
        os.replace(tmp, p)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise
