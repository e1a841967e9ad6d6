"""HTML to PDF with WeasyPrint, in this process or in a child process beside the other writers.

WeasyPrint lays pages out in Python, holding the GIL: the report of a kabupaten plan takes
4-6 s, the longest of all writers. :func:`start_pdf` renders it in a child Python process
(``python -m towerplan.outputs.pdf_render``: the HTML on its stdin, the PDF on its stdout)
while the parent writes the map, workbook, GeoPackage and rasters; the child may start
before the HTML is rendered, importing WeasyPrint meanwhile; :meth:`PendingPdf.result`
collects the bytes. The child sees only the HTML string and uses the same local-only URL
fetcher, so the PDF is the one :func:`html_to_pdf` makes in-process. The child is only a
speed-up: where none can be started (an embedding interpreter whose executable is not
Python) or it fails for any reason but a missing WeasyPrint or Pango, the PDF is rendered
in-process when collected.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from towerplan.errors import MissingDependencyError, OutputError

__all__ = ["PendingPdf", "html_to_pdf", "local_url_fetcher", "start_pdf"]

log = logging.getLogger(__name__)

#: Exit status of the child when WeasyPrint or Pango is missing (its stderr says which).
_MISSING = 3
#: The child is stopped after this long, s.
_TIMEOUT_S = 900.0


def _weasyprint() -> Any:
    """Import WeasyPrint, or say what to install."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:
        reason = " ".join(str(exc).split())[:200]
        msg = (f"report.pdf needs WeasyPrint and the Pango library ({reason}); "
               "install them with: pip install 'weasyprint>=60' and, on Debian/Ubuntu, "
               "apt-get install libpango-1.0-0 libpangoft2-1.0-0")
        raise MissingDependencyError(msg) from exc
    return weasyprint


def local_url_fetcher() -> Any:
    """Return a WeasyPrint URL fetcher that serves ``data:`` URLs and refuses all others.

    The report embeds its charts; any other reference (``http``, ``https``, ``file``, ...)
    is refused, so rendering never touches the network or the file system.
    """
    weasyprint = _weasyprint()
    urls = weasyprint.urls

    def refuse(url: str) -> None:
        if not url.startswith("data:"):
            msg = f"report.pdf uses local resources only; refused to fetch {url[:80]}"
            raise ValueError(msg)

    fetcher_class = getattr(urls, "URLFetcher", None)
    if fetcher_class is None:  # older WeasyPrint: a plain function returning a dict
        def fetch(url: str, *args: Any, **kwargs: Any) -> Any:
            refuse(url)
            return urls.default_url_fetcher(url, *args, **kwargs)

        return fetch

    class _LocalFetcher(fetcher_class):  # type: ignore[misc,valid-type]
        def fetch(self, url: str, headers: Any = None) -> Any:
            refuse(url)
            return super().fetch(url, headers)

    return _LocalFetcher(allowed_protocols=("data",))


def html_to_pdf(html: str) -> bytes:
    """The PDF of *html*, rendered in this process with local resources only.

    Raises MissingDependencyError when WeasyPrint or Pango is missing.
    """
    weasyprint = _weasyprint()
    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=local_url_fetcher())
    return bytes(document.write_pdf())


class PendingPdf:
    """A PDF being rendered by a child process (or, without one, rendered on collection).

    The child may start before its HTML exists (:func:`start_pdf` without it): it imports
    WeasyPrint meanwhile, and :meth:`send` hands it the HTML.
    """

    def __init__(self, html: str | None, proc: subprocess.Popen[bytes] | None) -> None:
        self._html = ""
        self._proc = proc
        self._out: tuple[bytes, bytes] | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if html is not None:
            self.send(html)

    def send(self, html: str) -> None:
        """Give the child the HTML to render (once)."""
        self._html = html
        if self._proc is not None and self._thread is None:
            self._thread = threading.Thread(target=self._talk, name="report-pdf", daemon=True)
            self._thread.start()

    def cancel(self) -> None:
        """Stop a child that will get no HTML."""
        if self._proc is not None and self._thread is None:
            self._proc.kill()
            self._proc.communicate()

    def _talk(self) -> None:
        assert self._proc is not None
        try:
            self._out = self._proc.communicate(self._html.encode("utf-8"), timeout=_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            self._proc.kill()
            self._proc.communicate()
            self._error = exc
        except OSError as exc:  # the child died before it read its input
            self._error = exc

    def result(self) -> bytes:
        """The PDF's bytes, once rendered.

        Raises
        ------
        MissingDependencyError
            WeasyPrint or Pango is missing (in the child: the same message).
        OutputError
            The child ran over its time.

        A child that fails otherwise (or cannot be talked to) costs nothing but time: the
        PDF is then rendered in this process, which raises what :func:`html_to_pdf` raises.
        """
        if self._proc is None:
            return html_to_pdf(self._html)
        if self._thread is None:
            msg = "report.pdf: the child process was given no HTML"
            raise OutputError(msg)
        self._thread.join()
        if isinstance(self._error, subprocess.TimeoutExpired):
            msg = f"report.pdf: rendering stopped after {_TIMEOUT_S:.0f} s"
            raise OutputError(msg)
        if self._error is not None or self._out is None:
            return html_to_pdf(self._html)
        pdf, err = self._out
        text = " ".join(err.decode("utf-8", "replace").split())
        if self._proc.returncode == _MISSING:
            raise MissingDependencyError(text.rsplit("towerplan-pdf: ", 1)[-1])
        if self._proc.returncode != 0:  # the child is only a speed-up: render here instead
            log.debug("report.pdf child failed (%s): rendering in-process",
                      text[-300:] or self._proc.returncode)
            return html_to_pdf(self._html)
        return pdf


def _python() -> str | None:
    """This interpreter's executable when it is a Python that can run ``-m``."""
    exe = sys.executable
    if not exe or not Path(exe).name.lower().startswith(("python", "pypy")):
        return None
    return exe


def start_pdf(html: str | None = None) -> PendingPdf:
    """Start rendering *html* to PDF in a child process; collect with ``.result()``.

    Without *html*, the child starts (and imports WeasyPrint) at once and waits for
    :meth:`PendingPdf.send`.
    """
    exe = _python()
    if exe is None:
        return PendingPdf(html, None)
    # the folder holding this package goes last: what PYTHONPATH puts first stays first
    here = str(Path(__file__).resolve().parents[2])
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), here) if p)}
    try:
        proc = subprocess.Popen([exe, "-m", "towerplan.outputs.pdf_render"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env)
    except OSError:
        return PendingPdf(html, None)
    return PendingPdf(html, proc)


def _main() -> int:
    """Child: HTML on stdin, PDF on stdout (what libraries print goes to stderr).

    WeasyPrint is imported before the HTML is read: the parent may still be rendering it.
    """
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    try:
        _weasyprint()
        html = sys.stdin.buffer.read().decode("utf-8")
        pdf = html_to_pdf(html)
    except MissingDependencyError as exc:
        print(f"towerplan-pdf: {exc}", file=sys.stderr)
        return _MISSING
    out.write(pdf)
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(_main())
