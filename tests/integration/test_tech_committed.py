"""Technology of existing towers against the coverage target, and committed towers.

The small generated scenario (``small_scenario``): nine villages of 0.03 degrees in a 3 x 3
grid centred on 116.00 E, 1.70 S; its one existing tower (115.97 E, 1.68 S, in Desa 1)
covers Desa 1 (64.01.01.2001) and leaves Desa 3 (centre 116.03 E, 1.67 S), Desa 6
(centre 116.03 E, 1.70 S) and Kelurahan 9 (64.01.01.1001, centre 116.03 E, 1.73 S) blank in
the model. Each village's people stand at its centre (a population total, no settlements).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from towerplan import load_scenario
from towerplan.pipeline.plan import current_state, new_run, selection_problem

Factory = Callable[..., Path]

DESA1, DESA3, DESA6, KEL9 = ("64.01.01.2001", "64.01.01.2003", "64.01.01.2006",
                             "64.01.01.1001")
TOWER = (115.97, -1.68)
CENTRE3, CENTRE6, CENTRE9 = (116.03, -1.67), (116.03, -1.70), (116.03, -1.73)


def _run(tmp_path: Path, scenario: Path) -> tuple[Any, Any]:
    run = new_run(load_scenario(scenario), cache=tmp_path / "cache")
    stats = run.get("before").copy()
    stats.index = run.get("load").villages["code"].astype(str).to_numpy()
    return run, stats


def _gsm_tower(make_towers_csv: Factory) -> Path:
    return make_towers_csv([{"lon": TOWER[0], "lat": TOWER[1], "height_m": 40,
                             "operator": "A", "radio": "GSM"}], name="gsm.csv")


def test_gsm_only_village_is_semi_blank_for_4g(tmp_path: Path, small_scenario: Factory,
                                               make_towers_csv: Factory) -> None:
    scenario = small_scenario(towers_path=_gsm_tower(make_towers_csv))
    run, stats = _run(tmp_path, scenario)
    assert run.get("load").towers["technology"].tolist() == ["2g"]
    one = stats.loc[DESA1]
    # no coverage at 4G; the GSM tower's signal makes Desa 1 semi blank, not blank
    assert (one["status"], one["status_model"], one["share_covered_model"]) == (
        "partial", "partial", 0.0)
    assert stats.loc[DESA3, "status"] == "blank"  # no signal at all there
    state = current_state(run)
    village = state.villages["code"].astype(str).to_numpy()[state.units.village]
    desa1 = village == DESA1
    assert not state.covered[desa1].any()
    assert state.fresh_weight[desa1].sum() == pytest.approx(state.units.weight[desa1].sum())
    # a new (4G) site gains the people of Desa 1
    problem = selection_problem(run)
    gain = problem.matrix[:, np.flatnonzero(desa1)] @ state.fresh_weight[desa1]
    assert gain.max() > 0.5 * state.units.weight[desa1].sum()


def test_gsm_tower_covers_for_the_signal_target(tmp_path: Path, small_scenario: Factory,
                                                make_towers_csv: Factory) -> None:
    path = small_scenario(towers_path=_gsm_tower(make_towers_csv))
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("demand_cell_m = 250\n",
                                 'demand_cell_m = 250\ntarget = "signal"\n'), encoding="utf-8")
    run, stats = _run(tmp_path, path)
    assert stats.loc[DESA1, "status"] == "covered"
    assert stats.loc[DESA1, "share_covered_model"] > 0.9
    state = current_state(run)
    village = state.villages["code"].astype(str).to_numpy()[state.units.village]
    assert state.fresh_weight[village == DESA1].sum() < \
        0.1 * state.units.weight[village == DESA1].sum()


def _committed(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    path = tmp_path / "committed.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "lon", "lat", "on_air_year",
                                                "technology", "operator", "programme"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def _with_committed(small_scenario: Factory, committed: Path, year: int) -> Path:
    path = small_scenario()
    text = path.read_text(encoding="utf-8")
    text = text.replace('settlements = ""\n',
                        f'settlements = ""\ncommitted_towers = "{committed}"\n')
    text = text.replace('name = "small"\n', f'name = "small"\nyear = {year}\n')
    path.write_text(text, encoding="utf-8")
    return path


def test_committed_towers_by_year(tmp_path: Path, small_scenario: Factory) -> None:
    committed = _committed(tmp_path, [
        {"id": "BAKTI-1", "lon": CENTRE3[0], "lat": CENTRE3[1], "on_air_year": 2024,
         "technology": "4g", "operator": "Telkomsel", "programme": "BAKTI"},
        {"id": "BAKTI-2", "lon": CENTRE9[0], "lat": CENTRE9[1], "on_air_year": 2027,
         "technology": "4g", "operator": "XL Axiata", "programme": "BAKTI"}])
    run, stats = _run(tmp_path, _with_committed(small_scenario, committed, 2025))
    load = run.get("load")
    # on air by 2025: an existing tower today; 2027: not today
    assert load.towers["tower_id"].tolist() == ["T0001", "BAKTI-1"]
    assert load.committed["committed_id"].tolist() == ["BAKTI-1", "BAKTI-2"]
    assert stats.loc[DESA3, "status"] == "covered"
    # Kelurahan 9 lies beyond BAKTI-1's reach (6.7 km): blank today, served by BAKTI-2 in 2027
    assert stats.loc[KEL9, "status_model"] == "blank"
    assert stats.loc[KEL9, "committed_year"] == 2027
    assert stats.loc[DESA3, "committed_year"] == 0
    state = current_state(run)
    village = state.villages["code"].astype(str).to_numpy()[state.units.village]
    kel9 = village == KEL9
    # the plan treats the 2027 tower as built: nothing to gain where it will serve
    assert state.covered[kel9].mean() > 0.9
    assert state.served_today[kel9].mean() < state.covered[kel9].mean()
    # no candidate within 500 m of either committed tower
    cands = run.get("candidates")
    xy = np.array([[p.x, p.y] for p in load.committed.geometry])
    dist = np.hypot(cands["x"].to_numpy()[:, None] - xy[None, :, 0],
                    cands["y"].to_numpy()[:, None] - xy[None, :, 1])
    assert len(cands) > 0 and dist.min() > 500.0


def test_committed_plan_outputs(tmp_path: Path, small_scenario: Factory,
                                run_cli: Callable[..., Any]) -> None:
    committed = _committed(tmp_path, [
        {"id": "BAKTI-2", "lon": CENTRE6[0], "lat": CENTRE6[1], "on_air_year": 2027,
         "technology": "4g", "operator": "XL <b>Axiata</b>", "programme": "BAKTI"}])
    out = tmp_path / "out"
    done = run_cli("plan", _with_committed(small_scenario, committed, 2025), "--out", out)
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    block = summary["committed_towers"]
    assert (block["count"], block["on_air_by_year"], block["future"], block["plan_year"]) == (
        1, 0, 1, 2025)
    assert block["file"] == committed.name  # named relative to the scenario file beside it
    assert summary["plan_year"] == 2025
    tech = summary["existing_technology"]
    assert tech["by_technology"]["unknown"] == 1 and tech["unknown_assumed_serving"] == 1
    assert any("assumed to serve the target" in n for n in summary["towers_note"])
    with (out / "villages.csv").open(encoding="utf-8") as fh:
        years = {row["code"]: row["committed_year"] for row in csv.DictReader(fh)}
    assert years[DESA6] == "2027" and years[DESA1] == "0"
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "Menara komitmen (BAKTI/operator)" in page  # the layer (map in Bahasa Indonesia)
    assert "Menara komitmen BAKTI-2" in page  # its popup
    assert "<b>Axiata" not in page  # escaped, then made safe inside the script
    assert "XL \\u0026lt;b\\u0026gt;Axiata" in page
    statement = "1 yang mengudara setelah 2025 tidak dihitung melayani saat ini"
    assert statement in page
    assert statement in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_bad_committed_file_exit_2_nothing_written(tmp_path: Path, small_scenario: Factory,
                                                   run_cli: Callable[..., Any],
                                                   command: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("lon,lat,on_air_year,technology\n"
                   ",-1.70,2024,4g\n"            # line 2: lon missing
                   "116.03,-1.70,soon,4g\n"      # line 3: bad year
                   "116.03,-1.70,2050,4g\n"      # line 4: beyond 2025 + 10
                   "116.03,-1.70,2026,wimax\n",  # line 5: bad technology
                   encoding="utf-8")
    scenario = _with_committed(small_scenario, bad, 2025)
    out = tmp_path / "o"
    args = (command, scenario) if command == "validate" else (command, scenario, "--out", out)
    done = run_cli(*args)
    assert done.returncode == 2, done.stderr
    text = done.stdout + done.stderr
    assert "bad.csv" in text
    for fragment in ("line 2: lon is missing", "line 3: on_air_year 'soon' is not a year",
                     "line 4: on_air_year 2050 is outside 1980..2035",
                     "line 5: technology 'wimax'"):
        assert fragment in text, text
    if command == "validate":  # one line per problem, naming the file
        problems = [ln for ln in done.stdout.splitlines() if ln.startswith("problem: ")]
        assert [p.split(": ", 2)[2][:20] for p in problems] == [
            "bad.csv line 2: lon ", "bad.csv line 3: on_a", "bad.csv line 4: on_a",
            "bad.csv line 5: tech"], done.stdout
    else:
        assert len([ln for ln in done.stderr.splitlines() if ln.strip()]) == 1
    assert not out.exists()
