"""Shared fixtures for bouncekit's Python tests."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared (the bench peers, corpora and references). CI always has it."""
    d = corpus.shared_dir()
    if d is None:
        pytest.skip("../shared is not beside the repository (set BOUNCEKIT_SHARED); "
                    "CI clones it there, so this only skips on a bare checkout")
    return d


@pytest.fixture(scope="session")
def bench_dir(shared_dir: Path) -> Path:
    return shared_dir / "bench"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture()
def tmp_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    yield tmp_path
