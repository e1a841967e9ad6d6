"""``towerplan match``: the matching report, the mapping template and settling the rest."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from towerplan.cli import main
from towerplan.io.register import packaged_register

ROOT = Path(__file__).resolve().parents[3]
PASER_REGISTER = packaged_register()


def _run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, " ".join(captured.out.split()), " ".join(captured.err.split())


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_match_writes_the_report_and_a_template_until_every_name_is_settled(
        tmp_path, village_gdf, write_layer, make_dem, capsys):
    gdf = village_gdf(3)
    gdf["name"] = ["Desa Muara Toyu", "Mendik Bakti", "Danau Biru"]
    gdf["district"] = ["Long Kali", "Long Kali", "Long Kali"]
    villages = write_layer(gdf[["name", "district", "geometry"]], "v")
    scenario = tmp_path / "s.toml"
    base = (f'[inputs]\nvillages = "{villages}"\ndem = ["{make_dem()}"]\n'
            f'register = "{PASER_REGISTER}"\n')
    scenario.write_text(base + '[inputs.village_columns]\ncode = ""\n', encoding="utf-8")
    report = tmp_path / "out" / "register_match.csv"

    code, out, err = _run(capsys, "match", scenario, "-o", report)
    assert code == 2
    assert "2 of 3 names matched to the register (0 exact, 2 normalised" in out
    assert "unmatched: Danau Biru (Long Kali)" in out
    assert err.startswith("towerplan: error: 1 village names are not settled; fill in the "
                          "code column of")
    rows = _rows(report)
    assert [(r["level"], r["name"], r["status"], r["code"]) for r in rows] == [
        ("kecamatan", "Long Kali", "exact", "64.01.08"),
        ("village", "Desa Muara Toyu", "normalised", "64.01.08.2008"),
        ("village", "Mendik Bakti", "normalised", "64.01.08.2015"),
        ("village", "Danau Biru", "unmatched", "")]
    todo = report.with_name("village_mapping_todo.csv")
    assert [r["name"] for r in _rows(todo)] == ["Danau Biru"]

    code, _, err = _run(capsys, "match", scenario, "-o", report)
    assert code == 2 and "exists; pass --overwrite" in err

    # settle the lake: it has no register entry
    todo.write_text("name,district,code\nDanau Biru,Long Kali,-\n", encoding="utf-8")
    mapping = tmp_path / "mapping.csv"
    todo.rename(mapping)
    scenario.write_text(base + f'village_mapping = "{mapping}"\n'
                        '[inputs.village_columns]\ncode = ""\n', encoding="utf-8")
    code, out, _ = _run(capsys, "match", scenario, "-o", report, "--overwrite")
    assert code == 0
    assert "0 ambiguous, 0 unmatched, 1 confirmed not in the register" in out
    assert _rows(report)[-1]["status"] == "not_in_register"
    assert not todo.exists()


def test_match_needs_a_register(tmp_path, make_villages, make_dem, capsys):
    scenario = tmp_path / "s.toml"
    scenario.write_text(f'[inputs]\nvillages = "{make_villages()}"\ndem = ["{make_dem()}"]\n',
                        encoding="utf-8")
    code, _, err = _run(capsys, "match", scenario, "-o", tmp_path / "r.csv")
    assert code == 2
    assert "the scenario names no register: set [inputs] register" in err
    assert not (tmp_path / "r.csv").exists()
