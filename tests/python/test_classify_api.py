"""The batch API contract: inputs, outputs, dtypes, errors, threads, memory."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import bouncekit

SAMPLE = {
    "reply_code": [250, 550, 452, 421, None, 550],
    "enhanced_status": ["2.0.0", "5.1.1", "4.2.2", "4.7.0", "", "5.7.1"],
    "diagnostic": [
        "250 ok",
        "550 5.1.1 <a@example.com>: user unknown",
        "452 4.2.2 mailbox full",
        "421 4.7.0 try again later",
        "smtp; 550 5.1.2 Host unknown",
        "550 5.7.1 blocked using zen.spamhaus.org",
    ],
}
EXPECTED = ["delivered", "user_unknown", "mailbox_full", "server_unavailable", "bad_domain", "blocklisted"]


def _cats(out: Any) -> list:
    if isinstance(out, pd.DataFrame):
        return out["category"].astype(str).tolist()
    if isinstance(out, pa.Table):
        return out.column("category").cast(pa.string()).to_pylist()
    return out["category"].cast(str).to_list()


class CapsuleOnly:
    """An object that exposes only the Arrow PyCapsule stream interface."""

    def __init__(self, table: pa.Table) -> None:
        self._t = table

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self._t.__arrow_c_stream__(requested_schema)


@pytest.mark.parametrize("kind", ["pandas", "pandas_arrow", "polars", "table", "batch", "reader", "capsule", "dict"])
def test_every_input_kind(kind: str) -> None:
    df = pd.DataFrame(SAMPLE)
    if kind == "pandas":
        data: Any = df
    elif kind == "pandas_arrow":
        data = df.astype({"enhanced_status": "string[pyarrow]", "diagnostic": "string[pyarrow]"})
    elif kind == "polars":
        pl = pytest.importorskip("polars")
        data = pl.DataFrame(SAMPLE)
    elif kind == "table":
        data = pa.table(SAMPLE)
    elif kind == "batch":
        data = pa.RecordBatch.from_pydict(SAMPLE)
    elif kind == "reader":
        t = pa.table(SAMPLE)
        data = pa.RecordBatchReader.from_batches(t.schema, t.to_batches(max_chunksize=2))
    elif kind == "capsule":
        data = CapsuleOnly(pa.table(SAMPLE))
    else:
        data = dict(SAMPLE)
    assert _cats(bouncekit.classify(data, threads=1)) == EXPECTED


def test_separate_columns() -> None:
    out = bouncekit.classify(reply_code=SAMPLE["reply_code"], enhanced_status=SAMPLE["enhanced_status"],
                             diagnostic=SAMPLE["diagnostic"])
    assert _cats(out) == EXPECTED


@pytest.mark.parametrize("output", ["pandas", "arrow", "polars"])
def test_every_output_kind(output: str) -> None:
    if output == "polars":
        pytest.importorskip("polars")
    out = bouncekit.classify(pd.DataFrame(SAMPLE), output=output)
    assert _cats(out) == EXPECTED
    assert len(out) == len(SAMPLE["diagnostic"])


def test_output_dtypes() -> None:
    out = bouncekit.classify(pd.DataFrame(SAMPLE), mappings=True)
    assert isinstance(out["bounce_class"].dtype, pd.CategoricalDtype)
    assert isinstance(out["category"].dtype, pd.CategoricalDtype)
    assert out["retryable"].dtype == bool
    assert str(out["reply_code"].dtype) == "Int16"
    assert str(out["status_class"].dtype) in ("Int16", "int16")
    assert out["status_registered"].dtype == bool
    assert out["reply_code"].tolist()[4] == 550  # read from the text
    assert out["reply_code_source"].astype(str).tolist()[4] == "text"
    assert out["enhanced_status"].astype(str).tolist()[:3] == ["2.0.0", "5.1.1", "4.2.2"]
    assert set(bouncekit.MAPPINGS) <= {"sisimai", "ses", "sparkpost"}
    assert out["sisimai_reason"].astype(str).tolist()[1] == "userunknown"
    assert out["ses_bounce_type"].astype(str).tolist()[1] == "Permanent"
    assert int(out["sparkpost_class"].iloc[5]) == 51
    t = bouncekit.classify(pa.table(SAMPLE), output="arrow")
    assert pa.types.is_dictionary(t.schema.field("category").type)
    assert t.schema.field("reply_code").type == pa.int16()


def test_pandas_index_is_kept_and_order_preserved() -> None:
    df = pd.DataFrame(SAMPLE, index=pd.Index([10, 3, 7, 1, 99, 5], name="event"))
    out = bouncekit.classify(df)
    assert out.index.equals(df.index)
    assert _cats(out) == EXPECTED


def test_column_mapping() -> None:
    df = pd.DataFrame({"code": SAMPLE["reply_code"], "dsn": SAMPLE["enhanced_status"],
                       "text": SAMPLE["diagnostic"]})
    out = bouncekit.classify(df, columns={"reply_code": "code", "enhanced_status": "dsn", "diagnostic": "text"})
    assert _cats(out) == EXPECTED


def test_missing_required_column_names_it() -> None:
    with pytest.raises(bouncekit.NotFoundError) as ei:
        bouncekit.classify(pd.DataFrame({"reply_code": [550], "diag": ["x"]}))
    assert ei.value.column == "diagnostic"
    assert "did you mean" not in str(ei.value) or "diag" in str(ei.value)


def test_diagnostic_can_be_declared_absent() -> None:
    out = bouncekit.classify(pd.DataFrame({"reply_code": [550, 250]}), columns={"diagnostic": None})
    assert out["bounce_class"].astype(str).tolist() == ["hard", "delivered"]


def test_unknown_mapping_key() -> None:
    with pytest.raises(bouncekit.NotFoundError) as ei:
        bouncekit.classify(pd.DataFrame(SAMPLE), columns={"diagnosis": "diagnostic"})
    assert ei.value.field == "diagnosis"


def test_mismatched_lengths_name_the_column() -> None:
    with pytest.raises(bouncekit.InvalidArgumentError) as ei:
        bouncekit.classify(reply_code=[550, 550], diagnostic=["a", "b", "c"])
    assert ei.value.column == "diagnostic"


@pytest.mark.parametrize("column,values", [
    ("diagnostic", [1.5, 2.5]),
    ("enhanced_status", [True, False]),
    ("reply_code", [True, False]),
])
def test_wrong_dtype_names_the_column(column: str, values: list) -> None:
    data = {"reply_code": [550, 550], "enhanced_status": ["5.1.1", "5.1.1"], "diagnostic": ["a", "b"]}
    data[column] = values
    with pytest.raises(bouncekit.InvalidArgumentError) as ei:
        bouncekit.classify(pa.table(data))
    assert ei.value.column == column


def test_mixed_object_column_names_row_and_column() -> None:
    df = pd.DataFrame({"diagnostic": ["ok", "fine", {"a": 1}]})
    with pytest.raises(bouncekit.InvalidArgumentError) as ei:
        bouncekit.classify(df)
    assert (ei.value.row, ei.value.column) == (2, "diagnostic")


def test_odd_values_are_classified_not_errors() -> None:
    big = "x" * (1 << 20)
    df = pd.DataFrame({
        "reply_code": ["abc", "999", None, np.nan, "", "550", 550, "5xx"],
        "enhanced_status": ["5.1", "5.1.1.1", "6.0.0", None, "", "garbage", "5.1.1", "5.1.1"],
        "diagnostic": [None, "", b"\xff\xfe broken \xc3", big, "plain", "\x00\x01", "user unknown", None],
    })
    out = bouncekit.classify(df)
    assert len(out) == len(df)
    klass = out["bounce_class"].astype(str).tolist()
    assert klass[:5] == ["undetermined"] * 5
    assert klass[5] == "hard"   # code 550 as text, no reason in the text
    assert klass[6] == "hard"
    assert out["reply_code"].isna().tolist()[:5] == [True] * 5


def test_rows_in_equal_rows_out_for_empty_and_large_inputs() -> None:
    empty = bouncekit.classify(pd.DataFrame({"diagnostic": pd.Series([], dtype=object)}))
    assert len(empty) == 0 and list(empty.columns)[0] == "bounce_class"
    n = 50_000
    t = pa.table({"reply_code": pa.array(np.full(n, 550, np.int32)),
                  "diagnostic": pa.array(["user unknown"] * n)})
    out = bouncekit.classify(t, chunk_rows=7_000, output="arrow")
    assert out.num_rows == n


def _big_table(n: int, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    texts = np.array([
        "250 ok", "550 5.1.1 user unknown", "452 4.2.2 mailbox full", "421 4.7.0 try again later",
        "550 5.7.1 blocked using zen.spamhaus.org", "451 4.7.1 greylisted", "554 5.7.26 unauthenticated",
        "smtp; 550-5.1.1 The email account that you tried to reach does not exist",
        "", "some text with no code at all",
    ], dtype=object)
    codes = np.array([250, 550, 452, 421, 550, 451, 554, 0, 0, 0], dtype=np.int64)
    idx = rng.integers(0, len(texts), n)
    return pa.table({"reply_code": pa.array(codes[idx], mask=codes[idx] == 0),
                     "diagnostic": pa.array(texts[idx].tolist(), pa.large_string())})


def test_identical_for_any_thread_count_and_chunk_size() -> None:
    t = _big_table(120_000)
    ref = bouncekit.classify(t, threads=1, output="arrow")
    for threads, chunk in [(2, 1 << 20), (4, 10_000), (8, 33_333), (3, 1)]:
        if chunk == 1:
            t_small = t.slice(0, 500)
            a = bouncekit.classify(t_small, threads=threads, chunk_rows=chunk, output="arrow")
            assert a.equals(bouncekit.classify(t_small, threads=1, output="arrow"))
            continue
        out = bouncekit.classify(t, threads=threads, chunk_rows=chunk, output="arrow")
        assert out.equals(ref), (threads, chunk)


@pytest.mark.parametrize("threads", [0, -1, 1.5, "2"])
def test_bad_thread_count(threads: Any) -> None:
    with pytest.raises(bouncekit.InvalidArgumentError):
        bouncekit.classify(pd.DataFrame(SAMPLE), threads=threads)


_NO_COPY_PROBE = """
import sys, tracemalloc
import pyarrow as pa
import bouncekit
n = 200_000
text = "550 5.1.1 <someone@example.com>: Recipient address rejected: user unknown " * 3
t = pa.table({"diagnostic": pa.array([text] * n, pa.large_string())})
text_bytes = t.column("diagnostic").chunk(0).buffers()[2].size
pool = pa.default_memory_pool()
base = pool.max_memory()
tracemalloc.start()
out = bouncekit.classify(t, threads=2, output="arrow")
_, peak = tracemalloc.get_traced_memory()
print(text_bytes, pool.max_memory() - base, peak, out.num_rows)
"""


def test_arrow_strings_are_not_copied() -> None:
    """Arrow string buffers go to the core in place: no Arrow or numpy copy of the text.

    Measured in a fresh process so that Arrow's high-water mark starts at the
    input table."""
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-c", _NO_COPY_PROBE], capture_output=True, text=True, check=True)
    text_bytes, arrow_growth, numpy_peak, rows = map(int, r.stdout.split())
    assert rows == 200_000
    # Outputs are ~30 bytes/row; a copy of the text would be ~220 bytes/row.
    assert arrow_growth < text_bytes / 4, (arrow_growth, text_bytes)
    assert numpy_peak < text_bytes / 2, (numpy_peak, text_bytes)


def test_numpy_codes_are_read_in_place() -> None:
    codes = np.full(100_000, 550, dtype=np.int16)
    out = bouncekit.classify(reply_code=codes, diagnostic=pa.array(["user unknown"] * len(codes)),
                             output="arrow")
    assert out.column("bounce_class").cast(pa.string()).to_pylist()[:2] == ["hard", "hard"]


def test_gil_is_released_during_batch_work() -> None:
    t = _big_table(600_000)
    done = threading.Event()
    result: dict = {}

    def work() -> None:
        result["out"] = bouncekit.classify(t, threads=1, output="arrow")
        done.set()

    th = threading.Thread(target=work)
    ticks = 0
    th.start()
    while not done.is_set():
        ticks += 1
    th.join()
    assert result["out"].num_rows == t.num_rows
    # With the GIL held for the whole batch the loop above would barely run.
    assert ticks > 10_000, ticks


def test_explain_per_row_names_the_matched_text() -> None:
    out = bouncekit.classify(pd.DataFrame(SAMPLE), explain=True)
    e = out["explanation"].tolist()
    assert "spamhaus" in e[5]
    assert e[0].startswith("rule 'delivered.reply'")


def test_mappings_subset_and_unknown() -> None:
    out = bouncekit.classify(pd.DataFrame(SAMPLE), mappings=["sparkpost"])
    assert "sparkpost_class" in out and "sisimai_reason" not in out
    with pytest.raises(bouncekit.InvalidArgumentError):
        bouncekit.classify(pd.DataFrame(SAMPLE), mappings=["postmark"])


def test_binary_input_is_read_as_bytes() -> None:
    t = pa.table({"diagnostic": pa.array([b"550 5.1.1 user unknown", b"\xff\xfe"], pa.binary())})
    assert _cats(bouncekit.classify(t)) == ["user_unknown", "undetermined"]


def test_string_view_and_dictionary_inputs() -> None:
    vals = ["550 5.1.1 user unknown", "452 4.2.2 mailbox full but this text is longer than twelve bytes"]
    if hasattr(pa, "string_view"):
        t = pa.table({"diagnostic": pa.array(vals, pa.string_view())})
        assert _cats(bouncekit.classify(t)) == ["user_unknown", "mailbox_full"]
    t = pa.table({"diagnostic": pa.array(vals).dictionary_encode()})
    assert _cats(bouncekit.classify(t)) == ["user_unknown", "mailbox_full"]


def test_context_columns_are_used() -> None:
    df = pd.DataFrame({"reply_code": [550, 550], "diagnostic": ["550 Access denied", "550 Access denied"],
                       "smtp_command": ["MAIL", "RCPT"]})
    out = bouncekit.classify(df)
    assert out["category"].astype(str).tolist()[0] == "sender_rejected"


def test_fields_select_and_order_columns_with_equal_values() -> None:
    t = _big_table(30_000)
    full = bouncekit.classify(t, threads=2, output="arrow", mappings=True)
    for fields in (["rule_id", "bounce_class"], ["enhanced_status"], ["status_detail", "reply_code"],
                   ["explanation", "retryable", "status_registered", "blame"]):
        part = bouncekit.classify(t, threads=2, output="arrow", fields=fields, chunk_rows=7_000)
        assert part.column_names == fields
        for f in fields:
            assert part.column(f).equals(full.column(f)), f
    # Mapping columns follow `mappings`, computed from outputs not asked for.
    m = bouncekit.classify(t, threads=1, output="arrow", fields=["category"], mappings=["ses", "sisimai"])
    assert m.column_names == ["category", "sisimai_reason", "ses_bounce_type", "ses_bounce_subtype"]
    for f in m.column_names:
        assert m.column(f).equals(full.column(f)), f
    df = bouncekit.classify(pd.DataFrame(SAMPLE), threads=1, fields="category")
    assert df.columns.tolist() == ["category"] and df["category"].astype(str).tolist() == EXPECTED


@pytest.mark.parametrize("fields", [["bounce_class", "nope"], []])
def test_bad_fields_name_the_argument(fields: Any) -> None:
    with pytest.raises(bouncekit.InvalidArgumentError) as e:
        bouncekit.classify(pd.DataFrame(SAMPLE), fields=fields)
    assert e.value.field == "fields"
