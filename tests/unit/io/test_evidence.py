"""Tests of the village signal-report reader (towerplan.io.evidence)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd
import pytest

from towerplan.errors import InputDataError
from towerplan.io.evidence import (
    REPORT_COLUMNS,
    RESOLVED_COLUMNS,
    SIGNAL_STATUSES,
    STATUS_LABELS,
    parse_period,
    parse_status,
    read_signal_reports,
    resolve_status,
    served,
    signal_class,
)
from towerplan.io.register import packaged_register, read_register

ROOT = Path(__file__).resolve().parents[3]
TODAY = dt.date(2024, 6, 1)
HEADER = "code,village,kecamatan,status,date,source,note"
# Paser villages of the packaged register
SWAN, LONG_SAYO, RIWANG, TANJUNG_ARU = ("64.01.07.2011", "64.01.07.2008", "64.01.09.2005",
                                        "64.01.02.2006")


def _csv(tmp_path: Path, name: str, *lines: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def _xlsx(tmp_path: Path, name: str, sheets: dict[str, list[list[object]]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def _problems(excinfo: pytest.ExceptionInfo[InputDataError]) -> tuple[str, ...]:
    return excinfo.value.problems


@pytest.fixture(scope="module")
def paser_register() -> pd.DataFrame:
    return read_register(packaged_register())[0]


@pytest.fixture(scope="module")
def paser_codes(paser_register) -> list[str]:
    return paser_register["code"].tolist()


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize(("label", "status"), [
    (label, status) for status, labels in STATUS_LABELS.items() for label in labels])
def test_every_status_label(label, status):
    assert parse_status(label) == status
    assert parse_status(f"  {label.upper()} ") == status


@pytest.mark.parametrize(("label", "status"), [
    ("Tidak Ada Sinyal", "none"), ("BlankSpot", "none"), ("blank-spot", "none"),
    ("Semi Blank Spot", "weak"), ("semi blankspot", "weak"), ("Sinyal  Lemah", "weak"),
    ("Sangat Kuat", "signal"), ("LTE", "4g"), ("Tidak Diketahui", "unknown")])
def test_status_labels_ignore_case_and_spacing(label, status):
    assert parse_status(label) == status


@pytest.mark.parametrize("label", ["lemahh", "5g", "", "ada sinyal?"])
def test_other_status_labels_are_refused(label):
    assert parse_status(label) is None


@pytest.mark.parametrize(("text", "label", "start"), [
    ("2021", "2021", dt.date(2021, 1, 1)),
    ("2021-9", "2021-09", dt.date(2021, 9, 1)),
    ("2021-09-28", "2021-09-28", dt.date(2021, 9, 28)),
    ("2021/09/28", "2021-09-28", dt.date(2021, 9, 28)),
    ("28/09/2021", "2021-09-28", dt.date(2021, 9, 28)),
    ("28-9-2021", "2021-09-28", dt.date(2021, 9, 28)),
    ("2021-09-28 00:00:00", "2021-09-28", dt.date(2021, 9, 28)),
])
def test_periods_keep_their_precision(text, label, start):
    assert parse_period(text) == (label, start)


@pytest.mark.parametrize("text", ["", "Sept 2021", "2021-13", "2021-02-30", "21"])
def test_unparseable_periods(text):
    assert parse_period(text) is None


# --------------------------------------------------------------------------- reading


def test_reads_english_csv(tmp_path):
    path = _csv(tmp_path, "r.csv", HEADER,
                f"{SWAN},Swan Slutung,Muara Komam,none,2021-09-28,Tribun,blank",
                f"{RIWANG},Riwang,Batu Engau,weak,2022-11,,semi blank")
    reports, layer = read_signal_reports(path, today=TODAY)
    table = reports.table
    assert list(table.columns) == list(REPORT_COLUMNS)
    assert table["status"].tolist() == ["none", "weak"]
    assert table["date"].tolist() == ["2021-09-28", "2022-11"]
    assert table["row"].tolist() == [2, 3]
    assert table["file"].tolist() == [str(path)] * 2
    assert table["source"].tolist() == ["Tribun", "r.csv"]  # empty source: the file
    assert layer.count == 2 and layer.layer == "signal_reports"
    assert layer.notes[0] == "r.csv: 2 reports (1 none, 1 weak), 2021-09-28 .. 2022-11"


def test_indonesian_headers_semicolons_and_bom(tmp_path):
    path = _csv(tmp_path, "laporan.csv",
                "Kode Desa;Nama_Desa;Kecamatan;Status Sinyal;Tanggal;Sumber;Keterangan",
                f"{SWAN};Swan Slutung;Muara Komam;Tidak ada sinyal;28/09/2021;Tribun;x",
                f"{LONG_SAYO};Long Sayo;Muara Komam;Sinyal Lemah;2021;Disway;",
                encoding="utf-8-sig")
    reports, _ = read_signal_reports(path, today=TODAY)
    row = reports.table.iloc[0]
    assert (row["code"], row["village"], row["kecamatan"], row["status"], row["date"],
            row["source"], row["note"]) == (SWAN, "Swan Slutung", "Muara Komam", "none",
                                            "2021-09-28", "Tribun", "x")
    assert reports.table["date"].tolist() == ["2021-09-28", "2021"]


@pytest.mark.parametrize("header", [
    "kode,desa,kecamatan,sinyal,tahun", "kode_wilayah,kelurahan,kecamatan,status,tanggal",
    "CODE,Village,KECAMATAN,Status,Date"])
def test_header_aliases(tmp_path, header):
    path = _csv(tmp_path, "r.csv", header, f"{SWAN},Swan Slutung,Muara Komam,4G,2023")
    reports, _ = read_signal_reports(path, today=TODAY)
    assert reports.table[["code", "status", "date"]].values.tolist() == [[SWAN, "4g", "2023"]]


def test_every_status_label_in_a_file(tmp_path, paser_codes):
    labels = [label for labels in STATUS_LABELS.values() for label in labels]
    lines = [f"{paser_codes[k]},,,{label},2022" for k, label in enumerate(labels)]
    reports, _ = read_signal_reports(_csv(tmp_path, "r.csv", "code,village,kecamatan,status,"
                                          "date", *lines), today=TODAY)
    expected = [status for status, labels in STATUS_LABELS.items() for _ in labels]
    assert reports.table["status"].tolist() == expected
    assert set(expected) == set(SIGNAL_STATUSES)


def test_bad_status_names_file_row_and_value(tmp_path):
    path = _csv(tmp_path, "reports.csv", HEADER,
                f"{SWAN},Swan Slutung,Muara Komam,none,2021,,",
                f"{LONG_SAYO},Long Sayo,Muara Komam,none,2021,,",
                f"{RIWANG},Riwang,Batu Engau,lemahh,2021,,",
                f"{TANJUNG_ARU},Tanjung Aru,Tanjung Harapan,,2021,,")
    with pytest.raises(InputDataError) as excinfo:
        read_signal_reports(path, today=TODAY)
    assert _problems(excinfo) == (
        "reports.csv row 4: status 'lemahh' is not one of none, weak, 2g, 3g, 4g, signal, "
        "unknown (or an Indonesian label such as 'sinyal lemah')",
        "reports.csv row 5: status is empty")
    assert str(excinfo.value).startswith(f"{path}: 2 problems: reports.csv row 4")


def test_every_problem_is_collected(tmp_path):
    first = _csv(tmp_path, "a.csv", HEADER, f"{SWAN},,,kuat,2030,,",
                 f"{LONG_SAYO},,,none,Sept 2021,,", ",Riwang,,none,2021,,")
    second = _csv(tmp_path, "b.csv", "desa,status,date", "Riwang,none,2021")
    with pytest.raises(InputDataError) as excinfo:
        read_signal_reports([first, second], today=TODAY)
    problems = _problems(excinfo)
    assert problems[0] == "a.csv row 2: date 2030 is in the future (today is 2024-06-01)"
    assert problems[1].startswith("a.csv row 3: date 'Sept 2021' is not a date")
    assert problems[2] == ("a.csv row 4: no village code, and no village name with its "
                           "kecamatan")
    assert problems[3].startswith("b.csv: the columns needed are missing; columns found: "
                                  "desa, status, date")
    assert len(problems) == 4


def test_future_date_against_today(tmp_path):
    path = _csv(tmp_path, "r.csv", HEADER, f"{SWAN},,,none,2024-06-02,,",
                f"{LONG_SAYO},,,none,2024-06,,")  # the month started before today
    with pytest.raises(InputDataError) as excinfo:
        read_signal_reports(path, today=TODAY)
    assert _problems(excinfo) == (
        "r.csv row 2: date 2024-06-02 is in the future (today is 2024-06-01)",)
    reports, _ = read_signal_reports(path, today=dt.date(2024, 6, 2))
    assert len(reports) == 2


def test_unknown_village_code(tmp_path, paser_codes):
    path = _csv(tmp_path, "r.csv", HEADER, f"{SWAN},Swan Slutung,,none,2021,,",
                "64.01.99.2001,Nowhere,,none,2021,,")
    with pytest.raises(InputDataError) as excinfo:
        read_signal_reports(path, villages=paser_codes, today=TODAY)
    assert _problems(excinfo) == (
        "r.csv row 3: unknown village 64.01.99.2001 (Nowhere) is not among the 144 villages",)


def test_code_checked_against_register_without_villages(tmp_path, paser_register):
    path = _csv(tmp_path, "r.csv", HEADER, "64.01.99.2001,,,none,2021,,", "X12,,,none,2021,,")
    with pytest.raises(InputDataError) as excinfo:
        read_signal_reports(path, register="builtin:paser-register", today=TODAY)
    assert [p.split(": ", 1)[1] for p in _problems(excinfo)] == [
        "unknown village 64.01.99.2001 is not among the 144 register entries",
        "unknown village X12 is not among the 144 register entries"]
    with pytest.raises(InputDataError) as excinfo:
        read_signal_reports(path, today=TODAY)
    assert _problems(excinfo) == ("r.csv row 3: code 'X12' is not a Kemendagri village code "
                                  "(PP.RR.KK.NNNN, e.g. 64.01.07.2011)",)


def test_names_filled_from_villages(tmp_path, paser_register):
    path = _csv(tmp_path, "r.csv", "kode,status,tanggal", f"{SWAN},none,2021")
    reports, _ = read_signal_reports(path, villages=paser_register, today=TODAY)
    row = reports.table.iloc[0]
    assert (row["village"], row["kecamatan"]) == ("Swan Slutung", "Muara Komam")


def test_villages_without_codes(tmp_path):
    path = _csv(tmp_path, "r.csv", HEADER, f"{SWAN},,,none,2021,,")
    with pytest.raises(InputDataError, match="villages have no code column"):
        read_signal_reports(path, villages=pd.DataFrame({"name": ["Busui"]}), today=TODAY)


# --------------------------------------------------------------------------- XLSX


def test_xlsx_first_sheet_with_the_columns(tmp_path):
    path = _xlsx(tmp_path, "laporan.xlsx", {
        "Keterangan": [["Laporan blank spot Kabupaten Paser"]],
        "Data": [[], ["Kode Desa", "Desa", "Kecamatan", "Status Sinyal", "Tanggal", "Sumber"],
                 [SWAN, "Swan Slutung", "Muara Komam", "Blank Spot",
                  dt.datetime(2021, 9, 28), "Tribun"],
                 [RIWANG, "Riwang", "Batu Engau", "semi blank spot", 2022, None]]})
    reports, _ = read_signal_reports(path, today=TODAY)
    table = reports.table
    assert table["status"].tolist() == ["none", "weak"]
    assert table["date"].tolist() == ["2021-09-28", "2022"]
    assert table["row"].tolist() == [3, 4]  # spreadsheet row numbers
    assert table["source"].tolist() == ["Tribun", "laporan.xlsx"]


def test_xlsx_bad_status_names_row(tmp_path):
    path = _xlsx(tmp_path, "r.xlsx", {"S": [["kode", "status", "tahun"], [SWAN, "lemahh",
                                                                         2021]]})
    with pytest.raises(InputDataError) as excinfo:
        read_signal_reports(path, today=TODAY)
    assert _problems(excinfo)[0].startswith("r.xlsx row 2: status 'lemahh' is not one of")


def test_xlsx_without_the_columns_is_one_problem(tmp_path):
    path = _xlsx(tmp_path, "r.xlsx", {"Sheet1": [["nama", "jumlah"], ["Busui", 3]],
                                      "Sheet2": [["kode", "sinyal"], [SWAN, "none"]]})
    with pytest.raises(InputDataError) as excinfo:
        read_signal_reports(path, today=TODAY)
    (problem,) = _problems(excinfo)
    assert problem.startswith("r.xlsx: no sheet has the columns needed; columns found: "
                              "sheet 'Sheet1': nama, jumlah; sheet 'Sheet2': kode, sinyal; "
                              "expected code (or village and kecamatan), status and date")


def test_unsupported_file_type(tmp_path):
    path = tmp_path / "r.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InputDataError, match=r"r.xls: unsupported file type '.xls'"):
        read_signal_reports(path, today=TODAY)


# --------------------------------------------------------------------------- name matching


def test_names_matched_through_the_register(tmp_path, paser_codes):
    path = _csv(tmp_path, "r.csv", "desa,kecamatan,status,tanggal",
                "Swan Slutung,Muara Komam,tidak ada,2021-09-28",
                "Ds. Long Sayo,Kec. Muara Komam,none,2021-09-28",
                "RIWANG,Batu Engau,semi blank spot,2022-11-16",
                "Swan Selutung,Muara Komam,none,2021-10")  # a second spelling
    reports, layer = read_signal_reports(path, register="builtin:paser-register",
                                         villages=paser_codes, today=TODAY)
    assert reports.table["code"].tolist() == [SWAN, LONG_SAYO, RIWANG, SWAN]
    assert "4 report(s) matched to villages by name and kecamatan" in layer.notes


def test_names_matched_against_the_villages_without_register(tmp_path, paser_register):
    path = _csv(tmp_path, "r.csv", "desa,kecamatan,status,tanggal",
                "Swan Slutung,Muara Komam,none,2021")
    reports, _ = read_signal_reports(path, villages=paser_register, today=TODAY)
    assert reports.table["code"].tolist() == [SWAN]


def test_unmatched_and_unmatchable_names(tmp_path, paser_codes):
    path = _csv(tmp_path, "r.csv", "desa,kecamatan,status,tanggal",
                "Swan Slutung,Muara Komam,none,2021", "Kampung Entah,Muara Komam,none,2021")
    with pytest.raises(InputDataError) as excinfo:
        read_signal_reports(path, register="builtin:paser-register", today=TODAY)
    (problem,) = _problems(excinfo)
    assert problem.startswith("r.csv row 3: village 'Kampung Entah' (Muara Komam) is unmatched "
                              "in the register")
    with pytest.raises(InputDataError) as excinfo:
        read_signal_reports(path, villages=paser_codes, today=TODAY)
    assert len(_problems(excinfo)) == 2
    assert "no register or village layer to match its name against" in _problems(excinfo)[0]


# --------------------------------------------------------------------------- resolution


def test_latest_report_wins_across_files(tmp_path):
    old = _csv(tmp_path, "2021.csv", HEADER, f"{SWAN},,,none,2021-09-28,Tribun,",
               f"{RIWANG},,,signal,2021,Old,")
    new = _csv(tmp_path, "2022.csv", HEADER, f"{SWAN},,,4g,2022,Survey,",
               f"{RIWANG},,,weak,2021-02,Later,", f"{LONG_SAYO},,,unknown,2023,X,")
    reports, _ = read_signal_reports([new, old], today=TODAY)
    status = resolve_status(reports)
    assert list(status.columns) == list(RESOLVED_COLUMNS)
    assert status.loc[SWAN].tolist() == ["4g", "2022", "Survey", 2]
    assert status.loc[RIWANG].tolist() == ["weak", "2021-02", "Later", 2]  # 2021 = 2021-01-01
    assert status.loc[LONG_SAYO].tolist() == ["unknown", "2023", "X", 1]
    # 2021-01 starts on 1 January 2021 like 2021: the same date, different statuses
    table = reports.table.copy()
    table.loc[table["date"] == "2021-02", "date"] = "2021-01"
    with pytest.raises(InputDataError) as excinfo:
        resolve_status(table)
    assert _problems(excinfo) == (
        f"2022.csv row 3 and 2021.csv row 3: contradictory reports of the same date "
        f"2021-01/2021 for village {RIWANG}: weak, signal",)


def test_unknown_never_overrides_a_known_status(tmp_path):
    path = _csv(tmp_path, "r.csv", HEADER, f"{SWAN},,,none,2021,,", f"{SWAN},,,unknown,2023,,",
                f"{RIWANG},,,tidak diketahui,2022,A,")
    status = resolve_status(read_signal_reports(path, today=TODAY)[0], [SWAN, RIWANG,
                                                                       LONG_SAYO])
    assert status["status"].tolist() == ["none", "unknown", "unknown"]
    assert status["date"].tolist() == ["2021", "2022", ""]
    assert status["n_reports"].tolist() == [2, 1, 0]


def test_contradictory_reports_of_the_same_date(tmp_path):
    first = _csv(tmp_path, "a.csv", HEADER, f"{SWAN},,,none,2021-09-28,,",
                 f"{RIWANG},,,weak,2021,,", f"{RIWANG},,,lemah,2021,,")
    second = _csv(tmp_path, "b.csv", HEADER, f"{SWAN},,,ada sinyal,2021-09-28,,",
                  f"{LONG_SAYO},,,none,2020,,")
    with pytest.raises(InputDataError) as excinfo:
        read_signal_reports([first, second], today=TODAY)
    assert _problems(excinfo) == (
        f"a.csv row 2 and b.csv row 2: contradictory reports of the same date 2021-09-28 for "
        f"village {SWAN}: none, signal",)


def test_an_old_contradiction_is_settled_by_a_later_report(tmp_path):
    path = _csv(tmp_path, "r.csv", HEADER, f"{SWAN},,,none,2021,,", f"{SWAN},,,weak,2021,,",
                f"{SWAN},,,4g,2023,,")
    reports, _ = read_signal_reports(path, today=TODAY)
    assert resolve_status(reports).loc[SWAN, "status"] == "4g"


def test_unlisted_rule(tmp_path, paser_codes):
    blank = _csv(tmp_path, "blank.csv", HEADER, f"{SWAN},,,none,2021-09-28,,",
                 f"{LONG_SAYO},,,none,2021-09,,")
    weak = _csv(tmp_path, "weak.csv", HEADER, f"{RIWANG},,,weak,2022-11-16,,")
    reports, layer = read_signal_reports([blank, weak], unlisted={str(blank): "ada sinyal"},
                                         villages=paser_codes, today=TODAY)
    added = reports.table[reports.table["row"].isna()]
    assert len(added) == 142 and set(added["file"]) == {str(blank)}
    assert set(added["status"]) == {"signal"} and set(added["date"]) == {"2021-09-28"}
    assert set(added["source"]) == {"unlisted in blank.csv"}
    assert "blank.csv: 142 unlisted villages taken as 'signal'" in layer.notes
    assert layer.count == 3
    status = reports.resolve(paser_codes)
    assert status["status"].value_counts().to_dict() == {"signal": 141, "none": 2, "weak": 1}
    assert status.loc[RIWANG].tolist() == ["weak", "2022-11-16", "weak.csv", 2]


def test_unlisted_rule_for_every_file_and_without_villages(tmp_path, paser_codes):
    path = _csv(tmp_path, "r.csv", HEADER, f"{SWAN},,,none,2021,,")
    reports, layer = read_signal_reports(path, unlisted="4g", today=TODAY)
    assert len(reports) == 1
    assert layer.problems == ("unlisted rule '4g' for r.csv not applied: no villages given",)
    reports, _ = read_signal_reports(path, unlisted="4g", villages=paser_codes, today=TODAY)
    assert len(reports) == 144


def test_unlisted_rule_problems(tmp_path, paser_codes):
    path = _csv(tmp_path, "r.csv", HEADER, f"{SWAN},,,none,2021,,")
    with pytest.raises(InputDataError) as excinfo:
        read_signal_reports(path, unlisted={path: "kuatt", tmp_path / "x.csv": "signal"},
                            villages=paser_codes, today=TODAY)
    problems = _problems(excinfo)
    assert problems[0].startswith("unlisted rule for r.csv: 'kuatt' is not one of none")
    assert problems[1] == f"unlisted rule given for {tmp_path / 'x.csv'}, which is not one of " \
                          "the report files"


def test_unlisted_contradicting_a_report_of_the_same_date(tmp_path, paser_codes):
    blank = _csv(tmp_path, "blank.csv", HEADER, f"{SWAN},,,none,2021-09-28,,")
    other = _csv(tmp_path, "other.csv", HEADER, f"{LONG_SAYO},,,none,2021-09-28,,")
    with pytest.raises(InputDataError) as excinfo:
        read_signal_reports([blank, other], unlisted={blank: "signal"}, villages=paser_codes,
                            today=TODAY)
    assert _problems(excinfo) == (
        f"other.csv row 2 and blank.csv (unlisted): contradictory reports of the same date "
        f"2021-09-28 for village {LONG_SAYO}: none, signal",)


# --------------------------------------------------------------------------- served


@pytest.mark.parametrize(("status", "four_g", "signal"), [
    ("4g", True, True), ("3g", False, True), ("2g", False, True), ("signal", None, True),
    ("weak", False, False), ("none", False, False), ("unknown", None, None)])
def test_served(status, four_g, signal):
    assert served(status, "4g") is four_g
    assert served(status, "signal") is signal


def test_blank_and_semi_blank():
    assert [signal_class(s) for s in SIGNAL_STATUSES] == [
        "blank", "semi_blank", "semi_blank", "semi_blank", "served", "unknown", "unknown"]
    assert signal_class("weak", "signal") == "semi_blank"
    with pytest.raises(ValueError, match="status 'lemah'"):
        served("lemah")
    with pytest.raises(ValueError, match="target '5g'"):
        served("4g", "5g")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- shared data


@pytest.fixture(scope="module")
def shared_data() -> Path:
    override = os.environ.get("TOWERPLAN_SHARED_DATA")
    path = Path(override) if override else ROOT.parent / "shared" / "data"
    needed = ("paser_signal_reports_2021.csv", "paser_signal_reports_2022.csv",
              "paser_villages.geojson")
    if not all((path / name).is_file() for name in needed):
        pytest.skip(f"shared data not found at {path} (expected {', '.join(needed)}); put the "
                    "Paser data beside the project or set TOWERPLAN_SHARED_DATA")
    return path


@pytest.mark.shared_data
def test_paser_reports(shared_data, paser_register):
    from towerplan.io.villages import read_villages
    from towerplan.scenario import VillageColumns

    files = [shared_data / "paser_signal_reports_2021.csv",
             shared_data / "paser_signal_reports_2022.csv"]
    reports, _ = read_signal_reports(files, register="builtin:paser-register")
    by_file = reports.table.groupby("file")["status"].agg(lambda s: s.value_counts().to_dict())
    assert by_file[str(files[0])] == {"none": 6}
    assert by_file[str(files[1])] == {"weak": 2}

    villages, _ = read_villages(shared_data / "paser_villages.geojson",
                                columns=VillageColumns(district="district_name"))
    reports, _ = read_signal_reports(files, unlisted={files[0]: "signal"}, villages=villages)
    status = reports.resolve(villages["code"])
    assert len(status) == 144
    assert status["status"].value_counts().to_dict() == {"signal": 136, "none": 6, "weak": 2}
    assert sorted(status.index[status["status"] == "weak"]) == [TANJUNG_ARU, RIWANG]
    assert status.loc[RIWANG, "n_reports"] == 2  # unlisted in 2021, weak in 2022
    classes = status["status"].map(signal_class).value_counts().to_dict()
    assert classes == {"unknown": 136, "blank": 6, "semi_blank": 2}
