"""The audit core on small matrices: audited sites from the candidates or from outside them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from towerplan.analysis.audit import audit_sites
from towerplan.analysis.selection import select_sites
from towerplan.analysis.village_lookup import find_villages
from towerplan.errors import InputDataError

# The budgeted-coverage trap of DESIGN.md section 4 (optimum 11 for budget 10).
A = sp.csr_matrix(np.array([[0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [1, 1, 0, 0, 0],
                            [0, 0, 1, 1, 1]], bool))
W = np.array([3.0, 5, 1, 1, 1])
C = np.array([1.0, 1, 5, 5])


def test_audit_of_candidates_against_the_trap_optimum() -> None:
    r = audit_sites(A, W, C, [0, 1], 10, np.array([0, 0, 1, 1, 2]))
    assert r.objective == 6.0 and r.cost == 2.0
    assert r.optimum.objective == 11.0 and r.optimum.sites == (2, 3)
    assert r.share_of_optimum == pytest.approx(6 / 11)
    assert r.villages_only_optimum == (2,)  # units 3 and 4 are only reached by site 3
    assert r.villages_only_audit == ()


def test_extra_sites_join_the_pool_so_the_audit_never_beats_the_optimum() -> None:
    extra = sp.csr_matrix(np.array([[1, 1, 1, 1, 1]], bool))  # one site covering everything
    r = audit_sites(A, W, C, [4], 10, np.arange(5), extra_coverage=extra,
                    extra_costs=np.array([3.0]))
    assert r.objective == 11.0 and r.cost == 3.0
    assert r.optimum.objective == 11.0
    assert r.share_of_optimum == 1.0
    assert r.optimum.cost <= 10


def test_an_extra_site_equal_to_a_candidate_changes_no_figure() -> None:
    by_index = audit_sites(A, W, C, [3], 10, np.arange(5))
    by_row = audit_sites(A, W, C, [4], 10, np.arange(5), extra_coverage=A[[3]],
                         extra_costs=C[[3]])
    assert (by_row.objective, by_row.cost) == (by_index.objective, by_index.cost)
    assert by_row.optimum.objective == by_index.optimum.objective
    assert by_row.share_of_optimum == by_index.share_of_optimum


def test_already_covered_units_count_for_neither() -> None:
    covered = np.array([False, True, False, False, False])
    r = audit_sites(A, W, C, [0], 10, np.arange(5), covered)
    assert r.objective == 0.0  # site 0 only reaches unit 1, already served
    assert r.optimum.objective == select_sites(A, W, C, 10, covered).objective == 6.0


def test_match_villages_by_name_or_code_and_reports_every_problem() -> None:
    villages = pd.DataFrame({"name": ["Muara Toyu", "Belimbing", "Belimbing"],
                             "code": ["64.01.08.2008", "64.01.06.2012", "64.01.01.2001"]})
    assert find_villages(villages, ["muara toyu ", "64.01.06.2012"]) == [0, 1]
    with pytest.raises(InputDataError) as err:
        find_villages(villages, ["Nowhere", "Belimbing"])
    assert len(err.value.problems) == 2
    assert "no village named 'Nowhere'" in str(err.value)
    assert "ambiguous (64.01.06.2012, 64.01.01.2001)" in str(err.value)


def test_audit_village_names_accept_register_spellings_and_suggest() -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    villages = gpd.GeoDataFrame(
        {"name": ["Muara Toyu", "Belimbing", "Sungai Langir"],
         "code": ["64.01.08.2008", "64.01.06.2012", "64.01.01.2001"]},
        geometry=[Point(0, 0), Point(1, 0), Point(2, 0)], crs="EPSG:32750")
    assert find_villages(villages, ["Desa Muara Toyu", "BELIMBING", "64.01.01.2001"]) == [0, 1, 2]
    with pytest.raises(InputDataError,
                       match=r"no village named 'Muara Toyo' \(did you mean Muara Toyu"):
        find_villages(villages, ["Muara Toyo"])
