#!/usr/bin/env python3
"""W1 end to end with bouncekit, as the peers do it: Parquet/CSV file in, CSV out.

    python3 w1_bouncekit.py --in events.parquet --out w1.csv [--rules rules.tsv] [--threads 1]

With --rules the given rule file is used (the spec's rules.tsv reproduces the
W1 oracle byte for byte); without it, the built-in rules (the output then has
bouncekit's own categories and rule ids).
"""

import argparse

import pyarrow as pa

import bouncekit


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--in", dest="inp", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rules")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    cols = ["reply_code", "enhanced_status", "diagnostic"]
    pa.set_cpu_count(max(1, a.threads))
    pa.set_io_thread_count(max(1, a.threads))
    rules = bouncekit.load_rules(a.rules) if a.rules else None
    header = ["bounce_class", "category", "rule_id"]
    # Stream: read a batch, classify it, append it to the CSV; memory stays
    # bounded by the batch size whatever the file size.
    with bouncekit.CsvWriter(a.out, header) as w:
        if a.inp.endswith(".parquet"):
            batches = bouncekit.io.iter_parquet(a.inp, cols)
        else:
            import pyarrow.csv as pcsv
            batches = pcsv.open_csv(a.inp, read_options=pcsv.ReadOptions(use_threads=a.threads > 1,
                                                                         block_size=1 << 26),
                                    convert_options=pcsv.ConvertOptions(
                                        include_columns=cols,
                                        column_types={"enhanced_status": pa.string(), "diagnostic": pa.string()},
                                        strings_can_be_null=False))
        for batch in batches:
            out = bouncekit.classify(batch, rules=rules, threads=a.threads, output="arrow", progress=False,
                                     fields=header)
            w.write(out)

if __name__ == "__main__":
    main()
