"""Agreement of modelled and reported village status; offset fitted to reports."""

from __future__ import annotations

import numpy as np
import pytest

from towerplan.analysis.agreement import (
    agreement,
    cohen_kappa,
    confusion,
    fit_offset_to_labels,
    modelled_status,
)


def test_kappa_of_a_hand_computed_3x3_table() -> None:
    # 50 cases, 37 on the diagonal: p_o = 0.74; rows 15, 10, 25 and columns 15, 12, 23:
    # p_e = (15*15 + 10*12 + 25*23) / 50**2 = 920 / 2500 = 0.368;
    # kappa = (0.74 - 0.368) / (1 - 0.368) = 0.372 / 0.632
    table = [[10, 2, 3], [1, 8, 1], [4, 2, 19]]
    assert cohen_kappa(table) == pytest.approx(0.372 / 0.632)
    assert cohen_kappa(np.diag([3, 4, 5])) == pytest.approx(1.0)
    assert np.isnan(cohen_kappa(np.zeros((3, 3))))
    with pytest.raises(ValueError, match="square"):
        cohen_kappa([[1, 2, 3]])


def test_confusion_and_agreement_semi_blank_is_partial() -> None:
    reported = ["blank", "semi_blank", "served", "served", "unknown", "blank"]
    modelled = ["blank", "partial", "covered", "blank", "covered", "partial"]
    people = [100.0, 200.0, 300.0, 400.0, 500.0, 600.0]
    table = confusion(reported, modelled)
    assert table.loc["semi_blank", "partial"] == 1
    assert table.loc["unknown", "covered"] == 1
    assert table.to_numpy().sum() == 6
    agr = agreement(reported, modelled, people)
    assert (agr.reported, agr.agreeing) == (5, 3)
    assert agr.accuracy == pytest.approx(0.6)
    assert agr.people.loc["served", "blank"] == 400.0
    # people: agreeing 100 + 200 + 300 of 100 + 200 + 300 + 400 + 600 reported
    assert agr.people_accuracy == pytest.approx(600 / 1600)
    # known table [[1, 1, 0], [0, 1, 0], [1, 0, 1]]: p_o = 3/5, rows 2,1,2, cols 2,2,1,
    # p_e = (4 + 2 + 2) / 25 = 8/25 -> kappa = (15/25 - 8/25) / (17/25) = 7/17
    assert agr.kappa == pytest.approx(7 / 17)


def test_modelled_status_thresholds() -> None:
    status = modelled_status([0.0, 0.1, 0.5, 0.9, 1.0], blank_below=0.1, covered_at_least=0.9)
    assert status.tolist() == ["blank", "partial", "partial", "covered", "covered"]


@pytest.mark.parametrize("true_offset_db", [6.0, -4.5])
def test_fit_recovers_a_known_offset(true_offset_db: float) -> None:
    rng = np.random.default_rng(7)
    n, per = 300, 20
    village = np.repeat(np.arange(n), per)
    # each village's units spread around its own level, so every 0.5 dB moves some status
    rsrp = rng.uniform(-125.0, -85.0, n)[village] + rng.normal(0.0, 6.0, n * per)
    weight = rng.uniform(1.0, 50.0, n * per)
    area = np.full(n * per, 0.01)
    threshold, blank_below, covered_at_least = -105.0, 0.1, 0.9
    cov = (rsrp + true_offset_db) >= threshold
    share = np.bincount(village, weight * cov, n) / np.bincount(village, weight, n)
    truth = modelled_status(share, blank_below=blank_below, covered_at_least=covered_at_least)
    reported = np.array([{"blank": "blank", "partial": "semi_blank", "covered": "served"}[s]
                         for s in truth], dtype=object)
    reported[::10] = "unknown"  # some villages have no report
    fit = fit_offset_to_labels(rsrp, village, weight, area, list(reported),
                               threshold_rsrp_dbm=threshold, blank_below=blank_below,
                               covered_at_least=covered_at_least, k=5, seed=1)
    assert fit.offset_db == pytest.approx(true_offset_db)
    assert fit.after.accuracy == pytest.approx(1.0)
    assert fit.after.kappa == pytest.approx(1.0)
    assert fit.after.reported == n - n // 10
    assert fit.before.accuracy < 0.95
    assert fit.cv_after[0] == pytest.approx(1.0)
    assert fit.cv_after[1] > fit.cv_before[1]
    assert len(fit.fold_offsets_db) == 5
    assert max(abs(o - true_offset_db) for o in fit.fold_offsets_db) <= 0.5
    accuracy = fit_offset_to_labels(rsrp, village, weight, area, list(reported),
                                    threshold_rsrp_dbm=threshold, blank_below=blank_below,
                                    covered_at_least=covered_at_least, criterion="accuracy")
    assert accuracy.offset_db == pytest.approx(true_offset_db)


def test_fit_without_known_reports_is_refused() -> None:
    with pytest.raises(ValueError, match="no village has a known report"):
        fit_offset_to_labels([-90.0], [0], [1.0], [1.0], ["unknown"], threshold_rsrp_dbm=-105,
                             blank_below=0.1, covered_at_least=0.9)
