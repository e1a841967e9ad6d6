"""Exceptions and warnings raised by towerplan.

Every error a user can cause derives from :class:`TowerplanError`; the command line turns it
into one line on stderr and exit code 2. Subclasses also inherit the closest builtin so callers
of the library can catch ``ValueError`` or ``OSError`` as usual.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CRSMismatchError",
    "DEMCoverageError",
    "DiskFullError",
    "ExecutorError",
    "InfeasibleSelectionError",
    "InputDataError",
    "InputFileError",
    "InsufficientResourcesError",
    "MissingDependencyError",
    "ModelDomainError",
    "ModelValidityWarning",
    "NodataRepairWarning",
    "OutputError",
    "ScenarioError",
    "TowerplanError",
    "TowerplanWarning",
]


class TowerplanError(Exception):
    """Root of all towerplan errors."""


class ScenarioError(TowerplanError, ValueError):
    """A scenario file is unreadable, has an unknown key or an invalid value."""


class InputFileError(TowerplanError, OSError):
    """An input file is missing or cannot be read."""


class InputDataError(TowerplanError, ValueError):
    """An input file was read but its content is unusable (no CRS, duplicate codes, ...)."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class CRSMismatchError(InputDataError):
    """Two layers cannot be combined because of their coordinate reference systems."""


class DEMCoverageError(InputDataError):
    """The terrain does not cover the area of interest."""


class ModelDomainError(TowerplanError, ValueError):
    """A radio model is used outside its validity range."""


class InfeasibleSelectionError(TowerplanError, ValueError):
    """No selection satisfies the budget and constraints.

    ``shortfalls`` holds one entry per village whose minimum share cannot be met (objects
    with ``village``, ``required`` and ``reachable``); ``details`` holds lines the command
    line prints below the message, one each.
    """

    def __init__(self, message: str, status: str = "infeasible", *,
                 shortfalls: tuple[Any, ...] = (), details: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.shortfalls = shortfalls
        self.details = details


class OutputError(TowerplanError, OSError):
    """Outputs cannot be written (directory not writable, exists without --overwrite, ...)."""


class DiskFullError(OutputError):
    """The disk filled up (or a quota was reached) while outputs were written.

    ``directory`` is where the outputs were going; ``free_bytes`` the space left there.
    """

    def __init__(self, message: str, directory: str = "", free_bytes: int = 0) -> None:
        super().__init__(message)
        self.directory = directory
        self.free_bytes = free_bytes


class InsufficientResourcesError(TowerplanError, MemoryError):
    """A run would need more memory or disk than the machine has (estimated before work)."""


class ExecutorError(TowerplanError, RuntimeError):
    """The executor of ``[compute] scheduler`` failed: a worker process died, or the Dask
    scheduler cannot be reached. Finished batches are in the stage cache; a new run reuses
    them."""


class MissingDependencyError(TowerplanError, ImportError):
    """An optional library or a system library an output needs is not installed.

    The message names what to install. A plan skips the output that needs it (and says so)
    and writes the others.
    """


class TowerplanWarning(UserWarning):
    """Root of towerplan warnings."""


class ModelValidityWarning(TowerplanWarning):
    """A radio model was evaluated outside its validity range (``strict=False``)."""


class NodataRepairWarning(TowerplanWarning):
    """Nodata holes in a raster were filled by interpolation."""
