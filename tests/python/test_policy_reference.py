"""The C++ policy engine against a plain-Python reference of the same rules.

The reference keeps every event (no pruning, no caps) and follows the
semantics in policy.h literally; random policies and long random histories
(hundreds of soft bounces per recipient, so the engine's pruning runs) must
give the same decisions and evidence.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import pytest

import bouncekit
from bouncekit import Policy, Rule

GREY, SENDER, ENGAGED = 1, 2, 4
SOFT_KINDS = ("soft_streak", "soft_window", "soft_total")
STRENGTH = {"monitor": 1, "pause": 2, "suppress": 3}


def reference(policy: Dict[str, Any], events: List[Tuple[str, int, int, int, str, int]]) -> Dict[str, Any]:
    """events: (recipient, campaign, ts, row, class, flags) -> decision per recipient."""
    rules = policy["rules"]
    spacing = int(round(policy.get("min_spacing_hours", 0) * 3600))
    grey_exempt = policy.get("greylist_exempt", False)
    grace = int(round(policy.get("greylist_grace_hours", 72) * 3600))
    by: Dict[str, List[Tuple[str, int, int, int, str, int]]] = {}
    for e in events:
        by.setdefault(e[0], []).append(e)
    out: Dict[str, Any] = {}
    for rec, evs in by.items():
        evs.sort(key=lambda e: (e[2], e[3]))
        st: Dict[str, Any] = dict(n=0, softs=[], hards=[], comps=[], pending=[], sseq=0, hseq=0, cseq=0, streak=0,
                                  last=None, engaged=False, action=None, since=[0] * len(rules))

        def decide(i: int, t: int, ev: List[Tuple[int, int, int, str]]) -> None:
            r = rules[i]
            spent = st["sseq"] if r["kind"] in SOFT_KINDS else (st["hseq"] if r["kind"] == "hard" else st["cseq"])
            if r["action"] == "monitor" and st["action"] is not None and st["action"][0] == "pause" \
                    and t < st["action"][3]:
                st["since"][i] = spent
                return
            until = t + int(round(r["pause_days"] * 86400)) if r["action"] == "pause" else 0
            prev = st["action"][5] if st["action"] else 0
            st["action"] = (r["action"], i, t, until, st["n"], prev + 1, ev[-64:])
            if r["action"] != "suppress":
                st["since"][i] = spent

        def eval_soft(t: int) -> None:
            if st["action"] and st["action"][0] == "suppress":
                return
            for i, r in enumerate(rules):
                if r["kind"] not in SOFT_KINDS:
                    continue
                frm = st["since"][i]
                if r["kind"] == "soft_streak":
                    frm = max(frm, st["streak"])
                win = int(round(r.get("window_days", 0) * 86400))
                ev = [s for s in st["softs"] if s[0] > frm and (r["kind"] != "soft_window" or t - win < s[1] <= t)]
                n = len({s[2] for s in ev}) if r.get("distinct_campaigns") else len(ev)
                need = r["count_engaged"] if st["engaged"] and r.get("count_engaged") else r["count"]
                if n >= need:
                    decide(i, t, [(s[3], s[1], s[2], "soft") for s in ev])
                    return

        def eval_other(kind: str, t: int) -> None:
            if st["action"] and st["action"][0] == "suppress":
                return
            lst = st["hards"] if kind == "hard" else st["comps"]
            for i, r in enumerate(rules):
                if r["kind"] != kind:
                    continue
                ev = [h for h in lst if h[0] > st["since"][i] and (kind != "hard" or r.get("blame") == "any" or not h[4])]
                if len(ev) >= r["count"]:
                    decide(i, t, [(h[3], h[1], h[2], kind) for h in ev])
                    return

        def count_soft(camp: int, ts: int, row: int) -> None:
            if spacing > 0 and st["last"] is not None and ts - st["last"] < spacing:
                return
            st["last"] = ts if st["last"] is None else max(st["last"], ts)
            st["sseq"] += 1
            st["softs"].append((st["sseq"], ts, camp, row))
            eval_soft(ts)

        for _, camp, ts, row, cls, flags in evs:
            st["n"] += 1
            if flags & ENGAGED:
                st["engaged"] = True
            if st["pending"]:
                still = []
                for p in st["pending"]:
                    if ts - p[1] >= grace:
                        count_soft(p[0], p[1], p[2])
                    elif not (cls == "delivered" and p[0] == camp):
                        still.append(p)
                st["pending"] = still
            if cls == "delivered":
                st["streak"] = st["sseq"]
            elif cls == "soft":
                if grey_exempt and flags & GREY:
                    if len(st["pending"]) < 64:
                        st["pending"].append((camp, ts, row))
                    else:
                        count_soft(camp, ts, row)
                else:
                    count_soft(camp, ts, row)
            elif cls in ("hard", "complaint"):
                key = "hards" if cls == "hard" else "comps"
                seq = "hseq" if cls == "hard" else "cseq"
                st[seq] += 1
                st[key].append((st[seq], ts, camp, row, bool(flags & SENDER)))
                eval_other(cls, ts)
        if st["action"] is not None:
            out[rec] = st["action"]
    return out


def random_policy(rng: np.random.Generator) -> Dict[str, Any]:
    rules = []
    for _ in range(int(rng.integers(1, 5))):
        kind = str(rng.choice(["hard", "complaint", "soft_streak", "soft_window", "soft_total"]))
        r: Dict[str, Any] = {"kind": kind, "count": int(rng.choice([1, 2, 3, 5, 8, 64]))}
        action = str(rng.choice(["suppress", "pause", "monitor"]))
        r["action"] = action
        if action == "pause":
            r["pause_days"] = float(rng.choice([1, 7, 30]))
        if kind == "soft_window":
            r["window_days"] = float(rng.choice([0.5, 3, 30, 365]))
        if kind in SOFT_KINDS:
            r["distinct_campaigns"] = bool(rng.random() < 0.5)
            if rng.random() < 0.3:
                r["count_engaged"] = int(rng.choice([2, 10, 64]))
        if kind == "hard" and rng.random() < 0.5:
            r["blame"] = "any"
        r["name"] = f"r{len(rules)}"
        rules.append(r)
    return {"name": "random", "rules": rules, "min_spacing_hours": float(rng.choice([0, 0, 6, 24])),
            "greylist_exempt": bool(rng.random() < 0.5), "greylist_grace_hours": float(rng.choice([1, 72]))}


def random_events(rng: np.random.Generator, n: int) -> List[Tuple[str, int, int, int, str, int]]:
    out = []
    # A few recipients get long histories (hundreds of soft bounces) so that pruning runs.
    recips = [f"r{i}@x" for i in range(25)]
    weights = np.array([30.0] * 3 + [1.0] * 22)
    weights /= weights.sum()
    classes = ["soft"] * 6 + ["delivered"] * 2 + ["hard", "block", "complaint", "other"]
    for row in range(n):
        rec = recips[int(rng.choice(len(recips), p=weights))]
        cls = classes[int(rng.integers(0, len(classes)))]
        if cls in ("hard", "complaint") and rng.random() < 0.7:
            cls = "soft"
        flags = 0
        if rng.random() < 0.15:
            flags |= GREY
        if rng.random() < 0.2:
            flags |= SENDER
        if rng.random() < 0.03:
            flags |= ENGAGED
        out.append((rec, int(rng.integers(0, 150)), int(rng.integers(0, 200)) * 7200, row, cls, flags))
    return out


@pytest.mark.parametrize("seed", range(20))
def test_engine_equals_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    policy_doc = random_policy(rng)
    events = random_events(rng, 6000)
    want = reference(policy_doc, events)
    policy = Policy.from_dict(policy_doc)
    engine = bouncekit._core.PolicyEngine(policy._core)
    import pyarrow as pa
    codes = {n: i for i, n in enumerate(bouncekit._core.POLICY_CLASSES)}
    engine.add({"recipient": pa.array([e[0] for e in events]).__arrow_c_array__(),
                "campaign_id": pa.array([e[1] for e in events], pa.int64()).__arrow_c_array__(),
                "ts": pa.array([e[2] for e in events], pa.int64()).__arrow_c_array__(),
                "klass": np.array([codes[e[4]] for e in events], dtype=np.uint8),
                "flags": np.array([e[5] for e in events], dtype=np.uint8)}, len(events))
    engine.run()
    d = engine.decisions()
    got: Dict[str, Any] = {}
    off = d["evidence_offsets"]
    for i, rec in enumerate(d["recipient"]):
        ev = [(int(d["evidence_row"][k]), int(d["evidence_ts"][k]), int(d["evidence_campaign_id"][k]),
               bouncekit._core.POLICY_CLASSES[int(d["evidence_class"][k])]) for k in range(int(off[i]), int(off[i + 1]))]
        got[rec] = (bouncekit._core.POLICY_ACTIONS[int(d["action"][i])], int(d["rule"][i]), int(d["decided_at"][i]),
                    int(d["until"][i]), int(d["event_number"][i]), int(d["decisions"][i]), ev)
    assert got.keys() == want.keys(), policy_doc
    for rec in want:
        assert got[rec] == want[rec], (rec, policy_doc)
    assert want, "the random history decided nothing: the test would prove little"


def _engine_decisions(engine: Any) -> Dict[str, Any]:
    d = engine.decisions()
    off = d["evidence_offsets"]
    return {rec: (int(d["action"][i]), int(d["rule"][i]), int(d["decided_at"][i]), int(d["until"][i]),
                  int(d["event_number"][i]), int(d["decisions"][i]),
                  d["evidence_row"][int(off[i]):int(off[i + 1])].tolist())
            for i, rec in enumerate(d["recipient"])}


def _add(engine: Any, events: List[Tuple[str, int, int, int, str, int]]) -> None:
    import pyarrow as pa
    codes = {n: i for i, n in enumerate(bouncekit._core.POLICY_CLASSES)}
    engine.add({"recipient": pa.array([e[0] for e in events], pa.string()).__arrow_c_array__(),
                "campaign_id": pa.array([e[1] for e in events], pa.int64()).__arrow_c_array__(),
                "ts": pa.array([e[2] for e in events], pa.int64()).__arrow_c_array__(),
                "klass": np.array([codes[e[4]] for e in events], dtype=np.uint8),
                "flags": np.array([e[5] for e in events], dtype=np.uint8)}, len(events))


@pytest.mark.parametrize("seed", range(100, 110))
def test_runs_through_saved_state_equal_one_run(seed: int) -> None:
    """Random policies: 7 runs with the state serialised in between == one run
    (events in time order, so no day holds an event older than the last)."""
    rng = np.random.default_rng(seed)
    policy = Policy.from_dict(random_policy(rng))
    events = sorted(random_events(rng, 5000), key=lambda e: (e[2], e[3]))
    once = bouncekit._core.PolicyEngine(policy._core)
    _add(once, events)
    once.run()
    state: Optional[bytes] = None
    cuts = np.linspace(0, len(events), 8).astype(int)
    for a, b in zip(cuts[:-1], cuts[1:]):
        e = (bouncekit._core.PolicyEngine(policy._core) if state is None
             else bouncekit._core.PolicyEngine.from_state_bytes(policy._core, state))
        _add(e, events[a:b])
        e.run()
        state = e.state_bytes()
    assert state is not None
    final = bouncekit._core.PolicyEngine.from_state_bytes(policy._core, state)
    assert _engine_decisions(final) == _engine_decisions(once)
    assert final.summary() == once.summary()
    assert final.state_bytes() == once.state_bytes()
