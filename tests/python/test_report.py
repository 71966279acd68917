"""The HTML report: self-contained, renders in headless Chromium without console
errors; a screenshot is saved as a CI artifact (build/artifacts/report.png)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import List, Tuple

import numpy as np
import pytest

import bouncekit
from bouncekit import generate, report

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("BOUNCEKIT_ARTIFACTS", REPO / "build" / "artifacts"))


@pytest.fixture(scope="module")
def analysis() -> report.AnalysisResult:
    os.environ.setdefault("MPLBACKEND", "Agg")
    return report.analyze(generate.load_sample_history())


@pytest.fixture(scope="module")
def html(analysis: report.AnalysisResult) -> str:
    return analysis.to_html()


def test_self_contained(html: str) -> None:
    assert html.startswith("<!DOCTYPE html>") and html.endswith("</html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script" not in html and "<link" not in html
    assert re.findall(r"url\(([^)]*)\)", html) and all(u.startswith("#") for u in re.findall(r"url\(([^)]*)\)", html))
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "element ids are unique across the inline charts"
    assert "<!DOCTYPE svg" not in html  # the SVG DOCTYPE names a remote DTD
    assert html.count("<svg") >= 4


def test_report_content(analysis: report.AnalysisResult, html: str) -> None:
    for heading in ("Bounce rates over time", "Category mix", "Spikes: campaign x domain",
                    "Who was suppressed and why", "Retry outcomes"):
        assert heading in html
    # every alert's action is shown; the blocklist episode is found and ranked first
    assert len(analysis.alerts) > 0
    first = analysis.alerts.iloc[0]
    assert first["flag"] == "block" and first["top_category"] == "blocklisted"
    assert "delisting" in first["action"]
    assert f"{len(analysis.suppressions):,} recipients" in html
    sup = analysis.suppressions
    assert sup["recipient"].iloc[0] in html


def test_alerts_agree_with_aggregates(analysis: report.AnalysisResult) -> None:
    agg = analysis.aggregates
    big = agg[agg["sent"] >= 20]
    want = int(big["hard_flag"].sum() + big["soft_flag"].sum() + big["block_flag"].sum())
    assert len(analysis.alerts) == want


def test_render_from_plain_dataframes() -> None:
    events = generate.history(2000, seed=8)
    events["bounce_class"] = bouncekit.classify(events)["bounce_class"].astype(str)
    res = bouncekit.analyze_history(events)
    import pandas as pd
    extra = {"Risk scores (from another analysis)": pd.DataFrame({"domain": ["x.org"], "risk": [0.25]})}
    page = report.render_html(events, res.suppressions, res.aggregates, extra=extra)
    assert "Risk scores (from another analysis)" in page and "0.250" not in page and "0.25" in page


def test_repr(analysis: report.AnalysisResult) -> None:
    r = repr(analysis)
    assert r.startswith("AnalysisResult(rows=30000,") and "alerts=" in r
    h = analysis._repr_html_()
    assert "<table>" in h and "30,000 events" in h


# ------------------------------------------------------------------ Chromium

def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing Debian's chromium for the report rendering test")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=False, env=env,
                       capture_output=True)
        exe = shutil.which("chromium")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed and could not be installed")
        print("SKIP: chromium is not installed (apt-get install chromium, as root)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return exe


_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
          "--disable-extensions", "--enable-logging=stderr", "--v=0"]


def _render(exe: str, page: Path, tmp: Path, *extra: str) -> Tuple[str, List[str]]:
    """(dumped DOM, console lines) of `page` rendered by headless Chromium."""
    p = subprocess.run([exe, *_FLAGS, f"--user-data-dir={tmp / 'profile'}", *extra, page.as_uri()],
                       capture_output=True, text=True, timeout=180)
    console = [line for line in p.stderr.splitlines() if ":CONSOLE" in line]
    return p.stdout, console


def test_console_check_catches_errors(tmp_path: Path) -> None:
    """The detector itself: a page that logs an error and throws is caught."""
    exe = _chromium()
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><p>x</p><script>console.error('boom');"
                   "notDefined();</script></body></html>")
    _, console = _render(exe, bad, tmp_path, "--dump-dom")
    assert any("boom" in c for c in console), console
    assert any("Uncaught ReferenceError" in c for c in console), console


def test_chromium_renders_without_console_errors(html: str, tmp_path: Path) -> None:
    exe = _chromium()
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    dom, console = _render(exe, page, tmp_path, "--dump-dom")
    assert console == [], console
    assert "Who was suppressed and why" in dom and dom.count("<svg") >= 4
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report.png"
    if shot.exists():
        shot.unlink()
    _, console = _render(exe, page, tmp_path, f"--screenshot={shot}", "--window-size=1280,2400")
    assert console == [], console
    assert shot.exists() and shot.stat().st_size > 50_000
    import matplotlib.image as mpimg
    img = mpimg.imread(shot)
    assert img.shape[0] == 2400 and img.shape[1] == 1280
    # not blank: the header band is dark, the page has charts (many distinct colours)
    assert img[:40, :, :3].mean() < 0.4
    assert len(np.unique((img[:, :, :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 50
    (ARTIFACTS / "report.html").write_text(html, encoding="utf-8")
    print(f"screenshot: {shot}")
