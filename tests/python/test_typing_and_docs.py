"""The package type-checks (mypy --strict) and its docstring examples run."""

from __future__ import annotations

import doctest
import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import bouncekit


def test_mypy_strict_on_the_package(repo: Path) -> None:
    pytest.importorskip("mypy")
    r = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(repo / "pyproject.toml"),
                        str(repo / "python" / "bouncekit")], capture_output=True, text=True, cwd=repo)
    assert r.returncode == 0, r.stdout + r.stderr


MODULES = sorted(m.name for m in pkgutil.iter_modules(bouncekit.__path__, "bouncekit.")
                 if not m.name.endswith(("__main__", "._core")))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    mod = importlib.import_module(name)
    failures, tried = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                                      verbose=False)
    assert failures == 0


def test_the_public_api_has_examples() -> None:
    for fn in (bouncekit.classify, bouncekit.classify_one, bouncekit.parse_status, bouncekit.find_codes,
               bouncekit.load_rules, bouncekit.write_csv):
        doc = fn.__doc__ or ""
        mod_doc = sys.modules[fn.__module__].__doc__ or ""
        assert ">>>" in doc or ">>>" in mod_doc, fn.__name__


def test_import_does_not_load_pandas() -> None:
    # `import bouncekit` is paid by every CLI call and every history run; the
    # Arrow paths need no pandas, so it is imported on first DataFrame use.
    code = ("import sys, bouncekit; assert 'pandas' not in sys.modules, 'pandas imported'; "
            "bouncekit.retry.parse_duration('1h'); assert 'pandas' not in sys.modules; "
            "import pandas as pd; assert bouncekit.retry.parse_duration(pd.Timedelta('90s')) == 90.0; "
            "assert len(bouncekit.retry.default_causes()) > 0; print('ok')")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout + r.stderr


def test_import_does_not_load_numpy_or_pyarrow_and_the_history_imports_them_beside_its_work(
        tmp_path: Path) -> None:
    # numpy and pyarrow cost ~0.12 s to import; analyze_history on a Parquet
    # file the core reads itself imports pyarrow while C++ reads and ingests
    # it, and the results come back as usual (the deferred modules behave as
    # the real ones, including names reached after the first import).
    import pyarrow as pa
    import pyarrow.parquet as pq
    path = tmp_path / "h.parquet"
    pq.write_table(pa.table({"recipient": ["a@x.org", "a@x.org", "b@y.org"], "campaign_id": [1, 2, 3],
                             "ts": [10, 20, 30], "bounce_class": ["hard", "soft", "delivered"]}), path)
    code = ("import sys, bouncekit\n"
            "loaded = [m for m in ('numpy', 'pyarrow', 'pandas') if m in sys.modules]\n"
            "assert not loaded, loaded\n"
            f"r = bouncekit.analyze_history({str(path)!r}, output='arrow', threads=2)\n"
            "assert 'pyarrow' in sys.modules and 'pandas' not in sys.modules\n"
            "from bouncekit import history\n"
            "assert history.np.int64 is sys.modules['numpy'].int64 and history.pa.Table is r.suppressions.__class__\n"
            "print(r.rows, r.suppressions.column('recipient').to_pylist())\n")
    env = dict(os.environ)
    if "ASAN_OPTIONS" in env:
        # Under .ci/sanitize.sh this child inherits ASan. The exit of any
        # process that has built a history's Arrow results leaves 19 objects
        # of ~96 bytes that LeakSanitizer reports (the same with the code
        # before deferred imports, and as many after 1 call as after 5: a
        # one-time cache, not a leak per call). Leaks per call are checked
        # in the pytest process itself, which runs these paths many times.
        env["ASAN_OPTIONS"] += ":detect_leaks=0"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and r.stdout.strip() == "3 ['a@x.org']", r.stdout + r.stderr
