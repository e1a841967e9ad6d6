"""report.html and report.pdf of the tiny plan: escaping, labels, sections, local resources."""

from __future__ import annotations

import base64
import html as html_lib
import re
import zlib

import pytest

from towerplan.errors import MissingDependencyError, OutputError, ScenarioError
from towerplan.i18n import TEXT
from towerplan.outputs import document, pdf_render
from towerplan.outputs.document import (
    css_string,
    local_url_fetcher,
    render_report_html,
    write_report_html,
    write_report_pdf,
)

from .factories import (
    FORMULA_NAME,
    HOSTILE_NAME,
    TEMPLATE_NAME,
    leftovers,
    with_changes,
    with_links_and_audit,
)

AUDIT_SUMMARY = {"audit_villages": ["Muara Toyu", HOSTILE_NAME], "share_of_optimum": 0.1326,
                 "percent_of_optimum": 13.26, "audit_cost_idr": 3_400_000_000.0,
                 "audit_demand": 345.5, "optimum_demand": 2605.4,
                 "model_chain": "not repeated"}


def pdf_page_count(pdf: bytes) -> int:
    """Pages of a PDF, counted in its objects and its compressed object streams."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf_objects(pdf)))


def data_uris(text: str) -> list[bytes]:
    """Decoded PNG data URIs of *text*."""
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"',
                                                     text)]


@pytest.fixture
def html_id(plan_result) -> str:
    return render_report_html(plan_result)


def test_hostile_names_are_escaped(html_id):
    assert "<script" not in html_id
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;Desa&#34;"
    assert html_id.count(escaped) == 1  # ranking (village); not lifted out of blank spot
    assert html_id.count(TEMPLATE_NAME) == 3  # ranking (village, lifted names), lifted villages
    assert f">{FORMULA_NAME}<" in html_id  # plain text in HTML: no formula guard needed


def test_headline_figures_and_labels_in_bahasa_indonesia(html_id):
    text = html_lib.unescape(html_id)
    assert '<html lang="id">' in html_id
    assert "Ringkasan eksekutif" in text and "Executive summary" not in text
    assert "Rp 8.500.000.000" in text  # budget
    assert "Rp 3.770.000.000" in text  # spent
    assert "rencana ini membangun 2 menara baru" in text
    assert "2 desa keluar dari blank spot" in text  # fixture: 2 blank villages before, 0 after
    assert "desa blank spot berkurang dari 2 menjadi 0 dari 4 desa" in text
    assert "DATA SINTETIS — bukan tempat nyata" in text
    assert "Tower positions <synthetic> & demo" in text  # data sources, escaped in the HTML


def test_english_labels_and_number_format(plan_result, html_id):
    english = html_lib.unescape(render_report_html(plan_result, lang="en"))
    assert "Executive summary" in english and "Ringkasan eksekutif" not in english
    assert "Rp 8,500,000,000" in english
    assert "the plan builds 2 new towers" in english
    assert "2 villages leave blank-spot status" in english
    labels = {key for key in TEXT if key.startswith("doc.")}
    assert labels and english != html_lib.unescape(html_id)


def test_singular_wording_for_one_tower(make_result):
    english = html_lib.unescape(render_report_html(make_result(n_selected=1), lang="en"))
    assert "the plan builds 1 new tower for" in english


def test_empty_selection_says_so(make_result):
    text = html_lib.unescape(render_report_html(make_result(n_selected=0)))
    assert "Tidak ada menara baru terpilih dengan anggaran Rp 8.500.000.000." in text
    assert text.count("Tidak ada menara baru terpilih") == 3  # summary, ranking, costs


def test_only_embedded_resources(html_id):
    assert not re.search(r'(src|href)="(?!data:)', html_id)
    assert "url(" not in html_id and "@import" not in html_id
    images = data_uris(html_id)
    assert len(images) == 2 and all(png.startswith(b"\x89PNG") for png in images)


def test_audit_and_backhaul_sections_when_present(plan_result, html_id):
    assert "Audit keputusan" not in html_id and "Hop backhaul" not in html_id
    result = with_changes(with_links_and_audit(plan_result), audit_summary=AUDIT_SUMMARY)
    text = html_lib.unescape(render_report_html(result))
    assert "Audit keputusan" in text and "Lokasi yang diaudit" in text
    assert "Porsi dari optimum" in text and "13,3 %" in text
    assert f"Muara Toyu; {HOSTILE_NAME}" in text
    assert "not repeated" not in text and "Persen dari optimum" not in text
    assert (f"Audit: pilihan lalu (Muara Toyu, {HOSTILE_NAME}) mencakup 346 jiwa kebutuhan "
            "baru, 13,3 % dari optimum untuk anggaran yang sama (2.605 jiwa).") in text
    assert "Hop backhaul" in text and "Margin fading (dB)" in text
    assert "23,5" in text and "-3,1" in text  # margins of L1 and L3, one decimal


def test_per_site_backhaul_columns_of_the_ranking(plan_result):
    nothing = plan_result.selected.assign(backhaul_technology=None, backhaul_hops=float("nan"),
                                          backhaul_worst_clearance=float("nan"))
    assert "Backhaul per lokasi" not in render_report_html(with_changes(plan_result,
                                                                        selected=nothing))
    selected = plan_result.selected.assign(backhaul_technology=["microwave", "vsat"],
                                           backhaul_hops=[2, 0],
                                           backhaul_worst_clearance=[0.634, float("nan")])
    html = render_report_html(with_changes(plan_result, selected=selected))
    table = re.search(r'<table class="data backhaul">(.*?)</table>', html, flags=re.S)
    assert table is not None and "Backhaul per lokasi" in html
    cells = [html_lib.unescape(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", table[1])]
    assert cells[:7] == ["Urutan", "ID lokasi", "Desa", "Teknologi backhaul",
                         "Jumlah hop backhaul", "Kebebasan Fresnel terburuk",
                         "Biaya backhaul (Rp)"]
    assert cells[7:14] == ["1", "C004", TEMPLATE_NAME, "gelombang mikro", "2", "0,63", "0"]
    assert cells[14:21] == ["2", "C002", HOSTILE_NAME, "VSAT (satelit)", "0", "–", "0"]


def test_css_string_cannot_break_out():
    assert str(css_string("Halaman")) == '"Halaman"'
    quoted = str(css_string('a"</style>\\'))
    assert '"' not in quoted[1:-1] and "<" not in quoted and "\\22 " in quoted


def test_url_fetcher_refuses_everything_but_data_urls():
    fetcher = local_url_fetcher()
    pixel = "data:text/plain;base64," + base64.b64encode(b"ok").decode()
    response = fetcher(pixel)
    body = response["string"] if isinstance(response, dict) else response.read()
    assert body == b"ok"
    for url in ("http://127.0.0.1:9/x.png", "https://example.org/font.woff",
                "file:///etc/passwd"):
        with pytest.raises(ValueError, match="local resources only"):
            fetcher(url)


def test_pdf_pages_banner_and_atomic_write(plan_result, tmp_path, html_id):
    path = write_report_pdf(plan_result, tmp_path / "report.pdf", html=html_id)
    pdf = path.read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert pdf_page_count(pdf) >= 2
    assert leftovers(tmp_path) == []


def test_pdf_rendered_by_a_child_process_is_the_same_document(plan_result, tmp_path, html_id):
    # the same pages, fonts and bookmarks as in-process; the child's stdout carries only
    # the PDF
    here = write_report_pdf(plan_result, tmp_path / "here.pdf", html=html_id).read_bytes()
    finish = document.start_report_pdf(plan_result, html=html_id)
    child = finish(tmp_path / "child.pdf").read_bytes()
    assert child.startswith(b"%PDF-") and child.rstrip().endswith(b"%%EOF")
    assert pdf_page_count(child) == pdf_page_count(here)
    titles = re.compile(rb"/Title \(([^)]*)\)")
    assert titles.findall(pdf_objects(here))
    assert titles.findall(pdf_objects(child)) == titles.findall(pdf_objects(here))
    assert leftovers(tmp_path) == []


def test_a_child_without_pango_says_what_to_install(monkeypatch, tmp_path):
    fake = tmp_path / "fake-site" / "weasyprint"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(
        'raise OSError("cannot load library \'libpango-1.0-0\'")\n', encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(fake.parent))
    with pytest.raises(MissingDependencyError,
                       match=r"Pango library \(cannot load library 'libpango-1.0-0'\); install"):
        pdf_render.start_pdf("<p>x</p>").result()


def test_a_child_that_fails_otherwise_leaves_the_pdf_to_this_process(monkeypatch, tmp_path):
    # a child that cannot import towerplan (a broken environment) exits 1: the PDF is then
    # rendered here, the same document
    fake = tmp_path / "fake-site" / "towerplan"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ImportError("broken install")\n',
                                      encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(fake.parent))
    pending = pdf_render.start_pdf("<p>Halo</p>")
    assert pending._proc is not None
    assert pending.result().startswith(b"%PDF-")
    assert pending._proc.returncode == 1


def test_without_a_python_executable_the_pdf_is_rendered_in_process(monkeypatch):
    monkeypatch.setattr(pdf_render.sys, "executable", "/usr/bin/qgis")
    pending = pdf_render.start_pdf("<p>Halo</p>")
    assert pending._proc is None
    assert pending.result().startswith(b"%PDF-")


def pdf_objects(pdf: bytes) -> bytes:
    """The PDF with every compressed stream appended in decompressed form."""
    chunks = [pdf]
    for match in re.finditer(rb"stream\r?\n", pdf):
        try:
            chunks.append(zlib.decompressobj().decompress(pdf[match.end():]))
        except zlib.error:
            continue
    return b"\n".join(chunks)


def test_pdf_embeds_dejavu_fonts_and_bookmarks(plan_result, tmp_path):
    pdf = write_report_pdf(plan_result, tmp_path / "report.pdf").read_bytes()
    objects = pdf_objects(pdf)
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+DejaVu-?Sans", objects)  # subset, embedded
    assert b"/FontFile" in objects
    assert b"/Title (Ringkasan eksekutif)" in objects  # headings become PDF bookmarks


def test_html_written_atomically_and_errors(plan_result, tmp_path):
    path = write_report_html(plan_result, tmp_path / "report.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    with pytest.raises(ScenarioError):
        render_report_html(plan_result, lang="xx")
    broken = with_changes(plan_result, selected=plan_result.selected.drop(columns="rank"))
    with pytest.raises(OutputError, match="rank"):
        render_report_html(broken)
    with pytest.raises(OutputError, match="cannot write"):
        write_report_html(plan_result, tmp_path / "missing" / "report.html")
    assert leftovers(tmp_path) == []


def test_missing_weasyprint_names_what_to_install(monkeypatch, plan_result, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_weasyprint(name, *args, **kwargs):
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_weasyprint)
    with pytest.raises(MissingDependencyError, match="libpango-1.0-0 libpangoft2-1.0-0"):
        write_report_pdf(plan_result, tmp_path / "report.pdf", html="<p>x</p>")
    assert not (tmp_path / "report.pdf").exists()


def test_settings_text_formats():
    assert document._setting_text("seed", 2022, "id") == "2022"
    assert document._setting_text("grid_spacing_m", 4000.0, "id") == "4.000"
    assert document._setting_text("k_factor", 4 / 3, "en") == "1.3333"
    assert document._setting_text("blank_below", 0.1, "id") == "0,1"
    assert document._setting_text("total_idr", 8.5e9, "en") == "Rp 8,500,000,000"
    assert document._setting_text("user_csv", "", "en") == "–"
    assert document._setting_text("fill_nodata", True, "id") == "ya"


def test_limitations_of_summary_json_in_the_report_language(plan_result):
    from towerplan.i18n import bilingual, t

    statement = bilingual("limit.no_towers", radius_km=30)
    result = with_changes(plan_result, summary={**plan_result.summary,
                                                "limitations": [statement]})
    indonesian = html_lib.unescape(render_report_html(result))
    english = html_lib.unescape(render_report_html(result, lang="en"))
    id_text, en_text = (t("limit.no_towers", lang).format(radius_km=30) for lang in ("id", "en"))
    assert "Keterbatasan" in indonesian and id_text in indonesian and en_text not in indonesian
    assert "Limitations" in english and en_text in english and id_text not in english
    assert "Keterbatasan" not in html_lib.unescape(render_report_html(plan_result))


def test_every_scenario_value_is_listed(plan_result, html_id):
    from towerplan.outputs.reports import flatten_settings

    names = list(flatten_settings(plan_result.scenario.to_dict()))
    assert len(names) > 50
    for name, _ in names:
        section, _, key = name.partition(".")
        assert f">[{section}]<" in html_id, name
        assert f'<td class="key">{html_lib.escape(key)}</td>' in html_id, name


def test_scenario_rows_pair_short_values_and_widen_long_ones():
    long_value = "x" * 60
    rows = document._two_columns([("radio", [("a", "1"), ("b", long_value), ("c", "3")]),
                                  ("budget", [("total_idr", "Rp 1")])])
    assert rows == [
        (("section", "radio", ""),),
        (("wide", "b", long_value),),
        (("item", "a", "1"), ("item", "c", "3")),
        (("section", "budget", ""),),
        (("item", "total_idr", "Rp 1"), ("empty", "", "")),
    ]


def test_first_page_states_the_flat_ground_radius_and_its_range(plan_result):
    text = html_lib.unescape(render_report_html(plan_result, lang="en"))
    assert ("Coverage radius of one new tower on flat ground: 4.94 km under the stated "
            "margins (location probability 50 %, margins 0.00 dB, antenna omni, the uplink "
            "does not limit)") in text
    # Hata is not evaluated closer than 1 km: a radius of 0 reads "< 1 km".
    assert "4.94 km (median, outdoor), 2.48 km (90 %, outdoor), < 1 km (90 %, indoor)" in text
    indonesian = html_lib.unescape(render_report_html(plan_result))
    assert "Radius cakupan satu menara baru di tanah datar: 4,94 km" in indonesian
    assert "Margin, uplink dan antena" in indonesian


def test_why_not_table_lists_villages_still_blank(plan_result):
    assert "Tidak ada desa yang masih blank spot." in render_report_html(plan_result)
    villages = plan_result.villages.copy()
    villages.loc[2, ["status_after", "why_not_site", "why_not_cost_per_person_idr",
                     "why_not_extra_budget_idr", "why_not_reason"]] = [
        "blank", "<b>C9</b>", 1_250_000.0, 900_000_000.0, "over_budget"]
    result = with_changes(plan_result, villages=villages)
    for lang, title, reason, money in (
            ("id", "Mengapa desa ini masih blank spot", "melebihi sisa anggaran",
             "900.000.000"),
            ("en", "Why these villages are still blank", "over the budget left",
             "900,000,000")):
        page = render_report_html(result, lang=lang)
        section = page[page.index(title):]
        section = section[:section.index("<h2", 10)]
        assert section.count("<tr") == 2  # header and the one village still blank
        assert "64.01.08.2001" in section and reason in section and money in section
        assert "&lt;b&gt;C9&lt;/b&gt;" in section and "<b>C9" not in section


def test_a_child_started_before_its_html_renders_it_once_sent_or_stops_when_cancelled():
    pending = pdf_render.start_pdf()  # imports WeasyPrint while the HTML is made
    assert pending._proc is not None and pending._proc.poll() is None
    pending.send("<p>Halo</p>")
    assert pending.result().startswith(b"%PDF-") and pending._proc.returncode == 0
    idle = pdf_render.start_pdf()
    idle.cancel()
    assert idle._proc is not None and idle._proc.returncode is not None
    with pytest.raises(OutputError, match="given no HTML"):
        idle.result()


def test_a_report_whose_html_fails_to_render_leaves_no_child_behind(plan_result):
    started = []
    real = pdf_render.start_pdf

    def spy(html=None):
        started.append(real(html))
        return started[-1]

    def broken() -> str:
        raise RuntimeError("template error")

    import unittest.mock

    with unittest.mock.patch.object(document, "start_pdf", spy), \
            pytest.raises(RuntimeError, match="template error"):
        document.start_report_pdf(plan_result, html=broken)
    assert len(started) == 1 and started[0]._proc.returncode is not None


@pytest.mark.parametrize(("lang", "says"), [
    ("id", "tidak terbukti optimal untuk seluruh wilayah"),
    ("en", "not proven optimal for the whole area")])
def test_a_plan_decomposed_by_kabupaten_says_it_is_not_proven_optimal(plan_result, lang,
                                                                      says):
    import dataclasses

    prov = dataclasses.replace(plan_result.provenance, solver="milp by kabupaten (HiGHS)")
    text = html_lib.unescape(render_report_html(with_changes(plan_result, provenance=prov),
                                                lang=lang))
    assert says in text and "milp by kabupaten (HiGHS)" in text
    assert says not in html_lib.unescape(render_report_html(plan_result, lang=lang))
