"""The towerplan Processing algorithms.

Each algorithm turns its QGIS parameters into the files and numbers the towerplan library
takes, calls the library function behind the matching ``towerplan`` command, and returns the
files written as Processing outputs. Vector inputs may come from any provider QGIS reads
(GeoPackage, Shapefile, PostGIS, ...): Processing hands over a file path, writing a temporary
GeoPackage where the source is not a file. Stage progress goes to the Processing feedback; a
cancelled run stops at the next stage and writes nothing (the library publishes its output
folder only when the run finishes). Errors of the library appear as its one-line messages.

Scenario-based algorithms (Plan, Blank spots, Candidates, Select sites, Audit, Backhaul
links) take a scenario file (none: the built-in synthetic demo kabupaten) whose inputs may be
replaced by layers: villages (polygons), existing towers (points) and a terrain raster.
"""

import csv
import dataclasses
import os
import tempfile
import tomllib

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingOutputFile,
    QgsProcessingOutputRasterLayer,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterPoint,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsProject,
)

from .environment import TowerplanUnavailableError, load_towerplan

_WGS84 = "EPSG:4326"
_LANGS = ("id", "en")


class CancelledError(Exception):
    """The user cancelled the run (raised from the progress callback)."""


def _library():
    try:
        return load_towerplan()
    except TowerplanUnavailableError as exc:
        raise QgsProcessingException(str(exc)) from None


class TowerplanAlgorithm(QgsProcessingAlgorithm):
    """Common parts: names, help, progress with cancel, one-line errors."""

    NAME = ""
    TITLE = ""
    HELP = ""

    def name(self):
        return self.NAME

    def displayName(self):  # noqa: N802 - QGIS API
        return self.TITLE

    def group(self):
        return "towerplan"

    def groupId(self):  # noqa: N802 - QGIS API
        return "towerplan"

    def shortHelpString(self):  # noqa: N802 - QGIS API
        return self.HELP

    def createInstance(self):  # noqa: N802 - QGIS API
        return type(self)()

    def flags(self):
        # the library runs its own threads (numba, HiGHS): keep it off QGIS's worker thread
        return super().flags() | QgsProcessingAlgorithm.FlagNoThreading

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 - QGIS API
        tp = _library()
        from towerplan.errors import TowerplanError

        try:
            return self.run(tp, parameters, context, feedback)
        except CancelledError:
            feedback.reportError("cancelled: nothing was written")
            return {}
        except TowerplanError as exc:
            raise QgsProcessingException(" ".join(str(exc).split())) from None

    def run(self, tp, parameters, context, feedback):
        raise NotImplementedError

    @staticmethod
    def progress(feedback, stages=()):
        """A progress callback for the library: stage labels as text and percentage; raises
        :class:`CancelledError` once the user cancels."""
        order = {label: k for k, label in enumerate(stages)}

        def report(label):
            if feedback.isCanceled():
                raise CancelledError
            feedback.setProgressText(str(label))
            if label in order:
                feedback.setProgress(100.0 * order[label] / max(len(order), 1))

        return report

    @staticmethod
    def load_on_completion(context, path, name, output):
        """Load *path* into the project when the algorithm finishes (GUI runs)."""
        details = QgsProcessingContext.LayerDetails(name, context.project() or
                                                    QgsProject.instance(), output)
        context.addLayerToLoadOnCompletion(path, details)


# ------------------------------------------------------------------------ scenario inputs


class ScenarioAlgorithm(TowerplanAlgorithm):
    """An algorithm over a scenario whose inputs may be replaced by layers."""

    SCENARIO = "SCENARIO"
    VILLAGES = "VILLAGES"
    TOWERS = "TOWERS"
    TOWER_HEIGHT = "TOWER_HEIGHT_FIELD"
    DEM = "DEM"
    COVERAGE = "COVERAGE_TODAY"
    BUDGET = "BUDGET_IDR"
    OUTPUT = "OUTPUT_FOLDER"
    WITH_BUDGET = False

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterFile(
            self.SCENARIO, "Scenario file (TOML; empty = the built-in synthetic demo)",
            extension="toml", optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.VILLAGES, "Villages (polygons; replaces [inputs] villages)",
            [QgsProcessing.TypeVectorPolygon], optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.TOWERS, "Existing towers (points; replaces [inputs] towers)",
            [QgsProcessing.TypeVectorPoint], optional=True))
        self.addParameter(QgsProcessingParameterField(
            self.TOWER_HEIGHT, "Tower height field, m", parentLayerParameterName=self.TOWERS,
            type=QgsProcessingParameterField.Numeric, optional=True))
        self.addParameter(QgsProcessingParameterRasterLayer(
            self.DEM, "Terrain (DEM; replaces [inputs] dem)", optional=True))
        self.addParameter(QgsProcessingParameterRasterLayer(
            self.COVERAGE, "Coverage today (RSRP raster, dBm, e.g. from Coverage; added to "
            "[inputs] coverage_maps)", optional=True))
        if self.WITH_BUDGET:
            self.addParameter(QgsProcessingParameterNumber(
                self.BUDGET, "Budget, Rp (empty = [budget] total_idr of the scenario)",
                QgsProcessingParameterNumber.Double, optional=True, minValue=0.0))
        self.extra_parameters()
        self.addParameter(QgsProcessingParameterFolderDestination(
            self.OUTPUT, "Output folder"))

    def extra_parameters(self):
        """Parameters of one algorithm, between the inputs and the output folder."""

    def scenario(self, tp, parameters, context, feedback, work):
        """The scenario with the layers given in place of its inputs.

        The scenario file's own tables are read and the layers replace entries of its
        ``[inputs]``; the library then builds and checks the scenario as from the file (so
        own villages drop the demo's other inputs, as in a scenario file).
        """
        from towerplan.scenario import Scenario

        path = self.parameterAsFile(parameters, self.SCENARIO, context)
        inputs = {}
        if parameters.get(self.VILLAGES):
            # a file QGIS can hand over as it is, or a temporary GeoPackage of the features;
            # the layer name matters for a GeoPackage of several layers
            path_and_layer = self.parameterAsCompatibleSourceLayerPathAndLayerName(
                parameters, self.VILLAGES, context, ["gpkg", "shp", "geojson", "fgb"], "gpkg",
                feedback)
            inputs["villages"] = path_and_layer[0]
            inputs["village_layer"] = path_and_layer[1] or ""
        if parameters.get(self.TOWERS):
            source = self.parameterAsSource(parameters, self.TOWERS, context)
            field = self.parameterAsString(parameters, self.TOWER_HEIGHT, context)
            inputs["towers"] = _points_csv(source, field, os.path.join(work, "towers.csv"),
                                           context)
        dem = self.parameterAsRasterLayer(parameters, self.DEM, context)
        if dem is not None:
            inputs["dem"] = [_raster_file(dem)]
        coverage_map = self.parameterAsRasterLayer(parameters, self.COVERAGE, context)
        budget = None
        if self.WITH_BUDGET and parameters.get(self.BUDGET) not in (None, ""):
            budget = self.parameterAsDouble(parameters, self.BUDGET, context)
        if not inputs and budget is None and coverage_map is None:
            return Scenario.from_toml(path) if path else Scenario()
        data, base = {}, os.getcwd()
        if path:
            Scenario.from_toml(path)  # the file's own errors, with its name
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
            base = os.path.dirname(os.path.abspath(path))
        data["inputs"] = {**data.get("inputs", {}), **inputs}
        if coverage_map is not None:
            # an RSRP raster (LTE) where the modelled or measured signal reaches the threshold
            maps = list(data["inputs"].get("coverage_maps", []))
            maps.append({"path": _raster_file(coverage_map), "kind": "rsrp",
                         "technology": "4g", "source": f"QGIS layer {coverage_map.name()}"})
            data["inputs"]["coverage_maps"] = maps
        if budget is not None:
            data["budget"] = {**data.get("budget", {}), "total_idr": budget}
        return Scenario.from_dict(data, base_dir=base)

    def run(self, tp, parameters, context, feedback):
        out = self.parameterAsString(parameters, self.OUTPUT, context)
        with tempfile.TemporaryDirectory(prefix="towerplan-qgis-") as work:
            scenario = self.scenario(tp, parameters, context, feedback, work)
            results = self.run_scenario(scenario, out, parameters, context, feedback)
        results[self.OUTPUT] = out
        return results

    def run_scenario(self, scenario, out, parameters, context, feedback):
        raise NotImplementedError

    def layer_outputs(self, context, out, layers):
        """Results and on-completion loading of ``(output name, file, layer, title)``."""
        results = {}
        for output, filename, layer, title in layers:
            path = os.path.join(out, filename)
            uri = f"{path}|layername={layer}" if layer else path
            results[output] = uri
            self.load_on_completion(context, uri, title, output)
        return results


def _raster_file(layer):
    """The file behind a raster layer (a GDAL source: GeoTIFF, .hgt, VRT, ...)."""
    source = layer.source()
    if layer.providerType() != "gdal" or not os.path.exists(source.split("|")[0]):
        msg = (f"the terrain layer {layer.name()!r} is not a raster file (provider "
               f"{layer.providerType()}); save it as a GeoTIFF first")
        raise QgsProcessingException(msg)
    return source.split("|")[0]


def _points_csv(source, height_field, path, context):
    """Write point features as ``lon,lat[,height_m],tower_id`` (WGS 84) for the library."""
    to_wgs84 = QgsCoordinateTransform(source.sourceCrs(), QgsCoordinateReferenceSystem(_WGS84),
                                      context.transformContext())
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["lon", "lat", "height_m", "tower_id"] if height_field
                        else ["lon", "lat", "tower_id"])
        for feature in source.getFeatures():
            geom = feature.geometry()
            if geom.isNull() or geom.isEmpty():
                continue
            point = to_wgs84.transform(geom.centroid().asPoint())
            row = [f"{point.x():.7f}", f"{point.y():.7f}"]
            if height_field:
                value = feature[height_field]
                row.append("" if value is None else f"{float(value):g}")
            row.append(str(feature.id()))
            writer.writerow(row)
    return path


def _run_plan(scenario, out, feedback, **options):
    """The library's ``run_plan`` into *out* (replacing it), its stages reported to QGIS."""
    from towerplan.commands.plan import run_plan
    from towerplan.pipeline.plan import PLAN_STAGES

    progress = TowerplanAlgorithm.progress(feedback, (*PLAN_STAGES, "outputs"))
    return run_plan(scenario, out, overwrite=True, progress=progress, **options)


class PlanAlgorithm(ScenarioAlgorithm):
    NAME = "plan"
    TITLE = "Plan"
    HELP = ("The whole plan (towerplan plan): coverage of the existing towers, blank spots, "
            "candidate sites, the optimal selection within the budget, backhaul, audit and "
            "every output (map.html, report.xlsx/.pdf, plan.gpkg with its styles, "
            "coverage_before/after.tif with .qml styles) in the output folder.")
    WITH_BUDGET = True
    LANG = "LANG"
    PROJECT = "QGIS_PROJECT"

    def extra_parameters(self):
        self.addParameter(QgsProcessingParameterEnum(
            self.LANG, "Language of the map and reports", options=list(_LANGS),
            defaultValue=0))
        self.addParameter(QgsProcessingParameterBoolean(
            self.PROJECT, "Also write plan.qgz (a QGIS project of the plan's layers)",
            defaultValue=False))

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        super().initAlgorithm(config)
        self.addOutput(QgsProcessingOutputVectorLayer("VILLAGES_OUT", "Villages"))
        self.addOutput(QgsProcessingOutputVectorLayer("SELECTED", "Selected towers"))
        self.addOutput(QgsProcessingOutputVectorLayer("CANDIDATES", "Candidate sites"))
        self.addOutput(QgsProcessingOutputRasterLayer("COVERAGE_AFTER", "Coverage after"))
        self.addOutput(QgsProcessingOutputFile("REPORT", "Report (XLSX)"))
        self.addOutput(QgsProcessingOutputFile("MAP", "Map (HTML)"))

    def run_scenario(self, scenario, out, parameters, context, feedback):
        lang = _LANGS[self.parameterAsEnum(parameters, self.LANG, context)]
        if self.parameterAsBoolean(parameters, self.PROJECT, context):
            scenario = dataclasses.replace(scenario, outputs=dataclasses.replace(
                scenario.outputs, qgis_project=True))
        _run_plan(scenario, out, feedback, lang=lang)
        results = self.layer_outputs(context, out, [
            ("VILLAGES_OUT", "plan.gpkg", "villages", "villages"),
            ("CANDIDATES", "plan.gpkg", "candidates", "candidates"),
            ("SELECTED", "plan.gpkg", "selected", "selected"),
            ("COVERAGE_AFTER", "coverage_after.tif", None, "coverage after")])
        results["REPORT"] = os.path.join(out, "report.xlsx")
        results["MAP"] = os.path.join(out, "map.html")
        return results


class SelectSitesAlgorithm(ScenarioAlgorithm):
    NAME = "select_sites"
    TITLE = "Select sites"
    HELP = ("The optimal choice of candidate sites within a budget (exact MILP with HiGHS): "
            "plan.gpkg (selected, candidates, villages), ranking.csv and summary.json only. "
            "Run it again with another budget: the coverage is reused from the stage cache.")
    WITH_BUDGET = True
    FILES = ("plan.gpkg", "ranking.csv", "summary.json")

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        super().initAlgorithm(config)
        self.addOutput(QgsProcessingOutputVectorLayer("SELECTED", "Selected towers"))
        self.addOutput(QgsProcessingOutputFile("RANKING", "Ranking (CSV)"))

    def run_scenario(self, scenario, out, parameters, context, feedback):
        _run_plan(scenario, out, feedback, only=self.FILES)
        results = self.layer_outputs(context, out,
                                     [("SELECTED", "plan.gpkg", "selected", "selected")])
        results["RANKING"] = os.path.join(out, "ranking.csv")
        return results


class BlankSpotsAlgorithm(ScenarioAlgorithm):
    NAME = "blankspots"
    TITLE = "Blank spots"
    HELP = ("Today's blank spots (towerplan blankspots): each village's status (blank / "
            "partial / covered) from the coverage of the existing towers and the signal "
            "reports of the scenario; blankspots.gpkg, villages.csv and coverage_before.tif.")

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        super().initAlgorithm(config)
        self.addOutput(QgsProcessingOutputVectorLayer("VILLAGES_OUT", "Villages with status"))
        self.addOutput(QgsProcessingOutputRasterLayer("COVERAGE_BEFORE", "Coverage today"))

    def run_scenario(self, scenario, out, parameters, context, feedback):
        from towerplan.commands.blankspots import blankspots

        blankspots(scenario, out, overwrite=True, progress=self.progress(feedback))
        return self.layer_outputs(context, out, [
            ("VILLAGES_OUT", "blankspots.gpkg", "villages", "villages (status)"),
            ("COVERAGE_BEFORE", "coverage_before.tif", None, "coverage today")])


class CandidatesAlgorithm(ScenarioAlgorithm):
    NAME = "candidates"
    TITLE = "Candidates"
    HELP = ("Candidate tower sites (towerplan candidates) with village, kecamatan, elevation, "
            "cost parts and the people each would newly cover: candidates.gpkg and .csv.")

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        super().initAlgorithm(config)
        self.addOutput(QgsProcessingOutputVectorLayer("CANDIDATES", "Candidate sites"))

    def run_scenario(self, scenario, out, parameters, context, feedback):
        from towerplan.commands.candidates import candidates

        candidates(scenario, out, overwrite=True, progress=self.progress(feedback))
        return self.layer_outputs(context, out, [
            ("CANDIDATES", "candidates.gpkg", "candidates", "candidates")])


class AuditAlgorithm(ScenarioAlgorithm):
    NAME = "audit"
    TITLE = "Audit"
    HELP = ("Audit a choice of villages against the optimum at the same cost (towerplan "
            "audit): audit.gpkg (audit_sites, optimum_sites), audit.csv and audit.json. "
            "Villages: names or Kemendagri codes separated by ';' (empty = [audit] of the "
            "scenario).")
    CHOICE = "VILLAGES_AUDITED"

    def extra_parameters(self):
        self.addParameter(QgsProcessingParameterString(
            self.CHOICE, "Villages audited (names or codes, ';' separated)", optional=True))

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        super().initAlgorithm(config)
        self.addOutput(QgsProcessingOutputVectorLayer("AUDIT_SITES", "Audited sites"))
        self.addOutput(QgsProcessingOutputVectorLayer("OPTIMUM_SITES", "Optimum sites"))

    def run_scenario(self, scenario, out, parameters, context, feedback):
        from towerplan.commands.audit import audit

        text = self.parameterAsString(parameters, self.CHOICE, context) or ""
        villages = [v.strip() for v in text.split(";") if v.strip()]
        audit(scenario, out, villages=villages, overwrite=True,
              progress=self.progress(feedback))
        return self.layer_outputs(context, out, [
            ("AUDIT_SITES", "audit.gpkg", "audit_sites", "audited sites"),
            ("OPTIMUM_SITES", "audit.gpkg", "optimum_sites", "optimum sites")])


class BackhaulAlgorithm(ScenarioAlgorithm):
    NAME = "backhaul"
    TITLE = "Backhaul links"
    HELP = ("The selection with its backhaul (towerplan backhaul): microwave hops with their "
            "Fresnel clearance and fade margin, relays, or VSAT where no path closes; "
            "links.gpkg, links.csv, hops.csv and backhaul.json.")
    WITH_BUDGET = True

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        super().initAlgorithm(config)
        self.addOutput(QgsProcessingOutputVectorLayer("LINKS", "Backhaul links"))

    def run_scenario(self, scenario, out, parameters, context, feedback):
        from towerplan.commands.backhaul import run_backhaul

        run_backhaul(scenario, out, overwrite=True, progress=self.progress(feedback))
        return self.layer_outputs(context, out, [("LINKS", "links.gpkg", "links", "links")])


# ------------------------------------------------------------------------ terrain tools


class CoverageAlgorithm(TowerplanAlgorithm):
    NAME = "coverage"
    TITLE = "Coverage"
    HELP = ("Best-server RSRP (dBm) of a layer of sites over a terrain raster (towerplan "
            "coverage): the RSRP GeoTIFF with its QGIS style, and <name>_server.tif / "
            "<name>_servers.tif beside it. Model chain, frequency and radius default to the "
            "scenario's [radio] (built-in defaults without a scenario).")
    SITES = "SITES"
    HEIGHT = "HEIGHT_FIELD"
    DEM = "DEM"
    SCENARIO = "SCENARIO"
    RADIUS = "RADIUS_KM"
    FREQ = "FREQ_MHZ"
    MODEL = "MODEL"
    RESOLUTION = "RESOLUTION_M"
    OUTPUT = "OUTPUT"

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.SITES, "Sites (points)", [QgsProcessing.TypeVectorPoint]))
        self.addParameter(QgsProcessingParameterField(
            self.HEIGHT, "Antenna height field, m (empty = [radio] tower_height_m)",
            parentLayerParameterName=self.SITES, type=QgsProcessingParameterField.Numeric,
            optional=True))
        self.addParameter(QgsProcessingParameterRasterLayer(self.DEM, "Terrain (DEM)"))
        self.addParameter(QgsProcessingParameterFile(
            self.SCENARIO, "Scenario file for [radio] and [terrain] (optional)",
            extension="toml", optional=True))
        for name, title in ((self.RADIUS, "Radius, km"), (self.FREQ, "Frequency, MHz"),
                            (self.RESOLUTION, "Working grid cell, m")):
            self.addParameter(QgsProcessingParameterNumber(
                name, f"{title} (empty = scenario)", QgsProcessingParameterNumber.Double,
                optional=True, minValue=0.0))
        self.addParameter(QgsProcessingParameterString(
            self.MODEL, "Model chain (empty = scenario), e.g. itm or hata-suburban+deygout",
            optional=True))
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.OUTPUT, "Best-server RSRP (dBm)"))

    def run(self, tp, parameters, context, feedback):
        from towerplan.commands.coverage import coverage
        from towerplan.scenario import Scenario

        path = self.parameterAsFile(parameters, self.SCENARIO, context)
        scenario = Scenario.from_toml(path) if path else Scenario()
        if parameters.get(self.RESOLUTION) not in (None, ""):
            res = self.parameterAsDouble(parameters, self.RESOLUTION, context)
            scenario = dataclasses.replace(
                scenario, terrain=dataclasses.replace(scenario.terrain, resolution_m=res))
        out = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        if not out.lower().endswith((".tif", ".tiff")):
            out = os.path.splitext(out)[0] + ".tif"
        source = self.parameterAsSource(parameters, self.SITES, context)
        field = self.parameterAsString(parameters, self.HEIGHT, context)
        dem = _raster_file(self.parameterAsRasterLayer(parameters, self.DEM, context))

        def number(name):
            if parameters.get(name) in (None, ""):
                return None
            return self.parameterAsDouble(parameters, name, context)

        feedback.setProgressText("coverage")
        with tempfile.TemporaryDirectory(prefix="towerplan-qgis-") as work:
            sites = _points_csv(source, field, os.path.join(work, "sites.csv"), context)
            if feedback.isCanceled():
                raise CancelledError
            coverage(scenario, out, dem=[dem], sites_csv=sites, radius_km=number(self.RADIUS),
                     freq_mhz=number(self.FREQ),
                     model=self.parameterAsString(parameters, self.MODEL, context) or None,
                     overwrite=True)
        feedback.setProgress(100.0)
        return {self.OUTPUT: out}


class LinkAlgorithm(TowerplanAlgorithm):
    NAME = "link"
    TITLE = "Point-to-point link"
    HELP = ("The terrain profile between two points and the link over it (towerplan link): "
            "loss by the model chain, line of sight, Fresnel clearance; with a microwave band "
            "the hop's fade margin. Writes the profile plot (PNG) and the report (JSON).")
    START = "START"
    END = "END"
    DEM = "DEM"
    H_TX = "TX_HEIGHT_M"
    H_RX = "RX_HEIGHT_M"
    BAND = "BAND_GHZ"
    PNG = "OUTPUT_PNG"
    JSON = "OUTPUT_JSON"

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterPoint(self.START, "Transmitter"))
        self.addParameter(QgsProcessingParameterPoint(self.END, "Receiver"))
        self.addParameter(QgsProcessingParameterRasterLayer(self.DEM, "Terrain (DEM)"))
        for name, title in ((self.H_TX, "Transmitter antenna height, m"),
                            (self.H_RX, "Receiver antenna height, m"),
                            (self.BAND, "Microwave band, GHz (backhaul hop)")):
            self.addParameter(QgsProcessingParameterNumber(
                name, f"{title} (optional)", QgsProcessingParameterNumber.Double,
                optional=True, minValue=0.0))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.PNG, "Profile plot", "PNG files (*.png)"))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.JSON, "Link report", "JSON files (*.json)"))

    def run(self, tp, parameters, context, feedback):
        from towerplan.commands.link import link
        from towerplan.io.tables import write_json
        from towerplan.scenario import Radio

        wgs84 = QgsCoordinateReferenceSystem(_WGS84)
        ends = []
        for name in (self.START, self.END):
            point = self.parameterAsPoint(parameters, name, context, wgs84)
            ends.append((point.x(), point.y()))
        dem = _raster_file(self.parameterAsRasterLayer(parameters, self.DEM, context))

        def number(name):
            if parameters.get(name) in (None, ""):
                return None
            return self.parameterAsDouble(parameters, name, context)

        png = self.parameterAsFileOutput(parameters, self.PNG, context)
        report = self.parameterAsFileOutput(parameters, self.JSON, context)
        feedback.setProgressText("link")
        result = link([dem], ends[0], ends[1], png, radio=Radio(), h_tx_m=number(self.H_TX),
                      h_rx_m=number(self.H_RX), band_ghz=number(self.BAND))
        write_json(report, result.report.to_dict())
        feedback.pushInfo(f"distance {result.report.distance_m / 1000:.2f} km, line of sight "
                          f"{'yes' if result.report.los else 'no'}")
        feedback.setProgress(100.0)
        return {self.PNG: str(result.png), self.JSON: report}


ALGORITHMS = (PlanAlgorithm, CoverageAlgorithm, BlankSpotsAlgorithm, CandidatesAlgorithm,
              SelectSitesAlgorithm, AuditAlgorithm, BackhaulAlgorithm, LinkAlgorithm)
