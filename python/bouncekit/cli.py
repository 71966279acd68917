"""The ``bouncekit`` command line.

    bouncekit classify events.csv -o classified.parquet --profile sisimai
    bouncekit classify --sample            # the bundled sample, with a summary
    bouncekit analyze --sample             # suppression list, aggregates, alerts, HTML report
    bouncekit analyze history.parquet --out-dir out/ --format parquet
    bouncekit report history.parquet -o report.html
    bouncekit sample --kind history -n 1000000 -o history.parquet
    bouncekit rules [--profile P]          # list the rules in order
    bouncekit parse bounces/ -o events.csv # DSN e-mails, MTA logs or ESP JSON -> event table
    bouncekit simulate --schedule postfix --schedule exim --mix greylisted=0.5,mailbox_full=0.5

Exit codes: 0 success, 1 bad input or data error (one line on stderr),
2 usage error, 130 interrupted (no partial output file is left behind).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, NoReturn, Optional, Sequence

from . import __version__
from .errors import BouncekitError, InvalidArgumentError

__all__ = ["main"]


def _parse_columns(items: Sequence[str]) -> Dict[str, Optional[str]]:
    out: Dict[str, Optional[str]] = {}
    for it in items:
        if "=" not in it:
            raise InvalidArgumentError(f"--column expects OURS=YOURS (e.g. diagnostic=text), got '{it}'")
        k, v = it.split("=", 1)
        out[k.strip()] = v.strip() or None
    return out


def _summary(out: Any, truth: Any = None) -> str:
    import pandas as pd
    n = len(out)
    lines = [f"{n:,} responses classified"]
    cls = out["bounce_class"].astype(str).value_counts()
    lines.append("")
    lines.append(f"{'class':<14}{'rows':>10}{'share':>9}")
    for k, v in cls.items():
        lines.append(f"{k:<14}{v:>10,}{100 * v / max(n, 1):>8.1f}%")
    failures = out[~out["bounce_class"].astype(str).isin(["delivered"])]
    if len(failures):
        lines.append("")
        lines.append(f"{'category (non-delivered)':<26}{'class':<10}{'blame':<16}{'rows':>8}")
        g = (failures.assign(c=failures["category"].astype(str), k=failures["bounce_class"].astype(str),
                             b=failures["blame"].astype(str))
             .groupby(["c", "k", "b"], observed=True).size().sort_values(ascending=False))
        for (c, k, b), v in g.head(15).items():
            lines.append(f"{c:<26}{k:<10}{b:<16}{v:>8,}")
        if len(g) > 15:
            lines.append(f"... {len(g) - 15} more")
    if truth is not None:
        agree = (out["category"].astype(str).to_numpy() == pd.Series(truth).astype(str).to_numpy()).mean()
        lines.append("")
        lines.append(f"agreement with the sample's generating category: {100 * agree:.1f}%")
    return "\n".join(lines)


def _cmd_classify(a: argparse.Namespace) -> int:
    import bouncekit
    from ._files import read_table, write_table
    from .sample import load_sample
    truth = None
    if a.sample:
        if a.input:
            raise InvalidArgumentError("give either an INPUT file or --sample, not both")
        data: Any = load_sample()
        truth = data.pop("truth_category")
    elif a.input:
        data = read_table(a.input, string_columns=("enhanced_status", "diagnostic", "smtp_command",
                                                  "remote_host", "action", "destination", "reply_code"))
    else:
        raise InvalidArgumentError("nothing to classify: give an INPUT file or --sample")
    out = bouncekit.classify(data, columns=_parse_columns(a.column), rules=a.rules, profile=a.profile,
                             threads=a.threads, mappings=a.mappings, explain=a.explain,
                             progress=a.progress)
    if a.output:
        write_table(out, a.output)
        print(f"wrote {len(out):,} rows to {a.output}", file=sys.stderr)
    if a.summary or not a.output:
        print(_summary(out, truth))
    return 0


def _cmd_sample(a: argparse.Namespace) -> int:
    from ._files import file_format, write_table
    file_format(a.output)  # an unknown suffix fails before any work
    if a.rows < 1:
        raise InvalidArgumentError(f"--rows must be positive, got {a.rows}")
    if a.kind == "history":
        from .generate import history
        df = history(a.rows, seed=a.seed, domains=a.domains, campaigns=a.campaigns)
    else:
        from .sample import responses
        df = responses(a.rows, seed=a.seed)
    write_table(df, a.output)
    print(f"wrote {len(df):,} rows to {a.output}", file=sys.stderr)
    return 0


def _load_events(a: argparse.Namespace) -> Any:
    from ._files import read_table
    if a.sample:
        if a.input:
            raise InvalidArgumentError("give either an INPUT file or --sample, not both")
        from .generate import load_sample_history
        return load_sample_history()
    if not a.input:
        raise InvalidArgumentError("nothing to analyze: give an INPUT file or --sample")
    return read_table(a.input, string_columns=("enhanced_status", "diagnostic", "smtp_command", "remote_host",
                                               "action", "destination", "reply_code", "recipient",
                                               "bounce_class", "category"))


def _analysis(a: argparse.Namespace) -> Any:
    from .report import analyze
    from .rules import profiles
    known = [name for name, _ in profiles()]
    if a.profile not in known:
        raise InvalidArgumentError(f"unknown profile '{a.profile}' (known: {', '.join(known)})")
    events = _load_events(a)
    return analyze(events, policy=a.policy, profile=a.profile, columns=_parse_columns(a.column),
                   threads=a.threads, progress=a.progress, min_sent=a.min_sent)


def _cmd_analyze(a: argparse.Namespace) -> int:
    from ._files import write_table
    from .report import write_html
    ext = {"csv": ".csv", "parquet": ".parquet", "jsonl": ".jsonl"}[a.format]
    out = Path(a.out_dir)
    if out.exists() and not out.is_dir():
        raise InvalidArgumentError(f"--out-dir {out}: exists and is not a directory")
    res = _analysis(a)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in (("suppressions", res.suppressions), ("aggregates", res.aggregates),
                        ("alerts", res.alerts)):
        path = out / f"{name}{ext}"
        write_table(table, path)
        written.append(path)
    report = Path(a.report) if a.report else out / "report.html"
    write_html(res.to_html(a.title), report)
    written.append(report)
    print(res.summary_text())
    print()
    for pth in written:
        print(f"wrote {pth}")
    return 0


def _cmd_history(a: argparse.Namespace) -> int:
    import bouncekit
    if not a.suppressions and not a.aggregates:
        raise InvalidArgumentError("nothing to write: give --suppressions FILE, --aggregates FILE or both")
    for opt, path in (("--suppressions", a.suppressions), ("--aggregates", a.aggregates)):
        if path and not str(path).lower().endswith(".csv"):
            raise InvalidArgumentError(f"{opt} {path}: this command writes CSV (.csv); 'bouncekit analyze "
                                       f"--format parquet' writes Parquet")
    f = bouncekit.write_history_csv(a.input, suppressions=a.suppressions, aggregates=a.aggregates,
                                    policy=a.policy, columns=_parse_columns(a.column), threads=a.threads,
                                    progress=a.progress)
    recipients = "" if f.recipients is None else f", {f.recipients:,} recipients"
    print(f"read {f.rows:,} events{recipients}")
    if f.suppressions is not None:
        print(f"wrote {f.suppressed:,} suppressed recipients to {f.suppressions}")
    if f.aggregates is not None:
        print(f"wrote {f.aggregate_cells:,} campaign x domain rows to {f.aggregates}")
    return 0


def _cmd_report(a: argparse.Namespace) -> int:
    from .report import write_html
    if Path(a.output).suffix.lower() not in (".html", ".htm"):
        raise InvalidArgumentError(f"-o {a.output}: the report is HTML; give a .html file name")
    res = _analysis(a)
    write_html(res.to_html(a.title), a.output)
    print(f"wrote {a.output} ({res.rows:,} events, {len(res.suppressions):,} suppressed, "
          f"{len(res.alerts)} alerts)", file=sys.stderr)
    return 0


def _cmd_parse(a: argparse.Namespace) -> int:
    from ._files import file_format, write_table
    from .parse import parse_emails, parse_esp_json, parse_maillog
    file_format(a.output)  # an unknown suffix fails before any work
    if a.errors:
        file_format(a.errors)
    missing = [p for p in a.inputs if not os.path.exists(p)]
    if missing:
        raise InvalidArgumentError(f"{missing[0]}: no such file or directory")
    results = []
    for src in a.inputs:
        if a.kind == "email":
            results.append(parse_emails(src, profile=a.profile, progress=a.progress))
        elif a.kind == "maillog":
            results.append(parse_maillog(src, profile=a.profile, progress=a.progress))
        else:
            results.append(parse_esp_json(src, profile=a.profile, progress=a.progress))
    import pandas as pd
    events = pd.concat([r.events for r in results], ignore_index=True)
    errors = pd.concat([r.errors for r in results], ignore_index=True)
    write_table(events, a.output)
    if a.errors:
        write_table(errors, a.errors)
    records = sum(r.summary()["records"] for r in results)
    with_events = sum(r.summary()["records_with_events"] for r in results)
    skipped = sum(r.summary()["records_skipped"] for r in results)
    print(f"{records:,} records: {with_events:,} with events, {skipped:,} skipped, {len(errors):,} errors; "
          f"{len(events):,} events written to {a.output}", file=sys.stderr)
    if len(errors) and not a.errors:
        print("(give --errors FILE to keep the per-record errors)", file=sys.stderr)
    return 0


def _parse_mix(text: str) -> Dict[str, float]:
    mix: Dict[str, float] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise InvalidArgumentError(f"--mix expects CATEGORY=SHARE,..., got '{part.strip()}'")
        k, v = part.split("=", 1)
        try:
            mix[k.strip()] = float(v)
        except ValueError:
            raise InvalidArgumentError(f"--mix: share of '{k.strip()}' is not a number: '{v.strip()}'") from None
    if not mix:
        raise InvalidArgumentError("--mix is empty")
    return mix


def _cmd_simulate(a: argparse.Namespace) -> int:
    from . import retry
    if a.output:
        from ._files import file_format
        file_format(a.output)
    names = a.schedule or ["postfix"]
    schedules = []
    for n in names:
        if n not in retry.PRESETS:
            raise InvalidArgumentError(f"unknown schedule '{n}' (known: {', '.join(retry.PRESETS)})")
        schedules.append(retry.preset(n))
    if a.exim_rule:
        schedules.append(retry.exim(a.exim_rule))
    table = retry.compare(schedules, _parse_mix(a.mix), window=a.window, messages=a.messages, seed=a.seed)
    import pandas as pd
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table.to_string(index=False))
    if a.output:
        from ._files import write_table
        write_table(table, a.output)
        print(f"wrote {a.output}", file=sys.stderr)
    return 0


def _cmd_rules(a: argparse.Namespace) -> int:
    import bouncekit
    rs = bouncekit.load_rules(a.rules) if a.rules else bouncekit.builtin_rules()
    if a.profile and a.profile not in [name for name, _ in rs.profiles]:
        raise bouncekit.NotFoundError(f"unknown profile {a.profile!r} (this rule set defines: "
                                      f"{', '.join(name for name, _ in rs.profiles)})", field="profile")
    for name, desc in rs.profiles:
        print(f"profile {name}: {desc}")
    print()
    for r in rs.rules():
        if a.profile and r["profiles"] and a.profile not in r["profiles"]:
            continue
        conds = []
        for k in ("code", "status", "command", "action"):
            if r[k]:
                conds.append(f"{k}={','.join(r[k])}")
        for k in ("text", "not_text"):
            if r[k]:
                conds.append(f"{k}=/{r[k][:50]}{'...' if len(r[k]) > 50 else ''}/")
        print(f"{r['id']:<36} -> {r['category']:<22} {' '.join(conds)}")
    return 0


_EXAMPLES_MAIN = """\
examples:
  bouncekit analyze --sample                 # the bundled history: summary + bouncekit-report/report.html
  bouncekit classify events.csv -o out.parquet
  bouncekit analyze events.parquet --out-dir out/ --format parquet
  bouncekit report events.parquet -o report.html
  bouncekit history events.parquet --suppressions suppress.csv   # W2 straight to CSV
  bouncekit sample --kind history -n 100000 -o history.parquet

Files are read and written by extension: .csv, .parquet, .jsonl.
Exit codes: 0 ok, 1 bad input or data error (one line on stderr), 2 usage error,
130 interrupted (Ctrl-C; no partial output file is left behind).
Run 'bouncekit COMMAND --help' for a command's options and examples."""

_EXAMPLES_CLASSIFY = """
examples:
  bouncekit classify --sample                           # print a summary of the bundled sample
  bouncekit classify bounces.csv -o classified.parquet  # one output row per input row
  bouncekit classify logs.jsonl --column diagnostic=text --profile sisimai --mappings -o out.csv"""

_EXAMPLES_ANALYZE = """\
input columns: recipient, campaign_id, ts (epoch seconds or a timestamp) and
either bounce_class (delivered/soft/hard/block) or the classifier's inputs
(diagnostic, optionally reply_code, enhanced_status, ...): then rows are
classified first. Map other names with --column recipient=email.

outputs (in --out-dir): suppressions, aggregates, alerts (.csv by default)
and report.html.

examples:
  bouncekit analyze --sample
  bouncekit analyze history.parquet --out-dir weekly/ --format parquet
  bouncekit analyze export.csv --column recipient=email --column ts=sent_at"""

_EXAMPLES_REPORT = """\
examples:
  bouncekit report --sample -o report.html
  bouncekit report history.parquet -o report.html --title 'March campaigns'"""

_EXAMPLES_SAMPLE = """\
examples:
  bouncekit sample -n 10000 -o responses.csv                   # SMTP results + true category
  bouncekit sample --kind history -n 1000000 -o history.parquet  # about 5 s
  bouncekit analyze history.parquet"""


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr (exit code 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="bouncekit",
        description="Understand email bounces: classify SMTP results, explain them, decide whom to "
                    "suppress, and report on campaigns.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_EXAMPLES_MAIN)
    p.add_argument("--version", action="version", version=f"bouncekit {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    c = sub.add_parser("classify", help="classify a table of delivery results",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Classify every row of INPUT (CSV, Parquet or JSON lines) and write the "
                                   "result (one row per input row, same order) to OUTPUT, or print a summary.",
                       epilog="Input columns: reply_code, enhanced_status, diagnostic (required), and\n"
                              "optionally smtp_command, remote_host, action, destination. Map other names\n"
                              "with --column diagnostic=my_text_column.\n" + _EXAMPLES_CLASSIFY)
    c.add_argument("input", nargs="?", help="input file (.csv, .parquet, .jsonl)")
    c.add_argument("-o", "--output", help="output file (.csv, .parquet, .jsonl); written atomically")
    c.add_argument("--sample", action="store_true", help="classify the sample bundled with bouncekit")
    c.add_argument("--rules", help="a rule file (TOML or TSV) instead of the built-in rules")
    c.add_argument("--profile", default="default",
                   help="default, sisimai, ses, strict_rfc, mailgun (or one from --rules)")
    c.add_argument("--threads", type=int, default=None, help="worker threads (default: all cores)")
    c.add_argument("--column", action="append", default=[], metavar="OURS=YOURS",
                   help="map an input column name, e.g. diagnostic=text (repeatable)")
    c.add_argument("--mappings", action="store_true", help="add Sisimai, SES and SparkPost columns")
    c.add_argument("--explain", action="store_true", help="per-row explanations with the matched text")
    c.add_argument("--summary", action="store_true", help="print the summary also when writing OUTPUT")
    c.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show a progress bar (default: for large inputs on a terminal)")
    c.set_defaults(func=_cmd_classify)

    s = sub.add_parser("sample", help="write synthetic data (a bounce history or single responses)",
                       description="Write N synthetic rows (seeded) to OUTPUT (.csv, .parquet or .jsonl).",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog=_EXAMPLES_SAMPLE)
    s.add_argument("--kind", choices=("history", "responses"), default="responses",
                   help="history: campaigns to a list, one row per attempt, with recipients, timestamps, "
                        "retries and opens; responses: independent SMTP results with their true category "
                        "(default)")
    s.add_argument("-n", "--rows", type=int, default=10_000, help="rows to write (default 10000)")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    s.add_argument("--domains", type=int, default=200, help="history: distinct domains (default 200)")
    s.add_argument("--campaigns", type=int, default=24, help="history: campaigns (default 24)")
    s.add_argument("-o", "--output", required=True, help="output file (.csv, .parquet, .jsonl)")
    s.set_defaults(func=_cmd_sample)

    for name in ("analyze", "report"):
        if name == "analyze":
            x = sub.add_parser("analyze", help="suppression list, campaign x domain aggregates, alerts, HTML report",
                               description="Analyze a bounce history: classify it when it has no bounce_class "
                                           "column, compute who to suppress (policy), per campaign x domain "
                                           "counts and flags, alerts with recommended actions, and write them "
                                           "with an HTML report into --out-dir. Prints a summary.",
                               formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_EXAMPLES_ANALYZE)
            x.add_argument("--out-dir", default="bouncekit-report",
                           help="directory for suppressions, aggregates, alerts and report.html "
                                "(default ./bouncekit-report)")
            x.add_argument("--format", choices=("csv", "parquet", "jsonl"), default="csv",
                           help="format of the written tables (default csv)")
            x.add_argument("--report", help="write the HTML report here instead of OUT_DIR/report.html")
            x.set_defaults(func=_cmd_analyze)
        else:
            x = sub.add_parser("report", help="write the HTML report of a bounce history",
                               description="Analyze a bounce history like 'analyze' and write only the HTML "
                                           "report (one self-contained file: charts, spikes, suppressions).",
                               formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_EXAMPLES_REPORT)
            x.add_argument("-o", "--output", required=True, help="the report file (.html)")
            x.set_defaults(func=_cmd_report)
        x.add_argument("input", nargs="?", help="events file (.csv, .parquet, .jsonl)")
        x.add_argument("--sample", action="store_true", help="use the history bundled with bouncekit")
        x.add_argument("--policy", default="standard", help="suppression policy (default: standard)")
        x.add_argument("--profile", default="default", help="classification profile when classifying")
        x.add_argument("--column", action="append", default=[], metavar="OURS=YOURS",
                       help="map a column name, e.g. recipient=email (repeatable)")
        x.add_argument("--threads", type=int, default=None, help="worker threads (default: all cores)")
        x.add_argument("--min-sent", type=int, default=20,
                       help="smallest campaign x domain cell that can raise an alert (default 20)")
        x.add_argument("--title", default="bouncekit report", help="the report's title")
        x.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="show progress bars (default: for large inputs on a terminal)")

    h = sub.add_parser("history", help="suppression list and/or campaign x domain aggregates, straight to CSV",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="The fast path of 'analyze' for histories that already have a bounce_class "
                                   "column: the suppression list (policy 'standard', the benchmark's W2) and the "
                                   "campaign x domain counts and flags (W3), computed in one pass and written by "
                                   "the core as CSV, without building tables (a Parquet file the core reads by "
                                   "itself needs neither numpy nor pyarrow). Only the files asked for are "
                                   "computed.",
                       epilog="input columns: recipient, campaign_id, ts (integer epoch seconds) and bounce_class\n"
                              "(delivered, soft, hard, block; other values only count as sent).\n\n"
                              "examples:\n  bouncekit history events.parquet --suppressions suppress.csv\n"
                              "  bouncekit history events.csv --aggregates cells.csv --column recipient=email")
    h.add_argument("input", help="events file (.parquet or .csv)")
    h.add_argument("--suppressions", help="write the suppression list here (.csv)")
    h.add_argument("--aggregates", help="write the campaign x domain aggregates here (.csv)")
    h.add_argument("--policy", default="standard", help="suppression policy (default: standard)")
    h.add_argument("--column", action="append", default=[], metavar="OURS=YOURS",
                   help="map a column name, e.g. recipient=email (repeatable)")
    h.add_argument("--threads", type=int, default=None, help="worker threads (default: all cores)")
    h.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show a progress bar (default: for large inputs on a terminal)")
    h.set_defaults(func=_cmd_history)

    pa_ = sub.add_parser("parse", help="read bounces where they live: DSN e-mails, MTA logs, ESP JSON",
                         formatter_class=argparse.RawDescriptionHelpFormatter,
                         description="Turn bounce e-mails (files, folders, mbox, Maildir), Postfix/Exim logs or "
                                     "ESP event exports (SES, SendGrid, Mailgun, Postmark, SparkPost JSON lines) "
                                     "into one classified event table. Records that cannot be read go to --errors; "
                                     "records in = records with events + skipped + errors.",
                         epilog="examples:\n  bouncekit parse bounces/ -o events.parquet\n"
                                "  bouncekit parse /var/log/mail.log --kind maillog -o events.csv\n"
                                "  bouncekit parse ses-events.jsonl --kind esp -o events.csv --errors errors.csv")
    pa_.add_argument("inputs", nargs="+", metavar="INPUT", help="files or folders")
    pa_.add_argument("--kind", choices=("email", "maillog", "esp"), default="email",
                     help="what the inputs hold (default: email)")
    pa_.add_argument("-o", "--output", required=True, help="events file (.csv, .parquet, .jsonl)")
    pa_.add_argument("--errors", help="write the per-record errors here")
    pa_.add_argument("--profile", default="default", help="classification profile")
    pa_.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="show a progress bar (default: for large inputs on a terminal)")
    pa_.set_defaults(func=_cmd_parse)

    sm = sub.add_parser("simulate", help="what a retry schedule delivers for a mix of bounce causes",
                        formatter_class=argparse.RawDescriptionHelpFormatter,
                        description="Compare retry schedules (MTA presets, or an Exim retry rule) on a mix of "
                                    "temporary-failure causes: share delivered (within --window), attempts per "
                                    "message, delivery-time quantiles and the share that expires into a hard "
                                    "bounce.",
                        epilog="examples:\n  bouncekit simulate --schedule postfix --schedule exim "
                               "--schedule mailgun --mix greylisted=0.4,mailbox_full=0.3,rate_limited=0.3\n"
                               "  bouncekit simulate --exim-rule 'F,2h,15m; G,16h,1h,1.5; F,4d,6h' "
                               "--mix mailbox_full=1 --window 24h")
    sm.add_argument("--schedule", action="append", default=[], metavar="PRESET",
                    help="a preset schedule (repeatable; default postfix): postfix, exim, sendmail, exchange, "
                         "kumomta, haraka, mailgun, mailpro, ses, sendgrid, mailchimp, rfc5321, ...")
    sm.add_argument("--exim-rule", help="an Exim retry rule, e.g. 'F,2h,15m; G,16h,1h,1.5; F,4d,6h'")
    sm.add_argument("--mix", default="greylisted=0.4,mailbox_full=0.3,rate_limited=0.3",
                    help="CATEGORY=SHARE,... summing to 1 (default: greylisted=0.4,mailbox_full=0.3,"
                         "rate_limited=0.3)")
    sm.add_argument("--window", default=None, help="also report delivery within this time, e.g. 24h")
    sm.add_argument("--messages", type=int, default=1_000_000, help="Monte Carlo messages (default 10^6)")
    sm.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    sm.add_argument("-o", "--output", help="also write the table (.csv, .parquet, .jsonl)")
    sm.set_defaults(func=_cmd_simulate)

    r = sub.add_parser("rules", help="list classification rules and profiles")
    r.add_argument("--rules", help="a rule file instead of the built-in rules")
    r.add_argument("--profile", help="only rules active in this profile")
    r.set_defaults(func=_cmd_rules)
    return p


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text if len(text) <= 400 else text[:397] + "..."


_INTERRUPTED = False


def _on_sigint(signum: int, frame: Any) -> None:
    # Remember the interrupt: C extensions may turn the KeyboardInterrupt raised
    # here into another exception (an ImportError during an import, say).
    global _INTERRUPTED
    _INTERRUPTED = True
    raise KeyboardInterrupt


def main(argv: Optional[List[str]] = None) -> int:
    """Runs the command line; returns the exit code."""
    import signal
    import threading
    owner = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, _on_sigint) if owner else None
    try:
        return _main(argv)
    except BaseException:
        if _INTERRUPTED:
            print("bouncekit: interrupted", file=sys.stderr)
            return 130
        raise
    finally:
        if owner:
            # In the command line's own process (argv None) the work is over
            # and its output complete or removed: a Ctrl-C from here to the
            # exit changes nothing, and would otherwise kill the interpreter by
            # signal while it shuts down. A caller's own handler comes back.
            if argv is None:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
            else:
                signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)


def _main(argv: Optional[List[str]]) -> int:
    parser = build_parser()
    try:
        a = parser.parse_args(argv)
        return int(a.func(a))
    except KeyboardInterrupt:
        print("bouncekit: interrupted", file=sys.stderr)
        return 130
    except BouncekitError as e:
        if _INTERRUPTED:
            raise KeyboardInterrupt from None
        print(f"bouncekit: error: {_one_line(e)}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except (OSError, ValueError, KeyError, TypeError) as e:
        # pyarrow / pandas errors on bad files land here: one line, no traceback.
        if _INTERRUPTED or os.environ.get("BOUNCEKIT_DEBUG"):
            raise
        where = f"{e.filename}: " if isinstance(e, OSError) and e.filename else ""
        msg = e.strerror if isinstance(e, OSError) and e.strerror else _one_line(e)
        print(f"bouncekit: error: {where}{msg}", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 - the CLI's promise: one line, never a traceback
        if _INTERRUPTED or os.environ.get("BOUNCEKIT_DEBUG"):
            raise
        print(f"bouncekit: error: {type(e).__name__}: {_one_line(e)} (set BOUNCEKIT_DEBUG=1 for a traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
