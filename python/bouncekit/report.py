"""Analysis of a bounce history and its HTML report.

:func:`analyze` takes delivery events (classified or not), classifies them
when needed, computes the suppression list and the campaign x domain
aggregates (:mod:`bouncekit.history`), and derives **alerts**: the campaign x
domain cells over a threshold, each with the dominant reason and a
recommended action. The result renders itself in Jupyter and writes one
self-contained HTML file (inline CSS and SVG charts, nothing fetched).

:func:`render_html` builds the report from plain DataFrames, so any richer
analysis (more policies, risk scores, retry simulations) can hand its tables
to the same page.

>>> import bouncekit
>>> from bouncekit import generate, report
>>> r = report.analyze(generate.history(3000, seed=4))
>>> r.rows, list(r.alerts.columns)[:4]
(3000, ['campaign_id', 'domain', 'sent', 'flag'])
>>> html = r.to_html()
>>> html.startswith("<!DOCTYPE html>") and "http://" not in html.split("<svg", 1)[0]
True
"""

from __future__ import annotations

import datetime as _dt
import html as _html
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ._lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:  # imported on first use: `import bouncekit` stays light
    np = lazy_module("numpy")

__all__ = ["AnalysisResult", "analyze", "alerts_from_aggregates", "render_html", "write_html",
           "RECOMMENDED_ACTIONS"]

#: What to do about a flagged campaign x domain cell, by dominant category
#: (falls back to the flag's generic action).
RECOMMENDED_ACTIONS: Dict[str, str] = {
    "user_unknown": "List hygiene: these addresses do not exist. Suppress them (done by the policy) and "
                    "check how they were collected (typos, bought or stale lists).",
    "mailbox_disabled": "Disabled mailboxes: suppress, and re-confirm consent of long-inactive segments.",
    "bad_domain": "Domains that do not resolve: suppress and validate addresses at sign-up.",
    "mailbox_full": "Full mailboxes: keep retrying for a few days, then suppress persistent ones; "
                    "often a sign of abandoned accounts.",
    "mailbox_full_inactive": "Inactive mailboxes: suppress; the provider reports them abandoned.",
    "greylisted": "Greylisting: expected and harmless; make sure your MTA retries after 5-15 minutes.",
    "rate_limited": "Throttled by the provider: lower the sending rate to this domain, spread the campaign "
                    "over more hours, warm up new IPs gradually.",
    "recipient_rate_limited": "A recipient receiving too fast: slow down per-recipient sends.",
    "blocklisted": "Sending IP on a blocklist: pause this domain, find the listing (e.g. Spamhaus lookup), "
                   "fix the cause and request delisting before resuming.",
    "bad_reputation": "IP/domain reputation: pause and warm up again; review complaint rates and content.",
    "auth_failure": "Authentication: check SPF, DKIM and DMARC alignment of the sending domain.",
    "auth_dmarc": "DMARC rejects: align the From domain with SPF/DKIM.",
    "auth_spf": "SPF fails: add the sending IPs to the SPF record.",
    "spam_content": "Content filtered: review the campaign's content and links.",
    "server_unavailable": "The receiving servers were unavailable: retries handle it; watch if it persists.",
    "no_answer_from_host": "Timeouts: retries handle it; check your network path if it persists.",
}
_FLAG_ACTIONS = {
    "hard": "Hard bounces over 5%: clean the list for this domain before the next campaign.",
    "block": "Blocks over 5%: pause sending to this domain and investigate the block.",
    "soft": "Soft bounces over 10%: slow down to this domain and monitor retries.",
}
_CLASS_COLORS = {"delivered": "#4c9f70", "soft": "#e0a030", "hard": "#c0392b", "block": "#7d3c98",
                 "complaint": "#34495e", "auto_reply": "#95a5a6", "undetermined": "#bdc3c7"}
_REASON_TEXT = {"hard_bounce": "a hard bounce (the address does not exist / is disabled)",
                "soft_streak": "soft bounces in 3 campaigns in a row without a delivery",
                "soft_window": "soft bounces in 3 campaigns within 30 days"}


@dataclass
class AnalysisResult:
    """What :func:`analyze` returns (pandas DataFrames).

    Attributes:
        events: the input events with ``bounce_class`` / ``category`` (and
            ``domain``) columns.
        suppressions: the suppression list (:func:`bouncekit.suppress`).
        aggregates: campaign x domain counts and flags (:func:`bouncekit.aggregate`).
        alerts: flagged campaign x domain cells with the dominant category
            and a recommended action.
        policy: the suppression policy used.
        extra: more named tables to show in the report (title -> DataFrame).
    """

    events: Any
    suppressions: Any
    aggregates: Any
    alerts: Any
    policy: str = "standard"
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        """Events analysed."""
        return int(len(self.events))

    def summary(self) -> Dict[str, Any]:
        """Headline figures as a dict."""
        return _summary_figures(self.events, self.suppressions, self.alerts)

    def summary_text(self) -> str:
        """The summary the CLI prints."""
        s = self.summary()
        lines = [f"{s['rows']:,} events, {s['recipients']:,} recipients, {s['campaigns']} campaigns, "
                 f"{s['domains']:,} domains ({s['first_day']} to {s['last_day']})",
                 "",
                 f"{'class':<14}{'events':>10}{'share':>9}"]
        for k, v in s["classes"].items():
            lines.append(f"{k:<14}{v:>10,}{100 * v / max(s['rows'], 1):>8.1f}%")
        lines.append("")
        lines.append(f"suppressed recipients: {s['suppressed']:,} "
                     f"({', '.join(f'{k} {v:,}' for k, v in s['reasons'].items()) or 'none'})")
        lines.append(f"alerts (campaign x domain over threshold): {s['alerts']}")
        if s["alerts"]:
            for row in self.alerts.head(5).itertuples(index=False):
                lines.append(f"  campaign {row.campaign_id:<4} {row.domain:<24} {row.flag:<6} "
                             f"{100 * row.rate:5.1f}%  {row.top_category}")
            if s["alerts"] > 5:
                lines.append(f"  ... {s['alerts'] - 5} more in the report")
        return "\n".join(lines)

    def to_html(self, title: str = "bouncekit report") -> str:
        """The report as one self-contained HTML page."""
        return render_html(self.events, self.suppressions, self.aggregates, self.alerts, title=title,
                           policy=self.policy, extra=self.extra)

    def write_html(self, path: "os.PathLike[str] | str", title: str = "bouncekit report") -> Path:
        """Writes :meth:`to_html` to `path` atomically; returns the path."""
        return write_html(self.to_html(title), path)

    def __repr__(self) -> str:
        s = self.summary()
        return (f"AnalysisResult(rows={s['rows']}, recipients={s['recipients']}, "
                f"suppressed={s['suppressed']}, alerts={s['alerts']}, policy={self.policy!r})")

    def _repr_html_(self) -> str:
        s = self.summary()
        cls = "".join(f"<tr><td>{_e(k)}</td><td style='text-align:right'>{v:,}</td></tr>"
                      for k, v in s["classes"].items())
        top = _table_html(self.alerts.head(5)[["campaign_id", "domain", "flag", "rate", "top_category"]]) \
            if len(self.alerts) else "<p>no alerts</p>"
        return (f"<div><b>bouncekit analysis</b>: {s['rows']:,} events, {s['recipients']:,} recipients, "
                f"{s['suppressed']:,} suppressed, {s['alerts']} alerts (policy {_e(self.policy)})"
                f"<table>{cls}</table>{top}<p>Full report: <code>.write_html('report.html')</code></p></div>")


def _e(x: Any) -> str:
    return _html.escape(str(x), quote=True)


def _domain_of(recipients: Any) -> Any:
    import pandas as pd
    s = pd.Series(recipients, copy=False).astype(str)
    return s.str.rsplit("@", n=1).str[-1].where(s.str.contains("@", regex=False), "").str.lower()


def _summary_figures(events: Any, suppressions: Any, alerts: Any) -> Dict[str, Any]:
    ts = events["ts"]
    classes = events["bounce_class"].astype(str).value_counts()
    return {
        "rows": int(len(events)),
        "recipients": int(events["recipient"].nunique()),
        "campaigns": int(events["campaign_id"].nunique()),
        "domains": int(events["domain"].nunique()) if "domain" in events else 0,
        "first_day": _day(int(ts.min())) if len(events) else "-",
        "last_day": _day(int(ts.max())) if len(events) else "-",
        "classes": {str(k): int(v) for k, v in classes.items()},
        "suppressed": int(len(suppressions)),
        "reasons": {str(k): int(v) for k, v in suppressions["reason"].astype(str).value_counts().items()},
        "alerts": int(len(alerts)),
    }


def _day(ts: int) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%d")


def alerts_from_aggregates(aggregates: Any, events: Optional[Any] = None, *, min_sent: int = 1) -> Any:
    """Flagged campaign x domain cells, worst first, with a recommended action.

    Cells with fewer than `min_sent` events are left out (a single bounce in
    a cell of two is not a spike).

    One row per (campaign, domain, flag): ``flag`` is ``hard``, ``block`` or
    ``soft``; ``rate`` the matching rate; ``top_category`` the most frequent
    category of that class in the cell (when `events` with ``category`` and
    ``domain`` columns are given) and ``action`` what to do.

    >>> import pandas as pd
    >>> agg = pd.DataFrame({"campaign_id": [1], "domain": ["x.org"], "sent": [10], "delivered": [8],
    ...                     "soft": [0], "hard": [0], "block": [2], "hard_rate": [0.0], "soft_rate": [0.0],
    ...                     "block_rate": [0.2], "hard_flag": [0], "soft_flag": [0], "block_flag": [1]})
    >>> alerts_from_aggregates(agg)[["campaign_id", "flag", "rate"]].values.tolist()
    [[1, 'block', 0.2]]
    """
    import pandas as pd
    cols = ["campaign_id", "domain", "sent", "flag", "count", "rate", "top_category", "action"]
    parts = []
    for flag in ("block", "hard", "soft"):
        sel = aggregates[(aggregates[f"{flag}_flag"].astype(int) == 1) & (aggregates["sent"] >= min_sent)]
        if len(sel):
            parts.append(pd.DataFrame({"campaign_id": sel["campaign_id"].to_numpy(),
                                       "domain": sel["domain"].astype(str).to_numpy(),
                                       "sent": sel["sent"].to_numpy(), "flag": flag,
                                       "count": sel[flag].to_numpy(), "rate": sel[f"{flag}_rate"].to_numpy()}))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("domain", "flag", "top_category", "action")
                                          else "int64" if c != "rate" else "float64") for c in cols})
    out = pd.concat(parts, ignore_index=True)
    out["top_category"] = ""
    if events is not None and "category" in events and len(out):
        ev = events[["campaign_id", "domain", "bounce_class", "category"]]
        ev = ev[ev["bounce_class"].astype(str).isin(["hard", "block", "soft"])]
        top = (ev.assign(bounce_class=ev["bounce_class"].astype(str), category=ev["category"].astype(str))
               .groupby(["campaign_id", "domain", "bounce_class"], observed=True)["category"]
               .agg(lambda s: s.value_counts().index[0]).rename("top").reset_index())
        out = out.merge(top, how="left", left_on=["campaign_id", "domain", "flag"],
                        right_on=["campaign_id", "domain", "bounce_class"])
        out["top_category"] = out["top"].fillna("").astype(str)
        out = out.drop(columns=["top", "bounce_class"])
    out["action"] = [RECOMMENDED_ACTIONS.get(c, _FLAG_ACTIONS[f]) for c, f in zip(out["top_category"], out["flag"])]
    severity = out["flag"].map({"block": 0, "hard": 1, "soft": 2})
    out = out.assign(_s=severity, _w=-out["count"]).sort_values(["_s", "_w", "campaign_id", "domain"])
    return out.drop(columns=["_s", "_w"]).reset_index(drop=True)[cols]


def analyze(events: Any, *, policy: str = "standard", profile: str = "default",
            columns: Optional[Mapping[str, Optional[str]]] = None, threads: Optional[int] = None,
            progress: Optional[bool] = None, min_sent: int = 20) -> AnalysisResult:
    """Classifies (when there is no ``bounce_class`` column), suppresses and
    aggregates a table of delivery events; see the module docstring.

    Args:
        events: a pandas / polars DataFrame, a pyarrow Table, or the path of
            a CSV / Parquet / JSON-lines file. Needs ``recipient``,
            ``campaign_id``, ``ts`` and either ``bounce_class`` or the
            classifier's inputs (``diagnostic``, optionally ``reply_code``,
            ``enhanced_status``, ...).
        policy: the suppression policy.
        profile: the classification profile (when classifying).
        columns: maps bouncekit's column names to yours.
        threads: worker threads (default: all cores).
        progress: progress bars (default: for large inputs).
        min_sent: smallest campaign x domain cell that can raise an alert.
    """
    import pandas as pd
    import bouncekit
    from ._files import read_table
    from .errors import NotFoundError
    from .history import HISTORY_COLUMNS, SUPPRESSION_POLICIES, analyze_history
    from .policy import PRESETS as POLICY_PRESETS
    if policy not in SUPPRESSION_POLICIES and policy not in POLICY_PRESETS and not os.path.isfile(policy):
        known = sorted(set(SUPPRESSION_POLICIES) | set(POLICY_PRESETS))
        raise NotFoundError(f"unknown suppression policy {policy!r} (known: {', '.join(known)}, "
                            "or a policy file)", field="policy")
    if isinstance(events, (str, os.PathLike)):
        events = read_table(events, string_columns=("enhanced_status", "diagnostic", "smtp_command",
                                                    "remote_host", "action", "destination", "recipient",
                                                    "bounce_class", "category"))
    if not isinstance(events, pd.DataFrame):
        events = events.to_pandas() if hasattr(events, "to_pandas") else pd.DataFrame(events)
    names = dict(columns or {})
    rename = {v: k for k, v in names.items() if v is not None and v in events.columns and k != v}
    df = events.rename(columns=rename)
    for c in ("recipient", "campaign_id", "ts"):
        if c not in df.columns:
            raise NotFoundError(f"column '{c}' not found; the input has: {', '.join(map(str, df.columns[:20]))}. "
                                f"Map your names with --column {c}=YOUR_NAME", column=c)
    if "bounce_class" not in df.columns or "category" not in df.columns:
        if "diagnostic" not in df.columns and "bounce_class" not in df.columns:
            raise NotFoundError("column 'bounce_class' not found, and no 'diagnostic' column to classify from; "
                                f"the input has: {', '.join(map(str, df.columns[:20]))}", column="bounce_class")
        if "diagnostic" in df.columns:
            out = bouncekit.classify(df, profile=profile, threads=threads, progress=progress)
            df = df.assign(bounce_class=out["bounce_class"].astype(str).to_numpy(),
                           category=out["category"].astype(str).to_numpy())
    if pd.api.types.is_datetime64_any_dtype(df["ts"]):
        ts = df["ts"]
        if getattr(ts.dt, "tz", None) is not None:
            ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
        df = df.assign(ts=ts.to_numpy().astype("datetime64[s]").astype(np.int64))
    if "domain" not in df.columns:
        df = df.assign(domain=_domain_of(df["recipient"]).to_numpy())
    if policy in SUPPRESSION_POLICIES:
        res = analyze_history(df[list(HISTORY_COLUMNS)], policy=policy, threads=threads, progress=progress)
        suppressions, aggregates = res.suppressions, res.aggregates
    else:
        # A declarative policy (preset or file): its suppress decisions, in
        # the suppression list's columns; campaign x domain counts do not
        # depend on the policy.
        from .policy import analyze as policy_analyze
        pol = policy_analyze(df, policy=policy, risk=False, alerts=False, progress=progress)
        d = pol.decisions
        d = d[d["action"].astype(str) == "suppress"]
        suppressions = pd.DataFrame({"recipient": d["recipient"].astype(str).to_numpy(),
                                     "reason": d["rule"].astype(str).to_numpy(),
                                     "suppressed_at": d["decided_at"].to_numpy(np.int64),
                                     "event_count_seen": d["event_number"].to_numpy(np.int64)})
        aggregates = analyze_history(df[list(HISTORY_COLUMNS)], threads=threads, progress=progress,
                                     suppressions=False).aggregates
    return AnalysisResult(events=df, suppressions=suppressions, aggregates=aggregates,
                          alerts=alerts_from_aggregates(aggregates, df, min_sent=min_sent), policy=policy)


# ------------------------------------------------------------------ charts

_SVG_COUNTER = 0


def _svg(fig: Any) -> str:
    import matplotlib.pyplot as plt
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]  # drop the XML prolog and DOCTYPE (which names a remote DTD)
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    # Several SVGs share one HTML document: give each its own id namespace so
    # that clip paths and glyph references never resolve into another chart.
    global _SVG_COUNTER
    _SVG_COUNTER += 1
    pre = f"bk{_SVG_COUNTER}-"
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{pre}{m.group(1)}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{pre}{m.group(1)})", text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{pre}{m.group(1)}"', text)
    return text


def _figure(w: float, h: float) -> Tuple[Any, Any]:
    try:
        import matplotlib
    except ImportError:
        from .errors import FailedPreconditionError
        raise FailedPreconditionError("the HTML report draws its charts with matplotlib, which is not "
                                      "installed: pip install 'bouncekit[report]'") from None
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    with plt.rc_context({"svg.fonttype": "path", "svg.hashsalt": "bouncekit"}):
        fig, ax = plt.subplots(figsize=(w, h))
    return fig, ax


def _rates_over_time(events: Any, top: int = 6) -> str:
    import pandas as pd
    ev = events[["ts", "domain", "bounce_class"]]
    day = pd.to_datetime(ev["ts"].to_numpy() // 86400 * 86400, unit="s")
    doms = ev["domain"].value_counts().index[:top].tolist()
    dom = np.where(ev["domain"].isin(doms), ev["domain"], "(other)")
    bad = ev["bounce_class"].astype(str).isin(["soft", "hard", "block"]).to_numpy()
    t = pd.DataFrame({"day": day, "domain": dom, "bad": bad})
    g = t.groupby(["day", "domain"])["bad"].agg(["sum", "count"])
    g = g[g["count"] >= 30]  # days with a few retries only would read as spikes
    rate = (g["sum"] / g["count"] * 100).unstack("domain")
    fig, ax = _figure(9, 3.6)
    for d in doms + (["(other)"] if "(other)" in rate.columns else []):
        if d in rate.columns:
            s = rate[d].dropna()
            ax.plot(s.index, s.to_numpy(), marker="o", markersize=3, linewidth=1.2, label=d)
    ax.set_ylabel("bounced attempts, % (soft+hard+block)")
    ax.set_title("Bounce rate per day, largest domains (days with 30+ events)")
    if ax.get_lines():
        ax.legend(fontsize=7, ncol=4, loc="upper left")
    else:
        ax.text(0.5, 0.5, "too few events per day", ha="center", transform=ax.transAxes)
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    return _svg(fig)


def _category_mix(events: Any) -> str:
    ev = events[~events["bounce_class"].astype(str).isin(["delivered"])]
    fig, ax = _figure(9, 3.8)
    if len(ev) == 0:
        ax.text(0.5, 0.5, "no bounces", ha="center")
        return _svg(fig)
    g = ev.groupby([ev["category"].astype(str), ev["bounce_class"].astype(str)]).size().sort_values()
    g = g.tail(16)
    labels = [f"{c} ({k})" for c, k in g.index]
    colors = [_CLASS_COLORS.get(k, "#888") for _, k in g.index]
    ax.barh(labels, g.to_numpy(), color=colors)
    ax.set_xlabel("events")
    ax.set_title("Why mail bounced: categories (class in brackets)")
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig)


def _heatmap(aggregates: Any, top: int = 10) -> str:
    agg = aggregates
    doms = agg.groupby("domain")["sent"].sum().sort_values(ascending=False).index[:top].tolist()
    sub = agg[agg["domain"].isin(doms)]
    bad = (sub["soft"] + sub["hard"] + sub["block"]) / sub["sent"] * 100
    m = sub.assign(bad=bad).pivot_table(index="domain", columns="campaign_id", values="bad").reindex(doms)
    flag = sub.assign(f=(sub["hard_flag"] + sub["soft_flag"] + sub["block_flag"]) > 0).pivot_table(
        index="domain", columns="campaign_id", values="f", aggfunc="max").reindex(doms)
    fig, ax = _figure(9, 0.35 * len(doms) + 1.4)
    im = ax.imshow(m.to_numpy(dtype=float), aspect="auto", cmap="YlOrRd", vmin=0)
    ax.set_yticks(range(len(doms)), doms, fontsize=8)
    ax.set_xticks(range(len(m.columns)), [str(c) for c in m.columns], fontsize=7)
    ax.set_xlabel("campaign")
    ys, xs = np.nonzero(flag.fillna(False).to_numpy(dtype=bool))
    ax.scatter(xs, ys, marker="x", color="black", s=18, label="flagged")
    if len(xs):
        ax.legend(fontsize=7, loc="upper right", bbox_to_anchor=(1.0, 1.18))
    fig.colorbar(im, ax=ax, label="bounced %")
    ax.set_title("Campaign x domain bounce rate (x: over a threshold)")
    return _svg(fig)


def _suppression_chart(suppressions: Any) -> str:
    import pandas as pd
    fig, ax = _figure(9, 2.8)
    if len(suppressions) == 0:
        ax.text(0.5, 0.5, "nobody suppressed", ha="center")
        return _svg(fig)
    day = pd.to_datetime(suppressions["suppressed_at"].to_numpy() // 86400 * 86400, unit="s")
    t = pd.crosstab(day, suppressions["reason"].astype(str)).cumsum()
    for c in t.columns:
        ax.step(t.index, t[c].to_numpy(), where="post", label=c)
    ax.set_ylabel("recipients (cumulative)")
    ax.set_title("Suppressed recipients over time, by reason")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    return _svg(fig)


def _retry_outcomes(events: Any) -> Optional[Any]:
    """For messages whose first attempt failed temporarily: how they ended, by attempts used."""
    if "attempt" not in events.columns:
        return None
    import pandas as pd
    ev = events[["recipient", "campaign_id", "attempt", "bounce_class", "category"]]
    first = ev[(ev["attempt"] == 1) & (ev["bounce_class"].astype(str) == "soft")]
    if not len(first):
        return None
    keys = first[["recipient", "campaign_id", "category"]].rename(columns={"category": "first_category"})
    last = (ev.sort_values("attempt").groupby(["recipient", "campaign_id"], sort=False)
            .tail(1)[["recipient", "campaign_id", "attempt", "bounce_class"]])
    m = keys.merge(last, on=["recipient", "campaign_id"])
    m["outcome"] = np.where(m["bounce_class"].astype(str) == "delivered", "delivered on retry", "still failing")
    t = pd.crosstab(m["first_category"].astype(str), m["outcome"])
    for c in ("delivered on retry", "still failing"):
        if c not in t.columns:
            t[c] = 0
    t["messages"] = t.sum(axis=1)
    t["mean attempts"] = m.groupby(m["first_category"].astype(str))["attempt"].mean().round(2)
    return t.sort_values("messages", ascending=False).reset_index().rename(
        columns={"first_category": "first failure"})


# ------------------------------------------------------------------ HTML

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;margin:0;color:#222;
background:#f6f7f9}
header{background:#1f3a5f;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.85;font-size:13px}
main{padding:16px 32px;max-width:1200px}
section{background:#fff;border:1px solid #e1e4e8;border-radius:6px;padding:14px 18px;margin:14px 0}
h2{font-size:17px;margin:0 0 8px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #e1e4e8;border-radius:6px;padding:10px 16px;min-width:130px}
.card b{display:block;font-size:22px}
.card span{font-size:12px;color:#555}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0}
th,td{border-bottom:1px solid #eee;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f2f5}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.flag-block{color:#7d3c98;font-weight:600}.flag-hard{color:#c0392b;font-weight:600}
.flag-soft{color:#b9770e;font-weight:600}
svg{max-width:100%;height:auto}
.note{font-size:12px;color:#555}
"""


def _table_html(df: Any, max_rows: int = 50) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in df.columns)
    rows = []
    for rec in df.head(max_rows).itertuples(index=False):
        cells = []
        for c, v in zip(df.columns, rec):
            if isinstance(v, (float, np.floating)):
                cells.append(f"<td class='num'>{v:.3f}</td>" if "rate" in str(c) else
                             f"<td class='num'>{v:,.2f}</td>")
            elif isinstance(v, (int, np.integer)) and not isinstance(v, bool):
                cells.append(f"<td class='num'>{v:,}</td>" if c != "campaign_id" else f"<td>{v}</td>")
            elif c == "flag":
                cells.append(f"<td class='flag-{_e(v)}'>{_e(v)}</td>")
            else:
                cells.append(f"<td>{_e(v)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = f"<p class='note'>... {len(df) - max_rows:,} more rows</p>" if len(df) > max_rows else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def render_html(events: Any, suppressions: Any, aggregates: Any, alerts: Optional[Any] = None, *,
                title: str = "bouncekit report", policy: str = "standard",
                extra: Optional[Mapping[str, Any]] = None) -> str:
    """One self-contained HTML page from the analysis tables.

    Args:
        events: classified events (``recipient``, ``campaign_id``, ``ts``,
            ``bounce_class``, ``category``; ``domain`` is derived when absent).
        suppressions: the suppression list.
        aggregates: the campaign x domain aggregates.
        alerts: flagged cells (default: :func:`alerts_from_aggregates`).
        title: the page title.
        policy: the policy's name, shown with the suppression list.
        extra: more tables to show, title -> DataFrame (e.g. risk scores).
    """
    import pandas as pd
    if "domain" not in events.columns:
        events = events.assign(domain=_domain_of(events["recipient"]).to_numpy())
    if "category" not in events.columns:
        events = events.assign(category=events["bounce_class"].astype(str))
    if alerts is None:
        alerts = alerts_from_aggregates(aggregates, events, min_sent=20)
    s = _summary_figures(events, suppressions, alerts)
    bounced = sum(v for k, v in s["classes"].items() if k in ("soft", "hard", "block"))
    cards = [(f"{s['rows']:,}", "events"), (f"{s['recipients']:,}", "recipients"),
             (f"{s['campaigns']}", "campaigns"), (f"{s['domains']:,}", "domains"),
             (f"{100 * bounced / max(s['rows'], 1):.1f}%", "bounced (soft+hard+block)"),
             (f"{s['suppressed']:,}", "suppressed"), (f"{s['alerts']}", "alerts")]
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>"
             f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{_CSS}</style>"
             f"</head><body><header><h1>{_e(title)}</h1><p>{s['first_day']} to {s['last_day']} &middot; "
             f"generated by bouncekit &middot; suppression policy <b>{_e(policy)}</b></p></header><main>"]
    parts.append("<div class='cards'>" + "".join(f"<div class='card'><b>{v}</b><span>{_e(k)}</span></div>"
                                                 for v, k in cards) + "</div>")
    parts.append(f"<section><h2>Bounce rates over time</h2>{_rates_over_time(events)}</section>")
    parts.append(f"<section><h2>Category mix</h2>{_category_mix(events)}</section>")
    parts.append("<section><h2>Spikes: campaign x domain</h2>" + _heatmap(aggregates) +
                 "<p class='note'>Flags: hard &gt; 5%, block &gt; 5%, soft &gt; 10% of the cell's events. "
                 "Worst first, with the dominant reason and what to do.</p>" +
                 (_table_html(alerts, 30) if len(alerts) else "<p>No campaign x domain cell over a threshold.</p>")
                 + "</section>")
    sup = suppressions.copy()
    if len(sup):
        sup["suppressed_at"] = pd.to_datetime(sup["suppressed_at"], unit="s").dt.strftime("%Y-%m-%d %H:%M")
        sup["why"] = sup["reason"].astype(str).map(_REASON_TEXT).fillna("")
        sup["reason"] = sup["reason"].astype(str)
    reasons = ", ".join(f"{k}: {v:,}" for k, v in s["reasons"].items()) or "none"
    parts.append(f"<section><h2>Who was suppressed and why</h2><p>{s['suppressed']:,} recipients ({reasons}).</p>"
                 + _suppression_chart(suppressions)
                 + (_table_html(sup, 40) if len(sup) else "") + "</section>")
    retry = _retry_outcomes(events)
    if retry is not None:
        parts.append("<section><h2>Retry outcomes</h2><p class='note'>Messages whose first attempt failed "
                     "temporarily, by the reason of that failure: how many got through on a later attempt "
                     "(as recorded in the data).</p>" + _table_html(retry) + "</section>")
    for name, table in (extra or {}).items():
        parts.append(f"<section><h2>{_e(name)}</h2>{_table_html(table)}</section>")
    parts.append("</main></body></html>")
    return "".join(parts)


def write_html(html: str, path: "os.PathLike[str] | str") -> Path:
    """Writes `html` to `path` atomically (temporary file, then rename)."""
    p = Path(path)
    tmp = p.with_name(f".{p.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, p)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise
    return p
