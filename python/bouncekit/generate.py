"""Realistic synthetic bounce histories: many campaigns to one recipient list.

:func:`history` simulates a sender mailing a list over a few months and
returns one row per delivery attempt, the shape of an ESP's event export:

* **recipients** carry a latent state: ``valid``, ``dead`` (the address does
  not exist or was disabled; some die part-way through the period),
  ``full`` (a mailbox over quota that is never emptied) and ``disengaged``
  (delivers, never opens). Engagement (``opened``) comes from the state;
* **domains** follow a power law (a few large providers, a long tail), each
  answering in the style of its provider family (Google-, Microsoft-,
  Yahoo-like or a generic Postfix/Exim host), with the texts of
  :mod:`bouncekit.sample`;
* **campaigns** go out every few days to a varying share of the list;
* **episodes**: greylisting on some tail domains (first attempts deferred,
  retries pass), throttling by a large provider during one campaign, and a
  blocklist listing of the sending IP for about two days;
* **retries**: temporary failures are retried with back-off (up to 4
  attempts per message), each attempt a row with its ``attempt`` number.

The generator is vectorised (numpy): 10^6 events take a few seconds, most of
it formatting the diagnostic texts. Seeded: the same arguments give the same
table.

>>> from bouncekit import generate
>>> h = generate.history(2000, seed=1)
>>> len(h), list(h.columns)[:5]
(2000, ['recipient', 'campaign_id', 'ts', 'attempt', 'reply_code'])
>>> bool((h["ts"].diff().dropna() >= 0).all())   # sorted by time
True
>>> sorted(h["truth_state"].unique())
['dead', 'disengaged', 'full', 'valid']
"""

from __future__ import annotations

import string
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Sequence, Tuple

from ._lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:  # imported on first use: `import bouncekit` stays light
    np = lazy_module("numpy")

from .sample import _TEMPLATES

__all__ = ["history", "sample_history_path", "load_sample_history", "HISTORY_SAMPLE_COLUMNS", "STATES"]

#: Latent recipient states, with their share of the list.
STATES: Dict[str, float] = {"valid": 0.885, "dead": 0.025, "full": 0.012, "disengaged": 0.078}

#: Columns of :func:`history`'s table.
HISTORY_SAMPLE_COLUMNS = ("recipient", "campaign_id", "ts", "attempt", "reply_code", "enhanced_status",
                          "diagnostic", "smtp_command", "remote_host", "action", "opened",
                          "truth_category", "truth_state", "episode")

_DAY = 86_400
_START = 1_767_225_600  # 2026-01-01T00:00:00Z

# Template indices into sample._TEMPLATES per provider family and category
# (the first matching template of the family is used).
_FAMILIES = ("google", "microsoft", "yahoo", "generic")


def _tmpl(pred: str) -> int:
    for i, t in enumerate(_TEMPLATES):
        if pred in t[3]:
            return i
    raise KeyError(pred)  # pragma: no cover - the texts are fixed


_T: Dict[Tuple[str, str], int] = {}
for _fam in _FAMILIES:
    _T[(_fam, "delivered")] = _tmpl("accepted for delivery") if _fam != "microsoft" else _tmpl("Queued mail")
    _T[(_fam, "blocklisted")] = _tmpl("zen.spamhaus.org") if _fam != "microsoft" else _tmpl("S3150")
    _T[(_fam, "server_unavailable")] = _tmpl("closing transmission channel")
    _T[(_fam, "no_answer_from_host")] = _tmpl("timeout exceeded")
    _T[(_fam, "greylisted")] = _tmpl("Greylisted")
    _T[(_fam, "auth_failure")] = _tmpl("unauthenticated")
    _T[(_fam, "spam_content")] = _tmpl("content filter")
    _T[(_fam, "auto_reply")] = _tmpl("out of the office")
    _T[(_fam, "complaint")] = _tmpl("abuse report")
_T.update({
    ("google", "user_unknown"): _tmpl("does not exist. Please check"),
    ("google", "mailbox_full"): _tmpl("out of storage space. Please"),
    ("google", "mailbox_full_inactive"): _tmpl("out of storage space and inactive"),
    ("google", "mailbox_disabled"): _tmpl("is disabled."),
    ("google", "rate_limited"): _tmpl("unusual rate of mail"),
    ("microsoft", "user_unknown"): _tmpl("RESOLVER.ADR.RecipientNotFound"),
    ("microsoft", "mailbox_full"): _tmpl("over quota"),
    ("microsoft", "mailbox_full_inactive"): _tmpl("over quota"),
    ("microsoft", "mailbox_disabled"): _tmpl("Disabled recipient address"),
    ("microsoft", "rate_limited"): _tmpl("Server busy"),
    ("yahoo", "user_unknown"): _tmpl("doesn't have a"),
    ("yahoo", "mailbox_full"): _tmpl("over quota"),
    ("yahoo", "mailbox_full_inactive"): _tmpl("over quota"),
    ("yahoo", "mailbox_disabled"): _tmpl("Disabled recipient address"),
    ("yahoo", "rate_limited"): _tmpl("TSS04"),
    ("generic", "user_unknown"): _tmpl("User unknown in virtual mailbox table"),
    ("generic", "mailbox_full"): _tmpl("over quota"),
    ("generic", "mailbox_full_inactive"): _tmpl("over quota"),
    ("generic", "mailbox_disabled"): _tmpl("Disabled recipient address"),
    ("generic", "rate_limited"): _tmpl("Server busy"),
    ("generic", "bad_domain"): _tmpl("Domain not found"),
})
for _fam in ("google", "microsoft", "yahoo"):
    _T[(_fam, "bad_domain")] = _T[("generic", "bad_domain")]

_CATEGORIES = sorted({k[1] for k in _T})
_CAT_CODE = {c: i for i, c in enumerate(_CATEGORIES)}
# Temporary categories: retried.
_TRANSIENT = {"greylisted", "rate_limited", "mailbox_full", "server_unavailable", "no_answer_from_host"}

_BIG = [("gmail.com", "google"), ("outlook.com", "microsoft"), ("yahoo.com", "yahoo"),
        ("hotmail.com", "microsoft"), ("icloud.com", "generic"), ("googlemail.com", "google"),
        ("live.com", "microsoft"), ("aol.com", "yahoo")]
_TAIL_WORDS = ["mail", "post", "corp", "isp", "web", "net", "online", "home", "uni", "city"]
_TAIL_TLDS = ["example.com", "example.net", "example.org", "example.de", "example.fr", "example.jp"]


def _domains(n: int) -> Tuple[List[str], np.ndarray]:
    names = [d for d, _ in _BIG[:n]]
    fams = [_FAMILIES.index(f) for _, f in _BIG[:n]]
    k = 0
    while len(names) < n:
        names.append(f"{_TAIL_WORDS[k % len(_TAIL_WORDS)]}{k // len(_TAIL_WORDS) + 1}."
                     f"{_TAIL_TLDS[k % len(_TAIL_TLDS)]}")
        fams.append(_FAMILIES.index("generic"))
        k += 1
    return names, np.array(fams, dtype=np.int8)


def _random_tokens(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    alphabet = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789", dtype=np.uint8)
    raw = alphabet[rng.integers(0, len(alphabet), size=(n, width))]
    return np.ascontiguousarray(raw).view(f"S{width}").ravel()


def _format(template: str, fields: Dict[str, Any], rows: Any) -> Any:
    """`template` filled for the given rows (an Arrow index array) from Arrow string columns."""
    import pyarrow as pa
    import pyarrow.compute as pc
    pieces: List[Any] = []
    for literal, field, _, _ in string.Formatter().parse(template):
        if literal:
            pieces.append(literal)
        if field:
            pieces.append(fields[field].take(rows))
    if not any(isinstance(p, pa.Array) for p in pieces):
        return pa.array([template] * len(rows), type=pa.string())
    return pc.binary_join_element_wise(*pieces, "")


def history(n: int = 30_000, *, seed: int = 0, domains: int = 200, campaigns: int = 24,
            days: int = 90) -> Any:
    """About `n` delivery attempts (exactly `n` rows) as a pandas DataFrame.

    Args:
        n: rows (attempts) to produce.
        seed: random seed; the same arguments give the same table.
        domains: distinct recipient domains (power-law sized; the first
            eight are large providers).
        campaigns: campaigns sent over the period, evenly spaced.
        days: length of the period (from 2026-01-01 UTC).

    Returns:
        Columns ``recipient``, ``campaign_id`` (int64), ``ts`` (int64 epoch
        seconds), ``attempt`` (1 = first try), ``reply_code`` (nullable
        Int16), ``enhanced_status``, ``diagnostic``, ``smtp_command``,
        ``remote_host``, ``action`` (``delivered | delayed | failed``),
        ``opened`` (bool; only for deliveries), and the truth the rows were
        generated from: ``truth_category``, ``truth_state`` (the
        recipient's latent state) and ``episode`` (``greylisting |
        throttling | blocklist`` or ``''``). Sorted by ``ts``.

    >>> h = history(500, seed=3)
    >>> bool(h["attempt"].max() >= 2), h["opened"].dtype.name
    (True, 'bool')
    """
    import pandas as pd
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, not {n!r}")
    if domains < 1 or campaigns < 1 or days < 1:
        raise ValueError("domains, campaigns and days must be positive")
    dom_names, dom_family = _domains(domains)
    state_names = list(STATES)
    transient_codes = np.array([_CAT_CODE[c] for c in sorted(_TRANSIENT)])

    def simulate(sends_target: int) -> Tuple[np.ndarray, ...]:
        dom_w = 1.0 / np.arange(1, domains + 1) ** 1.15
        dom_w /= dom_w.sum()
        rng = np.random.default_rng(seed)

        # --- recipients and their latent states
        camp_share = rng.uniform(0.35, 0.75, size=campaigns)
        n_rec = max(20, int(sends_target / camp_share.sum()))
        rec_state = rng.choice(len(state_names), size=n_rec, p=np.array(list(STATES.values())))
        rec_dom = rng.choice(domains, size=n_rec, p=dom_w)
        # Some valid addresses die part-way (abandoned accounts): from death_day on they bounce hard.
        death_day = np.full(n_rec, np.inf)
        dies = (rec_state == state_names.index("valid")) & (rng.random(n_rec) < 0.04)
        death_day[dies] = rng.uniform(0, days, size=int(dies.sum()))
        rec_state[dies] = state_names.index("dead")
        death_day[(rec_state == state_names.index("dead")) & ~dies] = -1.0
        # Dead addresses: mostly unknown users, some disabled mailboxes, a few dead domains.
        dead_kind = rng.choice(3, size=n_rec, p=[0.75, 0.2, 0.05])
        open_p = np.where(rec_state == state_names.index("valid"), rng.beta(2, 5, size=n_rec), 0.0)
        local = _random_tokens(rng, n_rec, 8).astype(str)
        rec_addr = np.array([f"{u}.{i}@{dom_names[d]}" for i, (u, d) in enumerate(zip(local, rec_dom))], dtype=object)

        # --- campaigns and first attempts
        camp_day = np.linspace(0, days - 1, campaigns)
        # Each campaign goes to its share of the list (one message per recipient).
        key = np.flatnonzero((rng.random((campaigns, n_rec)) < camp_share[:, None]).ravel())
        camp_of = (key // n_rec).astype(np.int64)
        rec_of = (key % n_rec).astype(np.int64)
        s = len(key)
        ts = (_START + (camp_day[camp_of] * _DAY).astype(np.int64) + 9 * 3600
              + rng.integers(0, 6 * 3600, size=s))
        day_of = (ts - _START) / _DAY
        dom_of = rec_dom[rec_of]
        fam_of = dom_family[dom_of]
        st = rec_state[rec_of]

        # --- episodes (domain x time windows)
        episode = np.zeros(s, dtype=np.int8)  # 0 none, 1 greylisting, 2 throttling, 3 blocklist
        grey_doms = rng.choice(np.arange(8, domains), size=min(max(1, (domains - 8) // 8), max(domains - 8, 0)),
                               replace=False) if domains > 8 else np.array([], dtype=np.int64)
        grey_start = rng.uniform(0, days * 0.6)
        is_grey = np.isin(dom_of, grey_doms) & (day_of >= grey_start) & (day_of < grey_start + days * 0.3)
        throttle_camp = int(rng.integers(campaigns // 3, max(campaigns // 3 + 1, campaigns)))
        throttle_dom = int(rng.integers(0, min(3, domains)))
        is_throttle = (camp_of == throttle_camp) & (dom_of == throttle_dom) & (rng.random(s) < 0.45)
        # The listing starts shortly before a campaign in the middle of the period.
        block_camp = int(rng.integers(campaigns // 5, max(campaigns // 5 + 1, 4 * campaigns // 5)))
        block_day = camp_day[block_camp] - rng.uniform(0.0, 1.0)
        listed = (day_of >= block_day) & (day_of < block_day + 2.0)
        uses_list = (fam_of == _FAMILIES.index("generic")) | (fam_of == _FAMILIES.index("microsoft"))
        is_block = listed & uses_list & (rng.random(s) < 0.6)

        # --- outcome of each first attempt
        cat = np.full(s, _CAT_CODE["delivered"], dtype=np.int16)
        dead_now = np.isfinite(death_day[rec_of]) & (day_of >= death_day[rec_of])
        dk = dead_kind[rec_of]
        cat[dead_now & (dk == 0)] = _CAT_CODE["user_unknown"]
        cat[dead_now & (dk == 1)] = _CAT_CODE["mailbox_disabled"]
        cat[dead_now & (dk == 2)] = _CAT_CODE["bad_domain"]
        full = st == state_names.index("full")
        cat[full] = _CAT_CODE["mailbox_full"]
        # Long-full Google mailboxes are eventually reported as inactive (hard).
        cat[full & (fam_of == 0) & (day_of > days * 0.7)] = _CAT_CODE["mailbox_full_inactive"]
        ok = cat == _CAT_CODE["delivered"]
        u = rng.random(s)
        noise = [("server_unavailable", 0.004), ("no_answer_from_host", 0.004), ("spam_content", 0.002),
                 ("auth_failure", 0.001), ("auto_reply", 0.003), ("complaint", 0.0008)]
        lo = 0.0
        for name, p in noise:
            cat[ok & (u >= lo) & (u < lo + p)] = _CAT_CODE[name]
            lo += p
        ok = cat == _CAT_CODE["delivered"]
        cat[ok & is_grey] = _CAT_CODE["greylisted"]
        episode[ok & is_grey] = 1
        cat[~dead_now & is_throttle] = _CAT_CODE["rate_limited"]
        episode[~dead_now & is_throttle] = 2
        cat[is_block] = _CAT_CODE["blocklisted"]
        episode[is_block] = 3

        # --- retries of temporary failures (vectorised per attempt number)
        rows_rec, rows_camp, rows_ts, rows_cat, rows_att, rows_ep = [rec_of], [camp_of], [ts], [cat], \
            [np.ones(s, dtype=np.int8)], [episode]
        cur = np.flatnonzero(np.isin(cat, transient_codes))
        prev_ts, prev_cat, prev_ep = ts[cur], cat[cur], episode[cur]
        delays = [15 * 60, 2 * 3600, 8 * 3600]
        for k, delay in enumerate(delays, start=2):
            if not len(cur):
                break
            r_ts = prev_ts + delay + rng.integers(0, delay // 4, size=len(cur))
            r_cat = prev_cat.copy()
            v = rng.random(len(cur))
            g = prev_cat == _CAT_CODE["greylisted"]
            r_cat[g] = _CAT_CODE["delivered"]  # greylisting lets the retry through
            rl = prev_cat == _CAT_CODE["rate_limited"]
            r_cat[rl & (v < 0.75)] = _CAT_CODE["delivered"]
            other = np.isin(prev_cat, [_CAT_CODE["server_unavailable"], _CAT_CODE["no_answer_from_host"]])
            r_cat[other & (v < 0.8)] = _CAT_CODE["delivered"]
            if k == len(delays) + 1:  # last attempt: the MTA gives up on what still fails
                pass
            r_ep = np.where(r_cat == _CAT_CODE["delivered"], 0, prev_ep).astype(np.int8)
            rows_rec.append(rec_of[cur])
            rows_camp.append(camp_of[cur])
            rows_ts.append(r_ts)
            rows_cat.append(r_cat)
            rows_att.append(np.full(len(cur), k, dtype=np.int8))
            rows_ep.append(r_ep)
            again = np.isin(r_cat, transient_codes)
            cur, prev_ts, prev_cat, prev_ep = cur[again], r_ts[again], r_cat[again], r_ep[again]

        e_rec = np.concatenate(rows_rec)
        e_camp = np.concatenate(rows_camp)
        e_ts = np.concatenate(rows_ts)
        e_cat = np.concatenate(rows_cat)
        e_att = np.concatenate(rows_att)
        e_ep = np.concatenate(rows_ep)
        return (rec_addr, rec_dom, rec_state, open_p, e_rec, e_camp, e_ts, e_cat, e_att, e_ep)

    # Two passes: the first measures how many attempts a send makes here.
    first = simulate(n)
    target = int(np.ceil(n * n / len(first[4]) * 1.01)) + 10
    sim = simulate(target)
    while len(sim[4]) < n:  # pragma: no cover - rare; grow until there are enough
        target = int(target * 1.1) + 10
        sim = simulate(target)
    rec_addr, rec_dom, rec_state, open_p, e_rec, e_camp, e_ts, e_cat, e_att, e_ep = sim
    # By time; the export window ends after n attempts.
    order = np.lexsort((e_att, e_rec, e_ts))[:n]
    e_rec, e_camp, e_ts, e_cat, e_att, e_ep = (a[order] for a in (e_rec, e_camp, e_ts, e_cat, e_att, e_ep))
    rng = np.random.default_rng([seed, 1])
    e_dom = rec_dom[e_rec]
    e_fam = dom_family[e_dom]

    # --- texts: per (family, category) template, fields filled per row by
    # Arrow's string kernels (no Python loop over rows).
    import pyarrow as pa
    import pyarrow.compute as pc
    rec_arr = pa.array(rec_addr, type=pa.string())
    idx = pa.array(e_rec)
    addr = rec_arr.take(idx)
    dom_arr = pa.array(dom_names, type=pa.string()).take(pa.array(e_dom))
    ips = pa.array([f"192.0.2.{i}" for i in range(256)]).take(pa.array(rng.integers(1, 255, size=n)))
    mx = rng.integers(1, 9, size=n)
    host_names = pa.array([f"mx{m}.{d}" for d in dom_names for m in range(1, 9)])
    host = host_names.take(pa.array(e_dom.astype(np.int64) * 8 + (mx - 1)))
    qid = pa.array(_random_tokens(rng, n, 12), type=pa.binary(12)).cast(pa.string())
    num = pc.cast(pa.array(rng.integers(100, 999, size=n)), pa.string())
    fields = {"addr": addr, "ip": ips, "host": host, "id": qid, "dom": dom_arr, "n": num}
    code = np.zeros(n, dtype=np.int16)
    lut = np.full((len(_FAMILIES), len(_CATEGORIES)), -1, dtype=np.int32)
    for (fam, c), ti in _T.items():
        lut[_FAMILIES.index(fam), _CAT_CODE[c]] = ti
    tidx = lut[e_fam, e_cat]
    chunks: List[Any] = []
    positions: List[np.ndarray] = []
    for ti in np.unique(tidx):
        sel = np.flatnonzero(tidx == ti)
        tmpl = _TEMPLATES[int(ti)][3]
        code[sel] = _TEMPLATES[int(ti)][1]
        chunks.append(_format(tmpl, fields, pa.array(sel)))
        positions.append(sel)
    back = np.empty(n, dtype=np.int64)
    back[np.concatenate(positions)] = np.arange(n)
    diag = pa.chunked_array(chunks, type=pa.string()).combine_chunks().take(pa.array(back))
    status_names = sorted({t[2] for t in _TEMPLATES})
    status_code = np.array([status_names.index(t[2]) for t in _TEMPLATES], dtype=np.int32)[tidx]
    cmd_names = sorted({t[5] for t in _TEMPLATES})
    cmd_code = np.array([cmd_names.index(t[5]) for t in _TEMPLATES], dtype=np.int32)[tidx]
    cat_names = np.array(_CATEGORIES, dtype=object)[e_cat]
    transient = np.isin(e_cat, transient_codes)
    delivered = e_cat == _CAT_CODE["delivered"]
    action = np.where(delivered, 0, np.where(transient, 1, 2))
    # Opens: a share of deliveries to engaged recipients.
    opened = delivered & (rng.random(n) < open_p[e_rec])
    # Some senders log only the text: no parsed code / status on 5% of failures.
    drop = ~delivered & (rng.random(n) < 0.05)
    status_code[drop] = status_names.index("")

    def text(codes: np.ndarray, names: Sequence[str]) -> Any:
        return pa.array(list(names), type=pa.string()).take(pa.array(codes))

    table = pa.table({
        "recipient": addr,
        "campaign_id": pa.array(e_camp.astype(np.int64) + 1),
        "ts": pa.array(e_ts.astype(np.int64)),
        "attempt": pa.array(e_att.astype(np.int8)),
        "reply_code": pa.array(code, mask=(code == 0) | drop),
        "enhanced_status": text(status_code, status_names),
        "diagnostic": diag,
        "smtp_command": text(cmd_code, cmd_names),
        "remote_host": host,
        "action": text(action, ["delivered", "delayed", "failed"]),
        "opened": pa.array(opened),
        "truth_category": text(e_cat, _CATEGORIES),
        "truth_state": text(rec_state[e_rec], state_names),
        "episode": text(e_ep, ["", "greylisting", "throttling", "blocklist"]),
    })
    df = table.to_pandas()
    df["reply_code"] = df["reply_code"].astype("Int16")
    return df


def sample_history_path() -> Path:
    """The history shipped with the package (30,000 attempts, Parquet)."""
    return Path(str(resources.files("bouncekit") / "data" / "sample_history.parquet"))


def load_sample_history() -> Any:
    """The bundled history as a pandas DataFrame.

    >>> h = load_sample_history()
    >>> len(h), int(h["campaign_id"].nunique())
    (30000, 24)
    """
    import pandas as pd
    return pd.read_parquet(sample_history_path())
