"""Stop signals (SIGINT, SIGTERM, SIGHUP) turned into one exception that unwinds a run.

The command line calls :func:`install` once: from then on Ctrl-C (SIGINT), a scheduler's or
container's stop (SIGTERM) and a closed terminal (SIGHUP) raise :class:`Interrupted` in the
main thread. It unwinds like any exception, so every staging directory is removed on the way
out, and the command line exits with 128 + the signal number. :class:`Interrupted` derives
from :class:`BaseException`, not :class:`Exception`, so no ``except Exception`` swallows it.

A few steps must not be cut in two (publishing an output directory by rename):
:func:`deferred` holds a signal that arrives meanwhile and raises it when the step is done.
After the first signal further ones are ignored, so the cleanup itself is not interrupted.

A signal arriving while the main thread is inside a long native call (a solver, a compiled
kernel) takes effect when that call returns.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

__all__ = ["STOP_SIGNALS", "Interrupted", "deferred", "install"]

#: The signals handled, by name.
STOP_SIGNALS: tuple[str, ...] = ("SIGINT", "SIGTERM", "SIGHUP")


class Interrupted(BaseException):  # noqa: N818 - it is not an error of the user's
    """The run was stopped by a signal.

    Attributes
    ----------
    signum : int
        The signal number; the command line exits with ``128 + signum``.
    published : Path or None
        Set when the signal came while outputs were being published: they were, in full,
        before the run stopped (None: nothing was changed).
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.published: Path | None = None

    @property
    def name(self) -> str:
        """The signal's name, e.g. ``"SIGTERM"``."""
        return signal.Signals(self.signum).name


class _State:
    deferring = 0
    pending: int | None = None
    raised = False


def _handler(signum: int, frame: FrameType | None) -> None:
    del frame
    if _State.raised:
        return  # already unwinding: let the cleanup finish
    if _State.deferring:
        _State.pending = _State.pending or signum
        return
    _State.raised = True
    raise Interrupted(signum)


def install() -> None:
    """Handle SIGINT, SIGTERM and SIGHUP (those the platform has) by raising
    :class:`Interrupted`; a no-op outside the main thread."""
    _State.pending, _State.raised, _State.deferring = None, False, 0
    for name in STOP_SIGNALS:
        number = getattr(signal, name, None)
        if number is None:
            continue
        try:
            signal.signal(number, _handler)
        except ValueError:  # not the main thread
            return


@contextmanager
def deferred() -> Iterator[None]:
    """Hold stop signals while the block runs; raise the first one held when it ends."""
    _State.deferring += 1
    try:
        yield
    finally:
        _State.deferring -= 1
    if not _State.deferring and _State.pending is not None:
        signum, _State.pending = _State.pending, None
        _State.raised = True
        raise Interrupted(signum)
