"""towerplan for QGIS: a Processing provider over the towerplan library."""


def classFactory(iface):  # noqa: N802 - QGIS's plugin entry point
    """Return the plugin object QGIS loads."""
    from .plugin import TowerplanPlugin

    return TowerplanPlugin(iface)
