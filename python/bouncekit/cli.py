"""The ``bouncekit`` command line.

    bouncekit classify events.csv -o classified.parquet --profile sisimai
    bouncekit classify --sample            # the bundled sample, with a summary
    bouncekit sample -n 10000 -o sample.csv
    bouncekit rules [--profile P]          # list the rules in order

Exit codes: 0 success, 1 bad input or data error (one line on stderr),
2 usage error, 130 interrupted (no partial output file is left behind).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Dict, List, Optional, Sequence

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
    from ._files import write_table
    from .sample import responses
    df = responses(a.rows, seed=a.seed)
    write_table(df, a.output)
    print(f"wrote {len(df):,} rows to {a.output}", file=sys.stderr)
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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bouncekit",
        description="Understand email bounces: classify SMTP results, explain them, and summarise.",
        epilog="Run 'bouncekit COMMAND --help' for a command's options.")
    p.add_argument("--version", action="version", version=f"bouncekit {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = sub.add_parser("classify", help="classify a table of delivery results",
                       description="Classify every row of INPUT (CSV, Parquet or JSON lines) and write the "
                                   "result (one row per input row, same order) to OUTPUT, or print a summary.",
                       epilog="Input columns: reply_code, enhanced_status, diagnostic (required), and "
                              "optionally smtp_command, remote_host, action, destination. Map other names "
                              "with --column diagnostic=my_text_column.")
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

    s = sub.add_parser("sample", help="write synthetic delivery results",
                       description="Write N synthetic delivery results (seeded) to OUTPUT.")
    s.add_argument("-n", "--rows", type=int, default=10_000)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("-o", "--output", required=True)
    s.set_defaults(func=_cmd_sample)

    r = sub.add_parser("rules", help="list classification rules and profiles")
    r.add_argument("--rules", help="a rule file instead of the built-in rules")
    r.add_argument("--profile", help="only rules active in this profile")
    r.set_defaults(func=_cmd_rules)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    a = parser.parse_args(argv)
    try:
        return int(a.func(a))
    except BouncekitError as e:
        print(f"bouncekit: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bouncekit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
