"""The offline map in a real browser: headless Chromium with networking blocked.

The page must draw (a screenshot with real content), build Leaflet layers, log no JavaScript
console message and request nothing from the network.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

from towerplan.outputs.maps import write_map

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None,
                                reason="chromium not installed; .ci/run installs it")

# Hosts Chromium itself contacts (updates, time, accounts); never requested by the page.
_BROWSER_HOSTS = ("google.com", "googleapis.com", "gstatic.com", "gvt1.com")


def _factories():
    """Load the tiny-plan factory shared with the unit tests of the output writers."""
    path = Path(__file__).resolve().parents[1] / "unit" / "outputs" / "factories.py"
    spec = importlib.util.spec_from_file_location("towerplan_output_factories", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _chromium(tmp_path: Path, profile: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", f"--user-data-dir={tmp_path / profile}",
        "--proxy-server=127.0.0.1:9", "--window-size=1400,900", "--virtual-time-budget=8000",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def map_path(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser")
    return write_map(_factories().make_plan_result(), out / "map.html")


def test_screenshot_shows_a_drawn_map(map_path, tmp_path):
    from PIL import Image

    shot = tmp_path / "map.png"
    run = _chromium(tmp_path, "profile-shot", f"--screenshot={shot}", map_path.as_uri())
    assert shot.exists(), run.stderr[-2000:]
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels.shape[:2] == (900, 1400)
    assert pixels.std() > 10
    colours = np.unique(pixels.reshape(-1, 3), axis=0)
    assert len(colours) > 50


def test_dom_has_leaflet_layers_no_console_errors_and_no_network(map_path, tmp_path):
    netlog = tmp_path / "netlog.json"
    run = _chromium(tmp_path, "profile-dom", "--enable-logging=stderr", "--v=0",
                    f"--log-net-log={netlog}", "--dump-dom", map_path.as_uri())
    dom = run.stdout
    assert "leaflet-container" in dom, run.stderr[-2000:]

    vectors = re.findall(r'<path[^>]*class="leaflet-interactive"', dom)
    images = re.findall(r'<img[^>]*class="leaflet-image-layer', dom)
    ranks = re.findall(r'class="leaflet-marker-icon tp-rank', dom)
    assert len(vectors) == 4 + 2  # villages (after), existing towers; candidates start hidden
    assert len(images) == 2  # relief, coverage after; coverage before starts hidden
    assert len(ranks) == 2
    assert "leaflet-control-layers" in dom
    assert 'id="tp-search-input"' in dom

    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []

    assert netlog.exists()
    urls = set(re.findall(r'"url":"([^"]+)"', netlog.read_text(encoding="utf-8",
                                                               errors="replace")))
    page_requests = [
        url for url in urls
        if url.startswith(("http:", "https:", "ws:", "wss:"))
        and not (urlparse(url).hostname or "").endswith(_BROWSER_HOSTS)
    ]
    assert page_requests == []


def test_search_finds_a_village_by_name(map_path, tmp_path):
    probe = map_path.with_name("probe.html")
    script = """
<script>
var input = document.getElementById("tp-search-input");
input.value = "toyu";
input.dispatchEvent(new Event("input"));
var items = document.querySelectorAll("#tp-search-results li");
document.body.setAttribute("data-hits", JSON.stringify(Array.from(items, function (li) {
  return li.textContent; })));
</script>
</html>"""
    probe.write_text(map_path.read_text(encoding="utf-8").replace("</html>", script),
                     encoding="utf-8")
    run = _chromium(tmp_path, "profile-search", "--dump-dom", probe.as_uri())
    match = re.search(r'data-hits="([^"]*)"', run.stdout)
    assert match, run.stderr[-2000:]
    hits = json.loads(match.group(1).replace("&quot;", '"'))
    assert hits == ["Muara Toyu — Muara Komam"]
