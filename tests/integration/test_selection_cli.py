"""``towerplan candidates``, ``sweep`` and ``audit`` on a small generated scenario."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyogrio
import pytest

from towerplan.commands.options import parse_budgets
from towerplan.errors import InputDataError


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_candidates_sweep_and_audit(tmp_path: Path, small_scenario: Callable[..., Path],
                                    run_cli: Callable[..., Any]) -> None:
    sc = small_scenario()
    proc = run_cli("candidates", sc, "--out", tmp_path / "c")
    assert proc.returncode == 0, proc.stderr
    cands = _rows(tmp_path / "c" / "candidates.csv")
    assert cands and all(float(r["cost_total_idr"]) == 1.7e9 for r in cands)
    assert {r["origin"] for r in cands} <= {"grid", "hilltop", "settlement", "user"}

    proc = run_cli("sweep", sc, "--budgets", "1.7e9:6.8e9:1.7e9", "--out", tmp_path / "s")
    assert proc.returncode == 0, proc.stderr
    sweep = _rows(tmp_path / "s" / "sweep.csv")
    assert [float(r["budget_idr"]) for r in sweep] == [1.7e9, 3.4e9, 5.1e9, 6.8e9]
    milp = [float(r["demand_covered_milp"]) for r in sweep]
    greedy = [float(r["demand_covered_greedy"]) for r in sweep]
    assert milp == sorted(milp)  # more money never covers less
    assert all(m >= g - 1e-6 for m, g in zip(milp, greedy, strict=True))
    assert all(float(r["spent_milp_idr"]) <= float(r["budget_idr"]) for r in sweep)
    # demand gained per tower's worth (Rp 1.7 bn, the step here) of extra budget
    marginal = [float(r["marginal_demand_per_extra_tower"]) for r in sweep]
    gained = [b - a for a, b in zip(milp[:-1], milp[1:], strict=True)]
    assert marginal[1:] == pytest.approx(gained, abs=2e-3)
    assert (tmp_path / "s" / "sweep.png").stat().st_size > 0
    proc = run_cli("sweep", sc, "--budgets", "1.7e9:6.8e9:1.7e9", "--lang", "en",
                   "--out", tmp_path / "s_en")
    assert proc.returncode == 0, proc.stderr
    assert _rows(tmp_path / "s_en" / "sweep.csv") == sweep  # same figures, English labels
    png = (tmp_path / "s" / "sweep.png").read_bytes()
    assert png.startswith(b"\x89PNG") and png != (tmp_path / "s_en" / "sweep.png").read_bytes()

    proc = run_cli("audit", sc, "--villages", "Desa 1,Desa 19", "--out", tmp_path / "a")
    assert proc.returncode != 0 and "no village named 'Desa 19'" in proc.stderr
    proc = run_cli("audit", sc, "--villages", "Desa 1,desa 5", "--out", tmp_path / "a")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "a" / "audit.json").read_text(encoding="utf-8"))
    assert summary["audit_villages"] == ["Desa 1", "Desa 5"]
    assert summary["audit_demand"] <= summary["optimum_demand"] + 1e-6
    assert 0 <= summary["share_of_optimum"] <= 1
    assert summary["optimum_gap"] == pytest.approx(0.0, abs=1e-9)
    layers = {name for name, _ in pyogrio.list_layers(tmp_path / "a" / "audit.gpkg")}
    assert layers == {"audit_sites", "optimum_sites"}


def test_parse_budgets() -> None:
    assert parse_budgets("1e9,2e9") == [1e9, 2e9]
    assert len(parse_budgets("1.7e9:17e9:1.7e9")) == 10
    for bad in ("x", "5:1:1", "1:5:0", "-1,2"):
        with pytest.raises(InputDataError):
            parse_budgets(bad)
