"""The installed towerplan version (``0+unknown`` in a source tree that is not installed)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("towerplan")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"
