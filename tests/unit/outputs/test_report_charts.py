"""Charts of the plan report: real PNG images, deterministic, labelled per language."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from towerplan.outputs import charts
from towerplan.outputs.charts import CHART_DPI, blank_spots_png, budget_curve_png

from .factories import with_changes


def _pixels(png: bytes) -> np.ndarray:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.mark.parametrize("draw", [budget_curve_png, blank_spots_png])
def test_charts_are_non_empty_deterministic_pngs(plan_result, draw):
    png = draw(plan_result)
    pixels = _pixels(png)
    assert pixels.shape[1] == 8 * CHART_DPI  # 8 inches wide
    assert pixels.shape[0] > 300
    colours = np.unique(pixels.reshape(-1, 3), axis=0)
    assert len(colours) > 50  # drawn content, not a blank canvas
    assert draw(plan_result) == png
    assert draw(plan_result, lang="en") != png  # labels and number formats differ


def test_budget_curve_draws_the_ranked_sites_in_the_curve_colour(plan_result, make_result):
    curve = np.array([0x1F, 0x4E, 0x9C])
    with_sites = _pixels(budget_curve_png(plan_result))
    without = _pixels(budget_curve_png(make_result(n_selected=0)))

    def curve_pixels(pixels: np.ndarray) -> int:
        return int((np.abs(pixels.astype(int) - curve).sum(axis=2) < 30).sum())

    # The legend holds one sample of the line either way; two ranked sites add a real curve.
    assert curve_pixels(with_sites) > curve_pixels(without) + 200


def test_blank_counts_per_district(plan_result):
    districts, before, after = charts._blank_counts(plan_result)
    # Fixture: Batu Sopang has two blank villages today, none after; Muara Komam none.
    assert districts == ["Batu Sopang", "Muara Komam"]
    assert before.tolist() == [2, 0]
    assert after.tolist() == [0, 0]


def test_district_names_are_data_not_mathtext(plan_result):
    villages = plan_result.villages.copy()
    villages["district"] = ["$x^2$", "$x^2$", "Rp 5$ \\frac", None]
    png = blank_spots_png(with_changes(plan_result, villages=villages))
    assert _pixels(png).shape[0] > 300
    districts, before, _ = charts._blank_counts(with_changes(plan_result, villages=villages))
    assert districts == ["Rp 5$ \\frac", "–", "$x^2$"]
    assert before.tolist() == [1, 1, 0]


def test_unknown_language_is_refused(plan_result):
    from towerplan.errors import ScenarioError

    with pytest.raises(ScenarioError):
        budget_curve_png(plan_result, lang="fr")


def _sweep(marginal_scale: float = 1.0, title: str = "Kabupaten Contoh", lang: str = "id"
           ) -> bytes:
    budget = np.arange(1, 6) * 1.7e9
    milp = np.array([10.0, 18.0, 24.0, 28.0, 30.0]) * 1000
    greedy = np.array([10.0, 17.0, 24.0, 26.0, 30.0]) * 1000
    marginal = np.diff(milp, prepend=0.0) * marginal_scale
    return charts.sweep_png(budget, milp, greedy, marginal, title=title, unit="jiwa", lang=lang)


def test_sweep_chart_is_a_deterministic_png_with_gain_bars() -> None:
    png = _sweep()
    pixels = _pixels(png)
    assert pixels.shape[1] == 8 * CHART_DPI and pixels.shape[0] > 600  # two panels
    assert _sweep() == png
    assert _sweep(lang="en") != png
    bars = np.array([0x1F, 0x6F, 0xB2])  # the gain bars' colour

    def bar_pixels(p: np.ndarray) -> int:
        return int((np.abs(p.astype(int) - bars).sum(axis=2) < 30).sum())

    # the gain bars are drawn
    assert bar_pixels(pixels) > 1000
    assert _pixels(_sweep(title="$x^2$ \\frac")).shape == pixels.shape  # data, not mathtext
