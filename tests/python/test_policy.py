"""Declarative policies: presets, files, validation errors, decisions and explanations."""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import bouncekit
from bouncekit import Policy, Rule

D = 86400
T = 1_700_000_000


def _ev(rows: Any) -> Dict[str, list]:
    cols: Dict[str, list] = {"recipient": [], "campaign_id": [], "ts": [], "bounce_class": []}
    for r, c, t, k in rows:
        cols["recipient"].append(r)
        cols["campaign_id"].append(c)
        cols["ts"].append(t)
        cols["bounce_class"].append(k)
    return cols


# ------------------------------------------------------------- presets

def test_presets_load_with_sources() -> None:
    for name in bouncekit.POLICY_PRESETS:
        p = Policy.preset(name)
        assert p.name == name
        assert p.source and p.description
        assert p.rules
    seeds = Policy.preset("seeds")
    kinds = [(r.kind, r.count, r.window_days) for r in seeds.rules]
    assert ("soft_streak", 3, None) in kinds and ("soft_window", 3, 30) in kinds
    mc = Policy.preset("mailchimp").rules[-1]
    assert (mc.count, mc.count_engaged) == (7, 15)
    assert Policy.preset("standard") == Policy.from_dict(Policy.preset("standard").to_dict())


def test_unknown_preset() -> None:
    with pytest.raises(bouncekit.NotFoundError) as e:
        bouncekit.load_policy("nope")
    assert e.value.field == "policy"


def test_policy_file_errors_name_the_field(tmp_path: Path) -> None:
    f = tmp_path / "p.toml"
    f.write_text('name = "x"\n[[rules]]\nkind = "hard"\n[[rules]]\nkind = "soft_forever"\ncount = 2\n')
    with pytest.raises(bouncekit.InvalidArgumentError) as e:
        Policy.load(f)
    assert e.value.field == "rules[1].kind" and e.value.line == 5 and "soft_forever" in str(e.value)
    f.write_text('[[rules]]\nkind = "soft_window"\ncount = 3\nwindow_days = -30\n')
    with pytest.raises(bouncekit.InvalidArgumentError) as e:
        Policy.load(f)
    assert e.value.field == "rules[0].window_days" and "negative" in str(e.value)
    f.write_text('[[rules]]\nkind = "hard"\nwindow = 3\n')
    with pytest.raises(bouncekit.InvalidArgumentError) as e:
        Policy.load(f)
    assert e.value.field == "rules[0].window"
    f.write_text('[[rules]]\nkind = "soft_total"\ncount = "three"\n')
    with pytest.raises(bouncekit.InvalidArgumentError) as e:
        Policy.load(f)
    assert e.value.field == "rules[0].count" and "integer" in str(e.value)
    with pytest.raises(bouncekit.InvalidArgumentError) as e:
        Policy("p", [Rule("soft_total", count=2, action="pause")])
    assert e.value.field == "rules[0].pause_days"
    with pytest.raises(bouncekit.InvalidArgumentError) as e:
        Policy("p", [])
    assert e.value.field == "rules"


def test_yaml_and_json_policies(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    y = tmp_path / "p.yaml"
    y.write_text("name: y\nmin_spacing_hours: 24\nrules:\n  - kind: hard\n  - kind: soft_window\n"
                 "    count: 3\n    window_days: 30\n")
    p = Policy.load(y)
    assert p.to_dict()["min_spacing_hours"] == 24 and p.rules[1].window_days == 30
    y.write_text("rules:\n  - kind: soft_window\n    count: 3\n    window_days: -1\n")
    with pytest.raises(bouncekit.InvalidArgumentError) as e:
        Policy.load(y)
    assert e.value.field == "rules[0].window_days"
    j = tmp_path / "p.json"
    j.write_text(json.dumps(Policy.preset("seeds").to_dict()))
    assert Policy.load(j) == Policy.preset("seeds")


# ---------------------------------------------------- standard == SPEC W2

def _standard_equals_w2(a: bouncekit.Analysis) -> None:
    d, w2 = a.decisions, a.suppressions
    assert w2 is not None and len(d) == len(w2) > 0
    assert d["recipient"].tolist() == w2["recipient"].tolist()
    assert d["rule"].tolist() == w2["reason"].astype(str).tolist()
    assert d["decided_at"].tolist() == w2["suppressed_at"].tolist()
    assert d["event_number"].tolist() == w2["event_count_seen"].tolist()
    assert set(d["action"]) == {"suppress"}


def test_standard_declarative_equals_w2_on_edge_cases(bench_dir: Path, tmp_path: Path) -> None:
    edge = bench_dir / "tests" / "edge_cases.csv"
    a = bouncekit.analyze(str(edge), policy="standard", risk=False, alerts=False)
    _standard_equals_w2(a)
    # ...and the W2 table written out is byte-identical to the oracle's.
    ours, oracle = tmp_path / "ours.csv", tmp_path / "oracle.csv"
    bouncekit.write_csv(a.suppressions, ours)
    subprocess.run([sys.executable, str(bench_dir / "w2_python.py"), "--in", str(edge), "--out", str(oracle)],
                   check=True, capture_output=True)
    assert filecmp.cmp(ours, oracle, shallow=False)
    oracle3 = tmp_path / "w3.csv"
    subprocess.run([sys.executable, str(bench_dir / "w3_python.py"), "--in", str(edge), "--out", str(oracle3)],
                   check=True, capture_output=True)
    bouncekit.write_csv(a.aggregates, tmp_path / "ours3.csv")
    assert filecmp.cmp(tmp_path / "ours3.csv", oracle3, shallow=False)


def test_standard_declarative_equals_w2_on_generated(bench_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "ev.parquet"
    subprocess.run([sys.executable, str(bench_dir / "gen_events.py"), "--rows", "60000", "--seed", "5", "--out",
                    str(data)], check=True, capture_output=True)
    a = bouncekit.analyze(str(data), policy="standard", columns={"diagnostic": None, "reply_code": None,
                                                                 "enhanced_status": None},
                          risk=False, alerts=False, batch_rows=7000)
    _standard_equals_w2(a)
    assert a.summary["rows"] == a.summary["used"] == 60000


# ------------------------------------------------------------ semantics

def test_sender_blame_never_suppresses_but_alerts() -> None:
    ev = {"recipient": ["a@x.org", "b@x.org", "c@x.org"], "campaign_id": [1, 1, 1], "ts": [0, 0, 0],
          "bounce_class": ["hard", "hard", "block"], "blame": ["sender", "recipient", "sender"]}
    a = bouncekit.analyze(ev, policy="seeds", risk=False, alerts=False)
    assert a.decisions["recipient"].tolist() == ["b@x.org"]
    a = bouncekit.analyze(ev, policy="standard", risk=False, alerts=False)  # SPEC counts every hard
    assert a.decisions["recipient"].tolist() == ["a@x.org", "b@x.org"]


def test_raw_fields_are_classified_and_greylisting_exempt() -> None:
    rows = []
    for c in range(4):  # greylisted first contact, delivered minutes later, every campaign
        rows.append(("g@x.org", c, T + c * D, 451, "4.7.1", "451 4.7.1 Greylisted, please try again later"))
        rows.append(("g@x.org", c, T + c * D + 600, 250, "2.0.0", "250 2.0.0 ok"))
    for c in range(3):
        rows.append(("u@x.org", c, T + c * 3 * D, 452, "4.2.2", "452 4.2.2 mailbox full, over quota"))
    df = pd.DataFrame(rows, columns=["recipient", "campaign_id", "ts", "reply_code", "enhanced_status", "diagnostic"])
    seeds = bouncekit.analyze(df, policy="seeds", alerts=False)
    assert seeds.decisions["recipient"].tolist() == ["u@x.org"]
    assert seeds.decisions["rule"].tolist() == ["soft_streak_3_campaigns"]
    assert [e["class"] for e in seeds.decisions["evidence"].iloc[0]] == ["soft"] * 3
    aggressive = bouncekit.analyze(df, policy=Policy("p", [Rule("soft_total", count=3)]), alerts=False)
    assert "g@x.org" in aggressive.decisions["recipient"].tolist()  # without the exemption it counts
    risk = seeds.risk.set_index("recipient")
    assert risk.loc["u@x.org", "risk"] == 100
    assert risk.loc["g@x.org", "factor_mailbox_full"] == 0


def test_engagement_column_raises_threshold() -> None:
    rows = []
    for who, engaged in (("quiet@x.org", False), ("fan@x.org", True)):
        rows.append((who, 0, T, "delivered", engaged))
        for c in range(1, 10):
            rows.append((who, c, T + c * D, "soft", False))
    df = pd.DataFrame(rows, columns=["recipient", "campaign_id", "ts", "bounce_class", "engaged"])
    a = bouncekit.analyze(df, policy="mailchimp", risk=False, alerts=False)
    assert a.decisions["recipient"].tolist() == ["quiet@x.org"]
    assert a.decisions["event_number"].tolist() == [8]  # the 7th soft campaign


def test_pause_and_monitor_actions_and_explain() -> None:
    ev = _ev([("a@x.org", c, T + c * D, "soft") for c in range(3)] + [("b@x.org", 1, T, "soft"),
                                                                      ("c@x.org", 1, T, "delivered")])
    p = Policy("p", [Rule("hard"), Rule("soft_streak", count=2, action="pause", pause_days=10),
                     Rule("soft_total", count=1, action="monitor")])
    a = bouncekit.analyze(ev, policy=p, risk=False, alerts=False)
    d = a.decisions.set_index("recipient")
    assert d.loc["a@x.org", "action"] == "pause" and d.loc["a@x.org", "until"] == T + D + 10 * D
    assert d.loc["b@x.org", "action"] == "monitor"
    assert "c@x.org" not in d.index
    text = a.explain("a@x.org")
    assert "pause by rule 'soft_streak'" in text and text.count("evidence:") == 2
    assert "allow retries and monitor" in bouncekit.analyze(ev, policy="standard", risk=False,
                                                           alerts=False).explain("b@x.org")
    with pytest.raises(bouncekit.NotFoundError):
        a.explain("nobody@x.org")
    assert "policy <b>p</b>" in a._repr_html_()


# ------------------------------------------------------------- bad input

def test_missing_and_mistyped_columns() -> None:
    with pytest.raises(bouncekit.NotFoundError) as e:
        bouncekit.analyze({"recipient": ["a"], "campaign_id": [1], "bounce_class": ["soft"]})
    assert e.value.column == "ts"
    with pytest.raises(bouncekit.NotFoundError) as e:
        bouncekit.analyze({"recipient": ["a"], "campaign_id": [1], "ts": [0]})
    assert e.value.column == "bounce_class"
    with pytest.raises(bouncekit.InvalidArgumentError) as e:
        bouncekit.analyze({"recipient": ["a"], "campaign_id": ["first"], "ts": [0], "bounce_class": ["soft"]})
    assert e.value.column == "campaign_id"
    with pytest.raises(bouncekit.InvalidArgumentError) as e:
        bouncekit.analyze({"recipient": ["a"], "campaign_id": [1], "ts": [0], "bounce_class": ["soft"],
                           "engaged": ["yes"]})
    assert e.value.column == "engaged"


def test_unparsable_timestamps_and_bad_classes() -> None:
    ev = {"recipient": ["a@x", "b@x", "c@x", "", "e@x"], "campaign_id": [1, 1, None, 1, 1],
          "ts": ["2024-01-02T03:04:05Z", "yesterday-ish", "2024-01-02", "2024-01-03", "2024-01-04"],
          "bounce_class": ["soft", "hard", "soft", "soft", "bounced-ish"]}
    with pytest.raises(bouncekit.InvalidArgumentError) as e:
        bouncekit.analyze(ev)
    assert e.value.column == "ts" and e.value.row == 1 and "yesterday-ish" in str(e.value)
    a = bouncekit.analyze(ev, on_invalid="skip", alerts=False)
    s = a.summary
    assert s["rows"] == 5 and s["used"] == 1
    assert s["skipped"] == {"empty_recipient": 1, "null_campaign_id": 1, "null_ts": 0, "unrecognized_class": 1,
                            "unparsable_ts": 1}
    assert s["rows"] == s["used"] + sum(s["skipped"].values())
    with pytest.raises(bouncekit.InvalidArgumentError) as e:
        bouncekit.analyze({k: v[4:] for k, v in ev.items()})
    assert e.value.column == "bounce_class" and "bounced-ish" in str(e.value)
    with pytest.raises(bouncekit.InvalidArgumentError) as e:
        bouncekit.analyze(ev, on_invalid="ignore")
    assert e.value.field == "on_invalid"


def test_esp_class_synonyms_and_timestamp_types() -> None:
    ts = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"], utc=True)
    df = pd.DataFrame({"email": ["a@x"] * 3, "campaign": [1, 2, 3], "time": ts,
                       "type": ["Transient", "Transient", "Permanent"]})
    a = bouncekit.analyze(df, columns={"recipient": "email", "campaign_id": "campaign", "ts": "time",
                                       "bounce_class": "type"}, policy="ses", alerts=False)
    assert a.decisions["rule"].tolist() == ["bounce"]
    assert a.decisions["decided_at"].tolist() == [int(ts[2].timestamp())]


def test_every_preset_on_a_generated_history() -> None:
    ev = bouncekit.risk.example_history(recipients=600, campaigns=12, seed=4)
    counts = {}
    for name in bouncekit.POLICY_PRESETS:
        a = bouncekit.analyze(ev, policy=name, alerts=False, risk=False)
        assert a.summary["used"] == len(ev)
        counts[name] = int((a.decisions["action"] == "suppress").sum())
    assert counts["aggressive"] > counts["standard"] > counts["ses"]
    assert counts["conservative"] < counts["aggressive"]


def test_polars_arrow_stream_and_csv_inputs(tmp_path: Path) -> None:
    ev = bouncekit.risk.example_history(recipients=200, campaigns=6, seed=9)
    want = bouncekit.analyze(ev, policy="seeds", risk=False, alerts=False).decisions
    table = pa.Table.from_pandas(ev, preserve_index=False)
    stream = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=500))
    got = bouncekit.analyze(stream, policy="seeds", risk=False, alerts=False).decisions
    pd.testing.assert_frame_equal(got.drop(columns="evidence"), want.drop(columns="evidence"))
    path = tmp_path / "ev.csv"
    ev.to_csv(path, index=False)
    got = bouncekit.analyze(str(path), policy="seeds", risk=False, alerts=False, batch_rows=777).decisions
    pd.testing.assert_frame_equal(got.drop(columns="evidence"), want.drop(columns="evidence"))
    pl = pytest.importorskip("polars")
    got = bouncekit.analyze(pl.from_pandas(ev), policy="seeds", risk=False, alerts=False).decisions
    pd.testing.assert_frame_equal(got.drop(columns="evidence"), want.drop(columns="evidence"))
