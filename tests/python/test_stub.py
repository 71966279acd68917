"""The committed _core.pyi must match the compiled module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def test_core_stub_matches_the_module(tmp_path: Path, repo: Path) -> None:
    pytest.importorskip("pybind11_stubgen")
    subprocess.run([sys.executable, "-m", "pybind11_stubgen", "bouncekit._core", "-o", str(tmp_path)],
                   check=True, capture_output=True)
    fresh = (tmp_path / "bouncekit" / "_core.pyi").read_text()
    committed = (repo / "python" / "bouncekit" / "_core.pyi").read_text()
    assert fresh == committed, (
        "python/bouncekit/_core.pyi is out of date: regenerate it with "
        "`python -m pybind11_stubgen bouncekit._core -o /tmp/stubs` and copy the result")


def test_stub_names_exist_in_the_module() -> None:
    import ast

    import bouncekit._core as core
    tree = ast.parse((Path(core.__file__).parent / "_core.pyi").read_text())
    names = [n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))]
    assert names
    for n in names:
        assert hasattr(core, n), n
