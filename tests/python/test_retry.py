"""bouncekit.retry: schedule timelines against hand computations from
../shared/reference/retry-schedules.md, outcomes (exact vs Monte Carlo), compare/search,
history fitting, and bad parameters (acceptance 1 and 4 of the retry-window issue)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import bouncekit
from bouncekit import retry
from bouncekit.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError

H, M, D = 3600.0, 60.0, 86400.0


# ---- schedules (acceptance 1) -----------------------------------------------------------

def test_postfix_300s_to_4000s_cap_idealised() -> None:
    s = retry.postfix(queue_run_granularity=False)
    a = s.attempts
    # Reference §2: 0, 5 m, 10 m, 20 m, 40 m, 1 h 20 m, 2 h 27 m, 3 h 33 m, then every ~67 min.
    assert a[:8].tolist() == [0, 300, 600, 1200, 2400, 4800, 8800, 12800]
    assert np.all(np.diff(a)[6:] == 4000)
    assert len(a) == 113 and a[-1] == 432800 and s.expire_time == 432800  # first attempt after 120 h
    assert s.give_up == "lifetime"


def test_postfix_queue_run_granularity_adds_a_scan_to_the_cap() -> None:
    a = retry.postfix().attempts
    assert a[:9].tolist() == [0, 300, 600, 1200, 2400, 4800, 9000, 13200, 17400]
    assert np.all(np.diff(a)[6:] == 4200)  # 4000 s waits for the next 300 s scan
    assert len(a) == 108
    # A random scan phase per message: Monte Carlo only.
    r = retry.postfix(scan_phase=None)
    assert not r.deterministic
    with pytest.raises(FailedPreconditionError):
        retry.simulate(r, {"greylisted": 1.0}, method="exact")


def test_exim_default_rule_over_four_days() -> None:
    s = retry.exim()
    want = [900.0 * i for i in range(9)] + [10800, 16200, 24300, 36450, 54675, 82012] + \
        [82012 + 21600.0 * i for i in range(1, 14)]
    assert s.attempts.tolist() == want
    assert len(want) == 28  # reference: 28 attempts
    assert s.expire_time / H == pytest.approx(100.78, abs=0.01)  # bounce on the first failure after 96 h
    tl = s.timeline()
    assert list(tl.columns) == ["attempt", "at_seconds", "at", "gap_seconds"]
    assert tl["at"].iloc[9] == pd.Timedelta(hours=3)


def test_exim_clock_and_config_lines() -> None:
    late = retry.exim(host_failing_for="2h")
    assert late.attempts[1:3].tolist() == [3600, 9000]
    assert len(retry.exim(host_failing_for="5d").attempts) == 1
    cfg = "*.example.com quota F,1h,10m; F,3d,1h\n* * F,2h,15m; G,16h,1h,1.5; F,4d,6h\n"
    assert retry.exim_from_config(cfg, "mx.example.com", "quota_3d").attempts[1] == 600
    assert retry.exim_from_config(cfg, "mx.example.com", "timeout").attempts[1] == 900
    with pytest.raises(InvalidArgumentError) as e:
        retry.exim_from_config("*.example.com quota F,1h,10m; F,3d,1h\n* * F,2h,15m; Q,4d,6h\n", "x.org", "*")
    assert (e.value.line, e.value.text_column) == (2, 15)


def test_haraka_list_and_default() -> None:
    d = retry.preset("haraka").attempts
    assert np.diff(d).tolist() == [2.0 ** (i + 5) for i in range(1, 13)]  # 64 s ... 131072 s
    assert d[-1] / H == pytest.approx(72.8, abs=0.05) and len(d) == 13
    assert retry.haraka().attempts.tolist() == d.tolist()
    assert retry.haraka("1m, 5m*2, 1h*3").attempts.tolist() == [0, 60, 360, 660, 4260, 7860, 11460]
    assert len(retry.haraka("none").attempts) == 1


def test_other_presets() -> None:
    assert retry.preset("mailgun").attempts.tolist() == [0, 600, 1500, 3300, 6900, 14100, 28500]
    assert retry.preset("mailgun").attempts[-1] < 8 * H
    k = retry.preset("kumomta")
    assert k.attempts.tolist() == [0, 1200, 3600, 8400, 18000, 37200, 75600, 152400, 306000]
    assert k.expire_time == 7 * D
    assert retry.preset("exchange").expire_time == 2 * D
    assert retry.preset("ses").expire_time == 14 * H
    assert retry.preset("sendgrid").expire_time == 72 * H
    assert retry.preset("mailchimp").expire_time == 72 * H
    rfc = retry.preset("rfc5321")
    assert np.all(np.diff(rfc.attempts) >= 30 * M) and rfc.expire_time >= 4 * D
    assert retry.preset("mailpro").attempts.tolist() == [0, 420, 2700]
    assert retry.preset("sendmail").attempts[1] == 1800
    for name in retry.PRESETS:
        s = retry.preset(name)
        assert "gives up at" in str(s)


def test_fixed_exponential_jitter_budget() -> None:
    assert retry.exponential(60, 2, cap=300, lifetime=1000).attempts.tolist() == [0, 60, 180, 420, 720]
    assert retry.fixed(60, max_attempts=4).attempts.tolist() == [0, 60, 120, 180]
    assert retry.fixed(60, max_attempts=4).give_up == "attempts"
    j = retry.exponential("100s", 2, jitter=0.2, lifetime="1d")
    assert not j.deterministic
    a1, a2 = j.timeline(seed=5), j.timeline(seed=5)
    assert a1["at_seconds"].tolist() == a2["at_seconds"].tolist()
    assert 80 <= a1["at_seconds"][1] <= 120


# ---- bad parameters (acceptance 4) ---------------------------------------------------------

@pytest.mark.parametrize("make, field", [
    (lambda: retry.fixed(-60, lifetime="1d"), "interval"),
    (lambda: retry.fixed("1m", lifetime=-5), "lifetime"),
    (lambda: retry.exponential("10m", 2, cap="5m", lifetime="1d"), "cap"),
    (lambda: retry.exponential("10m", 0.5, lifetime="1d"), "factor"),
    (lambda: retry.postfix(minimal_backoff_time="600s", maximal_backoff_time="300s"), "maximal_backoff_time"),
    (lambda: retry.postfix(queue_run_delay=-1), "queue_run_delay"),
    (lambda: retry.fixed("1m"), "lifetime"),
    (lambda: retry.explicit(["5m", "-1m"]), "intervals[1]"),
])
def test_bad_schedule_parameters(make: object, field: str) -> None:
    with pytest.raises(InvalidArgumentError) as e:
        make()  # type: ignore[operator]
    assert e.value.field == field, str(e.value)


@pytest.mark.parametrize("rule, column", [
    ("F,2h,15m; G,16h,1h,x", 20),
    ("F,2h,15q", 8),
    ("X,2h,15m", 1),
    ("F,2h,15m; F,1h,30m", 13),
    ("F,2h", 5),
    ("", 1),
])
def test_unparsable_exim_rule_reports_the_column(rule: str, column: int) -> None:
    with pytest.raises(InvalidArgumentError) as e:
        retry.exim(rule)
    assert e.value.text_column == column
    assert f"column {column}" in str(e.value)


def test_bad_cause_mixes() -> None:
    s = retry.preset("postfix")
    with pytest.raises(InvalidArgumentError, match="empty"):
        retry.simulate(s, {})
    with pytest.raises(InvalidArgumentError, match="sum to 1") as e:
        retry.simulate(s, {"greylisted": 0.5, "mailbox_full": 0.6})
    assert e.value.field == "weights"
    with pytest.raises(InvalidArgumentError):
        retry.simulate(s, {"greylisted": -0.5, "mailbox_full": 1.5})
    with pytest.raises(NotFoundError, match="no default cause"):
        retry.simulate(s, {"not_a_category": 1.0})
    with pytest.raises(InvalidArgumentError, match="never_share"):
        retry.greylisting(never_share=1.5)
    with pytest.raises(InvalidArgumentError, match="sum to 1"):
        retry.Recovery.mixture([(0.5, retry.Recovery.fixed("1h")), (0.6, retry.Recovery.fixed("2h"))])
    with pytest.raises(InvalidArgumentError, match="retry window"):
        retry.greylisting(delay="1h", retry_window="10m")
    with pytest.raises(InvalidArgumentError):
        retry.Recovery.lognormal("-1h", 1.0)
    with pytest.raises(InvalidArgumentError, match="duration"):
        retry.fixed("ten minutes", lifetime="1d")
    with pytest.raises(InvalidArgumentError, match="messages"):
        retry.simulate(s, {"greylisted": 1.0}, method="monte_carlo", messages=0)


# ---- outcomes -------------------------------------------------------------------------------

MIX = {"greylisted": 0.3, "mailbox_full": 0.2, "rate_limited": 0.2, "server_unavailable": 0.2,
       "bad_reputation": 0.1}


def test_exact_hand_computation() -> None:
    # Exponential recovery with mean 1 h under Mailgun: P = 0.75 * F(7 h 55 m).
    c = retry.recovery(retry.Recovery.exponential("1h"), never_share=0.25)
    o = retry.simulate(retry.preset("mailgun"), {c: 1.0})
    assert o.delivered == pytest.approx(0.75 * (1 - math.exp(-28500 / 3600)), abs=1e-12)
    assert o.delivered + o.expired == pytest.approx(1)
    assert o.delivered_within("10m") == pytest.approx(0.75 * (1 - math.exp(-600 / 3600)))
    # Greylisting (postgrey 300 s) under Exim: delivered by the 15-minute retry.
    g = retry.simulate(retry.preset("exim"), {retry.greylisting(): 1.0})
    assert g.delivered == 1.0 and g.quantile(1.0) == 900 and g.mean_attempts == 2
    # Haraka's ~1 m and ~3 m retries fail postgrey, the one at ~7.5 m passes (reference §10).
    h = retry.simulate(retry.preset("haraka"), {retry.greylisting(): 1.0})
    assert h.quantile(0.5) == 448 and h.mean_attempts == 4
    # A greylister whose retry window is shorter than the next retry starts over.
    w = retry.simulate(retry.fixed("1h", lifetime="1d"), {retry.greylisting("300s", "30m"): 1.0})
    assert w.delivered == 0.0


def test_exact_and_monte_carlo_agree_within_error() -> None:
    for name in ("postfix", "exim", "mailgun", "ses"):
        s = retry.preset(name)
        ex = retry.simulate(s, MIX, method="exact")
        n = 300_000
        mc = retry.simulate(s, MIX, method="monte_carlo", messages=n, seed=7)
        se = math.sqrt(ex.delivered * (1 - ex.delivered) / n)
        assert abs(mc.delivered - ex.delivered) < 5 * se, name
        cum_ex, cum_mc = np.cumsum(ex.delivered_mass), np.cumsum(mc.delivered_mass)
        bound = 5 * np.sqrt(np.maximum(cum_ex * (1 - cum_ex), 1e-6) / n)
        assert np.all(np.abs(cum_ex - cum_mc) < bound), name
        assert mc.mean_attempts == pytest.approx(ex.mean_attempts, rel=0.02)
        assert np.allclose(mc.causes["delivered"], ex.causes["delivered"], atol=0.01)


def test_monte_carlo_same_seed_any_threads() -> None:
    s = retry.preset("postfix")
    a = retry.simulate(s, MIX, method="monte_carlo", messages=200_000, seed=3, threads=1)
    b = retry.simulate(s, MIX, method="monte_carlo", messages=200_000, seed=3, threads=2)
    c = retry.simulate(s, MIX, method="monte_carlo", messages=200_000, seed=4, threads=2)
    assert np.array_equal(a.delivered_mass, b.delivered_mass) and a.delivered == b.delivered
    assert not np.array_equal(a.delivered_mass, c.delivered_mass)


def test_outcome_tables_and_plot() -> None:
    o = retry.simulate(retry.preset("exim"), MIX)
    tl = o.timeline()
    assert list(tl.columns) == ["seconds", "hours", "delivered", "expired", "pending"]
    assert tl["delivered"].is_monotonic_increasing and tl["delivered"].iloc[-1] == pytest.approx(o.delivered)
    assert tl["expired"].iloc[-1] == pytest.approx(o.expired)
    at = o.attempts()
    assert at["share"].sum() == pytest.approx(1) and (at["attempts"] >= 2).all()
    assert (at["attempts"] * at["share"]).sum() == pytest.approx(o.mean_attempts)
    s = o.summary()
    assert s["p50_delivered_hours"] <= s["p90_delivered_hours"] <= s["p99_delivered_hours"]
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    ax = o.plot()
    assert ax.get_xscale() == "log" and len(ax.get_lines()) == 2


def test_compare_and_search() -> None:
    t = retry.compare([retry.preset(n) for n in ("postfix", "exim", "mailgun", "ses")], MIX, window="8h")
    assert list(t["schedule"]) == ["postfix", "exim", "mailgun", "ses"]
    assert (t["delivered_in_window"] <= t["delivered"] + 1e-12).all()
    # Longer windows deliver more; Mailgun gives up at 8 h so in-window equals total.
    row = t.set_index("schedule")
    assert row.loc["postfix", "delivered"] > row.loc["mailgun", "delivered"]
    assert row.loc["mailgun", "delivered_in_window"] == pytest.approx(row.loc["mailgun", "delivered"])
    best = retry.search("exponential", {"mailbox_full": 0.5, "greylisted": 0.5}, window="3d", max_attempts=10)
    assert (best["attempts_max"] <= 10).all()
    assert np.all(np.diff(best["delivered_in_window"].to_numpy()) <= 1e-12)
    # The best schedule is at least as good as every fixed interval within the same budget.
    fixed_best = retry.search("fixed", {"mailbox_full": 0.5, "greylisted": 0.5}, window="3d", max_attempts=10)
    assert best["delivered_in_window"].iloc[0] >= fixed_best["delivered_in_window"].iloc[0] - 1e-12
    with pytest.raises(InvalidArgumentError, match="family"):
        retry.search("quadratic", MIX, window="1d", max_attempts=5)


# ---- learning from history -----------------------------------------------------------------

def _history(n: int, seed: int) -> pd.DataFrame:
    """Synthetic retry histories under the Postfix schedule: two categories with known models."""
    rng = np.random.default_rng(seed)
    sched = retry.preset("postfix").attempts
    rows = []
    truth = {"mailbox_full": (0.9, 6 * H, 0.3), "server_unavailable": (1.3, 1 * H, 0.05)}
    m = 0
    for cat, (shape, scale, never) in truth.items():
        r = scale * rng.weibull(shape, n)
        r[rng.random(n) < never] = np.inf
        for ri in r:
            for t in sched:
                ok = bool(t > 0 and t >= ri)
                rows.append((m, pd.Timestamp("2026-01-01") + pd.Timedelta(seconds=float(t)), ok, cat))
                if ok:
                    break
            m += 1
    return pd.DataFrame(rows, columns=["message_id", "time", "delivered", "category"])


def test_fit_recovers_known_parameters_with_censoring() -> None:
    h = _history(4000, 1)
    fit = retry.fit_recovery(h, by="category")
    t = fit.table.set_index("category")
    assert t.loc["mailbox_full", "shape"] == pytest.approx(0.9, rel=0.12)
    assert t.loc["mailbox_full", "scale"] == pytest.approx(6 * H, rel=0.15)
    assert t.loc["mailbox_full", "never_share"] == pytest.approx(0.3, abs=0.04)
    assert t.loc["server_unavailable", "scale"] == pytest.approx(1 * H, rel=0.15)
    assert t.loc["server_unavailable", "never_share"] == pytest.approx(0.05, abs=0.03)
    # The fitted causes drive the simulator and reproduce the observed delivered share.
    causes = fit.causes()
    o = retry.simulate(retry.preset("postfix"), {causes["mailbox_full"]: 1.0})
    observed = h[h.category == "mailbox_full"].groupby("message_id")["delivered"].any().mean()
    assert o.delivered == pytest.approx(observed, abs=0.03)
    ln = retry.fit_recovery(h, by="category", family="lognormal")
    assert set(ln.table.columns) >= {"median", "sigma", "never_share"}


def test_kaplan_meier_handles_censoring() -> None:
    h = _history(3000, 2)
    km = retry.kaplan_meier(h, by="category")
    mb = km[km.category == "mailbox_full"]
    assert mb["survival"].is_monotonic_decreasing
    # Plateau near the never-recovers share + the mass beyond 5 days.
    true_tail = 0.3 + 0.7 * math.exp(-((432000 / (6 * H)) ** 0.9))
    assert mb["survival"].iloc[-1] == pytest.approx(true_tail, abs=0.04)
    with pytest.raises(InvalidArgumentError, match="no column"):
        retry.kaplan_meier(h.drop(columns="delivered"))
    bad = h.copy()
    bad["delivered"] = bad["delivered"].astype(object)
    bad.loc[5, "delivered"] = "yes"
    with pytest.raises(InvalidArgumentError, match="row 5"):
        retry.fit_recovery(bad)


def test_package_exports_retry() -> None:
    assert bouncekit.retry is retry
