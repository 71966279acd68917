"""The core's Parquet reader against pyarrow's, on files written every way
pyarrow writes them, and on damaged files."""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any, List, Sequence

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import bouncekit
from bouncekit import _core
from bouncekit._parquet import open_native

WORDS = ["", "a", "short", "exactly12chr", "thirteen char", "a much longer string that goes past twelve bytes",
         "ünïcödé ✓"]


def _table(n: int, nulls: float, seed: int) -> pa.Table:
    rng = random.Random(seed)

    def maybe(v: Any) -> Any:
        return None if rng.random() < nulls else v

    return pa.table({
        "s": pa.array([maybe(rng.choice(WORDS) + str(rng.randrange(50))) for _ in range(n)], pa.string()),
        "i32": pa.array([maybe(rng.randrange(-2 ** 31, 2 ** 31)) for _ in range(n)], pa.int32()),
        "i16": pa.array([maybe(rng.randrange(-2 ** 15, 2 ** 15)) for _ in range(n)], pa.int16()),
        "i64": pa.array([maybe(rng.randrange(-2 ** 63, 2 ** 63)) for _ in range(n)], pa.int64()),
        "few": pa.array([maybe(rng.choice(["soft", "hard", "block"])) for _ in range(n)], pa.string()),
        "req": pa.array(range(n), pa.int64()),
    }).cast(pa.schema([pa.field("s", pa.string()), pa.field("i32", pa.int32()), pa.field("i16", pa.int16()),
                       pa.field("i64", pa.int64()), pa.field("few", pa.string()),
                       pa.field("req", pa.int64(), nullable=False)]))


def _same_as_pyarrow(path: Path, names: List[str], dictionary: Sequence[str] = ("few", "s")) -> int:
    native = open_native(path, names)
    assert native is not None, path
    ref = pq.ParquetFile(path)
    checked = 0
    for g in range(native.num_row_groups):
        got = native.read_row_group(g, names, dictionary=list(dictionary))
        want = ref.read_row_group(g, columns=names)
        for n in names:
            a = got.column(n)
            e = want.column(n).combine_chunks()
            if pa.types.is_dictionary(a.type):
                a = a.dictionary_decode()
            a = a.cast(e.type)
            assert a.equals(e), (path.name, g, n)
            checked += len(a)
    return checked


@pytest.mark.parametrize("codec,version", list(itertools.product(["none", "snappy", "gzip", "zstd"], ["1.0", "2.0"])))
def test_every_codec_and_page_version_reads_like_pyarrow(tmp_path: Path, codec: str, version: str) -> None:
    names = ["s", "i32", "i16", "i64", "few", "req"]
    for k, (use_dict, nulls, page) in enumerate(itertools.product([True, False], [0.0, 0.3, 1.0], [512, 1 << 20])):
        path = tmp_path / f"t{k}.parquet"
        pq.write_table(_table(5000, nulls, k), path, compression=codec, data_page_version=version,
                       use_dictionary=use_dict, data_page_size=page, row_group_size=1700)
        assert _same_as_pyarrow(path, names) == 5000 * len(names)


def test_fully_dictionary_encoded_strings_come_back_as_a_dictionary(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    pq.write_table(_table(3000, 0.2, 1), path)
    native = open_native(path, ["few", "s"])
    assert native is not None
    b = native.read_row_group(0, ["few", "s"], dictionary=["few", "s"])
    assert pa.types.is_dictionary(b.column("few").type)
    assert b.column("few").null_count == pq.read_table(path).column("few").null_count


def test_decoded_memory_is_reused_between_row_groups(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    pq.write_table(_table(20000, 0.1, 2), path, row_group_size=2000, compression="zstd")
    native = open_native(path, ["s", "i64"])
    assert native is not None
    for g in range(native.num_row_groups):
        native.read_row_group(g, ["s", "i64"])
    made, reused, _kept = native._f.pool_stats()
    assert reused > 3 * made, (made, reused)  # 10 row groups: buffers made once, then handed out again


def test_files_it_does_not_read_are_left_to_pyarrow(tmp_path: Path) -> None:
    nested = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"l": pa.array([[1, 2], [3]])}), nested)
    assert open_native(nested, ["l"]) is None
    floats = tmp_path / "floats.parquet"
    pq.write_table(pa.table({"f": [1.5, 2.5], "s": ["a", "b"]}), floats)
    assert open_native(floats, ["f"]) is None
    assert open_native(floats, ["s"]) is not None
    delta = tmp_path / "delta.parquet"
    pq.write_table(pa.table({"i": pa.array(range(1000), pa.int64())}), delta, use_dictionary=False,
                   column_encoding={"i": "DELTA_BINARY_PACKED"})
    native = open_native(delta, ["i"])
    assert native is not None  # the footer is fine; the chunk falls back to pyarrow
    assert native.read_row_group(0, ["i"]).column("i").to_pylist() == list(range(1000))


@pytest.mark.parametrize("cut", [0.25, 0.5, 0.9, 0.999])
def test_damaged_files_give_errors_not_crashes(tmp_path: Path, cut: float) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(_table(4000, 0.1, 3), path, compression="zstd", row_group_size=1000)
    data = bytearray(path.read_bytes())
    # Flip bytes inside the column data (the footer stays readable) ...
    bad = tmp_path / "flipped.parquet"
    pos = int(len(data) * cut * 0.5)
    for k in range(pos, min(pos + 64, len(data))):
        data[k] ^= 0x5A
    bad.write_bytes(bytes(data))
    native = open_native(bad, ["s", "i32", "i64"])
    if native is not None:
        for g in range(native.num_row_groups):
            try:
                native.read_row_group(g, ["s", "i32", "i64"])
            except bouncekit.BouncekitError as e:
                assert "row group" in str(e) and str(bad) in str(e)
    # ... and a truncated file is not opened.
    short = tmp_path / "short.parquet"
    short.write_bytes(path.read_bytes()[: int(len(data) * cut)])
    with pytest.raises(bouncekit.BouncekitError):
        _core.ParquetFile(str(short))
    assert open_native(short, ["s"]) is None


def test_history_from_parquet_is_the_same_with_either_reader(tmp_path: Path, monkeypatch: Any) -> None:
    rng = random.Random(4)
    n = 30_000
    t = pa.table({
        "recipient": [f"user{rng.randrange(3000)}@d{rng.randrange(40)}.example" for _ in range(n)],
        "campaign_id": pa.array([100 + rng.randrange(12) for _ in range(n)], pa.int64()),
        "ts": pa.array([1_700_000_000 + rng.randrange(90 * 86400) for _ in range(n)], pa.int64()),
        "bounce_class": [rng.choice(["delivered", "delivered", "soft", "hard", "block", "complaint"])
                         for _ in range(n)],
    })
    path = tmp_path / "events.parquet"
    pq.write_table(t, path, row_group_size=4000, compression="zstd", data_page_size=4096)
    native = bouncekit.analyze_history(path, output="arrow", threads=2)
    monkeypatch.setenv("BOUNCEKIT_PARQUET_READER", "pyarrow")
    ref = bouncekit.analyze_history(path, output="arrow", threads=2)
    assert native.rows == ref.rows == n
    assert native.suppressions.num_rows > 0
    assert native.suppressions.equals(ref.suppressions)
    assert native.aggregates.equals(ref.aggregates)


def _history_table(n: int, seed: int, int_type: pa.DataType = pa.int64(), nulls: bool = False) -> pa.Table:
    rng = random.Random(seed)
    classes = ["delivered", "delivered", "soft", "hard", "block", "complaint"]
    return pa.table({
        "rcpt": [None if nulls and rng.random() < 0.01 else f"user{rng.randrange(2000)}@d{rng.randrange(30)}.example"
                 for _ in range(n)],
        "camp": pa.array([100 + rng.randrange(12) for _ in range(n)], int_type),
        "t": pa.array([rng.randrange(2 ** 30) for _ in range(n)], int_type),
        "cls": [None if nulls and rng.random() < 0.02 else rng.choice(classes) for _ in range(n)],
    })


_MAPPING = {"recipient": "rcpt", "campaign_id": "camp", "ts": "t", "bounce_class": "cls"}


@pytest.mark.parametrize("case", ["int32", "nulls", "plain_classes", "delta_ts", "one_thread"])
def test_history_read_in_cpp_equals_the_pyarrow_reader(tmp_path: Path, monkeypatch: Any, case: str) -> None:
    # A file the core reads by itself goes through History.add_parquet (read
    # and ingested in C++, no GIL); the result must be the one of pyarrow's
    # reader feeding the same engine batch by batch, whatever the file holds:
    # int32 columns (widened), null recipients and classes, classes in PLAIN
    # pages (strings, not a dictionary), or a column the core's reader does
    # not decode (DELTA_BINARY_PACKED: add_parquet stops at row group 0 and
    # the Python path reads the file, that column through pyarrow).
    t = _history_table(20_000, 5, pa.int32() if case == "int32" else pa.int64(), nulls=case == "nulls")
    path = tmp_path / "h.parquet"
    kw: Any = {}
    if case == "plain_classes":
        kw["use_dictionary"] = ["rcpt"]
    if case == "delta_ts":
        kw.update(use_dictionary=["rcpt", "cls"], column_encoding={"t": "DELTA_BINARY_PACKED", "camp": "PLAIN"})
    pq.write_table(t, path, row_group_size=3000, compression="snappy", **kw)
    threads = 1 if case == "one_thread" else 2
    stopped: List[int] = []
    real = _core.History.add_parquet

    def spy(self: Any, *a: Any, **k: Any) -> int:
        stopped.append(real(self, *a, **k))
        return stopped[-1]

    monkeypatch.setattr(_core.History, "add_parquet", spy)
    got = bouncekit.analyze_history(path, columns=_MAPPING, output="arrow", threads=threads, batch_rows=1000)
    assert stopped == [0 if case == "delta_ts" else 7], stopped
    monkeypatch.setenv("BOUNCEKIT_PARQUET_READER", "pyarrow")
    want = bouncekit.analyze_history(path, columns=_MAPPING, output="arrow", threads=threads)
    assert got.rows == want.rows == 20_000
    assert got.suppressions.num_rows > 0
    assert got.suppressions.equals(want.suppressions)
    assert got.aggregates.equals(want.aggregates)


def test_add_parquet_from_a_row_group_and_the_python_path_from_there(tmp_path: Path) -> None:
    # add_parquet(first_group=k) adds row groups k.. only, and _file_batches
    # with first_group=k (where the Python path goes on after add_parquet
    # stopped) yields exactly the rows of groups k..; together they add up
    # to the whole file.
    from bouncekit.history import HISTORY_COLUMNS, _file_batches
    t = _history_table(9000, 6)
    path = tmp_path / "h.parquet"
    pq.write_table(t, path, row_group_size=2000)
    native = open_native(path, list(_MAPPING.values()))
    assert native is not None and native.num_row_groups == 5
    cols = [native.column_index(_MAPPING[c]) for c in HISTORY_COLUMNS]
    h = _core.History("standard", True, True, 2)
    assert h.add_parquet(native.file, cols, 700, 2, 3) == 5
    assert h.rows_seen == h.rows_added == 3000
    batches, _ = _file_batches(path, _MAPPING, 1000, 2, first_group=3)
    assert sum(b.num_rows for b in batches) == 3000
    batches, _ = _file_batches(path, _MAPPING, 1000, 1, first_group=1)
    assert [b.column("campaign_id")[0].as_py() for b in batches][0] == t.column("camp")[2000].as_py()
    with pytest.raises(TypeError):
        h.add_parquet(object(), cols, 700, 2)


def test_history_errors_from_the_cpp_reader_name_the_users_column(tmp_path: Path) -> None:
    t = _history_table(5000, 7)
    t = t.set_column(2, "t", pa.array([None if i == 4321 else 5 for i in range(5000)], pa.int64()))
    path = tmp_path / "h.parquet"
    pq.write_table(t, path, row_group_size=1000)
    with pytest.raises(bouncekit.InvalidArgumentError) as e:
        bouncekit.analyze_history(path, columns=_MAPPING, threads=2)
    assert "'t'" in str(e.value) and "4321" in str(e.value) and e.value.column == "t"


def test_annotated_columns_are_left_to_pyarrow(tmp_path: Path) -> None:
    import datetime
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({
        "ts": pa.array([1_700_000_000_000, None], pa.timestamp("ms")),
        "u64": pa.array([2 ** 63 + 5, 1], pa.uint64()),
        "u8": pa.array([200, 1], pa.uint8()),
        "day": pa.array([datetime.date(2026, 1, 2), None], pa.date32()),
        "dec": pa.array([1, 2], pa.decimal128(9, 2)),
        "raw": pa.array([b"\xff\x00", b"x"], pa.binary()),
        "s": ["a", None],
        "i16": pa.array([5, None], pa.int16()),
    }), path)
    # Their values need a conversion the core does not make (units, sign, scale).
    for name in ("ts", "u64", "u8", "day", "dec"):
        assert open_native(path, [name]) is None, name
    native = open_native(path, ["s", "i16", "raw"])
    assert native is not None
    b = native.read_row_group(0, ["s", "i16", "raw"])
    assert b.column("s").cast(pa.string()).to_pylist() == ["a", None]
    assert b.column("i16").to_pylist() == [5, None]
    assert b.column("raw").cast(pa.binary()).to_pylist() == [b"\xff\x00", b"x"]


@pytest.mark.parametrize("distinct", [1, 2, 3, 5, 17, 300, 5000, 70000])
def test_dictionary_indices_of_every_width_read_like_pyarrow(tmp_path: Path, distinct: int) -> None:
    # Index widths from 0 to 17 bits, bit-packed runs ending at every offset
    # of a page (the decoder has a fast path that needs 8 bytes past each
    # value); nulls only in the second half, so some pages have none.
    rng = random.Random(distinct)
    n = 90000
    ints = [rng.randrange(distinct) * 7919 for _ in range(n)]
    strs = [f"v{rng.randrange(distinct)}" if i < n // 2 or rng.random() < 0.9 else None for i in range(n)]
    t = pa.table({"i64": pa.array(ints, pa.int64()), "s": pa.array(strs, pa.string())})
    for page in (300, 1 << 20):
        path = tmp_path / f"w{distinct}-{page}.parquet"
        pq.write_table(t, path, compression="none", data_page_size=page, row_group_size=40000,
                       dictionary_pagesize_limit=1 << 24)
        assert _same_as_pyarrow(path, ["i64", "s"]) == 2 * n


@pytest.mark.parametrize("nulls", [0.0, 0.3])
def test_a_dictionary_that_falls_back_to_plain_pages_reads_like_pyarrow(tmp_path: Path, nulls: float) -> None:
    # A small dictionary page limit makes the writer switch to PLAIN pages
    # part way through a chunk. Asked for a dictionary, the reader leaves the
    # dictionary pages' views for later, then must build them after all.
    rng = random.Random(7)
    n = 20000
    strs = [None if rng.random() < nulls else f"user{rng.randrange(10 ** 6)}@example.org" for _ in range(n)]
    path = tmp_path / "fallback.parquet"
    pq.write_table(pa.table({"s": pa.array(strs, pa.string())}), path, compression="zstd",
                   data_page_size=2048, row_group_size=10000, dictionary_pagesize_limit=4096)
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).has_dictionary_page
    native = open_native(path, ["s"])
    assert native is not None
    kinds = {str(native.read_row_group(g, ["s"], dictionary=["s"]).column("s").type) for g in range(2)}
    assert kinds == {"string_view"}  # views after all: some pages are plain
    for dictionary in ((), ("s",)):
        assert _same_as_pyarrow(path, ["s"], dictionary) == n
