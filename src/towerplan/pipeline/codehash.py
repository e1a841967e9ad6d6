"""The code a stage depends on, as a hash: part of every stage's cache key.

A stage's code is the module that defines it plus every towerplan module it imports,
directly or through others (found by reading the import statements of their source, at module
level and inside functions; imports under ``if TYPE_CHECKING:`` do not run and are left
out), with the packages that contain them. Their source text, towerplan's version and the
versions of the numerical libraries whose results a stage keeps (NumPy, SciPy, numba,
HiGHS, pandas, GeoPandas, Shapely, pyproj, rasterio) make up the hash. So a change to the
sweep kernel changes the key of every stage that computes coverage, and only of those.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
from collections.abc import Callable, Iterable
from importlib.metadata import PackageNotFoundError, version

from towerplan._version import __version__

__all__ = ["code_hash", "module_closure"]

_ROOT = "towerplan"
#: Libraries whose version can change a stage's numbers.
_LIBRARIES = ("numpy", "scipy", "numba", "highspy", "pandas", "geopandas", "shapely",
              "pyproj", "rasterio")

SourceFn = Callable[[str], bytes]


@functools.cache
def _source(module: str) -> bytes:
    """Source bytes of a towerplan module (b"" when it has none; read once per process)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return b""
    with open(spec.origin, "rb") as fh:
        return fh.read()


@functools.cache
def _is_package(module: str) -> bool:
    spec = importlib.util.find_spec(module)
    return spec is not None and spec.submodule_search_locations is not None


@functools.cache
def _exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


def _import_nodes(body: list[ast.stmt]) -> Iterable[ast.Import | ast.ImportFrom]:
    """The import statements of *body* and of the statements nested in it, except those
    under ``if TYPE_CHECKING:`` (imports are statements: expressions are not searched)."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
            continue
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _import_nodes(node.orelse)
            continue
        for field in _BODIES:
            for child in getattr(node, field, ()):
                if isinstance(child, ast.ExceptHandler | ast.match_case):
                    yield from _import_nodes(child.body)
                else:
                    yield from _import_nodes([child])


def imported_modules(module: str, source: bytes) -> list[str]:
    """The towerplan modules *module* imports (anywhere but under ``TYPE_CHECKING``)."""
    return list(_imports(module, source))


@functools.lru_cache(maxsize=4096)
def _imports(module: str, source: bytes) -> tuple[str, ...]:
    """:func:`imported_modules`, parsed once per module and source text in a process."""
    tree = ast.parse(source)
    package = module if _is_package(module) else module.rpartition(".")[0]
    found: list[str] = []
    for node in _import_nodes(tree.body):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        else:
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            found.append(base)
            found.extend(f"{base}.{alias.name}" for alias in node.names)
    out = []
    for name in found:
        if name != _ROOT and not name.startswith(_ROOT + "."):
            continue
        while name and not _exists(name):  # "pkg.mod.function" -> "pkg.mod"
            name = name.rpartition(".")[0]
        if name:
            out.append(name)
    return tuple(out)


def _parents(module: str) -> Iterable[str]:
    parts = module.split(".")
    for k in range(1, len(parts)):
        yield ".".join(parts[:k])


def module_closure(module: str, *, source: SourceFn = _source) -> tuple[str, ...]:
    """*module* and every towerplan module it depends on, sorted."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(_parents(name))
        todo.extend(imported_modules(name, source(name)))
    return tuple(sorted(seen))


def _library_versions() -> str:
    out = []
    for lib in _LIBRARIES:
        try:
            out.append(f"{lib}={version(lib)}")
        except PackageNotFoundError:
            out.append(f"{lib}=-")
    return ";".join(out)


@functools.cache
def _default_hash(module: str) -> str:
    return _hash(module, _source)


def _hash(module: str, source: SourceFn) -> str:
    digest = hashlib.sha256(f"towerplan={__version__};{_library_versions()}".encode())
    for name in module_closure(module, source=source):
        digest.update(b"\x00" + name.encode() + b"\x00")
        digest.update(source(name))
    return digest.hexdigest()[:32]


def code_hash(module: str, *, source: SourceFn | None = None) -> str:
    """Hash of the code *module* depends on (see the module documentation).

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"towerplan.pipeline.stages.coverage"``.
    source : callable, optional
        ``source(module) -> bytes``; default reads the installed source files (computed once
        per process).
    """
    return _default_hash(module) if source is None else _hash(module, source)
