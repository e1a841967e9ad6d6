"""report.html and report.pdf of the built-in demo plan (computed once for this module)."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import re
import time
import zlib
from typing import Any

import numpy as np
import pytest

from towerplan.i18n import format_idr, format_number, in_language
from towerplan.outputs.document import render_report_html, write_report_html, write_report_pdf
from towerplan.outputs.exports import write_summary_json
from towerplan.results import PlanResult

pytestmark = pytest.mark.slow

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def demo() -> PlanResult:
    """The demo plan (stages from the test session's cache when another test computed them)."""
    from towerplan.pipeline.plan import plan
    from towerplan.scenario import Scenario

    return plan(Scenario.default())


@pytest.fixture(scope="module")
def written(demo: PlanResult, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """report.html, report.pdf and summary.json of the demo, with the PDF rendering time."""
    out = tmp_path_factory.mktemp("report")
    html = render_report_html(demo)
    write_report_html(demo, out / "report.html", html=html)
    start = time.perf_counter()
    write_report_pdf(demo, out / "report.pdf", html=html)
    pdf_s = time.perf_counter() - start
    write_summary_json(demo, out / "summary.json")
    return {"out": out, "pdf_s": pdf_s,
            "summary": json.loads((out / "summary.json").read_text(encoding="utf-8"))}


def _text(html: str) -> str:
    """The visible text of *html* with entities resolved and white space collapsed."""
    import html as html_lib

    body = re.sub(r"<style.*?</style>|<[^>]+>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", html_lib.unescape(body))


def _pdf_pages(pdf: bytes) -> int:
    chunks = [pdf]
    for match in re.finditer(rb"stream\r?\n", pdf):
        try:
            chunks.append(zlib.decompressobj().decompress(pdf[match.end():]))
        except zlib.error:
            continue
    return sum(len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", c)) for c in chunks)


def test_html_states_the_headline_figures_of_summary_json(written):
    summary = written["summary"]
    text = _text((written["out"] / "report.html").read_text(encoding="utf-8"))
    assert summary["synthetic"] is True and "DATA SINTETIS" in text
    assert f"Anggaran {format_idr(summary['budget_idr'], 'id')}" in text
    assert f"membangun {summary['towers_selected']} menara baru" in text
    assert f"dengan biaya {format_idr(summary['spent_idr'], 'id')}" in text
    lifted = summary["blank_villages_before"] - summary["blank_villages_after"]
    assert lifted > 0
    assert (f"{lifted} desa keluar dari blank spot: desa blank spot berkurang dari "
            f"{summary['blank_villages_before']} menjadi {summary['blank_villages_after']} "
            f"dari {summary['villages_total']} desa") in text
    assert (f"naik dari {format_number(summary['demand_covered_before'], 'id')} menjadi "
            f"{format_number(summary['demand_covered_after'], 'id')} jiwa") in text
    # the model chain, stated in Indonesian with the figures of summary.json
    chain = summary["model_choice"]["chain"]
    assert f"{chain}: " in text and "faktor bumi k = 1,333" in text
    assert f"tercakup bila RSRP >= {summary['threshold_rsrp_dbm']:g} dBm" in text
    assert all(in_language(source, "id") in text for source in summary["data_sources"])


def test_lifted_villages_and_ranking_tables_match_the_plan(demo, written):
    html = (written["out"] / "report.html").read_text(encoding="utf-8")
    tables = re.findall(r'<table class="data (\w+)[^"]*">(.*?)</table>', html, flags=re.S)
    rows = {css: len(re.findall(r"<tr>", body)) - 1 for css, body in tables}  # minus header
    villages = demo.villages
    lifted = ((villages["status_before"] == "blank") & (villages["status_after"] != "blank"))
    assert rows["lifted"] == int(lifted.sum())
    assert rows["ranked"] == len(demo.selected)
    assert rows["costs"] == len(demo.selected) + 3  # sites, total, budget, remainder


def test_hostile_village_name_is_escaped(demo):
    villages = demo.villages.copy()
    lifted = villages.index[(villages["status_before"] == "blank")
                            & (villages["status_after"] != "blank")][0]
    old = villages.at[lifted, "name"]
    villages.at[lifted, "name"] = HOSTILE
    selected = demo.selected.copy()
    selected["villages_lifted_names"] = selected["villages_lifted_names"].str.replace(
        old, HOSTILE, regex=False)
    selected["village"] = HOSTILE
    hostile = dataclasses.replace(demo, villages=villages, selected=selected)
    html = render_report_html(hostile)
    assert HOSTILE not in html and "<script" not in html
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    # Every ranked site's village, the lifted names of one step, the lifted villages table.
    assert html.count(escaped) >= len(selected) + 2


def test_pdf_has_pages_and_renders_quickly(written):
    pdf = (written["out"] / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert _pdf_pages(pdf) >= 2
    assert written["pdf_s"] < 60  # about 2 s on the demo; generous for a loaded CI machine


def test_both_languages_render_and_differ_in_labels(demo, written):
    indonesian = _text((written["out"] / "report.html").read_text(encoding="utf-8"))
    english = _text(render_report_html(demo, lang="en"))
    for id_label, en_label in (("Ringkasan eksekutif", "Executive summary"),
                               ("Peringkat lokasi (urutan bangun)", "Ranked sites (build order)"),
                               ("Asumsi dan sumber data", "Assumptions and data sources")):
        assert id_label in indonesian and id_label not in english
        assert en_label in english and en_label not in indonesian
    budget = written["summary"]["budget_idr"]
    assert format_idr(budget, "id") in indonesian and format_idr(budget, "en") in english


def test_charts_are_non_empty_pngs(written):
    from PIL import Image

    html = (written["out"] / "report.html").read_text(encoding="utf-8")
    images = [base64.b64decode(m) for m in
              re.findall(r'src="data:image/png;base64,([^"]+)"', html)]
    assert len(images) == 2
    for png in images:
        pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
        assert pixels.shape[0] > 300 and pixels.shape[1] > 800
        assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50
