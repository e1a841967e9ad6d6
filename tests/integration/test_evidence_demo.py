"""The demo's synthetic village survey and ``towerplan evidence`` on the demo, by hand.

The expected confusion table is built here from the survey file the demo writes (its
Podes-like labels mapped by hand) and the model's status of the demo without any report.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from towerplan.io.demo import SURVEY_FILE, SURVEY_SOURCE
from towerplan.pipeline.plan import ensure_demo_survey, new_run
from towerplan.scenario import Scenario

#: The survey's labels and their class for the default 4G target, by hand.
BY_HAND = {"tidak ada sinyal": "blank", "sinyal lemah": "semi_blank", "4G": "served",
           "sinyal kuat": "unknown"}
AGREE = {("blank", "blank"), ("semi_blank", "partial"), ("served", "covered")}
ROW_LABELS = {"blank spot": "blank", "semi blank spot": "semi_blank", "served": "served",
              "unknown": "unknown"}


def test_demo_evidence_table_by_hand(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    scenario = Scenario.default()
    survey_path = ensure_demo_survey(scenario)
    assert survey_path is not None and survey_path.name == SURVEY_FILE
    with survey_path.open(encoding="utf-8", newline="") as fh:
        survey = list(csv.DictReader(fh))
    assert {r["source"] for r in survey} == {SURVEY_SOURCE}
    assert all("SINTETIS" in r["note"] and "SYNTHETIC" in r["note"] for r in survey)
    flipped = {r["code"] for r in survey if r["flipped"] == "True"}
    assert len(flipped) == round(0.10 * len(survey))

    bare = dataclasses.replace(scenario, inputs=dataclasses.replace(scenario.inputs,
                                                                    signal_reports=()))
    run = new_run(bare)
    codes = run.get("load").villages["code"].astype(str).tolist()
    model = dict(zip(codes, run.get("before")["status_model"], strict=True))
    assert len(model) == len(survey)

    expected: Counter[tuple[str, str]] = Counter()
    for row in survey:
        reported = BY_HAND[row["status"]]
        expected[(reported, model[row["code"]])] += 1
        agrees = (reported, model[row["code"]]) in AGREE
        if row["code"] not in flipped and reported != "unknown":
            assert agrees, row  # the survey follows the model except where it was flipped
        if row["code"] in flipped:
            assert not agrees, row

    done = run_cli("evidence", "--out", tmp_path / "ev", "--lang", "en")
    assert done.returncode == 0, done.stderr
    printed: dict[tuple[str, str], int] = {}
    for line in done.stdout.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if cells[0] in ROW_LABELS and len(cells) == 5:
            rep = ROW_LABELS[cells[0]]
            if any((rep, m) in printed for m in ("blank", "partial", "covered")):
                break  # the first table (villages, whole area) is done
            for m, value in zip(("blank", "partial", "covered"), cells[1:4], strict=True):
                printed[(rep, m)] = int(value.replace(",", ""))
    assert len(printed) == 12, done.stdout
    for key, value in printed.items():
        assert value == expected.get(key, 0), key
    known = sum(v for (r, _), v in expected.items() if r != "unknown")
    agreeing = sum(expected[k] for k in AGREE)
    assert agreeing == known - len(flipped)
    assert re.search(rf"Accuracy [\d.]+ % \({agreeing}/{known}\)", done.stdout)
    with (tmp_path / "ev" / "evidence_agreement.csv").open(encoding="utf-8") as fh:
        long = [r for r in csv.DictReader(fh)
                if r["district_code"] == "" and r["measure"] == "villages"]
    assert {(r["reported"], r["modelled"]): int(r["value"]) for r in long} == {
        (r, m): expected.get((r, m), 0) for r in ROW_LABELS.values()
        for m in ("blank", "partial", "covered")}
