"""The practice log from the commands' side: is it on, a play or a phone's rating as a row of it.

The log itself (``log/``) takes plain rows; this is where a play (``session.Played``) and a rating
sent by the phone page become one.  It is on unless ``--no-log`` is given or ``VOICEGUIDE_LOG`` is
``off`` (also ``0``, ``no``, ``false``).  A log that cannot be used (damaged, from a newer voiceguide,
not writable, locked for too long) never stops a play: it is said in one line, and the play goes on
unlogged.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Final

from .log import Entry, LogError, PracticeLog, local_now
from .session import Played

if TYPE_CHECKING:  # the phone's modules are not imported for a play
    from .phone.rating import RatingDesk
    from .phone.site import Episode

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


def play_entry(played: Played, started: str, rating: int | None = None) -> Entry:
    """A play from the terminal as a row: finished, or stopped and where (and its programme's week,
    which a programme's play sets on ``played``)."""
    routine, ending = played.routine, played.ending
    assert routine is not None, "a play that was played knows its routine"
    planned_s = None if played.planned_s is None else round(played.planned_s, 3)
    return Entry(played_at=started, routine=Path(routine.path).stem, title=routine.title, finished=played.finished,
                 source="terminal", week=played.week, planned_s=planned_s, played_s=round(played.played_s, 3),
                 stopped_step=None if played.finished else max(ending.step + 1, 0),
                 stopped_where=None if played.finished else ending.where, rating=rating)


def log_play(log: PracticeLog, played: Played, started: str, rating: int | None = None) -> str | None:
    """Write the play's row; the one line that says why not when it could not be written."""
    try:
        log.add(play_entry(played, started, rating))
    except LogError as exc:
        return f"{exc}; this play was not logged"
    return None


def phone_entry(episode: Episode, rating: int) -> Entry:
    """A rating from the phone page's finished view: a finished play of that session, now, from the
    phone (how much of it was played is not known there)."""
    return Entry(played_at=local_now(), routine=episode.stem, title=episode.title, finished=True, source="phone",
                 planned_s=round(episode.duration_s, 3), rating=rating)


def rating_desk(sessions: Mapping[str, Episode]) -> RatingDesk:
    """``serve``'s rating endpoint, writing to the practice log; ``sessions`` (by stem) are those the
    phone may rate, and may grow while it serves (each as it is finished).

    A log that cannot be used is said now in one line, and each rating sent meanwhile is answered
    503 (the file is tried again each time: moved aside, the next rating starts a new log).  With the
    log off (``VOICEGUIDE_LOG=off``) a rating is taken and kept nowhere, as asked."""
    from .phone.rating import RatingDesk

    _, why_not = open_log()
    if why_not:
        print(f"voiceguide: {why_not}; ratings from the phone will not be kept", file=sys.stderr)

    def store(stem: str, rating: int) -> None:
        if log_wanted():
            PracticeLog().add(phone_entry(sessions[stem], rating))

    return RatingDesk(sessions.keys(), store)
