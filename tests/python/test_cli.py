"""The ``bouncekit`` command line, run as a user would (subprocesses).

Exit codes: 0 ok, 1 bad input (one line on stderr, no traceback), 2 usage,
130 interrupted (no partial output file left behind).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pandas as pd
import pyarrow.parquet as pq
import pytest


def run(args: List[str], cwd: Path, timeout: float = 300) -> "subprocess.CompletedProcess[str]":
    env = dict(os.environ, MPLBACKEND="Agg")
    env.pop("BOUNCEKIT_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "bouncekit", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def assert_one_line_error(p: "subprocess.CompletedProcess[str]", rc: int, *needles: str) -> None:
    assert p.returncode == rc, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("bouncekit") and ": error: " in lines[0]
    assert "Traceback" not in p.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


def test_help_teaches(tmp_path: Path) -> None:
    p = run(["--help"], tmp_path)
    assert p.returncode == 0
    for cmd in ("classify", "analyze", "report", "sample", "rules"):
        assert cmd in p.stdout
    assert "examples:" in p.stdout and "Exit codes" in p.stdout
    for cmd in ("classify", "analyze", "report", "sample"):
        h = run([cmd, "--help"], tmp_path)
        assert h.returncode == 0
        assert "examples:" in h.stdout, cmd
        assert f"bouncekit {cmd}" in h.stdout.split("examples:", 1)[1]


def test_analyze_sample_writes_outputs_and_summary(tmp_path: Path) -> None:
    p = run(["analyze", "--sample"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("30,000 events")
    assert "suppressed recipients:" in p.stdout and "alerts (campaign x domain" in p.stdout
    out = tmp_path / "bouncekit-report"
    sup = pd.read_csv(out / "suppressions.csv")
    agg = pd.read_csv(out / "aggregates.csv")
    alerts = pd.read_csv(out / "alerts.csv")
    html = (out / "report.html").read_text()
    # the summary's figures are the files' figures
    assert f"suppressed recipients: {len(sup):,}" in p.stdout
    assert f"alerts (campaign x domain over threshold): {len(alerts)}" in p.stdout
    assert agg["sent"].sum() == 30_000
    assert set(sup["reason"]) <= {"hard_bounce", "soft_streak", "soft_window"}
    assert (alerts["sent"] >= 20).all() and alerts["action"].str.len().min() > 10
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") >= 4
    assert not [f for f in os.listdir(out) if ".tmp-" in f]


def test_analyze_equals_python_api(tmp_path: Path) -> None:
    import bouncekit
    from bouncekit import generate
    generate.history(3000, seed=9).to_parquet(tmp_path / "h.parquet")
    p = run(["analyze", "h.parquet", "--out-dir", "o", "--format", "parquet"], tmp_path)
    assert p.returncode == 0, p.stderr
    events = pd.read_parquet(tmp_path / "h.parquet")
    classified = bouncekit.classify(events)
    want = bouncekit.suppress(events.assign(bounce_class=classified["bounce_class"].astype(str)))
    got = pd.read_parquet(tmp_path / "o" / "suppressions.parquet")
    assert got["recipient"].tolist() == want["recipient"].tolist()
    assert got["suppressed_at"].tolist() == want["suppressed_at"].tolist()


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_formats_round_trip(tmp_path: Path, fmt: str) -> None:
    p = run(["sample", "--kind", "history", "-n", "1500", "--seed", "4", "-o", f"h.{fmt}"], tmp_path)
    assert p.returncode == 0, p.stderr
    c = run(["classify", f"h.{fmt}", "-o", f"c.{fmt}"], tmp_path)
    assert c.returncode == 0, c.stderr
    read = {"csv": pd.read_csv, "parquet": pd.read_parquet,
            "jsonl": lambda f: pd.read_json(f, lines=True)}[fmt]
    out = read(tmp_path / f"c.{fmt}")
    assert len(out) == 1500 and "bounce_class" in out.columns
    a = run(["analyze", f"h.{fmt}", "--out-dir", "o", "--format", fmt], tmp_path)
    assert a.returncode == 0, a.stderr
    assert read(tmp_path / "o" / f"aggregates.{fmt}")["sent"].sum() == 1500
    r = run(["report", f"h.{fmt}", "-o", "r.html"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "r.html").read_text().endswith("</html>")


def test_analyze_with_column_mapping_and_precomputed_classes(tmp_path: Path) -> None:
    df = pd.DataFrame({"email": ["a@x.org", "a@x.org", "b@y.org"], "camp": [1, 2, 1],
                       "sent_at": [10, 20, 10], "bounce_class": ["soft", "hard", "delivered"]})
    df.to_csv(tmp_path / "e.csv", index=False)
    p = run(["analyze", "e.csv", "--column", "recipient=email", "--column", "campaign_id=camp",
             "--column", "ts=sent_at", "--min-sent", "1"], tmp_path)
    assert p.returncode == 0, p.stderr
    sup = pd.read_csv(tmp_path / "bouncekit-report" / "suppressions.csv")
    assert sup.values.tolist() == [["a@x.org", "hard_bounce", 20, 2]]


# ---- acceptance 6: bad input -> non-zero exit, one clear line, no traceback

def test_missing_file(tmp_path: Path) -> None:
    for cmd in (["analyze", "nope.parquet"], ["classify", "nope.csv"], ["report", "nope.csv", "-o", "r.html"]):
        assert_one_line_error(run(cmd, tmp_path), 1, "nope.", "no such file")
    assert not any(tmp_path.iterdir())


def test_wrong_format(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("a,b\n")
    assert_one_line_error(run(["analyze", "x.txt"], tmp_path), 1, "x.txt", "unknown file format")
    (tmp_path / "g.parquet").write_bytes(b"\x00\x01 definitely not parquet")
    assert_one_line_error(run(["analyze", "g.parquet"], tmp_path), 1, "g.parquet", "cannot read as parquet")
    (tmp_path / "g.jsonl").write_text("{not json\n")
    assert_one_line_error(run(["classify", "g.jsonl"], tmp_path), 1, "g.jsonl")
    assert_one_line_error(run(["sample", "-o", "s.xlsx"], tmp_path), 1, "s.xlsx", "unknown file format")
    assert_one_line_error(run(["report", "--sample", "-o", "r.pdf"], tmp_path), 1, ".html")


def test_unknown_column(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text("x,y\n1,2\n")
    assert_one_line_error(run(["analyze", "e.csv"], tmp_path), 1, "column 'recipient' not found", "x, y")
    assert_one_line_error(run(["classify", "e.csv"], tmp_path), 1, "'diagnostic'")
    (tmp_path / "v.csv").write_text("recipient,campaign_id,ts,bounce_class\na@b.c,x,1,hard\n")
    assert_one_line_error(run(["analyze", "v.csv"], tmp_path), 1, "campaign_id")
    assert_one_line_error(run(["analyze", "--sample", "--column", "recipient"], tmp_path), 1, "OURS=YOURS")


def test_unknown_preset(tmp_path: Path) -> None:
    assert_one_line_error(run(["analyze", "--sample", "--policy", "lenient"], tmp_path), 1,
                          "unknown suppression policy 'lenient'", "standard")
    assert_one_line_error(run(["analyze", "--sample", "--profile", "nope"], tmp_path), 1,
                          "unknown profile 'nope'", "sisimai")
    assert_one_line_error(run(["classify", "--sample", "--profile", "nope"], tmp_path), 1, "nope")
    assert_one_line_error(run(["sample", "--kind", "nope", "-o", "x.csv"], tmp_path), 2, "invalid choice")
    assert_one_line_error(run(["frobnicate"], tmp_path), 2, "invalid choice")
    assert not any(tmp_path.iterdir())


# Runs the command line in a child whose `module.name` is wrapped so that the
# child touches a marker file when it gets there: the test then knows, on any
# machine however fast, that the signal lands inside the work and not before
# or after it.  With `repeat`, the wrapped call also runs over and over until
# the interrupt comes (real work, never a sleep).
_CHILD = """
import pathlib, sys
import importlib
mod = importlib.import_module(sys.argv[1])
name, marker, repeat = sys.argv[2], pathlib.Path(sys.argv[3]), sys.argv[4] == "1"
real = getattr(mod, name)
def wrapped(*args, **kw):
    marker.touch()
    while repeat:
        real(*args, **kw)
    return real(*args, **kw)
setattr(mod, name, wrapped)
sys.argv = ["bouncekit", *sys.argv[5:]]
from bouncekit.cli import main
sys.exit(main())
"""


def _interrupt(args: List[str], cwd: Path, when: str, hook: str = "bouncekit.generate:history",
               repeat: bool = True) -> "subprocess.CompletedProcess[str]":
    env = dict(os.environ, MPLBACKEND="Agg")
    marker = cwd.parent / f"{cwd.name}.started"
    module, name = hook.split(":")
    cmd = [sys.executable, "-c", _CHILD, module, name, str(marker), "1" if repeat else "0", *args]
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if when == "during-write" and any(".tmp-" in p.name for p in cwd.rglob("*")):
            break  # a temporary output file exists
        if when == "during-work" and marker.exists():
            break  # the wrapped call has begun
        time.sleep(0.005)
    assert proc.poll() is None, "finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.slow
@pytest.mark.parametrize("when", ["during-work", "during-write"])
def test_ctrl_c_leaves_no_partial_output(tmp_path: Path, when: str) -> None:
    n = 2_000_000
    # during the generation (repeated until interrupted), or while the output is written
    p = _interrupt(["sample", "--kind", "history", "-n", str(n), "-o", "big.csv"], tmp_path, when,
                   repeat=when == "during-work")
    assert p.returncode == 130, (p.returncode, p.stderr[-2000:])
    assert p.stderr.strip().splitlines() == ["bouncekit: interrupted"]
    leftovers = [f.name for f in tmp_path.iterdir()]
    assert not [f for f in leftovers if ".tmp-" in f], leftovers
    if when == "during-work":
        assert leftovers == []
    if "big.csv" in leftovers:  # interrupted after the rename: the file is whole
        with open(tmp_path / "big.csv", "rb") as f:
            assert sum(1 for _ in f) == n + 1


def test_ctrl_c_after_the_work_exits_cleanly(tmp_path: Path) -> None:
    # A Ctrl-C that comes once the output is complete (while the interpreter
    # shuts down) must not kill the process by signal: exit code 0, file whole.
    script = ("import os, signal, sys\n"
              "from bouncekit.cli import main\n"
              "rc = main()\n"
              "os.kill(os.getpid(), signal.SIGINT)\n"
              "sys.exit(rc)\n")
    p = subprocess.run([sys.executable, "-c", script, "sample", "-n", "50", "-o", "s.csv"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, (p.returncode, p.stderr)
    assert "Traceback" not in p.stderr
    assert len(pd.read_csv(tmp_path / "s.csv")) == 50


@pytest.mark.slow
def test_ctrl_c_during_analyze(tmp_path: Path) -> None:
    from bouncekit import generate
    generate.history(400_000, seed=1).to_parquet(tmp_path / "h.parquet")
    p = _interrupt(["analyze", "h.parquet", "--out-dir", "o"], tmp_path, "during-work",
                   hook="bouncekit.cli:_analysis", repeat=False)
    assert p.returncode == 130, (p.returncode, p.stderr[-2000:])
    out = tmp_path / "o"
    files = sorted(f.name for f in out.iterdir()) if out.exists() else []
    assert not [f for f in files if ".tmp-" in f], files
    # whatever was written is complete
    for f in files:
        if f.endswith(".csv"):
            assert pd.read_csv(out / f).shape[0] >= 0
        elif f.endswith(".html"):
            assert (out / f).read_text().endswith("</html>")
    assert pq.read_metadata(tmp_path / "h.parquet").num_rows == 400_000


def test_simulate_compares_schedules(tmp_path: Path) -> None:
    p = run(["simulate", "--schedule", "postfix", "--schedule", "mailgun", "--mix",
             "greylisted=0.5,mailbox_full=0.5", "--window", "24h", "-o", "sim.csv"], tmp_path)
    assert p.returncode == 0, p.stderr
    t = pd.read_csv(tmp_path / "sim.csv")
    assert list(t["schedule"]) == ["postfix", "mailgun"]
    # shares are probabilities and every message is either delivered or expired
    assert ((t["delivered"] + t["expired"]).round(9) == 1).all()
    # Postfix keeps trying for 5 days, Mailgun gives up after 8 hours: Postfix delivers more
    assert t.loc[0, "delivered"] > t.loc[1, "delivered"]
    assert "postfix" in p.stdout and "mailgun" in p.stdout


@pytest.mark.parametrize("args,needle", [
    (["--mix", "greylisted=0.5"], "sum to 1"),
    (["--mix", "greylisted=abc"], "not a number"),
    (["--schedule", "nope"], "unknown schedule 'nope'"),
    (["--exim-rule", "F,2h,15m; G,16h,1h,x"], "column 20"),
])
def test_simulate_bad_input(tmp_path: Path, args: List[str], needle: str) -> None:
    assert_one_line_error(run(["simulate", *args], tmp_path), 1, needle)


def test_parse_writes_events_and_errors(tmp_path: Path, shared_dir: Path) -> None:
    emails = shared_dir / "corpora" / "sisimai" / "emails"
    p = run(["parse", str(emails), "-o", "ev.parquet", "--errors", "err.csv"], tmp_path)
    assert p.returncode == 0, p.stderr
    ev = pq.read_table(tmp_path / "ev.parquet").to_pandas()
    err = pd.read_csv(tmp_path / "err.csv")
    n_files = sum(1 for f in emails.rglob("*") if f.is_file())
    assert len(ev) > 0.9 * n_files
    assert {"recipient", "reply_code", "bounce_class", "category", "source"} <= set(ev.columns)
    # records in = records with events + skipped + errors, as the summary line says
    line = p.stderr.strip().splitlines()[-1]
    records = int(line.split(" records:")[0].replace(",", ""))
    assert f"{len(err):,} errors" in line and records >= n_files - 1


def test_parse_missing_input(tmp_path: Path) -> None:
    assert_one_line_error(run(["parse", "nowhere.eml", "-o", "ev.csv"], tmp_path), 1, "nowhere.eml")
    assert not (tmp_path / "ev.csv").exists()


def test_analyze_with_a_declarative_policy(tmp_path: Path) -> None:
    p = run(["analyze", "--sample", "--policy", "seeds", "--out-dir", "o"], tmp_path)
    assert p.returncode == 0, p.stderr
    sup = pd.read_csv(tmp_path / "o" / "suppressions.csv")
    std = run(["analyze", "--sample", "--out-dir", "s"], tmp_path)
    assert std.returncode == 0, std.stderr
    sup_std = pd.read_csv(tmp_path / "s" / "suppressions.csv")
    # the seeds preset names its own rules and suppresses complainers; standard has neither
    assert "complaint" in set(sup["reason"]) and "complaint" not in set(sup_std["reason"])
    assert set(sup_std["reason"]) <= {"hard_bounce", "soft_streak", "soft_window"}
    assert sup["recipient"].is_unique and len(sup) > 0
    assert (tmp_path / "o" / "report.html").stat().st_size > 10_000


def test_history_writes_w2_and_w3_like_the_python_api(tmp_path: Path) -> None:
    import bouncekit
    df = pd.DataFrame({"email": ["a@x.org", "a@x.org", "b@y.org", "c@Y.org"], "campaign_id": [1, 2, 1, 2],
                       "ts": [10, 20, 10, 30], "bounce_class": ["soft", "hard", "delivered", "block"]})
    df.to_parquet(tmp_path / "e.parquet")
    p = run(["history", "e.parquet", "--suppressions", "s.csv", "--aggregates", "a.csv",
             "--column", "recipient=email", "--threads", "2"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["read 4 events, 3 recipients",
                                     "wrote 1 suppressed recipients to s.csv",
                                     "wrote 4 campaign x domain rows to a.csv"]
    r = bouncekit.analyze_history(df, columns={"recipient": "email"}, output="arrow")
    bouncekit.write_csv(r.suppressions, tmp_path / "s_api.csv")
    bouncekit.write_csv(r.aggregates, tmp_path / "a_api.csv")
    assert (tmp_path / "s.csv").read_bytes() == (tmp_path / "s_api.csv").read_bytes()
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "a_api.csv").read_bytes()
    h = run(["history", "--help"], tmp_path)
    assert h.returncode == 0 and "bouncekit history events.parquet" in h.stdout


def test_history_bad_input(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text("recipient,campaign_id,ts,bounce_class\na@b.c,1,x,hard\n")
    assert_one_line_error(run(["history", "e.csv"], tmp_path), 1, "--suppressions")
    assert_one_line_error(run(["history", "e.csv", "--suppressions", "s.parquet"], tmp_path), 1, "s.parquet",
                          ".csv")
    assert_one_line_error(run(["history", "e.csv", "--suppressions", "s.csv"], tmp_path), 1, "column 'ts' row 0", "'x'")
    assert_one_line_error(run(["history", "nope.parquet", "--aggregates", "a.csv"], tmp_path), 1, "nope.parquet")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["e.csv"]
