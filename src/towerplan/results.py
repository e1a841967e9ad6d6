"""Value objects passed from the pipeline to the output writers."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from towerplan.i18n import in_language

if TYPE_CHECKING:
    import geopandas as gpd

    from towerplan.analysis.programme_outcome import ProgrammeOutcome
    from towerplan.io.rasters import RasterGrid
    from towerplan.scenario import Scenario

__all__ = ["BaseLayers", "MapImage", "PlanResult", "Provenance"]


@dataclass(frozen=True, slots=True)
class MapImage:
    """An image of the HTML map.

    Attributes
    ----------
    uri : str
        The PNG as a data URI.
    bounds : list of list of float
        ``[[south, west], [north, east]]``, degrees.
    """

    uri: str
    bounds: list[list[float]]


@dataclass(frozen=True, slots=True)
class BaseLayers:
    """What the writers draw from the terrain and today's coverage alone.

    Attributes
    ----------
    threshold_rsrp_dbm : float
        Threshold the coverage image and outline were made at, dBm.
    relief : MapImage
        The hillshaded relief (:func:`towerplan.outputs.map_rasters.relief_uri`).
    coverage_before : MapImage
        Today's RSRP (:func:`~towerplan.outputs.map_rasters.coverage_uri`).
    outline_before : shapely.MultiPolygon
        Where today's RSRP reaches the threshold, in the grid's CRS
        (:func:`~towerplan.outputs.exports.coverage_polygons`).
    """

    threshold_rsrp_dbm: float
    relief: MapImage
    coverage_before: MapImage
    outline_before: Any

    def at(self, threshold_rsrp_dbm: float) -> BaseLayers | None:
        """These layers when they were made at *threshold_rsrp_dbm*, else None."""
        return self if self.threshold_rsrp_dbm == threshold_rsrp_dbm else None


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a result came from; stated on every output.

    Attributes
    ----------
    version : str
        towerplan version.
    scenario_hash : str
        :meth:`Scenario.content_hash` of the run.
    model_chain : str
        Radio model chain with its key parameters, e.g.
        ``"hata-suburban (Okumura-Hata, no terrain), 900 MHz, EIRP 61 dBm, RSRP >= -105 dBm"``.
    solver : str
        Selection method actually used, e.g. ``"milp (HiGHS)"`` or ``"greedy"``.
    synthetic : bool
        True when any input is the synthetic demo; every output then says "synthetic".
    data_sources : tuple of str
        One attribution line per data source (licence included).
    demand_basis : str
        What demand means: ``"population"`` or ``"area_km2"`` (no population data).
    created_utc : str
        ISO 8601 time of the run.
    """

    version: str
    scenario_hash: str
    model_chain: str
    solver: str
    synthetic: bool
    data_sources: tuple[str, ...]
    demand_basis: str
    created_utc: str


@dataclass(frozen=True, slots=True)
class PlanResult:
    """Everything the output writers need.

    All GeoDataFrames are in the working CRS (``crs``) and carry the columns named in
    :mod:`towerplan.columns`.

    Attributes
    ----------
    scenario : Scenario
        The scenario that was run.
    provenance : Provenance
        Provenance stated on every output.
    villages : geopandas.GeoDataFrame
        One row per village with before/after statistics (``VILLAGE_COLUMNS``).
    existing : geopandas.GeoDataFrame
        Existing towers (``TOWER_COLUMNS``).
    candidates : geopandas.GeoDataFrame
        Candidate sites (``CANDIDATE_COLUMNS``).
    selected : geopandas.GeoDataFrame
        Selected sites in build order (``RANKING_COLUMNS``).
    rsrp_before : RasterGrid
        Best-server RSRP of the existing towers that serve the coverage target (``[coverage]
        target``), dBm (``nan`` = below the evaluated radius).
    rsrp_after : RasterGrid
        Best-server RSRP of those towers plus the selected ones, dBm.
    dem : RasterGrid
        Terrain in the working CRS, metres.
    summary : dict
        The content of ``summary.json``.
    audit : geopandas.GeoDataFrame or None
        Audit sites of a past decision (``AUDIT_COLUMNS``), when the scenario names one.
    audit_summary : dict or None
        Audit figures (audit vs optimum for the same budget), when ``audit`` is set.
    links : geopandas.GeoDataFrame or None
        Backhaul hops of the selected sites (``BACKHAUL_COLUMNS``, line geometries), when the
        backhaul stage ran.
    coverage_maps : geopandas.GeoDataFrame or None
        Where each coverage map (``[inputs] coverage_maps``) shows coverage, EPSG:4326
        (:func:`~towerplan.io.coverage_maps.coverage_outlines`); None without maps.
    committed : geopandas.GeoDataFrame or None
        Committed towers (``inputs.committed_towers``, every on-air year,
        :data:`~towerplan.io.committed.COMMITTED_COLUMNS`), when the scenario gives them.
    programme : ProgrammeOutcome or None
        The multi-year programme (years, channels, towers per year, villages in the Podes
        vocabulary), when the scenario sets ``[programme] years``; the outputs then add its
        sheets, report pages, map layers and KML folders.
    layers : BaseLayers or None
        The relief image and today's coverage image and outline, drawn by the plan's stage
        ``base_layers`` (:func:`towerplan.outputs.layers.base_layers`); None: the writers
        draw them.
    """

    scenario: Scenario
    provenance: Provenance
    villages: gpd.GeoDataFrame
    existing: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    selected: gpd.GeoDataFrame
    rsrp_before: RasterGrid
    rsrp_after: RasterGrid
    dem: RasterGrid
    summary: dict[str, Any] = field(default_factory=dict)
    audit: gpd.GeoDataFrame | None = None
    audit_summary: dict[str, Any] | None = None
    links: gpd.GeoDataFrame | None = None
    coverage_maps: gpd.GeoDataFrame | None = None
    committed: gpd.GeoDataFrame | None = None
    programme: ProgrammeOutcome | None = None
    layers: BaseLayers | None = None

    @property
    def crs(self) -> Any:
        """Working CRS of the result (the villages' CRS, else the DEM's)."""
        return self.villages.crs if self.villages.crs is not None else self.dem.crs

    def in_language(self, lang: str) -> PlanResult:
        """This result with the scenario's own texts in *lang*.

        The scenario title, description and attribution lines, and the data-source lines, may
        give both languages as ``"Bahasa Indonesia / English"``; the copy keeps the *lang*
        part (:func:`towerplan.i18n.in_language`). ``summary`` is unchanged.
        """
        info = self.scenario.scenario
        scenario = replace(self.scenario, scenario=replace(
            info, title=in_language(info.title, lang),
            description=in_language(info.description, lang)))
        prov = replace(self.provenance, data_sources=tuple(
            in_language(s, lang) for s in self.provenance.data_sources))
        return replace(self, scenario=scenario, provenance=prov)
