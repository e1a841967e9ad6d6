"""Backhaul benchmark: hop checks and both backhaul models on the synthetic demo.

Run as ``python benchmarks/backhaul.py``. For the default demo, a denser candidate grid
(more than 1,000 candidates) and the demo at 13 GHz it prints the candidates, the hop pairs
checked, the feasible hops, the time of the hop stage (pairs, budget pass, terrain
clearance, per-site Dijkstra) and of the joint MILP. Target: the backhaul stage adds at most
60 s to ``towerplan plan`` on the demo.
"""

from __future__ import annotations

import dataclasses
import time

from towerplan.analysis.backhaul_choice import finish_backhaul
from towerplan.analysis.backhaul_plan import plan_backhaul
from towerplan.analysis.selection_plan import select_many
from towerplan.pipeline.assemble import selection_problem
from towerplan.pipeline.plan import current_state, new_run
from towerplan.scenario import Scenario

TARGET_S = 60.0


def run(label: str, scenario: Scenario) -> None:
    run_ = new_run(scenario, cache=False)
    state = current_state(run_)
    fixed = selection_problem(state, run_.get("candidates"), run_.get("candidate_coverage"))
    t0 = time.perf_counter()
    plan, costed = plan_backhaul(scenario, state.data, fixed.candidates)
    t_hops = time.perf_counter() - t0
    problem = dataclasses.replace(fixed, candidates=costed)
    (selection, _), = select_many(scenario.selection, problem, [scenario.budget.total_idr],
                                  covered_at_least=scenario.coverage.covered_at_least)
    t1 = time.perf_counter()
    _, outcome, _ = finish_backhaul(plan, scenario, problem, selection)
    t_finish = time.perf_counter() - t1
    s = outcome.summary
    total = t_hops + t_finish
    print(f"{label}: {s['candidates']} candidates, {s['existing_towers']} existing towers, "
          f"{s['points_of_presence']} PoPs")
    print(f"  hop pairs checked {s['hop_pairs_checked']:,} ({s['hop_pairs_site_to_site']:,} "
          f"site-to-site), feasible {s['hops_feasible']:,}; per-site technologies "
          f"{s['candidates_by_technology']}")
    verdict = "met" if total <= TARGET_S else "missed"
    print(f"  hop stage {t_hops:.1f} s ({s['hop_pairs_checked'] / t_hops:,.0f} pairs/s); joint "
          f"MILP ({s['arcs_joint_model']:,} arcs) and comparison {t_finish:.1f} s; backhaul "
          f"adds {total:.1f} s (target <= {TARGET_S:g} s: {verdict})")
    ps, jt = s["per-site"], s.get("joint")
    line = (f"  per-site: {ps['towers']} towers, demand {ps['demand_covered']:,.0f}, "
            f"Rp {ps['total_cost_idr'] / 1e9:.2f} bn")
    if jt:
        line += (f"; joint: {jt['towers']} towers, demand {jt['demand_covered']:,.0f}, "
                 f"Rp {jt['total_cost_idr'] / 1e9:.2f} bn")
    print(line)


def main() -> None:
    demo = Scenario.default()
    run("demo", demo)
    dense = dataclasses.replace(demo, candidates=dataclasses.replace(demo.candidates,
                                                                     grid_spacing_m=3000.0))
    run("demo, 3 km candidate grid", dense)
    band13 = dataclasses.replace(demo, backhaul=dataclasses.replace(demo.backhaul,
                                                                   band_ghz=13.0))
    run("demo at 13 GHz (shorter hops: relays matter)", band13)


if __name__ == "__main__":
    main()
