"""Downloads with retries, resume and a verified cache.

Every request of :mod:`towerplan.fetch` goes through :func:`download`: retries with exponential
backoff on HTTP 429, 5xx and connection errors (``Retry-After`` honoured), resume of a partial
``.part`` file with an HTTP ``Range`` request, a size check against ``Content-Length`` and a
checksum check when the server sends one (``Content-MD5``, ``Repr-Digest``/``Digest``
SHA-256). :class:`Cache` keeps verified files with their provenance and answers offline runs.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import http.client
import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from towerplan._version import __version__
from towerplan.errors import InputFileError
from towerplan.io.atomic import atomic_output

__all__ = [
    "USER_AGENT",
    "Cache",
    "Download",
    "DownloadError",
    "DownloadProgress",
    "MissingFromCacheError",
    "NotPublishedError",
    "RetryPolicy",
    "download",
    "file_sha256",
    "utc_timestamp",
]

log = logging.getLogger(__name__)

USER_AGENT = f"towerplan/{__version__} (telecom tower planning; python-urllib)"

#: ``progress(label, done_bytes, total_bytes)``; *total_bytes* is None when unknown.
DownloadProgress = Callable[[str, int, int | None], None]

_CHUNK_BYTES = 1 << 20
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class DownloadError(InputFileError):
    """A file could not be downloaded, or what arrived is not what was expected."""

    def __init__(self, message: str, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class NotPublishedError(DownloadError):
    """The server has no such file (HTTP 404/403/410): e.g. a DEM tile over open sea."""

    def __init__(self, message: str, url: str = "", status: int = 404) -> None:
        super().__init__(message, url)
        self.status = status


class MissingFromCacheError(DownloadError):
    """``--offline`` was given and the cache lacks files; :attr:`missing` lists them all."""

    def __init__(self, message: str, missing: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.missing = missing


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a download is retried.

    Attributes
    ----------
    max_attempts : int
        Attempts per file, the first included (default 5).
    backoff_s : float
        Wait before the second attempt, seconds; doubled before each further one (default 2).
    max_delay_s : float
        Longest wait between attempts, seconds, also for ``Retry-After`` (default 120).
    timeout_s : float
        Socket timeout of one request, seconds (default 120).
    sleep : callable
        Function that waits; tests pass one that records the delays.
    """

    max_attempts: int = 5
    backoff_s: float = 2.0
    max_delay_s: float = 120.0
    timeout_s: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            msg = f"max_attempts must be at least 1, got {self.max_attempts}"
            raise ValueError(msg)
        if not (self.backoff_s >= 0 and self.max_delay_s >= 0 and self.timeout_s > 0):
            msg = "backoff_s and max_delay_s must be >= 0 and timeout_s > 0"
            raise ValueError(msg)

    def delay_s(self, attempt: int, retry_after_s: float | None) -> float:
        """Return the wait after failed *attempt* (1-based), seconds.

        Examples
        --------
        >>> policy = RetryPolicy(backoff_s=1.0, max_delay_s=10.0)
        >>> [policy.delay_s(k, None) for k in (1, 2, 3, 4, 5)]
        [1.0, 2.0, 4.0, 8.0, 10.0]
        >>> policy.delay_s(1, 7.0)
        7.0
        """
        wanted = retry_after_s if retry_after_s is not None else self.backoff_s * 2 ** (attempt - 1)
        return float(min(max(wanted, 0.0), self.max_delay_s))


@dataclass(frozen=True, slots=True)
class Download:
    """A verified file and where it came from.

    Attributes
    ----------
    url : str
        Where it was downloaded from.
    path : Path
        Where it is now (in the cache).
    size_bytes : int
        File size.
    sha256 : str
        SHA-256 of the file (hex).
    retrieved : str
        When it was downloaded, ISO 8601 UTC.
    attempts : int
        Requests it took (0 when it came from the cache without a request).
    from_cache : bool
        True when no request was made.
    """

    url: str
    path: Path
    size_bytes: int
    sha256: str
    retrieved: str
    attempts: int = 1
    from_cache: bool = False


class _RetryableError(Exception):
    """One attempt failed in a way another attempt may fix."""

    def __init__(self, reason: str, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


def _open(request: urllib.request.Request, timeout_s: float) -> http.client.HTTPResponse:
    """Send *request*; the one place where towerplan opens a network connection."""
    response: http.client.HTTPResponse = urllib.request.urlopen(request, timeout=timeout_s)
    return response


def download(url: str, dest: str | Path, *, policy: RetryPolicy = RetryPolicy(),  # noqa: B008
             data: bytes | None = None, label: str = "",
             verify: Callable[[Path], None] | None = None,
             progress: DownloadProgress | None = None) -> Download:
    """Download *url* to *dest*, retrying, resuming and verifying.

    The body goes to ``<dest>.part`` first. A GET whose ``.part`` file already holds bytes
    asks for the rest with ``Range: bytes=N-`` (a server that ignores it sends the whole
    file again). Only a complete, verified file is renamed to *dest*.

    Parameters
    ----------
    url : str
        ``http://`` or ``https://`` URL.
    dest : str or Path
        Where the verified file goes; its directory is created.
    policy : RetryPolicy
        Attempts, backoff and timeout.
    data : bytes, optional
        Body of a POST (form-encoded); POSTs are never resumed.
    label : str
        Name of the file in messages and progress (default: the URL's last part).
    verify : callable, optional
        Called with the complete ``.part`` file; raises :class:`DownloadError` when the
        content is unusable. The ``.part`` file is then deleted and nothing is kept.
    progress : callable, optional
        ``progress(label, done_bytes, total_bytes)`` while bytes arrive.

    Returns
    -------
    Download
        The file, its SHA-256, size and the attempts it took.

    Raises
    ------
    NotPublishedError
        HTTP 404, 403 or 410 (not retried).
    DownloadError
        Other HTTP errors, every attempt failing (the message says why and how often), a
        size or checksum mismatch on the last attempt, or *verify* rejecting the file.
    """
    dest = Path(dest)
    label = label or url.rsplit("/", 1)[-1]
    if not url.startswith(("http://", "https://")):
        msg = f"{label}: unsupported URL {url!r}; give an http:// or https:// URL"
        raise DownloadError(msg, url)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    if data is not None:
        part.unlink(missing_ok=True)
    attempt = 0
    while True:
        attempt += 1
        try:
            _attempt(url, part, data=data, policy=policy, label=label, progress=progress)
            break
        except _RetryableError as exc:
            if attempt >= policy.max_attempts:
                msg = (f"{label}: download from {url} failed after {attempt} attempt"
                       f"{'s' if attempt > 1 else ''}: {exc.reason}; try again later or "
                       "raise --max-attempts")
                raise DownloadError(msg, url) from None
            delay = policy.delay_s(attempt, exc.retry_after_s)
            log.info("%s: %s; attempt %d of %d in %.3g s", label, exc.reason, attempt + 1,
                     policy.max_attempts, delay)
            policy.sleep(delay)
    if verify is not None:
        try:
            verify(part)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
    os.replace(part, dest)
    size = dest.stat().st_size
    log.info("%s: %d bytes from %s in %d attempt(s)", label, size, url, attempt)
    return Download(url=url, path=dest, size_bytes=size, sha256=file_sha256(dest),
                    retrieved=utc_timestamp(), attempts=attempt)


def _attempt(url: str, part: Path, *, data: bytes | None, policy: RetryPolicy, label: str,
             progress: DownloadProgress | None) -> None:
    """One request: append to or rewrite *part*; raise :class:`_RetryableError` on a failure."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    if data is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, headers=headers,
                                     method="POST" if data is not None else "GET")
    try:
        response = _open(request, policy.timeout_s)
    except urllib.error.HTTPError as exc:
        exc.close()
        _http_error(exc, url, label, part, offset)
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise _RetryableError(f"connection failed ({reason})") from None
    with response:
        start, expected, whole = _body_range(response, offset, part)
        if start == 0 and offset:
            log.info("%s: server ignored the range request; downloading again", label)
        received = _copy_body(response, part, start=start, expected=expected, label=label,
                              total=whole, progress=progress)
        if expected is not None and received != expected:
            raise _RetryableError(f"connection closed after {start + received:,} of "
                                  f"{start + expected:,} bytes")
        if start == 0:
            _check_digests(response.headers, part)


def _http_error(exc: urllib.error.HTTPError, url: str, label: str, part: Path,
                offset: int) -> None:
    code = exc.code
    if code == 416 and offset:
        part.unlink(missing_ok=True)
        raise _RetryableError("the partial file does not fit the server's file (HTTP 416); "
                              "starting again", 0.0) from None
    if code in (403, 404, 410):
        msg = f"{label}: not published at {url} (HTTP {code})"
        raise NotPublishedError(msg, url, code) from None
    if code in _RETRY_STATUS:
        raise _RetryableError(f"HTTP {code} {exc.reason}",
                              _retry_after_s(exc.headers.get("Retry-After"))) from None
    msg = f"{label}: {url} answered HTTP {code} {exc.reason}"
    raise DownloadError(msg, url) from None


def _body_range(response: http.client.HTTPResponse, offset: int,
                part: Path) -> tuple[int, int | None, int | None]:
    """Return where the body starts in the file, its announced length and the file size."""
    length_text = response.headers.get("Content-Length")
    expected = int(length_text) if length_text and length_text.isdigit() else None
    if response.status == 206 and offset:
        content_range = response.headers.get("Content-Range", "")
        try:
            first = int(content_range.split()[1].split("-")[0])
            total_text = content_range.rsplit("/", 1)[1]
        except (IndexError, ValueError):
            first, total_text = -1, "*"
        if first != offset:
            part.unlink(missing_ok=True)
            raise _RetryableError(f"server answered the range request with {content_range!r}; "
                                  "starting again", 0.0)
        total = int(total_text) if total_text.isdigit() else None
        return offset, expected, total
    return 0, expected, expected


def _copy_body(response: http.client.HTTPResponse, part: Path, *, start: int,
               expected: int | None, label: str, total: int | None,
               progress: DownloadProgress | None) -> int:
    """Write the body to *part* (appending from *start*); return the bytes received."""
    received = 0
    with part.open("ab" if start else "wb") as fh:
        while expected is None or received < expected:
            want = _CHUNK_BYTES if expected is None else min(_CHUNK_BYTES, expected - received)
            try:
                chunk = response.read(want)
            except (OSError, http.client.HTTPException) as exc:
                raise _RetryableError(f"connection lost after {start + received:,} bytes "
                                 f"({exc})") from None
            if not chunk:
                break
            fh.write(chunk)
            received += len(chunk)
            if progress is not None:
                progress(label, start + received, total)
    return received


def _check_digests(headers: Any, path: Path) -> None:
    """Compare a whole file with the checksums the server sent (``Content-MD5``, SHA-256)."""
    md5 = headers.get("Content-MD5")
    wanted: list[tuple[str, str]] = []
    if md5:
        wanted.append(("md5", md5.strip()))
    for name in ("Repr-Digest", "Digest"):
        for item in (headers.get(name) or "").split(","):
            algo, _, value = item.strip().partition("=")
            if algo.lower() == "sha-256" and value:
                wanted.append(("sha256", value.strip().strip(":")))
    for algo, value in wanted:
        digest = hashlib.new(algo)
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(_CHUNK_BYTES), b""):
                digest.update(block)
        got = base64.b64encode(digest.digest()).decode()
        if got != value:
            path.unlink(missing_ok=True)
            raise _RetryableError(f"{algo} checksum mismatch (server says {value}, file has {got})")


def _retry_after_s(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date).

    Examples
    --------
    >>> _retry_after_s("7")
    7.0
    >>> _retry_after_s(None) is None
    True
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def file_sha256(path: str | Path) -> str:
    """Return the SHA-256 of a file, hex."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def utc_timestamp() -> str:
    """Return the current time as ISO 8601 UTC to the second, e.g. ``2025-01-31T08:00:00Z``."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Cache:
    """Downloaded files kept under a folder, each with a ``.meta.json`` record of provenance.

    Files are stored only after they were verified. A ``.absent.json`` record remembers that
    the server does not publish a file (HTTP 404), so offline runs know the difference.

    Parameters
    ----------
    root : Path
        Cache folder (``--cache`` or :func:`towerplan.io.cache.cache_root` / ``fetch``).
    offline : bool
        Never make a request; :meth:`get` raises :class:`MissingFromCacheError` for a file the
        cache lacks (use :meth:`missing` first to list them all).
    refresh : bool
        Download again even when a file is cached.
    policy : RetryPolicy
        Retries of every download.
    progress : callable, optional
        Progress callback of every download.
    """

    def __init__(self, root: str | Path, *, offline: bool = False, refresh: bool = False,
                 policy: RetryPolicy = RetryPolicy(),  # noqa: B008
                 progress: DownloadProgress | None = None) -> None:
        self.root = Path(root)
        self.offline = offline
        self.refresh = refresh
        self.policy = policy
        self.progress = progress

    def path(self, kind: str, name: str) -> Path:
        """Where the file *name* of *kind* (``overpass``, ``dem``, ...) is kept."""
        return self.root / kind / name

    def has(self, kind: str, name: str) -> bool:
        """True when the file is cached, or is known not to be published."""
        path = self.path(kind, name)
        return (path.exists() and _record_path(path).exists()) or _absent_path(path).exists()

    def get(self, url: str, kind: str, name: str, *, data: bytes | None = None,
            label: str = "", verify: Callable[[Path], None] | None = None,
            absent_ok: bool = False) -> Download | None:
        """Return the cached file, downloading it first when needed.

        Parameters
        ----------
        url : str
            Where to download it from.
        kind, name : str
            Cache folder and file name.
        data : bytes, optional
            POST body (the cache key must then depend on it).
        label : str
            Name of the file in messages.
        verify : callable, optional
            Content check of a download (see :func:`download`).
        absent_ok : bool
            True when the server may not publish the file (tiles over sea): HTTP 404/403/410
            then returns None, and a 404 is remembered for offline runs.

        Returns
        -------
        Download or None
            None when *absent_ok* and the server does not publish the file.

        Raises
        ------
        MissingFromCacheError
            Offline and not cached.
        DownloadError
            The download failed or the file did not verify.
        """
        path = self.path(kind, name)
        record, absent = _record_path(path), _absent_path(path)
        if not self.refresh or self.offline:
            if path.exists() and record.exists():
                cached = _read_record(record, path)
                if cached is not None:
                    return cached
            if absent_ok and absent.exists():
                return None
        if self.offline:
            msg = (f"offline: {label or name} is not in the cache {self.root}; run without "
                   "--offline to download it")
            raise MissingFromCacheError(msg, (label or name,))
        try:
            result = download(url, path, policy=self.policy, data=data, label=label or name,
                              verify=verify, progress=self.progress)
        except NotPublishedError as exc:
            if not absent_ok:
                raise
            if exc.status == 404:
                _write_json(absent, {"url": url, "status": exc.status, "checked": utc_timestamp()})
            return None
        absent.unlink(missing_ok=True)
        _write_json(record, {k: str(v) if isinstance(v, Path) else v
                             for k, v in asdict(result).items()
                             if k not in ("path", "from_cache", "attempts")})
        return result


def _record_path(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def _absent_path(path: Path) -> Path:
    return path.with_name(path.name + ".absent.json")


def _read_record(record: Path, path: Path) -> Download | None:
    """Return the cached download, or None when the record or the file does not match."""
    try:
        meta = json.loads(record.read_text(encoding="utf-8"))
        size = path.stat().st_size
        if meta["size_bytes"] != size:
            log.warning("cache: %s has %d bytes, its record says %d; downloading again", path,
                        size, meta["size_bytes"])
            return None
        return Download(url=str(meta["url"]), path=path, size_bytes=size,
                        sha256=str(meta["sha256"]), retrieved=str(meta["retrieved"]),
                        attempts=0, from_cache=True)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("cache: record %s unreadable (%s); downloading again", record, exc)
        return None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
