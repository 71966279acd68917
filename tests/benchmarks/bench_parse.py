"""Benchmark of the bounce readers (issue 5), one thread.

E-mails/s: bouncekit.parse_emails on the Sisimai DEV e-mails (../shared,
207 files, ~1 MB) read into memory and repeated, against Debian's Sisimai
(libsisimai-perl, Sisimai->make on the same files, timed inside perl after
one untimed pass: its first pass also loads its modules, which made it look
~25% slower than it runs) and
flufl.bounce (python3-flufl.bounce, all_failures on the same messages),
measured in the same run. Log lines/s: parse_maillog on generated Postfix
lines (a realistic mix: connects, queue lines, sent/deferred/bounced).

    python tests/benchmarks/bench_parse.py [--repeat 50] [--sisimai-passes 6] [--log-lines 300000] [--rounds N] [--stages]

Prints the rates and the ratios; the target is >= 100x Sisimai's e-mails/s.
Everything bouncekit does here runs on the calling thread: the parse always,
and the classification with threads=1 (its default is every core).
Rates are per CPU second of the measuring process (time.process_time here,
perl's CLOCK_PROCESS_CPUTIME_ID for Sisimai): on a shared, overloaded machine
wall-clock time mostly measures waiting for a core, so CPU time is what
compares the three implementations fairly; wall-clock rates are printed next
to them. Each side's rate is its best run: bouncekit's best of 5 calls,
Sisimai's best of its timed passes (their mean is printed too).
Run it twice and keep the better run.
"""

from __future__ import annotations

import argparse
import email
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

# One thread means one thread: the rates are per CPU second of this process,
# and numpy's OpenBLAS threads (idle here, but spinning for a while after
# numpy starts them) would otherwise add their CPU time to bouncekit's.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import bouncekit  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

# Each pass timed on its own, in CPU seconds of the perl process
# (CLOCK_PROCESS_CPUTIME_ID: times() counts 10 ms ticks, too coarse for one
# ~0.15 s pass). Prints: total CPU s, results, wall s, then each pass's CPU s.
PERL = r"""
use strict; use warnings; use Sisimai;
use Time::HiRes qw(time clock_gettime CLOCK_PROCESS_CPUTIME_ID);
my ($dir, $passes) = @ARGV;
Sisimai->make($dir);  # untimed: Sisimai loads its MTA modules on first use
my $n = 0; my $t0 = time; my @each;
for (1..$passes) {
  my $c0 = clock_gettime(CLOCK_PROCESS_CPUTIME_ID);
  my $v = Sisimai->make($dir) || []; $n += scalar(@$v);
  push @each, clock_gettime(CLOCK_PROCESS_CPUTIME_ID) - $c0;
}
my $dt = time - $t0; my $cpu = 0; $cpu += $_ for @each;
print join(" ", $cpu, $n, $dt, @each), "\n";
"""


def emails_dir() -> Path:
    for cand in (REPO.parent / "shared", REPO / "shared"):
        d = cand / "corpora" / "sisimai" / "emails" / "maildir"
        if d.is_dir():
            return d
    sys.exit("bench_parse: ../shared/corpora/sisimai not found")


WALL: dict = {}


def best_of(fn, n: int = 3, key: str = "") -> float:  # type: ignore[no-untyped-def]
    """Best CPU seconds of n runs (the best wall seconds go to WALL[key])."""
    best = wall = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        c = time.process_time()
        fn()
        best = min(best, time.process_time() - c)
        wall = min(wall, time.perf_counter() - t)
    WALL[key] = wall
    return best


def sisimai_rate(files: List[Path], passes: int) -> Optional[float]:
    try:
        subprocess.run(["perl", "-MSisimai", "-e", "1"], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        print("Sisimai: libsisimai-perl not installed (apt-get install libsisimai-perl); skipped")
        return None
    with tempfile.TemporaryDirectory() as td:
        # Sisimai->make reads a Maildir-like folder of files.
        for i, f in enumerate(files):
            (Path(td) / f"{i:05d}.eml").write_bytes(f.read_bytes())
        out = subprocess.run(["perl", "-e", PERL, td, str(passes)], capture_output=True, text=True,
                             check=True).stdout.split()
    dt, n, wall = float(out[0]), int(out[1]), float(out[2])
    each = [float(x) for x in out[3:]]
    mean_rate = len(files) * passes / dt
    # The best pass, as bouncekit's rates are its best run: like with like.
    rate = len(files) / min(each)
    print(f"Sisimai {subprocess.run(['perl', '-MSisimai', '-e', 'print $Sisimai::VERSION'], capture_output=True, text=True).stdout}"
          f": best of {passes} passes of {len(files)} e-mails {min(each):.3f} CPU s = {rate:,.0f} e-mails/s "
          f"(mean {mean_rate:,.0f}/s; wall {len(files) * passes / wall:,.0f}/s; {n} results)")
    return rate


def flufl_rate(data: List[bytes], passes: int) -> Optional[float]:
    if "/usr/lib/python3/dist-packages" not in sys.path:
        sys.path.append("/usr/lib/python3/dist-packages")
    try:
        from flufl.bounce import all_failures  # type: ignore[import-not-found]
    except ImportError:
        print("flufl.bounce: not importable (apt-get install python3-flufl.bounce); skipped")
        return None
    import logging
    logging.getLogger("flufl.bounce").setLevel(logging.ERROR)

    def run() -> None:
        for _ in range(passes):
            for d in data:
                try:
                    all_failures(email.message_from_bytes(d))
                except Exception:
                    pass

    dt = best_of(run, 1, "flufl")
    rate = len(data) * passes / dt
    print(f"flufl.bounce: {len(data) * passes} e-mails in {dt:.2f} CPU s = {rate:,.0f} e-mails/s "
          f"(wall {len(data) * passes / WALL['flufl']:,.0f}/s)")
    return rate


def postfix_lines(n: int, seed: int = 7) -> List[bytes]:
    rnd = random.Random(seed)
    out: List[bytes] = []
    q = 0
    while len(out) < n:
        q += 1
        qid = f"{q:010X}"
        rcpt = f"user{rnd.randrange(10**6)}@example{rnd.randrange(500)}.com"
        out.append(f"Jan  1 00:00:{q % 60:02d} mx postfix/smtpd[9]: connect from c{q}.example.org[192.0.2.{q % 250}]".encode())
        out.append(f"Jan  1 00:00:{q % 60:02d} mx postfix/cleanup[10]: {qid}: message-id=<{q}@example.org>".encode())
        out.append(f"Jan  1 00:00:{q % 60:02d} mx postfix/qmgr[11]: {qid}: from=<news@example.org>, size=1200, nrcpt=1 (queue active)".encode())
        r = rnd.random()
        if r < 0.7:
            tail = "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4F2A1)"
        elif r < 0.85:
            tail = ("dsn=4.7.1, status=deferred (host mx.example.net[192.0.2.1] said: 451 4.7.1 "
                    "Greylisted, please try again later (in reply to RCPT TO command))")
        else:
            tail = (f"dsn=5.1.1, status=bounced (host mx.example.net[192.0.2.1] said: 550 5.1.1 <{rcpt}>: "
                    "Recipient address rejected: User unknown (in reply to RCPT TO command))")
        out.append(f"Jan  1 00:00:{q % 60:02d} mx postfix/smtp[12]: {qid}: to=<{rcpt}>, relay=mx.example.net[192.0.2.1]:25, "
                   f"delay=1.2, delays=0.1/0/0.5/0.6, {tail}".encode())
        out.append(f"Jan  1 00:00:{q % 60:02d} mx postfix/qmgr[11]: {qid}: removed".encode())
    return out[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    # Timings long enough to mean something on a shared VM: ~0.1 CPU s per
    # bouncekit round (best of 5), ~1 CPU s of Sisimai.
    ap.add_argument("--repeat", type=int, default=50, help="copies of the corpus parsed by bouncekit")
    ap.add_argument("--sisimai-passes", type=int, default=6, help="timed passes, after one untimed warm-up pass")
    ap.add_argument("--flufl-passes", type=int, default=2)
    ap.add_argument("--log-lines", type=int, default=300_000)
    ap.add_argument("--stages", action="store_true",
                    help="also print where parse_emails with classification spends its time: the core calls "
                         "(batched as parse_emails batches), the Arrow tables, the classification and the "
                         "pandas conversion (best of 15 each; uses bouncekit.parse's internal steps)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="more than 1: after the report, that many alternating rounds of bouncekit (core parse, "
                         "parse_emails without and with classification) and Sisimai, with the ratio of each round "
                         "and their medians (the VM's speed drifts; alternating rounds compare like with like)")
    args = ap.parse_args()

    files = sorted(p for p in emails_dir().rglob("*") if p.is_file())
    data = [f.read_bytes() for f in files]
    mb = sum(map(len, data)) / 1e6
    print(f"e-mails: {len(files)} Sisimai DEV samples ({mb:.2f} MB); one thread")

    batch = data * args.repeat
    from bouncekit import _core
    core_s = best_of(lambda: _core.parse_emails(batch), 5, "core")
    core_rate = len(batch) / core_s
    api_s = best_of(lambda: bouncekit.parse_emails(batch, classify=False), 5, "api")
    api_rate = len(batch) / api_s
    cls_s = best_of(lambda: bouncekit.parse_emails(batch, profile="sisimai", threads=1), 5, "cls")
    cls_rate = len(batch) / cls_s
    print(f"bouncekit core parse: {len(batch)} e-mails in {core_s:.3f} CPU s = {core_rate:,.0f} e-mails/s "
          f"({len(batch) * mb / len(data) / core_s:.1f} MB/s; wall {len(batch) / WALL['core']:,.0f}/s)")
    print(f"bouncekit.parse_emails (tables, no classification): {api_rate:,.0f} e-mails/s "
          f"(wall {len(batch) / WALL['api']:,.0f}/s)")
    print(f"bouncekit.parse_emails + classify: {cls_rate:,.0f} e-mails/s (wall {len(batch) / WALL['cls']:,.0f}/s)")

    s_rate = sisimai_rate(files, args.sisimai_passes)
    f_rate = flufl_rate(data, args.flufl_passes)

    lines = postfix_lines(args.log_lines)
    log_s = best_of(lambda: _core.parse_maillog(lines, "postfix"), 3, "log")
    log_api = best_of(lambda: bouncekit.parse_maillog(lines, classify=False), 2, "logapi")
    print(f"log lines: {len(lines)} Postfix lines: core {len(lines) / log_s:,.0f} lines/s, "
          f"parse_maillog (tables) {len(lines) / log_api:,.0f} lines/s")

    result = {"bouncekit_core_emails_per_s": core_rate, "bouncekit_api_emails_per_s": api_rate,
              "bouncekit_classified_emails_per_s": cls_rate, "sisimai_emails_per_s": s_rate,
              "flufl_emails_per_s": f_rate, "log_lines_per_s_core": len(lines) / log_s,
              "log_lines_per_s_api": len(lines) / log_api}
    if s_rate:
        print(f"ratio vs Sisimai: core {core_rate / s_rate:,.0f}x, parse_emails {api_rate / s_rate:,.0f}x, "
              f"with classification {cls_rate / s_rate:,.0f}x (target >= 100x)")
    if f_rate:
        print(f"ratio vs flufl.bounce: core {core_rate / f_rate:,.0f}x, parse_emails {api_rate / f_rate:,.0f}x")
    if args.stages:
        result.update(stages(batch))
    if args.rounds > 1 and s_rate:
        result.update(alternating_rounds(args.rounds, batch, files, args.sisimai_passes))
    print(json.dumps(result))


def stages(batch: List[bytes], n: int = 15) -> Dict[str, float]:
    """Best CPU ms of each step of parse_emails(batch, profile="sisimai",
    threads=1), run one after the other as parse_emails runs them (the core
    calls on parse_emails' own batches)."""
    from bouncekit import _core
    from bouncekit import parse as P
    best: Dict[str, float] = {}

    def timed(key: str, fn):  # type: ignore[no-untyped-def]
        c = time.process_time()
        out = fn()
        best[key] = min(best.get(key, float("inf")), (time.process_time() - c) * 1e3)
        return out

    def core() -> tuple:
        chunks, names = [], []
        for i, j in P._batch_bounds(batch):
            chunks.append(_core.parse_emails(batch[i:j], 32 << 20, 10000, i))  # as parse_emails calls it
            names.append((i, j - i))
        return chunks, names

    for _ in range(n):
        chunks, names = timed("core", core)
        events, errors, *_ = timed("tables", lambda: P._tables(chunks, names))
        events = timed("finish", lambda: P._finish_events(events))
        events = timed("classify", lambda: P._classify_events(events, "sisimai", None, 1))
        timed("pandas", lambda: (P._output(events, "pandas"), P._output(errors, "pandas")))
    total = sum(best.values())
    print(f"stages of parse_emails + classify, {len(batch)} e-mails, best of {n} CPU ms: "
          + ", ".join(f"{k} {v:.1f}" for k, v in best.items()) + f" (sum {total:.1f})")
    return {f"stage_{k}_ms": v for k, v in best.items()}


def alternating_rounds(rounds: int, batch: List[bytes], files: List[Path], passes: int) -> Dict[str, float]:
    """Rounds of bouncekit then Sisimai, each round's ratios and the medians."""
    import statistics

    from bouncekit import _core
    core, api, cls = [], [], []
    for r in range(rounds):
        core_rate = len(batch) / best_of(lambda: _core.parse_emails(batch), 5, "core")
        api_rate = len(batch) / best_of(lambda: bouncekit.parse_emails(batch, classify=False), 5, "api")
        cls_rate = len(batch) / best_of(lambda: bouncekit.parse_emails(batch, profile="sisimai", threads=1), 5, "cls")
        s_rate = sisimai_rate(files, passes)
        assert s_rate
        core.append(core_rate / s_rate)
        api.append(api_rate / s_rate)
        cls.append(cls_rate / s_rate)
        print(f"round {r + 1}: core {core[-1]:.0f}x, parse_emails {api[-1]:.0f}x, "
              f"parse_emails with classification {cls[-1]:.0f}x")
    med_core, med_api, med_cls = statistics.median(core), statistics.median(api), statistics.median(cls)
    print(f"{rounds} alternating rounds: core {min(core):.0f}x-{max(core):.0f}x (median {med_core:.0f}x), "
          f"parse_emails {min(api):.0f}x-{max(api):.0f}x (median {med_api:.0f}x), "
          f"with classification {min(cls):.0f}x-{max(cls):.0f}x (median {med_cls:.0f}x) (target >= 100x)")
    return {"rounds_core_ratio_median": med_core, "rounds_api_ratio_median": med_api,
            "rounds_classified_ratio_median": med_cls}


if __name__ == "__main__":
    main()
