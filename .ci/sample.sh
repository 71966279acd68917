#!/usr/bin/env bash
# The README's main job: install bouncekit (idempotently) and analyze the
# bounce history bundled with it: classify 30,000 delivery attempts, decide
# whom to suppress, find campaign x domain spikes, and write the tables and a
# self-contained HTML report to build/sample-report/. Prints a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh
export MPLBACKEND="${MPLBACKEND:-Agg}"
"${PYTHON:-python3}" -m bouncekit analyze --sample --out-dir build/sample-report
