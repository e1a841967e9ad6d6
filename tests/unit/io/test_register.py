"""Tests of the village register matcher (towerplan.io.register)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from towerplan.errors import InputDataError, InputFileError
from towerplan.io.names import normalise_name
from towerplan.io.register import (
    MATCH_REPORT_COLUMNS,
    MappingRow,
    apply_register,
    district_register,
    match_register,
    packaged_register,
    read_register,
    read_village_mapping,
    unit_level,
    write_mapping_todo,
    write_match_report,
)

ROOT = Path(__file__).resolve().parents[3]
PASER_REGISTER = packaged_register()


@pytest.fixture(scope="module")
def paser() -> pd.DataFrame:
    register, report = read_register(PASER_REGISTER)
    assert report.count == 144
    return register


def _register(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["code", "name", "district_code", "district"])


# --------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(("variant", "registered"), [
    ("Ds. Muara Toyu", "Muara Toyu"),
    ("DESA MUARA-TOYU", "Muara Toyu"),
    ("Kel. Tanah Grogot", "Tanah Grogot"),
    ("Kelurahan Long  Ikis", "Long Ikis"),
    ("Desa Soeweto", "Suweto"),               # old spelling oe = u
    ("Djone", "Jone"),                        # old spelling dj = j
    ("Labuang Kallo", "Labuangkallo"),        # spacing and doubled letters
    ("Sei Terik", "Sungai Terik"),            # abbreviation
    ("Sg. Langir", "Sungai Langir"),
    ("Tg. Aru", "Tanjung Aru"),
    ("Mendik Bakti", "Mendik Bhakti"),
    ("Muara Adang 2", "Muara Adang II"),      # Roman numerals = digits
    ("Krayan Jaya ", "Krayan Jaya"),
    ("Muára Payang", "Muara Payang"),         # accents
])
def test_spelling_variants_share_a_key(variant, registered):
    assert normalise_name(variant) == normalise_name(registered)


@pytest.mark.parametrize(("one", "other"), [
    ("Muara Adang", "Muara Adang II"), ("Muara Adang II", "Muara Adang III"),
    ("Kerang", "Kerang Dayo"), ("Laburan", "Laburan Baru"), ("Desa", "Dusun"),
])
def test_different_places_keep_different_keys(one, other):
    assert normalise_name(one) != normalise_name(other)


def test_prefix_alone_is_kept_and_kecamatan_prefixes_only_at_that_level():
    assert normalise_name("Desa") == "desa"
    assert normalise_name("Kec. Long Kali", level="kecamatan") == "longkali"
    assert normalise_name("Kec. Long Kali") == "keclongkali"
    assert normalise_name("Muara Toyu", compact=False) == "muara toyu"


# --------------------------------------------------------------------------- matching


def test_paser_variants_match_their_register_codes(paser):
    names = ["Muara Toyu", "Ds. Belimbing", "MUARA-PAYANG", "Segandang", "Muara Ande",
             "Kel. Labuang Kallo", "Sei Terik", "Blimbing"]
    districts = ["Long Kali", "Long Ikis", "Kec. Muara Komam", "Batu Engau", "Muara Samu",
                 "Tanjung Harapan", "Batu Sopang", ""]
    report = match_register(names, districts, paser)
    got = [(m.status, m.code) for m in report.villages]
    assert got[:7] == [
        ("exact", "64.01.08.2008"), ("normalised", "64.01.06.2012"),
        ("normalised", "64.01.07.2009"), ("fuzzy", "64.01.09.2003"),
        ("fuzzy", "64.01.10.2009"), ("normalised", "64.01.02.2007"),
        ("normalised", "64.01.01.2013")]
    # "Blimbing" would be Belimbing, but that entry is already taken by "Ds. Belimbing"
    assert got[7] == ("ambiguous", "")
    assert "already matched by 'Ds. Belimbing'" in report.villages[7].note
    assert report.villages[3].score == pytest.approx(100 * 16 / 18, abs=0.1)  # ratio 2*8/18
    assert report.villages[4].register_name == "Muara Andeh"
    kec = {m.name: (m.status, m.code) for m in report.districts}
    assert kec["Kec. Muara Komam"] == ("normalised", "64.01.07")
    assert kec["Batu Engau"] == ("exact", "64.01.09")
    assert report.codes[0] == "64.01.08.2008"
    counts = report.counts()
    assert (counts["exact"], counts["normalised"], counts["fuzzy"], counts["ambiguous"],
            counts["matched"], counts["register_without_name"]) == (1, 4, 2, 1, 7, 137)


def test_every_paser_register_name_matches_itself_exactly(paser):
    report = match_register(paser["name"], paser["district"], paser)
    assert report.counts()["exact"] == 144
    assert list(report.codes) == paser["code"].tolist()


def test_kecamatan_restricts_candidates(paser):
    # Muara Toyu lies in Long Kali; given Paser Belengkong, it must not take Long Kali's code.
    report = match_register(["Muara Toyu", "Segandang", "Segandang"],
                            ["Paser Belengkong", "Long Kali", ""], paser)
    first, second, third = report.villages
    assert (first.status, first.code) == ("unmatched", "")
    assert "64.01.08.2008 Muara Toyu in kecamatan Long Kali" in first.note
    assert (second.status, second.code) == ("unmatched", "")
    assert "Segendang in kecamatan Batu Engau" in second.note
    assert all(c.split()[0].startswith("64.01.08.") for c in second.candidates)
    # without a kecamatan the whole register is searched
    assert (third.status, third.code) == ("fuzzy", "64.01.09.2003")


def test_namesakes_in_two_kecamatan():
    register = _register([("1.1", "Sungai Terik", "A", "Alpha"),
                          ("2.1", "Sungai Terik", "B", "Beta"),
                          ("2.2", "Rantau Buta", "B", "Beta")])
    report = match_register(["Sei Terik", "Sungai Terik", "Sungai Terik"],
                            ["Beta", "Alpha", ""], register)
    assert [(m.status, m.code) for m in report.villages] == [
        ("normalised", "2.1"), ("exact", "1.1"), ("ambiguous", "")]
    assert len(report.villages[2].candidates) == 2
    assert "2 register entries have this name" in report.villages[2].note


def test_fuzzy_candidates_within_the_margin_are_ambiguous():
    register = _register([("1", "Sebakung Jaya", "A", "Alpha"),
                          ("2", "Sebakung Raya", "A", "Alpha"),
                          ("3", "Petangis", "A", "Alpha")])
    report = match_register(["Sebakung Aya", "Sebakung Jaya", "Petangiss Baru"],
                            ["Alpha"] * 3, register)
    ambiguous, exact, unmatched = report.villages
    assert ambiguous.status == "ambiguous"
    assert {c.split()[0] for c in ambiguous.candidates} == {"1", "2"}
    assert "within 5 points" in ambiguous.note
    assert (exact.status, exact.code) == ("exact", "1")
    assert unmatched.status == "unmatched"
    assert unmatched.score < 85
    assert "below 85" in unmatched.note
    # 96.3 against 88.9 (ratio of "sebakung rayah" to "sebakung raya" and "sebakung jaya"):
    # a clear winner by default, ambiguous with a 10-point margin
    clear = match_register(["Sebakung Rayah"], ["Alpha"], register).villages[0]
    assert (clear.status, clear.code) == ("fuzzy", "2")
    assert clear.score == pytest.approx(100 * 26 / 27, abs=0.01)
    wide = match_register(["Sebakung Rayah"], ["Alpha"], register, margin=10).villages[0]
    assert (wide.status, wide.code) == ("ambiguous", "")


def test_numbers_never_match_another_number(paser):
    report = match_register(["Muara Adang III", "Muara Adang 2"], ["Long Kali", "Long Kali"],
                            paser)
    assert report.villages[0].status == "unmatched"
    assert (report.villages[1].status, report.villages[1].register_name) == (
        "normalised", "Muara Adang II")


def test_unknown_kecamatan_searches_everywhere_and_says_so(paser):
    report = match_register(["Busui"], ["Kecamatan Atlantis"], paser)
    (m,) = report.villages
    assert (m.status, m.code) == ("exact", "64.01.01.2010")
    assert "kecamatan 'Kecamatan Atlantis' not in the register" in m.note
    assert report.districts[0].status == "unmatched"


def test_min_score_controls_fuzzy_acceptance(paser):
    strict = match_register(["Segandang"], ["Batu Engau"], paser, min_score=95)
    assert strict.villages[0].status == "unmatched"
    assert strict.villages[0].candidates[0].startswith("64.01.09.2003 Segendang")


def test_lengths_must_agree(paser):
    with pytest.raises(InputDataError, match="2 names but 1 kecamatan"):
        match_register(["a", "b"], [""], paser)


# --------------------------------------------------------------------------- mapping


def test_mapping_overrides_every_other_match(paser):
    mapping = (MappingRow("Muara Toyu Lama", "", "64.01.08.2008", 2),
               MappingRow("Segandang", "Batu Engau", "64.01.09.2004", 3),
               MappingRow("Danau Besar", "", "-", 4),
               MappingRow("Nowhere", "", "64.01.01.2009", 5))
    report = match_register(["Muara Toyu Lama", "Segandang", "Segandang", "Danau Besar"],
                            ["Long Kali", "Batu Engau", "", "Long Kali"], paser,
                            mapping=mapping)
    lama, mapped, fuzzy, lake = report.villages
    assert (lama.status, lama.code, lama.register_name) == ("mapping", "64.01.08.2008",
                                                            "Muara Toyu")
    assert (mapped.status, mapped.code) == ("mapping", "64.01.09.2004")
    assert mapped.note == "mapping line 3"
    # the mapping row names Batu Engau; without a kecamatan the name is matched as usual
    assert (fuzzy.status, fuzzy.code) == ("fuzzy", "64.01.09.2003")
    assert (lake.status, lake.code) == ("not_in_register", "")
    assert report.unused_mapping == ("line 5: Nowhere",)
    assert report.counts()["mapping"] == 2
    assert report.unsettled == ()


def test_mapping_codes_must_be_in_the_register(paser):
    mapping = (MappingRow("A", "", "99.99", 2), MappingRow("B", "", "98.98", 7))
    with pytest.raises(InputDataError, match="2 problems") as info:
        match_register(["A"], [""], paser, mapping=mapping)
    assert "line 7: code 98.98" in str(info.value)


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_read_village_mapping(tmp_path):
    path = _write_csv(tmp_path / "map.csv", [
        ["name", "kecamatan", "kode", "candidates"],
        ["Muara Toyu Lama", "Long Kali", "64.01.08.2008", "whatever"],
        ["Not yet", "", "", ""],
        ["Danau", "", "-", ""]])
    rows = read_village_mapping(path)
    assert rows == (MappingRow("Muara Toyu Lama", "Long Kali", "64.01.08.2008", 2),
                    MappingRow("Danau", "", "-", 4))


def test_read_village_mapping_problems(tmp_path):
    conflict = _write_csv(tmp_path / "c.csv", [["name", "code"], ["Ds. Busui", "1"],
                                               ["Busui", "2"], ["", "3"]])
    with pytest.raises(InputDataError) as info:
        read_village_mapping(conflict)
    text = str(info.value)
    assert "line 3: 'Busui' is 2 here but 1 on line 2" in text
    assert "line 4: empty name" in text
    with pytest.raises(InputDataError, match="expected the columns name,code"):
        read_village_mapping(_write_csv(tmp_path / "h.csv", [["nama", "x"], ["a", "b"]]))
    with pytest.raises(InputFileError, match="not found"):
        read_village_mapping(tmp_path / "missing.csv")


# --------------------------------------------------------------------------- files


def test_read_register_problems(tmp_path):
    path = _write_csv(tmp_path / "r.csv", [["kode", "nama"], ["64.01.01.2001", "A"],
                                           ["64.01.01.2001", "B"], ["", "C"],
                                           ["64.01.02.2001", ""]])
    with pytest.raises(InputDataError) as info:
        read_register(path)
    text = str(info.value)
    assert "line 4: empty code" in text
    assert "line 5: empty name" in text
    assert "code 64.01.01.2001 appears 2 times" in text
    with pytest.raises(InputDataError, match="no name column"):
        read_register(_write_csv(tmp_path / "n.csv", [["code", "x"], ["1", "a"]]))


def test_register_without_district_code_takes_it_from_kemendagri_codes(tmp_path):
    path = _write_csv(tmp_path / "r.csv", [["code", "name", "kecamatan"],
                                           ["64.01.08.2008", "Muara Toyu", "Long Kali"],
                                           ["X1", "Elsewhere", ""]])
    register, report = read_register(path)
    assert register["district_code"].tolist() == ["64.01.08", ""]
    assert register["district"].tolist() == ["Long Kali", ""]
    assert report.notes == ("2 register entries in 1 kecamatan",)


def test_match_report_and_todo_files(tmp_path, paser):
    report = match_register(["=HYPERLINK(\"x\")", "Busui", "Segandang"],
                            ["Batu Sopang", "Batu Sopang", "Long Kali"], paser)
    path = write_match_report(report, tmp_path / "register_match.csv")
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(MATCH_REPORT_COLUMNS)
    assert [r["level"] for r in rows] == ["kecamatan", "kecamatan", "village", "village",
                                          "village"]
    assert rows[2]["name"] == "'=HYPERLINK(\"x\")"  # spreadsheet formula guarded
    assert (rows[3]["status"], rows[3]["score"], rows[3]["code"]) == ("exact", "100",
                                                                      "64.01.01.2010")
    assert rows[4]["status"] == "unmatched"
    todo = write_mapping_todo(report, tmp_path / "todo.csv")
    with todo.open(encoding="utf-8") as fh:
        todo_rows = list(csv.DictReader(fh))
    assert [r["name"] for r in todo_rows] == ["'=HYPERLINK(\"x\")", "Segandang"]
    assert all(r["code"] == "" for r in todo_rows)
    assert read_village_mapping(todo) == ()  # an unfilled template settles nothing


# --------------------------------------------------------------------------- villages


def test_unit_level_and_district_register(paser):
    assert unit_level(paser["code"].tolist()) == "village"
    districts = district_register(paser)
    assert len(districts) == 10
    assert unit_level(districts["code"].tolist()) == "kecamatan"
    assert unit_level(["V0001", "64.01.01"]) == "unknown"
    assert unit_level([]) == "unknown"
    report = match_register(["Kec. Long Kali", "Kuaro"], ["", ""], districts,
                            level="kecamatan")
    assert [m.code for m in report.villages] == ["64.01.08", "64.01.05"]


def test_apply_register_fills_generated_codes(paser):
    villages = pd.DataFrame({"code": ["V0001", "V0002", "V0003"],
                             "name": ["Muara Toyu", "Desa Busui", "Atlantis"],
                             "district_code": ["", "", ""], "district": ["", "", ""],
                             "kind": ["", "", ""]})
    report = match_register(villages["name"], villages["district"], paser)
    out, notes, problems = apply_register(villages, report, paser)
    assert out["code"].tolist() == ["64.01.08.2008", "64.01.01.2010", "V0003"]
    assert out["district"].tolist() == ["Long Kali", "Batu Sopang", ""]
    assert out["district_code"].tolist() == ["64.01.08", "64.01.01", ""]
    assert out["kind"].tolist() == ["desa", "desa", ""]
    assert villages["code"].tolist() == ["V0001", "V0002", "V0003"]  # input not modified
    assert problems == []
    assert notes[0] == "codes of 2 villages taken from the register"


def test_apply_register_reports_codes_that_disagree(paser):
    villages = pd.DataFrame({"code": ["64.01.08.2099"], "name": ["Muara Toyu"],
                             "district_code": ["64.01.08"], "district": ["Long Kali"],
                             "kind": ["desa"]})
    report = match_register(villages["name"], villages["district"], paser)
    out, _, problems = apply_register(villages, report, paser)
    assert out["code"].tolist() == ["64.01.08.2099"]
    assert len(problems) == 1
    assert "code 64.01.08.2099 in the file but the register entry" in problems[0]
    assert "64.01.08.2008" in problems[0]


def test_names_module_doctests_pass() -> None:
    import doctest

    from towerplan.io import names

    result = doctest.testmod(names)
    assert result.attempted >= 5 and result.failed == 0
