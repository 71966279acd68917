"""Acceptance 2 of the retry-window simulator: a real Postfix against bouncekit's prediction.

Debian's postfix (installed here when missing; needs root) runs on loopback with
scaled-down timings (queue_run_delay = minimal_backoff_time = 10 s,
maximal_backoff_time = 45 s, maximal_queue_lifetime = 100 s) and relays to a
local SMTP sink (tests/mta/postfix_harness.py) that answers RCPT TO with 451:

* k3@  for its first K = 3 attempts, then accepts;
* t35@ until 30 s after its first attempt, then accepts;
* never@ always (the message must expire and be returned).

Postfix's own log (maillog_file) gives each attempt's time and status;
bouncekit.retry.postfix() with the same parameters predicts them.

Tolerance. Postfix retries a deferred message only when a deferred-queue scan
runs (every queue_run_delay) and takes files whose time stamp is at most 1 s
ahead, on a whole-second clock. Two things are unknown to the model and fitted
once for the whole run: the phase of the queue scans relative to the message
arrival (in [0, 10) s) and the sub-second arrival offset (in [0, 1) s). With
them, every attempt of every message must be predicted within 2 s: the log's
time stamps have 1 s resolution (+-1 s on a difference) and a scan's delivery
takes a few ms. A model that is off by one queue run is off by 10 s, so the
test fails on a wrong backoff rule (e.g. a fixed interval instead of the
message's age, which the test shows is off by whole queue runs). Ignoring the
queue-run granularity is only right when the scans happen to line up.
The number of attempts and the outcomes (delivered at which attempt; expired)
must match exactly.

Away from the knife edge. A retry time that falls within ~1 s of a queue scan
is decided by the look-ahead and by how quickly Postfix records a deferral: on
a loaded machine such an attempt comes one queue run (10 s) late (seen in CI:
49.2 s instead of 41.9 s, when the messages were sent right after the queue
manager started, so every retry fell on a scan). So the test first learns the
scan phase from a probe message (deferred once: its retry comes at a scan)
and sends the three messages half-way between two scans (SEND_PHASE = 5 s
after one). Then the first retry (age 0, backoff 10 s) and every age-driven
backoff (eligible at 2 x the attempt's age) fall 4-6 s from the nearest scan
edge; maximal_backoff_time is 45 s, not a multiple of queue_run_delay, so a
capped backoff (an attempt on a scan + 45 s) is 5 s from one too (40 s would
put it exactly on a scan); t35 recovers at 30 s, between its attempts at ~15 s
and ~35 s. Should a run still miss, the miss is printed and the whole Postfix
run is done again, up to RERUNS times; the last run must pass. A wrong model
misses every run, by whole queue runs on many attempts.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import pytest

from bouncekit import retry

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "mta"))
import postfix_harness as H  # noqa: E402

QRD, MIN_BO, MAX_BO, LIFETIME, K, T_RECOVER = 10, 10, 45, 100, 3, 30.0
PROBE = "probe@example.test"  # deferred once: its retry shows when the queue scans run
SEND_PHASE = 5.0  # the test messages are sent this long after a queue scan
TOL_LOG = 2.0
RERUNS = 4  # fresh Postfix runs after a timing miss (see the module docstring)


def _skip(reason: str) -> None:
    print(f"SKIPPED real-Postfix check: {reason}", file=sys.stderr)
    pytest.skip(reason)


def _log_time(line: str) -> float:
    m = re.match(r"(\w{3})\s+(\d+) (\d\d):(\d\d):(\d\d)", line)
    assert m, line
    mon = dt.datetime.strptime(m.group(1), "%b").month
    t = dt.datetime(2000, mon, int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5)))
    return t.timestamp()


def _predict(phase: float, offset: float, granularity: bool = True) -> retry.Schedule:
    return retry.postfix(f"{QRD}s", f"{MIN_BO}s", f"{MAX_BO}s", f"{LIFETIME}s", queue_run_granularity=granularity,
                         scan_phase=phase if granularity else 0.0, whole_seconds=granularity, clock_offset=offset)


@pytest.fixture(scope="module")
def postfix_run() -> Dict[str, object]:
    if os.name != "posix" or os.geteuid() != 0:
        _skip("needs root (installs Debian's postfix and runs its daemons)")
    reason = H.ensure_postfix()
    if reason:
        _skip(reason)
    return _run_postfix()


def _run_postfix() -> Dict[str, object]:
    """One Postfix instance, the three messages, until k3 and t35 are delivered and never@ expired."""
    sink = H.SmtpSink({"k3@example.test": K, "never@example.test": -1, PROBE: 1},
                      defer_for={"t35@example.test": T_RECOVER}).start()
    pf = H.PostfixInstance(relay_port=sink.port, queue_run_delay=QRD, minimal_backoff_time=MIN_BO,
                           maximal_backoff_time=MAX_BO, maximal_queue_lifetime=LIFETIME)
    root = pf.root
    try:
        pf.start()
        scan = _probe_scan(pf, sink)
        # Half-way between two scans, at least 0.5 s from now.
        n = math.ceil((time.time() + 0.5 - scan - SEND_PHASE) / QRD)
        time.sleep(max(0.0, scan + n * QRD + SEND_PHASE - time.time()))
        arrivals = {}
        for rcpt in ("k3@example.test", "t35@example.test", "never@example.test"):
            arrivals[rcpt] = time.time()
            pf.send("sender@bouncekit.test", rcpt, f"retry test {rcpt}")
        deadline = time.time() + 220
        while time.time() < deadline:
            att = pf.attempts()
            done = {a.recipient for a in att if a.status == "sent"}
            if {"k3@example.test", "t35@example.test"} <= done and len(pf.expired()) >= 1:
                break
            time.sleep(1)
        time.sleep(1)
        result: Dict[str, object] = {"attempts": pf.attempts(), "expired": pf.expired(), "log": pf.log_text(),
                                     "sink": list(sink.events), "arrivals": arrivals}
    finally:
        pf.stop()
        sink.stop()
    result["root_removed"] = not root.exists()
    return result


def _probe_scan(pf: "H.PostfixInstance", sink: "H.SmtpSink") -> float:
    """Sends the probe and returns the time of its retry, i.e. of a deferred-queue scan (sink clock)."""
    pf.send("sender@bouncekit.test", PROBE, "queue scan probe")
    deadline = time.time() + 4 * QRD
    while time.time() < deadline:
        times = [e.time for e in list(sink.events) if e.recipient == PROBE]
        if len(times) >= 2:
            return times[1]
        time.sleep(0.05)
    raise AssertionError(f"the probe was not retried within {4 * QRD} s:\n{pf.log_text()}")


def _series(run: Dict[str, object]) -> Dict[str, List[Tuple[float, str, float]]]:
    """recipient -> [(log time, status, sink time)] for the test's messages."""
    attempts: List[H.LogAttempt] = run["attempts"]  # type: ignore[assignment]
    sink: List[H.SinkEvent] = run["sink"]  # type: ignore[assignment]
    out: Dict[str, List[Tuple[float, str, float]]] = {}
    for rcpt in ("k3@example.test", "t35@example.test", "never@example.test"):
        logs = [a for a in attempts if a.recipient == rcpt]
        evs = [e.time for e in sink if e.recipient == rcpt]
        assert len(logs) == len(evs), (rcpt, len(logs), len(evs), run["log"])
        out[rcpt] = [(_log_time(a.line), a.status, e) for a, e in zip(logs, evs)]
    return out


def _outcomes(run: Dict[str, object]) -> Tuple[Dict[str, List[Tuple[float, str, float]]], float]:
    """Checks a run's outcomes (K deferrals then delivery; delivery at the first attempt >= T_RECOVER;
    expiry) and returns its series and reference time (the first sink event)."""
    series = _series(run)
    k3 = [s for _, s, _ in series["k3@example.test"]]
    assert k3 == ["deferred"] * K + ["sent"], run["log"]
    assert series["t35@example.test"][-1][1] == "sent"
    assert all(s == "deferred" for _, s, _ in series["never@example.test"])
    assert len(run["expired"]) == 1, run["log"]  # type: ignore[arg-type]
    return series, min(v[0][2] for v in series.values())


def test_postfix_matches_bouncekit(postfix_run: Dict[str, object]) -> None:
    run = postfix_run
    series, t_ref = _outcomes(run)
    phase, offset, miss = _fitted_timings(run, series, t_ref)
    for again in range(RERUNS):
        if not miss:
            break
        print(f"timings missed the tolerance, fresh Postfix run {again + 1} of {RERUNS} follows: {miss}",
              file=sys.stderr)
        run = _run_postfix()
        series, t_ref = _outcomes(run)
        phase, offset, miss = _fitted_timings(run, series, t_ref)
    assert not miss, miss
    # The idealised model (no queue-run granularity) matches only when the scans happen to fall on
    # the eligibility times; report it. A wrong backoff rule (a fixed minimal_backoff_time between
    # attempts instead of the message's age) is off by whole queue runs, which the tolerance rejects.
    wl_ideal, _, _ = _errors(series, t_ref, 0.0, 0.0, granularity=False)
    never = series["never@example.test"]
    wrong = retry.fixed(f"{MIN_BO}s", lifetime=f"{LIFETIME}s", expiry="after_attempt").attempts
    n = min(len(wrong), len(never))
    wrong_err = max(abs((never[k][0] - never[0][0]) - wrong[k]) for k in range(n))
    print(f"idealised model max|log-pred|={wl_ideal}s; fixed-interval model {wrong_err}s")
    assert wrong_err > 3 * TOL_LOG, wrong_err

    # The expired message: returned at its first failed attempt at age >= maximal_queue_lifetime.
    age_last = never[-1][2] - never[0][2]
    assert age_last >= LIFETIME - 1 and never[-2][2] - never[0][2] < LIFETIME + 1

    # bouncekit's outcome for the same schedule and causes agrees: the time-based deferral is a
    # fixed T_RECOVER recovery, delivered at the predicted attempt.
    sched = _predict((phase - (series["t35@example.test"][0][2] - t_ref)) % QRD, offset)
    out = retry.simulate(sched, {retry.recovery(retry.Recovery.fixed(T_RECOVER - 0.2), name="t35"): 1.0})
    assert out.delivered == 1.0
    assert out.mean_attempts == len(series["t35@example.test"])
    arrivals: Dict[str, float] = run["arrivals"]  # type: ignore[assignment]
    assert arrivals["never@example.test"] > 0
    assert run["root_removed"], "the Postfix instance's directory was not removed"


def _errors(series: Dict[str, List[Tuple[float, str, float]]], t_ref: float, phase: float, offset: float,
            granularity: bool = True) -> Tuple[float, float, Dict[str, object]]:
    """Max |log - predicted| and |sink - predicted| over all attempts (s), plus details."""
    worst_log, worst_sink = 0.0, 0.0
    detail: Dict[str, object] = {}
    for rcpt, obs in series.items():
        t0 = obs[0][2]  # first attempt of this message (sink clock)
        # The queue-scan phase is common to the run; express it relative to this message.
        ph = (phase - (t0 - t_ref)) % QRD
        sched = _predict(ph, offset, granularity)
        pred = sched.attempts
        if rcpt == "k3@example.test":
            n_pred = K + 1
        elif rcpt == "t35@example.test":
            n_pred = int(np.searchsorted(pred, T_RECOVER - 0.2)) + 1
        else:
            n_pred = len(pred)
        if n_pred != len(obs):
            return np.inf, np.inf, {"rcpt": rcpt, "predicted": pred[:n_pred].tolist(), "observed": len(obs)}
        log0 = obs[0][0]
        for k, (lt, _, st) in enumerate(obs):
            worst_log = max(worst_log, abs((lt - log0) - pred[k]))
            worst_sink = max(worst_sink, abs((st - t0) - pred[k]))
        detail[rcpt] = {"predicted": pred[:n_pred].tolist(),
                        "log": [round(lt - log0, 1) for lt, _, _ in obs],
                        "sink": [round(st - t0, 2) for _, _, st in obs]}
    return worst_log, worst_sink, detail


def _fitted_timings(run: Dict[str, object], series: Dict[str, List[Tuple[float, str, float]]],
                    t_ref: float) -> Tuple[float, float, str]:
    """Fits the two unknowns (scan phase, sub-second arrival offset) on a grid; returns them and
    what missed the tolerance ('' when every attempt is within it)."""
    best = (np.inf, np.inf, 0.0, 0.0)
    for phase in np.arange(0, QRD, 0.1):
        for offset in np.arange(0, 1, 0.1):
            wl, ws, _ = _errors(series, t_ref, float(phase), float(offset))
            if (ws, wl) < (best[1], best[0]):
                best = (wl, ws, float(phase), float(offset))
    wl, ws, phase, offset = best
    _, _, detail = _errors(series, t_ref, phase, offset)
    msg = f"phase={phase:.1f}s offset={offset:.1f}s max|log-pred|={wl}s max|sink-pred|={ws}s {detail}"
    print(msg)
    return phase, offset, "" if wl <= TOL_LOG and ws <= 1.5 else msg


def test_postfix_backoff_rule_without_fitting(postfix_run: Dict[str, object]) -> None:
    """Phase-free check of Postfix's rule on the always-deferred message: each gap is at least
    clamp(age, minimal, maximal) - 1 s (the qmgr's 1 s look-ahead, whole seconds) and at most that
    plus one queue run (+1 s)."""
    never = _series(postfix_run)["never@example.test"]
    t0 = never[0][2]
    for (_, _, a), (_, _, b) in zip(never, never[1:]):
        age = a - t0
        want = min(max(age, MIN_BO), MAX_BO)
        assert want - 2 <= b - a <= want + QRD + 1.5, (age, b - a, want)
