"""Learning recovery times from observed retry histories (part of bouncekit.retry).

Input: one row per delivery attempt (``message_id``, ``time``, ``delivered``
and optional grouping columns such as ``category`` or ``domain``). For each
message whose first attempt failed, the recovery time R is interval-censored:
delivered at attempt k means R in (t_{k-1}, t_k] (times since the first
attempt); never delivered means R > t_last (right-censored). Messages whose
first attempt succeeded are not soft bounces and are left out (counted).

* :func:`kaplan_meier`: the product-limit estimate of P(not yet recovered at
  t), with events at the delivering attempt and censoring at the last failure.
* :func:`fit_recovery`: maximum likelihood for a Weibull or log-normal
  recovery time plus a "never recovers" share, using the exact
  interval-censored likelihood; returns bouncekit causes for the simulator.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Sequence, Tuple, Union

from ._lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")  # imported on first use: `import bouncekit` stays light

from . import _core
from .errors import InvalidArgumentError

__all__ = ["kaplan_meier", "fit_recovery", "RecoveryFit", "intervals_from_history"]


def _seconds(col: pd.Series, name: str) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(col):
        return (col.astype("datetime64[ns]").astype("int64").to_numpy() / 1e9).astype(float)
    if pd.api.types.is_timedelta64_dtype(col):
        _ret: np.ndarray = col.dt.total_seconds().to_numpy(dtype=float)
        return _ret
    if pd.api.types.is_numeric_dtype(col):
        return col.to_numpy(dtype=float)
    raise InvalidArgumentError(f"column '{name}' must hold datetimes, timedeltas or seconds (got {col.dtype})",
                               column=name)


def intervals_from_history(history: pd.DataFrame, *, message: str = "message_id", time: str = "time",
                           delivered: str = "delivered", by: Sequence[str] = ()) -> pd.DataFrame:
    """Per message: ``lower``, ``upper`` (recovery interval, seconds; upper = inf when censored), ``event``
    (delivered), ``attempts``, plus the ``by`` columns.

    >>> h = pd.DataFrame({"message_id": [1, 1, 1, 2, 2], "time": [0, 300, 900, 0, 600],
    ...                   "delivered": [False, False, True, False, False]})
    >>> intervals_from_history(h)[["lower", "upper", "event", "attempts"]].to_dict("list")
    {'lower': [300.0, 600.0], 'upper': [900.0, inf], 'event': [True, False], 'attempts': [3, 2]}
    """
    if not isinstance(history, pd.DataFrame):
        raise InvalidArgumentError(f"history must be a pandas DataFrame, got {type(history).__name__}")
    for c in [message, time, delivered, *by]:
        if c not in history.columns:
            raise InvalidArgumentError(f"history has no column '{c}' (columns: {list(history.columns)})", column=c)
    df = pd.DataFrame({"m": history[message].to_numpy(), "t": _seconds(history[time], time)})
    ok = history[delivered]
    if not pd.api.types.is_bool_dtype(ok):
        bad = ~ok.isin([0, 1, True, False])
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InvalidArgumentError(f"column '{delivered}' row {row}: expected a boolean, got {ok.iloc[row]!r}",
                                       column=delivered, row=row)
    df["ok"] = ok.astype(bool).to_numpy()
    if np.isnan(df["t"].to_numpy()).any():
        row = int(np.flatnonzero(np.isnan(df["t"].to_numpy()))[0])
        raise InvalidArgumentError(f"column '{time}' row {row}: missing time", column=time, row=row)
    for c in by:
        df[c] = history[c].to_numpy()
    df = df.sort_values(["m", "t"], kind="stable")
    g = df.groupby("m", sort=False)
    t0 = g["t"].transform("min")
    df["rel"] = df["t"] - t0
    first = g.head(1)
    first_ok = first.set_index("m")["ok"]
    soft = first_ok.index[~first_ok.to_numpy()]
    df = df[df["m"].isin(soft)]
    g = df.groupby("m", sort=False)
    succ = df[df["ok"]].groupby("m")["rel"].min()
    df = df.join(succ.rename("succ"), on="m")
    before = df[df["succ"].isna() | (df["rel"] < df["succ"])]
    gb = before.groupby("m", sort=False)
    out = pd.DataFrame({"lower": gb["rel"].max()})
    out["upper"] = succ.reindex(out.index).fillna(math.inf)
    out["event"] = np.isfinite(out["upper"].to_numpy())
    out["attempts"] = gb.size() + out["event"].astype(int)
    for c in by:
        out[c] = g[c].first().reindex(out.index)
    out.attrs["excluded_first_attempt_delivered"] = int(len(first_ok) - len(soft))
    _ret: pd.DataFrame = out.reset_index(names="message_id")
    return _ret


def kaplan_meier(history: pd.DataFrame, *, by: Union[str, Sequence[str], None] = None,
                 message: str = "message_id", time: str = "time", delivered: str = "delivered") -> pd.DataFrame:
    """Kaplan–Meier estimate of P(not recovered by t) per group: one row per event time with
    ``at_risk``, ``events`` and ``survival`` (censored messages leave the risk set after their last
    failure).

    >>> h = pd.DataFrame({"message_id": [1, 1, 2, 2, 3, 3], "time": [0, 60, 0, 60, 0, 120],
    ...                   "delivered": [False, True, False, False, False, True]})
    >>> kaplan_meier(h)[["seconds", "at_risk", "events", "survival"]].round(4).to_dict("list")
    {'seconds': [60.0, 120.0], 'at_risk': [3, 1], 'events': [1, 1], 'survival': [0.6667, 0.0]}
    """
    keys = [by] if isinstance(by, str) else list(by or [])
    iv = intervals_from_history(history, message=message, time=time, delivered=delivered, by=keys)
    frames = []
    groups = iv.groupby(keys, sort=True) if keys else [((), iv)]
    for key, part in groups:
        obs = np.where(part["event"], part["upper"], part["lower"]).astype(float)
        ev = part["event"].to_numpy()
        times = np.unique(obs[ev])
        at_risk = np.array([(obs >= t).sum() for t in times], dtype=int)
        events = np.array([((obs == t) & ev).sum() for t in times], dtype=int)
        surv = np.cumprod(1 - events / np.maximum(at_risk, 1))
        f = pd.DataFrame({"seconds": times, "hours": times / 3600, "at_risk": at_risk, "events": events,
                          "survival": surv})
        kt = key if isinstance(key, tuple) else (key,)
        for k, v in zip(keys, kt):
            f.insert(0, k, v)
        frames.append(f)
    cols = keys + ["seconds", "hours", "at_risk", "events", "survival"]
    _ret: pd.DataFrame = pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)
    return _ret


def _nelder_mead(f: Callable[[np.ndarray], float], x0: np.ndarray, step: float = 0.5, iters: int = 600,
                 tol: float = 1e-9) -> np.ndarray:
    n = len(x0)
    pts = [x0.astype(float)] + [x0 + step * np.eye(n)[i] for i in range(n)]
    vals = [f(p) for p in pts]
    for _ in range(iters):
        order = np.argsort(vals)
        pts = [pts[i] for i in order]
        vals = [vals[i] for i in order]
        if abs(vals[-1] - vals[0]) < tol * (1 + abs(vals[0])):
            break
        c = np.mean(pts[:-1], axis=0)
        xr = c + (c - pts[-1])
        fr = f(xr)
        if fr < vals[0]:
            xe = c + 2 * (c - pts[-1])
            fe = f(xe)
            pts[-1], vals[-1] = (xe, fe) if fe < fr else (xr, fr)
        elif fr < vals[-2]:
            pts[-1], vals[-1] = xr, fr
        else:
            xc = c + 0.5 * (pts[-1] - c)
            fc = f(xc)
            if fc < vals[-1]:
                pts[-1], vals[-1] = xc, fc
            else:
                pts = [pts[0]] + [pts[0] + 0.5 * (p - pts[0]) for p in pts[1:]]
                vals = [vals[0]] + [f(p) for p in pts[1:]]
    _ret: np.ndarray = pts[int(np.argmin(vals))]
    return _ret


def _dist(family: str, a: float, b: float) -> _core.RetryDistribution:
    if family == "weibull":
        return _core.RetryDistribution.weibull(a, b)
    return _core.RetryDistribution.lognormal(a, b)


class RecoveryFit:
    """Fitted recovery-time models, one per group; ``table`` has the parameters, ``cause(key)`` the
    simulator cause."""

    def __init__(self, table: pd.DataFrame, keys: List[str], family: str) -> None:
        self.table = table
        self.keys = keys
        self.family = family

    def cause(self, key: Any = None) -> _core.RetryCause:
        """The fitted cause of a group (``key``: the group value, a tuple for several keys)."""
        t = self.table
        if self.keys:
            kt = key if isinstance(key, tuple) else (key,)
            mask = np.ones(len(t), dtype=bool)
            for k, v in zip(self.keys, kt):
                mask &= (t[k] == v).to_numpy()
            if not mask.any():
                raise InvalidArgumentError(f"no fitted group {key!r}")
            row = t[mask].iloc[0]
        else:
            row = t.iloc[0]
        if self.family == "weibull":
            d = _dist("weibull", float(row["shape"]), float(row["scale"]))
        else:
            d = _dist("lognormal", float(row["median"]), float(row["sigma"]))
        name = "/".join(str(row[k]) for k in self.keys) or "fitted"
        return _core.RetryCause.recovery(name, d, float(row["never_share"]))

    def causes(self) -> Dict[Any, _core.RetryCause]:
        out = {}
        for _, row in self.table.iterrows():
            key = tuple(row[k] for k in self.keys)
            k1 = key[0] if len(key) == 1 else key
            out[k1] = self.cause(k1)
        return out

    def __repr__(self) -> str:
        return f"RecoveryFit({self.family}, groups={len(self.table)})"


def _fit_group(lower: np.ndarray, upper: np.ndarray, event: np.ndarray, family: str) -> Dict[str, float]:
    ev_l, ev_u = lower[event], upper[event]
    cens = lower[~event]
    n_ev = int(event.sum())
    if n_ev == 0:
        return {"never_share": 1.0, "loglik": 0.0, "a": math.nan, "b": math.nan}
    med = float(np.median(ev_u))
    p0 = min(max(len(cens) / len(lower) * 0.5, 1e-3), 0.9)
    x0 = np.array([0.0 if family == "weibull" else math.log(max(med, 1.0)),
                   math.log(max(med, 1.0)) if family == "weibull" else 0.0,
                   math.log(p0 / (1 - p0))])

    def params(x: np.ndarray) -> Tuple[float, float, float]:
        if family == "weibull":
            a, b = math.exp(np.clip(x[0], -5, 5)), math.exp(np.clip(x[1], -10, 25))
        else:
            a, b = math.exp(np.clip(x[0], -10, 25)), math.exp(np.clip(x[1], -5, 5))
        p = 1 / (1 + math.exp(-float(np.clip(x[2], -30, 30))))
        return a, b, p

    def nll(x: np.ndarray) -> float:
        a, b, p = params(x)
        d = _dist(family, a, b)
        fu = np.asarray(d.cdf(ev_u))
        fl = np.asarray(d.cdf(ev_l))
        fc = np.asarray(d.cdf(cens))
        ll = np.log(np.maximum((1 - p) * (fu - fl), 1e-300)).sum()
        ll += np.log(np.maximum(p + (1 - p) * (1 - fc), 1e-300)).sum()
        return float(-ll)

    x = _nelder_mead(nll, x0)
    x = _nelder_mead(nll, x, step=0.1)
    a, b, p = params(x)
    return {"a": a, "b": b, "never_share": p, "loglik": -nll(x)}


def fit_recovery(history: pd.DataFrame, *, by: Union[str, Sequence[str], None] = "category",
                 family: str = "weibull", message: str = "message_id", time: str = "time",
                 delivered: str = "delivered", min_messages: int = 20) -> RecoveryFit:
    """Maximum-likelihood recovery-time model per group (Weibull or log-normal, plus a never-recovers
    share) from interval-censored retry histories. Groups with fewer than ``min_messages`` soft-bounced
    messages are reported with NaN parameters.

    >>> rng = np.random.default_rng(0)
    >>> sched = [0, 300, 600, 1200, 2400, 4800, 9000, 13200, 17400, 21600]
    >>> rows = []
    >>> for m, r in enumerate(rng.weibull(0.8, 3000) * 3600):
    ...     for t in sched:
    ...         rows.append((m, t, t > 0 and t >= r))
    ...         if t > 0 and t >= r:
    ...             break
    >>> h = pd.DataFrame(rows, columns=["message_id", "time", "delivered"])
    >>> fit = fit_recovery(h, by=None)
    >>> round(float(fit.table["shape"][0]), 1), round(float(fit.table["scale"][0]) / 3600, 1)
    (0.8, 1.0)
    """
    if family not in ("weibull", "lognormal"):
        raise InvalidArgumentError(f"family: must be 'weibull' or 'lognormal', got {family!r}", field="family")
    keys = [by] if isinstance(by, str) else list(by or [])
    iv = intervals_from_history(history, message=message, time=time, delivered=delivered, by=keys)
    rows = []
    groups = iv.groupby(keys, sort=True) if keys else [((), iv)]
    for key, part in groups:
        kt = key if isinstance(key, tuple) else (key,)
        row: Dict[str, Any] = {k: v for k, v in zip(keys, kt)}
        ev = part["event"].to_numpy()
        row.update(family=family, messages=len(part), events=int(ev.sum()), censored=int((~ev).sum()))
        if len(part) < min_messages:
            r = {"a": math.nan, "b": math.nan, "never_share": math.nan, "loglik": math.nan}
        else:
            r = _fit_group(part["lower"].to_numpy(float), part["upper"].to_numpy(float), ev, family)
        if family == "weibull":
            row.update(shape=r["a"], scale=r["b"], median_hours=r["b"] * math.log(2) ** (1 / r["a"]) / 3600
                       if r["a"] == r["a"] else math.nan)
        else:
            row.update(median=r["a"], sigma=r["b"], median_hours=r["a"] / 3600)
        row.update(never_share=r["never_share"], loglik=r["loglik"], aic=2 * 3 - 2 * r["loglik"])
        rows.append(row)
    return RecoveryFit(pd.DataFrame(rows), keys, family)


