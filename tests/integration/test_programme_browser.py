"""The programme pages of the report in a real browser and in the PDF.

Headless Chromium (the DevTools client of :mod:`tests.integration.test_map_browser`, networking
blocked) loads ``report.html`` of the synthetic three-year programme, checks that the Gantt
chart draws one box per tower and that nothing is fetched or logged as an error, and takes
screenshots of the DPRD summary, the per-year tables and the Gantt chart. The PDF's first
two pages are rendered to PNG with ``pdftoppm``.

The images are kept in the test's directory and, when the ``TOWERPLAN_ARTIFACTS`` environment
variable names a directory, copied there (``programme_*.png``) to be looked at.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.integration.test_map_browser import (
    CHROMIUM,
    _chromium_command,
    _DevTools,
    _evaluate,
    open_page,
)
from tests.unit.outputs.programme_factories import make_programme_plan
from towerplan.outputs.document import render_report_html, write_report_html

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not on PATH (apt-get install chromium); "
                             "report not rendered")

_VIEW = (1000, 1400)
_SCALE = 1.5
#: Element id -> screenshot name.
_SHOTS = {"dprd": "programme_dprd.png", "programme-tables": "programme_tables.png",
          "gantt": "programme_gantt.png"}

_RECT = """(function (id) {
  var r = document.getElementById(id).getBoundingClientRect();
  return {x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width,
          height: r.height};
})(%r)"""

_TABLES_RECT = """(function () {
  var from = document.querySelector("#programme h2").getBoundingClientRect();
  var to = document.querySelector("#programme table.programme-budgets").getBoundingClientRect();
  return {x: from.left + window.scrollX - 8, y: from.top + window.scrollY - 8,
          width: Math.max(from.width, to.width) + 16, height: to.bottom - from.top + 16};
})()"""

_BARS = """Array.from(document.querySelectorAll("#gantt rect.bar"), function (r) {
  var b = r.getBoundingClientRect();
  return {site: r.dataset.site, year: +r.dataset.year, width: b.width, height: b.height};
})"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Any]:
    """Load report.html once; record bars, events and screenshots; render the PDF pages."""
    out = tmp_path_factory.mktemp("programme_browser")
    result = make_programme_plan()
    html = render_report_html(result)
    page = write_report_html(result, out / "report.html", html=html)
    record: dict[str, Any] = {"dir": out, "shots": {}, "result": result}
    tools = _DevTools(_chromium_command(out), out / "chromium.log")
    try:
        sid, start = open_page(tools, page, _VIEW, _SCALE)
        record["bars"] = _evaluate(tools, sid, _BARS)
        for element, name in _SHOTS.items():
            rect = _evaluate(tools, sid, _TABLES_RECT if element == "programme-tables"
                             else _RECT % element)
            shot = tools.call("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {**rect, "scale": 1}}, session=sid)["data"]
            path = out / name
            path.write_bytes(base64.b64decode(shot))
            record["shots"][element] = path
        record["events"] = tools.events[start:]
    finally:
        tools.close()
    record["pdf_pages"] = _pdf_pages(result, html, out)
    artifacts = os.environ.get("TOWERPLAN_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        for path in [*record["shots"].values(), *record["pdf_pages"]]:
            shutil.copyfile(path, Path(artifacts) / path.name)
    return record


def _pdf_pages(result: Any, html: str, out: Path) -> list[Path]:
    """PNG images of the PDF's first two pages (none without WeasyPrint or pdftoppm)."""
    if shutil.which("pdftoppm") is None:
        return []
    try:
        from towerplan.outputs.document import write_report_pdf

        pdf = write_report_pdf(result, out / "report.pdf", html=html)
    except Exception:  # noqa: BLE001 - WeasyPrint missing: the PDF test skips on its own
        return []
    subprocess.run(["pdftoppm", "-r", "90", "-png", "-f", "1", "-l", "2", str(pdf),
                    str(out / "programme_pdf_page")], check=True)
    return sorted(out.glob("programme_pdf_page*.png"))


def _pixels(path: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"))


def test_the_gantt_draws_one_box_per_tower_in_its_year(rendered):
    builds = rendered["result"].programme.builds
    bars = rendered["bars"]
    assert {b["site"]: b["year"] for b in bars} == dict(
        zip(builds["site_id"], builds["year"], strict=True))
    assert all(b["width"] > 20 and b["height"] > 8 for b in bars)


def test_screenshots_show_drawn_content(rendered):
    for element, path in rendered["shots"].items():
        pixels = _pixels(path)
        assert pixels.shape[0] > 100 and pixels.shape[1] > 400, element
        assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20, element
    gantt = _pixels(rendered["shots"]["gantt"]).astype(int)
    for color in ((0x00, 0x72, 0xB2), (0xE6, 0x9F, 0x00)):  # both channels are drawn
        assert (np.abs(gantt - color).sum(axis=-1) < 30).mean() > 0.002, color


def test_no_console_error_and_nothing_fetched(rendered):
    problems = [e["params"] for e in rendered["events"]
                if e["method"] == "Runtime.exceptionThrown"
                or (e["method"] == "Log.entryAdded"
                    and e["params"]["entry"]["level"] == "error")]
    assert problems == []
    urls = [e["params"]["request"]["url"] for e in rendered["events"]
            if e["method"] == "Network.requestWillBeSent"]
    assert urls and all(url.startswith(("file:", "data:")) for url in urls)


def test_pdf_pages_rendered_when_possible(rendered):
    pages = rendered["pdf_pages"]
    if not pages:
        pytest.skip("WeasyPrint or pdftoppm missing: PDF pages not rendered")
    assert len(pages) == 2
    for page in pages:
        pixels = _pixels(page)
        assert pixels.shape[0] > pixels.shape[1]  # A4 portrait
