"""Synthetic demo kabupaten: a fictitious regency generated deterministically from a seed.

The demo is the built-in default input of towerplan (``builtin:demo``). It imitates the figures
of a real Indonesian regency (about 10,000 km² of land, 10 kecamatan, 144 villages, 277,000
people, a mountain ridge in the west and a low coastal plain in the east) but lies in open
ocean south of the Sunda Strait, uses the non-existent province code 99 and invented names,
so it can never be mistaken for a real place. Every file it writes says that it is synthetic
(*sintetis*). All randomness comes from one ``numpy.random.default_rng(seed)``: the same seed
and resolution always give the same data.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from affine import Affine
from scipy import ndimage

from towerplan.errors import MissingDependencyError, OutputError, ScenarioError
from towerplan.io import demo_terrain
from towerplan.io.atomic import atomic_output
from towerplan.io.cache import cache_root
from towerplan.io.demo_terrain import (
    BASE_M,
    CELL_KM2,
    CELL_M,
    Region,
    Terrain,
    blocks,
    fbm,
    refine,
    shape_region,
    terrain,
)
from towerplan.io.outdir import MARKER
from towerplan.io.rasters import RasterGrid, write_raster

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from towerplan.io.rasters import RasterGrid

__all__ = ["DEMO_FILES", "DEMO_STAGES", "DEMO_VERSION", "SURVEY_FILE", "SURVEY_SOURCE",
           "SYNTHETIC_NOTICE", "DemoLayers", "DemoManifest", "checked_parameters",
           "ensure_demo", "generate_demo", "generator_version", "new_output_folder",
           "survey_reports",
           "synthesise_layers", "write_layers", "write_survey"]

log = logging.getLogger(__name__)

#: Version of the generator; bump it whenever the same seed would give different data.
DEMO_VERSION: int = 1

#: Stage labels passed to the ``progress`` callback of :func:`generate_demo`, in order.
DEMO_STAGES: tuple[str, ...] = (
    "coastline", "terrain", "kecamatan", "villages", "towers", "land cover", "writing",
)

_CRS = "EPSG:32748"  # WGS 84 / UTM zone 48S
_KAB_CODE = "99.01"
_KAB_NAME = "Kabupaten Contoh (sintetis)"
_RESOLUTIONS_M = (90.0, 45.0, 30.0, 18.0, 15.0, 10.0)
#: Notice of every manifest of synthetic data.
SYNTHETIC_NOTICE = ("SINTETIS: data contoh karangan, bukan tempat nyata / "
                    "SYNTHETIC: invented demo data, not a real place")
#: The data files of a demo folder, by input name.
DEMO_FILES = {
    "villages": "villages.gpkg", "districts": "districts.gpkg", "dem": "dem.tif",
    "landcover": "landcover.tif", "towers": "towers.csv", "settlements": "settlements.csv",
    "pops": "pops.csv", "village_population": "village_population.csv",
}
# Kecamatan layout: position along the coast (-1 south .. 1 north), position inland
# (0 coast .. 1 western edge), area km², population, villages, has a town (kelurahan seat).
_KECAMATAN = (
    (-0.42, 0.72, 1091, 24_484, 9, False), (-0.50, 0.10, 567, 8_925, 7, False),
    (-0.05, 0.45, 676, 29_283, 15, False), (0.02, 0.06, 342, 78_018, 16, True),
    (0.28, 0.10, 672, 29_942, 13, True), (0.58, 0.14, 982, 41_634, 26, True),
    (-0.12, 0.86, 1650, 13_422, 13, True), (0.62, 0.66, 2164, 26_991, 23, True),
    (-0.82, 0.50, 1536, 17_833, 13, False), (-0.26, 0.34, 917, 6_868, 9, False),
)
_CAPITAL = 3  # index of the capital's kecamatan in _KECAMATAN
_WC = {"tree": 10, "shrub": 20, "grass": 30, "crop": 40, "built": 50, "water": 80, "wet": 90}
_ONSETS = ("b", "d", "g", "j", "k", "l", "m", "n", "p", "r", "s", "t", "w", "h", "ng", "s",
           "t", "k", "b", "l", "m", "")
_VOWELS = ("a", "a", "a", "a", "i", "i", "u", "u", "e", "o")
_CODAS = ("n", "ng", "k", "r", "t", "h", "s", "l", "m")
_BLOCKED = ("anjing", "babi", "tai", "kontol", "memek", "ngentot", "bangsat", "jembut", "pantat",
            "goblok", "tolol", "setan", "bodoh", "kafir", "puki", "lonte", "perek", "coli",
            "peler", "itil", "titit", "tetek", "kimak", "bego", "ngew")


@dataclass(frozen=True, slots=True)
class DemoManifest:
    """Paths and parameters of one generated demo data set.

    Attributes
    ----------
    directory : Path
        Folder holding all files.
    villages, districts : Path
        GeoPackages of village (desa/kelurahan) and kecamatan polygons, EPSG:4326.
    dem : Path
        Elevation in metres (float32 COG, EPSG:32748, cell size ``resolution_m``).
    towers, settlements, pops : Path
        CSV files of existing towers, settlement points and fibre points of presence.
    village_population : Path
        CSV of people per desa/kelurahan (``code,name,population,year,source``), the sum of
        each village's settlements: the demo's "official" desa totals.
    landcover : Path
        ESA WorldCover class codes (uint8 COG, EPSG:32748, 90 m cells).
    seed : int
        Random seed the data were generated from.
    resolution_m : float
        DEM cell size in metres.
    crs : str
        CRS of the rasters, ``"EPSG:32748"`` (UTM zone 48S).
    """

    directory: Path
    villages: Path
    dem: Path
    towers: Path
    settlements: Path
    landcover: Path
    pops: Path
    districts: Path
    village_population: Path
    seed: int
    resolution_m: float
    crs: str

    @classmethod
    def from_directory(cls, directory: str | Path) -> DemoManifest:
        """Read the manifest of a generated demo folder (its ``manifest.json``)."""
        directory = Path(directory)
        meta = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        files = {key: directory / name for key, name in meta["files"].items()}
        return cls(directory=directory, seed=int(meta["seed"]),
                   resolution_m=float(meta["resolution_m"]), crs=str(meta["crs"]), **files)


def _power_labels(pts: np.ndarray, seeds: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Return the power-diagram cell of every point (squared distance minus weight)."""
    offset = (seeds**2).sum(1) - weights
    return np.argmin(offset[None, :] - 2.0 * (pts[:, :1] * seeds[None, :, 0]
                                              + pts[:, 1:] * seeds[None, :, 1]), axis=1)


def _balanced_partition(pts: np.ndarray, seeds: np.ndarray, targets_km2: np.ndarray,
                        cell_km2: float) -> np.ndarray:
    """Partition points *pts* (km) into cells of about *targets_km2* by a power diagram.

    Weights follow the area deficit with a per-cell adaptive gain while seeds drift towards
    their cell centroids. A cell left far below its target is re-seeded inside the cell that
    most exceeds its own.
    """
    n = len(seeds)
    seeds, weights = seeds.astype(np.float64).copy(), np.zeros(n)
    step = max(1, len(pts) // 12_000)
    sub = pts[::step]
    gain, last = np.ones(n), np.zeros(n)
    for attempt in range(6):
        for it in range(90 if attempt == 0 else 40):
            lab = _power_labels(sub, seeds, weights)
            count = np.bincount(lab, minlength=n)
            error = targets_km2 - count * cell_km2 * step
            gain = np.clip(np.where(error * last < 0, 0.5 * gain, 1.1 * gain), 0.05, 2.0)
            weights += gain * error / np.pi
            last = error
            if attempt == 0 and it < 55:
                has = count > 0
                centroid = np.stack([np.bincount(lab, sub[:, i], n) for i in (0, 1)], 1)
                seeds[has] += 0.4 * (centroid[has] / count[has, None] - seeds[has])
        lab = _power_labels(pts, seeds, weights)
        count = np.bincount(lab, minlength=n)
        small = np.flatnonzero(count * cell_km2 < 0.6 * targets_km2)
        if not small.size:
            break
        excess = count / targets_km2
        excess[small] = -np.inf
        for i in small:
            j = int(np.argmax(excess))
            excess[j] = -np.inf
            members = pts[lab == j]
            far = members[np.argmax(((members - seeds[j]) ** 2).sum(-1))]
            seeds[i] = members[np.argmin(((members - 0.5 * (far + seeds[j])) ** 2).sum(-1))]
            weights[i] = weights[j]
    return lab


def _connect(labels: np.ndarray, domain: np.ndarray) -> None:
    """Make every label 4-connected in place; stray pieces join the nearest other label."""
    for _ in range(8):
        moved = False
        for i, sl in enumerate(ndimage.find_objects(labels), start=1):
            if sl is None:
                continue
            comp, n = ndimage.label(labels[sl] == i)
            if n > 1:
                keep = np.argmax(np.bincount(comp.ravel())[1:]) + 1
                labels[sl][(comp > 0) & (comp != keep)] = 0
                moved = True
        if not moved:
            return
        _, (ri, ci) = ndimage.distance_transform_edt(labels == 0, return_indices=True)
        hole = domain & (labels == 0)
        labels[hole] = labels[ri[hole], ci[hole]]


def _kecamatan(rng: np.random.Generator, reg: Region, river180_km: np.ndarray,
               ) -> tuple[np.ndarray, dict[int, tuple[int, int]]]:
    """Split the kabupaten into the 10 kecamatan; return labels (1..10) and town cells."""
    rr, cc = np.nonzero(reg.kab)
    xi, eta = reg.xi[rr, cc], reg.eta[rr, cc]
    e_lo, e_hi = float(eta.min()), float(eta.max())
    picks = []
    for t, c, *_ in _KECAMATAN:
        e = 0.5 * (e_lo + e_hi) + 0.45 * (e_hi - e_lo) * (t + rng.normal(0.0, 0.03))
        band = np.abs(eta - e) < 2.0
        east, west = xi[band].max(), xi[band].min()
        s = east - float(np.clip(c + rng.normal(0, 0.03), 0.02, 0.98)) * (east - west)
        picks.append(int(np.argmin(np.hypot(xi - s, eta - e))))
    warp = [4.0 * fbm(rng, reg.kab.shape, 3.5)[rr, cc] for _ in range(2)]
    pts = np.stack([xi + warp[0], eta + warp[1]], 1)
    areas = np.array([k[2] for k in _KECAMATAN], float) * rng.uniform(0.9, 1.1, len(picks))
    labels = np.zeros(reg.kab.shape, np.int32)
    labels[rr, cc] = 1 + _balanced_partition(pts, pts[picks],
                                             areas / areas.sum() * rr.size * CELL_KM2, CELL_KM2)
    _connect(labels, reg.kab)
    towns: dict[int, tuple[int, int]] = {}
    for k in (k for k, spec in enumerate(_KECAMATAN) if spec[5]):
        # the seat: central, by a river, near the sea if the kecamatan has a coast
        region = labels == k + 1
        edge = ndimage.distance_transform_edt(np.pad(region, 1))[1:-1, 1:-1] * CELL_M / 1e3
        tr, tc = np.nonzero(region)
        radius = math.sqrt(tr.size * CELL_KM2 / math.pi)
        ok = (edge[tr, tc] >= 1.5) & (reg.coast_km[tr, tc] >= 1.5)
        for r, c in towns.values():  # towns at least 12 km apart
            ok &= np.hypot(tr - r, tc - c) * CELL_M >= 12_000
        coastal = 3.0 if reg.coast_km[tr, tc].min() < 1.0 else 0.0
        score = (-np.hypot(tr - tr.mean(), tc - tc.mean()) * CELL_M / 1e3 / radius
                 - river180_km[tr, tc] / 6.0 - coastal * reg.coast_km[tr, tc] / radius)
        best = np.argmax(np.where(ok if ok.any() else edge[tr, tc] > 0, score, -np.inf))
        towns[k] = (int(tr[best]), int(tc[best]))
    return labels, towns


def _villages(rng: np.random.Generator, reg: Region, kec: np.ndarray,
              towns: dict[int, tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Split each kecamatan into its villages; return labels (1..144) and kecamatan of each."""
    town_mask = np.zeros(kec.shape, bool)
    town_mask[tuple(np.array(list(towns.values())).T)] = True
    town_km = ndimage.distance_transform_edt(~town_mask) * CELL_M / 1e3
    # typical village area, km²: small at the coast and near towns, large inland
    inland = 4.0 + 320.0 * (1.0 - np.exp(-reg.coast_km / 26.0)) ** 2
    size = np.maximum(inland * (0.1 + 0.9 * (1.0 - np.exp(-town_km / 7.0))), 3.0)
    warp = [np.clip(0.25 * np.sqrt(size), 0.3, 3.0) * fbm(rng, kec.shape, 3.2) for _ in (0, 1)]
    labels, owner = np.zeros(kec.shape, np.int32), list[int]()
    for k, spec in enumerate(_KECAMATAN):
        n, (rr, cc) = spec[4], np.nonzero(kec == k + 1)
        xi, eta, s = reg.xi[rr, cc], reg.eta[rr, cc], size[rr, cc]
        chosen = [int(np.flatnonzero((rr == towns[k][0]) & (cc == towns[k][1]))[0])] \
            if k in towns else []
        spacing = 0.9  # seeds at least spacing * sqrt(local size) apart, relaxed if needed
        while len(chosen) < n:
            for d in rng.choice(rr.size, size=30 * n, p=(1 / s) / (1 / s).sum()):
                gap = np.hypot(xi[chosen] - xi[d], eta[chosen] - eta[d]) if chosen else [1e9]
                if len(chosen) < n and np.min(gap) >= spacing * math.sqrt(s[d]):
                    chosen.append(int(d))
            spacing *= 0.8
        want = s[chosen] * np.exp(rng.normal(0.0, 0.35, n))
        want[0] *= 0.5 if k in towns else 1.0
        for _ in range(6):
            want = np.clip(want / want.sum() * rr.size * CELL_KM2, 4.0, 650.0)
        pts = np.stack([xi + warp[0][rr, cc], eta + warp[1][rr, cc]], 1)
        sub = np.zeros(kec.shape, np.int32)
        sub[rr, cc] = 1 + _balanced_partition(pts, pts[chosen], want, CELL_KM2)
        _connect(sub, kec == k + 1)
        if np.bincount(sub[rr, cc], minlength=n + 1)[1:].min() == 0:
            msg = f"demo generation failed: an empty village in kecamatan {k + 1}"
            raise RuntimeError(msg)
        labels[rr, cc] = sub[rr, cc] + len(owner)
        owner.extend([k] * n)
    return labels, np.asarray(owner)


def _polygons(labels: np.ndarray, n: int, x0: float, y0: float) -> np.ndarray:
    """Polygonise labels 1..n into a coverage of simplified polygons in UTM metres."""
    import shapely
    from rasterio.features import shapes
    from shapely.geometry import shape as to_shape

    if shapely.geos_version < (3, 12, 0):
        found = ".".join(str(v) for v in shapely.geos_version)
        msg = (f"the synthetic demo's village outlines need GEOS 3.12 or newer, but shapely "
               f"uses GEOS {found}; generate the demo where shapely has GEOS 3.12+ (its PyPI "
               "wheel) or run a scenario with your own villages")
        raise MissingDependencyError(msg)
    parts: list[list[shapely.Geometry]] = [[] for _ in range(n)]
    for geom, value in shapes(labels, mask=labels > 0, connectivity=4):  # pixel coordinates
        parts[int(value) - 1].append(to_shape(geom))
    geoms = np.array([p[0] if len(p) == 1 else shapely.MultiPolygon(p) for p in parts])
    # vertices at every pixel corner make shared edges identical, as coverage_simplify needs
    geoms = shapely.coverage_simplify(shapely.segmentize(geoms, 1.0), 0.9)
    geoms = shapely.transform(geoms, lambda rc: np.column_stack(
        [x0 + CELL_M * rc[:, 0], y0 - CELL_M * rc[:, 1]]))
    bad = ~shapely.is_valid(geoms)
    geoms[bad] = shapely.make_valid(geoms[bad])
    return geoms


# ------------------------------------------------------------------------ people and names
def _namer(rng: np.random.Generator) -> Callable[[], str]:
    """Return a generator of unique, invented, Indonesian-sounding place names."""
    used: set[str] = set()

    def root(syllables: int) -> str:
        onsets = [str(rng.choice(_ONSETS[:-1] if i else _ONSETS)) for i in range(syllables)]
        word = "".join(o + str(rng.choice(_VOWELS)) for o in onsets)
        return word + (str(rng.choice(_CODAS)) if rng.random() < 0.5 else "")

    def new() -> str:
        while True:
            words = [root(int(rng.integers(2, 4)))] + ([root(2)] if rng.random() < 0.25 else [])
            name = " ".join(w.capitalize() for w in words)
            key = name.lower().replace(" ", "")
            if (key not in used and min(map(len, words)) >= 5  # short roots are real words
                    and not any(b in key for b in _BLOCKED)):
                used.add(key)
                return name

    return new


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split *total* into integers proportional to *weights* (largest remainder)."""
    exact = total * weights / weights.sum()
    out = np.floor(exact).astype(np.int64)
    out[np.argsort(-(exact - out), kind="stable")[: total - int(out.sum())]] += 1
    return out


def _settlements(rng: np.random.Generator, labels: np.ndarray, owner: np.ndarray,
                 towns: dict[int, tuple[int, int]], reg: Region, terr: Terrain,
                 ) -> list[tuple[int, int, int, int, str]]:
    """Return settlements as (village index, row, col, population, kind) on the 180 m grid."""
    elev, river_km = blocks(terr.elev).mean(axis=(1, 3)), blocks(terr.river_km).min(axis=(1, 3))
    pop_k = np.array([k[3] for k in _KECAMATAN], float) * rng.uniform(0.94, 1.06, 10)
    pop_k = _allocate(int(round(277_400 * rng.uniform(0.97, 1.03))), pop_k)
    slices = ndimage.find_objects(labels)
    out: list[tuple[int, int, int, int, str]] = []
    for k in range(len(_KECAMATAN)):
        members = np.flatnonzero(owner == k)
        weight, places = np.exp(rng.normal(0.0, 0.5, members.size)), []
        for j, v in enumerate(members):
            mask = labels[slices[v]] == v + 1
            edge = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
            rr, cc = np.nonzero(edge >= min(2.5, edge.max()))  # keep off the boundary
            rr, cc = rr + slices[v][0].start, cc + slices[v][1].start
            score = (-elev[rr, cc] / 150.0 - river_km[rr, cc] / 3.0 - reg.coast_km[rr, cc] / 40
                     + rng.normal(0.0, 0.3, rr.size))
            seat = next((t for t in towns.values() if labels[t] == v + 1), None)
            main = seat or (int(rr[np.argmax(score)]), int(cc[np.argmax(score)]))
            area_km2, hamlets = mask.sum() * CELL_KM2, list[tuple[int, int]]()
            for _ in range(min(3, int(rng.integers(0, 2)) + (area_km2 > 40) + (area_km2 > 150))):
                far = np.min([np.hypot(rr - r, cc - c) for r, c in [main, *hamlets]], 0) >= 7
                if far.any():
                    p = np.exp(score[far] - score[far].max())
                    pick = rng.choice(np.flatnonzero(far), p=p / p.sum())
                    hamlets.append((int(rr[pick]), int(cc[pick])))
            if seat:
                weight[j] = members.size * (0.45 if k == _CAPITAL else 0.3)
            elif reg.coast_km[main] < 5.0:
                weight[j] *= 1.5
            places.append((int(v), main, hamlets, "town" if seat else "village"))
        people = _allocate(int(pop_k[k]), np.maximum(weight, 0.35 * weight.mean()))
        for (village, main, hamlets, kind), total in zip(places, people, strict=True):
            split = _allocate(int(total), np.concatenate(
                [[rng.uniform(2.0, 5.0)], rng.uniform(0.4, 1.0, len(hamlets))]))
            out.append((village, *main, int(split[0]), kind))
            out.extend((village, r, c, int(p), "hamlet")
                       for (r, c), p in zip(hamlets, split[1:], strict=True))
    return out


def _network(rng: np.random.Generator, reg: Region, towns: dict[int, tuple[int, int]],
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return existing towers (8-12, near the towns, all 4G) and fibre points of presence
    (2-4)."""
    import pandas as pd

    keys = sorted(towns)
    prob = np.array([0.3 if k == _CAPITAL else 0.25 if reg.coast_km[towns[k]] < 8 else 0.08
                     for k in keys])
    towers: list[tuple[str, float, float, int, str]] = []
    n = int(rng.integers(8, 13))
    while len(towers) < n:  # the first two serve the capital
        pick = keys.index(_CAPITAL) if len(towers) < 2 else rng.choice(len(keys),
                                                                        p=prob / prob.sum())
        r, c = towns[keys[pick]]
        dist_m, ang = 1e3 * rng.uniform(0.5, 5.5), rng.uniform(0.0, 2 * np.pi)
        x = reg.x0 + CELL_M * (c + 0.5) + dist_m * math.cos(ang)
        y = reg.y0 - CELL_M * (r + 0.5) + dist_m * math.sin(ang)
        if not reg.kab[int((reg.y0 - y) / CELL_M), int((x - reg.x0) / CELL_M)] or any(
                math.hypot(x - t[1], y - t[2]) < 2000 for t in towers):
            continue
        towers.append((f"T{len(towers) + 1:02d}", x, y, int(rng.choice([30, 32, 36, 40, 42])),
                       f"Operator {'ABC'[int(rng.integers(0, 3))]}"))
    others = [k for k in keys if k != _CAPITAL]
    chosen = sorted(rng.choice(others, size=int(rng.integers(1, 4)), replace=False).tolist())
    pops = []
    for i, k in enumerate([_CAPITAL, *chosen]):
        r, c = towns[k]
        pops.append((f"POP{i + 1:02d}", reg.x0 + CELL_M * (c + 0.5 + rng.uniform(-1, 1)),
                     reg.y0 - CELL_M * (r + 0.5 + rng.uniform(-1, 1)), "fibre",
                     10_000 if k == _CAPITAL else 1_000))
    frame = pd.DataFrame(towers, columns=["tower_id", "x", "y", "height_m", "operator"])
    return (frame.assign(technology="4g"),
            pd.DataFrame(pops, columns=["pop_id", "x", "y", "kind", "capacity_mbps"]))


def _landcover(rng: np.random.Generator, reg: Region, terr: Terrain, xy: np.ndarray,
               built_km: np.ndarray, farm_km: np.ndarray) -> np.ndarray:
    """Return ESA WorldCover classes (90 m) from terrain, coast and settlements."""
    rows, cols = reg.land90.shape
    n1, n2 = (ndimage.zoom(fbm(rng, (rows // 2, cols // 2), 2.6), 2, order=1, grid_mode=True,
                           mode="nearest") for _ in range(2))
    owner = np.full((rows, cols), -1, np.int64)
    owner[((reg.y0 - xy[:, 1]) / BASE_M).astype(int),
          ((xy[:, 0] - reg.x0) / BASE_M).astype(int)] = np.arange(len(xy))
    dist, (ri, ci) = ndimage.distance_transform_edt(owner < 0, return_indices=True)
    dist_km, nearest = dist * (BASE_M / 1e3), owner[ri, ci]
    elev, coast = terr.elev, terr.coast_km
    lc = np.full((rows, cols), _WC["tree"], np.uint8)
    lc[(n1 > 0.9) & (elev < 700)] = _WC["shrub"]
    lc[(coast < 10) & (n2 > 0.8)] = _WC["grass"]
    farm = farm_km[nearest] * (1.0 + 0.45 * n2 + 0.25 * n1)
    lc[((dist_km < farm) & (elev < 350)) | ((coast < 12) & (elev < 30) & (n1 > 0.6))] = _WC["crop"]
    lc[(dist_km < 1.5 * farm) & (dist_km >= farm) & (n1 < -0.2)] = _WC["grass"]
    lc[((coast < 2.5) & (elev < 8) & (n2 > -0.2))
       | (ndimage.binary_dilation(terr.river, iterations=3) & (elev < 10))] = _WC["wet"]
    lc[dist_km < built_km[nearest] * (1.0 + 0.25 * n1)] = _WC["built"]
    lc[~reg.land90 | terr.river] = _WC["water"]
    return lc


# ------------------------------------------------------------------------------ assembly
@dataclass(frozen=True, slots=True)
class DemoLayers:
    """Every layer of one synthetic kabupaten, in memory (EPSG:32748)."""

    villages: gpd.GeoDataFrame  # EPSG:32748
    districts: gpd.GeoDataFrame
    settlements: pd.DataFrame  # x, y in EPSG:32748
    towers: pd.DataFrame
    pops: pd.DataFrame
    dem: RasterGrid
    landcover: RasterGrid
    facts: dict[str, object]


def _tables(rng: np.random.Generator, reg: Region, labels: np.ndarray, owner: np.ndarray,
            places: list[tuple[int, int, int, int, str]], seats: set[int], kab_code: str,
            ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    """Name and code the villages (codes under *kab_code*); build village, kecamatan and
    settlement tables."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    geoms = _polygons(labels, len(owner), reg.x0, reg.y0)
    name = _namer(rng)
    kec_names = [name() for _ in _KECAMATAN]
    main = {p[0]: p for p in places if p[4] != "hamlet"}
    order = sorted(range(len(owner)), key=lambda v: (owner[v], v not in seats, *main[v][1:3]))
    codes: dict[int, str] = {}
    for v in order:  # kelurahan 1xxx, desa 2xxx, numbered north to south
        prefix = 1 if v in seats else 2
        serial = 1 + sum(owner[u] == owner[v] and (u in seats) == (v in seats) for u in codes)
        codes[v] = f"{kab_code}.{owner[v] + 1:02d}.{prefix}{serial:03d}"
    vnames = {v: name() for v in order}
    rows = []
    for v, r, c, people, kind in places:
        x = reg.x0 + CELL_M * (c + 0.5 + rng.uniform(-0.3, 0.3))
        y = reg.y0 - CELL_M * (r + 0.5 + rng.uniform(-0.3, 0.3))
        if not shapely.contains_xy(geoms[v], x, y):
            x, y = shapely.get_coordinates(shapely.point_on_surface(geoms[v]))[0]
        rows.append((vnames[v] if kind != "hamlet" else name(), x, y, people, codes[v], kind))
    settle = pd.DataFrame(rows, columns=["name", "x", "y", "population", "village_code", "kind"])
    people = settle.groupby("village_code")["population"].sum()
    villages = gpd.GeoDataFrame({
        "code": [codes[v] for v in order], "name": [vnames[v] for v in order],
        "district_code": [f"{kab_code}.{owner[v] + 1:02d}" for v in order],
        "district": [kec_names[owner[v]] for v in order],
        "kind": ["kelurahan" if v in seats else "desa" for v in order],
        "population": [int(people[codes[v]]) for v in order],
    }, geometry=list(geoms[order]), crs=_CRS)
    districts = gpd.GeoDataFrame(
        {"code": [f"{kab_code}.{k + 1:02d}" for k in range(10)], "name": kec_names},
        geometry=[shapely.coverage_union_all(geoms[owner == k]) for k in range(10)], crs=_CRS)
    return villages, districts, settle


def synthesise_layers(seed: int, resolution_m: float, progress: Callable[[str], None], *,
                      kab_code: str = _KAB_CODE) -> DemoLayers:
    """Generate every layer of one demo kabupaten in memory (village and kecamatan codes
    under *kab_code*; the synthetic province numbers its kabupaten this way)."""
    from pyproj import CRS

    rng = np.random.default_rng(seed)
    progress("coastline")
    reg = shape_region(rng)
    progress("terrain")
    terr = terrain(rng, reg)
    progress("kecamatan")
    kec, towns = _kecamatan(rng, reg, blocks(terr.river_km).min(axis=(1, 3)))
    progress("villages")
    labels, owner = _villages(rng, reg, kec, towns)
    places = _settlements(rng, labels, owner, towns, reg, terr)
    seats = {int(labels[t]) - 1 for t in towns.values()}
    villages, districts, settle = _tables(rng, reg, labels, owner, places, seats, kab_code)
    progress("towers")
    towers, pops = _network(rng, reg, towns)
    progress("land cover")
    kind, people = settle["kind"].to_numpy(), settle["population"].to_numpy()
    built_km = np.where(kind == "town", 1.2, np.where(people > 700, 0.25, 0.08))
    built_km[(kind == "town") & (people == people[kind == "town"].max())] = 2.4
    lc = _landcover(rng, reg, terr, settle[["x", "y"]].to_numpy(), built_km,
                    1.0 + 0.8 * np.sqrt(people / 1000.0))
    elev = refine(rng, terr.elev, reg.land90, int(round(BASE_M / resolution_m)))
    crs = CRS.from_user_input(_CRS)
    dem = RasterGrid(elev, Affine(resolution_m, 0, reg.x0, 0, -resolution_m, reg.y0), crs)
    landcover = RasterGrid(lc, Affine(BASE_M, 0, reg.x0, 0, -BASE_M, reg.y0), crs, nodata=0)
    land = terr.elev[np.repeat(np.repeat(reg.kab, 2, axis=0), 2, axis=1) & reg.land90]
    facts: dict[str, object] = {
        "land_area_km2": round(float(villages.area.sum()) / 1e6, 1),
        "kecamatan": len(districts), "villages": len(villages),
        "desa": int((villages["kind"] == "desa").sum()),
        "kelurahan": int((villages["kind"] == "kelurahan").sum()),
        "population": int(people.sum()), "settlements": len(settle),
        "towers": len(towers), "fibre_pops": len(pops),
        "elevation_max_m": round(float(land.max()), 1),
        "elevation_median_m": round(float(np.median(land)), 1),
        "elevation_p95_m": round(float(np.quantile(land, 0.95)), 1),
        "capital": str(villages["name"][villages["population"].idxmax()]),
    }
    return DemoLayers(villages, districts, settle, towers, pops, dem, landcover, facts)


# -------------------------------------------------------------------------------- writing
def _lonlat(frame: pd.DataFrame) -> pd.DataFrame:
    """Replace UTM ``x``, ``y`` columns by ``lon``, ``lat`` (degrees, 6 decimals)."""
    from pyproj import Transformer

    to_geo = Transformer.from_crs(_CRS, "EPSG:4326", always_xy=True)
    lon, lat = to_geo.transform(frame["x"].to_numpy(), frame["y"].to_numpy())
    out = frame.drop(columns=["x", "y"])
    out.insert(1, "lon", np.round(lon, 6))
    out.insert(2, "lat", np.round(lat, 6))
    return out


_README = """\
KABUPATEN CONTOH (SINTETIS) - DATA DEMO SINTETIS / SYNTHETIC DEMO DATA

[ID] Semua berkas di folder ini SINTETIS, dibuat oleh {generator} (versi demo {version},
seed {seed}, resolusi DEM {resolution:g} m). Kabupaten ini TIDAK ADA: letaknya di laut lepas
selatan Selat Sunda, kodenya memakai kode provinsi 99 yang tidak dipakai Kemendagri, dan semua
nama, penduduk, menara dan operator adalah karangan. Jangan dipakai untuk keputusan nyata.

[EN] Every file in this folder is SYNTHETIC, generated by {generator} (demo version
{version}, seed {seed}, DEM cell size {resolution:g} m). This regency does NOT exist: it lies in
open ocean south of the Sunda Strait, its codes use the unused province code 99, and all names,
populations, towers and operators are invented. Do not use it for real decisions.

villages.gpkg    desa/kelurahan polygons (layer "villages", EPSG:4326)
districts.gpkg   kecamatan polygons (layer "districts", EPSG:4326)
dem.tif          elevation in metres (EPSG:32748, UTM zone 48S)
landcover.tif    ESA WorldCover class codes (EPSG:32748, 90 m)
towers.csv       existing towers of fictitious operators
settlements.csv  settlement points with population (town, village, hamlet)
pops.csv         fibre points of presence
village_population.csv  people per desa/kelurahan (code, name, population, year, source)
manifest.json    generation parameters and facts
"""


def write_layers(demo: DemoLayers, out: Path, seed: int) -> None:
    """Write the data files of *demo* (:data:`DEMO_FILES`) atomically into *out*."""
    from pyogrio import write_dataframe

    tags = {"SYNTHETIC": "yes (sintetis)", "generator": __name__,
            "demo_version": str(DEMO_VERSION), "seed": str(seed)}
    for key, layer in (("villages", demo.villages), ("districts", demo.districts)):
        with atomic_output(out / DEMO_FILES[key]) as tmp:
            write_dataframe(layer.to_crs("EPSG:4326"), tmp, layer=key, driver="GPKG")
    write_raster(out / DEMO_FILES["dem"], demo.dem, description="elevation_m", tags=tags)
    write_raster(out / DEMO_FILES["landcover"], demo.landcover, description="esa_worldcover_class",
                 tags=tags)
    for key in ("towers", "settlements", "pops"):
        with atomic_output(out / DEMO_FILES[key]) as tmp:
            _lonlat(getattr(demo, key)).to_csv(tmp, index=False, lineterminator="\n")
    totals = demo.villages[["code", "name", "population"]].assign(
        year="2022", source="Dukcapil (sintetis / synthetic)")
    with atomic_output(out / DEMO_FILES["village_population"]) as tmp:
        totals.to_csv(tmp, index=False, lineterminator="\n")


def generator_version() -> str:
    """Installed version of towerplan ("unknown" when not installed), for manifests."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("towerplan")
    except PackageNotFoundError:
        return "unknown"


def _write(demo: DemoLayers, out: Path, seed: int, resolution_m: float) -> None:
    """Write every file of *demo* atomically into *out*, ``manifest.json`` last."""
    write_layers(demo, out, seed)
    meta = {
        "synthetic": True,
        "notice": SYNTHETIC_NOTICE,
        "kabupaten": {"code": _KAB_CODE, "name": _KAB_NAME},
        "generator": __name__, "generator_version": generator_version(),
        "demo_version": DEMO_VERSION, "seed": seed, "resolution_m": resolution_m, "crs": _CRS,
        "files": dict(DEMO_FILES), "facts": demo.facts,
    }
    with atomic_output(out / "README.txt") as tmp:
        tmp.write_text(_README.format(generator=__name__, version=DEMO_VERSION, seed=seed,
                                      resolution=resolution_m), encoding="utf-8")
    with atomic_output(out / "manifest.json") as tmp:
        tmp.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------- village survey
#: File of the synthetic village survey, written into the demo folder by :func:`write_survey`.
SURVEY_FILE = "signal_reports.csv"
#: Source of every row of the synthetic survey.
SURVEY_SOURCE = "Survei desa (sintetis)"
#: Period of the synthetic survey.
SURVEY_DATE = "2024-06"
#: Share of the villages whose survey answer deliberately disagrees with the model.
SURVEY_FLIP_SHARE = 0.10
#: Share of the agreeing covered villages answering "sinyal kuat" (no generation stated).
SURVEY_STRONG_SHARE = 0.15
_SURVEY_NOTE = "SINTETIS: bukan survei nyata / SYNTHETIC: not a real survey"
_SURVEY_STREAM = 16  # second word of the survey's random seed, apart from the generator's


def survey_reports(villages: pd.DataFrame, status_model: Sequence[str],
                   share_covered: Sequence[float], *, seed: int) -> pd.DataFrame:
    """A Podes-like village survey of the demo, consistent with the model but not copied.

    Each village answers from the model's status today (with the default radio settings):
    covered ``4G`` (or, for :data:`SURVEY_STRONG_SHARE` of them and at least one,
    ``sinyal kuat``: strong signal, generation not stated, unknown for a 4G target),
    partial ``sinyal lemah``, blank ``tidak ada sinyal``. Then :data:`SURVEY_FLIP_SHARE` of
    the villages, drawn with the seed, answer otherwise, as field surveys do where the model
    is wrong: covered villages ``sinyal lemah``, partial ones ``tidak ada sinyal`` (under
    half covered) or ``4G``, blank ones ``4G`` (a tower the tower file misses) or ``sinyal
    lemah`` (where some of the village is covered).

    Parameters
    ----------
    villages : pandas.DataFrame
        ``code``, ``name``, ``district`` of every village.
    status_model, share_covered : sequence
        The model's status (``blank``, ``partial``, ``covered``) and covered share (0..1) of
        each village.
    seed : int
        Seed of the demo.

    Returns
    -------
    pandas.DataFrame
        ``code, village, kecamatan, status, date, source, note`` (one row per village, every
        row marked synthetic) and ``flipped`` (bool: the answer deliberately disagrees).
    """
    import pandas as pd

    status = np.asarray(status_model, dtype=object)
    share = np.asarray(share_covered, dtype=float)
    n = status.size
    rng = np.random.default_rng([seed, _SURVEY_STREAM])
    flipped = np.zeros(n, dtype=bool)
    flipped[rng.choice(n, size=int(round(SURVEY_FLIP_SHARE * n)), replace=False)] = True
    plain = np.flatnonzero(~flipped & (status == "covered"))
    strong = np.zeros(n, dtype=bool)
    if plain.size:
        count = max(1, int(round(SURVEY_STRONG_SHARE * plain.size)))
        strong[rng.choice(plain, size=count, replace=False)] = True
    answer = []
    for k in range(n):
        if not flipped[k]:
            answer.append({"blank": "tidak ada sinyal", "partial": "sinyal lemah"}.get(
                status[k], "sinyal kuat" if strong[k] else "4G"))
        elif status[k] == "covered":
            answer.append("sinyal lemah")
        elif status[k] == "partial":
            answer.append("tidak ada sinyal" if share[k] < 0.5 else "4G")
        else:
            answer.append("sinyal lemah" if share[k] > 0 else "4G")
    return pd.DataFrame({
        "code": villages["code"].astype(str).to_numpy(),
        "village": villages["name"].astype(str).to_numpy(),
        "kecamatan": villages["district"].astype(str).to_numpy(),
        "status": answer, "date": SURVEY_DATE, "source": SURVEY_SOURCE, "note": _SURVEY_NOTE,
        "flipped": flipped,
    })


def write_survey(path: str | Path, table: pd.DataFrame) -> Path:
    """Write the survey of :func:`survey_reports` as CSV, atomically (``flipped`` included)."""
    path = Path(path)
    with atomic_output(path) as tmp:
        table.to_csv(tmp, index=False, lineterminator="\n")
    return path


def checked_parameters(seed: int, resolution_m: float) -> tuple[int, float]:
    """Validate the demo parameters, reporting every problem at once."""
    problems = []
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        problems.append(f"demo seed must be a non-negative integer, got {seed!r}")
    if resolution_m not in _RESOLUTIONS_M:
        allowed = ", ".join(f"{r:g}" for r in _RESOLUTIONS_M)
        problems.append(f"demo resolution_m must be one of {allowed} m, got {resolution_m!r}")
    if problems:
        raise ScenarioError("; ".join(problems))
    return int(seed), float(resolution_m)


def _complete(folder: Path) -> bool:
    """Tell whether *folder* holds a finished demo (every file and ``manifest.json``)."""
    return all((folder / name).is_file() for name in (*DEMO_FILES.values(), "manifest.json"))


def new_output_folder(out_dir: str | Path) -> Path:
    """Create *out_dir* for a demo data set; it must be new or an empty folder.

    Raises
    ------
    towerplan.errors.OutputError
        If *out_dir* is a file or a non-empty folder, or cannot be created.
    """
    out = Path(out_dir)
    # a staging folder of towerplan's own output publishing holds only its marker
    if out.exists() and (not out.is_dir() or any(p.name != MARKER for p in out.iterdir())):
        msg = f"demo output {out} exists and is not an empty folder"
        raise OutputError(msg)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create the demo output folder {out}: {exc}"
        raise OutputError(msg) from exc
    return out


def generate_demo(out_dir: str | Path, *, seed: int = 2022, resolution_m: float = 90.0,
                  progress: Callable[[str], None] | None = None) -> DemoManifest:
    """Generate the synthetic demo kabupaten into *out_dir*.

    Parameters
    ----------
    out_dir : str or Path
        Destination folder; created if missing. An existing folder must be empty.
    seed : int
        Random seed (non-negative); the same seed gives the same data. Default 2022.
    resolution_m : float
        DEM cell size in metres: 90 (default), 45, 30, 18, 15 or 10. Finer grids refine the
        90 m terrain with fine fractal detail. Land cover is always 90 m.
    progress : callable, optional
        Called with a short stage label (``"terrain"``, ``"villages"``, ...) as work proceeds.

    Returns
    -------
    DemoManifest
        Paths of the written files and the generation parameters.

    Raises
    ------
    towerplan.errors.OutputError
        If *out_dir* is a file or a non-empty folder, or cannot be created.
    towerplan.errors.ScenarioError
        If *seed* or *resolution_m* is not allowed.
    """
    seed, resolution_m = checked_parameters(seed, resolution_m)
    out = new_output_folder(out_dir)
    start = time.perf_counter()
    demo = synthesise_layers(seed, resolution_m, progress or (lambda _stage: None))
    if progress:
        progress("writing")
    _write(demo, out, seed, resolution_m)
    f = demo.facts
    log.info("demo kabupaten (seed %d, %g m): %d villages in %d kecamatan, %.0f km², %d people, "
             "%d towers; written to %s in %.1f s", seed, resolution_m, f["villages"],
             f["kecamatan"], f["land_area_km2"], f["population"], f["towers"], out,
             time.perf_counter() - start)
    return DemoManifest.from_directory(out)


def _generator_code() -> str:
    """Short SHA-256 of the generator's source files."""
    digest = hashlib.sha256()
    for module_file in (__file__, demo_terrain.__file__):
        digest.update(Path(module_file).read_bytes())
    return digest.hexdigest()[:10]


def ensure_demo(*, seed: int = 2022, resolution_m: float = 90.0,
                cache_dir: str | Path | None = None) -> DemoManifest:
    """Return a cached copy of the demo, generating it on first use.

    The copy lives in ``<cache_dir>/demo-v{DEMO_VERSION}-{code}-s{seed}-r{int(resolution_m)}``,
    where ``code`` fingerprints the generator's source, so a changed generator never reuses an
    old copy. It
    is generated in a temporary sibling folder and renamed into place, so no caller ever sees
    a partial copy; when another process finishes first, its copy is used.

    Parameters
    ----------
    seed : int
        Random seed of the demo. Default 2022.
    resolution_m : float
        DEM cell size in metres (see :func:`generate_demo`). Default 90.
    cache_dir : str or Path, optional
        Cache root; default ``$TOWERPLAN_CACHE_DIR`` or else the user cache folder of towerplan.

    Returns
    -------
    DemoManifest
        Paths of the cached files.
    """
    seed, resolution_m = checked_parameters(seed, resolution_m)
    if cache_dir is None:
        cache_dir = cache_root()
    target = (Path(cache_dir)
              / f"demo-v{DEMO_VERSION}-{_generator_code()}-s{seed}-r{int(resolution_m)}")
    if _complete(target):
        return DemoManifest.from_directory(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as exc:
        msg = f"cannot create the demo cache in {target.parent}: {exc}"
        raise OutputError(msg) from exc
    try:
        generate_demo(tmp, seed=seed, resolution_m=resolution_m)
        if target.exists() and not _complete(target):  # left by an interrupted run
            stale = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.stale")
            with suppress(OSError):
                target.rename(stale)
            shutil.rmtree(stale, ignore_errors=True)
        try:
            tmp.rename(target)
        except OSError as exc:
            if not _complete(target):
                msg = f"cannot move the demo into the cache at {target}: {exc}"
                raise OutputError(msg) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return DemoManifest.from_directory(target)
