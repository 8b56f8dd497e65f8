"""The report in a real browser with the network off: it renders, and not blank, at a
desktop and a phone width, in both languages; no page clips a table or an image at
either width; every table download a page links to is there and opens.

Headless Chromium will not make its window narrower than 500 px: at
``--window-size=390,…`` it lays the page out 500 px wide and crops the screenshot. So
each page is shown in an iframe of the width wanted, whose own viewport is that wide.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest

from conftest import SAMPLE, workbench

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WIDTHS = (1280, 390)
HEIGHT = 1600
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs it)")

# Test-only, put at the end of a copy of each page: once the page and its font are laid
# out, with every <details> opened (rows after the first screenful, the appendix), it
# reports to the harness page what is cut off. An element that hides its overflow and has
# more content than width is clipped; a table or an image is too wide when it runs past
# the viewport without a scrolling box (overflow auto or scroll) holding it, or when that
# box itself runs past; an image is too wide when it is wider than the viewport.
MEASURE = r"""
(function () {
  function name(el) {
    var s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    var c = typeof el.className === "string" ? el.className.trim() : "";
    return c ? s + "." + c.split(/\s+/).slice(0, 3).join(".") : s;
  }
  function scroller(el) {
    for (var a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      var o = getComputedStyle(a).overflowX;
      if (o === "auto" || o === "scroll") return a;
    }
    return null;
  }
  function measure() {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
    var vw = document.documentElement.clientWidth;
    var out = {page: decodeURIComponent(location.pathname.split("/").pop()), viewport: vw,
               width: document.documentElement.scrollWidth, clipped: [], wide: [], tables: 0, images: 0};
    document.querySelectorAll("body *").forEach(function (el) {
      var o = getComputedStyle(el).overflowX;
      if ((o === "hidden" || o === "clip") && el.scrollWidth > el.clientWidth + 1)
        out.clipped.push([name(el), el.scrollWidth, el.clientWidth]);
    });
    document.querySelectorAll("table, img, svg").forEach(function (el) {
      if (el.tagName === "TABLE") out.tables++; else out.images++;
      var r = el.getBoundingClientRect();
      if (!r.width) return;
      var box = scroller(el), edge = box ? box.getBoundingClientRect() : null;
      if (el.tagName !== "TABLE" && r.width > vw + 1) out.wide.push([name(el), Math.round(r.width)]);
      if (!box && (r.left < -1 || r.right > vw + 1)) out.wide.push([name(el), Math.round(r.left), Math.round(r.right)]);
      if (box && (edge.left < -1 || edge.right > vw + 1))
        out.wide.push([name(box), Math.round(edge.left), Math.round(edge.right)]);
    });
    parent.postMessage(out, "*");
  }
  window.addEventListener("load", function () {
    document.fonts.ready.then(function () { setTimeout(measure, 50); });
  });
})();
"""

# A page the measurement must fault, so that a measurement that finds nothing is not
# mistaken for a page that clips nothing.
CLIPPING = ('<!DOCTYPE html><html><body><div id="cut" style="overflow:hidden;width:200px">'
            '<table><tr><td style="white-space:nowrap">' + "wide " * 200 + "</td></tr></table></div>"
            '<img id="big" style="width:3000px;height:10px" alt=""></body></html>')


def _offline_prefix() -> list[str]:
    # A private network namespace has no route anywhere: what the page needs, it carries.
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-n"]
    return []


def _chromium(prefix: list[str], *args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([*prefix, CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                               "--disable-background-networking", "--no-first-run", "--disable-component-update",
                               "--disable-sync", f"--user-data-dir={profile}", "--hide-scrollbars", *args],
                              capture_output=True, text=True, timeout=180)


def _framed(page: Path, width: int, folder: Path) -> Path:
    """A page holding ``page`` in an iframe ``width`` px wide (see the module's note)."""
    frame = folder / f".frame-{page.stem}-{width}.html"
    frame.write_text(f'<!DOCTYPE html><html><body style="margin:0"><iframe src="{page.as_uri()}" '
                     f'style="display:block;border:0;width:{width}px;height:{HEIGHT}px"></iframe></body></html>',
                     encoding="utf-8")
    return frame


@pytest.fixture(scope="module", params=["zh", "en"])
def report(request, tmp_path_factory) -> tuple[str, Path]:
    """The sample's report in one language, shared by this module's tests."""
    language = request.param
    out = tmp_path_factory.mktemp(f"browser-{language}") / "report"
    # with a policy, so that the effects section and its event-study figure are on page 05
    r = workbench("report", SAMPLE, "-o", out, "-p", f"language={language}", "-p", "treatment_date=2019-07",
                  "-p", "treated=上河村,下河村,东岭村")
    assert r.returncode == 0, r.stderr[-2000:]
    return language, out


def _prefix() -> list[str]:
    prefix = _offline_prefix()
    if not prefix and os.environ.get("CI"):
        pytest.fail("CI must be able to cut the network for this test (unshare -n)")
    return prefix


@needs_chromium
def test_report_renders_offline_in_chromium(report, tmp_path):
    from matplotlib import image

    _, out = report
    prefix = _prefix()
    for name in ("01-indicators.html", "index.html"):
        for width in WIDTHS:
            shot = tmp_path / f"{name}-{width}.png"
            r = _chromium(prefix, f"--window-size={width},{HEIGHT}", f"--screenshot={shot}",
                          _framed(out / name, width, tmp_path).as_uri())
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


@needs_chromium
def test_no_page_clips_a_table_or_an_image(report, tmp_path):
    """Every page at both widths, measured in one run of the browser: each in an iframe
    of its width, reporting by postMessage to the harness page, whose DOM is dumped."""
    _, out = report
    copy = tmp_path / "report"
    shutil.copytree(out, copy)
    pages = sorted(p.name for p in copy.glob("*.html"))
    (copy / "clipping.html").write_text(CLIPPING, encoding="utf-8")
    for name in [*pages, "clipping.html"]:
        text = (copy / name).read_text("utf-8")
        # the last </body>: a page's own text may show the tag, escaped or not
        at = text.rindex("</body>")
        (copy / name).write_text(f"{text[:at]}<script>{MEASURE}</script>{text[at:]}", encoding="utf-8")
    frames = "".join(f'<iframe src="{(copy / name).as_uri()}" style="display:block;border:0;width:{width}px;'
                     f'height:{HEIGHT}px"></iframe>' for name in [*pages, "clipping.html"] for width in WIDTHS)
    harness = tmp_path / "harness.html"
    harness.write_text('<!DOCTYPE html><html><body style="margin:0"><pre id="measured">[]</pre>' + frames +
                       '<script>var got = []; window.addEventListener("message", function (e) { got.push(e.data); '
                       'document.getElementById("measured").textContent = JSON.stringify(got); });</script>'
                       "</body></html>", encoding="utf-8")
    r = _chromium(_prefix(), "--window-size=1400,1000", "--virtual-time-budget=30000", "--dump-dom", harness.as_uri())
    found = re.search(r'<pre id="measured">(.*?)</pre>', r.stdout, re.S)
    assert found, r.stderr[-2000:]
    measured = {(m["page"], m["viewport"]): m for m in json.loads(html.unescape(found.group(1)))}
    expected = {(name, width) for name in [*pages, "clipping.html"] for width in WIDTHS}
    assert set(measured) == expected, f"pages that did not report: {expected - set(measured)}"
    control = measured[("clipping.html", 390)]
    assert control["clipped"] and control["wide"] and control["width"] > 390, control
    for (name, width), m in measured.items():
        if name == "clipping.html":
            continue
        assert m["width"] <= width, f"{name} at {width} px is {m['width']} px wide: the page scrolls sideways"
        assert not m["clipped"], f"{name} at {width} px clips: {m['clipped']}"
        assert not m["wide"], f"{name} at {width} px runs past the viewport: {m['wide']}"
    assert measured[("01-indicators.html", 390)]["tables"] >= 3 and measured[("01-indicators.html", 390)]["images"] >= 1


def test_every_table_download_is_there_and_opens(report):
    _, out = report
    pages = sorted(out.glob("*.html"))
    linked = {}
    for page in pages:
        for href in re.findall(r'href="(tables/[^"#?]+\.(?:csv|xlsx))"', page.read_text("utf-8")):
            linked.setdefault(unquote(html.unescape(href)), page.name)
    assert {name for name in linked.values()} >= {"01-indicators.html", "04-believability.html"}, linked
    for href, page in linked.items():
        path = out / href
        assert path.is_file(), f"{page} links to {href}, which is not there"
        taken = pd.read_csv(path) if path.suffix == ".csv" else pd.read_excel(path, engine="openpyxl")
        assert len(taken.columns) > 0, (page, href)
    # and nothing in tables/ that no page offers
    assert {f"tables/{p.name}" for p in (out / "tables").iterdir()} == set(linked)


def test_no_code_names_on_any_page(report):
    """Indicator and check ids, column names and Python's words for missing values stay
    out of what a reader reads (the appendix's parameter names are code by design)."""
    import re

    from bs4 import BeautifulSoup

    from analysis.columns import count_fields
    from analysis.i18n import TEXT
    from analysis.registry import indicators

    language, out = report
    checks = [k.removeprefix("checkname_") for k in TEXT if k.startswith("checkname_")]
    codes = [*indicators(), *checks, *(c for c in count_fields() if "_" in c)]
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, codes)) + r"|nan|NaN|None|np\.float64|inf)\b")
    for page in sorted(out.glob("*.html")):
        soup = BeautifulSoup(page.read_text("utf-8"), "html.parser")
        for node in soup.select(".workbench-facts, style, script"):
            node.decompose()
        text = soup.get_text(" ")
        found = pattern.search(text)
        assert found is None, (page.name, text[max(0, found.start() - 60):found.end() + 60])
