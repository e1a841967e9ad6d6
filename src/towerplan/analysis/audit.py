"""The audit of a past decision: a given set of sites against the optimum for the same budget.

Works on matrices only, like :mod:`towerplan.analysis.selection`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from towerplan.analysis.selection import SelectionResult, covered_weight, select_sites

__all__ = ["AuditResult", "audit_sites"]


@dataclass(frozen=True, slots=True)
class AuditResult:
    """A given choice of sites compared with the optimum.

    Attributes
    ----------
    sites : tuple of int
        The audited sites.
    objective : float
        Demand weight the audited sites newly cover.
    cost : float
        Their total cost.
    optimum : SelectionResult
        The exact optimum for the same budget.
    share_of_optimum : float
        ``objective / optimum.objective`` (1 when both are 0).
    villages_only_optimum : tuple of int
        Villages that gain coverage under the optimum but not under the audited choice.
    villages_only_audit : tuple of int
        Villages that gain coverage under the audited choice but not under the optimum.
    """

    sites: tuple[int, ...]
    objective: float
    cost: float
    optimum: SelectionResult
    share_of_optimum: float
    villages_only_optimum: tuple[int, ...]
    villages_only_audit: tuple[int, ...]


def _gaining_villages(a: sp.csr_matrix, weights: np.ndarray, covered: np.ndarray,
                      sites: Sequence[int], unit_village: np.ndarray) -> set[int]:
    if not len(sites):
        return set()
    hit = (np.asarray(a[list(sites)].sum(axis=0)).ravel() > 0) & ~covered & (weights > 0)
    return {int(v) for v in np.unique(unit_village[hit]) if v >= 0}


def audit_sites(coverage: sp.spmatrix, weights: np.ndarray, costs: np.ndarray,
                sites: Sequence[int], budget: float, unit_village: np.ndarray,
                covered: np.ndarray | None = None, *,
                time_limit_s: float | None = None) -> AuditResult:
    """Compare *sites* with the exact optimum for *budget*.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> a = sp.csr_matrix(np.array([[0,1,0,0,0],[0,0,1,0,0],[1,1,0,0,0],[0,0,1,1,1]], bool))
    >>> r = audit_sites(a, np.array([3.,5,1,1,1]), np.array([1.,1,5,5]), [0, 1], 10,
    ...                 np.arange(5))
    >>> r.objective, r.optimum.objective, round(r.share_of_optimum, 3)
    (6.0, 11.0, 0.545)
    """
    a = sp.csr_matrix(coverage, dtype=bool)
    w = np.asarray(weights, dtype=float)
    cov = np.zeros(a.shape[1], bool) if covered is None else np.asarray(covered, bool)
    w_new = np.where(cov, 0.0, w)
    chosen = tuple(sorted(int(j) for j in sites))
    objective = covered_weight(a, w_new, chosen)
    optimum = select_sites(a, w, costs, budget, cov, "milp", time_limit_s=time_limit_s)
    share = objective / optimum.objective if optimum.objective > 0 else 1.0
    audit_v = _gaining_villages(a, w, cov, chosen, unit_village)
    opt_v = _gaining_villages(a, w, cov, optimum.sites, unit_village)
    return AuditResult(chosen, objective, float(np.asarray(costs)[list(chosen)].sum()),
                       optimum, share, tuple(sorted(opt_v - audit_v)),
                       tuple(sorted(audit_v - opt_v)))
