"""Programmes: which routines on which days, for how many weeks, getting a little harder.

A programme file (YAML, ``docs/programme-format.md``) is read at the script stage, like a routine:
``read`` turns it into a ``Programme`` with every problem located (the routines it names are read
and checked too, their problems located in their own files); ``schedule`` says which sessions fall
on which date, with the values ``progress`` chooses for each week; ``state`` remembers the current
programme.  Planning the sessions (their lengths, their audio) is ``voiceguide/programmes.py``'s
job, on top: this package needs only the script stage.
"""

from .model import CAUTION_FULL, Entry, Phase, Programme
from .progress import progress_values
from .read import check_programme, load_programme, programme_names
from .schedule import Day, Planned, day_of, programme_days, weekdays_of
from .state import Current, current_programme, remember_programme

__all__ = [
    "CAUTION_FULL", "Current", "Day", "Entry", "Phase", "Planned", "Programme", "check_programme",
    "current_programme", "day_of", "load_programme", "programme_days", "programme_names", "progress_values",
    "remember_programme", "weekdays_of",
]
