"""Declarative suppression policies over bounce histories, with explanations.

A :class:`Policy` is data: rules with a kind, a threshold and an action,
built in Python, loaded from a TOML (or YAML / JSON) file, or taken from the
presets in :data:`PRESETS`. :func:`analyze` applies one to a history of
delivery events and returns an :class:`Analysis`: the decision per
recipient with the events behind it, a risk score per recipient, domain and
campaign, spike alerts per campaign x domain, the SPEC W3 aggregates and an
input summary that accounts for every row. :class:`PolicyRunner` does the
same run by run (daily batches) with a saved state.

Rule kinds: ``hard`` (recipient-blame hard bounces; ``blame="any"`` also
counts sender-blame ones), ``complaint``, ``soft_streak`` (since the last
delivery), ``soft_window`` (trailing ``window_days``), ``soft_total`` (ever).
Soft rules may count ``distinct_campaigns`` and take a higher
``count_engaged`` for recipients with engagement. Policy-wide:
``min_spacing_hours`` between counted soft bounces, ``greylist_exempt``
(deferrals later delivered never count). Actions: ``suppress``, ``pause``
(``pause_days``), ``monitor``. Blocks (sender blame) never suppress.

>>> import bouncekit
>>> p = bouncekit.Policy("two_strikes", [bouncekit.Rule("hard"),
...                                      bouncekit.Rule("soft_total", count=2, action="pause", pause_days=7)])
>>> events = {"recipient": ["a@x.org", "a@x.org", "b@x.org"], "campaign_id": [1, 2, 1],
...           "ts": [0, 86400, 0], "bounce_class": ["soft", "soft", "hard"]}
>>> r = bouncekit.analyze(events, policy=p, risk=False, alerts=False)
>>> r.decisions[["recipient", "action", "rule", "decided_at", "until"]].values.tolist()
[['a@x.org', 'pause', 'soft_total', 86400, 691200], ['b@x.org', 'suppress', 'hard', 0, 0]]
>>> print(r.explain("b@x.org"))  # doctest: +ELLIPSIS
b@x.org: suppress by rule 'hard' (hard) at 1970-01-01 00:00:00 UTC, event 1 of 1
  evidence: row 2 1970-01-01 00:00:00 UTC campaign 1 hard
...
"""

from __future__ import annotations

import datetime as _dt
import html
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from ._lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
else:
    np = lazy_module("numpy")
    pa = lazy_module("pyarrow")
    pc = lazy_module("pyarrow.compute")  # imported on first use: the W2/W3 paths never need it

from . import _core
from ._progress import progress_bar
from ._tables import _normalise_string, read_input
from .errors import FailedPreconditionError, InvalidArgumentError, NotFoundError
from .history import _int64_column

__all__ = [
    "PRESETS",
    "RULE_KINDS",
    "ACTIONS",
    "EVENT_CLASS_ALIASES",
    "Rule",
    "Policy",
    "load_policy",
    "PolicyRunner",
    "Analysis",
    "analyze",
]

#: Built-in policies (python/bouncekit/data/policies/<name>.toml; each names its source).
PRESETS = ("standard", "seeds", "mailchimp", "listmonk", "ses", "conservative", "aggressive")
#: Rule kinds.
RULE_KINDS = ("hard", "complaint", "soft_streak", "soft_window", "soft_total")
#: Actions, weakest first.
ACTIONS = ("monitor", "pause", "suppress")

_POLICY_DIR = Path(__file__).resolve().parent / "data" / "policies"
_CLASS_NAMES = tuple(_core.POLICY_CLASSES)  # code -> name
_ACTION_NAMES = tuple(_core.POLICY_ACTIONS)
_INVALID = int(_core.POLICY_INVALID_CLASS)

#: Accepted ``bounce_class`` values (lower-cased, trimmed) and the class they mean:
#: bouncekit's own names plus common ESP export vocabularies (SES bounceType,
#: SendGrid event names, ...). Anything else is an invalid row.
EVENT_CLASS_ALIASES: Dict[str, str] = {
    "delivered": "delivered", "delivery": "delivered", "sent": "delivered", "success": "delivered",
    "soft": "soft", "soft_bounce": "soft", "softbounce": "soft", "transient": "soft", "deferred": "soft",
    "deferral": "soft", "temporary": "soft",
    "hard": "hard", "hard_bounce": "hard", "hardbounce": "hard", "permanent": "hard", "bounce": "hard",
    "bounced": "hard",
    "block": "block", "blocked": "block",
    "complaint": "complaint", "spamreport": "complaint", "spam_report": "complaint", "complained": "complaint",
    "abuse": "complaint",
    "unknown": "other", "undetermined": "other", "other": "other", "dropped": "other",
    "auto_reply": "other", "autoreply": "other", "auto-reply": "other",
}
_CLASS_CODE = {name: i for i, name in enumerate(_CLASS_NAMES)}
_SENDER_CATEGORIES = frozenset({"blocked", "blocklisted", "auth_failure", "spam_content", "policy", "rate_limited",
                                "bad_reputation"})
PathLike = Union[str, "os.PathLike[str]"]


# ------------------------------------------------------------------ policies

@dataclass(frozen=True)
class Rule:
    """One rule of a :class:`Policy` (see the module docs for the kinds).

    >>> Rule("soft_window", count=3, window_days=30).to_dict()
    {'kind': 'soft_window', 'count': 3, 'action': 'suppress', 'window_days': 30}
    """

    kind: str
    count: int = 1
    action: str = "suppress"
    name: Optional[str] = None
    count_engaged: Optional[int] = None
    distinct_campaigns: bool = False
    window_days: Optional[float] = None
    pause_days: Optional[float] = None
    blame: Optional[str] = None

    def to_dict(self) -> Dict[str, Any]:
        """The rule as plain data (what a policy file holds)."""
        d: Dict[str, Any] = {"kind": self.kind, "count": self.count, "action": self.action}
        for k in ("name", "count_engaged", "window_days", "pause_days", "blame"):
            v = getattr(self, k)
            if v is not None:
                d[k] = v
        if self.distinct_campaigns:
            d["distinct_campaigns"] = True
        return d


class Policy:
    """A validated suppression policy.

    Args:
        name: the policy's name.
        rules: :class:`Rule` objects or dicts; the first rule that holds at an
            event decides.
        description, source: free text (``source``: where the thresholds come from).
        min_spacing_hours: soft bounces closer than this to the previous
            counted one do not count.
        greylist_exempt: greylisting deferrals count only when no delivery of
            their campaign follows within ``greylist_grace_hours``.

    Errors (:class:`bouncekit.InvalidArgumentError`) name the field, e.g.
    ``rules[1].window_days``:

    >>> from bouncekit import InvalidArgumentError
    >>> try:
    ...     Policy("bad", [Rule("soft_window", count=3, window_days=-1)])
    ... except InvalidArgumentError as e:
    ...     print(e.field)
    rules[0].window_days
    """

    def __init__(self, name: str, rules: Sequence[Union[Rule, Mapping[str, Any]]], *, description: str = "",
                 source: str = "", min_spacing_hours: float = 0, greylist_exempt: bool = False,
                 greylist_grace_hours: float = 72) -> None:
        doc: Dict[str, Any] = {
            "name": name, "description": description, "source": source, "min_spacing_hours": min_spacing_hours,
            "greylist_exempt": greylist_exempt, "greylist_grace_hours": greylist_grace_hours,
            "rules": [r.to_dict() if isinstance(r, Rule) else dict(r) for r in rules],
        }
        self._core = _core.policy_from_config(doc, "")

    @classmethod
    def _wrap(cls, core: Any) -> "Policy":
        p = cls.__new__(cls)
        p._core = core
        return p

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "") -> "Policy":
        """A policy from plain data (the layout of a policy file)."""
        return cls._wrap(_core.policy_from_config(dict(data), source))

    @classmethod
    def from_toml(cls, text: str, *, source: str = "") -> "Policy":
        """A policy from TOML text; errors carry the line and the field.

        >>> Policy.from_toml('name = "h"\\n[[rules]]\\nkind = "hard"\\n').rules
        [Rule(kind='hard', count=1, action='suppress', name='hard', count_engaged=None, distinct_campaigns=False, window_days=None, pause_days=None, blame='recipient')]
        """
        return cls._wrap(_core.policy_from_toml(text, source))

    @classmethod
    def load(cls, path: PathLike) -> "Policy":
        """A policy file: ``.toml``, ``.yaml``/``.yml`` (needs PyYAML) or ``.json``."""
        p = Path(path)
        if not p.exists():
            raise NotFoundError(f"{p}: no such policy file", source=str(p))
        text = p.read_text(encoding="utf-8")
        suffix = p.suffix.lower()
        if suffix == ".toml":
            return cls.from_toml(text, source=str(p))
        if suffix in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError:
                raise InvalidArgumentError(f"{p}: reading YAML policies needs PyYAML (pip install pyyaml)",
                                           source=str(p)) from None
            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError as e:
                raise InvalidArgumentError(f"{p}: not valid YAML: {e}", source=str(p)) from None
            return cls._wrap(_core.policy_from_config(data, str(p)))
        if suffix == ".json":
            import json
            try:
                data = json.loads(text)
            except ValueError as e:
                raise InvalidArgumentError(f"{p}: not valid JSON: {e}", source=str(p)) from None
            return cls._wrap(_core.policy_from_config(data, str(p)))
        raise InvalidArgumentError(f"{p}: policy files are .toml, .yaml, .yml or .json", source=str(p))

    @classmethod
    def preset(cls, name: str) -> "Policy":
        """A built-in policy (:data:`PRESETS`).

        >>> Policy.preset("mailchimp").rules[-1].count_engaged
        15
        """
        if name not in PRESETS:
            raise NotFoundError(f"unknown policy preset {name!r} (known: {', '.join(PRESETS)})", field="policy")
        return cls.load(_POLICY_DIR / f"{name}.toml")

    def to_dict(self) -> Dict[str, Any]:
        """The policy as plain data (durations in hours and days)."""
        d: Dict[str, Any] = self._core.to_dict()
        return d

    @property
    def name(self) -> str:
        """The policy's name."""
        return str(self._core.name)

    @property
    def description(self) -> str:
        """What the policy does, in words."""
        return str(self.to_dict()["description"])

    @property
    def source(self) -> str:
        """Where its thresholds come from."""
        return str(self.to_dict()["source"])

    @property
    def rules(self) -> List[Rule]:
        """The rules, in order."""
        out = []
        for r in self.to_dict()["rules"]:
            out.append(Rule(kind=r["kind"], count=r["count"], action=r["action"], name=r["name"],
                            count_engaged=r.get("count_engaged"), distinct_campaigns=bool(r.get("distinct_campaigns")),
                            window_days=r.get("window_days"), pause_days=r.get("pause_days"), blame=r.get("blame")))
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Policy) and self._core.fingerprint == other._core.fingerprint

    def __hash__(self) -> int:
        return hash(self._core.fingerprint)

    def __repr__(self) -> str:
        return f"Policy({self.name!r}, {len(self.rules)} rules)"

    def _repr_html_(self) -> str:
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in
                             (r.name, r.kind, r.count, r.count_engaged or "", "yes" if r.distinct_campaigns else "",
                              r.window_days or "", r.action, r.pause_days or "")) + "</tr>" for r in self.rules)
        head = "".join(f"<th>{h}</th>" for h in ("rule", "kind", "count", "engaged", "distinct campaigns",
                                                  "window days", "action", "pause days"))
        return (f"<b>{html.escape(self.name)}</b>: {html.escape(self.description)}<br><i>source: "
                f"{html.escape(self.source)}</i><table><tr>{head}</tr>{rows}</table>")


def load_policy(policy: Union[str, PathLike, Policy, Mapping[str, Any]]) -> Policy:
    """A preset name, a policy file path, a dict or a :class:`Policy` -> a :class:`Policy`.

    >>> load_policy("seeds").name
    'seeds'
    """
    if isinstance(policy, Policy):
        return policy
    if isinstance(policy, Mapping):
        return Policy.from_dict(policy)
    if isinstance(policy, str) and policy in PRESETS:
        return Policy.preset(policy)
    if isinstance(policy, (str, os.PathLike)):
        p = Path(policy)
        if p.suffix.lower() in (".toml", ".yaml", ".yml", ".json"):
            return Policy.load(p)
        raise NotFoundError(f"unknown policy {str(policy)!r}: not a preset ({', '.join(PRESETS)}) nor a policy file",
                            field="policy")
    raise InvalidArgumentError(f"policy must be a preset name, a file, a dict or a Policy, not {type(policy).__name__}",
                               field="policy")


# ------------------------------------------------------------------- input

#: Columns the policy engine reads (recipient, campaign_id and ts always; a
#: class column or the raw reply fields; the rest optional).
INPUT_COLUMNS = ("recipient", "campaign_id", "ts", "bounce_class", "category", "blame", "reply_code",
                 "enhanced_status", "diagnostic", "engaged")
_TS_FORMATS_HINT = "integer epoch seconds, a timestamp column, or ISO 8601 text"


def _ts_column(arr: pa.Array, first_row: int, on_invalid: str) -> Tuple[pa.Array, int]:
    """Epoch seconds (int64, nulls kept) and the number of unparsable values."""
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.dictionary_decode()
        t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        import pandas as pd
        s = pd.Series(arr.to_pylist(), dtype="object")
        parsed = pd.to_datetime(s, errors="coerce", utc=True, format="mixed")
        bad = np.flatnonzero(parsed.isna().to_numpy() & s.notna().to_numpy() & (s.astype(str).str.strip() != "").to_numpy())
        if len(bad) and on_invalid == "raise":
            row = first_row + int(bad[0])
            raise InvalidArgumentError(f"column 'ts' row {row}: cannot parse {s.iloc[int(bad[0])]!r} as a time "
                                       f"({_TS_FORMATS_HINT}); {len(bad)} such rows in this batch",
                                       column="ts", row=row)
        secs = parsed.to_numpy(dtype="datetime64[ns]").astype("int64") // 1_000_000_000
        mask = parsed.isna().to_numpy()
        return pa.array(np.where(mask, 0, secs), mask=mask, type=pa.int64()), len(bad)
    if pa.types.is_date(t):
        return pc.cast(pc.cast(arr, pa.timestamp("s")), pa.int64()), 0
    if pa.types.is_timestamp(t) and t.tz is not None:
        arr = arr.cast(pa.timestamp(t.unit))
    try:
        return _int64_column(arr, "ts", first_row), 0
    except InvalidArgumentError as e:
        raise InvalidArgumentError(f"{e.message}; ts must be {_TS_FORMATS_HINT}", column="ts", row=e.row) from None


def _class_codes(arr: pa.Array, first_row: int, on_invalid: str) -> Tuple[np.ndarray, List[str]]:
    """bounce_class text -> policy class codes (unrecognised: invalid) and the
    canonical names of the dictionary used."""
    arr = _normalise_string(arr, "bounce_class") if not pa.types.is_dictionary(arr.type) else arr
    d = arr if pa.types.is_dictionary(arr.type) else pc.dictionary_encode(arr)
    values = d.dictionary.to_pylist()
    lut = np.empty(len(values) + 1, dtype=np.uint8)
    for i, v in enumerate(values):
        name = EVENT_CLASS_ALIASES.get(str(v).strip().lower()) if v is not None else None
        lut[i] = _CLASS_CODE[name] if name is not None else _INVALID
    lut[-1] = _INVALID
    idx = d.indices.fill_null(len(values)).to_numpy(zero_copy_only=False).astype(np.int64)
    codes = lut[idx]
    if on_invalid == "raise":
        bad = np.flatnonzero(codes == _INVALID)
        if len(bad):
            row = first_row + int(bad[0])
            v = d.dictionary[int(idx[bad[0]])].as_py() if idx[bad[0]] < len(values) else None
            raise InvalidArgumentError(
                f"column 'bounce_class' row {row}: {v!r} is not a bounce class (expected one of "
                f"delivered, soft, hard, block, complaint, unknown or an ESP synonym; "
                f"pass on_invalid='skip' to count and skip such rows)", column="bounce_class", row=row)
    return codes, values


@dataclass
class _Prepared:
    """One batch ready for the engine, with what risk and alerts need."""

    capsules: Dict[str, Any]
    num_rows: int
    valid: np.ndarray
    campaign: np.ndarray
    domain: pa.Array
    klass: np.ndarray
    family: np.ndarray  # status family code (see _FAMILIES)
    class_names: pa.Array  # bounce_class text for W3
    recipient: pa.Array
    ts: np.ndarray
    unparsable_ts: int


_FAMILIES = ("", "4.7", "5.7", "4.2.2", "5.1", "other")


def _status_family(status: Optional[pa.Array], n: int) -> np.ndarray:
    if status is None:
        return np.zeros(n, dtype=np.int8)
    s = pc.fill_null(pc.cast(status, pa.string()), "")
    fam = np.full(n, 5, dtype=np.int8)
    fam[np.asarray(pc.equal(s, "")).astype(bool)] = 0
    for code, prefix in ((4, "4.2.2"), (1, "4.7."), (2, "5.7."), (3, "5.1.")):
        hit = np.asarray(pc.starts_with(s, prefix)).astype(bool)
        fam[hit] = {4: 3, 1: 1, 2: 2, 3: 4}[code]
    # 5.2.2 (mailbox full on a 5xx) groups with 4.2.2.
    fam[np.asarray(pc.starts_with(s, "5.2.2")).astype(bool)] = 3
    return fam


def _prepare(table: pa.Table, first_row: int, on_invalid: str, classify_kwargs: Mapping[str, Any]) -> _Prepared:
    n = table.num_rows
    cols = set(table.column_names)
    rec = _normalise_string(table.column("recipient").combine_chunks(), "recipient")
    camp = _int64_column(table.column("campaign_id").combine_chunks(), "campaign_id", first_row)
    ts, unparsable = _ts_column(table.column("ts").combine_chunks(), first_row, on_invalid)
    category: Optional[pa.Array] = table.column("category").combine_chunks() if "category" in cols else None
    blame: Optional[pa.Array] = table.column("blame").combine_chunks() if "blame" in cols else None
    status: Optional[pa.Array] = table.column("enhanced_status").combine_chunks() if "enhanced_status" in cols else None
    if "bounce_class" in cols:
        klass, _ = _class_codes(table.column("bounce_class").combine_chunks(), first_row, on_invalid)
    elif "diagnostic" in cols or "reply_code" in cols:
        from .classify import classify
        raw = {c: table.column(c) for c in ("reply_code", "enhanced_status", "diagnostic") if c in cols}
        if "diagnostic" not in raw:
            raw["diagnostic"] = pa.nulls(n, pa.string())
        out = classify(pa.table(raw), output="arrow", progress=False, **classify_kwargs)
        klass, _ = _class_codes(out.column("bounce_class").combine_chunks(), first_row, "skip")
        if category is None:
            category = out.column("category").combine_chunks()
        if blame is None:
            blame = out.column("blame").combine_chunks()
        status = out.column("enhanced_status").combine_chunks()
    else:
        raise NotFoundError("the events need a 'bounce_class' column, or raw reply fields ('diagnostic' and/or "
                            "'reply_code', optionally 'enhanced_status') to classify; map yours with columns=",
                            column="bounce_class")
    flags = np.zeros(n, dtype=np.uint8)
    if category is not None:
        cat = pc.fill_null(pc.cast(_normalise_string(category, "category"), pa.string()), "")
        flags[np.asarray(pc.equal(cat, "greylisted")).astype(bool)] |= int(_core.POLICY_FLAG_GREYLIST)
        flags[np.asarray(pc.equal(cat, "mailbox_full")).astype(bool)] |= int(_core.POLICY_FLAG_MAILBOX_FULL)
        sender = np.asarray(pc.is_in(cat, pa.array(sorted(_SENDER_CATEGORIES)))).astype(bool)
        flags[sender] |= int(_core.POLICY_FLAG_SENDER_BLAME)
    if blame is not None:
        b = pc.fill_null(pc.cast(_normalise_string(blame, "blame"), pa.string()), "")
        flags[np.asarray(pc.equal(b, "sender")).astype(bool)] |= int(_core.POLICY_FLAG_SENDER_BLAME)
    family = _status_family(status, n)
    flags[family == 3] |= int(_core.POLICY_FLAG_MAILBOX_FULL)
    if "engaged" in cols:
        eng = table.column("engaged").combine_chunks()
        if pa.types.is_boolean(eng.type):
            e = np.asarray(pc.fill_null(eng, False)).astype(bool)
        elif pa.types.is_integer(eng.type) or pa.types.is_floating(eng.type):
            e = np.asarray(pc.fill_null(pc.cast(eng, pa.float64()), 0.0)) > 0
        else:
            raise InvalidArgumentError(f"column 'engaged' has type {eng.type}; expected booleans or numbers "
                                       "(opens/clicks)", column="engaged")
        flags[e] |= int(_core.POLICY_FLAG_ENGAGED)
    rec_valid = np.asarray(pc.fill_null(pc.greater(pc.binary_length(rec.cast(pa.large_string())), 0), False)).astype(bool)
    valid = rec_valid & np.asarray(camp.is_valid()).astype(bool) & np.asarray(ts.is_valid()).astype(bool) \
        & (klass != _INVALID)
    if on_invalid == "raise":
        for name, ok in (("recipient", rec_valid), ("campaign_id", np.asarray(camp.is_valid()).astype(bool)),
                         ("ts", np.asarray(ts.is_valid()).astype(bool))):
            bad = np.flatnonzero(~ok)
            if len(bad):
                row = first_row + int(bad[0])
                raise InvalidArgumentError(f"column '{name}' row {row}: missing value ({len(bad)} such rows in this "
                                           "batch; pass on_invalid='skip' to count and skip them)",
                                           column=name, row=row)
    lower = pc.utf8_lower(rec.cast(pa.large_string()))
    domain = pc.if_else(pc.match_substring(lower, "@"),
                        pc.replace_substring_regex(lower, r"^.*@", ""), pa.scalar("", pa.large_string()))
    caps = {"recipient": rec.__arrow_c_array__(), "campaign_id": camp.__arrow_c_array__(),
            "ts": ts.__arrow_c_array__(), "klass": klass, "flags": flags}
    names = pa.array(np.array(_CLASS_NAMES, dtype=object)[np.minimum(klass, len(_CLASS_NAMES) - 1)], pa.string())
    return _Prepared(caps, n, valid, camp.fill_null(0).to_numpy(), domain, klass, family, names, rec,
                     ts.fill_null(0).to_numpy(), unparsable)


def _input_batches(events: Any, columns: Optional[Mapping[str, Optional[str]]], batch_rows: int
                   ) -> Tuple[Iterator[pa.Table], int]:
    """Tables of at most batch_rows rows with bouncekit's column names, and the
    row count when known."""
    mapping: Dict[str, Optional[str]] = {c: c for c in INPUT_COLUMNS}
    for k, v in (columns or {}).items():
        if k not in mapping:
            raise NotFoundError(f"columns= names '{k}', which is not an input of the policy engine "
                                f"(expected one of: {', '.join(INPUT_COLUMNS)})", field=k)
        mapping[k] = v

    def select(names: Sequence[str]) -> List[Tuple[str, str]]:
        pairs = [(ours, theirs) for ours, theirs in mapping.items() if theirs is not None and theirs in names]
        have = {o for o, _ in pairs}
        for req in ("recipient", "campaign_id", "ts"):
            if req not in have:
                theirs = mapping.get(req) or req
                raise NotFoundError(f"required column '{theirs}' not found; the input has: "
                                    f"{', '.join(list(names)[:20])}. Map your names with "
                                    f"columns={{'{req}': '<your column>'}}", column=theirs)
        return pairs

    if isinstance(events, (str, os.PathLike)):
        path = Path(events)
        if not path.exists():
            raise NotFoundError(f"{path}: no such file", source=str(path))
        suffix = path.suffix.lower()
        if suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq
            pf = pq.ParquetFile(path)
            pairs = select(pf.schema_arrow.names)

            def parquet() -> Iterator[pa.Table]:
                for b in pf.iter_batches(batch_size=batch_rows, columns=[t for _, t in pairs]):
                    yield pa.table({o: b.column(t) for o, t in pairs})
            return parquet(), pf.metadata.num_rows
        if suffix == ".csv":
            import pyarrow.csv as pcsv
            reader = pcsv.open_csv(path, convert_options=pcsv.ConvertOptions(strings_can_be_null=False))
            pairs = select(reader.schema.names)

            def csv() -> Iterator[pa.Table]:
                for b in reader:
                    t = pa.table({o: b.column(tn) for o, tn in pairs})
                    for start in range(0, t.num_rows, batch_rows):
                        yield t.slice(start, batch_rows)
            return csv(), 0
        raise InvalidArgumentError(f"{path}: read .parquet or .csv files here", source=str(path))
    if isinstance(events, pa.RecordBatchReader):
        pairs = select(events.schema.names)
        reader = events

        def stream() -> Iterator[pa.Table]:
            for b in reader:
                yield pa.table({o: b.column(t) for o, t in pairs})
        return stream(), 0
    optional = [c for c in INPUT_COLUMNS if c not in ("recipient", "campaign_id", "ts")]
    present_cols: Optional[List[str]] = None
    try:
        import pandas as pd
        if isinstance(events, pd.DataFrame):
            present_cols = [str(c) for c in events.columns]
    except ImportError:
        pass
    if isinstance(events, Mapping):
        present_cols = [str(c) for c in events.keys()]
    elif isinstance(events, (pa.Table, pa.RecordBatch)):
        present_cols = list(events.schema.names)
    elif present_cols is None and hasattr(events, "columns"):  # polars and other data frames
        present_cols = [str(c) for c in events.columns]
    elif present_cols is None and hasattr(events, "__arrow_c_stream__"):
        events = pa.table(events)
        present_cols = list(events.schema.names)
    cols_map = dict(mapping)
    if present_cols is not None:
        for c in optional:
            if cols_map.get(c) is not None and cols_map[c] not in present_cols:
                cols_map[c] = None
    inp = read_input(events, cols_map, required=("recipient", "campaign_id", "ts"), optional=optional)
    table = inp.table
    return iter(table.slice(s, batch_rows) for s in range(0, max(table.num_rows, 1), batch_rows)
                if table.num_rows), table.num_rows


# ----------------------------------------------------------------- runner

class PolicyRunner:
    """Applies a policy to events, run by run, with a state that can be saved.

    Processing day 1..n with a saved state gives the same decisions as one
    run over everything, as long as each day's events are not older than the
    earlier days' events of the same recipient (such rows are counted as
    ``late`` in the summary).

    Args:
        policy: a preset name, a policy file, a dict or a :class:`Policy`.
        state: a state file to resume from (saved by :meth:`save_state` with
            the same policy); a file of another format version, or damaged,
            is refused with a clear error.

    >>> import bouncekit, tempfile, os
    >>> day1 = {"recipient": ["a@x.org"] * 2, "campaign_id": [1, 2], "ts": [0, 86400],
    ...         "bounce_class": ["soft", "soft"]}
    >>> day2 = {"recipient": ["a@x.org"], "campaign_id": [3], "ts": [2 * 86400], "bounce_class": ["soft"]}
    >>> path = os.path.join(tempfile.mkdtemp(), "state.bin")
    >>> r = PolicyRunner("standard"); r.add(day1); r.save_state(path)
    >>> r = PolicyRunner("standard", state=path); r.add(day2)
    >>> r.decisions()[["recipient", "rule", "event_number"]].values.tolist()
    [['a@x.org', 'soft_streak', 3]]
    """

    def __init__(self, policy: Union[str, PathLike, Policy, Mapping[str, Any]] = "standard", *,
                 state: Optional[PathLike] = None) -> None:
        self.policy = load_policy(policy)
        if state is not None:
            self._engine = _core.PolicyEngine.load_state(self.policy._core, os.fspath(state))
        else:
            self._engine = _core.PolicyEngine(self.policy._core)
        self._unparsable_ts = 0

    def add(self, events: Any, *, columns: Optional[Mapping[str, Optional[str]]] = None, on_invalid: str = "raise",
            batch_rows: int = 1 << 20, progress: Optional[bool] = None, run: bool = True,
            classify_kwargs: Optional[Mapping[str, Any]] = None,
            _sink: Optional[Any] = None) -> None:
        """Adds events (DataFrame, Arrow table or stream, dict of columns, or a
        Parquet/CSV path read in batches) and, with ``run=True``, processes them.

        Args:
            columns: maps bouncekit's names (:data:`INPUT_COLUMNS`) to yours.
            on_invalid: ``"raise"`` (default): a missing recipient, campaign_id
                or ts, an unparsable time or an unknown class raises an error
                naming the row and column; ``"skip"``: such rows are skipped
                and counted by reason in :meth:`summary`.
        """
        if on_invalid not in ("raise", "skip"):
            raise InvalidArgumentError(f"on_invalid must be 'raise' or 'skip', not {on_invalid!r}", field="on_invalid")
        batches, total = _input_batches(events, columns, int(batch_rows))
        bar = progress_bar(total, "policy", progress)
        first = int(self._engine.summary()["rows"])
        try:
            for t in batches:
                prep = _prepare(t, first, on_invalid, classify_kwargs or {})
                self._engine.add(prep.capsules, prep.num_rows)
                self._unparsable_ts += prep.unparsable_ts
                if _sink is not None:
                    _sink(prep)
                first += prep.num_rows
                bar.update(prep.num_rows)
        finally:
            bar.close()
        if run:
            self.run()

    def run(self) -> None:
        """Processes the events added since the last run."""
        self._engine.run()

    def save_state(self, path: PathLike) -> None:
        """Saves the state atomically (temporary file, fsync, rename)."""
        self._engine.save_state(os.fspath(path))

    def summary(self) -> Dict[str, Any]:
        """Every input row accounted for: ``rows == used + sum(skipped.values())``."""
        s: Dict[str, Any] = self._engine.summary()
        skipped = dict(s["skipped"])
        if self._unparsable_ts:
            skipped["null_ts"] -= self._unparsable_ts
            skipped["unparsable_ts"] = self._unparsable_ts
        s["skipped"] = skipped
        return s

    def decisions(self, output: str = "pandas") -> Any:
        """One row per decided recipient (see :attr:`Analysis.decisions`)."""
        return _decision_frame(self._engine.decisions(), self.policy, output)

    def features(self) -> Any:
        """Per-recipient counters (pandas), the inputs of the risk score."""
        import pandas as pd
        d = self._engine.features()
        df = pd.DataFrame({k: v for k, v in d.items()})
        names = np.asarray(_ACTION_NAMES, dtype=object)
        df["action"] = names[df["action"].to_numpy().astype(np.int64)]
        return df

    def explain(self, recipient: str) -> str:
        """Why the recipient has its decision (or why it has none)."""
        try:
            feats = self._engine.features_of(recipient)
        except NotFoundError:
            raise NotFoundError(f"recipient {recipient!r} is not in the history", field="recipient") from None
        return _explain_text(recipient, self._engine.decision_of(recipient), self.policy, feats)


def _when(ts: int) -> str:
    try:
        return _dt.datetime.fromtimestamp(int(ts), _dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return f"ts {ts}"


def _decision_frame(d: Mapping[str, Any], policy: Policy, output: str = "pandas") -> Any:
    rules = policy.rules
    off = d["evidence_offsets"]
    n = len(d["recipient"])
    rule_names = [r.name or r.kind for r in rules]
    rule_idx = np.asarray(d["rule"], dtype=np.int64)
    evidence = [
        [{"row": int(d["evidence_row"][k]), "ts": int(d["evidence_ts"][k]),
          "campaign_id": int(d["evidence_campaign_id"][k]), "class": _CLASS_NAMES[int(d["evidence_class"][k])]}
         for k in range(int(off[i]), int(off[i + 1]))] for i in range(n)]
    table = pa.table({
        "recipient": pa.array(d["recipient"], pa.string()),
        "action": pa.array([_ACTION_NAMES[int(a)] for a in d["action"]], pa.string()),
        "rule": pa.array([rule_names[int(i)] for i in rule_idx], pa.string()),
        "rule_kind": pa.array([rules[int(i)].kind for i in rule_idx], pa.string()),
        "decided_at": pa.array(d["decided_at"], pa.int64()),
        "until": pa.array(d["until"], pa.int64()),
        "event_number": pa.array(d["event_number"], pa.int64()),
        "decisions": pa.array(d["decisions"], pa.int32()),
        "evidence_rows": pa.array([[e["row"] for e in ev] for ev in evidence], pa.list_(pa.int64())),
        "evidence": pa.array(evidence, pa.list_(pa.struct([("row", pa.int64()), ("ts", pa.int64()),
                                                             ("campaign_id", pa.int64()), ("class", pa.string())]))),
    })
    if output == "arrow":
        return table
    if output == "polars":
        import polars as pl
        return pl.from_arrow(table)
    return table.to_pandas()


_ADVICE = {
    "hard": "a recipient-blame hard bounce: the address does not exist or is disabled; do not mail it again",
    "complaint": "the recipient reported the mail as spam; never mail it again",
    "soft_streak": "one address repeating soft bounces across campaigns: suppress (or pause) it",
    "soft_window": "repeated soft bounces in a short window: the mailbox is not taking mail",
    "soft_total": "the address keeps soft-bouncing over its history",
}


def _explain_text(recipient: str, d: Mapping[str, Any], policy: Policy, feats: Mapping[str, Any]) -> str:
    i = 0  # feats holds this recipient only
    stats = (f"  history: {int(feats['events'][i])} events: {int(feats['delivered'][i])} delivered, "
             f"{int(feats['soft'][i])} soft, {int(feats['hard'][i])} hard, {int(feats['block'][i])} block, "
             f"{int(feats['complaint'][i])} complaint; soft streak {int(feats['soft_streak'][i])}")
    if len(d["recipient"]) == 0:
        advice = ("one isolated soft bounce: allow retries and monitor" if int(feats["soft"][i]) == 1
                  else "no rule of the policy holds")
        return f"{recipient}: no decision under policy '{policy.name}' ({advice})\n{stats}"
    frame = _decision_frame(d, policy)
    row = frame.iloc[0]
    rule = policy.rules[int(d["rule"][0])]
    lines = [f"{recipient}: {row['action']} by rule '{row['rule']}' ({rule.kind}) at {_when(row['decided_at'])}, "
             f"event {row['event_number']} of {int(feats['events'][i])}"
             + (f", until {_when(row['until'])}" if row["action"] == "pause" else "")]
    for e in row["evidence"]:
        lines.append(f"  evidence: row {e['row']} {_when(e['ts'])} campaign {e['campaign_id']} {e['class']}")
    lines.append(stats)
    lines.append(f"  rule: {rule.to_dict()}")
    lines.append(f"  advice: {_ADVICE.get(rule.kind, '')}")
    return "\n".join(lines)


# ---------------------------------------------------------------- analyze

@dataclass
class Analysis:
    """What :func:`analyze` returns.

    Attributes:
        policy: the policy applied.
        decisions: one row per decided recipient: ``action`` (suppress, pause,
            monitor), ``rule``, ``decided_at`` (ts), ``until`` (pause end),
            ``event_number``, ``decisions`` (how many the recipient has had),
            ``evidence`` (the deciding events: input row, ts, campaign, class).
        suppressions: the SPEC W2 table (policy ``standard`` only, from the W2
            fast path; ``None`` otherwise).
        aggregates: the SPEC W3 table (campaign x domain).
        cells: richer campaign x domain counts (complaints, status families).
        risk: per-recipient risk 0-100 and its factors.
        domain_risk, campaign_risk: risk per domain and per campaign.
        alerts: spikes per campaign x domain with their suggested action.
        summary: every input row accounted for.
    """

    policy: Policy
    decisions: Any
    suppressions: Any
    aggregates: Any
    cells: Any
    risk: Any
    domain_risk: Any
    campaign_risk: Any
    alerts: Any
    summary: Dict[str, Any]
    _runner: PolicyRunner = field(repr=False)

    def explain(self, recipient: str) -> str:
        """Why is this address suppressed (paused, monitored, or not)?"""
        return self._runner.explain(recipient)

    def save_state(self, path: PathLike) -> None:
        """Saves the policy state, to resume with :class:`PolicyRunner`."""
        self._runner.save_state(path)

    def _repr_html_(self) -> str:
        s = self.summary
        counts = self.decisions["action"].value_counts().to_dict() if len(self.decisions) else {}
        skipped = ", ".join(f"{k}: {v}" for k, v in s["skipped"].items() if v) or "none"
        n_alerts = 0 if self.alerts is None else len(self.alerts)
        parts = [f"<b>bouncekit analysis</b>, policy <b>{html.escape(self.policy.name)}</b><br>",
                 f"rows {s['rows']:,}: used {s['used']:,}, skipped {html.escape(skipped)}; "
                 f"recipients {s['recipients']:,}<br>",
                 "decisions: " + html.escape(", ".join(f"{k} {v:,}" for k, v in counts.items()) or "none") + "<br>",
                 f"alerts: {n_alerts}"]
        if self.alerts is not None and n_alerts:
            parts.append(self.alerts.head(10).to_html(index=False))
        return "".join(parts)

    def __repr__(self) -> str:
        counts = self.decisions["action"].value_counts().to_dict() if len(self.decisions) else {}
        return (f"Analysis(policy={self.policy.name!r}, rows={self.summary['rows']}, "
                f"decisions={counts}, alerts={0 if self.alerts is None else len(self.alerts)})")


def analyze(
    events: Any,
    *,
    policy: Union[str, PathLike, Policy, Mapping[str, Any]] = "standard",
    columns: Optional[Mapping[str, Optional[str]]] = None,
    state: Optional[PathLike] = None,
    save_state: Optional[PathLike] = None,
    aggregates: bool = True,
    risk: bool = True,
    alerts: bool = True,
    as_of: Optional[int] = None,
    on_invalid: str = "raise",
    batch_rows: int = 1 << 20,
    progress: Optional[bool] = None,
    classify_kwargs: Optional[Mapping[str, Any]] = None,
) -> Analysis:
    """Applies a suppression policy to a bounce history and scores its risk.

    Args:
        events: a pandas/polars DataFrame, a pyarrow Table/RecordBatch/
            RecordBatchReader, a dict of columns, or a Parquet/CSV path (read
            in batches). Columns: ``recipient``, ``campaign_id``, ``ts``
            (epoch seconds, timestamps or ISO text) and ``bounce_class``, or
            the raw ``reply_code``/``enhanced_status``/``diagnostic``
            (classified on the way in); optional ``category``, ``blame``,
            ``enhanced_status`` and ``engaged`` (opens/clicks).
        policy: a preset (:data:`PRESETS`), a policy file, a dict or a :class:`Policy`.
        columns: maps bouncekit's names to yours.
        state, save_state: resume from / save to a state file (daily runs).
            A resumed run's decisions and recipient features cover the whole
            history; its campaign x domain cells (domain health, alerts)
            cover this run's rows, and the W2/W3 tables are not computed.
        aggregates, risk, alerts: what to compute besides the decisions.
        as_of: the time risk is scored at (default: the latest event).
        on_invalid: ``"raise"`` or ``"skip"`` (count and skip bad rows).

    >>> import bouncekit
    >>> ev = bouncekit.risk.example_history(recipients=300, campaigns=12, seed=3)
    >>> a = bouncekit.analyze(ev, policy="seeds")
    >>> a.summary["rows"] == a.summary["used"] == len(ev)
    True
    >>> set(a.decisions["action"]) <= {"suppress"}, bool(a.risk["risk"].between(0, 100).all())
    (True, True)
    """
    from . import risk as _risk
    from .history import BounceHistory

    runner = PolicyRunner(policy, state=state)
    is_standard = runner.policy == Policy.preset("standard")
    history = BounceHistory(suppressions=is_standard and state is None, aggregates=aggregates, threads=1) \
        if (aggregates or is_standard) and state is None else None
    cell_parts: List[pa.Table] = []

    def sink(p: _Prepared) -> None:
        valid = pa.array(p.valid)
        if history is not None:
            t = pa.table({"recipient": p.recipient, "campaign_id": pa.array(p.campaign, pa.int64()),
                          "ts": pa.array(p.ts, pa.int64()), "bounce_class": p.class_names}).filter(valid)
            if t.num_rows:
                history.add(t, progress=False)
        if risk or alerts:
            t = pa.table({"campaign_id": pa.array(p.campaign, pa.int64()), "domain": p.domain,
                          "klass": pa.array(p.klass, pa.uint8()), "family": pa.array(p.family, pa.int8())}).filter(valid)
            cell_parts.append(t.group_by(["campaign_id", "domain", "klass", "family"]).aggregate([([], "count_all")]))

    runner.add(events, columns=columns, on_invalid=on_invalid, batch_rows=batch_rows, progress=progress,
               classify_kwargs=classify_kwargs, _sink=sink)
    if save_state is not None:
        runner.save_state(save_state)
    w2 = w3 = None
    if history is not None:
        res = history.finish()
        w2, w3 = res.suppressions, res.aggregates
    cells = risk_df = dom = camp = alert_df = None
    if risk or alerts:
        cells = _risk.cell_table(cell_parts, _CLASS_NAMES, _FAMILIES)
    if risk and cells is not None:
        feats = runner.features()
        risk_df, dom, camp = _risk.score(feats, None, cells, as_of=as_of)
    if alerts and cells is not None:
        alert_df = _risk.detect_spikes(cells)
    return Analysis(policy=runner.policy, decisions=runner.decisions(), suppressions=w2, aggregates=w3, cells=cells,
                    risk=risk_df, domain_risk=dom, campaign_risk=camp, alerts=alert_df, summary=runner.summary(),
                    _runner=runner)
