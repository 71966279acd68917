#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer) run, called
# from .ci/test.sh:
#
#   1. build/asan:     the GoogleTest suite built with -fsanitize=address,undefined
#                      (BOUNCEKIT_SANITIZE=ON), run through ctest;
#   2. build/asan too: the bouncekit._core extension built the same way, put
#                      with a copy of python/bouncekit into build/asan/site
#                      (PYTHONPATH), so the normal install is untouched; pytest
#                      runs against it with GCC's libasan/libubsan preloaded
#                      into the (uninstrumented) Python interpreter;
#   3. a leak canary:  proves that leak checking is on and reports a leak made
#                      by our own code through the same options/suppressions.
#
# Any sanitizer report fails the run (halt_on_error / no recover; LSan exits
# non-zero at process end).
#
#   bash .ci/sanitize.sh                  # everything
#   BOUNCEKIT_SANITIZE_PYTEST="tests/python/test_status.py" bash .ci/sanitize.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
ROOT="$(pwd)"
SUPP="$ROOT/.ci/lsan.supp"

export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=86:detect_stack_use_after_return=0:strict_init_order=1:check_initialization_order=1:detect_odr_violation=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=87"
# Leak suppressions match any frame of the allocation stack, so stacks are
# kept short (the frames next to malloc): a CPython/NumPy/Arrow allocation is
# recognised by its allocator frames, while a leak from bouncekit code has
# bouncekit frames there and is still reported (the canary below checks it).
export LSAN_OPTIONS="suppressions=$SUPP:print_suppressions=0:malloc_context_size=6:report_objects=0"

echo "== sanitizers: build (ASan+UBSan, build/asan: C++ tests and the Python module, one core)"
pybind11_dir="$("$PY" -m pybind11 --cmakedir)"
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBOUNCEKIT_SANITIZE=ON \
  -DBOUNCEKIT_BUILD_TESTS=ON -DBOUNCEKIT_BUILD_PYTHON=ON \
  -DPython_EXECUTABLE="$(command -v "$PY" || echo "$PY")" -Dpybind11_DIR="$pybind11_dir" >/dev/null
cmake --build build/asan -j 2

echo "== sanitizers: C++ tests under ASan+UBSan+LSan"
ctest --test-dir build/asan --output-on-failure -j 2

site="build/asan/site"
rm -rf "$site"
mkdir -p "$site"
cp -r python/bouncekit "$site/bouncekit"
rm -f "$site"/bouncekit/_core*.so
cp build/asan/python/bindings/_core*.so "$site/bouncekit/"

libasan="$(gcc -print-file-name=libasan.so)"
libubsan="$(gcc -print-file-name=libubsan.so)"
preload="$(readlink -f "$libasan"):$(readlink -f "$libubsan")"
# The interpreter itself, not a launcher script (a pyenv shim is a bash script:
# preloading ASan into it reports bash's own leaks and loses the environment).
PY="$("$PY" -c 'import sys; print(sys.executable)')"
run_asan() {
  # PYTHONMALLOC=malloc: Python objects are malloc'ed, so LeakSanitizer sees
  # (and scans) them instead of missing pointers kept in pymalloc arenas.
  env PYTHONPATH="$ROOT/$site" PYTHONMALLOC=malloc LD_PRELOAD="$preload" "$@"
}

where="$(run_asan "$PY" -c 'import bouncekit, bouncekit._core as c; print(c.__file__)')"
case "$where" in
  "$ROOT/$site/"*) echo "sanitize: using $where" ;;
  *) echo "sanitize: wrong module imported: $where" >&2; exit 1 ;;
esac

echo "== sanitizers: leak canary (a leak in our code must be reported, and only ours)"
# LeakSanitizer's tracer can crash while it reads the threads' dynamic TLS
# at exit ("DTLS ... at 0x...", then "Tracer caught signal 11 ...
# LeakSanitizer has encountered a fatal error"): GCC 12's LSan misreads a
# DTLS entry for some memory layouts, and then reports nothing at all (exit
# 86, like a report). It happened in CI both in pytest itself and in the
# Python subprocesses the tests start. The DTLS walk is part of TLS
# scanning, so the canary and the pytest step run with use_tls=0. That hides
# nothing: blocks reachable only from TLS are then reported, not ignored;
# those that glibc's loader keeps until exit are suppressed by name
# (lsan.supp). This run proves both halves: our deliberate leak is reported,
# and every direct leak reported has a bouncekit frame.
lsan_base="$LSAN_OPTIONS"
export LSAN_OPTIONS="$lsan_base:use_tls=0"
set +e
canary_out="$(run_asan "$PY" .ci/leak_canary.py 2>&1)"
canary_rc=$?
set -e
# Direct leaks only: an indirect one is held by a leaked block (here the
# canary's), and its short stack may stop before any bouncekit frame.
foreign="$(awk '/Direct leak of [0-9]+ byte/ { if (blk != "" && blk !~ /bouncekit/) print blk; blk = $0; next }
                 /Indirect leak of/ { if (blk != "" && blk !~ /bouncekit/) print blk; blk = ""; next }
                 /^ *#[0-9]+ / { if (blk != "") blk = blk "\n" $0 }
                 END { if (blk != "" && blk !~ /bouncekit/) print blk }' <<<"$canary_out")"
if [ "$canary_rc" -eq 0 ] || ! grep -q "LeakSanitizer: detected memory leaks" <<<"$canary_out" \
   || ! grep -q "bouncekit" <<<"$canary_out" || [ -n "$foreign" ]; then
  echo "$canary_out" | tail -n 40
  echo "sanitize: FAILED: the canary run must report the deliberate leak and only bouncekit's leaks" \
       "(rc=$canary_rc); other reports:" >&2
  echo "$foreign" >&2
  exit 1
fi
echo "sanitize: deliberate leak reported as expected, and it is the only report (rc=$canary_rc):"
grep -m1 -A3 "Direct leak" <<<"$canary_out" || true

echo "== sanitizers: pytest under ASan+UBSan+LSan"
# Left out under the sanitizers (each still runs in the normal pytest pass):
skip=(
  "tests/python/test_typing_and_docs.py::test_mypy_strict_on_the_package"   # mypy reads sources; no native code
  "tests/python/test_notebooks.py"          # a Jupyter kernel subprocess: slow, same APIs as below
  "tests/python/test_stub.py"               # stub drift: pybind11-stubgen, nothing native to check
  "tests/python/test_history.py::test_million_rows_match_the_oracles"   # 10^6 rows: ~10x slower under ASan
  "tests/python/test_rules.py::test_rules_tsv_reproduces_w1_oracle_byte_for_byte_on_1e6_rows"
  "tests/python/test_perf_guard.py"         # timing ratios mean nothing under ASan
  "tests/python/test_spark.py"              # a JVM and Python workers of its own, 10^6 rows
  "tests/python/test_dask.py"               # worker processes, 10^6 rows
  "tests/python/test_wheel.py"              # builds and installs a wheel into a fresh venv
  "tests/python/test_retry_mta.py"          # a real Postfix, timed against the wall clock
  "tests/python/test_report.py"             # headless Chromium (would inherit LD_PRELOAD)
  "tests/python/test_cli.py"                # one subprocess per case, Ctrl-C timing; APIs run below
  "tests/python/test_parse_flufl.py"        # Debian's python3 + flufl.bounce subprocess
)
args=()
for s in "${skip[@]}"; do
  echo "sanitize: not run under ASan (covered by the normal run): $s"
  args+=(--deselect "$s")
done
# Hypothesis: fewer examples (the sanitized build is several times slower).
export BOUNCEKIT_HYPOTHESIS_PROFILE="${BOUNCEKIT_HYPOTHESIS_PROFILE:-asan}"
# TLS scanning stays off here (use_tls=0, set for the canary above, which
# says why).
log="build/asan/pytest.log"
set +e
# shellcheck disable=SC2086
run_asan "$PY" -m pytest -c pyproject.toml --rootdir . -q -p no:cacheprovider "${args[@]}" \
  ${BOUNCEKIT_SANITIZE_PYTEST:-tests/python} 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -ne 0 ]; then
  echo "sanitize: FAILED: pytest under ASan/UBSan/LSan (use_tls=0) exited $rc" >&2
  exit "$rc"
fi
echo "sanitize: OK (ctest + pytest under ASan/UBSan/LSan, no report)"
