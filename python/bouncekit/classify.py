"""Classification of SMTP delivery results.

Three entry points:

* :func:`classify` — a whole table (pandas, polars, Arrow, or separate
  columns) in, one output row per input row, same order;
* :func:`classify_one` — one response, as a typed :class:`Classification`;
* :func:`parse_status` — an RFC 3463 enhanced status code.

Example::

    >>> import bouncekit
    >>> r = bouncekit.classify_one(reply_code=550, enhanced_status="5.1.1",
    ...                            diagnostic="smtp; 550 5.1.1 <a@example.com>: user unknown")
    >>> (r.bounce_class, r.category, r.blame, r.retryable)
    ('hard', 'user_unknown', 'recipient', False)
    >>> bouncekit.classify_one(diagnostic="452-4.2.2 The email account is over quota").category
    'mailbox_full'
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from ._lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa
else:  # imported on first use: `import bouncekit` stays light
    np = lazy_module("numpy")
    pa = lazy_module("pyarrow")

from . import _core
from ._progress import _NoBar, progress_bar
from ._tables import iter_chunks, read_input, to_capsules
from .errors import InvalidArgumentError
from .rules import RulesLike, classifier_for

__all__ = [
    "Classification",
    "StatusCode",
    "classify",
    "classify_one",
    "parse_status",
    "find_codes",
    "categories",
    "to_sisimai",
    "to_ses",
    "to_sparkpost",
    "INPUT_COLUMNS",
    "MAPPINGS",
]

#: Input columns :func:`classify` reads (``diagnostic`` is required).
INPUT_COLUMNS = ("reply_code", "enhanced_status", "diagnostic", "smtp_command", "remote_host",
                 "action", "destination")
#: Mapping column groups :func:`classify` can add.
MAPPINGS = ("sisimai", "ses", "sparkpost")
# The batch output columns, in their default order, with the core outputs
# each one is built from (only those are computed when `fields` is given).
OUTPUT_FIELDS: Dict[str, Tuple[str, ...]] = {
    "bounce_class": ("bounce_class",),
    "category": ("category",),
    "blame": ("blame",),
    "retryable": ("retryable",),
    "reply_code": ("reply_code",),
    "enhanced_status": ("status",),
    "status_class": ("status_class",),
    "status_subject": ("status_class", "status_subject"),
    "status_detail": ("status_class", "status_detail"),
    "status_registered": ("status_registered",),
    "reply_code_source": ("reply_code_source",),
    "status_source": ("status_source",),
    "rule_id": ("rule",),
    "explanation": ("rule",),
}
_MAPPING_NEEDS = ("bounce_class", "category", "reply_code", "status_class")
_DEFAULT_CHUNK_ROWS = 1 << 20


@dataclass(frozen=True)
class StatusCode:
    """An RFC 3463 enhanced status code and what the IANA registry says of it.

    >>> s = parse_status("4.7.650")
    >>> (str(s), s.registered, s.subject_name)
    ('4.7.650', False, 'Security or Policy Status')
    """

    klass: int
    subject: int
    detail: int
    registered: bool
    class_name: str
    subject_name: str
    detail_name: str

    def __str__(self) -> str:
        return f"{self.klass}.{self.subject}.{self.detail}"

    @classmethod
    def _from_dict(cls, d: Mapping[str, Any]) -> "StatusCode":
        return cls(d["class"], d["subject"], d["detail"], d["registered"], d["class_name"],
                   d["subject_name"], d["detail_name"])


@dataclass(frozen=True)
class Classification:
    """The classification of one response (see :func:`classify_one`)."""

    bounce_class: str
    category: str
    blame: str
    retryable: bool
    reply_code: Optional[int]
    enhanced_status: Optional[str]
    status: Optional[StatusCode]
    rule_id: Optional[str]
    explanation: str
    reply_code_source: str
    status_source: str
    sisimai_reason: str
    ses_bounce_type: str
    ses_bounce_subtype: str
    sparkpost_class: int
    match: Optional[Tuple[int, int]]

    def to_dict(self) -> Dict[str, Any]:
        d = asdict(self)
        d["status"] = str(self.status) if self.status else None
        return d

    def _repr_html_(self) -> str:
        import html
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
            for k, v in self.to_dict().items())
        return f"<table>{rows}</table>"


def parse_status(text: str) -> StatusCode:
    """Parses an enhanced status strictly; raises :class:`InvalidArgumentError`.

    >>> parse_status("5.1.1").detail_name
    'Bad destination mailbox address'
    >>> parse_status("5.1")
    Traceback (most recent call last):
    ...
    bouncekit.errors.InvalidArgumentError: enhanced status '5.1' has 2 part(s); RFC 3463 codes have three (class.subject.detail)
    """
    return StatusCode._from_dict(_core.parse_status(text))


def find_codes(text: Union[str, bytes]) -> Tuple[Optional[int], Optional[str]]:
    """The reply code and enhanced status a diagnostic text reports.

    >>> find_codes("smtp; 550-5.1.1 The email account that you tried to reach does not exist")
    (550, '5.1.1')
    >>> find_codes("Sorry, I couldn't find any host named example.invalid. (#5.1.2)")
    (None, '5.1.2')
    """
    d = _core.find_codes_in_text(text)
    return d["reply_code"], d["enhanced_status"]


def to_sisimai(category: str) -> str:
    """The Sisimai 5 reason of a built-in category.

    >>> to_sisimai("recipient_filtered"), to_sisimai("auth_dmarc")
    ('filtered', 'authfailure')
    """
    return str(_core.map_category(category, "undetermined", 0)[0])


def to_ses(category: str, bounce_class: str, reply_code: Optional[int] = None) -> Tuple[str, str]:
    """Amazon SES (bounceType, bounceSubType) for a classified result.

    Categories without a fixed SES type follow the reply class (5xx Permanent,
    4xx Transient).

    >>> to_ses("user_unknown", "hard", 550)
    ('Permanent', 'NoEmail')
    >>> to_ses("blocklisted", "block", 421)
    ('Transient', 'General')
    """
    _, t, s, _ = _core.map_category(category, bounce_class, (reply_code or 0) // 100)
    return str(t), str(s)


def to_sparkpost(category: str, bounce_class: str, reply_code: Optional[int] = None) -> int:
    """The SparkPost bounce classification code for a classified result.

    >>> to_sparkpost("mailbox_full", "soft", 452), to_sparkpost("blocklisted", "block", 554)
    (22, 51)
    """
    return int(_core.map_category(category, bounce_class, (reply_code or 0) // 100)[3])


def categories() -> "Any":
    """The built-in taxonomy as a pandas DataFrame (one row per category)."""
    import pandas as pd
    return pd.DataFrame(_core.categories())


def _mapping_row(clf: "_core.Classifier", category: int, klass: int, reply_class: int,
                 details: Sequence[Tuple[str, str]]) -> Tuple[str, str, str, int]:
    ses_type, ses_sub, sp = clf.mapping(category, klass, reply_class)
    return details[category][0], ses_type, ses_sub, sp


def classify_one(
    reply_code: Union[int, str, None] = None,
    enhanced_status: Optional[str] = None,
    diagnostic: Union[str, bytes, None] = None,
    *,
    smtp_command: Optional[str] = None,
    remote_host: Optional[str] = None,
    action: Optional[str] = None,
    destination: Optional[str] = None,
    rules: RulesLike = None,
    profile: str = "default",
    infer_codes: Optional[bool] = None,
) -> Classification:
    """Classifies a single SMTP response.

    Args:
        reply_code: the SMTP reply code (``550``); found in the text when missing.
        enhanced_status: the RFC 3463 status (``"5.1.1"``); found in the text when missing.
        diagnostic: the receiver's reply text or the DSN ``Diagnostic-Code``.
        smtp_command: where it failed (``RCPT``, ``DATA``, ...).
        remote_host: the host that answered.
        action: the DSN ``Action`` (``failed``, ``delayed``, ...).
        destination: the recipient's domain.
        rules: ``None`` (built-in), a rule file path, a :class:`RuleSet` or a dict.
        profile: how ambiguous cases are decided (``default``, ``sisimai``, ``ses``,
            ``strict_rfc``, ``mailgun``).
        infer_codes: look for missing codes in the text (default: the rule set's choice).

    >>> r = classify_one(diagnostic="421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily "
    ...                  "deferred due to unexpected volume or user complaints")
    >>> (r.bounce_class, r.blame, r.retryable)
    ('soft', 'sender', True)
    """
    clf = classifier_for(rules, profile, infer_codes)
    d = clf.classify_one(reply_code, enhanced_status, diagnostic, smtp_command, remote_host, action,
                         destination)
    code = d["reply_code"]
    status = d["status"]
    reply_class = code // 100 if code else (status["class"] if status else 0)
    sis, ses_t, ses_s, sp = _mapping_row(clf, d["category_index"], d["bounce_class_index"], reply_class,
                                         clf.category_details())
    return Classification(
        bounce_class=d["bounce_class"], category=d["category"], blame=d["blame"],
        retryable=bool(d["retryable"]), reply_code=code, enhanced_status=d["enhanced_status"],
        status=StatusCode._from_dict(status) if status else None, rule_id=d["rule_id"],
        explanation=d["explanation"], reply_code_source=d["reply_code_source"],
        status_source=d["status_source"], sisimai_reason=sis, ses_bounce_type=ses_t,
        ses_bounce_subtype=ses_s, sparkpost_class=sp,
        match=(int(d["match"][0]), int(d["match"][1])) if d["match"] else None)


# ----------------------------------------------------------------------------- batch

class _Column:
    """An output column before it becomes pandas / Arrow."""

    def __init__(self, kind: str, values: np.ndarray, categories: Optional[Sequence[str]] = None,
                 null: Optional[np.ndarray] = None) -> None:
        self.kind = kind  # category | bool | int | str
        self.values = values
        self.categories = categories
        self.null = null

    def to_pandas(self, index: Any) -> Any:
        import pandas as pd
        if self.kind == "category":
            cat = pd.Categorical.from_codes(self.values,  # type: ignore[call-overload]
                                            categories=list(self.categories or []), validate=False)
            return pd.Series(cat, index=index, copy=False)
        if self.kind == "bool":
            return pd.Series(self.values.astype(bool, copy=False), index=index, copy=False)
        if self.kind == "int":
            if self.null is not None:  # nullable columns keep one dtype whatever the data
                arr = pd.arrays.IntegerArray(self.values, self.null)
                return pd.Series(arr, index=index, copy=False)
            return pd.Series(self.values, index=index, copy=False)
        return pd.Series(self.values, index=index, dtype=object, copy=False)

    def to_arrow(self) -> pa.Array:
        # Arrays are made from buffers: pa.array() probes its argument for
        # pandas types and so imports pandas (~0.4 s) on first use.
        if self.kind == "category":
            dictionary = _strings_to_arrow(list(self.categories or []))
            codes = self.values
            if codes.dtype == np.uint8 and len(dictionary) <= 128:
                # Unsigned codes cannot be missing; Arrow wants signed indices:
                # a zero-copy int8 view does (every code is below 128).
                return pa.DictionaryArray.from_arrays(_numpy_to_arrow(codes.view(np.int8)), dictionary, safe=False)
            codes = codes.astype(np.int32, copy=False)
            mask = codes < 0
            if mask.any():
                idx = _numpy_to_arrow(np.where(mask, 0, codes).astype(np.int32), null=mask)
            else:
                idx = _numpy_to_arrow(codes)
            # The core's codes index their dictionary by construction.
            return pa.DictionaryArray.from_arrays(idx, dictionary, safe=False)
        if self.kind == "bool":
            return _numpy_to_arrow(self.values.astype(bool, copy=False))
        if self.kind == "int":
            return _numpy_to_arrow(self.values, null=self.null)
        return pa.array(list(self.values), type=pa.string())


def _numpy_to_arrow(values: np.ndarray, null: Optional[np.ndarray] = None) -> pa.Array:
    """A 1-d numpy array (bool or integer) as an Arrow array over the same
    memory (bools are bit-packed), `null` marking missing values."""
    values = np.ascontiguousarray(values)
    n = len(values)
    validity = None
    null_count = 0
    if null is not None and null.any():
        validity = pa.py_buffer(np.packbits(~null, bitorder="little"))
        null_count = int(np.count_nonzero(null))
    if values.dtype == np.bool_:
        typ: pa.DataType = pa.bool_()
        data = pa.py_buffer(np.packbits(values, bitorder="little"))
    else:
        typ = pa.from_numpy_dtype(values.dtype)
        data = pa.py_buffer(values)
    return pa.Array.from_buffers(typ, n, [validity, data], null_count=null_count)


def _strings_to_arrow(values: List[str]) -> pa.Array:
    """A list of str as an Arrow string array."""
    encoded = [v.encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, np.int32)
    if encoded:
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return pa.Array.from_buffers(pa.string(), len(encoded), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))])


def _merge_status_dictionaries(chunks: List[Tuple[np.ndarray, List[Tuple[int, int, int]]]]
                               ) -> Tuple[np.ndarray, List[Tuple[int, int, int]]]:
    """Concatenates per-chunk status codes onto one sorted dictionary."""
    if len(chunks) == 1:
        return chunks[0]
    merged = sorted({s for _, d in chunks for s in d})
    pos = {s: i for i, s in enumerate(merged)}
    parts = []
    for codes, d in chunks:
        remap = np.array([pos[s] for s in d] + [-1], dtype=np.int32)  # -1 -> index len(d) -> -1
        parts.append(remap[np.where(codes < 0, len(d), codes)])
    return np.concatenate(parts) if parts else np.empty(0, np.int32), merged


def _resolve_fields(fields: Optional[Iterable[str]]) -> List[str]:
    if fields is None:
        return list(OUTPUT_FIELDS)
    if isinstance(fields, str):
        fields = [fields]
    out: List[str] = []
    for f in fields:
        if f not in OUTPUT_FIELDS:
            raise InvalidArgumentError(f"unknown output field {f!r} (expected some of: {', '.join(OUTPUT_FIELDS)})",
                                       field="fields")
        if f not in out:
            out.append(f)
    if not out:
        raise InvalidArgumentError("fields must name at least one output column", field="fields")
    return out


def _resolve_mappings(mappings: Union[bool, Iterable[str]]) -> List[str]:
    if mappings is True:
        return list(MAPPINGS)
    if mappings is False or mappings is None:
        return []
    out = []
    for m in mappings:
        if m not in MAPPINGS:
            raise InvalidArgumentError(f"unknown mapping '{m}' (expected: {', '.join(MAPPINGS)})",
                                       field="mappings")
        out.append(m)
    return out


def classify(
    data: Any = None,
    *,
    columns: Optional[Mapping[str, Optional[str]]] = None,
    rules: RulesLike = None,
    profile: str = "default",
    threads: Optional[int] = None,
    mappings: Union[bool, Iterable[str]] = False,
    explain: bool = False,
    output: str = "pandas",
    fields: Optional[Iterable[str]] = None,
    progress: Optional[bool] = None,
    infer_codes: Optional[bool] = None,
    chunk_rows: int = _DEFAULT_CHUNK_ROWS,
    reply_code: Any = None,
    enhanced_status: Any = None,
    diagnostic: Any = None,
    smtp_command: Any = None,
    remote_host: Any = None,
    action: Any = None,
    destination: Any = None,
) -> Any:
    """Classifies every row of a table of SMTP delivery results.

    Args:
        data: a pandas or polars DataFrame, a pyarrow Table/RecordBatch, any
            object with the Arrow PyCapsule interface, or a dict of columns.
            Or leave it out and pass the columns as keyword arguments.
        columns: maps bouncekit's input names (``reply_code``,
            ``enhanced_status``, ``diagnostic``, ``smtp_command``,
            ``remote_host``, ``action``, ``destination``) to yours; map a name
            to ``None`` when your table lacks it (only ``diagnostic`` is
            required otherwise).
        rules: ``None`` for the built-in rules, a rule file (TOML or TSV), a
            :class:`RuleSet` or a dict.
        profile: ``default``, ``sisimai``, ``ses``, ``strict_rfc``, ``mailgun``
            (or one defined by your rule file).
        threads: worker threads (default: all cores). Results do not depend on it.
        mappings: ``True`` or a subset of ``("sisimai", "ses", "sparkpost")``
            to add ``sisimai_reason``, ``ses_bounce_type``/``ses_bounce_subtype``
            and ``sparkpost_class`` columns.
        explain: add a per-row ``explanation`` naming the matched text (slower);
            by default the column holds the deciding rule's explanation.
        output: ``"pandas"`` (default), ``"arrow"`` or ``"polars"``.
        fields: the output columns wanted, in that order (default: all of
            them, see Returns). Columns left out are not computed at all, so
            asking for ``["bounce_class", "category", "rule_id"]`` is faster
            and lighter on memory than selecting them afterwards. Mapping
            columns follow ``mappings`` whatever this says.
        progress: show a progress bar (default: only for large inputs).
        infer_codes: look for missing reply codes / statuses in the text
            (default: the rule set decides; the built-in rules do).
        chunk_rows: rows per call into the C++ core while a progress bar is
            shown (its granularity), or when given; otherwise one call.

    Returns:
        One row per input row, in input order, with columns ``bounce_class``,
        ``category``, ``blame``, ``retryable``, ``reply_code``,
        ``enhanced_status``, ``status_class``, ``status_subject``,
        ``status_detail``, ``status_registered``, ``reply_code_source``,
        ``status_source``, ``rule_id``, ``explanation`` (+ mappings). A pandas
        input keeps its index.

    Example:
        >>> import pandas as pd, bouncekit
        >>> df = pd.DataFrame({
        ...     "reply_code": [250, 550, 452, 550],
        ...     "enhanced_status": ["2.0.0", "5.1.1", "4.2.2", "5.7.1"],
        ...     "diagnostic": ["ok", "user unknown", "mailbox full",
        ...                    "blocked using zen.spamhaus.org"]})
        >>> out = bouncekit.classify(df, threads=1)
        >>> out[["bounce_class", "category", "blame"]].astype(str).values.tolist()
        [['delivered', 'delivered', 'unknown'], ['hard', 'user_unknown', 'recipient'], ['soft', 'mailbox_full', 'recipient'], ['block', 'blocklisted', 'sender']]
        >>> bouncekit.classify(df, threads=1, fields=["bounce_class", "rule_id"]).columns.tolist()
        ['bounce_class', 'rule_id']
    """
    if output not in ("pandas", "arrow", "polars"):
        raise InvalidArgumentError(f"output must be 'pandas', 'arrow' or 'polars', not {output!r}",
                                   field="output")
    if threads is None:
        threads = os.cpu_count() or 1
    if not isinstance(threads, (int, np.integer)) or isinstance(threads, bool) or threads < 1:
        raise InvalidArgumentError(f"threads must be a positive integer, not {threads!r}", field="threads")
    if not isinstance(chunk_rows, (int, np.integer)) or chunk_rows < 1:
        raise InvalidArgumentError(f"chunk_rows must be a positive integer, not {chunk_rows!r}",
                                   field="chunk_rows")
    wanted_maps = _resolve_mappings(mappings)
    names = _resolve_fields(fields)
    core_outputs = sorted({o for f in names for o in OUTPUT_FIELDS[f]}
                          | (set(_MAPPING_NEEDS) if wanted_maps else set()))
    clf = classifier_for(rules, profile, infer_codes)
    separate = dict(reply_code=reply_code, enhanced_status=enhanced_status, diagnostic=diagnostic,
                    smtp_command=smtp_command, remote_host=remote_host, action=action,
                    destination=destination)
    inp = read_input(data, columns, required=("diagnostic",),
                     optional=[c for c in INPUT_COLUMNS if c != "diagnostic"], separate=separate)
    n = inp.num_rows

    results: List[Dict[str, Any]] = []
    status_chunks: List[Tuple[np.ndarray, List[Tuple[int, int, int]]]] = []
    bar = progress_bar(n, "classify", progress)
    # Without a progress bar to feed (and no chunk size asked for), the whole
    # table goes to the core in one call: no per-chunk results to concatenate.
    one_call = isinstance(bar, _NoBar) and chunk_rows == _DEFAULT_CHUNK_ROWS
    step = max(n, 1) if one_call else int(chunk_rows)
    try:
        for _, batches in iter_chunks(inp.table, step):
            caps = [to_capsules(b) for b in batches]
            # Output memory from Arrow's pool: a later call reuses the pages
            # this one's results give back.
            res = clf.classify_arrow(caps, int(threads), bool(explain) and "explanation" in names,
                                     core_outputs, pa.allocate_buffer)
            results.append(res)
            if "status" in res:
                status_chunks.append((res["status"], [tuple(s) for s in res["status_dictionary"]]))
            bar.update(sum(b.num_rows for b in batches))
    finally:
        bar.close()

    def cat(key: str, dtype: Any) -> np.ndarray:
        if not results:
            return np.empty(0, dtype=dtype)
        if len(results) == 1:
            return np.asarray(results[0][key])
        return np.concatenate([r[key] for r in results])

    def status_parts() -> Tuple[np.ndarray, np.ndarray]:
        status_class = cat("status_class", np.int8)
        return status_class, status_class != 0

    def build(name: str) -> _Column:
        if name == "bounce_class":
            return _Column("category", cat("bounce_class", np.uint8), clf.class_labels)
        if name == "category":
            return _Column("category", cat("category", np.int32), clf.category_names)
        if name == "blame":
            return _Column("category", cat("blame", np.uint8), list(_core.BLAMES))
        if name == "retryable":
            return _Column("bool", cat("retryable", np.uint8))
        if name == "reply_code":
            reply = cat("reply_code", np.int16)
            return _Column("int", reply, null=reply == 0)
        if name == "enhanced_status":
            if status_chunks:
                codes, sdict = _merge_status_dictionaries(status_chunks)
            else:
                codes, sdict = np.empty(0, np.int32), []
            return _Column("category", codes, [f"{a}.{b}.{c}" for a, b, c in sdict])
        if name in ("status_class", "status_subject", "status_detail"):
            status_class, has_status = status_parts()
            values = status_class.astype(np.int16) if name == "status_class" else cat(name, np.int16)
            return _Column("int", values, null=~has_status)
        if name == "status_registered":
            return _Column("bool", cat(name, np.uint8))
        if name in ("reply_code_source", "status_source"):
            return _Column("category", cat(name, np.uint8), list(_core.CODE_SOURCES))
        if name == "rule_id":
            return _Column("category", cat("rule", np.int32), clf.rule_ids)
        # explanation
        rule = cat("rule", np.int32)
        if explain:
            return _Column("str", _explain_rows(inp.table, rule, cat("match_begin", np.int32),
                                               cat("match_end", np.int32), clf.rule_explanations, clf))
        return _Column("category", rule, clf.rule_explanations)

    cols: Dict[str, _Column] = {name: build(name) for name in names}
    for name, col in cols.items():
        if len(col.values) != n:  # rows in = rows out, always
            raise InvalidArgumentError(f"internal: {len(col.values)} results in '{name}' for {n} input rows")
    if wanted_maps:
        status_class, has_status = status_parts()
        _add_mappings(cols, clf, wanted_maps, cat("bounce_class", np.uint8), cat("category", np.int32),
                      cat("reply_code", np.int16), status_class, has_status)

    if output == "pandas":
        import pandas as pd
        index = inp.pandas_index if inp.pandas_index is not None else pd.RangeIndex(n)
        return pd.DataFrame({k: c.to_pandas(index) for k, c in cols.items()}, index=index, copy=False)
    table = pa.table({k: c.to_arrow() for k, c in cols.items()})
    if output == "polars":
        import polars as pl
        return pl.from_arrow(table)
    return table


@dataclass(frozen=True)
class _MappingTables:
    sisimai_names: List[str]
    sisimai_lut: np.ndarray  # category -> index into sisimai_names
    # [category, class, reply class] -> index into types / subtypes, SparkPost class
    types: List[str]
    subtypes: List[str]
    type_lut: np.ndarray
    subtype_lut: np.ndarray
    sparkpost_lut: np.ndarray


# A classifier's mapping tables, built once (2,310 calls into the core for the
# built-in categories: milliseconds, which small calls such as parse_emails'
# paid every time). Entries hold their classifier, so an id is never reused
# while its entry is here.
_MAPPING_TABLES: Dict[int, Tuple["_core.Classifier", _MappingTables]] = {}


def _mapping_tables(clf: "_core.Classifier") -> _MappingTables:
    hit = _MAPPING_TABLES.get(id(clf))
    if hit is not None and hit[0] is clf:
        return hit[1]
    details = clf.category_details()
    n_cat = len(details)
    names = sorted({d[0] for d in details})
    pos = {s: i for i, s in enumerate(names)}
    lut = np.array([pos[d[0]] for d in details], dtype=np.int32)
    # All (category, class, reply class) combinations are few: tabulate them.
    types: List[str] = []
    subs: List[str] = []
    t_lut = np.zeros((n_cat, 7, 6), np.int32)
    s_lut = np.zeros((n_cat, 7, 6), np.int32)
    sp_lut = np.zeros((n_cat, 7, 6), np.int16)
    for c in range(n_cat):
        for k in range(7):
            for r in range(6):
                t, s, sp = clf.mapping(c, k, r)
                if t not in types:
                    types.append(t)
                if s not in subs:
                    subs.append(s)
                t_lut[c, k, r] = types.index(t)
                s_lut[c, k, r] = subs.index(s)
                sp_lut[c, k, r] = sp
    tables = _MappingTables(names, lut, types, subs, t_lut, s_lut, sp_lut)
    if len(_MAPPING_TABLES) >= 16:
        _MAPPING_TABLES.pop(next(iter(_MAPPING_TABLES)))
    _MAPPING_TABLES[id(clf)] = (clf, tables)
    return tables


def _add_mappings(cols: Dict[str, _Column], clf: "_core.Classifier", wanted: List[str],
                  klass: np.ndarray, category: np.ndarray, reply: np.ndarray,
                  status_class: np.ndarray, has_status: np.ndarray) -> None:
    m = _mapping_tables(clf)
    reply_class = np.where(reply > 0, reply // 100, np.where(has_status, status_class, 0)).astype(np.int64)
    if "sisimai" in wanted:
        cols["sisimai_reason"] = _Column("category", m.sisimai_lut[category], m.sisimai_names)
    if "ses" in wanted or "sparkpost" in wanted:
        types, subs = m.types, m.subtypes
        t_lut, s_lut, sp_lut = m.type_lut, m.subtype_lut, m.sparkpost_lut
        rc = np.clip(reply_class, 0, 5)
        if "ses" in wanted:
            cols["ses_bounce_type"] = _Column("category", t_lut[category, klass, rc], types)
            cols["ses_bounce_subtype"] = _Column("category", s_lut[category, klass, rc], subs)
        if "sparkpost" in wanted:
            cols["sparkpost_class"] = _Column("int", sp_lut[category, klass, rc])


def _explain_rows(table: pa.Table, rule: np.ndarray, begin: np.ndarray, end: np.ndarray,
                  expl: Sequence[str], clf: "_core.Classifier") -> np.ndarray:
    ids = clf.rule_ids
    diag = table.column("diagnostic").to_pylist() if "diagnostic" in table.column_names else [None] * len(rule)
    out = np.empty(len(rule), dtype=object)
    for i in range(len(rule)):
        r = int(rule[i])
        if r < 0:
            out[i] = "no rule matched"
            continue
        text = f"rule '{ids[r]}': {expl[r]}"
        b = int(begin[i]) if len(begin) else -1
        if b >= 0 and diag[i] is not None:
            d = diag[i]
            if isinstance(d, str):
                raw = d.encode("utf-8", "surrogateescape")
                frag = raw[b:int(end[i])].decode("utf-8", "replace")
                text += f" [matched '{frag}']"
        out[i] = text
    return out
