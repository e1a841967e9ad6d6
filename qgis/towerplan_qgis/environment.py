"""Find the towerplan library for QGIS's Python.

QGIS runs its own Python (OSGeo4W's on Windows, the system's on Debian/Ubuntu, the bundled one
on macOS). towerplan is installed for that Python, either directly or in a separate
environment whose ``site-packages`` folder is then named here:

1. ``import towerplan`` as QGIS's Python finds it: the environment is first on QGIS's Python
   path (``PYTHONPATH``, set before QGIS starts; ``qgis/setup_env.sh`` prints it). This is the
   reliable way: QGIS imports NumPy itself before any plugin loads;
2. else each folder of the environment variable ``TOWERPLAN_SITE_PACKAGES`` (``os.pathsep``
   separated), and the default environment ``towerplan-qgis`` in the user's data folder
   (``~/.local/share/towerplan-qgis`` on Linux and macOS, ``%APPDATA%\\towerplan-qgis`` on
   Windows), is added in front of ``sys.path`` (with its ``.pth`` files) and the import is
   tried again.

Nothing else of the library is copied here: the algorithms call it.
"""

import os
import site
import sys
import sysconfig

#: Oldest towerplan release whose API the algorithms call.
MIN_VERSION = (0, 1, 0)
ENV_VAR = "TOWERPLAN_SITE_PACKAGES"

INSTALL_HINT = (
    "install towerplan for QGIS's Python (docs/qgis.md): on Debian/Ubuntu run "
    "qgis/setup_env.sh and start QGIS with the PYTHONPATH it prints, "
    "on Windows in the OSGeo4W Shell 'python -m pip install towerplan', on macOS "
    "'/Applications/QGIS.app/Contents/MacOS/bin/python3 -m pip install --user towerplan'; "
    f"or set {ENV_VAR} to the site-packages folder of an environment that has it"
)


class TowerplanUnavailableError(RuntimeError):
    """towerplan cannot be imported, or is older than :data:`MIN_VERSION`."""


def default_site_dirs():
    """The site-packages folders of the default ``towerplan-qgis`` environment."""
    if sys.platform == "win32":
        root = os.path.join(os.environ.get("APPDATA", ""), "towerplan-qgis")
        return [os.path.join(root, "Lib", "site-packages")]
    root = os.path.join(os.path.expanduser("~"), ".local", "share", "towerplan-qgis")
    tail = sysconfig.get_path("purelib", vars={"base": root, "platbase": root})
    return [tail]


def _add_site_dirs(dirs):
    for path in dirs:
        if path and os.path.isdir(path) and path not in sys.path:
            before = list(sys.path)
            site.addsitedir(path)
            added = [p for p in sys.path if p not in before]
            sys.path[:] = added + before  # the environment's packages come first


def _version_tuple(text):
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts + [0] * (3 - len(parts)))


def load_towerplan():
    """Import towerplan (see the module documentation) and return the module.

    Raises
    ------
    TowerplanUnavailableError
        With one line saying what is missing and how to install it.
    """
    try:
        import towerplan
    except ImportError:
        extra = [p for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
        _add_site_dirs(extra + default_site_dirs())
        try:
            import towerplan
        except ImportError as exc:
            reason = " ".join(str(exc).split())
            msg = f"the towerplan library cannot be imported in QGIS's Python ({reason}); "
            raise TowerplanUnavailableError(msg + INSTALL_HINT) from exc
    numpy = sys.modules.get("numpy")
    if numpy is not None and _version_tuple(numpy.__version__) < (1, 26, 0):
        msg = (f"QGIS loaded NumPy {numpy.__version__} (from {os.path.dirname(numpy.__file__)}) "
               "before the towerplan environment, which needs NumPy 1.26 or newer: start QGIS "
               "with that environment first on PYTHONPATH (docs/qgis.md)")
        raise TowerplanUnavailableError(msg)
    found = getattr(towerplan, "__version__", "0")
    if _version_tuple(found) < MIN_VERSION:
        need = ".".join(str(v) for v in MIN_VERSION)
        msg = (f"towerplan {found} is too old for this plugin (needs {need} or newer); "
               "upgrade it with pip install --upgrade towerplan in QGIS's Python")
        raise TowerplanUnavailableError(msg)
    return towerplan
