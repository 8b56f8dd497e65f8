"""The report in a real browser with the network off: it renders, and not blank."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import numpy as np
import pytest

from conftest import SAMPLE, workbench

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _offline_prefix() -> list[str]:
    # A private network namespace has no route anywhere: what the page needs, it carries.
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-n"]
    return []


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs it)")
def test_report_renders_offline_in_chromium(tmp_path):
    from matplotlib import image

    prefix = _offline_prefix()
    if not prefix and os.environ.get("CI"):
        pytest.fail("CI must be able to cut the network for this test (unshare -n)")
    out = tmp_path / "report"
    assert workbench("report", SAMPLE, "-o", out).returncode == 0
    shot = tmp_path / "shot.png"
    with tempfile.TemporaryDirectory() as profile:
        r = subprocess.run([*prefix, CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                            "--disable-background-networking", "--no-first-run", "--disable-component-update",
                            "--disable-sync", f"--user-data-dir={profile}", "--window-size=1200,1600",
                            "--hide-scrollbars", f"--screenshot={shot}", (out / "01-indicators.html").as_uri()],
                           capture_output=True, text=True, timeout=120)
    assert shot.exists(), r.stderr[-2000:]
    pixels = image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (1600, 1200)
    ink = (pixels.mean(axis=2) < 0.6).mean()
    assert ink > 0.01, "the page is blank"
    assert pixels.std() > 0.05
    # the top band holds the parameters box and the Chinese title: text, not an empty frame
    assert (pixels[:600].mean(axis=2) < 0.6).mean() > 0.005
    assert np.isfinite(pixels).all()
