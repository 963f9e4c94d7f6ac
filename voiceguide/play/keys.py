"""Keys typed on the terminal while a session plays, as actions."""

from __future__ import annotations

import os
import select
import time
from enum import StrEnum
from typing import Final

from .screen import Restoring

ESC_WAIT_S: Final = 0.03  # an Esc followed this quickly by more bytes is an arrow key


class Action(StrEnum):
    """What a key asks the player to do."""

    PAUSE = "pause"
    NEXT = "next"
    BACK = "back"
    QUIT = "quit"
    INTERRUPT = "interrupt"



class Keys(Restoring):
    """Single keys from a terminal (cbreak: no echo, no line editing; Ctrl-C still interrupts).

    The terminal's settings are given back on every way out: the context manager, atexit, and
    SIGTERM/SIGHUP, which are turned into a normal exit.
    """

    def __init__(self, stream):
        self.fd = stream.fileno() if stream is not None and stream.isatty() else None
        self._saved = None

    @property
    def enabled(self) -> bool:
        return self.fd is not None

    def setup(self) -> None:
        if self.fd is not None:
            import termios
            import tty

            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)

    def restore(self) -> None:
        if self._saved is not None and self.fd is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSAFLUSH, self._saved)
            self._saved = None

    def read(self, timeout: float | None) -> list[Action]:
        """The actions typed within ``timeout`` seconds (None: wait for one); unknown keys are dropped."""
        if self.fd is None:
            if timeout is not None:
                time.sleep(timeout)
            return []
        if not select.select([self.fd], [], [], timeout)[0]:
            return []
        data = os.read(self.fd, 64)
        if data.endswith(b"\x1b") and select.select([self.fd], [], [], ESC_WAIT_S)[0]:
            data += os.read(self.fd, 64)  # the rest of an arrow key's sequence
        return decode_keys(data)


_SEQUENCES: Final = {b"\x1b[C": Action.NEXT, b"\x1bOC": Action.NEXT, b"\x1b[D": Action.BACK, b"\x1bOD": Action.BACK}
_SINGLE: Final = {b" ": Action.PAUSE, b"n": Action.NEXT, b"N": Action.NEXT, b"p": Action.BACK, b"P": Action.BACK,
                  b"q": Action.QUIT, b"Q": Action.QUIT, b"\x1b": Action.QUIT, b"\x03": Action.INTERRUPT}


def decode_keys(data: bytes) -> list[Action]:
    """Bytes typed -> actions.  Arrow keys arrive as escape sequences; other sequences are ignored."""
    actions, i = [], 0
    while i < len(data):
        if data[i : i + 1] == b"\x1b" and data[i + 1 : i + 2] in (b"[", b"O"):
            end = i + 2  # a sequence runs to its final byte, '@' to '~'
            while end < len(data) and not 0x40 <= data[end] <= 0x7E:
                end += 1
            action = _SEQUENCES.get(data[i : end + 1])
            if action:
                actions.append(action)
            i = end + 1
            continue
        action = _SINGLE.get(data[i : i + 1])
        if action:
            actions.append(action)
        i += 1
    return actions


