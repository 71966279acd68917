"""The bad-input catalogue (docs/bad-input.md), one test per entry.

Every entry feeds bouncekit one kind of bad input through the Python API, a
file, or the command line, and checks what the user sees: the exception type,
the words of the message, and where the core knows it, the row / column /
field / line attributes. Nothing may crash, hang, print a traceback or drop
rows silently; inputs that are accepted leniently (a reply code of 999 reads
as "no code") are listed too, with the check that their rows are kept.

docs/bad-input.md is generated from this table (run this file as a script:
``python tests/python/test_bad_input.py --write-doc``) and
test_catalogue_matches_the_doc keeps the two in sync.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, Type

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import bouncekit
from bouncekit import cli

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "bad-input.md"

EV = {"recipient": ["a@x.org"], "campaign_id": [1], "ts": [1], "bounce_class": ["hard"]}


def _df(**cols: Any) -> pd.DataFrame:
    return pd.DataFrame(cols)


# Files the entries use, written into the test's working directory.
FILES: Dict[str, bytes] = {
    "bad_regex.toml": b'[ruleset]\nname = "x"\n[[rules]]\nid = "r1"\ncategory = "user_unknown"\ntext = "(unclosed"\n',
    "syntax.toml": b"[ruleset\nname = 1\n",
    "dup.toml": b"a = 1\na = 2\n",
    "code6.toml": b'[[rules]]\nid = "r"\ncategory = "user_unknown"\ncode = ["6xx"]\n',
    "badstatus.toml": b'[[rules]]\nid = "r"\ncategory = "user_unknown"\nstatus = ["5.1.1.1"]\n',
    "nocat.toml": b'[[rules]]\nid = "r"\ncode = ["550"]\n',
    "date.toml": b"a = 1979-05-27\n",
    "latin1.toml": b'[[rules]]\nid = "r"\ncategory = "user_unknown"\ntext = "M\xfcller"\n',
    "bad.json": b'{"rules": [ {"id": "r", }\n',
    "bad_regex.tsv": b"rule_id\tcode\tstatus\tdiag_regex\tbounce_class\tcategory\n1\t550\t5.1.1\t(x\thard\tuser_unknown\n",
    "short.tsv": b"rule_id\tcode\tstatus\tdiag_regex\tbounce_class\tcategory\n1\t550\n",
    "empty.toml": b"",
    "ts_text.csv": b"recipient,campaign_id,ts,bounce_class\na@x,1,notanumber,hard\n",
    "no_ts.csv": b"recipient,campaign_id,bounce_class\na@x,1,hard\n",
    "null_campaign.csv": b"recipient,campaign_id,ts,bounce_class\na@x,,5,hard\n",
    "events.xlsx": b"PK\x03\x04 not a table bouncekit reads",
    "empty.csv": b"",
    "no_diag.csv": b"x,y\n1,2\n",
    "unterminated.csv": b'diagnostic,reply_code\n"unterminated,550\n',
    "bad.jsonl": b'{"diagnostic": "a"}\n{bad json\n',
    "bad.parquet": b"PAR1 this is not parquet",
    "responses.csv": b"diagnostic,reply_code\n550 5.1.1 user unknown,550\n",
}


@dataclass
class Case:
    id: str
    surface: str            # "API", "file", "CLI"
    what: str               # the bad input, in words
    run: Callable[[], Any]  # does the bad thing (in the test's tmp cwd)
    error: Optional[Type[BaseException]] = None  # expected exception (None: accepted)
    message: str = ""       # regex the message must match
    attrs: Dict[str, Any] = field(default_factory=dict)  # expected exception attributes
    check: Optional[Callable[[Any], None]] = None  # for accepted inputs: what must hold
    sees: str = ""          # for accepted inputs: what the user gets, in words


def _rows_kept(n: int, klass: str = "undetermined") -> Callable[[Any], None]:
    def check(out: Any) -> None:
        assert len(out) == n
        assert list(out["bounce_class"].astype(str))[:1] == [klass]
    return check


def _cli(*argv: str) -> Callable[[], int]:
    """Runs the CLI in-process; exit codes come back as CliExit."""
    def run() -> int:
        try:
            rc = cli.main(list(argv))
        except SystemExit as e:  # argparse usage errors
            rc = int(e.code or 0)
        if rc != 0:
            raise CliExit(rc)
        return rc
    return run


class CliExit(Exception):
    """A non-zero exit of the command line (rc as the message)."""

    def __init__(self, rc: int) -> None:
        super().__init__(f"exit {rc}")
        self.rc = rc


def _finish_twice() -> Any:
    h = bouncekit.BounceHistory()
    h.add(EV)
    h.finish()
    return h.finish()


def _add_after_finish() -> Any:
    h = bouncekit.BounceHistory()
    h.finish()
    return h.add(EV)


IAE = bouncekit.InvalidArgumentError
NFE = bouncekit.NotFoundError

CASES: List[Case] = [
    # ---------------------------------------------------------------- API: statuses
    Case("status-two-parts", "API", 'parse_status("5.1")', lambda: bouncekit.parse_status("5.1"), IAE,
         r"'5\.1' has 2 part\(s\); RFC 3463 codes have three"),
    Case("status-class-6", "API", 'parse_status("6.0.0")', lambda: bouncekit.parse_status("6.0.0"), IAE,
         r"has class 6; RFC 3463 classes are 2, 4 and 5"),
    Case("status-four-parts", "API", 'parse_status("5.1.1.1")', lambda: bouncekit.parse_status("5.1.1.1"), IAE,
         r"has 4 part\(s\)"),
    Case("status-empty", "API", 'parse_status("")', lambda: bouncekit.parse_status(""), IAE,
         r"empty enhanced status"),
    Case("status-letters", "API", 'parse_status("5.a.1")', lambda: bouncekit.parse_status("5.a.1"), IAE,
         r"character other than digits and dots"),
    Case("status-long-part", "API", 'parse_status("5.1000.1")', lambda: bouncekit.parse_status("5.1000.1"), IAE,
         r"1-3 digit parts"),
    Case("status-not-text", "API", "parse_status(None)", lambda: bouncekit.parse_status(None),  # type: ignore
         TypeError, r"incompatible function arguments"),
    Case("find-codes-junk-bytes", "API", r'find_codes(b"\xff550 5.1.1") (not UTF-8)',
         lambda: bouncekit.find_codes(b"\xff550 5.1.1"), check=lambda r: r == (550, "5.1.1") or 1 / 0,
         sees="the codes in the readable part: (550, '5.1.1')"),
    # ---------------------------------------------------------------- API: classify
    Case("classify-one-unknown-profile", "API", 'classify_one(..., profile="nope")',
         lambda: bouncekit.classify_one(diagnostic="x", profile="nope"), NFE,
         r"unknown profile 'nope' \(this rule set defines: default, ", {"field": "profile"}),
    Case("classify-one-out-of-range-code", "API", "classify_one(reply_code=999, enhanced_status='5.1')",
         lambda: bouncekit.classify_one(reply_code=999, enhanced_status="5.1", diagnostic="x"),
         check=lambda r: (r.reply_code is None and r.bounce_class == "undetermined") or 1 / 0,
         sees="accepted: read as no reply code / no status; class undetermined"),
    Case("classify-missing-diagnostic", "API", "a table without a diagnostic column",
         lambda: bouncekit.classify(_df(x=[1])), NFE,
         r"column 'diagnostic' not found in the input; it has: x\. Map your names with columns=",
         {"column": "diagnostic"}),
    Case("classify-fractional-code", "API", "reply_code 1.5 (float column)",
         lambda: bouncekit.classify(_df(diagnostic=["a"], reply_code=[1.5])), IAE,
         r"column 'reply_code' row 0: reply code 1\.5 is not a whole number", {"row": 0, "column": "reply_code"}),
    Case("classify-nan-code", "API", "reply_code NaN in a float column",
         lambda: bouncekit.classify(_df(diagnostic=["550 5.1.1 user unknown", "b"], reply_code=[np.nan, 550.0])),
         check=lambda out: (len(out) == 2 and out["reply_code"].iloc[0] == 550) or 1 / 0,
         sees="accepted: NaN is a missing code (found in the text instead); both rows kept"),
    Case("classify-negative-code", "API", "reply_code -550 / 2^63+5 (uint64)",
         lambda: bouncekit.classify(pa.table({"diagnostic": ["a", "b"],
                                              "reply_code": pa.array([2**63 + 5, 2**64 - 1], pa.uint64())})),
         check=_rows_kept(2), sees="accepted: not a reply code (200..599), read as none; rows kept"),
    Case("classify-int-diagnostic", "API", "diagnostic column of integers",
         lambda: bouncekit.classify(_df(diagnostic=[1, 2])), IAE,
         r"column 'diagnostic' has type int64; expected text", {"column": "diagnostic"}),
    Case("classify-mixed-object-column", "API", "diagnostic column ['a', 3, None]",
         lambda: bouncekit.classify(_df(diagnostic=["a", 3, None])), IAE,
         r"column 'diagnostic' row 1: expected text, got int 3", {"row": 1, "column": "diagnostic"}),
    Case("classify-non-utf8-bytes", "API", r"diagnostic bytes b'\xff\xfe' (not UTF-8)",
         lambda: bouncekit.classify(_df(diagnostic=[b"\xff\xfe", "ok"])), check=_rows_kept(2),
         sees="accepted: bytes are matched as they are; rows kept"),
    Case("classify-threads-zero", "API", "classify(..., threads=0)",
         lambda: bouncekit.classify(_df(diagnostic=["a"]), threads=0), IAE,
         r"threads must be a positive integer, not 0", {"field": "threads"}),
    Case("classify-threads-bool", "API", "classify(..., threads=True)",
         lambda: bouncekit.classify(_df(diagnostic=["a"]), threads=True), IAE,
         r"threads must be a positive integer, not True", {"field": "threads"}),
    Case("classify-chunk-zero", "API", "classify(..., chunk_rows=0)",
         lambda: bouncekit.classify(_df(diagnostic=["a"]), chunk_rows=0), IAE,
         r"chunk_rows must be a positive integer", {"field": "chunk_rows"}),
    Case("classify-bad-output", "API", 'classify(..., output="xls")',
         lambda: bouncekit.classify(_df(diagnostic=["a"]), output="xls"), IAE,
         r"output must be 'pandas', 'arrow' or 'polars', not 'xls'", {"field": "output"}),
    Case("classify-bad-mapping", "API", 'classify(..., mappings=["foo"])',
         lambda: bouncekit.classify(_df(diagnostic=["a"]), mappings=["foo"]), IAE,
         r"unknown mapping 'foo' \(expected: sisimai, ses, sparkpost\)", {"field": "mappings"}),
    Case("classify-unknown-columns-key", "API", 'columns={"foo": "x"}',
         lambda: bouncekit.classify(_df(d=["a"]), columns={"diagnostic": "d", "foo": "x"}), NFE,
         r"columns= names 'foo', which is not an input column", {"field": "foo"}),
    Case("classify-mapped-column-missing", "API", 'columns={"diagnostic": "zzz"} (no such column)',
         lambda: bouncekit.classify(_df(d=["a"]), columns={"diagnostic": "zzz"}), NFE,
         r"column 'zzz' not found in the input; it has: d", {"column": "zzz"}),
    Case("classify-list-input", "API", "classify([1, 2, 3])", lambda: bouncekit.classify([1, 2, 3]), IAE,
         r"cannot read a list: pass a pandas/polars DataFrame"),
    Case("classify-no-input", "API", "classify()", lambda: bouncekit.classify(), IAE, r"no input: pass a table"),
    Case("classify-unequal-columns", "API", "dict of columns of different lengths",
         lambda: bouncekit.classify({"diagnostic": ["a", "b"], "reply_code": [550]}), IAE,
         r"column 'reply_code' has 1 rows but column 'diagnostic' has 2", {"column": "reply_code"}),
    Case("classify-empty-table", "API", "a table with no rows",
         lambda: bouncekit.classify(_df(diagnostic=pd.Series([], dtype=object))),
         check=lambda out: (len(out) == 0 and "bounce_class" in out.columns) or 1 / 0,
         sees="accepted: an empty result with every output column"),
    Case("classify-rules-wrong-type", "API", "classify(..., rules=5)",
         lambda: bouncekit.classify(_df(diagnostic=["a"]), rules=5), TypeError,  # type: ignore[arg-type]
         r"expected str, bytes or os\.PathLike object, not int"),
    # ---------------------------------------------------------------- files: rules
    Case("rules-missing-file", "file", "load_rules('nope.toml')", lambda: bouncekit.load_rules("nope.toml"), NFE,
         r"rule file not found: nope\.toml"),
    Case("rules-bad-regex", "file", "a rule whose text is not a valid RE2 regex",
         lambda: bouncekit.load_rules("bad_regex.toml"), IAE,
         r"bad_regex\.toml:6:8: rule 'r1': 'text' is not a valid RE2 regex: missing \)", {"line": 6, "field": "text"}),
    Case("rules-toml-syntax", "file", "an unclosed [table header", lambda: bouncekit.load_rules("syntax.toml"), IAE,
         r"syntax\.toml:1:9: expected '\]' to close the \[table\] header", {"line": 1}),
    Case("rules-duplicate-key", "file", "a key defined twice", lambda: bouncekit.load_rules("dup.toml"), IAE,
         r"dup\.toml:2:1: duplicate key 'a'", {"line": 2}),
    Case("rules-code-outside-2xx-5xx", "file", 'code = ["6xx"] (never a reply code)',
         lambda: bouncekit.load_rules("code6.toml"), IAE, r"bad reply-code pattern '6xx': reply codes run from 200",
         {"line": 4, "field": "code"}),
    Case("rules-bad-status-pattern", "file", 'status = ["5.1.1.1"]', lambda: bouncekit.load_rules("badstatus.toml"),
         IAE, r"bad status pattern '5\.1\.1\.1'", {"line": 4, "field": "status"}),
    Case("rules-missing-category", "file", "a rule without a category", lambda: bouncekit.load_rules("nocat.toml"),
         IAE, r"rule 'r': needs a 'category'", {"field": "category"}),
    Case("rules-date-value", "file", "a TOML date", lambda: bouncekit.load_rules("date.toml"), IAE,
         r"date\.toml:1:5: dates and times are not supported here", {"line": 1}),
    Case("rules-not-utf8", "file", "a rule file saved as Latin-1", lambda: bouncekit.load_rules("latin1.toml"), IAE,
         r"latin1\.toml:4:10: rule files must be UTF-8; byte 0xfc is not", {"line": 4}),
    Case("rules-bad-json", "file", "a JSON rule file with a trailing comma", lambda: bouncekit.load_rules("bad.json"),
         IAE, r"bad\.json:1:25: not valid JSON", {"line": 1}),
    Case("rules-tsv-bad-regex", "file", "a TSV rule whose diag_regex is not RE2",
         lambda: bouncekit.load_rules("bad_regex.tsv"), IAE, r"bad_regex\.tsv:2:4: rule '1': 'text' is not a valid RE2",
         {"line": 2}),
    Case("rules-tsv-short-row", "file", "a TSV row with too few fields", lambda: bouncekit.load_rules("short.tsv"),
         IAE, r"short\.tsv:2: every rule needs a category", {"line": 2}),
    Case("rules-empty-file", "file", "an empty rule file", lambda: bouncekit.load_rules("empty.toml"), IAE,
         r"a rule file needs at least one \[\[rules\]\] entry"),
    Case("rules-dict-no-category", "API", 'rules={"rules": [{"id": "x"}]}',
         lambda: bouncekit.classify(_df(diagnostic=["a"]), rules={"rules": [{"id": "x"}]}), IAE,
         r"rule 'x': needs a 'category'", {"field": "category"}),
    # ---------------------------------------------------------------- API/files: history
    Case("history-missing-ts", "API", "events without a ts column",
         lambda: bouncekit.suppress(_df(recipient=["a"], campaign_id=[1], bounce_class=["hard"])), NFE,
         r"column 'ts' not found in the input", {"column": "ts"}),
    Case("history-ts-strings", "API", "ts column of strings",
         lambda: bouncekit.suppress(_df(recipient=["a"], campaign_id=[1], ts=["x"], bounce_class=["hard"])), IAE,
         r"column 'ts' has type .*string; expected integers", {"column": "ts"}),
    Case("history-ts-fractional", "API", "ts 1.5",
         lambda: bouncekit.suppress(_df(recipient=["a"], campaign_id=[1], ts=[1.5], bounce_class=["hard"])), IAE,
         r"column 'ts' row 0: 1\.5 is not a whole number", {"row": 0, "column": "ts"}),
    Case("history-null-ts", "API", "a null ts (pandas Int64 <NA>)",
         lambda: bouncekit.suppress(_df(recipient=["a", "b"], campaign_id=[1, 2], ts=pd.array([1, None], dtype="Int64"),
                                        bounce_class=["hard", "soft"])), IAE,
         r"column 'ts' row 1: is null; every event needs a ts", {"row": 1, "column": "ts"}),
    Case("history-null-campaign", "API", "a null campaign_id (Arrow)",
         lambda: bouncekit.suppress(pa.table({"recipient": ["a", "b"], "campaign_id": pa.array([1, None], pa.int64()),
                                              "ts": [1, 2], "bounce_class": ["hard", "soft"]})), IAE,
         r"column 'campaign_id' row 1: is null", {"row": 1, "column": "campaign_id"}),
    Case("history-unknown-policy", "API", 'suppress(..., policy="lenient")',
         lambda: bouncekit.suppress(EV, policy="lenient"), NFE,
         r"unknown suppression policy 'lenient' \(known: standard\)", {"field": "policy"}),
    Case("history-unknown-class", "API", "bounce_class 'Soft', 'bounced', ''",
         lambda: bouncekit.aggregate({"recipient": ["a@x"] * 3, "campaign_id": [1] * 3, "ts": [1, 2, 3],
                                      "bounce_class": ["Soft", "bounced", ""]}),
         check=lambda out: (int(out["sent"].sum()) == 3 and int(out["soft"].sum()) == 0) or 1 / 0,
         sees="accepted: counted in sent only (SPEC.md: other classes change nothing else)"),
    Case("history-csv-non-integer-ts", "file", "a CSV whose ts cell is 'notanumber'",
         lambda: bouncekit.suppress("ts_text.csv"), IAE,
         r"ts_text\.csv: column 'ts' row 0: 'notanumber' is not an integer", {"row": 0, "column": "ts"}),
    Case("history-csv-missing-column", "file", "a CSV without ts", lambda: bouncekit.suppress("no_ts.csv"), NFE,
         r"no_ts\.csv: column 'ts' not found; the file has: recipient, campaign_id, bounce_class", {"column": "ts"}),
    Case("history-csv-null-campaign", "file", "a CSV with an empty campaign_id cell",
         lambda: bouncekit.suppress("null_campaign.csv"), IAE, r"column 'campaign_id' row 0: is null",
         {"row": 0, "column": "campaign_id"}),
    Case("history-unsupported-file", "file", "suppress('events.xlsx')", lambda: bouncekit.suppress("events.xlsx"), IAE,
         r"cannot read '\.xlsx' files here; use \.parquet or \.csv"),
    Case("history-file-missing", "file", "suppress('nope.csv')", lambda: bouncekit.suppress("nope.csv"), NFE,
         r"nope\.csv: no such file"),
    Case("history-empty-file", "file", "an empty CSV", lambda: bouncekit.suppress("empty.csv"), NFE,
         r"empty\.csv: column 'recipient' not found"),
    Case("history-batch-rows-zero", "API", "suppress(..., batch_rows=0)",
         lambda: bouncekit.suppress(EV, batch_rows=0), IAE, r"batch_rows must be a positive integer",
         {"field": "batch_rows"}),
    Case("history-nothing-to-compute", "API", "analyze_history(suppressions=False, aggregates=False)",
         lambda: bouncekit.analyze_history(EV, suppressions=False, aggregates=False), IAE,
         r"nothing to compute: ask for suppressions, aggregates or both"),
    Case("history-finish-twice", "API", "BounceHistory.finish() twice", _finish_twice, IAE,
         r"finish\(\) was already called"),
    Case("history-add-after-finish", "API", "BounceHistory.add() after finish()", _add_after_finish, IAE,
         r"add\(\) after finish\(\)"),
    # ---------------------------------------------------------------- API: output
    Case("write-csv-missing-dir", "API", "write_csv(table, '/nonexistent/dir/x.csv')",
         lambda: bouncekit.write_csv(_df(a=[1]), "/nonexistent/dir/x.csv"), NFE,
         r"cannot create output '/nonexistent/dir/x\.csv': No such file or directory"),
    Case("write-csv-not-a-table", "API", "write_csv([1, 2], 'o.csv')", lambda: bouncekit.write_csv([1, 2], "o.csv"),
         IAE, r"cannot write a list as CSV"),
    Case("write-csv-nested-column", "API", "write_csv of a list<int64> column",
         lambda: bouncekit.write_csv(pa.table({"a": pa.array([[1]], pa.list_(pa.int64()))}), "o.csv"), IAE,
         r"column 'a' has Arrow format '\+l', which the CSV writer does not take", {"column": "a"}),
    Case("sample-negative-rows", "API", "sample.responses(-5)",
         lambda: bouncekit.sample.responses(-5), IAE, r"number of rows must be a non-negative integer, not -5",
         {"field": "rows"}),
    Case("maillog-unknown-format", "API", 'parse_maillog(lines, format="postfx")',
         lambda: bouncekit.parse_maillog(["x"], format="postfx"), ValueError,
         r"format must be one of 'auto', 'postfix', 'exim', not 'postfx'"),
    Case("esp-unknown-provider", "API", 'parse_esp_json(records, provider="sendgird")',
         lambda: bouncekit.parse_esp_json(["{}"], provider="sendgird"), ValueError,
         r"provider must be one of 'auto', 'ses', 'sendgrid', 'mailgun', 'postmark', 'sparkpost', not 'sendgird'"),
    # ---------------------------------------------------------------- CLI (exit 1: one line on stderr; 2: usage)
    Case("cli-missing-input", "CLI", "bouncekit classify nope.csv", _cli("classify", "nope.csv"), CliExit,
         r"exit 1", sees="nope.csv: no such file"),
    Case("cli-no-diagnostic-column", "CLI", "bouncekit classify no_diag.csv", _cli("classify", "no_diag.csv"),
         CliExit, r"exit 1", sees="column 'diagnostic' not found in the input; it has: x, y. Map your names ..."),
    Case("cli-unterminated-quote", "CLI", "a CSV with an unterminated quote", _cli("classify", "unterminated.csv"),
         CliExit, r"exit 1", sees="unterminated.csv: cannot read as csv: CSV parse error: Expected 2 columns, got 1"),
    Case("cli-bad-jsonl", "CLI", "a JSON-lines file with a broken line", _cli("classify", "bad.jsonl"), CliExit,
         r"exit 1", sees="bad.jsonl: cannot read as jsonl: JSON parse error: ... in row 1"),
    Case("cli-corrupt-parquet", "CLI", "a .parquet file that is not Parquet", _cli("classify", "bad.parquet"),
         CliExit, r"exit 1", sees="bad.parquet: cannot read as parquet: ... Parquet magic bytes not found"),
    Case("cli-unknown-input-format", "CLI", "bouncekit classify events.xlsx", _cli("classify", "events.xlsx"),
         CliExit, r"exit 1", sees="events.xlsx: unknown file format '.xlsx' (use .csv, .parquet or .jsonl)"),
    Case("cli-unknown-profile", "CLI", "--profile nope", _cli("classify", "responses.csv", "--profile", "nope"),
         CliExit, r"exit 1", sees="unknown profile 'nope' (this rule set defines: default, ...)"),
    Case("cli-bad-rule-file", "CLI", "--rules bad_regex.toml",
         _cli("classify", "responses.csv", "--rules", "bad_regex.toml"), CliExit, r"exit 1",
         sees="bad_regex.toml:6:8: rule 'r1': 'text' is not a valid RE2 regex: missing ): (unclosed"),
    Case("cli-threads-zero", "CLI", "--threads 0", _cli("classify", "responses.csv", "--threads", "0"), CliExit,
         r"exit 1", sees="threads must be a positive integer, not 0"),
    Case("cli-threads-not-int", "CLI", "--threads abc", _cli("classify", "responses.csv", "--threads", "abc"),
         CliExit, r"exit 2", sees="usage + argument --threads: invalid int value: 'abc'"),
    Case("cli-bad-column-flag", "CLI", "--column foo (no '=')", _cli("classify", "responses.csv", "--column", "foo"),
         CliExit, r"exit 1", sees="--column expects OURS=YOURS (e.g. diagnostic=text), got 'foo'"),
    Case("cli-unknown-output-format", "CLI", "-o out.xlsx", _cli("classify", "responses.csv", "-o", "out.xlsx"),
         CliExit, r"exit 1", sees="out.xlsx: unknown file format '.xlsx' (use .csv, .parquet or .jsonl)"),
    Case("cli-output-dir-missing", "CLI", "-o /nonexistent/d/o.csv",
         _cli("classify", "responses.csv", "-o", "/nonexistent/d/o.csv"), CliExit, r"exit 1",
         sees="cannot create output '/nonexistent/d/o.csv': No such file or directory"),
    Case("cli-nothing-to-classify", "CLI", "bouncekit classify (no input)", _cli("classify"), CliExit, r"exit 1",
         sees="nothing to classify: give an INPUT file or --sample"),
    Case("cli-sample-negative-rows", "CLI", "bouncekit sample -n -5 -o s.csv", _cli("sample", "-n", "-5", "-o", "s.csv"),
         CliExit, r"exit 1", sees="--rows must be positive, got -5"),
    Case("cli-rules-unknown-profile", "CLI", "bouncekit rules --profile nope", _cli("rules", "--profile", "nope"),
         CliExit, r"exit 1", sees="unknown profile 'nope' (this rule set defines: default, ...)"),
    Case("cli-unknown-command", "CLI", "bouncekit frobnicate", _cli("frobnicate"), CliExit, r"exit 2",
         sees="usage + argument COMMAND: invalid choice: 'frobnicate'"),
]


@pytest.fixture()
def files(tmp_cwd: Path) -> Path:
    for name, data in FILES.items():
        (tmp_cwd / name).write_bytes(data)
    return tmp_cwd


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if case.error is None:
        out = case.run()
        assert case.check is not None
        case.check(out)
        return
    with pytest.raises(case.error) as info:
        case.run()
    assert re.search(case.message, str(info.value)), str(info.value)
    for k, v in case.attrs.items():
        assert getattr(info.value, k) == v, (k, getattr(info.value, k))
    if case.surface == "CLI":
        err = capsys.readouterr().err
        assert "Traceback" not in err
        # What the user sees is on stderr: for exit 1 exactly one line.
        expected = case.sees.split(" ... ")[0].split("...")[0].replace("usage + ", "")
        assert expected in err, err
        if "exit 1" in case.message:
            lines = [ln for ln in err.splitlines() if ln.strip()]
            assert len(lines) == 1 and lines[0].startswith("bouncekit: error: "), err


def test_cli_entry_point_prints_one_line_and_no_traceback(files: Path) -> None:
    """The real process: exit 1, one stderr line, no traceback."""
    r = subprocess.run([sys.executable, "-m", "bouncekit", "sample", "-n", "-5", "-o", "s.csv"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    assert r.stderr.strip() == "bouncekit: error: --rows must be positive, got -5"


def _doc_rows() -> List[Tuple[str, str, str, str]]:
    rows = []
    for c in CASES:
        if c.error is None:
            sees = c.sees
        elif c.surface == "CLI":
            rc = c.message.split()[-1]
            sees = f"exit {rc}; stderr: `{c.sees}`" if rc == "1" else f"exit {rc} (argparse); {c.sees}"
        else:
            try:
                c.run()
                sees = "(no error!)"
            except BaseException as e:  # noqa: BLE001 - the doc shows what the user sees
                attrs = ", ".join(f"{k}={getattr(e, k)!r}" for k in c.attrs)
                sees = f"`{type(e).__name__}`: {str(e).splitlines()[0]}" + (f" ({attrs})" if attrs else "")
        rows.append((c.id, c.surface, c.what, sees))
    return rows


def test_catalogue_matches_the_doc() -> None:
    text = DOC.read_text(encoding="utf-8")
    documented = re.findall(r"^\| `([a-z0-9-]+)` \|", text, flags=re.M)
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert documented == ids, "docs/bad-input.md is out of date: run python tests/python/test_bad_input.py --write-doc"
    assert len(ids) >= 30
    assert {c.surface for c in CASES} == {"API", "file", "CLI"}


def _write_doc(tmp: Path) -> None:
    import os
    old = os.getcwd()
    os.chdir(tmp)
    try:
        for name, data in FILES.items():
            (tmp / name).write_bytes(data)
        rows = _doc_rows()
    finally:
        os.chdir(old)
    head = DOC.read_text(encoding="utf-8").split("<!-- catalogue -->")[0] if DOC.exists() else ""
    lines = [head.rstrip("\n"), "", "<!-- catalogue -->", "", "| id | where | bad input | what the user sees |",
             "|---|---|---|---|"]
    for id_, surface, what, sees in rows:
        cell = lambda s: s.replace("|", "\\|").replace("\n", " ")  # noqa: E731
        lines.append(f"| `{id_}` | {surface} | {cell(what)} | {cell(sees)} |")
    DOC.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if "--write-doc" in sys.argv:
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            _write_doc(Path(d))
        print(f"wrote {DOC}")
