"""Which sessions fall on which date, with the values each takes and how its caution is said.

Weeks are counted from the programme's first day: week 1 is that day and the six after it, so a
programme started on a Thursday runs Thursday to Wednesday.  Weekday names (``[mon, wed, fri]``,
``weekdays``, ``daily``) are the calendar's days inside each such week.  "N per week" spreads N
sessions as evenly as the seven days allow, counting from the week's first day: session ``i`` (from
0) falls ``floor(i * 7 / N)`` days in, so 3 per week from a Monday is Monday, Wednesday, Friday, and
2 per week is Monday and Thursday.  ``programme plan`` shows the days it chose.

The caution (the routine's spoken safety note) is said in full on the programme's first day and as
one short sentence on later days, unless the programme says ``caution: full``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ..script.routine import Routine
from .model import WEEKDAY_NAMES, WEEKDAYS, Entry, Programme
from .progress import Choice, progress_values


@dataclass(frozen=True)
class Planned:
    """One session on one day."""

    entry: Entry
    choices: tuple[tuple[Choice, float], ...]
    """Values fixed by ``progress`` (sorted); empty: the planner chooses, as for a routine alone."""
    brief_caution: bool
    """The caution as one short sentence (not on the first day, unless ``caution: full``)."""
    phase: int
    """Which phase (from 1)."""
    phase_week: int
    phase_weeks: int

    @property
    def routine(self) -> Routine:
        return self.entry.routine

    @property
    def fixed(self) -> dict[Choice, float]:
        return dict(self.choices)

    def values(self, duration_s: float | None) -> tuple:
        """What chooses the session's values: those fixed by ``progress``; else the middles of the
        ranges, as the planner takes them; else (a duration: ``duration_s``, the session's, or the
        routine's own) the fit to that length."""
        if self.choices:
            return self.choices
        duration_s = duration_s if duration_s is not None else self.routine.duration
        if duration_s is not None:
            return (("duration", duration_s),)
        return tuple(sorted(progress_values(self.routine, 1, 1, middle=True).items()))

    def identity(self, duration_s: float | None = None) -> tuple:
        """Equal for the same session, one file and one cache: the routine, its values (see ``values``),
        the caution; with the session's options, ``programmes.py`` adds."""
        return (self.routine.path, self.values(duration_s), self.brief_caution and self.routine.caution)


@dataclass(frozen=True)
class Day:
    date: date
    number: int
    """From 1: the programme's first day is day 1."""
    week: int
    weeks: int
    sessions: tuple[Planned, ...]

    @property
    def weekday(self) -> str:
        return WEEKDAY_NAMES[self.date.weekday()]

    def heading(self) -> str:
        """"Week 2 of 4, Wednesday 16 December 2026 (day 10)"."""
        return (f"Week {self.week} of {self.weeks}, {self.weekday} {self.date.day} {self.date:%B %Y} "
                f"(day {self.number})")


def weekdays_of(entry: Entry, first: date) -> list[str]:
    """The weekdays an entry falls on, in the order they come in a week starting on ``first``."""
    if entry.per_week:
        return [WEEKDAYS[(first.weekday() + offset) % 7] for offset in entry.days]
    return [WEEKDAYS[d] for d in sorted(entry.days, key=lambda d: (d - first.weekday()) % 7)]


def _falls_on(entry: Entry, offset: int, on: date) -> bool:
    return offset in entry.days if entry.per_week else on.weekday() in entry.days


def programme_days(programme: Programme, start: date) -> list[Day]:
    """Every day of the programme, from ``start``, with its sessions (possibly none)."""
    days, number, weeks = [], 0, programme.weeks
    choices_for: dict[tuple[int, int, int], tuple] = {}
    week = 0
    for p, phase in enumerate(programme.phases, 1):
        for k in range(1, phase.weeks + 1):
            week += 1
            for offset in range(7):
                number += 1
                on = start + timedelta(days=number - 1)
                sessions = []
                for e, entry in enumerate(phase.entries):
                    if not _falls_on(entry, offset, on):
                        continue
                    if (p, e, k) not in choices_for:
                        values = progress_values(entry.routine, k, phase.weeks) if _progresses(entry) else {}
                        choices_for[p, e, k] = tuple(sorted(values.items()))
                    brief = not programme.caution_full and number > 1
                    sessions.append(Planned(entry, choices_for[p, e, k], brief, p, k, phase.weeks))
                days.append(Day(on, number, week, weeks, tuple(sessions)))
    return days


def _progresses(entry: Entry) -> bool:
    """``progress`` moves values only when nothing else chooses them (a duration wins)."""
    return entry.progress and entry.options.duration_s is None and entry.routine.duration is None


def day_of(programme: Programme, start: date, on: date) -> Day | None:
    """The programme's day ``on``; None before its start or after its end."""
    number = (on - start).days
    if not 0 <= number < 7 * programme.weeks:
        return None
    return programme_days(programme, start)[number]


def end_of(programme: Programme, start: date) -> date:
    """The programme's last day."""
    return start + timedelta(days=7 * programme.weeks - 1)
