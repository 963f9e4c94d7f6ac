"""Standard output as the command line writes it: one clear error when it cannot be written, and
machine-readable lines (paths, JSON) that survive any locale.

- A standard output that cannot be written (``> /dev/full``, a disk that fails, EIO) is
  ``StdoutError``: one line on stderr and exit code 1, never a traceback.  A closed pipe
  (``| head``) is not an error: the command stops quietly, as it always has.
- A printed path is written as the bytes it is (``os.fsencode``), so a folder named ``é`` stays
  ``é`` under ``LC_ALL=C`` rather than becoming ``?``, and a name that is not UTF-8 comes out as
  the bytes the file system holds: what a script reading stdout needs to open it.
- JSON is written with ``\\u`` escapes (``plan --json``): ASCII survives every encoding.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

from .errors import VoiceguideError


class StdoutError(VoiceguideError, OSError):
    """Standard output could not be written (a full disk, ``/dev/full``, an I/O error)."""


def _failed(exc: OSError) -> StdoutError:
    return StdoutError(f"cannot write to standard output ({exc.strerror or exc})")


class Guarded:
    """``sys.stdout`` with its write errors turned into ``StdoutError`` (a closed pipe stays
    ``BrokenPipeError``); everything else is the stream's own."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _failed(exc) from None

    def flush(self) -> None:
        try:
            self.stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _failed(exc) from None

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


def guard() -> TextIO:
    """Put ``Guarded`` in front of ``sys.stdout``; returns the stream it replaced (for ``release``)."""
    previous = sys.stdout
    if not isinstance(previous, Guarded):
        sys.stdout = Guarded(previous)
    return previous


def release(previous: TextIO) -> None:
    sys.stdout = previous


def abandon() -> None:
    """After standard output failed: send what is still buffered, and anything later, nowhere, so
    the interpreter's last flush at exit cannot fail again ("Exception ignored ...")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # a stream with no file (a test's capture)
        pass


def print_path(path: Path | str) -> None:
    """One path on its own line of stdout, as its bytes, flushed at once."""
    stream = sys.stdout
    buffer = getattr(stream, "buffer", None)
    try:
        if buffer is None:  # a stream of text only (a test's capture)
            print(path, file=stream, flush=True)
            return
        stream.flush()  # anything printed before it goes first
        buffer.write(os.fsencode(path) + b"\n")
        buffer.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise exc if isinstance(exc, StdoutError) else _failed(exc) from None
