"""One progress line on stderr for work that takes more than a moment (synthesis, mixing, encoding)."""

from __future__ import annotations

import shutil
import sys
import textwrap
import time
from collections.abc import Callable
from typing import Final


class Progress:
    """One line on stderr for exports that take more than a moment: only on a terminal, erased when done.

    Like pip or git, nothing is drawn when stderr is a file or a pipe, so logs stay clean; stdout
    is never touched (it carries only the result paths).
    """

    DELAY_S: Final = 0.5
    INTERVAL_S: Final = 0.1

    TOLD_S: Final = 0.5

    def __init__(self, total: int, label: str, stream=None, on_fraction: Callable[[float], None] | None = None):
        """``on_fraction(done / total)`` hears of the progress too, at most every ``TOLD_S``, terminal or not
        (``serve`` shows it on the phone's page)."""
        self.total, self.label = max(1, total), label
        self.stream = stream or sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = self.drawn_at = self.told_at = time.monotonic()
        self.shown = False
        self.on_fraction = on_fraction

    def advance_to(self, done: int) -> None:
        now = time.monotonic()
        if self.on_fraction is not None and now - self.told_at >= self.TOLD_S:
            self.told_at = now
            self.on_fraction(min(1.0, done / self.total))
        if not self.live or now - self.started < self.DELAY_S or now - self.drawn_at < self.INTERVAL_S:
            return
        self.drawn_at, self.shown = now, True
        fraction = min(1.0, done / self.total)
        columns = shutil.get_terminal_size((80, 24)).columns
        label = textwrap.shorten(self.label, max(10, columns // 2), placeholder="...")  # whole words
        width = max(10, columns - len(label) - 10)
        filled = int(fraction * width)
        self.stream.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%}")
        self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False
