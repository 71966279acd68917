"""Read bounces where they live: bounce e-mails, MTA logs and ESP JSON events.

Every reader returns a :class:`ParseResult`: an ``events`` table (one row
per failed recipient, complaint or auto-reply; the same columns for every
source) and an ``errors`` table (one row per record that could not be read,
with a clear message). ``records`` counts the records read; each record
either produced events or is in ``errors``.

The parsing is done in the C++ core with the GIL released; these functions
only gather the records (files, folders, mbox, Maildir, iterables).

Example::

    >>> import bouncekit
    >>> raw = (b"From: MAILER-DAEMON@mx.example.org\\nTo: sender@example.com\\n"
    ...        b"Subject: failure notice\\n\\n"
    ...        b"<kijitora@example.net>:\\n"
    ...        b"Remote host said: 550 5.1.1 <kijitora@example.net>... User Unknown\\n")
    >>> res = bouncekit.parse_emails([raw])
    >>> ev = res.events.iloc[0]
    >>> (ev["recipient"], int(ev["reply_code"]), ev["enhanced_status"], ev["category"])
    ('kijitora@example.net', 550, '5.1.1', 'user_unknown')
    >>> res.summary()["records"], len(res.errors)
    (1, 0)
"""

from __future__ import annotations

import bisect
import itertools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from ._lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa
    import pandas as pd
else:
    np = lazy_module("numpy")
    pa = lazy_module("pyarrow")
    pd = lazy_module("pandas")  # imported on first use: `import bouncekit` stays light

from . import _core
from .history import _check_output

__all__ = ["ParseResult", "EVENT_COLUMNS", "ERROR_COLUMNS", "parse_emails", "parse_maillog",
           "parse_esp_json", "iter_email_sources"]

#: Columns of ``ParseResult.events`` (before classification columns).
EVENT_COLUMNS = ("source", "record", "offset", "kind", "recipient", "time", "message_id",
                 "reply_code", "enhanced_status", "diagnostic", "diagnostic_type", "action",
                 "remote_host", "smtp_command", "source_format", "sender", "campaign",
                 "esp_event", "esp_class", "esp_subclass", "destination")
#: Columns of ``ParseResult.errors``.
ERROR_COLUMNS = ("source", "record", "offset", "code", "message")

# Records per call of the core. Fewer, larger calls spend less on the
# per-call tables (4096 Sisimai e-mails, ~19 MB, against 512: ~5 % less
# time for parse_emails with classification, bench_parse's corpus), but
# one batch of 16384 is slower again (its events outgrow the caches). E-mails
# are also cut into batches of at most _BATCH_BYTES, so that large ones
# keep the progress bar moving.
_BATCH = 4096
_BATCH_BYTES = 32 << 20

PathLike = Union[str, "os.PathLike[str]"]
EmailInput = Union[PathLike, bytes, Iterable[Union[PathLike, bytes, Tuple[str, bytes]]]]


@dataclass
class ParseResult:
    """Events and per-record errors of one read.

    ``events`` has :data:`EVENT_COLUMNS` (+ classification columns when
    ``classify=True``); ``source`` + ``offset`` point back to the raw record
    (file path, or ``path:key`` for mailboxes, or ``<input>[i]``). Both are
    pandas DataFrames, pyarrow Tables or polars DataFrames, as the parse
    function's ``output`` asked.
    """

    events: Any
    errors: Any
    records: int = 0
    records_with_events: int = 0
    records_skipped: int = 0
    extra: Dict[str, Any] = field(default_factory=dict)

    def summary(self) -> Dict[str, int]:
        """Counts: records in = records with events + records with an error
        + records with nothing to report (log noise, ESP opens/clicks).

        >>> r = ParseResult(pd.DataFrame(), pd.DataFrame(columns=list(ERROR_COLUMNS)), 0, 0)
        >>> r.summary()
        {'records': 0, 'records_with_events': 0, 'records_skipped': 0, 'errors': 0, 'events': 0}
        """
        return {"records": self.records, "records_with_events": self.records_with_events,
                "records_skipped": self.records_skipped,
                "errors": int(len(self.errors)), "events": int(len(self.events))}


def _read_path(p: Path) -> Iterator[Tuple[str, bytes]]:
    """Records of one path: a file, a Maildir, an mbox or a folder of files."""
    if p.is_dir():
        if (p / "cur").is_dir() and (p / "new").is_dir():
            import mailbox  # only for Maildir folders: `import bouncekit` stays light

            md = mailbox.Maildir(str(p), factory=None, create=False)
            for key in sorted(md.keys()):
                with md.get_file(key) as f:
                    yield f"{p}:{key}", f.read()
            return
        for child in sorted(p.rglob("*")):
            if child.is_file() and not child.name.startswith("."):
                yield from _read_path(child)
        return
    with open(p, "rb") as f:
        head = f.read(5)
        f.seek(0)
        if head == b"From ":
            data = f.read()
            # mbox: messages start at "From " lines after a blank line (or at 0).
            if data.count(b"\nFrom ") > 0:
                yield from _split_mbox(str(p), data)
                return
            yield str(p), data
            return
        yield str(p), f.read()


def _split_mbox(name: str, data: bytes) -> Iterator[Tuple[str, bytes]]:
    starts = [0]
    i = data.find(b"\n\nFrom ")
    while i >= 0:
        starts.append(i + 2)
        i = data.find(b"\n\nFrom ", i + 2)
    for n, s in enumerate(starts):
        e = starts[n + 1] if n + 1 < len(starts) else len(data)
        yield f"{name}:{n}", data[s:e]


def iter_email_sources(source: EmailInput) -> Iterator[Tuple[str, bytes]]:
    """(name, bytes) of every e-mail in `source`.

    `source` is a path (a file, an mbox, a Maildir or a folder of files), raw
    bytes, or an iterable of paths, bytes or (name, bytes) pairs.

    >>> [n for n, _ in iter_email_sources([b"Subject: x\\n\\nhi"])]
    ['<input>[0]']
    """
    if isinstance(source, (bytes, bytearray)):
        yield "<input>[0]", bytes(source)
        return
    if isinstance(source, (str, os.PathLike)):
        yield from _read_path(Path(source))
        return
    for i, item in enumerate(source):
        if isinstance(item, (bytes, bytearray)):
            yield f"<input>[{i}]", bytes(item)
        elif isinstance(item, tuple):
            yield str(item[0]), bytes(item[1])
        else:
            yield from _read_path(Path(item))


def _column(value: Any) -> pa.Array:
    """A column of the core's output: an int64 buffer, or the (offsets,
    data) buffers of an Arrow large_string array (already valid UTF-8); the
    buffers are numpy uint8 arrays over the core's memory, read in place."""
    if isinstance(value, tuple):
        offsets, data = value
        return pa.LargeStringArray.from_buffers(len(offsets) // 8 - 1, pa.py_buffer(offsets), pa.py_buffer(data))
    return pa.array(np.frombuffer(value, dtype=np.int64))


def _tables(chunks: List[Dict[str, Any]], names: Sequence[Union[List[str], Tuple[int, int]]],
            offsets: Optional[List[List[int]]] = None) -> Tuple[pa.Table, pa.Table, int, int, int]:
    # The core returns each chunk's columns as Arrow buffers: they are joined
    # column by column into one Arrow table per kind (events, errors). At
    # least one chunk is needed, even of no records: it gives the types.
    # A chunk's names are a list (one per record), or (start, count): the
    # records are items start .. start + count - 1 of the caller's list,
    # which the core named "<input>[i]" itself (parse_emails' name_base; the
    # names are made for the rows of the tables only).
    tables: Dict[str, Dict[str, List[pa.Array]]] = {"events": {}, "errors": {}}
    records = with_events = skipped = 0
    base = 0
    for n, (out, nm) in enumerate(zip(chunks, names)):
        sources = pa.array(nm, pa.large_string()) if isinstance(nm, list) else None
        for kind, cols in tables.items():
            part = out[kind]
            rec = np.frombuffer(part["record"], dtype=np.int64)
            if sources is None:  # named by the core (parse_emails' name_base)
                cols.setdefault("source", []).append(_column(part["source"]))
            else:
                cols.setdefault("source", []).append(sources.take(pa.array(rec)))
            for key, value in part.items():
                if key == "source":
                    continue
                if key == "record":
                    col = pa.array(rec + base)
                elif key == "offset" and offsets is not None:  # records are lines: the offset is the line number
                    col = pa.array(np.asarray(offsets[n], dtype=np.int64)[rec])
                else:
                    col = _column(value)
                cols.setdefault(key, []).append(col)
        base += nm[1] if isinstance(nm, tuple) else len(nm)
        records += int(out["records"])
        with_events += int(out["records_with_events"])
        skipped += int(out.get("records_skipped", 0))
    events, errors = (pa.table({k: pa.chunked_array(v) for k, v in tables[kind].items()})
                      for kind in ("events", "errors"))
    return events, errors, records, with_events, skipped


def _finish_events(events: pa.Table) -> pa.Table:
    import pyarrow.compute as pc
    i = events.schema.get_field_index("reply_code")
    codes = events.column(i)
    events = events.set_column(i, "reply_code", pc.if_else(pc.equal(codes, 0), pa.scalar(None, pa.int64()), codes))
    # (`destination`, the part of the recipient after its last "@", comes
    # from the core.)
    return events.select([c for c in EVENT_COLUMNS if c in events.column_names])


def _classify_events(events: pa.Table, profile: str, rules: Any, threads: Optional[int] = None) -> pa.Table:
    import pyarrow.compute as pc

    from .classify import classify
    inputs = events.select(["reply_code", "enhanced_status", "diagnostic", "smtp_command", "remote_host",
                            "action", "destination"])
    out = classify(inputs, profile=profile, rules=rules, mappings=["sisimai", "ses"], output="arrow",
                   fields=["bounce_class", "category", "blame", "retryable", "rule_id"], threads=threads)
    for name in ("bounce_class", "category", "blame", "retryable", "rule_id", "sisimai_reason",
                 "ses_bounce_type", "ses_bounce_subtype"):
        if name not in out.column_names:
            continue
        col = out[name]
        if name == "sisimai_reason":
            # Complaints and auto-replies are what their source says they are:
            # "feedback" and "vacation", added to the classifier's dictionary
            # of reasons when missing; only those rows' indices change.
            arr = col.combine_chunks() if col.num_chunks else pa.array([], pa.dictionary(pa.int32(), pa.string()))
            values = arr.dictionary.cast(pa.string())
            have = values.to_pylist()
            extra = [v for v in ("feedback", "vacation") if v not in have]
            values = pa.concat_arrays([values, pa.array(extra, pa.string())])
            where = {v: i for i, v in enumerate(values.to_pylist())}
            indices = arr.indices.cast(pa.int32())
            kind = events["kind"].combine_chunks() if events.num_rows else pa.array([], pa.large_string())
            for k, reason in (("complaint", "feedback"), ("auto_reply", "vacation")):
                indices = pc.if_else(pc.equal(kind, k), pa.scalar(where[reason], pa.int32()), indices)
            col = pa.DictionaryArray.from_arrays(indices, values)
        events = events.append_column(name, col)
    return events


def _output(table: pa.Table, output: str) -> Any:
    if output == "arrow":
        return table
    if output == "polars":
        import polars as pl
        return pl.from_arrow(table)
    # One block per column (split_blocks): pandas then need not copy the
    # int64 columns into one 2-D block (~30 % of this call on the benchmark).
    df = table.to_pandas(split_blocks=True)
    if "reply_code" in table.column_names:  # nullable integers, not floats
        codes = table["reply_code"]
        df["reply_code"] = pd.arrays.IntegerArray(codes.fill_null(0).to_numpy(),
                                                  codes.is_null().to_numpy(zero_copy_only=False))
    return df


def _result(chunks: List[Dict[str, Any]], names: Sequence[Union[List[str], Tuple[int, int]]],
            offsets: Optional[List[List[int]]], classify: bool, profile: str, rules: Any, output: str,
            threads: Optional[int] = None) -> ParseResult:
    events, errors, records, with_events, skipped = _tables(chunks, names, offsets)
    events = _finish_events(events)
    if classify:
        events = _classify_events(events, profile, rules, threads)
    return ParseResult(_output(events, output), _output(errors, output), records, with_events, skipped)


def _batch_bounds(emails: List[bytes]) -> Iterator[Tuple[int, int]]:
    """(start, stop) of each core call's slice of a list of raw e-mails: up
    to _BATCH e-mails, ending with the first that brings the batch to
    _BATCH_BYTES.

    >>> list(_batch_bounds([b"x" * 10] * 3))
    [(0, 3)]
    """
    ends = list(itertools.accumulate(map(len, emails)))  # bytes up to and including each e-mail
    i = 0
    while i < len(emails):
        before = ends[i - 1] if i else 0
        j = min(len(emails), i + _BATCH, bisect.bisect_left(ends, before + _BATCH_BYTES, i) + 1)
        yield i, j
        i = j


def parse_emails(source: EmailInput, *, classify: bool = True, profile: str = "default",
                 rules: Any = None, max_bytes: int = 32 << 20,
                 progress: Optional[bool] = None, output: str = "pandas",
                 threads: Optional[int] = None) -> ParseResult:
    """Parses bounce e-mails into one event per failed recipient.

    Args:
        source: a path (file, folder, mbox or Maildir), raw bytes, or an
            iterable of paths / bytes / (name, bytes).
        classify: add bouncekit's classification columns (``bounce_class``,
            ``category``, ``sisimai_reason``, ...).
        profile, rules: passed to :func:`bouncekit.classify`.
        max_bytes: e-mails larger than this are reported in ``errors``.
        progress: show a progress bar (None: automatic).
        output: ``"pandas"`` (default), ``"arrow"`` or ``"polars"``: the type of
            ``events`` and ``errors``. The tables are built in Arrow either way.
        threads: threads for the classification (default: all cores); the
            e-mails themselves are read on the calling thread.

    >>> r = parse_emails([b"\\x00\\x01binary junk"], classify=False)
    >>> (len(r.events), r.errors.iloc[0]["code"])
    (0, 'INVALID_ARGUMENT')
    >>> parse_emails([b"\\x00\\x01binary junk"], output="arrow").errors.column_names
    ['source', 'record', 'offset', 'code', 'message']
    """
    from ._progress import progress_bar
    _check_output(output)
    chunks: List[Dict[str, Any]] = []
    names: List[Union[List[str], Tuple[int, int]]] = []
    if isinstance(source, list) and set(map(type, source)) <= {bytes}:  # (a loop in C, not in Python)
        # A list of raw e-mails (the common case in code): batches are
        # slices of it, and the "<input>[i]" names are made in _tables for
        # the rows of the result only.
        bar = progress_bar(len(source), "parse e-mails", progress, unit="mails")
        for i, j in _batch_bounds(source):
            part = source[i:j]
            # (The core names the rows "<input>[i + record]" itself.)
            chunks.append(_core.parse_emails(part, max_bytes, 10000, i))
            names.append((i, len(part)))
            bar.update(len(part))
    else:
        batch: List[bytes] = []
        bnames: List[str] = []
        bar = progress_bar(0, "parse e-mails", progress, unit="mails")

        def flush() -> None:
            if batch:
                chunks.append(_core.parse_emails(list(batch), max_bytes))
                names.append(list(bnames))
                bar.update(len(batch))
                batch.clear()
                bnames.clear()

        size = 0
        for name, data in iter_email_sources(source):
            batch.append(data)
            bnames.append(name)
            size += len(data)
            if len(batch) >= _BATCH or size >= _BATCH_BYTES:
                flush()
                size = 0
        flush()
    bar.close()
    if not chunks:  # no records: the core's empty tables give the column types
        chunks.append(_core.parse_emails([], max_bytes))
        names.append([])
    return _result(chunks, names, None, classify, profile, rules, output, threads)


LineInput = Union[PathLike, Iterable[Union[str, bytes]]]


# logrotate's copies of a log: "mail.log.1", "mail.log.2.gz" (numbered: the
# higher, the older) or "mail.log-20240101.gz" (dateext).
_ROTATED = re.compile(r"^(?P<base>.+?)(?:\.(?P<n>\d+)|-(?P<date>\d{8}))(?:\.gz)?$")


def _oldest_first(path: Path) -> Tuple[str, str, Tuple[int, int], str]:
    """Sort key of a folder's files: a log's rotated copies before the log,
    oldest first (mail.log.2.gz, mail.log.1, mail.log), so that a queue's
    lines are read in the order they were written; other files by name.

    >>> [p.name for p in sorted(map(Path, ["mail.log", "mail.log.1", "mail.log.2.gz", "a.log"]), key=_oldest_first)]
    ['a.log', 'mail.log.2.gz', 'mail.log.1', 'mail.log']
    """
    m = _ROTATED.match(path.name)
    if m is None:
        return str(path.parent), path.name, (1, 0), path.name
    age = -int(m["n"]) if m["n"] is not None else int(m["date"])
    return str(path.parent), m["base"], (0, age), path.name


def _iter_lines(source: LineInput) -> Iterator[Tuple[str, int, bytes]]:
    """(file name, 1-based line number, line) of a path, a folder (its
    files, rotated logs oldest first), or lines."""
    if isinstance(source, (str, os.PathLike)) and Path(source).exists():
        paths: List[Path] = []
        p = Path(source)
        paths = sorted((c for c in p.rglob("*") if c.is_file()), key=_oldest_first) if p.is_dir() else [p]
        for path in paths:
            opener: Any = open
            if path.suffix == ".gz":
                import gzip
                opener = gzip.open
            if path.suffix == ".json":  # one JSON document per file
                yield str(path), 1, path.read_bytes()
                continue
            with opener(path, "rb") as f:
                for n, line in enumerate(f, 1):
                    yield str(path), n, line.rstrip(b"\r\n")
        return
    if isinstance(source, (str, bytes, os.PathLike)):
        raise TypeError(f"{source!r}: no such file; pass a path, or an iterable of lines / records")
    for n, line in enumerate(source, 1):
        if isinstance(line, str):
            line = line.encode("utf-8", "surrogateescape")
        elif not isinstance(line, (bytes, bytearray)):
            import json
            line = json.dumps(line).encode()
        yield "<input>", n, bytes(line).rstrip(b"\r\n")


def _run_lines(fn: Any, source: LineInput, arg: str, classify: bool, profile: str, rules: Any,
               progress: Optional[bool], desc: str, output: str, threads: Optional[int] = None,
               batch_size: int = 1 << 16) -> ParseResult:
    from ._progress import progress_bar
    _check_output(output)
    chunks: List[Dict[str, Any]] = []
    names: List[List[str]] = []
    offs: List[List[int]] = []
    batch: List[bytes] = []
    bn: List[str] = []
    bo: List[int] = []
    bar = progress_bar(0, desc, progress, unit="records")

    def flush() -> None:
        if batch:
            chunks.append(fn(list(batch), arg))
            names.append(list(bn))
            offs.append(list(bo))
            bar.update(len(batch))
            batch.clear()
            bn.clear()
            bo.clear()

    for name, n, line in _iter_lines(source):
        if not line.strip():
            continue
        batch.append(line)
        bn.append(name)
        bo.append(n)
        if len(batch) >= batch_size:
            flush()
    flush()
    bar.close()
    if not chunks:  # no records: the core's empty tables give the column types
        chunks.append(fn([], arg))
        names.append([])
        offs.append([])
    return _result(chunks, names, offs, classify, profile, rules, output, threads)


def parse_maillog(source: LineInput, *, format: str = "auto", classify: bool = True,
                  profile: str = "default", rules: Any = None,
                  progress: Optional[bool] = None, output: str = "pandas",
                  threads: Optional[int] = None) -> ParseResult:
    """Parses Postfix / Exim log lines into events (``offset`` = line number).

    Postfix ``from=`` and ``message-id=`` lines are joined to later delivery
    lines of the same queue id, however far apart in the log (until the
    queue's ``removed`` line; up to 2**20 queues are kept, the most recent);
    Exim ``<=`` arrival lines likewise (until ``Completed``). Lines that are
    not failures (connections, ``status=sent``) are counted in
    ``records_skipped``.

    Args:
        source: a log file (``.gz`` too), a folder of them, or an iterable of lines.
        format: ``auto``, ``postfix`` or ``exim``.
        output: ``"pandas"`` (default), ``"arrow"`` or ``"polars"`` (see :func:`parse_emails`).
        threads: threads for the classification (default: all cores).

    >>> log = ["Jan  1 00:00:01 mx postfix/cleanup[10]: 4F2A1: message-id=<m1@example.com>",
    ...        "Jan  1 00:00:02 mx postfix/smtp[11]: 4F2A1: to=<bob@example.net>, "
    ...        "relay=mx.example.net[192.0.2.1]:25, delay=1, dsn=5.1.1, status=bounced "
    ...        "(host mx.example.net[192.0.2.1] said: 550 5.1.1 <bob@example.net>: "
    ...        "Recipient address rejected: User unknown (in reply to RCPT TO command))"]
    >>> r = parse_maillog(log)
    >>> ev = r.events.iloc[0]
    >>> (ev["recipient"], ev["message_id"], ev["smtp_command"], ev["category"], int(ev["offset"]))
    ('bob@example.net', 'm1@example.com', 'RCPT', 'user_unknown', 2)
    """
    # One reader for the whole log: a delivery line is joined to its queue's
    # from= / message-id= lines in any earlier batch, not only in its own.
    # (It refuses an unknown format before any line is read.)
    reader = _core.MailLogReader(format)
    return _run_lines(lambda lines, _format: reader.parse(lines), source, format, classify, profile, rules,
                      progress, "parse log", output, threads)


def parse_esp_json(source: LineInput, *, provider: str = "auto", classify: bool = True,
                   profile: str = "default", rules: Any = None,
                   progress: Optional[bool] = None, output: str = "pandas",
                   threads: Optional[int] = None) -> ParseResult:
    """Parses ESP events (SES, SendGrid, Mailgun, Postmark, SparkPost).

    One record is one JSON document: a line of a JSON-lines file, or an item
    of an iterable (``dict`` / ``str`` / ``bytes``); a document may be an
    array of events (SendGrid and SparkPost webhooks post arrays). The
    ESP's own classification stays in ``esp_event`` / ``esp_class`` /
    ``esp_subclass`` next to bouncekit's columns. ``provider``: ``"auto"``
    (recognised per document) or one of ``"ses"``, ``"sendgrid"``,
    ``"mailgun"``, ``"postmark"``, ``"sparkpost"``. ``output``: ``"pandas"``
    (default), ``"arrow"`` or ``"polars"`` (see :func:`parse_emails`);
    ``threads``: threads for the classification (default: all cores).

    >>> ses = {"notificationType": "Bounce", "mail": {"messageId": "m-1"},
    ...        "bounce": {"bounceType": "Permanent", "bounceSubType": "General",
    ...                   "timestamp": "2026-01-01T00:00:00Z",
    ...                   "bouncedRecipients": [{"emailAddress": "a@example.com",
    ...                        "status": "5.1.1", "action": "failed",
    ...                        "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]}}
    >>> r = parse_esp_json([ses, {"wrong": "shape"}])
    >>> r.events[["recipient", "esp_class", "esp_subclass", "category"]].values.tolist()
    [['a@example.com', 'Permanent', 'General', 'user_unknown']]
    >>> r.errors["message"].str.contains("unknown shape").tolist()
    [True]
    """
    _core.parse_esp_json([], provider)  # refuses an unknown provider before any record is read
    return _run_lines(_core.parse_esp_json, source, provider, classify, profile, rules, progress,
                      "parse ESP events", output, threads)
