"""The terminal view of where a session is (``guide.Status``).

Everything on screen is derived from the plan at a sample position (``guide.Guide.status``), so the
view can never disagree with what is heard.  ``TerminalScreen`` draws a full-screen view with plain ANSI
codes (no curses, no new dependency): the step's name in large block letters, the countdown in
large digits, rep n of N, side, what is being said, the next step and a progress bar.
``PlainScreen`` prints one line per step, for piped output.
"""

from __future__ import annotations

import atexit
import math
import os
import sys
import textwrap
import unicodedata
from typing import Final, TextIO

from ..timeline.guide import Guide, Status, countdown_clock

# --------------------------------------------------------------------------- large type

# A 3x5 block font: '#' is ink.  Lower case is drawn as upper case; letters with accents lose them.
_FONT: Final = {
    "A": ".#.|#.#|###|#.#|#.#", "B": "##.|#.#|##.|#.#|##.", "C": ".##|#..|#..|#..|.##",
    "D": "##.|#.#|#.#|#.#|##.", "E": "###|#..|##.|#..|###", "F": "###|#..|##.|#..|#..",
    "G": ".##|#..|#.#|#.#|.##", "H": "#.#|#.#|###|#.#|#.#", "I": "###|.#.|.#.|.#.|###",
    "J": "..#|..#|..#|#.#|.#.", "K": "#.#|#.#|##.|#.#|#.#", "L": "#..|#..|#..|#..|###",
    "M": "#.#|###|###|#.#|#.#", "N": "##.|#.#|#.#|#.#|#.#", "O": ".#.|#.#|#.#|#.#|.#.",
    "P": "##.|#.#|##.|#..|#..", "Q": ".#.|#.#|#.#|##.|.##", "R": "##.|#.#|##.|#.#|#.#",
    "S": ".##|#..|.#.|..#|##.", "T": "###|.#.|.#.|.#.|.#.", "U": "#.#|#.#|#.#|#.#|###",
    "V": "#.#|#.#|#.#|#.#|.#.", "W": "#.#|#.#|###|###|#.#", "X": "#.#|#.#|.#.|#.#|#.#",
    "Y": "#.#|#.#|.#.|.#.|.#.", "Z": "###|..#|.#.|#..|###",
    "0": "###|#.#|#.#|#.#|###", "1": ".#.|##.|.#.|.#.|###", "2": "##.|..#|.#.|#..|###",
    "3": "##.|..#|.#.|..#|##.", "4": "#.#|#.#|###|..#|..#", "5": "###|#..|##.|..#|##.",
    "6": ".##|#..|###|#.#|###", "7": "###|..#|.#.|.#.|.#.", "8": "###|#.#|###|#.#|###",
    "9": "###|#.#|###|..#|##.", " ": "...|...|...|...|...", "-": "...|...|###|...|...",
    ".": "...|...|...|...|.#.", ",": "...|...|...|.#.|#..", "'": ".#.|.#.|...|...|...",
    ":": "...|.#.|...|.#.|...", "!": ".#.|.#.|.#.|...|.#.", "?": "##.|..#|.#.|...|.#.",
    "/": "..#|..#|.#.|#..|#..", "(": ".#.|#..|#..|#..|.#.", ")": ".#.|..#|..#|..#|.#.",
    "&": ".#.|#.#|.#.|#.#|.##", "+": "...|.#.|###|.#.|...",
}
_HALF: Final = {(True, True): "█", (True, False): "▀", (False, True): "▄", (False, False): " "}


def _glyph(ch: str) -> list[str]:
    base = unicodedata.normalize("NFKD", ch.upper())[:1] or "?"
    return _FONT.get(base, _FONT["?"]).split("|")


def _draw_line(text: str, scale: int, ascii_only: bool) -> list[str]:
    """One line of block letters.  Scale 1: half blocks, three rows, four columns a letter;
    scale 2: two columns a pixel, five rows, eight columns a letter.  '#' when only ASCII will do."""
    pixels = ["".join(_glyph(ch)[r] + "." for ch in text)[:-1] for r in range(5)]
    ink = "#" if ascii_only else "█"
    if scale == 2 or ascii_only:
        return [row.replace("#", ink * scale).replace(".", " " * scale) for row in pixels]
    pixels.append("." * len(pixels[0]))
    return ["".join(_HALF[(t == "#", b == "#")] for t, b in zip(top, bottom))
            for top, bottom in zip(pixels[0::2], pixels[1::2])]


def big_text(text: str, width: int, *, scale: int = 1, max_lines: int = 2,
             ascii_only: bool = False) -> list[str] | None:
    """``text`` in block letters, word-wrapped to ``width``; None when it does not fit in ``max_lines``."""
    per_line = (width + scale) // (4 * scale)
    if per_line < 1:
        return None
    lines = textwrap.wrap(text, per_line, break_long_words=False) or [""]
    if len(lines) > max_lines or any(len(line) > per_line for line in lines):
        return None
    rows: list[str] = []
    for k, line in enumerate(lines):
        if k:
            rows.append("")
        rows.extend(_draw_line(line, scale, ascii_only))
    return rows


# --------------------------------------------------------------------------- the views

BOLD, RESET = "\x1b[1m", "\x1b[0m"
KEYS_HELP: Final = "space pause   n/→ next   p/← back (twice: previous)   q quit"


def render_screen(s: Status, width: int, height: int, *, ascii_only: bool = False) -> list[str]:
    """The full-screen view as lines of at most ``width`` visible characters (bold marked with ANSI)."""
    width = max(width, 20)

    def fit(text: str) -> str:
        return text if len(text) <= width else text[: width - 3] + "..."

    def big(text: str, scale: int, max_lines: int) -> list[str]:
        rows = big_text(text, width, scale=scale, max_lines=max_lines, ascii_only=ascii_only) if scale else None
        return [BOLD + row + RESET for row in rows] if rows else []

    said = textwrap.wrap(f"\u201c{s.saying}\u201d", width - 2)[:3] if s.saying else []

    def frame(scale: int) -> list[str]:
        right = f"step {s.step_number} of {s.step_count}" if s.step_number else ""
        lines = [fit(s.title.ljust(width - len(right) - 1) + " " + right if right else s.title), ""]
        lines += big(s.step, scale, 2) or big(s.step, min(scale, 1), 2) or [BOLD + fit(s.step.upper()) + RESET]
        said_round = f"ROUND {s.round[0]} OF {s.round[1]}" if s.round else ""
        lines.append(BOLD + fit("   ".join(x for x in (f"{s.side.upper()} SIDE" if s.side else "", said_round) if x))
                     + RESET if s.side or s.round else "")
        if s.countdown_s is not None:
            counted = f"   {s.count_label} {s.count[0]} of {s.count[1]}" if s.count else ""
            lines.append(fit(f"{s.countdown_label}: {countdown_clock(s.countdown_s)} left{counted}"))
            lines += big(str(max(math.ceil(s.countdown_s - 1e-9), 0)), scale, 1)
        lines.append("")
        lines += ["  " + row for row in said] or [""]
        lines += ["", fit(f"Next: {s.next_step}") if s.next_step else "Next: the end", ""]
        left = f" {countdown_clock(s.length_s - s.position_s)} left"
        bar = max(width - len(left) - 2, 5)
        done = round(bar * min(s.position_s / s.length_s, 1.0)) if s.length_s else bar
        full, empty = ("#", "-") if ascii_only else ("█", "░")
        lines.append("[" + full * done + empty * (bar - done) + "]" + left)
        keys = KEYS_HELP.replace("→", ">").replace("←", "<") if ascii_only else KEYS_HELP
        lines.append(fit(("PAUSED   " if s.paused else "") + keys))
        if s.sound:
            lines.append(fit(s.sound[0].upper() + s.sound[1:]))
        if s.note:
            lines.append(fit(s.note))
        return lines

    for scale in (2, 1, 0):  # the largest type that fits the terminal
        lines = frame(scale)
        if len(lines) <= height:
            return lines
    lines = [line for line in lines if line]  # still too tall: drop the spacing, then what is said
    while len(lines) > height and said:
        lines.remove("  " + said.pop())
    return lines[:height]


def plain_line(s: Status) -> str:
    """One line for a step reached, when output is not a terminal."""
    where = f"step {s.step_number} of {s.step_count}: " if s.step_number else ""
    side = f", {s.side} side" if s.side and s.side not in s.step else ""
    side += f", round {s.round[0]} of {s.round[1]}" if s.round else ""
    nxt = f" (next: {s.next_step})" if s.next_step else ""
    return f"{countdown_clock(s.position_s)}  {where}{s.step}{side}{nxt}"


class Restoring:
    """A terminal change made on enter and undone on exit, and at interpreter exit should any path miss it."""

    def setup(self) -> None: ...

    def restore(self) -> None: ...

    def __enter__(self):
        atexit.register(self.restore)
        self.setup()
        return self

    def __exit__(self, *exc) -> None:
        self.restore()
        atexit.unregister(self.restore)


class PlainScreen(Restoring):
    """Piped output: a header, then one line each time a new step is reached."""

    def __init__(self, guide: Guide, out: TextIO):
        self.guide, self.out = guide, out
        self._last: int | None = None

    def setup(self) -> None:
        if self._last is None:
            plan = self.guide.plan
            about = "" if plan.final else "about "  # speech still being made: the length is a guess
            print(f"{plan.title} ({about}{countdown_clock(plan.duration_s)})", file=self.out, flush=True)
            if self.guide.sound:
                print(self.guide.sound[0].upper() + self.guide.sound[1:], file=self.out, flush=True)

    def update(self, position: int, *, paused: bool = False, note: str | None = None) -> None:
        i = self.guide.stop_index(position)
        if i != self._last:  # moving on prints every step passed, in order; a jump back prints where it lands
            first = self._last + 1 if self._last is not None and i > self._last else i
            for stop in self.guide.stops[first : i + 1]:
                print(plain_line(self.guide.status(stop.start)), file=self.out, flush=True)
            self._last = i
        if note:
            print(note, file=self.out, flush=True)


class TerminalScreen(Restoring):
    """The full-screen view on a terminal: alternate screen, hidden cursor, both given back on every exit."""

    ENTER: Final = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J"
    LEAVE: Final = "\x1b[0m\x1b[?25h\x1b[?1049l"

    def __init__(self, guide: Guide, out: TextIO):
        self.guide, self.out = guide, out
        self._last = ""
        self._active = False
        try:
            "█▀▄░→←".encode(out.encoding or "ascii")
            self.ascii_only = False
        except (UnicodeEncodeError, LookupError):
            self.ascii_only = True

    def setup(self) -> None:
        self._write(self.ENTER)
        self._active, self._last = True, ""

    def restore(self) -> None:
        if self._active:
            self._active = False
            self._write(self.LEAVE)

    def update(self, position: int, *, paused: bool = False, note: str | None = None) -> None:
        try:
            columns, lines = os.get_terminal_size(self.out.fileno())
        except OSError:
            columns = lines = 0
        status = self.guide.status(position, paused=paused, note=note)
        view = render_screen(status, columns or 80, lines or 24, ascii_only=self.ascii_only)  # 0: size unknown
        text = "\x1b[H" + "\x1b[K\r\n".join(view)
        if text != self._last:
            self._last = text
            self._write(text + "\x1b[K\x1b[J")

    def _write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()


def open_screen(guide: Guide, out: TextIO | None = None) -> PlainScreen | TerminalScreen:
    """The full view on a terminal, one line per step otherwise."""
    out = out or sys.stdout
    return TerminalScreen(guide, out) if out.isatty() else PlainScreen(guide, out)
