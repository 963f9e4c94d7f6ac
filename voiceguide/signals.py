"""Signals that end a command the way Ctrl-C does: every ``finally`` runs on the way out.

By default SIGTERM (``kill``, ``timeout``) and SIGHUP (the terminal closed) end Python at once,
skipping the clean-up that leaves no half-written export and gives the terminal back.  Inside
``ending_signals()`` they raise ``SystemExit(128 + signal)`` instead, the exit code a shell expects.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

ENDING: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGHUP)


def leave(signum, frame):
    """The handler: leave through the normal exit path."""
    raise SystemExit(128 + signum)


@contextmanager
def signal_handlers(handlers: dict) -> Iterator[None]:
    """Install ``handlers`` (signal -> function) for the duration; the main thread only, as Python requires."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def ending_signals(extra: dict | None = None):
    """SIGTERM and SIGHUP leave cleanly for the duration, with any ``extra`` handlers beside them."""
    return signal_handlers({**{sig: leave for sig in ENDING}, **(extra or {})})
