"""The offline map in a real browser: headless Chromium with networking blocked.

One browser session (Chrome DevTools protocol over ``--remote-debugging-pipe``, stdlib only)
loads ``map.html`` from ``file://``, records every request, console message and exception,
takes a screenshot and drives the village search. The page must draw (a screenshot with real
content), build its Leaflet layers, log no console error and request nothing beyond
``file:``/``data:``/``about:`` URLs. Turning the optional OpenStreetMap layer on at the end
shows that a request to the internet would have been seen.

The screenshot is kept as ``map_screenshot.png`` in the test's directory and, when the
``TOWERPLAN_ARTIFACTS`` environment variable names a directory, copied there.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.unit.outputs.factories import make_plan_result, with_changes, with_links_and_audit
from towerplan.outputs.maps import write_map
from towerplan.outputs.styles import RSRP_STOPS

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not on PATH (apt-get install chromium); map not rendered")

_WINDOW = (1400, 900)
_LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")
_UNICODE_NAME = "Muara Kömam"


class _DevTools:
    """A minimal Chrome DevTools protocol client over Chromium's debugging pipe (fds 3 and 4)."""

    def __init__(self, command: list[str], log_path: Path) -> None:
        to_chrome_r, to_chrome_w = os.pipe()
        from_chrome_r, from_chrome_w = os.pipe()
        # The child's ends move above 4 (so dup2 cannot clobber one with the other) and stay
        # close-on-exec; only their copies at 3 and 4 reach Chromium. Every other descriptor
        # of this process is non-inheritable (PEP 446), so close_fds=False leaks nothing.
        child_in = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_out = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_chrome_r)
        os.close(from_chrome_w)

        def wire() -> None:
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, close_fds=False,
                                     preexec_fn=wire)
        os.close(child_in)
        os.close(child_out)
        self._write, self._read = to_chrome_w, from_chrome_r
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._read], [], [], left)[0]:
                raise TimeoutError("no message from Chromium")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise ConnectionError("Chromium closed the debugging pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict[str, Any] | None = None, *,
             session: str | None = None, timeout_s: float = 20.0) -> dict[str, Any]:
        """Send one command and return its result; events that arrive meanwhile are kept."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout_s
        while True:
            reply = self._message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method: str, timeout_s: float = 20.0) -> dict[str, Any]:
        """Return the first event *method* (already received or arriving within the timeout)."""
        deadline = time.monotonic() + timeout_s
        while True:
            for event in self.events:
                if event["method"] == method:
                    return event
            self.events.append(self._message(deadline))

    def close(self) -> None:
        with contextlib.suppress(TimeoutError, ConnectionError, RuntimeError, OSError):
            self.call("Browser.close", timeout_s=5.0)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for fd in (self._write, self._read):
            os.close(fd)
        self._log.close()


def _evaluate(tools: _DevTools, session: str, expression: str) -> Any:
    result = tools.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                             "awaitPromise": True}, session=session)
    assert "exceptionDetails" not in result, result["exceptionDetails"]
    return result["result"].get("value")


_WAIT_DRAWN = """new Promise(function (done) {
  var t0 = Date.now();
  (function poll() {
    var paths = document.querySelectorAll(".leaflet-overlay-pane path").length;
    var images = Array.from(document.querySelectorAll("img.leaflet-image-layer"));
    var ready = paths > 0 && images.length > 0 && images.every(function (i) {
      return i.complete && i.naturalWidth > 0; });
    if (ready || Date.now() - t0 > 10000) {
      requestAnimationFrame(function () { requestAnimationFrame(function () { done(ready); }); });
    } else { setTimeout(poll, 50); }
  })();
})"""

_COUNTS = """({
  overlayPaths: document.querySelectorAll(".leaflet-overlay-pane path").length,
  pointPaths: document.querySelectorAll(".leaflet-tp-points-pane path").length,
  linePaths: document.querySelectorAll(".leaflet-tp-links-pane path").length,
  images: document.querySelectorAll("img.leaflet-image-layer").length,
  markers: document.querySelectorAll(".leaflet-marker-icon").length,
  ranks: Array.from(document.querySelectorAll(".leaflet-marker-icon.tp-rank"),
                    function (e) { return e.textContent; }),
  audit: Array.from(document.querySelectorAll(".leaflet-marker-icon.tp-audit"),
                    function (e) { return e.textContent; }),
  tiles: document.querySelectorAll("img.leaflet-tile").length,
  controls: document.querySelectorAll(".leaflet-control-layers-overlays label").length,
  legend: !!document.getElementById("tp-legend"),
  scripts: Array.from(document.scripts, function (s) { return s.src; }).filter(String)
})"""

_SEARCH = """new Promise(function (done) {
  var input = document.getElementById("tp-search-input");
  input.value = %s;
  input.dispatchEvent(new Event("input"));
  var items = Array.from(document.querySelectorAll("#tp-search-results li"));
  var hits = items.map(function (li) { return li.textContent; });
  if (items.length) { items[0].click(); }
  setTimeout(function () {
    var popup = document.querySelector(".leaflet-popup-content");
    done({hits: hits, popup: popup ? popup.textContent : null});
  }, 400);
})"""

_OSM_ON = """new Promise(function (done) {
  var box = Array.from(document.querySelectorAll(".leaflet-control-layers-overlays label"))
    .filter(function (l) { return l.textContent.indexOf("OpenStreetMap") >= 0; })[0]
    .querySelector("input");
  box.click();
  setTimeout(function () { done(box.checked); }, 1500);
})"""


def _chromium_command(tmp_path: Path) -> list[str]:
    assert CHROMIUM is not None
    return [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-extensions", "--disable-default-apps", "--no-first-run",
        "--no-default-browser-check", "--hide-scrollbars", "--mute-audio",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--window-size={_WINDOW[0]},{_WINDOW[1]}", "about:blank",
    ]


def _browser_map() -> Any:
    """The tiny plan with backhaul links, audit sites and one Unicode village name."""
    result = with_links_and_audit(make_plan_result())
    villages = result.villages.copy()
    villages.loc[villages.index[2], "name"] = _UNICODE_NAME
    return with_changes(result, villages=villages)


def open_page(tools: _DevTools, page: Path, size: tuple[int, int],
              scale: float = 1.0) -> tuple[str, int]:
    """Open *page* in a new tab of *size* (CSS pixels) and wait for its load event.

    Returns the tab's session id and the index of the first event recorded for the page.
    """
    target = tools.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    sid = tools.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        tools.call(f"{domain}.enable", session=sid)
    tools.call("Emulation.setDeviceMetricsOverride", {
        "width": size[0], "height": size[1], "deviceScaleFactor": scale, "mobile": False},
        session=sid)
    start = len(tools.events)
    tools.call("Page.navigate", {"url": page.as_uri()}, session=sid)
    tools.wait_for("Page.loadEventFired")
    return sid, start


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> dict[str, Any]:
    """Load the map once and record everything the tests look at."""
    out = tmp_path_factory.mktemp("browser")
    page = write_map(_browser_map(), out / "map.html")
    tools = _DevTools(_chromium_command(out), out / "chromium.log")
    record: dict[str, Any] = {"dir": out}
    try:
        sid, start = open_page(tools, page, _WINDOW)
        record["drawn"] = _evaluate(tools, sid, _WAIT_DRAWN)
        record["counts"] = _evaluate(tools, sid, _COUNTS)
        shot = base64.b64decode(tools.call("Page.captureScreenshot", {"format": "png"},
                                           session=sid)["data"])
        record["screenshot"] = out / "map_screenshot.png"
        record["screenshot"].write_bytes(shot)
        record["search_plain"] = _evaluate(tools, sid, _SEARCH % json.dumps("toyu"))
        record["search_unicode"] = _evaluate(tools, sid, _SEARCH % json.dumps("muara koma"))
        record["events"] = tools.events[start:]
        offline_events = len(tools.events)
        record["osm_checked"] = _evaluate(tools, sid, _OSM_ON)
        record["osm_events"] = tools.events[offline_events:]
    finally:
        tools.close()
    artifacts = os.environ.get("TOWERPLAN_ARTIFACTS")
    if artifacts and record.get("screenshot"):
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(record["screenshot"], Path(artifacts) / "map_screenshot.png")
    return record


def _requests(events: list[dict[str, Any]]) -> list[str]:
    return [e["params"]["request"]["url"] for e in events
            if e["method"] == "Network.requestWillBeSent"]


def test_screenshot_shows_a_drawn_map(session):
    from PIL import Image

    assert session["drawn"] is True
    pixels = np.asarray(Image.open(session["screenshot"]).convert("RGB"))
    assert pixels.shape[:2] == (_WINDOW[1], _WINDOW[0])
    assert pixels.std() > 10
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50
    # the village fill of the "after" layer is drawn where no RSRP is (the tiny plan's
    # coverage hides most of it), and the RSRP above it reads in the legend's colours
    covered = np.all(np.abs(pixels.astype(int) - (0x31, 0xA3, 0x54)) < 60, axis=-1)
    assert covered.mean() > 0.002
    ramp = np.all(np.abs(pixels.astype(int) - RSRP_STOPS[1][1]) < 25, axis=-1)
    assert ramp.mean() > 0.1


def test_leaflet_built_every_layer_shown_at_first(session):
    counts = session["counts"]
    assert counts["overlayPaths"] == 4  # villages (after)
    assert counts["linePaths"] == 4  # four backhaul hops, above the RSRP layer
    assert counts["pointPaths"] == 2  # existing towers; candidates start hidden
    assert counts["images"] == 2  # relief, coverage after; coverage before starts hidden
    assert counts["ranks"] == ["1", "2"]
    assert counts["audit"] == ["A1", "A2"]
    assert counts["markers"] == 4
    assert counts["controls"] == 11
    assert counts["legend"] is True
    assert counts["tiles"] == 0  # the online basemap is off by default
    assert counts["scripts"] == []  # every script is inline


def page_problems(events: list[dict[str, Any]]) -> list[Any]:
    """Exceptions, console errors and warnings, log errors and dialogs among *events*."""
    problems: list[Any] = []
    for event in events:
        params = event["params"]
        if event["method"] == "Runtime.exceptionThrown":
            problems.append(params["exceptionDetails"].get("text"))
        elif event["method"] == "Runtime.consoleAPICalled" and params["type"] in (
                "error", "warning", "assert"):
            problems.append([a.get("value") for a in params["args"]])
        elif event["method"] == "Log.entryAdded" and params["entry"]["level"] in (
                "error", "warning"):
            problems.append(params["entry"]["text"])
        elif event["method"] == "Page.javascriptDialogOpening":
            problems.append(f"dialog: {params.get('message')}")
    return problems


def test_no_console_error_and_no_exception(session):
    assert page_problems(session["events"]) == []


def test_no_request_leaves_the_machine(session):
    urls = _requests(session["events"])
    assert any(url.startswith("file:") for url in urls)  # the monitor saw the page itself
    assert [url for url in urls if not url.startswith(_LOCAL_SCHEMES)] == []


def test_switching_the_online_basemap_on_is_what_would_reach_the_internet(session):
    assert session["osm_checked"] is True
    urls = _requests(session["osm_events"])
    assert urls, "turning the OpenStreetMap layer on requested no tile"
    assert all(url.startswith("https://tile.openstreetmap.org/") for url in urls)
    failed = {e["params"]["requestId"] for e in session["osm_events"]
              if e["method"] == "Network.loadingFailed"}
    assert failed  # blocked: networking is off in this browser


def test_search_zooms_to_the_village_and_opens_its_popup(session):
    plain = session["search_plain"]
    assert plain["hits"] == ["Muara Toyu — Muara Komam"]
    assert plain["popup"].startswith("Desa Muara Toyu")
    assert "64.01.07.2001" in plain["popup"]
    unicode = session["search_unicode"]  # accents are ignored when matching
    assert unicode["hits"] == [f"{_UNICODE_NAME} — Batu Sopang"]
    assert unicode["popup"].startswith(f"Desa {_UNICODE_NAME}")


_LAPTOP = (1366, 768)

_PANEL = """({
  panel: (function (r) { return [r.left, r.top, r.width, r.height]; })(
    document.getElementById("tp-title").getBoundingClientRect()),
  search: (function (r) { return [r.left, r.top, r.width, r.height]; })(
    document.getElementById("tp-search-input").getBoundingClientRect()),
  searchOnTop: (function (r) {
    return document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)
      === document.getElementById("tp-search-input"); })(
    document.getElementById("tp-search-input").getBoundingClientRect()),
  viewport: [window.innerWidth, window.innerHeight],
  coveragePane: +getComputedStyle(document.querySelector(".leaflet-tp-coverage-pane")).zIndex,
  linePane: +getComputedStyle(document.querySelector(".leaflet-tp-links-pane")).zIndex,
  overlayPane: +getComputedStyle(document.querySelector(".leaflet-overlay-pane")).zIndex
})"""

_COLLAPSE = """new Promise(function (done) {
  document.querySelector("#tp-details summary").click();
  requestAnimationFrame(function () {
    done(document.getElementById("tp-title").getBoundingClientRect().height); });
})"""


def _long_panel_map() -> Any:
    """The tiny plan with a title panel far longer than a laptop screen (many sources)."""
    result = _browser_map()
    sources = tuple(f"Source {k}: a long attribution line of a data set, its licence and "
                    "where it was read from" for k in range(40))
    provenance = dataclasses.replace(result.provenance, data_sources=sources)
    return with_changes(result, provenance=provenance)


def test_info_panel_fits_a_laptop_screen_with_the_search_visible(tmp_path):
    """At 1366 x 768 the info panel covers at most a quarter of the map, the village search
    is on screen and not hidden, and the panel collapses; the RSRP layer is drawn above the
    village fill."""
    from PIL import Image

    page = write_map(_long_panel_map(), tmp_path / "map.html")
    tools = _DevTools(_chromium_command(tmp_path), tmp_path / "chromium.log")
    try:
        sid, _ = open_page(tools, page, _LAPTOP)
        assert _evaluate(tools, sid, _WAIT_DRAWN) is True
        measured = _evaluate(tools, sid, _PANEL)
        shot = tmp_path / "map_1366x768.png"
        shot.write_bytes(base64.b64decode(tools.call(
            "Page.captureScreenshot", {"format": "png"}, session=sid)["data"]))
        collapsed_height = _evaluate(tools, sid, _COLLAPSE)
    finally:
        tools.close()
    artifacts = os.environ.get("TOWERPLAN_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(artifacts) / shot.name)
    assert np.asarray(Image.open(shot)).shape[:2] == (_LAPTOP[1], _LAPTOP[0])
    width, height = measured["viewport"]
    assert (width, height) == _LAPTOP
    left, top, panel_w, panel_h = measured["panel"]
    share = panel_w * panel_h / (width * height)
    assert 0.05 < share <= 0.25, f"panel covers {share:.1%} of the map"
    s_left, s_top, s_w, s_h = measured["search"]
    assert s_w > 150 and s_h > 15
    assert s_left >= 0 and s_top >= 0
    assert s_left + s_w <= width and s_top + s_h <= height
    assert measured["searchOnTop"] is True
    assert collapsed_height < panel_h / 3  # collapsed: title, search and the toggle only
    assert measured["linePane"] > measured["coveragePane"] > measured["overlayPane"]
