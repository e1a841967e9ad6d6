"""The plugin object: registers the towerplan Processing provider."""

from qgis.core import QgsApplication


class TowerplanPlugin:
    """Adds the provider "towerplan" to the Processing toolbox (GUI and ``qgis_process``)."""

    def __init__(self, iface=None):
        self.iface = iface
        self.provider = None

    def initProcessing(self):  # noqa: N802 - QGIS API
        from .provider import TowerplanProvider

        self.provider = TowerplanProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802 - QGIS API
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
