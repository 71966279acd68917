#!/usr/bin/env bash
# Builds every libFuzzer target (tests/fuzz/*_fuzz.cc) with clang into
# build/fuzz and runs each for a bounded time, seeded from
# tests/fuzz/corpus/<name>/. Fails on any crash, sanitizer report, broken
# invariant, timeout (-timeout: one input taking longer than
# BOUNCEKIT_FUZZ_TIMEOUT s is a hang, e.g. super-linear behaviour) or memory
# blow-up (-rss_limit_mb). Then checks that large inputs (1 MiB) stay linear:
# every target runs its largest seeds grown to 1 MiB within the timeout.
#
#   bash .ci/fuzz.sh                          # all targets, 20 s each
#   BOUNCEKIT_FUZZ_SECONDS=600 bash .ci/fuzz.sh status   # one target, longer
#
# New findings are written to build/fuzz/findings/<name>/ (crash-*, timeout-*
# files): turn each into a regression test, then fix the core.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${BOUNCEKIT_FUZZ_SECONDS:-20}"
TIMEOUT="${BOUNCEKIT_FUZZ_TIMEOUT:-10}"
JOBS="${BOUNCEKIT_FUZZ_JOBS:-2}"

if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: installing Debian clang (libFuzzer)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clang >/dev/null
fi

echo "== fuzz: build (clang, -fsanitize=fuzzer,address,undefined)"
CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBOUNCEKIT_FUZZ=ON \
  -DBOUNCEKIT_BUILD_TESTS=OFF >/dev/null
cmake --build build/fuzz -j "$JOBS"

# shellcheck source=.ci/fuzz_targets.sh
. .ci/fuzz_targets.sh
fuzz_targets "$@"

export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fail=0
for name in "${targets[@]}"; do
  bin="build/fuzz/tests/fuzz/${name}_fuzz"
  seeds="tests/fuzz/corpus/$name"
  work="build/fuzz/corpus/$name"      # grows across runs; never committed
  findings="build/fuzz/findings/$name"
  mkdir -p "$work" "$findings"
  [ -d "$seeds" ] || { echo "fuzz: $name has no seeds in $seeds" >&2; fail=1; continue; }
  echo "== fuzz: $name for ${SECONDS_PER_TARGET}s (seeds: $(ls "$seeds" | wc -l))"
  log="build/fuzz/$name.log"
  if "$bin" "$work" "$seeds" -max_total_time="$SECONDS_PER_TARGET" -timeout="$TIMEOUT" \
       -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix="$findings/" \
       >"$log" 2>&1; then
    grep -E "^stat::number_of_executed_units|^stat::average_exec_per_sec|^stat::peak_rss_mb" "$log" \
      | tr '\n' ' '; echo
    grep -E "^#[0-9]+[[:space:]]+DONE" "$log" | tail -n 1 || true
  else
    echo "fuzz: $name FAILED; artifacts in $findings" >&2
    grep -E -A30 "ERROR|fuzz invariant|Timeout|out-of-memory|runtime error" "$log" | head -60 >&2 || tail -n 40 "$log" >&2
    fail=1
    continue
  fi

  # Super-linear check: the 3 largest seeds, each repeated up to 1 MiB, must
  # run within the timeout (libFuzzer's -timeout applies to each input).
  big="build/fuzz/big/$name"
  rm -rf "$big"; mkdir -p "$big"
  i=0
  for s in $(ls -S "$seeds" | head -n 3); do
    python3 - "$seeds/$s" "$big/big$i" <<'EOF'
import sys
data = open(sys.argv[1], "rb").read() or b"5"
out = (data * (1048576 // len(data) + 1))[:1048576]
open(sys.argv[2], "wb").write(out)
EOF
    i=$((i + 1))
  done
  start=$(date +%s.%N)
  if ! "$bin" -timeout="$TIMEOUT" -rss_limit_mb=2048 "$big"/* >"build/fuzz/$name.big.log" 2>&1; then
    echo "fuzz: $name FAILED on 1 MiB inputs (timeout ${TIMEOUT}s or crash)" >&2
    tail -n 30 "build/fuzz/$name.big.log" >&2
    fail=1
    continue
  fi
  end=$(date +%s.%N)
  echo "fuzz: $name: 3 inputs of 1 MiB in $(python3 -c "print(f'{$end - $start:.2f}')") s"
done
if [ "$fail" -ne 0 ]; then
  echo "fuzz: FAILED" >&2
  exit 1
fi
echo "fuzz: OK (${#targets[@]} targets, ${SECONDS_PER_TARGET}s each, no crash)"
