"""Risk scores, threshold levels and spike detection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bouncekit
from bouncekit import risk


def test_threshold_levels_at_published_lines() -> None:
    assert risk.threshold_level("hard", 0.0199) == "good"
    assert risk.threshold_level("hard", 0.02) == "watch"
    assert risk.threshold_level("hard", 0.05) == "review"
    assert risk.threshold_level("hard", 0.10) == "pause"
    assert risk.threshold_level("complaint", 0.00099) == "good"
    assert risk.threshold_level("complaint", 0.001) == "review"
    assert risk.threshold_level("complaint", 0.003) == "pause"


def _cells(soft: list, sent: int = 1000, **extra: list) -> pd.DataFrame:
    n = len(soft)
    d = {"campaign_id": list(range(n)), "domain": ["d.example"] * n, "sent": [sent] * n,
         "delivered": [sent - s for s in soft], "soft": soft, "hard": [0] * n, "block": [0] * n,
         "complaint": [0] * n}
    d.update(extra)
    return pd.DataFrame(d)


def test_no_spikes_in_binomial_noise() -> None:
    rng = np.random.default_rng(0)
    cells = _cells(list(rng.binomial(1000, 0.05, size=60)))
    assert len(risk.detect_spikes(cells)) == 0


def test_spike_against_own_baseline_not_a_fixed_ratio() -> None:
    # 8 % soft is normal for this domain: no alert; 8 % on a 1 % domain is a spike.
    noisy = _cells([80, 82, 78, 85, 80])
    assert len(risk.detect_spikes(noisy)) == 0
    quiet = _cells([10, 9, 11, 80, 10])
    a = risk.detect_spikes(quiet)
    assert a["campaign_id"].tolist() == [3] and a["spike"].tolist() == [True]
    assert a["p_value"].iloc[0] < 1e-10
    from scipy.stats import binom
    p0 = a["baseline_rate"].iloc[0]
    assert a["p_value"].iloc[0] == pytest.approx(binom.sf(79, 1000, p0))



def test_binomial_fallback_without_scipy(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    from scipy.stats import binom
    x, n, p = np.array([80, 0, 3]), np.array([1000, 10, 50]), np.array([0.01, 0.2, 0.05])
    with_scipy = risk._binom_sf(x, n, p)
    monkeypatch.setitem(sys.modules, "scipy.special", None)  # import now fails
    without = risk._binom_sf(x, n, p)
    assert without == pytest.approx(with_scipy, rel=1e-6)
    assert with_scipy == pytest.approx([binom.sf(79, 1000, 0.01), 1.0, binom.sf(2, 50, 0.05)])


def test_decision_tree_actions() -> None:
    c = _cells([10, 10, 10, 300, 10, 300], **{"soft_4.7": [0, 0, 0, 280, 0, 0], "soft_4.2.2": [0, 0, 0, 0, 0, 290]})
    a = risk.detect_spikes(c).set_index("campaign_id")
    assert "slow the per-domain" in a.loc[3, "action"] and a.loc[3, "dominant_status"] == "4.7.x"
    assert "wait" in a.loc[5, "action"] and a.loc[5, "dominant_status"] == "4.2.2"
    b = _cells([10] * 4, block=[0, 0, 200, 0], **{"block_5.7": [0, 0, 190, 0]})
    a = risk.detect_spikes(b)
    assert a["kind"].tolist() == ["block"] and "not the list" in a["action"].iloc[0]
    broad = _cells([10, 10, 300, 10], block=[0, 0, 200, 0])
    a = risk.detect_spikes(broad)
    assert set(a["kind"]) == {"soft", "block"} and all("broad spike" in s for s in a["action"])


def test_threshold_breach_is_an_alert_even_without_a_spike() -> None:
    c = _cells([0, 0, 0], hard=[60, 61, 59])  # 6 % hard everywhere: no spike, but over the 5 % review line
    a = risk.detect_spikes(c)
    assert len(a) == 3 and not a["spike"].any() and set(a["threshold_level"]) == {"review"}


def test_recipient_risk_factors() -> None:
    T, D = 1_700_000_000, 86400
    rows = [("ok@a.example", c, T + c * D, "delivered") for c in range(5)]
    rows += [("streak@a.example", 0, T, "delivered")] + [("streak@a.example", c, T + c * D, "soft")
                                                         for c in (1, 2)]
    rows += [("gone@a.example", 0, T, "hard")]
    rows += [("stale@a.example", 0, T - 200 * D, "delivered"), ("stale@a.example", 1, T + 4 * D, "soft")]
    ev = pd.DataFrame(rows, columns=["recipient", "campaign_id", "ts", "bounce_class"])
    a = bouncekit.analyze(ev, policy="standard")
    r = a.risk.set_index("recipient")
    assert r.loc["gone@a.example", "risk"] == 100 and r.loc["gone@a.example", "top_factor"] == "suppressed"
    assert r.loc["streak@a.example", "risk"] > r.loc["ok@a.example", "risk"]
    assert r.loc["streak@a.example", "factor_soft_streak"] == pytest.approx(35 * 2 / 3, abs=0.01)
    assert r.loc["stale@a.example", "factor_no_recent_delivery"] == 25
    assert r["risk"].between(0, 100).all()
    assert set(a.domain_risk["domain"]) == {"a.example"}
    assert a.campaign_risk["sent"].sum() == len(ev)


def test_generated_history_alerts_mark_episodes() -> None:
    ev = risk.example_history(recipients=1500, campaigns=15, seed=1)
    a = bouncekit.analyze(ev, policy="seeds")
    spikes = a.alerts[a.alerts["spike"]]
    assert len(spikes) > 0
    assert {"5.7.x", "4.7.x"} & set(spikes["dominant_status"])
    assert (a.cells["sent"].sum()) == len(ev)
