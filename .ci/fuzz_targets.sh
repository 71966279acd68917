# Sourced by .ci/fuzz.sh and .ci/fuzz_long.sh (from the repository root):
# fuzz_targets [NAME...] sets the array `targets` to the names given, or to
# every libFuzzer target, one per tests/fuzz/<name>_fuzz.cc.
fuzz_targets() {
  targets=()
  if [ $# -gt 0 ]; then
    targets=("$@")
    return
  fi
  local src n
  for src in tests/fuzz/*_fuzz.cc; do
    n="$(basename "$src" .cc)"
    targets+=("${n%_fuzz}")
  done
}
