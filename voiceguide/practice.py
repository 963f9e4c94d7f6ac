"""The practice log from the commands' side: is it on, a play or a phone's rating as a row of it.

The log itself (``log/``) takes plain rows; this is where a play (``session.Played``) and a rating
sent by the phone page become one.  It is on unless ``--no-log`` is given or ``VOICEGUIDE_LOG`` is
``off`` (also ``0``, ``no``, ``false``).  A log that cannot be used (damaged, from a newer voiceguide,
not writable, locked for too long) never stops a play: it is said in one line, and the play goes on
unlogged.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from .log import Entry, LogError, PracticeLog, local_now
from .session import Played

OFF_ENV: Final = "VOICEGUIDE_LOG"
OFF_WORDS: Final = ("off", "0", "no", "false")


def log_wanted(no_log: bool = False) -> bool:
    """On, unless ``--no-log`` or ``VOICEGUIDE_LOG=off``."""
    return not no_log and os.environ.get(OFF_ENV, "").strip().lower() not in OFF_WORDS


def open_log(no_log: bool = False) -> tuple[PracticeLog | None, str | None]:
    """The log to write to, or None; and when it is None though wanted, the one line that says why."""
    if not log_wanted(no_log):
        return None, None
    log = PracticeLog()
    try:
        log.check()
    except LogError as exc:
        return None, str(exc)
    return log, None


def play_entry(played: Played, started: str, rating: int | None = None, week: int | None = None) -> Entry:
    """A play from the terminal as a row: finished, or stopped and where."""
    routine, ending = played.routine, played.ending
    assert routine is not None, "a play that was played knows its routine"
    planned_s = None if played.planned_s is None else round(played.planned_s, 3)
    return Entry(played_at=started, routine=Path(routine.path).stem, title=routine.title, finished=played.finished,
                 source="terminal", week=week, planned_s=planned_s, played_s=round(played.played_s, 3),
                 stopped_step=None if played.finished else max(ending.step + 1, 0),
                 stopped_where=None if played.finished else ending.where, rating=rating)


def log_play(log: PracticeLog, played: Played, started: str, rating: int | None = None,
             week: int | None = None) -> str | None:
    """Write the play's row; the one line that says why not when it could not be written."""
    try:
        log.add(play_entry(played, started, rating, week))
    except LogError as exc:
        return f"{exc}; this play was not logged"
    return None


def log_phone_rating(log: PracticeLog, stem: str, title: str, duration_s: float | None, rating: int) -> None:
    """A rating from the phone page's finished view: a finished play of that session, from the phone
    (how much was played is not known there).  ``LogError`` when it cannot be written."""
    log.add(Entry(played_at=local_now(), routine=stem, title=title, finished=True, source="phone",
                  planned_s=duration_s, rating=rating))
