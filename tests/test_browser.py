"""The report in a real browser with the network off: it renders, and not blank, at a
desktop and a phone width, in both languages."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import numpy as np
import pytest

from conftest import SAMPLE, workbench

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WIDTHS = (1280, 390)
HEIGHT = 1600


def _offline_prefix() -> list[str]:
    # A private network namespace has no route anywhere: what the page needs, it carries.
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-n"]
    return []


def _screenshot(page, shot, width: int, prefix: list[str]) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([*prefix, CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                               "--disable-background-networking", "--no-first-run", "--disable-component-update",
                               "--disable-sync", f"--user-data-dir={profile}", f"--window-size={width},{HEIGHT}",
                               "--hide-scrollbars", f"--screenshot={shot}", page.as_uri()],
                              capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs it)")
@pytest.mark.parametrize("language", ["zh", "en"])
def test_report_renders_offline_in_chromium(tmp_path, language):
    from matplotlib import image

    prefix = _offline_prefix()
    if not prefix and os.environ.get("CI"):
        pytest.fail("CI must be able to cut the network for this test (unshare -n)")
    out = tmp_path / "report"
    assert workbench("report", SAMPLE, "-o", out, "-p", f"language={language}").returncode == 0
    for name in ("01-indicators.html", "index.html"):
        for width in WIDTHS:
            shot = tmp_path / f"{name}-{width}.png"
            r = _screenshot(out / name, shot, width, prefix)
            assert shot.exists(), r.stderr[-2000:]
            pixels = image.imread(shot)[..., :3]
            assert pixels.shape[:2] == (HEIGHT, width)
            ink = (pixels.mean(axis=2) < 0.6).mean()
            assert ink > 0.01, f"{name} at {width} px is blank"
            assert pixels.std() > 0.05 and np.isfinite(pixels).all()
            # the top band holds the links between pages, the title and the key findings: text, not an empty frame
            assert (pixels[:600].mean(axis=2) < 0.6).mean() > 0.005, (name, width)
            # the findings box (a tinted band) is in the first screen of the page
            if name == "01-indicators.html":
                tinted = (np.abs(pixels[:900] - np.array([0xF3, 0xF7, 0xFD]) / 255).max(axis=2) < 0.01).mean()
                assert tinted > 0.01, (name, width)
