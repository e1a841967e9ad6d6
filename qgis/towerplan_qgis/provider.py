"""The Processing provider "towerplan"."""

import os

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .algorithms import ALGORITHMS
from .environment import TowerplanUnavailableError, load_towerplan


class TowerplanProvider(QgsProcessingProvider):
    """Lists the towerplan algorithms; each needs the towerplan library when it runs."""

    def id(self):
        return "towerplan"

    def name(self):
        return "towerplan"

    def longName(self):  # noqa: N802 - QGIS API
        try:
            return f"towerplan {load_towerplan().__version__}"
        except TowerplanUnavailableError:
            return "towerplan (library not installed)"

    def icon(self):
        path = os.path.join(os.path.dirname(__file__), "icon.svg")
        return QIcon(path) if os.path.exists(path) else QgsProcessingProvider.icon(self)

    def loadAlgorithms(self):  # noqa: N802 - QGIS API
        for algorithm in ALGORITHMS:
            self.addAlgorithm(algorithm())
