#!/usr/bin/env bash
# Installs everything bouncekit needs on a Debian 12 machine, then builds and
# installs bouncekit itself. Idempotent: a second run only rebuilds what
# changed (the build directory build/ is reused).
#
#   bash .ci/setup.sh          # runtime + build needs
#   BOUNCEKIT_TEST_DEPS=1 bash .ci/setup.sh   # + test tooling
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"

apt_pkgs=(libabsl-dev libgtest-dev libre2-dev libzstd-dev libsnappy-dev zlib1g-dev time)
# Test tools only: clang (libFuzzer targets, .ci/fuzz.sh); Debian's flufl.bounce
# and Sisimai (compared against by the raw-bounce parser tests and benchmark);
# strace (counts the CSV writer's fsync calls).
[ "${BOUNCEKIT_TEST_DEPS:-0}" = 1 ] && apt_pkgs+=(clang python3-flufl.bounce libsisimai-perl strace)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

export PIP_DISABLE_PIP_VERSION_CHECK=1
if [ "${BOUNCEKIT_TEST_DEPS:-0}" = 1 ]; then
  "$PY" -m pip install -q -r .ci/requirements-test.txt 2>&1 | grep -v "Running pip as the 'root' user" || true
else
  "$PY" -m pip install -q "pybind11==3.1.0" "scikit-build-core>=0.11" 2>&1 | grep -v "Running pip as the 'root' user" || true
fi
# The HTML report draws its charts with matplotlib.
"$PY" -c "import matplotlib" 2>/dev/null || \
  "$PY" -m pip install -q "matplotlib>=3.7" 2>&1 | grep -v "Running pip as the 'root' user" || true
# The report test renders in Debian's headless Chromium.
if [ "${BOUNCEKIT_TEST_DEPS:-0}" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing Debian's chromium (report rendering test)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
# --no-build-isolation: build with the pinned pybind11 above and reuse build/.
"$PY" -m pip install -q --no-build-isolation . 2>&1 | grep -v "Running pip as the 'root' user" || true
"$PY" -c "import bouncekit; print('setup: bouncekit', bouncekit.__version__, 'installed')"
