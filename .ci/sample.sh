#!/usr/bin/env bash
# The README's main job: install bouncekit (idempotently) and classify the
# sample bundled with it, printing a summary table.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh
"${PYTHON:-python3}" -m bouncekit classify --sample
