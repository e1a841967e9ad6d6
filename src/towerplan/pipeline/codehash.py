"""The code a stage depends on, as a hash: part of every stage's cache key.

A stage's code is the module that defines it plus every towerplan module it imports,
directly or through others (found by reading the import statements of their source, at module
level and inside functions; imports under ``if TYPE_CHECKING:`` do not run and are left
out), with the packages that contain them. Their source text, towerplan's version and the
versions of the numerical libraries whose results a stage keeps (NumPy, SciPy, numba,
HiGHS, pandas, GeoPandas, Shapely, pyproj, rasterio) make up the hash. So a change to the
sweep kernel changes the key of every stage that computes coverage, and only of those.

Reading the import statements means parsing each module's source (about 0.6 s for the plan's
modules). A run with a stage store keeps what it found, per SHA-256 of a module's name and
source text, in ``<store>/code-imports.json`` (:func:`remember_in`), so the next run parses
only the modules whose source changed. A damaged or foreign file there is ignored.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import importlib.util
import json
from collections.abc import Callable, Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from towerplan._version import __version__
from towerplan.io.atomic import atomic_output

__all__ = ["code_hash", "module_closure", "remember_in"]

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


#: Names found in the import statements of a module, per SHA-256 of its name and source.
_FOUND: dict[str, list[str]] = {}
#: The file of :func:`remember_in` and how many entries it holds (as read or last written).
_MEMO: dict[str, tuple[Path, int]] = {}
_MEMO_FORMAT = 1


def remember_in(path: Path) -> None:
    """Take the import statements found in earlier runs from the JSON file *path* (read once
    per process) and keep new findings there (:func:`save_found`)."""
    if "file" in _MEMO and _MEMO["file"][0] == path:
        return
    read = 0
    with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") == _MEMO_FORMAT and data.get("towerplan") == __version__:
            stored = {str(k): [str(n) for n in v] for k, v in data["found"].items()
                      if isinstance(v, list)}
            _FOUND.update(stored)
            read = len(stored)
    _MEMO["file"] = (path, read)


def save_found() -> None:
    """Write the findings to the file of :func:`remember_in` when some are new (atomically;
    a folder that cannot be written only costs the next run the parse)."""
    if "file" not in _MEMO:
        return
    path, known = _MEMO["file"]
    if len(_FOUND) == known:
        return
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(path) as tmp:
            Path(tmp).write_text(json.dumps({"format": _MEMO_FORMAT, "towerplan": __version__,
                                             "found": _FOUND}), encoding="utf-8")
    _MEMO["file"] = (path, len(_FOUND))


def _statements(module: str, source: bytes) -> list[str]:
    """The towerplan module names of the import statements of *module* (anywhere but under
    ``TYPE_CHECKING``; ``from a import b`` gives ``a`` and ``a.b``), relative ones
    resolved."""
    digest = hashlib.sha256(module.encode() + b"\0" + source).hexdigest()
    if digest in _FOUND:
        return _FOUND[digest]
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
    _FOUND[digest] = ours = [n for n in found if n == _ROOT or n.startswith(_ROOT + ".")]
    return ours


@functools.lru_cache(maxsize=4096)
def _imports(module: str, source: bytes) -> tuple[str, ...]:
    """:func:`imported_modules`, found once per module and source text in a process."""
    out = []
    for name in _statements(module, source):
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
