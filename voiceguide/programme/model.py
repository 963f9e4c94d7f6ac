"""A programme as plain values: its phases, the sessions in each, and the options each session sets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from typing import Final

from ..errors import Location
from ..script.routine import Routine
from ..script.settings import NO_OVERRIDES, Overrides

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DEFAULT_REMINDER: Final = time(8, 0)
"""The calendar's reminders when the file gives no ``reminder``: early enough to fit in a morning."""
MAX_WEEKS: Final = 52
"""A programme's weeks, all phases together: a year at most (a typo must not plan a century)."""
MAX_SESSIONS: Final = 12
"""Sessions in one phase."""
CAUTION_FULL: Final = "full"


@dataclass(frozen=True)
class Entry:
    """One session line of a phase: a routine on some days of each week."""

    routine: Routine
    written: str
    """The routine as the file names it."""
    days: tuple[int, ...]
    """Days of each programme week it falls on: weekday numbers (0 Monday), or with ``per_week``
    offsets from the week's first day."""
    days_text: str
    """As written: ``daily``, ``[mon, wed, fri]``, ``3 per week``."""
    per_week: bool = False
    progress: bool = False
    options: Overrides = NO_OVERRIDES
    """The session options the programme gives this session: a layer between the script and the command line."""
    location: Location | None = None


@dataclass(frozen=True)
class Phase:
    weeks: int
    entries: tuple[Entry, ...]
    name: str | None = None


@dataclass(frozen=True)
class Programme:
    title: str
    phases: tuple[Phase, ...]
    path: str
    summary: str | None = None
    start: date | None = None
    """The first day; None: the day ``programme start`` was run."""
    reminder: time = DEFAULT_REMINDER
    caution_full: bool = False
    """Say the routines' caution in full every day, not only on the first."""
    log: bool = True
    """Keep a row of each play of its sessions in the practice log (``log: false``: none)."""
    locations: dict[str, Location] = field(default_factory=dict, compare=False, hash=False)

    @property
    def weeks(self) -> int:
        return sum(p.weeks for p in self.phases)

    @property
    def sources(self) -> tuple[str, ...]:
        """The programme's file and every routine file it depends on."""
        found = [self.path]
        for phase in self.phases:
            for entry in phase.entries:
                found += entry.routine.sources or [entry.routine.path]
        return tuple(dict.fromkeys(found))
