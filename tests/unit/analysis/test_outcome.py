"""What a selection achieves: the weighted median of a site's RSRP over the people it covers."""

from __future__ import annotations

import numpy as np
import pytest

from towerplan.analysis.outcome import weighted_median


def test_weighted_median_equals_the_median_of_the_repeated_values():
    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(1, 12))
        values = np.round(rng.uniform(-110, -60, n), 1)
        counts = rng.integers(0, 6, n)
        if counts.sum() == 0:
            continue
        repeated = np.sort(np.repeat(values, counts))
        lower_median = repeated[(len(repeated) - 1) // 2]  # the lower of the two middles
        assert weighted_median(values, counts.astype(float)) == lower_median


def test_weighted_median_leaves_out_nan_and_zero_weights():
    values = np.array([-81.2, np.nan, -95.0, -99.0])
    assert weighted_median(values, np.array([1.0, 50.0, 0.0, 0.0])) == -81.2
    assert weighted_median(values, np.array([1.0, 1.0, 3.0, 0.0])) == -95.0
    assert np.isnan(weighted_median(values, np.zeros(4)))
    assert np.isnan(weighted_median(np.array([]), np.array([])))


@pytest.mark.parametrize("weights", [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])
def test_weighted_median_is_scale_free(weights):
    assert weighted_median(np.array([-90.0, -100.0, -80.0]), np.array(weights)) == -90.0
