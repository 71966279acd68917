"""Daily runs with saved state: equal to one run; atomic, versioned state files."""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import bouncekit

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    ev = bouncekit.risk.example_history(recipients=1500, campaigns=24, seed=8, days_between=2)
    return ev.sort_values("ts", kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("policy", ["seeds", "conservative", "mailchimp", "standard"])
def test_ten_daily_batches_equal_one_run(history: pd.DataFrame, policy: str, tmp_path: Path) -> None:
    once = bouncekit.PolicyRunner(policy)
    once.add(history)
    expected = once.decisions()
    assert len(expected) > 50
    state = tmp_path / "state.bin"
    days = pd.cut(history["ts"], 10, labels=False)
    for day in range(10):
        runner = bouncekit.PolicyRunner(policy, state=state if day else None)
        runner.add(history[days == day])
        runner.save_state(state)
        assert runner.summary()["late"] == 0
    final = bouncekit.PolicyRunner(policy, state=state)
    got = final.decisions()
    pd.testing.assert_frame_equal(got.drop(columns=["evidence"]), expected.drop(columns=["evidence"]))
    assert final.decisions("arrow").column("evidence").to_pylist() == \
        once.decisions("arrow").column("evidence").to_pylist()
    assert final.summary()["rows"] == len(history)
    assert final.explain(got["recipient"].iloc[0]) == once.explain(got["recipient"].iloc[0])


def test_state_is_refused_when_old_damaged_or_foreign(history: pd.DataFrame, tmp_path: Path) -> None:
    r = bouncekit.PolicyRunner("seeds")
    r.add(history.head(2000))
    path = tmp_path / "s.bin"
    r.save_state(path)
    data = path.read_bytes()
    assert data[:8] == b"BKPSTATE"
    old = tmp_path / "old.bin"
    old.write_bytes(data[:8] + (0).to_bytes(4, "little") + data[12:])
    with pytest.raises(bouncekit.FailedPreconditionError, match="format version 0"):
        bouncekit.PolicyRunner("seeds", state=old)
    bad = tmp_path / "bad.bin"
    bad.write_bytes(data[:-10] + bytes(b ^ 0xFF for b in data[-10:]))
    with pytest.raises(bouncekit.DataLossError, match="damaged"):
        bouncekit.PolicyRunner("seeds", state=bad)
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(bouncekit.DataLossError):
        bouncekit.PolicyRunner("seeds", state=bad)
    bad.write_bytes(b"recipient,reason\n")
    with pytest.raises(bouncekit.InvalidArgumentError, match="not a bouncekit policy state"):
        bouncekit.PolicyRunner("seeds", state=bad)
    with pytest.raises(bouncekit.FailedPreconditionError, match="different policy"):
        bouncekit.PolicyRunner("standard", state=path)
    with pytest.raises(bouncekit.NotFoundError):
        bouncekit.PolicyRunner("seeds", state=tmp_path / "missing.bin")
    # Unrun events cannot be saved.
    r.add(history.iloc[2000:2010], run=False)
    with pytest.raises(bouncekit.FailedPreconditionError, match="Run"):
        r.save_state(path)


_CHILD = r"""
import sys, numpy as np, bouncekit
path = sys.argv[1]
r = bouncekit.PolicyRunner("seeds", state=path)
n = 150_000
ev = {"recipient": [f"new{i}@d{i % 97}.example" for i in range(n)], "campaign_id": np.arange(n) % 5,
      "ts": np.full(n, 2_000_000_000), "bounce_class": np.where(np.arange(n) % 3 == 0, "hard", "soft")}
r.add(ev)
print("saving", flush=True)
while True:
    r.save_state(path)
"""


def test_sigkill_during_save_leaves_previous_state_loadable(history: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "state.bin"
    base = bouncekit.PolicyRunner("seeds")
    base.add(history)
    base.save_state(path)
    before = base.decisions()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    killed_mid_save = 0
    for trial in range(12):
        child = subprocess.Popen([sys.executable, "-c", _CHILD, str(path)], stdout=subprocess.PIPE, env=env)
        assert child.stdout is not None
        assert child.stdout.readline().strip() == b"saving"
        deadline = time.monotonic() + 20
        # Kill the moment a temporary state file exists: a save is under way.
        while not glob.glob(f"{path}.tmp.*") and time.monotonic() < deadline:
            time.sleep(0.0005)
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        leftovers = glob.glob(f"{path}.tmp.*")
        killed_mid_save += bool(leftovers)
        for f in leftovers:
            os.unlink(f)
        # Whatever moment the kill hit, the state file is a complete state:
        # the previous one or a finished new one, never a torn one.
        r = bouncekit.PolicyRunner("seeds", state=path)
        rows = r.summary()["rows"]
        assert rows in (len(history), len(history) + 150_000)
        if rows == len(history):
            pd.testing.assert_frame_equal(r.decisions(), before)
        else:
            base.save_state(path)  # back to the previous state for the next trial
        if killed_mid_save >= 3:
            break
    assert killed_mid_save >= 1, "no kill landed while a save was in progress"


def test_late_events_are_counted(tmp_path: Path) -> None:
    state = tmp_path / "s.bin"
    r = bouncekit.PolicyRunner("standard")
    r.add({"recipient": ["a@x", "b@x"], "campaign_id": [1, 1], "ts": [100, 100], "bounce_class": ["soft", "soft"]})
    r.save_state(state)
    r = bouncekit.PolicyRunner("standard", state=state)
    r.add({"recipient": ["a@x", "b@x", "c@x"], "campaign_id": [2, 2, 2], "ts": [50, 100, 10],
           "bounce_class": ["soft", "soft", "soft"]})
    s = r.summary()
    assert s["late"] == 1 and s["rows"] == 5 and s["used"] == 5
