"""``progress: true``: each range of a routine moves from its low end to its high end over a phase.

Week ``k`` (from 1) of a phase of ``W`` weeks takes ``low + (high - low) * (k - 1) / (W - 1)``, and a
one-week phase takes the low end.  The value is rounded as the planner rounds that kind of value when
it fits a duration (``timeline/fit.py``): whole numbers for reps, breaths and rounds, half seconds for
holds and rests; halves round up (8-12 over 4 weeks: 8, 9, 11, 12), so the last week reaches the top.

The values are returned as a plan's choices (``(step ref, key, None)`` -> value, ``ChoiceKey`` in
``timeline/events.py``), which the planner keeps as they are: the routine itself is never edited.
"""

from __future__ import annotations

import math

from ..script.routine import RANGED_KEYS, Routine, Span, walk

Choice = tuple[int, str, "str | None"]
"""The same shape as ``timeline.events.ChoiceKey``: (step ref, key, side), side None for every side."""


def _rounded(value: float, span: Span) -> float:
    if span.integer:
        return float(math.floor(value + 0.5))
    return math.floor(value * 2 + 0.5) / 2


def progress_values(routine: Routine, week: int, weeks: int, *, middle: bool = False) -> dict[Choice, float]:
    """The value of every range of ``routine`` in week ``week`` (from 1) of a phase of ``weeks``
    (``middle``: the middle the planner takes without a target, ``Span.middle``)."""
    share = (week - 1) / (weeks - 1) if weeks > 1 else 0.0
    values: dict[Choice, float] = {}
    for step in walk(routine.steps):
        for key in RANGED_KEYS:
            span: Span | None = getattr(step, key)
            if span is not None and not span.fixed:
                value = span.middle() if middle else _rounded(span.lo + (span.hi - span.lo) * share, span)
                values[(step.ref, key, None)] = min(max(value, span.lo), span.hi)
    return values


def has_ranges(routine: Routine) -> bool:
    return any(getattr(step, key) is not None and not getattr(step, key).fixed
               for step in walk(routine.steps) for key in RANGED_KEYS)
