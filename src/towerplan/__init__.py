"""towerplan: terrain-aware planning of telecom towers for blank-spot villages.

The public API is small: load a scenario, run the plan, read the result.

>>> from towerplan import load_scenario
>>> load_scenario().budget.total_idr
8500000000.0

``run_plan`` (:func:`towerplan.commands.plan.run_plan`) computes and writes every output;
``plan`` (:func:`towerplan.pipeline.plan.plan`) computes without writing. These and
``Scenario`` and ``load_scenario`` (:mod:`towerplan.scenario`, which loads the radio models
and numba) are imported on first use, so ``import towerplan``, and a submodule that needs
none of them (the PDF renderer's child process), stays light.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from towerplan._version import __version__
from towerplan.errors import TowerplanError

if TYPE_CHECKING:
    from towerplan.commands.plan import run_plan
    from towerplan.pipeline.plan import plan
    from towerplan.scenario import Scenario, load_scenario

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["Scenario", "TowerplanError", "__version__", "load_scenario", "plan", "run_plan"]

_LAZY = {"run_plan": "towerplan.commands.plan", "plan": "towerplan.pipeline.plan",
         "Scenario": "towerplan.scenario", "load_scenario": "towerplan.scenario"}


def __getattr__(name: str) -> Any:
    """The scenario and the entry points of the plan, imported on first use."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    msg = f"module 'towerplan' has no attribute {name!r}"
    raise AttributeError(msg)
