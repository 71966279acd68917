"""The bounce-history API: W2 (suppress) and W3 (aggregate) against the bench's
oracles byte for byte, input kinds, outputs, errors, batch/thread invariance."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import bouncekit

D = 86400
T = 1_700_000_000


def _gen(bench_dir: Path, rows: int, seed: int, out: Path) -> Path:
    if not out.exists():
        subprocess.run([sys.executable, str(bench_dir / "gen_events.py"), "--rows", str(rows), "--seed",
                        str(seed), "--out", str(out)], check=True, capture_output=True)
    return out


def _oracle(bench_dir: Path, workload: str, data: Path, out: Path) -> Path:
    if not out.exists():
        subprocess.run([sys.executable, str(bench_dir / f"{workload}_python.py"), "--in", str(data), "--out",
                        str(out)], check=True, capture_output=True)
    return out


def _w2_csv(data: Any, path: Path, **kw: Any) -> Path:
    bouncekit.write_csv(bouncekit.suppress(data, **kw), path)
    return path


def _w3_csv(data: Any, path: Path, **kw: Any) -> Path:
    bouncekit.write_csv(bouncekit.aggregate(data, **kw), path)
    return path


def _same(a: Path, b: Path) -> bool:
    return filecmp.cmp(a, b, shallow=False)


@pytest.fixture(scope="module")
def generated(bench_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    """2*10^5 generated rows (Parquet and CSV) and the oracles' outputs."""
    d = tmp_path_factory.mktemp("history_gen")
    parquet = _gen(bench_dir, 200_000, 11, d / "ev.parquet")
    return {
        "parquet": parquet,
        "csv": _gen(bench_dir, 200_000, 11, d / "ev.csv"),
        "w2": _oracle(bench_dir, "w2", parquet, d / "w2_python.csv"),
        "w3": _oracle(bench_dir, "w3", parquet, d / "w3_python.csv"),
    }


# ------------------------------------------------------------ byte identity

@pytest.mark.parametrize("kind", ["csv_path", "pandas", "arrow"])
def test_edge_cases_match_expected_files(bench_dir: Path, tmp_path: Path, kind: str) -> None:
    src = bench_dir / "tests" / "edge_cases.csv"
    data: Any = src
    if kind == "pandas":
        data = pd.read_csv(src, keep_default_na=False, dtype={"recipient": str, "bounce_class": str})
    elif kind == "arrow":
        import pyarrow.csv as pcsv
        data = pcsv.read_csv(src)
    assert _same(_w2_csv(data, tmp_path / "w2.csv"), bench_dir / "tests" / "edge_cases.expected_w2.csv")
    assert _same(_w3_csv(data, tmp_path / "w3.csv"), bench_dir / "tests" / "edge_cases.expected_w3.csv")


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_generated_data_matches_the_oracles(generated: Dict[str, Path], tmp_path: Path, fmt: str) -> None:
    assert _same(_w2_csv(generated[fmt], tmp_path / "w2.csv"), generated["w2"])
    assert _same(_w3_csv(generated[fmt], tmp_path / "w3.csv"), generated["w3"])


def test_one_pass_gives_both_tables(generated: Dict[str, Path], tmp_path: Path) -> None:
    r = bouncekit.analyze_history(generated["parquet"], output="arrow")
    assert r.rows == 200_000
    distinct = pq.read_table(generated["parquet"], columns=["recipient"]).column(0).unique()
    assert r.recipients == len(distinct)
    bouncekit.write_csv(r.suppressions, tmp_path / "w2.csv")
    bouncekit.write_csv(r.aggregates, tmp_path / "w3.csv")
    assert _same(tmp_path / "w2.csv", generated["w2"])
    assert _same(tmp_path / "w3.csv", generated["w3"])


@pytest.mark.parametrize("batch_rows,threads", [(1 << 20, 1), (997, 2), (65536, 3), (4096, 1)])
def test_batch_size_and_threads_do_not_change_results(generated: Dict[str, Path], tmp_path: Path,
                                                      batch_rows: int, threads: int) -> None:
    table = pq.read_table(generated["parquet"])
    kw = dict(batch_rows=batch_rows, threads=threads)
    assert _same(_w2_csv(table, tmp_path / "w2.csv", **kw), generated["w2"])
    assert _same(_w3_csv(generated["parquet"], tmp_path / "w3.csv", **kw), generated["w3"])


def test_streaming_history_equals_one_shot(generated: Dict[str, Path], tmp_path: Path) -> None:
    table = pq.read_table(generated["parquet"], columns=list(bouncekit.HISTORY_COLUMNS))
    h = bouncekit.BounceHistory(threads=2)
    for start in range(0, table.num_rows, 30_001):
        part = table.slice(start, 30_001)
        h.add(part.to_pandas() if start % 2 else part)  # mixed kinds, one numbering
    assert h.rows_seen == table.num_rows
    r = h.finish(output="arrow")
    bouncekit.write_csv(r.suppressions, tmp_path / "w2.csv")
    bouncekit.write_csv(r.aggregates, tmp_path / "w3.csv")
    assert _same(tmp_path / "w2.csv", generated["w2"])
    assert _same(tmp_path / "w3.csv", generated["w3"])
    with pytest.raises(bouncekit.InvalidArgumentError):
        h.finish()
    with pytest.raises(bouncekit.InvalidArgumentError):
        h.add(table)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "pandas"])
def test_write_history_csv_matches_the_oracles(generated: Dict[str, Path], tmp_path: Path, fmt: str) -> None:
    data: Any = generated[fmt] if fmt != "pandas" else pq.read_table(generated["parquet"]).to_pandas()
    f = bouncekit.write_history_csv(data, suppressions=tmp_path / "w2.csv", aggregates=tmp_path / "w3.csv",
                                    threads=2)
    assert _same(tmp_path / "w2.csv", generated["w2"])
    assert _same(tmp_path / "w3.csv", generated["w3"])
    assert f.rows == 200_000 and f.suppressions == tmp_path / "w2.csv" and f.aggregates == tmp_path / "w3.csv"
    assert f.suppressed == generated["w2"].read_text().count("\n") - 1
    assert f.aggregate_cells == generated["w3"].read_text().count("\n") - 1
    # One table alone: only it is computed and written.
    g = bouncekit.write_history_csv(data, aggregates=tmp_path / "w3b.csv")
    assert _same(tmp_path / "w3b.csv", generated["w3"])
    assert g.recipients is None and g.suppressions is None and g.suppressed is None
    assert not (tmp_path / "w2b.csv").exists()


def test_finish_csv_writes_what_write_csv_writes_of_the_tables(bench_dir: Path, tmp_path: Path) -> None:
    src = bench_dir / "tests" / "edge_cases.csv"
    h = bouncekit.BounceHistory(threads=1)
    h.add(src)
    f = h.finish_csv(suppressions=tmp_path / "w2.csv", aggregates=tmp_path / "w3.csv", float_digits=5)
    r = bouncekit.analyze_history(src, output="arrow")
    bouncekit.write_csv(r.suppressions, tmp_path / "w2t.csv")
    bouncekit.write_csv(r.aggregates, tmp_path / "w3t.csv", float_digits=5)
    assert _same(tmp_path / "w2.csv", tmp_path / "w2t.csv")
    assert _same(tmp_path / "w3.csv", tmp_path / "w3t.csv")
    assert _same(tmp_path / "w2.csv", bench_dir / "tests" / "edge_cases.expected_w2.csv")
    assert (f.rows, f.recipients, f.suppressed, f.aggregate_cells) == (r.rows, r.recipients, len(r.suppressions),
                                                                        len(r.aggregates))
    with pytest.raises(bouncekit.InvalidArgumentError, match="already"):
        h.finish_csv(suppressions=tmp_path / "again.csv")


def test_finish_csv_refuses_what_it_cannot_write(tmp_path: Path) -> None:
    ev = _events([("a@x.org", 1, T, "hard")])
    with pytest.raises(bouncekit.InvalidArgumentError, match="needs a path"):
        bouncekit.write_history_csv(ev)
    h = bouncekit.BounceHistory(suppressions=False)
    h.add(ev)
    with pytest.raises(bouncekit.InvalidArgumentError, match="suppressions=False") as e:
        h.finish_csv(suppressions=tmp_path / "w2.csv")
    assert e.value.field == "suppressions"
    with pytest.raises(bouncekit.InvalidArgumentError, match="float_digits"):
        h.finish_csv(aggregates=tmp_path / "w3.csv", float_digits=-1)
    with pytest.raises(bouncekit.InvalidArgumentError, match="both be written to") as e:
        bouncekit.write_history_csv(ev, suppressions=tmp_path / "x.csv", aggregates=str(tmp_path / "x.csv"))
    assert e.value.field == "aggregates"
    # A folder that does not exist: an error naming the file; nothing left behind.
    with pytest.raises(bouncekit.BouncekitError, match="no_such_dir"):
        h.finish_csv(aggregates=tmp_path / "no_such_dir" / "w3.csv")
    assert list(tmp_path.iterdir()) == []


def test_write_history_csv_from_parquet_imports_neither_numpy_nor_pyarrow(tmp_path: Path) -> None:
    # From a Parquet file the core reads itself to CSV files the core writes:
    # the whole job runs without numpy, pyarrow or pandas (~0.12 s and ~0.2
    # CPU s of imports, which add() would otherwise run beside its work).
    path = tmp_path / "h.parquet"
    pq.write_table(pa.table({"recipient": ["a@x.org", "a@x.org", "b@y.org"], "campaign_id": [1, 2, 3],
                             "ts": [10, 20, 30], "bounce_class": ["hard", "soft", "delivered"]}), path)
    code = ("import sys, bouncekit\n"
            f"f = bouncekit.write_history_csv({str(path)!r}, suppressions={str(tmp_path / 'w2.csv')!r}, "
            f"aggregates={str(tmp_path / 'w3.csv')!r}, threads=2)\n"
            "loaded = [m for m in ('numpy', 'pyarrow', 'pandas') if m in sys.modules]\n"
            "assert not loaded, loaded\n"
            "print(f.rows, f.suppressed, f.aggregate_cells)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "3 1 3", r.stdout + r.stderr
    assert (tmp_path / "w2.csv").read_text() == "recipient,reason,suppressed_at,event_count_seen\na@x.org,hard_bounce,10,1\n"


@pytest.mark.slow
def test_million_rows_match_the_oracles(bench_dir: Path, tmp_path: Path) -> None:
    data = _gen(bench_dir, 1_000_000, 3, tmp_path / "ev.parquet")
    assert _same(_w2_csv(data, tmp_path / "w2.csv"), _oracle(bench_dir, "w2", data, tmp_path / "w2_python.csv"))
    assert _same(_w3_csv(data, tmp_path / "w3.csv"), _oracle(bench_dir, "w3", data, tmp_path / "w3_python.csv"))


# ------------------------------------------------------------- semantics

def _events(rows: List[Tuple[str, int, int, str]]) -> Dict[str, List[Any]]:
    return {"recipient": [r[0] for r in rows], "campaign_id": [r[1] for r in rows],
            "ts": [r[2] for r in rows], "bounce_class": [r[3] for r in rows]}


def _w2_rows(data: Any, **kw: Any) -> List[List[Any]]:
    return [list(r.values()) for r in bouncekit.suppress(data, output="arrow", **kw).to_pylist()]


def test_policy_standard_cases() -> None:
    ev = _events([
        # c1 c2 c1 c3: the streak fires at c3 (event 4)
        ("s@x", 1, T, "soft"), ("s@x", 2, T + 40 * D, "soft"), ("s@x", 1, T + 80 * D, "soft"),
        ("s@x", 3, T + 120 * D, "soft"),
        # window: delivered between softs, 3 campaigns within 30 days
        ("w@x", 1, T, "soft"), ("w@x", 1, T + D, "delivered"), ("w@x", 2, T + 10 * D, "soft"),
        ("w@x", 2, T + 11 * D, "delivered"), ("w@x", 3, T + 30 * D - 1, "soft"),
        # the window's left edge is excluded
        ("e@x", 1, T, "soft"), ("e@x", 1, T + D, "delivered"), ("e@x", 2, T + 10 * D, "soft"),
        ("e@x", 2, T + 11 * D, "delivered"), ("e@x", 3, T + 30 * D, "soft"),
        # tied ts: row order decides (delivered first clears the streak)
        ("t@x", 3, T + 80 * D, "delivered"), ("t@x", 3, T + 80 * D, "soft"), ("t@x", 1, T, "soft"),
        ("t@x", 2, T + 40 * D, "soft"),
        # block and unknown classes count as events only
        ("b@x", 1, T, "soft"), ("b@x", 9, T + D, "block"), ("b@x", 2, T + 50 * D, "soft"),
        ("b@x", 9, T + 51 * D, "whatever"), ("b@x", 3, T + 100 * D, "soft"),
        ("h@x", 1, T + 5, "hard"), ("h@x", 1, T, "delivered"),
        ("H@x", 1, T, "delivered"),
    ])
    assert _w2_rows(ev) == [
        ["b@x", "soft_streak", T + 100 * D, 5],
        ["h@x", "hard_bounce", T + 5, 2],
        ["s@x", "soft_streak", T + 120 * D, 4],
        ["w@x", "soft_window", T + 30 * D - 1, 5],
    ]


def test_aggregate_domains_and_flags() -> None:
    rows = [("a@b@Example.ORG", 5, 0, "hard"), ("no-at-sign", 5, 0, "soft"), ("user@", 5, 0, "delivered")]
    rows += [(f"u{i}@hard20.test", 6, 0, "hard" if i == 0 else "delivered") for i in range(20)]
    rows += [(f"u{i}@hard19.test", 6, 0, "hard" if i == 0 else "delivered") for i in range(19)]
    out = bouncekit.aggregate(_events(rows))
    assert out["campaign_id"].tolist() == [5, 5, 6, 6]
    assert out["domain"].tolist() == ["", "example.org", "hard19.test", "hard20.test"]
    assert out["sent"].tolist() == [2, 1, 19, 20]
    assert out["hard_flag"].tolist() == [0, 1, 1, 0]
    assert out["soft_flag"].tolist() == [1, 0, 0, 0]
    assert out["hard_rate"].tolist()[3] == 0.05


def test_output_kinds_and_dtypes() -> None:
    ev = _events([("a@x", 1, T, "hard"), ("b@y", 2, T, "delivered")])
    w2 = bouncekit.suppress(ev)
    assert list(w2.columns) == list(bouncekit.SUPPRESSION_COLUMNS)
    assert isinstance(w2["reason"].dtype, pd.CategoricalDtype)
    assert list(w2["reason"].cat.categories) == list(bouncekit.SUPPRESSION_REASONS)
    assert w2["suppressed_at"].dtype == np.int64 and w2["event_count_seen"].dtype == np.int64
    w3 = bouncekit.aggregate(ev, output="arrow")
    assert w3.column_names == list(bouncekit.AGGREGATE_COLUMNS)
    assert w3.schema.field("hard_flag").type == pa.int8()
    assert w3.schema.field("hard_rate").type == pa.float64()
    pl = pytest.importorskip("polars")
    w2p = bouncekit.suppress(ev, output="polars")
    assert isinstance(w2p, pl.DataFrame) and w2p["recipient"].to_list() == ["a@x"]
    with pytest.raises(bouncekit.InvalidArgumentError):
        bouncekit.suppress(ev, output="numpy")


def test_empty_input() -> None:
    ev = {"recipient": pa.array([], pa.string()), "campaign_id": pa.array([], pa.int64()),
          "ts": pa.array([], pa.int64()), "bounce_class": pa.array([], pa.string())}
    r = bouncekit.analyze_history(ev)
    assert len(r.suppressions) == 0 and list(r.suppressions.columns) == list(bouncekit.SUPPRESSION_COLUMNS)
    assert len(r.aggregates) == 0 and r.rows == 0 and r.recipients == 0


# ------------------------------------------------------------- input kinds

def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 3000
    classes = np.array(["delivered", "soft", "hard", "block", "other"])
    return pd.DataFrame({
        "recipient": [f"u{i}@D{i % 7}.test" for i in rng.integers(0, 300, n)],
        "campaign_id": rng.integers(0, 8, n).astype(np.int64),
        "ts": (T + rng.integers(0, 90, n) * D // 3).astype(np.int64),
        "bounce_class": classes[rng.choice(5, n, p=[0.4, 0.4, 0.05, 0.1, 0.05])],
    })


class _CapsuleOnly:
    def __init__(self, t: pa.Table) -> None:
        self._t = t

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self._t.__arrow_c_stream__(requested_schema)


@pytest.mark.parametrize("kind", ["pandas", "pandas_categorical", "pandas_arrow", "polars", "table", "batch",
                                  "reader", "capsule", "dict", "int32_ts", "parquet", "csv"])
def test_every_input_kind(kind: str, tmp_path: Path) -> None:
    df = _frame()
    ref_w2 = _w2_rows(df)
    ref_w3 = bouncekit.aggregate(df, output="arrow")
    assert len(ref_w2) > 10
    t = pa.Table.from_pandas(df, preserve_index=False)
    data: Any
    if kind == "pandas":
        data = df
    elif kind == "pandas_categorical":
        data = df.astype({"bounce_class": "category", "recipient": "category"})
    elif kind == "pandas_arrow":
        data = df.astype({"recipient": "string[pyarrow]", "bounce_class": "string[pyarrow]"})
    elif kind == "polars":
        pl = pytest.importorskip("polars")
        data = pl.from_pandas(df)
    elif kind == "table":
        data = t
    elif kind == "batch":
        data = t.combine_chunks().to_batches()[0]
    elif kind == "reader":  # a reader is read once: one for each call
        assert _w2_rows(pa.RecordBatchReader.from_batches(t.schema, t.to_batches(max_chunksize=700))) == ref_w2
        data = pa.RecordBatchReader.from_batches(t.schema, t.to_batches(max_chunksize=700))
        assert bouncekit.aggregate(data, output="arrow").equals(ref_w3)
        return
    elif kind == "capsule":
        data = _CapsuleOnly(t)
    elif kind == "dict":
        data = {c: df[c].tolist() for c in df.columns}
    elif kind == "int32_ts":
        data = t.set_column(2, "ts", t.column("ts").cast(pa.int32()))
    elif kind == "parquet":
        data = tmp_path / "ev.parquet"
        pq.write_table(t, data, row_group_size=1000)
    else:
        data = tmp_path / "ev.csv"
        df.to_csv(data, index=False)
    assert _w2_rows(data) == ref_w2
    assert bouncekit.aggregate(data, output="arrow").equals(ref_w3)


def test_huge_parquet_row_groups_are_streamed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    df = _frame()
    path = tmp_path / "ev.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, row_group_size=1000)
    import bouncekit.history as H
    monkeypatch.setattr(H, "_MAX_ROW_GROUP_ROWS", 500)
    for threads in (1, 2):
        assert _w2_rows(path, threads=threads, batch_rows=333) == _w2_rows(df)


def test_column_mapping() -> None:
    df = _frame().rename(columns={"recipient": "email", "ts": "time", "bounce_class": "class"})
    cols = {"recipient": "email", "ts": "time", "bounce_class": "class"}
    assert _w2_rows(df, columns=cols) == _w2_rows(_frame())


def test_timestamps_become_epoch_seconds() -> None:
    ev = pa.table({"recipient": ["a@x", "a@x"], "campaign_id": [1, 1],
                   "ts": pa.array([T * 1000 + 999, (T + 5) * 1000], pa.timestamp("ms")),
                   "bounce_class": ["delivered", "hard"]})
    assert _w2_rows(ev) == [["a@x", "hard_bounce", T + 5, 2]]


def test_null_strings_read_as_empty() -> None:
    ev = pa.table({"recipient": ["a@x", None], "campaign_id": [1, 1], "ts": [T, T],
                   "bounce_class": [None, "hard"]})
    assert _w2_rows(ev) == [["", "hard_bounce", T, 1]]
    w3 = bouncekit.aggregate(ev)
    assert (w3["domain"].tolist(), w3["sent"].tolist(), w3["hard"].tolist()) == (["", "x"], [1, 1], [1, 0])


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("column", ["ts", "campaign_id"])
@pytest.mark.parametrize("batch_rows", [1 << 20, 2])
def test_null_integer_names_row_and_column(column: str, batch_rows: int) -> None:
    ev = _events([("a@x", 1, T + i, "soft") for i in range(8)])
    ev[column][5] = None
    with pytest.raises(bouncekit.InvalidArgumentError) as ei:
        bouncekit.suppress(pa.table(ev), batch_rows=batch_rows)
    assert (ei.value.row, ei.value.column) == (5, column)
    assert "row 5" in str(ei.value)


@pytest.mark.parametrize("index_type", [pa.int32(), pa.int8(), pa.uint64()])
def test_dictionary_classes_are_mapped_and_a_bad_index_names_its_row(index_type: pa.DataType) -> None:
    # Dictionary-encoded classes go to the core as indices + one class per
    # dictionary value (nulls: the extra last entry); an index outside the
    # dictionary (a file pyarrow did not check) is an error naming the row.
    values = pa.array(["delivered", "hard", "soft"])
    good = pa.DictionaryArray.from_arrays(pa.array([2, None, 1, 0], index_type), values)
    ev = pa.table({"recipient": ["a@x", "a@x", "b@x", "c@x"], "campaign_id": [1, 2, 1, 1],
                   "ts": [T, T + 1, T, T], "bounce_class": good})
    plain = ev.set_column(3, "bounce_class", good.cast(pa.string()))
    assert _w2_rows(ev) == _w2_rows(plain) == [["b@x", "hard_bounce", T, 1]]
    for bad in (7, 255 if index_type == pa.uint64() else -1):
        idx = pa.array([0, 1, 2, 0, bad, 1], index_type)
        arr = pa.DictionaryArray.from_arrays(idx, values, safe=False)
        t = pa.table({"recipient": ["a@x"] * 6, "campaign_id": [1] * 6, "ts": [T] * 6, "bounce_class": arr})
        with pytest.raises(bouncekit.InvalidArgumentError) as ei:
            bouncekit.suppress(t, batch_rows=4)
        assert ei.value.column == "bounce_class"
        if index_type == pa.int32():
            assert ei.value.row == 4 and "row 4" in str(ei.value)


def test_null_in_pandas_float_column_names_row() -> None:
    df = pd.DataFrame(_events([("a@x", 1, T + i, "soft") for i in range(4)]))
    df.loc[2, "ts"] = np.nan  # pandas turns the column into float64
    with pytest.raises(bouncekit.InvalidArgumentError) as ei:
        bouncekit.aggregate(df)
    assert (ei.value.row, ei.value.column) == (2, "ts")


def test_mapped_column_errors_use_the_callers_name() -> None:
    ev = _events([("a@x", 1, T, "soft"), ("a@x", 1, T, "soft")])
    ev["time"] = ev.pop("ts")
    ev["time"][1] = None
    with pytest.raises(bouncekit.InvalidArgumentError) as ei:
        bouncekit.suppress(pa.table(ev), columns={"ts": "time"})
    assert (ei.value.row, ei.value.column) == (1, "time")
    assert "'time'" in str(ei.value)


@pytest.mark.parametrize("column,values", [
    ("ts", ["1", "2"]),
    ("ts", [1.5, 2.0]),
    ("campaign_id", [True, False]),
    ("recipient", [1, 2]),
    ("bounce_class", [1.0, 2.0]),
])
def test_wrong_dtype_names_the_column(column: str, values: List[Any]) -> None:
    ev: Dict[str, Any] = _events([("a@x", 1, T, "soft"), ("b@x", 1, T, "soft")])
    ev[column] = values
    with pytest.raises(bouncekit.InvalidArgumentError) as ei:
        bouncekit.analyze_history(pa.table(ev))
    assert ei.value.column == column


def test_missing_column_is_named(tmp_path: Path) -> None:
    df = pd.DataFrame(_events([("a@x", 1, T, "soft")])).drop(columns=["bounce_class"])
    with pytest.raises(bouncekit.NotFoundError) as ei:
        bouncekit.suppress(df)
    assert ei.value.column == "bounce_class" and "bounce_class" in str(ei.value)
    pq.write_table(pa.Table.from_pandas(df), tmp_path / "x.parquet")
    df.to_csv(tmp_path / "x.csv", index=False)
    for path in (tmp_path / "x.parquet", tmp_path / "x.csv"):
        with pytest.raises(bouncekit.NotFoundError) as ei:
            bouncekit.aggregate(path)
        assert ei.value.column == "bounce_class"
    with pytest.raises(bouncekit.NotFoundError) as ei:
        bouncekit.suppress(tmp_path / "absent.parquet")
    with pytest.raises(bouncekit.InvalidArgumentError):
        bouncekit.suppress(tmp_path / "x.jsonl")
    with pytest.raises(bouncekit.NotFoundError) as ei:
        bouncekit.suppress(df, columns={"diagnostic": "x"})
    assert ei.value.field == "diagnostic"


def test_bad_csv_values_name_the_file(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("recipient,campaign_id,ts,bounce_class\na@x,1,notanumber,soft\n")
    with pytest.raises(bouncekit.InvalidArgumentError) as ei:
        bouncekit.suppress(p)
    assert ei.value.source == str(p)


def test_bad_arguments() -> None:
    ev = _events([("a@x", 1, T, "soft")])
    with pytest.raises(bouncekit.NotFoundError):
        bouncekit.suppress(ev, policy="lenient")
    with pytest.raises(bouncekit.InvalidArgumentError):
        bouncekit.suppress(ev, threads=0)
    with pytest.raises(bouncekit.InvalidArgumentError):
        bouncekit.suppress(ev, batch_rows=0)
    assert bouncekit.SUPPRESSION_POLICIES == ("standard",)


def test_read_ahead_keeps_file_order_and_reads_at_lower_priority():
    # The read-ahead threads yield their items in order, and on Linux run at
    # a higher nice value than the thread that feeds the core (which keeps
    # its own): the ingest is the critical path when cores are short.
    import threading

    from bouncekit.history import _READ_AHEAD_NICE, _read_ahead

    me = threading.get_native_id()
    before = os.getpriority(os.PRIO_PROCESS, me)
    seen = []

    def read(i):
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return i * 10

    assert list(_read_ahead(read, 7, 2)) == [i * 10 for i in range(7)]
    assert os.getpriority(os.PRIO_PROCESS, me) == before
    assert len(seen) == 7
    if sys.platform.startswith("linux"):
        assert seen == [min(before + _READ_AHEAD_NICE, 19)] * 7
