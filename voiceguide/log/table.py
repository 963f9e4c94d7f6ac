"""The practice log as a person reads it (``voiceguide log``) and as a spreadsheet opens it (``--csv``).

The table: when, the routine, the programme's week, the planned and the played length, how it
ended (finished, or where it stopped) and the rating.  Under it, where the terminal can draw one, a
small chart of the ratings in the order they were given.  A record, nothing more: no streaks,
no totals to beat, no reminders.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import Final, TextIO

from .store import MAX_RATING, Entry

BLOCKS: Final = "▁▂▃▄▅▆▇█"
"""The chart's bars, lowest first: a rating of 0 is the lowest bar, 10 the highest."""
CSV_HEADER: Final = ("date", "time", "routine", "title", "week", "planned_min", "played_min", "finished",
                     "stopped_at", "rating", "from")
TITLE_WIDTH: Final = 28


def mmss(seconds: float | None) -> str:
    """612.4 -> '10:12'; None -> '-' (not known)."""
    if seconds is None:
        return "-"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}:{rest:02d}"


def ended(entry: Entry) -> str:
    if entry.finished:
        return "finished"
    return f"stopped at {entry.stopped_where}" if entry.stopped_where else "stopped"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def log_table(entries: Sequence[Entry]) -> str:
    """The rows under a header, columns aligned; a phone's plays are marked "(phone)"."""
    header = ("when", "routine", "week", "planned", "played", "rating", "ended")
    rows = [(f"{e.day} {e.time}", _cut(e.title, TITLE_WIDTH), "-" if e.week is None else str(e.week),
             mmss(e.planned_s), mmss(e.played_s), "-" if e.rating is None else str(e.rating),
             ended(e) + (" (phone)" if e.source == "phone" else "")) for e in entries]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    right = {2, 3, 4, 5}  # numbers line up on the right

    def line(row: Sequence[str]) -> str:
        cells = [cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))]
        return "  ".join(cells).rstrip()

    return "\n".join(line(row) for row in [header, *rows])


def ratings_chart(entries: Sequence[Entry], width: int) -> str | None:
    """The ratings given, oldest first, one bar each (as many of the latest as fit ``width``),
    between the first and the last day shown; None when no play was rated."""
    rated = [e for e in entries if e.rating is not None]
    if not rated:
        return None
    prefix = f"Back, 0 (no pain) to {MAX_RATING}: "
    shown = rated[-max(width - len(prefix) - 2 * len(" 2026-01-01"), 10):]
    bars = "".join(BLOCKS[round((e.rating or 0) * (len(BLOCKS) - 1) / MAX_RATING)] for e in shown)
    if len(shown) == 1:
        return f"{prefix}{bars} {shown[0].day}"
    return f"{prefix}{shown[0].day} {bars} {shown[-1].day}"


def write_csv(entries: Sequence[Entry], out: TextIO) -> None:
    """The rows for a spreadsheet: a header, lengths in minutes, ``finished`` as yes/no."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for e in entries:
        writer.writerow([e.day, e.time, _inert(e.routine), _inert(e.title), "" if e.week is None else e.week,
                         _minutes(e.planned_s), _minutes(e.played_s), "yes" if e.finished else "no",
                         "" if e.finished else _inert(e.stopped_where or ""), "" if e.rating is None else e.rating,
                         e.source])


def _minutes(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 60:.1f}"


def _inert(text: str) -> str:
    """A text a spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@`` first) with a ``'``
    before it, as spreadsheets themselves write it: a title is data, never a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
