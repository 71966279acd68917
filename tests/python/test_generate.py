"""The synthetic history generator: shape, seeding, latent states and episodes."""

from __future__ import annotations

import numpy as np

import bouncekit
from bouncekit import generate


def test_seeded_and_exact_row_count() -> None:
    a = generate.history(5000, seed=11)
    b = generate.history(5000, seed=11)
    c = generate.history(5000, seed=12)
    assert len(a) == 5000
    assert a.equals(b)
    assert not a["diagnostic"].equals(c["diagnostic"])
    assert list(a.columns) == list(generate.HISTORY_SAMPLE_COLUMNS)


def test_states_shape_outcomes() -> None:
    h = generate.history(40_000, seed=3)
    by_state = h.groupby("truth_state")["truth_category"]
    # dead addresses bounce hard (unknown / disabled / bad domain) from their death on
    dead = h[h["truth_state"] == "dead"]
    assert dead["truth_category"].isin(["user_unknown", "mailbox_disabled", "bad_domain", "delivered",
                                        "greylisted", "blocklisted", "server_unavailable",
                                        "no_answer_from_host", "auto_reply", "spam_content",
                                        "auth_failure", "complaint", "rate_limited"]).all()
    assert (dead["truth_category"] == "user_unknown").mean() > 0.4
    full = h[h["truth_state"] == "full"]
    assert full["truth_category"].isin(["mailbox_full", "mailbox_full_inactive"]).mean() > 0.9
    # opens only on deliveries, never by disengaged recipients
    assert not h.loc[h["truth_category"] != "delivered", "opened"].any()
    assert not h.loc[h["truth_state"] == "disengaged", "opened"].any()
    assert h.loc[h["truth_state"] == "valid", "opened"].mean() > 0.1
    assert by_state.size()["valid"] > by_state.size()["dead"]
    # the three episode kinds all occur; greylisted first tries get through on retry
    assert set(h["episode"].unique()) >= {"", "greylisting", "throttling", "blocklist"}
    grey = h[(h["truth_category"] == "greylisted")]
    retried = h.merge(grey[["recipient", "campaign_id"]].drop_duplicates(), on=["recipient", "campaign_id"])
    assert (retried["attempt"] > 1).any()
    assert (retried.loc[retried["attempt"] > 1, "truth_category"] == "delivered").all()
    # power-law domains: the largest domain carries many times the median's mail
    per_dom = h["recipient"].str.split("@").str[1].value_counts()
    assert per_dom.iloc[0] > 10 * per_dom.median()
    assert (np.diff(h["ts"].to_numpy()) >= 0).all()


def test_classifier_recovers_the_generating_category() -> None:
    h = generate.history(20_000, seed=5)
    out = bouncekit.classify(h)
    agree = (out["category"].astype(str).to_numpy() == h["truth_category"].to_numpy()).mean()
    assert agree > 0.97


def test_bundled_history() -> None:
    h = generate.load_sample_history()
    assert len(h) == 30_000
    assert generate.sample_history_path().stat().st_size < 3_000_000
    assert h["campaign_id"].nunique() == 24
