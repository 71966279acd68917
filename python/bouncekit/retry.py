"""Retry-window simulator: what a sender's retry schedule really delivers.

A soft bounce is only the first attempt: the sending MTA retries on a schedule
until the message is delivered or its window expires. This module models the
schedules (with the parameters the MTAs use), the causes of the temporary
failures (how long they last), and computes the outcome: the share delivered
and when, attempts per message, the share that expires into a hard bounce.
Figures and semantics: ``../shared/reference/retry-schedules.md``.

Times are seconds (numbers) or strings such as ``"300s"``, ``"15m"``,
``"4h"``, ``"5d"``; the first, failed, attempt is at t = 0.

>>> from bouncekit import retry
>>> s = retry.postfix()                 # Postfix defaults, 300 s queue runs
>>> [int(t) for t in s.attempts[:7]]
[0, 300, 600, 1200, 2400, 4800, 9000]
>>> out = retry.simulate(s, {"greylisted": 0.5, "mailbox_full": 0.5})
>>> round(out.delivered, 3)
0.796
>>> out.quantile(0.5, among="delivered") / 60   # median delivery: the 5-minute retry
5.0
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union, cast

from ._lazy import lazy_module, loaded_instance

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")  # imported on first use: `import bouncekit` stays light

from . import _core
from .errors import InvalidArgumentError

__all__ = [
    "Schedule",
    "Outcome",
    "Recovery",
    "Cause",
    "Duration",
    "PRESETS",
    "DEFAULT_CATEGORIES",
    "parse_duration",
    "explicit",
    "fixed",
    "exponential",
    "postfix",
    "exim",
    "exim_from_config",
    "haraka",
    "preset",
    "greylisting",
    "recovery",
    "throttling",
    "default_cause",
    "default_causes",
    "simulate",
    "compare",
    "search",
    "plot_delivered",
    "kaplan_meier",
    "fit_recovery",
    "RecoveryFit",
]

Duration = Union[int, float, str, "pd.Timedelta"]
Cause = _core.RetryCause
CauseMix = Union[Mapping[Any, float], Sequence[Tuple[Any, float]]]

#: Preset schedule names (see :func:`preset`).
PRESETS: Tuple[str, ...] = tuple(_core.RetrySchedule.preset_names())
#: Bounce categories with a documented default cause (see :func:`default_cause`).
DEFAULT_CATEGORIES: Tuple[str, ...] = tuple(_core.RetryCause.default_categories())

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*")


def parse_duration(value: Duration, field: str = "duration") -> float:
    """Seconds from a number, a pandas Timedelta or text such as ``"1h30m"``.

    >>> parse_duration("1h30m"), parse_duration(90), parse_duration("2d")
    (5400.0, 90.0, 172800.0)
    """
    if loaded_instance(value, "pandas", "Timedelta"):
        return float(cast("pd.Timedelta", value).total_seconds())
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("inf", "never", "none"):
            return math.inf
        pos, total = 0, 0.0
        while pos < len(text):
            m = _DURATION_RE.match(text, pos)
            if not m or m.end() == pos:
                raise InvalidArgumentError(
                    f"{field}: cannot read {value!r} as a duration (column {pos + 1}); use e.g. 300, '15m', '4h', '5d'",
                    field=field, text_column=pos + 1)
            total += float(m.group(1)) * _UNITS[m.group(2) or "s"]
            pos = m.end()
        if not text:
            raise InvalidArgumentError(f"{field}: empty duration", field=field)
        return total
    raise InvalidArgumentError(f"{field}: expected seconds or a duration string, got {type(value).__name__}",
                               field=field)


def _opt(value: Optional[Duration], field: str) -> float:
    return math.inf if value is None else parse_duration(value, field)


class Schedule:
    """A retry schedule and the attempt timeline it implies.

    >>> s = preset("mailgun")
    >>> print(s.describe())  # doctest: +NORMALIZE_WHITESPACE
    schedule mailgun (explicit)
        #                at             gap
        1               00s
        2           10m 00s         10m 00s
        3           25m 00s         15m 00s
        4           55m 00s         30m 00s
        5        1h 55m 00s      1h 00m 00s
        6        3h 55m 00s      2h 00m 00s
        7        7h 55m 00s      4h 00m 00s
    gives up at 7h 55m 00s (attempt limit) after 7 attempts
    """

    def __init__(self, core: _core.RetrySchedule, name: Optional[str] = None) -> None:
        self._core = core
        self.name: str = name or core.name

    @property
    def core(self) -> _core.RetrySchedule:
        return self._core

    @property
    def family(self) -> str:
        return self._core.family

    @property
    def deterministic(self) -> bool:
        """False when attempt times are random (jitter, Exim H rules, random queue-run phase)."""
        return self._core.deterministic

    @property
    def attempts(self) -> np.ndarray:
        """Attempt times in seconds (attempt 1 at 0); for random schedules one draw (seed 0)."""
        return np.asarray(self._core.attempts)

    @property
    def expire_time(self) -> float:
        """When a message that is still failing is given up (seconds)."""
        return float(self._core.expire_time)

    @property
    def give_up(self) -> str:
        """Why the timeline ends: 'lifetime' or 'attempts'."""
        return self._core.give_up

    def timeline(self, seed: Optional[int] = None) -> pd.DataFrame:
        """One row per attempt: attempt number, time (s and Timedelta), gap since the previous one."""
        if seed is None:
            at = self.attempts
        else:
            at = np.asarray(self._core.sample(seed)[0])
        gaps = np.diff(at, prepend=np.nan)
        _ret: pd.DataFrame = pd.DataFrame({"attempt": np.arange(1, len(at) + 1), "at_seconds": at,
                             "at": pd.to_timedelta(at, unit="s"), "gap_seconds": gaps})
        return _ret

    def describe(self, max_lines: int = 60) -> str:
        return self._core.describe(max_lines).replace(f"schedule {self._core.name} ", f"schedule {self.name} ", 1)

    def __str__(self) -> str:
        return self.describe()

    def __repr__(self) -> str:
        return (f"Schedule({self.name!r}, family={self.family!r}, attempts={len(self.attempts)}, "
                f"gives_up_at={self.expire_time:g}s)")


def _expiry(expiry: str) -> str:
    if expiry not in ("at_deadline", "after_attempt"):
        raise InvalidArgumentError(f"expiry: must be 'at_deadline' or 'after_attempt', got {expiry!r}", field="expiry")
    return expiry


def explicit(intervals: Sequence[Duration], *, lifetime: Optional[Duration] = None, max_attempts: int = 0,
             expiry: str = "at_deadline", name: str = "explicit") -> Schedule:
    """Retries after the given gaps (Haraka ``temp_fail_intervals``, Mailgun); gives up when the list ends.

    >>> explicit(["7m", "38m"]).attempts.tolist()
    [0.0, 420.0, 2700.0]
    """
    gaps = [parse_duration(x, f"intervals[{i}]") for i, x in enumerate(intervals)]
    return Schedule(_core.RetrySchedule.explicit(gaps, _opt(lifetime, "lifetime"), max_attempts, _expiry(expiry)),
                    name)


def fixed(interval: Duration, *, lifetime: Optional[Duration] = None, max_attempts: int = 0,
          expiry: str = "at_deadline", name: str = "fixed") -> Schedule:
    """A retry every ``interval`` until ``lifetime`` or ``max_attempts`` (Exim F, Exchange, sendmail -q).

    >>> len(fixed("15m", lifetime="2d").attempts)
    192
    """
    return Schedule(_core.RetrySchedule.fixed(parse_duration(interval, "interval"), _opt(lifetime, "lifetime"),
                                              max_attempts, _expiry(expiry)), name)


def exponential(initial: Duration, factor: float = 2.0, *, cap: Optional[Duration] = None, jitter: float = 0.0,
                lifetime: Optional[Duration] = None, max_attempts: int = 0, expiry: str = "at_deadline",
                name: str = "exponential") -> Schedule:
    """Gaps initial, initial x factor, ... up to ``cap``; ``jitter`` scales each gap by U(1-j, 1+j) (KumoMTA).

    >>> exponential("20m", 2, lifetime="7d").attempts[:4].tolist()
    [0.0, 1200.0, 3600.0, 8400.0]
    """
    return Schedule(_core.RetrySchedule.exponential(parse_duration(initial, "initial"), float(factor),
                                                    _opt(cap, "cap"), float(jitter), _opt(lifetime, "lifetime"),
                                                    max_attempts, _expiry(expiry)), name)


def postfix(queue_run_delay: Duration = "300s", minimal_backoff_time: Duration = "300s",
            maximal_backoff_time: Duration = "4000s", maximal_queue_lifetime: Duration = "5d", *,
            queue_run_granularity: bool = True, scan_phase: Union[Duration, None] = 0.0,
            whole_seconds: bool = False, clock_offset: float = 0.0, name: str = "postfix") -> Schedule:
    """Postfix's qmgr: after a deferral the message waits clamp(age, minimal, maximal backoff) and is
    picked up by the next deferred-queue scan (every ``queue_run_delay``, at ``scan_phase`` + n x delay;
    ``scan_phase=None`` draws it per message). It is returned at the first failed attempt at age >=
    ``maximal_queue_lifetime``. ``whole_seconds`` reproduces qmgr's integer-second clock (the message
    arrived at ``clock_offset`` into a second); it matters only for second-scale test timings.

    >>> postfix(queue_run_granularity=False).attempts[:8].tolist()
    [0.0, 300.0, 600.0, 1200.0, 2400.0, 4800.0, 8800.0, 12800.0]
    """
    phase = -1.0 if scan_phase is None else parse_duration(scan_phase, "scan_phase")
    return Schedule(_core.RetrySchedule.postfix(parse_duration(queue_run_delay, "queue_run_delay"),
                                                parse_duration(minimal_backoff_time, "minimal_backoff_time"),
                                                parse_duration(maximal_backoff_time, "maximal_backoff_time"),
                                                parse_duration(maximal_queue_lifetime, "maximal_queue_lifetime"),
                                                bool(queue_run_granularity), phase, bool(whole_seconds),
                                                float(clock_offset)), name)


EXIM_DEFAULT_RULE = "F,2h,15m; G,16h,1h,1.5; F,4d,6h"


def exim(rules: str = EXIM_DEFAULT_RULE, *, host_failing_for: Duration = 0, queue_run_interval: Duration = 0,
         queue_run_phase: Union[Duration, None] = 0.0, retry_interval_max: Duration = "24h",
         name: str = "exim") -> Schedule:
    """An Exim retry rule list (``F,cutoff,interval`` / ``G|H,cutoff,start,multiplier``), on Exim's clock:
    cutoffs count from the host's first failure (``host_failing_for`` before this message's first try).
    With ``queue_run_interval`` (e.g. Debian's ``-q30m``) attempts wait for the next queue run.

    >>> len(exim().attempts), exim().expire_time / 3600 > 96
    (28, True)
    >>> exim("F,2h,15m; G,16h,1h,x")
    Traceback (most recent call last):
    ...
    bouncekit.errors.InvalidArgumentError: Exim retry rule, line 1 column 20: bad multiplier 'x' (expected a decimal number such as 1.5)
    """
    phase = -1.0 if queue_run_phase is None else parse_duration(queue_run_phase, "queue_run_phase")
    return Schedule(_core.RetrySchedule.exim(rules, parse_duration(host_failing_for, "host_failing_for"),
                                             parse_duration(queue_run_interval, "queue_run_interval"), phase,
                                             parse_duration(retry_interval_max, "retry_interval_max")), name)


def exim_from_config(config: str, domain: str, error: str = "*", local_part: str = "", **kwargs: Any) -> Schedule:
    """The schedule Exim would use for ``domain`` and ``error`` given a ``begin retry`` section.

    >>> cfg = "gmail.com  rcpt_4xx  F,4h,5m\\n*  *  F,2h,15m; G,16h,1h,1.5; F,4d,6h\\n"
    >>> exim_from_config(cfg, "gmail.com", "rcpt_451").attempts[:3].tolist()
    [0.0, 300.0, 600.0]
    """
    line = _core.retry_select_exim_line(config, domain, error, local_part)
    text = config.splitlines()[line - 1]
    fields = re.match(r"(\s*\S+\s+\S+\s+)(.*?)\s*$", text)
    assert fields is not None
    prefix, rules = fields.group(1), fields.group(2)
    kw = dict(kwargs)
    phase = kw.pop("queue_run_phase", 0.0)
    sched = _core.RetrySchedule.exim(rules, parse_duration(kw.pop("host_failing_for", 0)),
                                     parse_duration(kw.pop("queue_run_interval", 0)),
                                     -1.0 if phase is None else parse_duration(phase),
                                     parse_duration(kw.pop("retry_interval_max", "24h")), line, len(prefix) + 1)
    if kw:
        raise InvalidArgumentError(f"unexpected arguments: {sorted(kw)}")
    return Schedule(sched, f"exim[{domain} {error}]")


def haraka(temp_fail_intervals: str = "", *, max_temp_failures: int = 13) -> Schedule:
    """Haraka's outbound schedule: the default 2^(i+5) s doubling with ``maxTempFailures``, or a
    ``temp_fail_intervals`` list such as ``"1m, 5m*2, 1h*3"`` (``"none"``: bounce on the first failure).

    >>> haraka("1m, 5m*2, 1h*3").attempts.tolist()
    [0.0, 60.0, 360.0, 660.0, 4260.0, 7860.0, 11460.0]
    >>> haraka("1m, 5x").attempts
    Traceback (most recent call last):
    ...
    bouncekit.errors.InvalidArgumentError: temp_fail_intervals: cannot read '5x' (column 5); expected e.g. '5m' or '1h*3'
    """
    text = temp_fail_intervals.strip()
    if not text:
        if max_temp_failures < 1:
            raise InvalidArgumentError("max_temp_failures: must be >= 1", field="max_temp_failures")
        gaps = [float(2 ** (i + 5)) for i in range(1, max_temp_failures)]
        return Schedule(_core.RetrySchedule.explicit(gaps, math.inf, max_temp_failures, "at_deadline"), "haraka")
    if text.lower() == "none":
        return Schedule(_core.RetrySchedule.explicit([], math.inf, 0, "at_deadline"), "haraka")
    gaps = []
    pos = 0
    for item in temp_fail_intervals.split(","):
        start = pos + (len(item) - len(item.lstrip()))
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?[smhd]?)\s*(?:\*\s*(\d+))?\s*", item)
        if not m:
            raise InvalidArgumentError(f"temp_fail_intervals: cannot read {item.strip()!r} (column {start + 1}); "
                                       "expected e.g. '5m' or '1h*3'", field="temp_fail_intervals",
                                       text_column=start + 1)
        gaps += [parse_duration(m.group(1))] * int(m.group(2) or 1)
        pos += len(item) + 1
    return Schedule(_core.RetrySchedule.explicit(gaps, math.inf, 0, "at_deadline"), "haraka")


def preset(name: str) -> Schedule:
    """A named schedule: postfix, postfix-idealised, exim, sendmail, exchange, kumomta, haraka, mailgun,
    mailpro, ses, sendgrid, mailchimp, rfc5321 (README "Retry windows" lists their sources and assumptions).

    >>> preset("kumomta").expire_time / 86400
    7.0
    """
    return Schedule(_core.RetrySchedule.preset(name))


# ---- causes ------------------------------------------------------------------


class Recovery:
    """Recovery-time distributions (seconds after the first failed attempt).

    >>> d = Recovery.lognormal("1d", 1.5)
    >>> round(float(d.cdf([86400])[0]), 3)
    0.5
    """

    @staticmethod
    def fixed(value: Duration) -> _core.RetryDistribution:
        return _core.RetryDistribution.fixed(parse_duration(value, "value"))

    @staticmethod
    def exponential(mean: Duration) -> _core.RetryDistribution:
        return _core.RetryDistribution.exponential(parse_duration(mean, "mean"))

    @staticmethod
    def lognormal(median: Duration, sigma: float) -> _core.RetryDistribution:
        return _core.RetryDistribution.lognormal(parse_duration(median, "median"), float(sigma))

    @staticmethod
    def weibull(shape: float, scale: Duration) -> _core.RetryDistribution:
        return _core.RetryDistribution.weibull(float(shape), parse_duration(scale, "scale"))

    @staticmethod
    def mixture(parts: Sequence[Tuple[float, _core.RetryDistribution]]) -> _core.RetryDistribution:
        return _core.RetryDistribution.mixture([float(w) for w, _ in parts], [d for _, d in parts])


def greylisting(delay: Duration = "300s", retry_window: Duration = "2d", never_share: float = 0.0,
                name: str = "greylisted") -> Cause:
    """postgrey: a retry passes once it is >= ``delay`` after the first try and within ``retry_window``."""
    return _core.RetryCause.greylist(name, parse_duration(delay, "delay"),
                                     parse_duration(retry_window, "retry_window"), float(never_share))


def recovery(distribution: _core.RetryDistribution, never_share: float = 0.0, name: str = "recovery") -> Cause:
    """The condition clears at a random time; the first attempt after it is delivered."""
    return _core.RetryCause.recovery(name, distribution, float(never_share))


def throttling(allowed_rate: float = 1.0, send_rate: float = 2.0, never_share: float = 0.0,
               name: str = "rate_limited") -> Cause:
    """Each attempt is accepted with probability min(1, allowed_rate / send_rate) (send pressure)."""
    return _core.RetryCause.throttle(name, float(allowed_rate), float(send_rate), float(never_share))


def default_cause(category: str) -> Cause:
    """The documented default cause model for a bounce category (see :func:`default_causes`)."""
    return _core.RetryCause.default(category)


def default_causes() -> pd.DataFrame:
    """The default cause per category, as a table.

    >>> default_causes().set_index("category").loc["greylisted", "model"]
    'greylisted: greylist(delay=05m 00s, retry_window=2d 0h 00m 00s), never recovers 0.01'
    """
    rows = [{"category": c, "kind": default_cause(c).kind, "never_share": default_cause(c).never_share,
             "model": repr(default_cause(c))} for c in DEFAULT_CATEGORIES]
    _ret: pd.DataFrame = pd.DataFrame(rows)
    return _ret


def _mix(causes: CauseMix) -> Tuple[List[Cause], List[float]]:
    items = list(causes.items()) if isinstance(causes, Mapping) else list(causes)
    if not items:
        raise InvalidArgumentError("causes: the cause mix is empty", field="causes")
    out_c: List[Cause] = []
    out_w: List[float] = []
    for i, item in enumerate(items):
        try:
            c, w = item
        except (TypeError, ValueError):
            raise InvalidArgumentError(f"causes[{i}]: expected (cause, share), got {item!r}", field="causes") from None
        if isinstance(c, str):
            c = default_cause(c)
        if not isinstance(c, _core.RetryCause):
            raise InvalidArgumentError(f"causes[{i}]: expected a category name or a Cause, got {type(c).__name__}",
                                       field="causes")
        out_c.append(c)
        out_w.append(float(w))
    return out_c, out_w


# ---- outcomes ------------------------------------------------------------------


@dataclass
class Outcome:
    """What a schedule makes of a cause mix (shares of first-failed messages)."""

    schedule: str
    method: str                 # "exact" or "monte_carlo"
    messages: int               # Monte Carlo sample size (0 for exact)
    delivered: float            # share delivered within the window
    expired: float              # share given up (hard bounce)
    mean_attempts: float        # attempts per message, incl. the first (load on receivers)
    delivered_times: np.ndarray
    delivered_mass: np.ndarray
    expired_times: np.ndarray
    expired_mass: np.ndarray
    attempts_mass: np.ndarray
    causes: pd.DataFrame

    def quantile(self, q: float, among: str = "all") -> float:
        """Delivery-time quantile in seconds: over all messages (inf if fewer than q get through) or
        ``among="delivered"``."""
        if not 0 <= q <= 1:
            raise InvalidArgumentError(f"q: must be in [0, 1], got {q}", field="q")
        if among not in ("all", "delivered"):
            raise InvalidArgumentError("among: must be 'all' or 'delivered'", field="among")
        cum = np.cumsum(self.delivered_mass)
        if among == "delivered":
            if self.delivered <= 0:
                return math.inf
            cum = cum / self.delivered
        idx = int(np.searchsorted(cum, q - 1e-12))
        return float(self.delivered_times[idx]) if idx < len(cum) else math.inf

    def delivered_within(self, window: Duration) -> float:
        """Share delivered no later than ``window`` after the first attempt."""
        w = parse_duration(window, "window")
        return float(self.delivered_mass[self.delivered_times <= w].sum())

    def timeline(self) -> pd.DataFrame:
        """Cumulative delivered and expired shares over time (one row per event time)."""
        t = np.union1d(np.concatenate([[0.0], self.delivered_times]), self.expired_times)
        dc = np.concatenate([[0.0], np.cumsum(self.delivered_mass)])
        ec = np.concatenate([[0.0], np.cumsum(self.expired_mass)])
        delivered = dc[np.searchsorted(self.delivered_times, t, side="right")]
        expired = ec[np.searchsorted(self.expired_times, t, side="right")]
        _ret: pd.DataFrame = pd.DataFrame({"seconds": t, "hours": t / 3600, "delivered": delivered, "expired": expired,
                             "pending": np.clip(1 - delivered - expired, 0, 1)})
        return _ret

    def attempts(self) -> pd.DataFrame:
        """Share of messages by number of attempts made (incl. the first)."""
        n = np.arange(len(self.attempts_mass))
        keep = self.attempts_mass > 0
        _ret: pd.DataFrame = pd.DataFrame({"attempts": n[keep], "share": self.attempts_mass[keep]})
        return _ret

    def summary(self) -> pd.Series:
        """Headline figures (times in hours)."""
        return pd.Series({
            "schedule": self.schedule, "method": self.method, "delivered": self.delivered,
            "expired": self.expired, "mean_attempts": self.mean_attempts,
            "p50_hours": self.quantile(0.5) / 3600, "p90_hours": self.quantile(0.9) / 3600,
            "p50_delivered_hours": self.quantile(0.5, "delivered") / 3600,
            "p90_delivered_hours": self.quantile(0.9, "delivered") / 3600,
            "p99_delivered_hours": self.quantile(0.99, "delivered") / 3600,
            "gives_up_hours": float(self.expired_times.max()) / 3600 if len(self.expired_times) else math.nan,
        })

    def plot(self, ax: Any = None, label: Optional[str] = None) -> Any:
        """Delivered (and expired) share over time, hours on a log axis."""
        return plot_delivered([self], ax=ax, labels=[label] if label else None)


def simulate(schedule: Schedule, causes: CauseMix, *, method: str = "auto", messages: int = 1_000_000,
             seed: int = 1, threads: Optional[int] = None) -> Outcome:
    """Outcome of ``schedule`` on a cause mix ``{cause or category: share}`` (shares sum to 1).

    ``method="exact"`` uses the attempt times and the recovery-time CDFs; ``"monte_carlo"`` simulates
    ``messages`` messages (same ``seed``, same result, whatever ``threads``); ``"auto"``: exact when the
    schedule is deterministic.

    >>> mix = {"greylisted": 0.3, "mailbox_full": 0.3, "rate_limited": 0.4}
    >>> ex = simulate(preset("exim"), mix)
    >>> mc = simulate(preset("exim"), mix, method="monte_carlo", messages=200_000, seed=3)
    >>> abs(ex.delivered - mc.delivered) < 0.005
    True
    """
    cs, ws = _mix(causes)
    if method not in ("auto", "exact", "monte_carlo"):
        raise InvalidArgumentError(f"method: must be 'auto', 'exact' or 'monte_carlo', got {method!r}",
                                   field="method")
    if method == "auto":
        method = "exact" if schedule.deterministic else "monte_carlo"
    if method == "exact":
        d = _core.retry_exact(schedule.core, cs, ws)
    else:
        if threads is not None and threads < 1:
            raise InvalidArgumentError("threads: must be >= 1 (None: all cores)", field="threads")
        d = _core.retry_monte_carlo(schedule.core, cs, ws, int(messages), int(seed), int(threads or 0))
    table = pd.DataFrame({"cause": [c.name for c in cs], "share": ws,
                          "delivered": np.asarray(d["cause_delivered"])})
    return Outcome(schedule.name, method, int(d["messages"]), float(d["delivered"]), float(d["expired"]),
                   float(d["mean_attempts"]), np.asarray(d["delivered_times"]), np.asarray(d["delivered_mass"]),
                   np.asarray(d["expired_times"]), np.asarray(d["expired_mass"]), np.asarray(d["attempts_mass"]),
                   table)


def compare(schedules: Sequence[Schedule], causes: CauseMix, *, window: Optional[Duration] = None,
            method: str = "auto", messages: int = 1_000_000, seed: int = 1) -> pd.DataFrame:
    """Side-by-side table of several schedules on one cause mix (one row per schedule).

    >>> t = compare([preset("postfix"), preset("mailgun")], {"greylisted": 1.0}, window="1h")
    >>> t[["schedule", "delivered", "delivered_in_window"]].round(2).to_string(index=False)
    'schedule  delivered  delivered_in_window\\n postfix       0.99                 0.99\\n mailgun       0.99                 0.99'
    """
    if not schedules:
        raise InvalidArgumentError("schedules: give at least one schedule", field="schedules")
    rows = []
    for s in schedules:
        o = simulate(s, causes, method=method, messages=messages, seed=seed)
        row: Dict[str, Any] = {"schedule": s.name, "family": s.family, "attempts_max": len(s.attempts),
                               "gives_up_hours": s.expire_time / 3600}
        row.update(o.summary().drop(["schedule"]).to_dict())
        if window is not None:
            row["delivered_in_window"] = o.delivered_within(window)
        rows.append(row)
    cols = ["schedule", "family", "method", "delivered"] + (["delivered_in_window"] if window is not None else []) + [
        "expired", "mean_attempts", "attempts_max", "p50_delivered_hours", "p90_delivered_hours",
        "p99_delivered_hours", "gives_up_hours"]
    _ret: pd.DataFrame = pd.DataFrame(rows)[cols]
    return _ret


def search(family: str, causes: CauseMix, *, window: Duration, max_attempts: int,
           grid: Optional[Mapping[str, Sequence[Any]]] = None, top: int = 10) -> pd.DataFrame:
    """Searches a schedule family for the parameters that deliver most within ``window`` using at most
    ``max_attempts`` attempts (exact outcomes). Families and default grids: ``fixed`` (interval),
    ``exponential`` (initial x factor x cap), ``postfix`` (minimal x maximal backoff). Ties are broken
    by faster delivery (90th percentile), then fewer attempts per message. Returns the ``top`` rows, best first.

    >>> best = search("fixed", {"greylisted": 1.0}, window="1h", max_attempts=3)
    >>> float(best.iloc[0]["interval"]), round(float(best.iloc[0]["delivered_in_window"]), 2)
    (300.0, 0.99)
    """
    w = parse_duration(window, "window")
    if max_attempts < 1:
        raise InvalidArgumentError("max_attempts: must be >= 1", field="max_attempts")
    minutes = [1, 2, 5, 7, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 360, 480, 720]
    defaults: Dict[str, Dict[str, Sequence[Any]]] = {
        "fixed": {"interval": [m * 60.0 for m in minutes]},
        "exponential": {"initial": [m * 60.0 for m in minutes], "factor": [1.0, 1.25, 1.5, 2.0, 3.0, 4.0],
                        "cap": [3600.0, 4 * 3600.0, 12 * 3600.0, math.inf]},
        "postfix": {"minimal_backoff_time": [60.0, 300.0, 600.0, 1800.0],
                    "maximal_backoff_time": [1800.0, 4000.0, 3 * 3600.0, 12 * 3600.0]},
    }
    if family not in defaults:
        raise InvalidArgumentError(f"family: must be one of {sorted(defaults)}, got {family!r}", field="family")
    g = dict(defaults[family])
    for k, v in (grid or {}).items():
        if k not in g:
            raise InvalidArgumentError(f"grid: unknown parameter {k!r} for family {family!r} (known: {sorted(g)})",
                                       field="grid")
        g[k] = [parse_duration(x, k) for x in v]
    keys = list(g)
    combos: List[Dict[str, float]] = [{}]
    for k in keys:
        combos = [dict(c, **{k: float(v)}) for c in combos for v in g[k]]
    rows = []
    for p in combos:
        try:
            if family == "fixed":
                s = fixed(p["interval"], lifetime=w, max_attempts=max_attempts, expiry="after_attempt")
            elif family == "exponential":
                if p["cap"] < p["initial"]:
                    continue
                s = exponential(p["initial"], p["factor"], cap=p["cap"], lifetime=w, max_attempts=max_attempts,
                                expiry="after_attempt")
            else:
                if p["maximal_backoff_time"] < p["minimal_backoff_time"]:
                    continue
                s = postfix(minimal_backoff_time=p["minimal_backoff_time"],
                            maximal_backoff_time=p["maximal_backoff_time"], maximal_queue_lifetime=w)
        except InvalidArgumentError:
            continue
        if len(s.attempts) > max_attempts:
            continue
        o = simulate(s, causes, method="exact")
        rows.append(dict(p, attempts_max=len(s.attempts), delivered_in_window=o.delivered_within(w),
                         mean_attempts=o.mean_attempts, p90_delivered_hours=o.quantile(0.9, "delivered") / 3600))
    if not rows:
        raise InvalidArgumentError("no schedule in the grid fits the attempt budget", field="max_attempts")
    df = pd.DataFrame(rows)
    df["_rank"] = df["delivered_in_window"].round(9)
    df = df.sort_values(["_rank", "p90_delivered_hours", "mean_attempts"], ascending=[False, True, True])
    df = df.drop(columns="_rank")
    _ret: pd.DataFrame = df.head(top).reset_index(drop=True)
    return _ret


def plot_delivered(outcomes: Sequence[Outcome], ax: Any = None, labels: Optional[Sequence[str]] = None,
                   expired: bool = True) -> Any:
    """Step plot of the delivered share over time (log hours) for several outcomes; dashed: expired."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    tls = [o.timeline() for o in outcomes]
    # Carry every curve to a common horizon so that early give-ups stay visible.
    horizon = 1.1 * max(float(tl["hours"].max()) for tl in tls) if tls else 1.0
    for i, (o, tl) in enumerate(zip(outcomes, tls)):
        t = np.maximum(np.append(tl["hours"].to_numpy(), horizon), 1 / 60)
        label = labels[i] if labels else o.schedule
        dl = np.append(tl["delivered"].to_numpy(), tl["delivered"].iloc[-1])
        (line,) = ax.step(t, dl, where="post", label=f"{label} delivered")
        if expired and o.expired > 0:
            ex = np.append(tl["expired"].to_numpy(), tl["expired"].iloc[-1])
            ax.step(t, ex, where="post", linestyle="--", color=line.get_color(), alpha=0.6,
                    label=f"{label} expired")
    ax.set_xscale("log")
    ax.set_xlabel("hours since the first failed attempt")
    ax.set_ylabel("share of soft-bounced messages")
    ax.set_ylim(0, 1)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return ax


# ---- learning from history -------------------------------------------------------------------

from ._retry_fit import RecoveryFit, fit_recovery, kaplan_meier  # noqa: E402
