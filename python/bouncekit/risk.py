"""List risk and spike alerts over a bounce history.

* :func:`score` — a risk score 0-100 per recipient with the factors behind
  it (recent soft streak, chronic full mailbox, time since the last
  delivery, the health of its domain), and risk per domain and campaign;
* :func:`detect_spikes` — per campaign x domain, is the hard / soft / block /
  complaint rate significantly above that domain's own baseline (its other
  campaigns)? A one-sided binomial test with a Bonferroni correction, not a
  fixed ratio; every cell is also checked against the published thresholds
  (hard bounces: under 2 % good, 5 % review, 10 % pause; complaints: 0.1 %
  review, 0.3 % the Gmail/Yahoo ceiling; receiver-quirks.md part E) and
  carries the seeds' decision-tree action;
* :func:`example_history` — a small synthetic history for examples.

Usually called through :func:`bouncekit.analyze`:

>>> import bouncekit
>>> ev = example_history(recipients=400, campaigns=10, seed=1)
>>> a = bouncekit.analyze(ev, policy="standard")
>>> list(a.risk.columns[:4])
['recipient', 'domain', 'risk', 'top_factor']
>>> sorted(set(a.alerts["kind"])) if len(a.alerts) else []  # doctest: +SKIP
['block', 'soft']
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

from ._lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:  # imported on first use: `import bouncekit` stays light
    np = lazy_module("numpy")

__all__ = ["HARD_THRESHOLDS", "COMPLAINT_THRESHOLDS", "RISK_WEIGHTS", "example_history", "cell_table", "score",
           "detect_spikes", "threshold_level"]

#: Hard-bounce rate levels per campaign (receiver-quirks.md E4: under 2 % good,
#: 5 % triggers provider review, 10 % SES may pause sending).
HARD_THRESHOLDS = ((0.10, "pause"), (0.05, "review"), (0.02, "watch"))
#: Complaint rate levels (E1/E4: 0.1 % target/SES review, 0.3 % Gmail/Yahoo ceiling).
COMPLAINT_THRESHOLDS = ((0.003, "pause"), (0.001, "review"))
#: Soft and block levels: SPEC W3's flags (soft > 10 %, block > 5 %).
SOFT_THRESHOLDS = ((0.10, "review"),)
BLOCK_THRESHOLDS = ((0.05, "review"),)
#: Weights of the recipient risk factors (they sum to 100).
RISK_WEIGHTS = {"soft_streak": 35.0, "mailbox_full": 20.0, "no_recent_delivery": 25.0, "domain_health": 20.0}

_KINDS = ("hard", "soft", "block", "complaint")
_DAY = 86400


def threshold_level(kind: str, rate: float) -> str:
    """The published-threshold level of a rate.

    >>> threshold_level("hard", 0.03), threshold_level("complaint", 0.004), threshold_level("hard", 0.01)
    ('watch', 'pause', 'good')
    """
    table = {"hard": HARD_THRESHOLDS, "complaint": COMPLAINT_THRESHOLDS, "soft": SOFT_THRESHOLDS,
             "block": BLOCK_THRESHOLDS}[kind]
    for limit, name in table:
        if rate >= limit:
            return name
    return "good"


def example_history(recipients: int = 2000, campaigns: int = 20, seed: int = 0, *, days_between: int = 3,
                    engagement: bool = True) -> Any:
    """A synthetic bounce history (pandas) for examples and tests.

    Recipients have a latent state (healthy, invalid, chronically full,
    going bad mid-way, greylisted domain); a few domain x campaign episodes
    throttle (4.7.0), block (5.7.1) or fill up. Columns: recipient,
    campaign_id, ts, reply_code, enhanced_status, diagnostic, bounce_class,
    category, engaged.

    >>> ev = example_history(recipients=50, campaigns=3, seed=2)
    >>> sorted(ev.columns)[:4], ev["ts"].is_monotonic_increasing
    (['bounce_class', 'campaign_id', 'category', 'diagnostic'], False)
    """
    import pandas as pd
    rng = np.random.default_rng(seed)
    domains = np.array(["gmail.example", "outlook.example", "yahoo.example", "corp-a.example", "corp-b.example",
                        "small-isp.example", "greylist.example", "typo.example"])
    weights = np.array([0.35, 0.2, 0.15, 0.08, 0.08, 0.07, 0.05, 0.02])
    dom = rng.choice(len(domains), size=recipients, p=weights)
    state = rng.choice(5, size=recipients, p=[0.87, 0.02, 0.04, 0.03, 0.04])  # healthy, invalid, full, goes bad, flaky
    state[domains[dom] == "typo.example"] = 1
    goes_bad_at = rng.integers(0, campaigns, size=recipients)
    engaged_p = rng.random(recipients) * 0.4
    names = np.array([f"user{i}@{domains[d]}" for i, d in enumerate(dom)], dtype=object)
    # Episodes: (campaign, domain) -> kind.
    episodes = {}
    for c in range(campaigns):
        if rng.random() < 0.35:
            episodes[(c, int(rng.integers(0, 3)))] = ("throttle", "block", "full")[c % 3]
    rows: List[Tuple[Any, ...]] = []
    t0 = 1_700_000_000
    for c in range(campaigns):
        start = t0 + c * days_between * _DAY
        audience = np.flatnonzero(rng.random(recipients) < 0.8)
        for r in audience:
            d = int(dom[r])
            ts = start + int(rng.integers(0, 6 * 3600))
            ep = episodes.get((c, d))
            s = int(state[r])
            if s == 1 or (s == 3 and c >= goes_bad_at[r]):
                out = (550, "5.1.1", "550 5.1.1 user unknown", "hard", "user_unknown")
            elif ep == "block" and rng.random() < 0.6:
                out = (550, "5.7.1", "550 5.7.1 message rejected due to low sender reputation", "block",
                       "blocked")
            elif ep == "throttle" and rng.random() < 0.5:
                out = (421, "4.7.0", "421 4.7.0 try again later, too many connections", "soft", "rate_limited")
            elif s == 2 or (ep == "full" and rng.random() < 0.3):
                out = (452, "4.2.2", "452 4.2.2 mailbox full, over quota", "soft", "mailbox_full")
            elif s == 4 and rng.random() < 0.5:
                out = (451, "4.3.0", "451 4.3.0 temporary server error", "soft", "server_unavailable")
            elif domains[d] == "greylist.example" and rng.random() < 0.5:
                rows.append((names[r], c, ts, 451, "4.7.1", "451 4.7.1 greylisted, please try again later", "soft",
                             "greylisted", False))
                ts += int(rng.integers(300, 1800))
                out = (250, "2.0.0", "250 2.0.0 ok", "delivered", "delivered")
            else:
                out = (250, "2.0.0", "250 2.0.0 ok", "delivered", "delivered")
            engaged = bool(engagement and out[3] == "delivered" and rng.random() < engaged_p[r])
            rows.append((names[r], c, ts) + out + (engaged,))
            if out[3] == "soft" and out[4] != "greylisted" and rng.random() < 0.5:  # a retry of the same send
                retry = out if rng.random() < 0.7 else (250, "2.0.0", "250 2.0.0 ok", "delivered", "delivered")
                rows.append((names[r], c, ts + int(rng.integers(600, 2 * _DAY))) + retry + (False,))
            if out[3] == "delivered" and rng.random() < 0.0015:
                rows.append((names[r], c, ts + 3600, 0, "", "feedback loop: spam report", "complaint", "complaint",
                             False))
    df = pd.DataFrame(rows, columns=["recipient", "campaign_id", "ts", "reply_code", "enhanced_status", "diagnostic",
                                     "bounce_class", "category", "engaged"])
    order = rng.permutation(len(df))  # unsorted input, as real exports are
    return df.iloc[order].reset_index(drop=True)


def cell_table(parts: Sequence[Any], class_names: Sequence[str], families: Sequence[str]) -> Any:
    """Grouped (campaign_id, domain, klass, family, count) Arrow tables ->
    one pandas row per campaign x domain with class counts and status-family
    counts (``soft_4.7``, ``block_5.7``, ``soft_4.2.2``, ...)."""
    import pandas as pd
    import pyarrow as pa
    cols = ["campaign_id", "domain", "sent"] + [c for c in class_names if c != "other"] + ["other"]
    if not parts:
        return pd.DataFrame(columns=cols)
    t = pa.concat_tables(parts).group_by(["campaign_id", "domain", "klass", "family"]).aggregate(
        [("count_all", "sum")]).to_pandas()
    t["cls"] = np.asarray(class_names, dtype=object)[t["klass"].to_numpy()]
    t["fam"] = np.asarray(families, dtype=object)[t["family"].to_numpy()]
    by_class = t.pivot_table(index=["campaign_id", "domain"], columns="cls", values="count_all_sum", aggfunc="sum",
                             fill_value=0)
    for c in class_names:
        if c not in by_class.columns:
            by_class[c] = 0
    fam = t[t["fam"].isin(["4.7", "5.7", "4.2.2", "5.1"]) & t["cls"].isin(["soft", "hard", "block"])].copy()
    fam["col"] = fam["cls"] + "_" + fam["fam"]
    by_fam = fam.pivot_table(index=["campaign_id", "domain"], columns="col", values="count_all_sum", aggfunc="sum",
                             fill_value=0)
    out = by_class[list(class_names)].join(by_fam, how="left").fillna(0).astype("int64").reset_index()
    out.insert(2, "sent", out[list(class_names)].sum(axis=1))
    out.columns.name = None
    return out.sort_values(["campaign_id", "domain"]).reset_index(drop=True)


def _rates(df: Any) -> Any:
    for k in _KINDS:
        df[f"{k}_rate"] = np.where(df["sent"] > 0, df[k] / df["sent"].clip(lower=1), 0.0)
    return df


def score(features: Any, recipient_domains: Optional[Any], cells: Any, *, as_of: Optional[int] = None
          ) -> Tuple[Any, Any, Any]:
    """Risk per recipient, per domain and per campaign.

    Recipient risk = 100 when the policy suppressed it, else the weighted sum
    (:data:`RISK_WEIGHTS`) of four factors in [0, 1]:

    * ``soft_streak``: counted soft bounces since the last delivery / 3;
    * ``mailbox_full``: full-mailbox replies (4.2.2/5.2.2) / 3 (chronic);
    * ``no_recent_delivery``: days since the last delivery / 90 (1 when
      never delivered after several attempts);
    * ``domain_health``: the domain's hard + block rate / 10 % (the SES
      pause line for bounces).
    """
    import pandas as pd
    f = features.copy()
    if recipient_domains is not None and len(recipient_domains):
        dmap = recipient_domains.drop_duplicates("recipient").set_index("recipient")["domain"]
        f["domain"] = f["recipient"].map(dmap).fillna("")
    else:
        f["domain"] = f["recipient"].str.rpartition("@")[2].str.lower()
    now = int(as_of) if as_of is not None else (int(f["last_ts"].max()) if len(f) else 0)
    dom = _rates(cells.groupby("domain", as_index=False)[["sent", "delivered", "soft", "hard", "block",
                                                         "complaint"]].sum())
    dom["failure_rate"] = np.where(dom["sent"] > 0, (dom["hard"] + dom["block"]) / dom["sent"].clip(lower=1), 0.0)
    health = f["domain"].map(dom.set_index("domain")["failure_rate"]).fillna(0.0).to_numpy()
    never = f["last_delivered"].to_numpy() == np.iinfo(np.int64).min
    since_days = np.where(never, 0.0, (now - np.where(never, now, f["last_delivered"].to_numpy())) / _DAY)
    factors = {
        "soft_streak": np.minimum(1.0, f["soft_streak"].to_numpy() / 3.0),
        "mailbox_full": np.minimum(1.0, f["mailbox_full"].to_numpy() / 3.0),
        "no_recent_delivery": np.where(never, np.where(f["events"].to_numpy() > 1, 1.0, 0.5),
                                       np.minimum(1.0, np.maximum(since_days, 0) / 90.0)),
        "domain_health": np.minimum(1.0, health / 0.10),
    }
    weighted = {k: v * RISK_WEIGHTS[k] for k, v in factors.items()}
    total = sum(weighted.values())
    suppressed = (f["action"].astype(str) == "suppress").to_numpy()
    risk = np.where(suppressed, 100.0, np.clip(total, 0, 100))
    names = list(weighted)
    stack = np.vstack([weighted[k] for k in names])
    top = np.where(suppressed, "suppressed", np.asarray(names, dtype=object)[stack.argmax(axis=0)])
    top = np.where((~suppressed) & (stack.max(axis=0) == 0), "none", top)
    out = pd.DataFrame({"recipient": f["recipient"], "domain": f["domain"], "risk": np.round(risk, 1),
                        "top_factor": top})
    for k in names:
        out[f"factor_{k}"] = np.round(weighted[k], 2)
    out["action"] = f["action"].astype(str).replace("none", "")
    out["soft_streak"] = f["soft_streak"]
    out["mailbox_full"] = f["mailbox_full"]
    out["days_since_delivery"] = np.where(never, np.nan, np.round(since_days, 1))
    tmp = pd.DataFrame({"domain": out["domain"], "risk": out["risk"], "high": (out["risk"] >= 50).astype("int64"),
                        "sup": (out["action"] == "suppress").astype("int64")})
    per_dom = tmp.groupby("domain").agg(recipients=("risk", "size"), mean_risk=("risk", "mean"),
                                        high_risk=("high", "sum"), suppressed=("sup", "sum")).reset_index()
    dom = dom.merge(per_dom, on="domain", how="left")
    dom["hard_level"] = [threshold_level("hard", r) for r in dom["hard_rate"]]
    dom["complaint_level"] = [threshold_level("complaint", r) for r in dom["complaint_rate"]]
    dom = dom.sort_values("mean_risk", ascending=False).reset_index(drop=True)
    camp = _rates(cells.groupby("campaign_id", as_index=False)[["sent", "delivered", "soft", "hard", "block",
                                                               "complaint"]].sum())
    camp["hard_level"] = [threshold_level("hard", r) for r in camp["hard_rate"]]
    camp["complaint_level"] = [threshold_level("complaint", r) for r in camp["complaint_rate"]]
    # Campaign risk: the hard rate against the 10 % pause line and complaints
    # against the 0.3 % ceiling, capped at 100.
    camp["risk"] = np.round(np.minimum(100.0, 60.0 * camp["hard_rate"] / 0.10 + 40.0 * camp["complaint_rate"] / 0.003),
                            1)
    return out, dom, camp


def _binom_sf(x: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """P(X >= x) for X ~ Binomial(n, p), element-wise."""
    x = np.asarray(x, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    try:
        from scipy.special import bdtrc  # type: ignore[import-untyped]
        k = np.maximum(x - 1, 0).astype(np.int64)
        out = np.asarray(bdtrc(k, n.astype(np.int64), p), dtype=np.float64)
    except ImportError:  # exact sum in log space, one value at a time
        out = np.empty(len(x))
        for i, (xi, ni, pi) in enumerate(zip(x.astype(int), n.astype(int), p)):
            if pi <= 0 or pi >= 1:
                out[i] = 0.0 if pi <= 0 else 1.0
                continue
            logs = [math.lgamma(ni + 1) - math.lgamma(k + 1) - math.lgamma(ni - k + 1) + k * math.log(pi) +
                    (ni - k) * math.log1p(-pi) for k in range(max(xi, 0), ni + 1)]
            m = max(logs)
            out[i] = min(1.0, math.exp(m) * sum(math.exp(v - m) for v in logs))
    out = np.where(x <= 0, 1.0, out)
    out = np.where((p <= 0) & (x > 0), 0.0, out)
    return np.asarray(out, dtype=np.float64)


def _action(kind: str, row: Any, kinds_spiking: int, domain: str) -> Tuple[str, str]:
    """(dominant status family, suggested action) from the seeds' decision tree."""
    def share(col: str, of: str) -> float:
        total = float(row.get(of, 0))
        return float(row.get(col, 0)) / total if total > 0 else 0.0
    if kinds_spiking >= 2:
        return "mixed", (f"broad spike on {domain}: throttling or reputation; reduce send pressure to this domain "
                         "and investigate")
    if kind == "block" or (kind == "hard" and share("hard_5.7", "hard") >= 0.5):
        if share(f"{kind}_5.7", kind) >= 0.5:
            return "5.7.x", ("5.7.x flood: an authentication or reputation problem, not the list; check SPF/DKIM/"
                             "DMARC and blocklists; do not suppress these addresses")
        return "", (f"broad spike on {domain}: throttling or reputation; reduce send pressure and investigate")
    if kind == "soft":
        if share("soft_4.7", "soft") >= 0.5:
            return "4.7.x", f"4.7.x dominating {domain}: slow the per-domain sending rate"
        if share("soft_4.2.2", "soft") >= 0.5:
            return "4.2.2", f"4.2.2 (mailbox full) dominating {domain}: wait and retry later; do not suppress yet"
        return "", f"broad spike on {domain}: throttling or reputation; reduce send pressure and investigate"
    if kind == "hard":
        return ("5.1.x" if share("hard_5.1", "hard") >= 0.5 else ""), (
            "hard bounces above this domain's baseline: check where these addresses came from; the addresses "
            "repeating hard bounces are suppressed by the policy")
    return "", "complaints above baseline: check consent and unsubscribe handling; complainers are suppressed"


def detect_spikes(cells: Any, *, alpha: float = 0.01, min_events: int = 5, min_sent: int = 20) -> Any:
    """Spikes per campaign x domain against the domain's own baseline.

    For each cell and kind (hard, soft, block, complaint) with ``x`` events
    of ``n`` sent, the baseline rate ``p0`` is the same domain's rate over
    its other campaigns (the whole history's rate when the domain has no
    other campaign); the p-value is ``P(X >= x)`` for ``X ~ Binomial(n, p0)``.
    A spike needs ``p < alpha / m`` (Bonferroni over the ``m`` cells tested),
    at least ``min_events`` events and a rate above the baseline. Cells that
    break a published threshold (hard >= 5 %, complaints >= 0.1 %, with
    ``n >= min_sent``) are alerts too (``spike`` False when not significant).

    Returns one row per alert: campaign_id, domain, kind, count, sent, rate,
    baseline_rate, ratio, p_value, spike, threshold_level, dominant_status, action.

    >>> import pandas as pd
    >>> cells = pd.DataFrame({"campaign_id": [1, 2, 3, 4], "domain": ["d"] * 4, "sent": [1000] * 4,
    ...                       "delivered": [990, 990, 800, 990], "soft": [10, 10, 200, 10], "hard": [0] * 4,
    ...                       "block": [0] * 4, "complaint": [0] * 4, "soft_4.7": [0, 0, 190, 0]})
    >>> detect_spikes(cells)[["campaign_id", "kind", "dominant_status", "spike"]].values.tolist()
    [[3, 'soft', '4.7.x', True]]
    """
    import pandas as pd
    cols = ["campaign_id", "domain", "kind", "count", "sent", "rate", "baseline_rate", "ratio", "p_value", "spike",
            "threshold_level", "dominant_status", "action"]
    if cells is None or len(cells) == 0:
        return pd.DataFrame(columns=cols)
    c = cells.copy()
    for k in _KINDS:
        if k not in c.columns:
            c[k] = 0
    dom_tot = c.groupby("domain")[["sent"] + list(_KINDS)].transform("sum")
    glob = c[["sent"] + list(_KINDS)].sum()
    tests: List[Tuple[int, str, int, int, float]] = []
    for k in _KINDS:
        x = c[k].to_numpy()
        n = c["sent"].to_numpy()
        rest_n = dom_tot["sent"].to_numpy() - n
        rest_x = dom_tot[k].to_numpy() - x
        g_n = float(glob["sent"]) - n
        g_x = float(glob[k]) - x
        # Baseline with a half-event prior so that a clean baseline is not 0.
        p0 = np.where(rest_n > 0, (rest_x + 0.5) / (rest_n + 1.0), (g_x + 0.5) / (np.maximum(g_n, 0) + 1.0))
        for j in np.flatnonzero(x > 0).tolist():
            tests.append((j, k, int(x[j]), int(n[j]), float(p0[j])))
    m = max(1, len(tests))
    rows: List[Tuple[int, str, int, int, float, float, float, bool, str]] = []
    flagged: Dict[int, int] = {}
    pvals = _binom_sf(np.array([t[2] for t in tests], dtype=np.float64),
                      np.array([t[3] for t in tests], dtype=np.float64),
                      np.array([t[4] for t in tests], dtype=np.float64)) if tests else np.zeros(0)
    for (i, k, x, n, p0), p in zip(tests, pvals.tolist()):
        rate = x / n if n else 0.0
        spike = p < alpha / m and x >= min_events and rate > p0
        level = threshold_level(k, rate)
        breach = n >= min_sent and ((k == "hard" and level in ("review", "pause")) or
                                    (k == "complaint" and level in ("review", "pause")))
        if spike or breach:
            rows.append((int(i), k, x, n, rate, p0, p, bool(spike), level))
            if spike:
                flagged[i] = flagged.get(i, 0) + 1
    out = []
    for i, k, x, n, rate, p0, p, spike, level in rows:
        r = c.iloc[i]
        fam, action = _action(k, r, flagged.get(i, 0), str(r["domain"]))
        out.append([int(r["campaign_id"]), str(r["domain"]), k, x, n, rate, p0, rate / p0 if p0 > 0 else np.inf, p,
                    bool(spike), level, fam, action])
    df = pd.DataFrame(out, columns=cols)
    return df.sort_values(["spike", "p_value"], ascending=[False, True]).reset_index(drop=True)
