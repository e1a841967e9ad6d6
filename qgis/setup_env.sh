#!/usr/bin/env bash
# The towerplan environment for Debian/Ubuntu's QGIS:  qgis/setup_env.sh [DIR] [PACKAGE]
#
# DIR (default ~/.local/share/towerplan-qgis) becomes a virtual environment of the system's
# python3 (the Python QGIS runs) that also sees the system's packages, with PACKAGE (default
# "towerplan" from PyPI; "." or a path installs a checkout) installed into it, and:
#   - NumPy below 2, since Debian's GDAL and QGIS Python modules are built against NumPy 1;
#   - attrs 23.2 or newer (affine needs it; Debian 12 ships 22.2);
#   - pyproj, shapely, pyogrio and rasterio built from source against the system's PROJ,
#     GEOS and GDAL (packages libproj-dev, libgeos-dev, libgdal-dev), the libraries QGIS
#     itself uses: their wheels carry their own copies, and two copies of one library in the
#     QGIS process mix (shapely's GEOS calls reach QGIS's older GEOS) or crash it when it
#     exits (two PROJ). pyproj 3.6 is the last release that builds on PROJ 9.1 (Debian 12),
#     with Cython below 3.1. Building takes a few minutes.
# QGIS then finds towerplan when started with the environment first on its Python path,
# which the script prints (docs/qgis.md).
set -euo pipefail

dir="${1:-$HOME/.local/share/towerplan-qgis}"
package="${2:-towerplan}"
python=/usr/bin/python3

if ! "$python" -c "import qgis.core" 2>/dev/null; then
  echo "QGIS's Python modules are missing: apt-get install qgis python3-qgis" >&2
  exit 2
fi
for header in /usr/include/proj.h /usr/include/geos_c.h /usr/include/gdal/gdal.h; do
  if [ ! -e "$header" ]; then
    echo "$header is missing: apt-get install libproj-dev libgeos-dev libgdal-dev" >&2
    exit 2
  fi
done

"$python" -m venv --system-site-packages "$dir"
pip=("$dir/bin/python" -m pip)
"${pip[@]}" install -q --upgrade pip
"${pip[@]}" install -q "numpy>=1.26,<2"
# pyproj 3.6 with Cython 3.1 builds but fails at run time: build it with an older Cython
"${pip[@]}" install -q "cython>=3.0,<3.1" setuptools wheel
"${pip[@]}" install -q --no-cache-dir --no-build-isolation --no-binary pyproj \
  "pyproj>=3.6,<3.7"
"${pip[@]}" install -q --no-binary shapely,pyogrio,rasterio "numpy>=1.26,<2" \
  "shapely>=2.0" "pyogrio>=0.7" "rasterio>=1.3.9"
"${pip[@]}" install -q "$package" "numpy>=1.26,<2" "attrs>=23.2" "pyproj>=3.6,<3.7"

site="$("$dir/bin/python" -c 'import os, sys; print(os.pathsep.join(p for p in sys.path if p and not p.startswith(sys.base_prefix)))')"
echo "towerplan environment ready: $dir"
echo "start QGIS with:  PYTHONPATH=$site qgis"
echo "or set PYTHONPATH (prepend) = $site in QGIS: Settings > Options > System > Environment"
