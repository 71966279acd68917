"""CSV output: spec conventions, atomic commit, streaming."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import bouncekit


def test_quoting_and_types(tmp_path: Path) -> None:
    t = pa.table({
        "s": ["plain", "a,b", 'say "hi"', "line\nbreak", "", None],
        "d": pa.array(["x", "y", "x", "z", "y", None]).dictionary_encode(),
        "i": pa.array([1, -2, 3, None, 5, 6], pa.int64()),
        "f": [0.1, 1 / 3, 2.0, 1e-13, -0.5, 12.25],
        "b": [True, False, True, False, None, True],
    })
    p = tmp_path / "o.csv"
    bouncekit.write_csv(t, p)
    assert p.read_text() == (
        "s,d,i,f,b\n"
        "plain,x,1,0.100000000000,true\n"
        '"a,b",y,-2,0.333333333333,false\n'
        '"say ""hi""",x,3,2.000000000000,true\n'
        '"line\nbreak",z,,0.000000000000,false\n'
        ",y,5,-0.500000000000,\n"
        ",,6,12.250000000000,true\n")


def test_float_format_matches_printf(tmp_path: Path) -> None:
    vals = [1 / 7, 0.05, 0.1 + 0.2, 123456.789, 5e-7]
    bouncekit.write_csv(pa.table({"f": vals}), tmp_path / "f.csv")
    lines = (tmp_path / "f.csv").read_text().split()[1:]
    assert lines == ["%.12f" % v for v in vals]


def test_interrupted_writer_leaves_no_file(tmp_path: Path) -> None:
    p = tmp_path / "never.csv"
    with pytest.raises(RuntimeError):
        with bouncekit.CsvWriter(p, ["a"]) as w:
            w.write(pa.table({"a": [1, 2]}))
            raise RuntimeError("boom")
    assert not p.exists()
    assert list(tmp_path.iterdir()) == []


def test_existing_file_is_replaced_only_on_commit(tmp_path: Path) -> None:
    p = tmp_path / "keep.csv"
    p.write_text("old\n")
    w = bouncekit.CsvWriter(p, ["a"])
    w.write(pd.DataFrame({"a": [1]}))
    assert p.read_text() == "old\n"
    w.commit()
    assert p.read_text() == "a\n1\n"


def test_durable_write_fsyncs_and_writes_the_same_file(tmp_path: Path) -> None:
    """durable=True flushes the file to disk before the rename; the default
    does not (a plain data export, like pandas' or DuckDB's)."""
    import os
    import subprocess
    import sys
    t = pa.table({"a": [1, 2, 3], "s": ["x", "y,z", None]})
    bouncekit.write_csv(t, tmp_path / "fast.csv")
    bouncekit.write_csv(t, tmp_path / "durable.csv", durable=True)
    assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "durable.csv").read_bytes()
    # Count fsync calls with strace where it is installed.
    strace = "/usr/bin/strace"
    if "libasan" in os.environ.get("LD_PRELOAD", ""):
        pytest.skip("under the ASan run: LeakSanitizer cannot run in a process under ptrace (strace); "
                    "the normal pytest pass counts the fsync calls")
    if not os.path.exists(strace):
        pytest.skip("strace is not installed (BOUNCEKIT_TEST_DEPS=1 bash .ci/setup.sh installs it): "
                    "the fsync count is not checked; the contents were")
    code = ("import sys, pyarrow as pa, bouncekit; "
            "bouncekit.write_csv(pa.table({'a': [1]}), sys.argv[1], durable=sys.argv[2] == '1')")
    counts = []
    for flag in ("0", "1"):
        out = subprocess.run([strace, "-f", "-e", "trace=fsync", "-o", str(tmp_path / f"st{flag}"), sys.executable,
                              "-c", code, str(tmp_path / f"x{flag}.csv"), flag], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        counts.append(sum("fsync(" in line for line in (tmp_path / f"st{flag}").read_text().splitlines()))
    assert counts == [0, 1]


def test_unwritable_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(bouncekit.NotFoundError) as ei:
        bouncekit.write_csv(pa.table({"a": [1]}), tmp_path / "no" / "such" / "dir.csv")
    assert "dir.csv" in str(ei.value)


def test_batch_must_match_header(tmp_path: Path) -> None:
    with bouncekit.CsvWriter(tmp_path / "x.csv", ["a"]) as w:
        with pytest.raises(bouncekit.InvalidArgumentError):
            w.write(pa.table({"b": [1]}))


def test_dictionary_entries_are_quoted_like_strings(tmp_path: Path) -> None:
    # Dictionary entries are escaped once per batch; entries with CSV-special
    # characters must come out exactly as the same plain strings do, also when
    # the dictionary is much larger than the batch (escaped per row instead).
    values = ["a,b", 'q"q', "plain", "line\nbreak", "a,b", None]
    small = pa.array(values).dictionary_encode()
    big_dict = pa.array([f"v{i}" for i in range(70_000)] + ["a,b", 'q"q', "plain", "line\nbreak"])
    idx = pa.array([70_000, 70_001, 70_002, 70_003, 70_000, None], pa.int32())
    big = pa.DictionaryArray.from_arrays(idx, big_dict)
    out = {}
    for name, col in (("plain", pa.array(values)), ("small", small), ("big", big)):
        p = tmp_path / f"{name}.csv"
        bouncekit.write_csv(pa.table({"x": col}), p)
        out[name] = p.read_bytes()
    assert out["small"] == out["plain"] == out["big"]
    assert out["plain"] == b'x\n"a,b"\n"q""q"\nplain\n"line\nbreak"\n"a,b"\n\n'


def test_all_dictionary_batches_write_whole_lines_like_strings(tmp_path: Path) -> None:
    # Batches whose columns are all dictionaries without nulls (classify's
    # W1 output) are written line by line from the escaped entries, in blocks
    # of 4096 rows: the bytes must be those of the same columns as strings.
    n = 10_000
    a = pa.array([["soft", "hard", "a,b"][i % 3] for i in range(n)]).dictionary_encode()
    b = pa.DictionaryArray.from_arrays(pa.array([i % 4 for i in range(n)], pa.int8()),
                                       pa.array(['q"q', "x", "line\nbreak", ""]))
    c = pa.array([str(i % 37) for i in range(n)]).dictionary_encode()
    dict_path, str_path = tmp_path / "d.csv", tmp_path / "s.csv"
    bouncekit.write_csv(pa.table({"a": a, "b": b, "c": c}), dict_path)
    bouncekit.write_csv(pa.table({"a": a.cast(pa.string()), "b": b.cast(pa.string()),
                                  "c": c.cast(pa.string())}), str_path)
    assert dict_path.read_bytes() == str_path.read_bytes()
    assert dict_path.read_bytes().count(b"\n") == n + 1 + n // 4  # header, rows, the quoted line breaks


def test_all_dictionary_batch_with_a_bad_index_names_row_and_column(tmp_path: Path) -> None:
    bad = pa.DictionaryArray.from_arrays(pa.array([0, 1, 5], pa.int32()), pa.array(["x", "y"]), safe=False)
    ok = pa.array(["p", "q", "r"]).dictionary_encode()
    with pytest.raises(bouncekit.InvalidArgumentError, match="column 1 row 2: dictionary index 5"):
        bouncekit.write_csv(pa.table({"a": ok, "b": bad}), tmp_path / "bad.csv")
    assert not (tmp_path / "bad.csv").exists()
