"""The programme dashboard in a real browser: headless Chromium with networking blocked.

One browser session (the DevTools client of :mod:`tests.integration.test_map_browser`) loads
the dashboard of :func:`tests.unit.outputs.test_dashboard.make_dashboard_data` from
``file://`` at 1920 x 1080 (a Command Center screen), records every request, console message,
exception and dialog, takes screenshots at 1920 x 1080 and 1366 x 768 (a laptop) and drives the
village filters, the language buttons and a map popup.

The screenshots are kept in the test's directory and copied to ``/tmp/dashboard-shots/`` (and,
when the ``TOWERPLAN_ARTIFACTS`` environment variable names a directory, there too).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.integration.test_map_browser import (
    CHROMIUM,
    _chromium_command,
    _DevTools,
    _evaluate,
    _requests,
    open_page,
    page_problems,
)
from tests.unit.outputs.test_dashboard import HOSTILE_NAME, make_dashboard_data
from towerplan.outputs.dashboard import CLASS_COLORS, write_dashboard_page

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not on PATH (apt-get install chromium); "
                             "dashboard not rendered")

_SCREEN = (1920, 1080)
_LAPTOP = (1366, 768)
_SHOTS_DIR = Path("/tmp/dashboard-shots")
_N_VILLAGES = 8
_N_PLACED_SITES = 5

# JavaScript functions, called with JSON arguments by _call
_WAIT_DRAWN = """function (want) { return new Promise(function (done) {
  var t0 = Date.now();
  (function poll() {
    var n = document.querySelectorAll("#tp-map path.leaflet-interactive").length;
    if (n >= want || Date.now() - t0 > 10000) {
      requestAnimationFrame(function () { requestAnimationFrame(function () { done(n); }); });
    } else { setTimeout(poll, 50); }
  })();
}); }"""

_STATE = """function () { return {
  lang: document.documentElement.lang,
  scripts: document.querySelectorAll("script").length,
  paths: document.querySelectorAll("#tp-map path.leaflet-interactive").length,
  tiles: document.querySelectorAll("img.leaflet-tile").length,
  legend: !!document.getElementById("tp-legend"),
  overflow: document.documentElement.scrollWidth - window.innerWidth,
  viewport: [window.innerWidth, window.innerHeight],
  boxes: ["tp-limitations", "tp-headline", "tp-map", "tp-chart-ca", "tp-chart-cc",
          "tp-villages"].reduce(function (out, id) {
    var r = document.getElementById(id).getBoundingClientRect();
    out[id] = [r.left, r.top, r.width, r.height];
    return out;
  }, {})
}; }"""

_FILTER = """function (q, kec, cls) {
  var search = document.getElementById("tp-search");
  var k = document.getElementById("tp-filter-kecamatan");
  var s = document.getElementById("tp-filter-status");
  search.value = q; search.dispatchEvent(new Event("input", {bubbles: true}));
  k.value = kec; k.dispatchEvent(new Event("change", {bubbles: true}));
  s.value = cls; s.dispatchEvent(new Event("change", {bubbles: true}));
  var rows = Array.from(document.querySelectorAll("#tp-village-table tbody tr"));
  return {rows: rows.filter(function (r) { return !r.hidden; }).map(function (r) {
            return r.querySelector(".tp-name").textContent; }),
          count: document.getElementById("tp-count").innerText.trim()};
}"""

_CHARTS = """function () {
  return Array.from(document.querySelectorAll(".tp-chart svg"), function (svg) {
    var r = svg.getBoundingClientRect();
    return {lang: svg.parentElement.getAttribute("data-lang"), width: r.width,
            height: r.height, paths: svg.querySelectorAll("path").length};
  });
}"""

_LANGUAGE = """function (lang) {
  document.querySelector('[data-set-lang="' + lang + '"]').click();
  var heading = document.querySelector("#tp-villages h2");
  var option = document.querySelector("#tp-filter-status option");
  return {lang: document.documentElement.lang, heading: heading.innerText.trim(),
          pressed: document.querySelector('[data-set-lang="' + lang + '"]')
            .getAttribute("aria-pressed"),
          placeholder: document.getElementById("tp-search").placeholder,
          option: option.textContent, count: document.getElementById("tp-count").innerText,
          limits: document.querySelector("#tp-limitations h2").innerText.trim(),
          marker: window.__tpNotReloaded === true};
}"""

_POPUP = """function (index) { return new Promise(function (done) {
  var path = document.querySelectorAll("#tp-map path.leaflet-interactive")[index];
  path.scrollIntoView({block: "center"});
  var r = path.getBoundingClientRect();
  var at = {bubbles: true, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2};
  ["mousedown", "mouseup", "click"].forEach(function (type) {
    path.dispatchEvent(new MouseEvent(type, at));
  });
  setTimeout(function () {
    var title = document.querySelector(".leaflet-popup-content .tp-pop b");
    done({title: title ? title.textContent : null,
          scripts: document.querySelectorAll("script").length,
          injected: document.querySelectorAll(".leaflet-popup-content script").length});
  }, 300);
}); }"""

_NAME_CELL = """function (name) {
  var cells = Array.from(document.querySelectorAll("#tp-village-table td.tp-name"));
  var cell = cells.filter(function (c) { return c.textContent === name; })[0];
  return {found: !!cell, children: cell ? cell.children.length : -1,
          textNodes: cell ? cell.childNodes.length : -1,
          siteCell: document.querySelector("#tp-site-table").textContent.indexOf("<b>") >= 0};
}"""


def _call(tools: _DevTools, sid: str, function: str, *args: Any) -> Any:
    """Call the JavaScript *function* in the page with JSON *args*; return its (awaited) value."""
    return _evaluate(tools, sid, f"({function})({', '.join(json.dumps(a) for a in args)})")


def _screenshot(tools: _DevTools, sid: str, path: Path, *, full: bool = False) -> Path:
    params: dict[str, Any] = {"format": "png"}
    if full:
        height = _evaluate(tools, sid, "document.documentElement.scrollHeight")
        width = _evaluate(tools, sid, "window.innerWidth")
        params.update(captureBeyondViewport=True,
                      clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1})
    path.write_bytes(base64.b64decode(tools.call("Page.captureScreenshot", params,
                                                 session=sid)["data"]))
    return path


def _resize(tools: _DevTools, sid: str, size: tuple[int, int]) -> None:
    tools.call("Emulation.setDeviceMetricsOverride", {
        "width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": False},
        session=sid)
    _evaluate(tools, sid, "new Promise(function (d) { setTimeout(d, 250); })")


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Any:
    """The dashboard open in Chromium at 1920 x 1080, with what was recorded while it loaded."""
    out = tmp_path_factory.mktemp("dashboard_browser")
    page = write_dashboard_page(make_dashboard_data(), out / "index.html")
    tools = _DevTools(_chromium_command(out), out / "chromium.log")
    record: dict[str, Any] = {"dir": out, "page": page, "tools": tools}
    try:
        sid, start = open_page(tools, page, _SCREEN)
        record["sid"] = sid
        record["drawn"] = _call(tools, sid, _WAIT_DRAWN, _N_VILLAGES + _N_PLACED_SITES)
        record["screen"] = _call(tools, sid, _STATE)
        shots = {"screen": _screenshot(tools, sid, out / "dashboard_1920x1080.png"),
                 "screen_full": _screenshot(tools, sid, out / "dashboard_1920_full.png",
                                            full=True)}
        _resize(tools, sid, _LAPTOP)
        record["laptop"] = _call(tools, sid, _STATE)
        shots["laptop"] = _screenshot(tools, sid, out / "dashboard_1366x768.png")
        shots["laptop_full"] = _screenshot(tools, sid, out / "dashboard_1366_full.png",
                                           full=True)
        _resize(tools, sid, _SCREEN)
        _call(tools, sid, _LANGUAGE, "en")
        shots["english"] = _screenshot(tools, sid, out / "dashboard_1920x1080_en.png")
        _call(tools, sid, _LANGUAGE, "id")
        record["load_events"] = tools.events[start:]
        record["start"] = start
        record["shots"] = shots
        _evaluate(tools, sid, "window.__tpNotReloaded = true")
        for target in filter(None, (_SHOTS_DIR, os.environ.get("TOWERPLAN_ARTIFACTS"))):
            Path(target).mkdir(parents=True, exist_ok=True)
            for shot in shots.values():
                shutil.copyfile(shot, Path(target) / shot.name)
        yield record
    finally:
        tools.close()


def test_the_page_requests_nothing_but_itself(browser):
    assert _requests(browser["load_events"]) == [browser["page"].as_uri()]


def test_no_console_error_exception_or_dialog(browser):
    assert page_problems(browser["load_events"]) == []


def test_the_map_draws_villages_and_sites_without_tiles(browser):
    state = browser["screen"]
    assert browser["drawn"] >= _N_VILLAGES + _N_PLACED_SITES
    assert state["paths"] == _N_VILLAGES + _N_PLACED_SITES  # the site without a point is not drawn
    assert state["tiles"] == 0
    assert state["legend"] is True


def test_the_screenshots_show_a_drawn_page(browser):
    from PIL import Image

    for name, size in (("screen", _SCREEN), ("laptop", _LAPTOP)):
        pixels = np.asarray(Image.open(browser["shots"][name]).convert("RGB"))
        assert pixels.shape[:2] == (size[1], size[0]), name
        assert pixels.std() > 10, name
        assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 200, name
    # the map box of the big screen shows blank-spot red village fills
    left, top, width, height = (round(v) for v in browser["screen"]["boxes"]["tp-map"])
    pixels = np.asarray(Image.open(browser["shots"]["screen"]).convert("RGB")).astype(int)
    area = pixels[top:top + height, left:left + width]
    red = tuple(int(CLASS_COLORS["blank"][k:k + 2], 16) for k in (1, 3, 5))
    near = np.all(np.abs(area - red) < 40, axis=-1)
    assert near.mean() > 0.02


def test_layout_fits_a_command_center_screen_and_a_laptop(browser):
    for name, size in (("screen", _SCREEN), ("laptop", _LAPTOP)):
        state = browser[name]
        assert state["viewport"] == list(size)
        assert state["overflow"] <= 0, f"{name}: page wider than the window"
        boxes = state["boxes"]
        # limitations first, then the numbers, then the map
        assert boxes["tp-limitations"][1] < boxes["tp-headline"][1] < boxes["tp-map"][1]
        assert boxes["tp-map"][3] >= 400 and boxes["tp-map"][2] >= 500, name
    big = browser["screen"]["boxes"]
    # on the big screen, the map and the charts start on the first screen, side by side
    assert big["tp-map"][1] < 0.5 * _SCREEN[1]
    assert big["tp-chart-ca"][0] > big["tp-map"][0] + big["tp-map"][2]
    assert big["tp-chart-cc"][1] < _SCREEN[1]


def test_the_charts_of_the_current_language_render(browser):
    charts = _call(browser["tools"], browser["sid"], _CHARTS)
    shown = [c for c in charts if c["lang"] == "id"]
    hidden = [c for c in charts if c["lang"] == "en"]
    assert len(shown) == len(hidden) == 3
    for chart in shown:
        assert chart["width"] > 200 and chart["height"] > 100 and chart["paths"] > 10
    assert all(c["width"] == 0 and c["height"] == 0 for c in hidden)


def test_search_and_filters_change_the_village_table(browser):
    tools, sid = browser["tools"], browser["sid"]

    def apply(query: str, kecamatan: str = "", cls: str = "") -> dict[str, Any]:
        return _call(tools, sid, _FILTER, query, kecamatan, cls)

    everything = apply("")
    assert len(everything["rows"]) == _N_VILLAGES
    assert everything["count"] == "8 dari 8 desa"
    found = apply("toyu")
    assert found["rows"] == ["Muara Toyu"] and found["count"] == "1 dari 8 desa"
    accent = apply("muara kome")  # accents are ignored
    assert accent["rows"] == ["Muara Kömé"]
    by_code = apply("64.01.08.200")
    assert len(by_code["rows"]) == 4
    blank_batu = apply("", "Batu Sopang", "blank")
    assert sorted(blank_batu["rows"]) == sorted([HOSTILE_NAME, "Kasungai"])
    assert blank_batu["count"] == "2 dari 8 desa"
    semi = apply("", "", "semi_blank")
    assert sorted(semi["rows"]) == ["Muara Kömé", "Rantau Buta"]
    none = apply("zzz", "Muara Komam")
    assert none["rows"] == [] and none["count"] == "0 dari 8 desa"
    cleared = apply("")
    assert len(cleared["rows"]) == _N_VILLAGES and cleared["count"] == "8 dari 8 desa"


def test_the_language_buttons_switch_without_a_reload(browser):
    tools, sid = browser["tools"], browser["sid"]
    before = len(tools.events)
    english = _call(tools, sid, _LANGUAGE, "en")
    charts = _call(tools, sid, _CHARTS)
    indonesian = _call(tools, sid, _LANGUAGE, "id")
    assert english["lang"] == "en" and english["pressed"] == "true"
    assert english["heading"] == "Villages"
    assert english["limits"].endswith("Limitations of the data — read first")
    assert english["placeholder"] == "Search a village name or code"
    assert english["option"] == "All statuses"
    assert english["count"].strip() == "8 of 8 villages"
    assert english["marker"] is True  # same document: no reload
    assert all(c["width"] > 0 for c in charts if c["lang"] == "en")
    assert all(c["width"] == 0 for c in charts if c["lang"] == "id")
    assert indonesian["lang"] == "id" and indonesian["heading"] == "Daftar desa"
    assert indonesian["option"] == "Semua status"
    assert indonesian["marker"] is True
    assert not any(e["method"] == "Page.frameNavigated" for e in tools.events[before:])


def test_untrusted_village_name_is_text_never_markup(browser):
    tools, sid = browser["tools"], browser["sid"]
    scripts = browser["screen"]["scripts"]
    assert scripts == 3
    cell = _call(tools, sid, _NAME_CELL, HOSTILE_NAME)
    assert cell == {"found": True, "children": 0, "textNodes": 1, "siteCell": True}
    popup = _call(tools, sid, _POPUP, 5)  # the sixth village is the hostile one
    assert popup == {"title": HOSTILE_NAME, "scripts": scripts, "injected": 0}
    events = tools.events[browser["start"]:]
    assert not any(e["method"] == "Page.javascriptDialogOpening" for e in events)
    assert page_problems(events) == []
    assert _requests(events) == [browser["page"].as_uri()]


_READY = """new Promise(function (done) { (function poll() {
  var h = document.querySelector("#tp-villages h2");
  if (document.readyState === "complete" && h && !window.__tpBeforeReload) {
    done([document.documentElement.lang, h.innerText.trim()]);
  } else { setTimeout(poll, 50); }
})(); })"""


def test_the_chosen_language_survives_a_reload(browser):
    """A screen reloading the page (``--refresh-min``) keeps the language chosen in its tab."""
    tools = browser["tools"]
    sid, _ = open_page(tools, browser["page"], _LAPTOP)  # a tab of its own
    first = _evaluate(tools, sid, _READY)
    _call(tools, sid, _LANGUAGE, "en")
    _evaluate(tools, sid, "window.__tpBeforeReload = true")  # gone once the page reloads
    tools.call("Page.reload", {}, session=sid)
    after = _evaluate(tools, sid, _READY)
    assert first == ["id", "Daftar desa"]
    assert after == ["en", "Villages"]
