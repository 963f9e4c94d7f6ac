"""Signals that end a command: every ``finally`` runs on the way out, and none is lost.

By default SIGTERM (``kill``, ``timeout``) and SIGHUP (the terminal closed) end Python at once,
skipping the clean-up that leaves no half-written export and gives the terminal back.  Inside
``ending_signals()`` they raise ``SystemExit(128 + signal)`` instead, the exit code a shell
expects, and Ctrl-C raises KeyboardInterrupt as usual.

Python runs a signal handler wherever the main thread happens to be, finalisers (``__del__``,
a collected generator's ``finally``) included, and an exception raised there is printed as
"Exception ignored" and dropped: the command would go on as if nothing had come.  So the handler
also notes the signal, and ``raise_if_received()`` raises it again where it must not be missed
(before an export's file is put in place).  Python's report of the dropped exception (a traceback
on stderr) is left out for these only: the command still ends, with its own one line.  A signal
the command was started with ignored (``nohup``, a background job of a script) stays ignored.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

ENDING: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_received: list[int] = []  # signals that arrived inside ending_signals()


def leave(signum, frame):
    """The handler: note the signal, then leave through the normal exit path."""
    _received.append(signum)
    _raise(signum)


def _raise(signum: int):
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)


def raise_if_received() -> None:
    """Raise again a signal whose exception was dropped (see the module docstring)."""
    if _received:
        _raise(_received[0])


@contextmanager
def signal_handlers(handlers: dict) -> Iterator[None]:
    """Install ``handlers`` (signal -> function) for the duration; the main thread only, as Python requires.

    A signal that is ignored when the block starts is left ignored.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()
             if signal.getsignal(sig) is not signal.SIG_IGN}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _unraisable_hook(previous):
    """``sys.unraisablehook`` that stays quiet about the exception of a signal noted by ``leave`` (it is
    raised again by ``raise_if_received``) and passes every other one on to ``previous``."""

    def hook(unraisable) -> None:
        if _received and isinstance(unraisable.exc_value, (KeyboardInterrupt, SystemExit)):
            return
        previous(unraisable)

    return hook


@contextmanager
def ending_signals(extra: dict | None = None) -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP leave cleanly for the duration, with any ``extra`` handlers beside them."""
    _received.clear()
    previous = sys.unraisablehook
    quiet = sys.unraisablehook = _unraisable_hook(previous)
    try:
        with signal_handlers({**{sig: leave for sig in ENDING}, **(extra or {})}):
            yield
    finally:
        _received.clear()
        if sys.unraisablehook is quiet:  # unless someone put another in its place meanwhile
            sys.unraisablehook = previous
