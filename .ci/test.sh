#!/usr/bin/env bash
# The README's test command: install everything (idempotently), then run every
# test: the C++ GoogleTest suite through ctest, then pytest (which also runs
# the notebooks, the corpus scoring and the stub check).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
BOUNCEKIT_TEST_DEPS=1 bash .ci/setup.sh

echo "== C++ tests (GoogleTest via ctest)"
cmake -S . -B build/cpp -G Ninja -DCMAKE_BUILD_TYPE=Release -DBOUNCEKIT_BUILD_TESTS=ON >/dev/null
cmake --build build/cpp -j 2
ctest --test-dir build/cpp --output-on-failure -j 2

echo "== Python tests (pytest)"
# Run from the tests directory so that the installed package is imported.
"$PY" -m pytest -c pyproject.toml --rootdir . tests/python

# Sanitizers (ASan+UBSan+LSan: ctest and pytest, build/asan*) and bounded
# fuzzing of every libFuzzer target (build/fuzz); see docs/fuzzing.md.
if [ "${BOUNCEKIT_SKIP_SANITIZE:-0}" = 1 ]; then
  echo "== sanitizers: skipped (BOUNCEKIT_SKIP_SANITIZE=1)"
else
  bash .ci/sanitize.sh
fi
if [ "${BOUNCEKIT_SKIP_FUZZ:-0}" = 1 ]; then
  echo "== fuzz: skipped (BOUNCEKIT_SKIP_FUZZ=1)"
else
  BOUNCEKIT_FUZZ_SECONDS="${BOUNCEKIT_FUZZ_SECONDS:-15}" bash .ci/fuzz.sh
fi
