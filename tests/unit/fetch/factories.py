"""A scriptable local HTTP server and generated Overpass/GeoTIFF fixtures for fetch tests.

Nothing here touches the internet: the server listens on 127.0.0.1 and every fixture is
generated (Overpass JSON built in Python, tiny GeoTIFFs written with rasterio).
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
from affine import Affine
from pyproj import CRS

from towerplan.io.rasters import RasterGrid, write_raster
from towerplan.scenario import Sources

#: The region of the generated kabupaten "Paser" (west, south, east, north degrees).
REGION = (115.90, -1.80, 116.10, -1.60)
#: Degrees per pixel of the generated DEM tiles (1 degree = 100 pixels).
DEM_STEP = 0.01
#: Degrees per pixel of the generated WorldCover tiles (3 degrees = 300 pixels).
WORLDCOVER_STEP = 0.01


@dataclass
class Reply:
    """One scripted answer.

    ``truncate_at`` declares the full Content-Length but sends only that many bytes and closes
    the connection; ``drop`` closes the connection without an answer; ``ranges`` answers
    ``Range: bytes=N-`` requests with 206.
    """

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    truncate_at: int | None = None
    drop: bool = False
    ranges: bool = True


@dataclass
class Seen:
    """A request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class FakeServer:
    """HTTP server on 127.0.0.1 answering scripted replies per path.

    ``add(path, *replies)``: the replies are given in order, the last one repeats. Unknown paths
    get 404.
    """

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[Seen] = []
        self.lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                server.answer(self, b"")

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length") or 0)
                server.answer(self, self.rfile.read(length))

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,),
                                       daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def add(self, path: str, *replies: Reply) -> None:
        """Script the answers of *path*."""
        self.routes[path] = list(replies)

    def hits(self, path: str) -> list[Seen]:
        """Requests received for *path*."""
        return [r for r in self.requests if r.path == path]

    def answer(self, handler: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
        path = urlsplit(handler.path).path
        with self.lock:
            self.requests.append(Seen(handler.command, path, dict(handler.headers.items()),
                                      body))
            queue = self.routes.get(path)
            reply = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else Reply(404)
        if reply.drop:
            handler.close_connection = True
            return
        status, payload, headers = reply.status, reply.body, dict(reply.headers)
        wanted = handler.headers.get("Range", "")
        if wanted.startswith("bytes=") and reply.ranges and status == 200:
            start = int(wanted[6:].split("-")[0])
            if start >= len(payload):
                status, payload = 416, b""
                headers["Content-Range"] = f"bytes */{len(reply.body)}"
            else:
                status = 206
                headers["Content-Range"] = f"bytes {start}-{len(payload) - 1}/{len(payload)}"
                payload = payload[start:]
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(payload)))
        if reply.truncate_at is not None:
            handler.send_header("Connection", "close")
        handler.end_headers()
        sent = payload if reply.truncate_at is None else payload[:reply.truncate_at]
        handler.wfile.write(sent)
        handler.wfile.flush()
        if reply.truncate_at is not None:
            handler.close_connection = True

    def close(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def serve() -> Iterator[FakeServer]:
    """Generator for a pytest fixture: a running :class:`FakeServer`, closed afterwards."""
    server = FakeServer()
    try:
        yield server
    finally:
        server.close()


def sources_for(server: FakeServer) -> Sources:
    """Sources pointing every service at *server*."""
    return Sources(overpass_url=f"{server.url}/api/interpreter", dem_url=f"{server.url}/dem",
                   worldcover_url=f"{server.url}/worldcover/v200/2021/map")


def overpass_query_of(seen: Seen) -> str:
    """The Overpass QL text of a POST request."""
    return parse_qs(seen.body.decode())["data"][0]


# ---------------------------------------------------------------------------------- Overpass


def _ring(west: float, south: float, east: float, north: float) -> list[tuple[float, float]]:
    return [(west, south), (east, south), (east, north), (west, north), (west, south)]


def _geometry(points: list[tuple[float, float]]) -> list[dict[str, float]]:
    return [{"lat": lat, "lon": lon} for lon, lat in points]


def _relation(osm_id: int, name: str, level: int, *rings: tuple[str, list[tuple[float, float]]],
              **tags: str) -> dict[str, Any]:
    members = [{"type": "way", "ref": osm_id * 10 + k, "role": role, "geometry": _geometry(pts)}
               for k, (role, pts) in enumerate(rings)]
    return {"type": "relation", "id": osm_id, "members": members,
            "tags": {"boundary": "administrative", "admin_level": str(level), "name": name,
                     **tags}}


def overpass_payload(*, extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An Overpass ``out geom`` answer for the generated kabupaten "Paser" (:data:`REGION`).

    Kabupaten (two ways forming one ring), kecamatan Kuaro (west) and Long Ikis (east), four
    desa (Alpha with a 0.02 x 0.02 degree hole, "Kelurahan Beta", Gamma, Delta), a neighbouring
    desa outside the kabupaten that shares its edge, a boundary that does not close, two
    places, a road, two communication towers (node and way) and a power line.
    """
    w, s, e, n = REGION
    mid_x, mid_y = (w + e) / 2, (s + n) / 2
    outline = _ring(w, s, e, n)
    elements: list[dict[str, Any]] = [
        _relation(1, "Kabupaten Paser", 5, ("outer", outline[:3]), ("outer", outline[2:])),
        _relation(2, "Kuaro", 6, ("outer", _ring(w, s, mid_x, n))),
        _relation(3, "Long Ikis", 6, ("outer", _ring(mid_x, s, e, n))),
        _relation(4, "Desa Alpha", 7, ("outer", _ring(w, mid_y, mid_x, n)),
                  ("inner", _ring(w + 0.04, mid_y + 0.04, w + 0.06, mid_y + 0.06)),
                  population="1.250"),
        _relation(5, "Kelurahan Beta", 7, ("outer", _ring(w, s, mid_x, mid_y))),
        _relation(6, "Gamma", 7, ("outer", _ring(mid_x, mid_y, e, n))),
        _relation(7, "Delta", 7, ("outer", _ring(mid_x, s, e, mid_y))),
        _relation(8, "Outside", 7, ("outer", _ring(e, s, e + 0.1, n))),
        _relation(9, "Broken", 7, ("outer", [(w, s), (w + 0.01, s), (w + 0.01, s + 0.01)])),
        {"type": "node", "id": 101, "lat": -1.65, "lon": 115.95,
         "tags": {"place": "village", "name": "Alpha", "population": "830"}},
        {"type": "node", "id": 102, "lat": -1.75, "lon": 116.05,
         "tags": {"place": "hamlet", "name": "=cmd|' /C calc'!A0"}},
        {"type": "way", "id": 201, "geometry": _geometry([(w, mid_y), (e, mid_y)]),
         "tags": {"highway": "primary", "name": "Jalan Negara", "surface": "asphalt"}},
        {"type": "node", "id": 301, "lat": -1.62, "lon": 116.08,
         "tags": {"man_made": "mast", "tower:type": "communication", "height": "45 m",
                  "operator": "Telkomsel"}},
        {"type": "way", "id": 302,
         "geometry": _geometry(_ring(115.92, -1.78, 115.9202, -1.7798)),
         "tags": {"man_made": "tower", "tower:type": "communication"}},
        {"type": "way", "id": 401, "geometry": _geometry([(w, s), (e, n)]),
         "tags": {"power": "line", "voltage": "150000"}},
    ]
    return {"version": 0.6, "generator": "test", "osm3s": {
        "timestamp_osm_base": "2025-01-31T08:00:00Z"}, "elements": elements + (extra or [])}


def overpass_bytes(payload: dict[str, Any] | None = None) -> bytes:
    """The JSON body of an Overpass answer."""
    return json.dumps(payload if payload is not None else overpass_payload()).encode()


# ------------------------------------------------------------------------------------ tiles


def dem_value(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Elevation (m) of the generated DEM tiles at lon/lat degrees: 100 m + 50 m per degree
    east of 115 E + 20 m per degree north of 2 S."""
    return 100.0 + 50.0 * (np.asarray(lon) - 115.0) + 20.0 * (np.asarray(lat) + 2.0)


def _tif_bytes(tmp: Path, name: str, array: np.ndarray, west: float, north: float,
               step: float, nodata: float | None = None) -> bytes:
    path = tmp / name
    grid = RasterGrid(array, Affine(step, 0.0, west, 0.0, -step, north), CRS.from_epsg(4326),
                      nodata)
    write_raster(path, grid)
    return path.read_bytes()


def dem_tile_bytes(tmp: Path, lat: int, lon: int) -> bytes:
    """A 1 x 1 degree DEM tile (100 x 100 float32 pixels) with :func:`dem_value`."""
    cells = round(1 / DEM_STEP)
    centres = (np.arange(cells) + 0.5) * DEM_STEP
    lons, lats = np.meshgrid(lon + centres, lat + 1 - centres)
    return _tif_bytes(tmp, f"dem_{lat}_{lon}.tif", dem_value(lons, lats).astype(np.float32),
                      float(lon), float(lat + 1), DEM_STEP)


def worldcover_tile_bytes(tmp: Path, lat: int, lon: int) -> bytes:
    """A 3 x 3 degree WorldCover tile (300 x 300 uint8): 10 (trees) west of 116 E, 40 east."""
    cells = round(3 / WORLDCOVER_STEP)
    lons = lon + (np.arange(cells) + 0.5) * WORLDCOVER_STEP
    row = np.where(lons < 116.0, 10, 40).astype(np.uint8)
    return _tif_bytes(tmp, f"wc_{lat}_{lon}.tif", np.tile(row, (cells, 1)), float(lon),
                      float(lat + 3), WORLDCOVER_STEP, nodata=0)


def dem_path(lat: int, lon: int) -> str:
    """Server path of a generated Copernicus tile."""
    from towerplan.fetch.tiles import copernicus_dem_tile

    name = copernicus_dem_tile(lat, lon)
    return f"/dem/{name}/{name}.tif"


def worldcover_path(lat: int, lon: int) -> str:
    """Server path of a generated WorldCover tile."""
    from towerplan.fetch.tiles import worldcover_tile

    return f"/worldcover/v200/2021/map/{worldcover_tile(lat, lon)}"


def publish_area(server: FakeServer, tmp: Path, *,
                 overpass: list[Reply] | None = None) -> dict[str, bytes]:
    """Serve the generated kabupaten: Overpass answer, DEM tiles S02E115 and S02E116, WorldCover
    tile S03E114 (every other tile: 404). Returns the tile bodies by server path."""
    server.add("/api/interpreter", *(overpass or [Reply(body=overpass_bytes())]))
    bodies = {dem_path(-2, 115): dem_tile_bytes(tmp, -2, 115),
              dem_path(-2, 116): dem_tile_bytes(tmp, -2, 116),
              worldcover_path(-3, 114): worldcover_tile_bytes(tmp, -3, 114)}
    for path, body in bodies.items():
        server.add(path, Reply(body=body))
    return bodies


def record_sleeps() -> tuple[list[float], Callable[[float], None]]:
    """A list and a sleep function that appends to it instead of waiting."""
    slept: list[float] = []
    return slept, slept.append


def guard_network(monkeypatch: Any, cache_dir: Path) -> list[str]:
    """Refuse every request not to 127.0.0.1 or to a default source URL; return the URLs asked.

    Also points the user cache at *cache_dir* and clears proxy settings.
    """
    from towerplan.fetch import http as fetch_http

    asked: list[str] = []
    real_open = fetch_http._open
    defaults = Sources()

    def guarded(request: Any, timeout_s: float) -> Any:
        url = request.full_url
        assert urlsplit(url).hostname == "127.0.0.1", f"a test tried to reach {url}"
        assert not url.startswith((defaults.overpass_url, defaults.dem_url,
                                   defaults.worldcover_url)), url
        asked.append(url)
        return real_open(request, timeout_s)

    monkeypatch.setattr(fetch_http, "_open", guarded)
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TOWERPLAN_CACHE_DIR", str(cache_dir))
    return asked
