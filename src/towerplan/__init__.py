"""towerplan: terrain-aware planning of telecom towers for blank-spot villages.

The public API is small: load a scenario, run the plan, read the result.

>>> from towerplan import load_scenario
>>> load_scenario().budget.total_idr
8500000000.0
"""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("towerplan")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

from towerplan.errors import TowerplanError
from towerplan.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    from towerplan.pipeline import plan, run_plan

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["Scenario", "TowerplanError", "__version__", "load_scenario", "plan", "run_plan"]


def __getattr__(name: str) -> Any:
    """Import the pipeline lazily so ``import towerplan`` stays light."""
    if name in ("run_plan", "plan"):
        from towerplan import pipeline

        return getattr(pipeline, name)
    msg = f"module 'towerplan' has no attribute {name!r}"
    raise AttributeError(msg)
