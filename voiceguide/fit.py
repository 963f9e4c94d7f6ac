"""Choosing the values inside ranges so a session lasts its target (timing rule 6).

Without a target every range takes its middle.  With one, all ranges move together from their
low to their high end (the same fraction of each), then single values are nudged one unit at a
time, until the session is at most the target and within a second of it; the plan then pads the
last fraction of a second with quiet, so the session lasts the target to the sample.  The search
is deterministic: the same script and voice give the same plan every time.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from .errors import Location, Problem
from .plan import Lengths, Plan, build_plan
from .routine import Routine, Span

TOLERANCE_S: Final = 1.0
_BISECTIONS: Final = 24


def _ranges(routine: Routine) -> list[tuple[tuple[int, str], Span]]:
    found = []
    for step in routine.steps:
        for key in ("reps", "hold", "breaths", "rest"):
            span = getattr(step, key)
            if span is not None and not span.fixed:
                found.append(((step.index, key), span))
    return found


def _at(ranges, fraction: float) -> dict:
    values = {}
    for key, span in ranges:
        v = span.lo + fraction * (span.hi - span.lo)
        values[key] = float(int(v + 1e-9)) if span.integer else int(v * 2 + 1e-9) / 2
    return values


def fit_plan(routine: Routine, lengths: Lengths, *, target_s: float | None = None, **options) -> Plan:
    """The plan for ``routine``, with ranges chosen for ``target_s`` (or the script's ``duration``)."""
    target_s = target_s if target_s is not None else routine.duration
    if target_s is None:
        return build_plan(routine, lengths, **options)

    ranges = _ranges(routine)

    def plan_with(values: dict, pad: float | None = None) -> Plan:
        return build_plan(routine, lengths, choices=values, pad_to_s=pad, **options)

    lowest, highest = plan_with(_at(ranges, 0.0)), plan_with(_at(ranges, 1.0))
    where = routine.locations.get("duration")
    if lowest.duration_s > target_s + 1e-9:
        return _with_warning(lowest, where, routine, (
            f"cannot last {_mmss(target_s)}: even with every range at its low end the session takes "
            f"{_mmss(lowest.duration_s)} (too much fixed speech, or ranges too narrow)"))
    if highest.duration_s < target_s - TOLERANCE_S:
        return _with_warning(highest, where, routine, (
            f"cannot last {_mmss(target_s)}: even with every range at its high end the session takes only "
            f"{_mmss(highest.duration_s)} (widen the ranges or add steps)"))

    lo, hi = 0.0, 1.0  # invariant: plan at lo fits under the target
    for _ in range(_BISECTIONS):
        mid = (lo + hi) / 2
        if plan_with(_at(ranges, mid)).duration_s <= target_s:
            lo = mid
        else:
            hi = mid
    values = _at(ranges, lo)
    best = plan_with(values)
    # Then move single values up by one unit (a rep, half a second) while the session still fits,
    # keeping the closest.  A move may shorten the session ("22 and a half seconds" is longer to say
    # than "23 seconds"), so fitting moves are kept even when they do not help at once.
    best, best_values = plan_with(values), values
    moved = True
    while moved and target_s - best.duration_s > 0.05:
        moved = False
        for key, span in ranges:
            unit = 1.0 if span.integer else 0.5
            if values[key] + unit > span.hi + 1e-9:
                continue
            trial = {**values, key: values[key] + unit}
            candidate = plan_with(trial)
            if candidate.duration_s <= target_s + 1e-9:
                values, moved = trial, True
                if candidate.duration_s > best.duration_s:
                    best, best_values = candidate, trial
    values = best_values
    if target_s - best.duration_s > TOLERANCE_S:
        return _with_warning(best, where, routine, (
            f"cannot last {_mmss(target_s)} within a second: the ranges move in steps too large "
            f"(closest is {_mmss(best.duration_s)}); add a hold or rest with a range"))
    return plan_with(values, pad=target_s)


def _with_warning(plan: Plan, where: Location | None, routine: Routine, message: str) -> Plan:
    loc = where or Location(routine.path, 1, 1)
    return replace(plan, warnings=plan.warnings + (Problem(loc, message, "warning"),))


def _mmss(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{int(m)}:{s:04.1f}"
