#!/usr/bin/env bash
# The long fuzz run (issue 7): every libFuzzer target (or the ones named)
# for a fixed number of executions (default 10^7), one process per target,
# using the binaries and growing corpora of .ci/fuzz.sh (build/fuzz). Not part
# of CI (hours on a 2-core machine); run it on a quiet or many-core machine:
#
#   bash .ci/fuzz.sh status            # builds build/fuzz once (any target)
#   bash .ci/fuzz_long.sh              # all targets, 10^7 executions each
#   BOUNCEKIT_FUZZ_RUNS=1000000 bash .ci/fuzz_long.sh classify toml
#   BOUNCEKIT_FUZZ_PARALLEL=2 bash .ci/fuzz_long.sh   # two targets at a time
#   BOUNCEKIT_FUZZ_PARALLEL=2 BOUNCEKIT_FUZZ_CPUS=0,1 bash .ci/fuzz_long.sh dsn history
#                                # each target pinned to one core (taskset): the
#                                # history target runs two threads per input,
#                                # which wait on each other's time slices when
#                                # the cores are shared (800 -> 1,250 exec/s here)
#   BOUNCEKIT_FUZZ_FORK=2 bash .ci/fuzz_long.sh dsn   # one target, two processes
#                                # (libFuzzer -fork: -runs counts both; timeouts
#                                # and OOMs still fail the run; but every job
#                                # reloads the corpus: 3-4x fewer executions per
#                                # second than one process on dsn and history)
#   # faster, UBSan only (no ASan): a second tree, same corpora
#   CXX=clang++ cmake -S . -B build/fuzz-ub -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
#     -DBOUNCEKIT_FUZZ=ON -DBOUNCEKIT_BUILD_TESTS=OFF -DBOUNCEKIT_FUZZ_SANITIZERS=undefined
#   cmake --build build/fuzz-ub && BOUNCEKIT_FUZZ_BUILD=build/fuzz-ub bash .ci/fuzz_long.sh
#
# Inputs are capped at BOUNCEKIT_FUZZ_MAX_LEN bytes (default 4096, libFuzzer's
# own default): large inputs are covered by .ci/fuzz.sh's 1 MiB linearity
# check, and small ones give far more executions per second. Each target's
# figures (executions, exec/s, peak RSS, new coverage) go to
# $BOUNCEKIT_FUZZ_BUILD/long/<name>.log and one summary line per target is printed.
# Any crash, sanitizer report, broken invariant, timeout or OOM fails the run
# and leaves the input in build/fuzz/findings/<name>/.
set -uo pipefail
cd "$(dirname "$0")/.."
RUNS="${BOUNCEKIT_FUZZ_RUNS:-10000000}"
MAX_LEN="${BOUNCEKIT_FUZZ_MAX_LEN:-4096}"
TIMEOUT="${BOUNCEKIT_FUZZ_TIMEOUT:-10}"
PARALLEL="${BOUNCEKIT_FUZZ_PARALLEL:-1}"
FORK="${BOUNCEKIT_FUZZ_FORK:-0}"           # > 0: that many processes share one target's run
BUILD="${BOUNCEKIT_FUZZ_BUILD:-build/fuzz}"   # or a tree built with BOUNCEKIT_FUZZ_SANITIZERS
IFS=, read -r -a CPUS <<< "${BOUNCEKIT_FUZZ_CPUS:-}"  # k-th target on the (k mod n)-th of these cores

# shellcheck source=.ci/fuzz_targets.sh
. .ci/fuzz_targets.sh
fuzz_targets "$@"
for name in "${targets[@]}"; do
  [ -x "$BUILD/tests/fuzz/${name}_fuzz" ] || {
    echo "fuzz_long: $BUILD/tests/fuzz/${name}_fuzz missing: run bash .ci/fuzz.sh first" >&2; exit 2; }
done

export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
mkdir -p "$BUILD/long"

run_one() {
  local name="$1" slot="$2"
  local work="build/fuzz/corpus/$name" findings="build/fuzz/findings/$name"
  local log="$BUILD/long/$name.log"
  mkdir -p "$work" "$findings"
  local start end rc
  start=$(date +%s)
  local fork_args=()
  if [ "$FORK" -gt 0 ]; then
    fork_args=(-fork="$FORK" -ignore_timeouts=0 -ignore_ooms=0 -ignore_crashes=0)
  fi
  local pin=()
  if [ "${#CPUS[@]}" -gt 0 ]; then
    pin=(taskset -c "${CPUS[$((slot % ${#CPUS[@]}))]}")
  fi
  "${pin[@]}" "$BUILD/tests/fuzz/${name}_fuzz" "$work" "tests/fuzz/corpus/$name" -runs="$RUNS" \
    -max_len="$MAX_LEN" -timeout="$TIMEOUT" -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$findings/" "${fork_args[@]}" >"$log" 2>&1
  rc=$?
  end=$(date +%s)
  local execs rate rss cov
  execs=$(grep -E "^stat::number_of_executed_units" "$log" | awk '{print $2}')
  [ -n "$execs" ] || execs=$(grep -oE "fuzzed for [0-9]+ iterations" "$log" | awk '{print $3}')  # -fork
  rate=$(grep -E "^stat::average_exec_per_sec" "$log" | awk '{print $2}')
  rss=$(grep -E "^stat::peak_rss_mb" "$log" | awk '{print $2}')
  cov=$(grep -E "^#[0-9]+" "$log" | tail -n 1 | grep -oE "cov: [0-9]+ ft: [0-9]+" || true)
  if [ "$rc" -eq 0 ]; then
    echo "fuzz_long: $name OK: ${execs:-?} executions in $((end - start)) s (${rate:-?} exec/s, peak ${rss:-?} MB, ${cov:-cov ?})"
  else
    echo "fuzz_long: $name FAILED (exit $rc) after $((end - start)) s; see $log and $findings" >&2
    grep -E -A30 "ERROR|fuzz invariant|Timeout|out-of-memory|runtime error" "$log" | head -40 >&2
    return 1
  fi
}

fail=0
active=0
slot=0
for name in "${targets[@]}"; do
  run_one "$name" "$slot" &
  slot=$((slot + 1))
  active=$((active + 1))
  if [ "$active" -ge "$PARALLEL" ]; then
    wait -n || fail=1
    active=$((active - 1))
  fi
done
while [ "$active" -gt 0 ]; do
  wait -n || fail=1
  active=$((active - 1))
done
[ "$fail" -eq 0 ] && echo "fuzz_long: OK (${#targets[@]} targets, $RUNS executions each)" || {
  echo "fuzz_long: FAILED" >&2; exit 1; }
