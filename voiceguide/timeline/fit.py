"""Choosing the values inside ranges so a session lasts its target (timing rule 6).

Without a target every range takes its middle.  With one, the counts (reps, breaths) move
together from their low to their high end, the same fraction of each; for each way of setting them
the holds and rests are filled in, together and then a second at a time, and the setting that comes
closest under the target wins, as long as it is within a second of it; the plan then pads the last
fraction of a second with quiet, so the session lasts the target to the sample.  The search is
deterministic: the same script and voice give the same plan every time.

``fixed`` choices are kept as they are and the search moves the rest: the live player fixes the
ranges of the steps it has started to play (``live.py``) and fits the others as speech arrives.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from ..errors import Location, PlanError, Problem
from ..script.routine import MAX_SESSION_S, RANGED_KEYS, Routine, Span
from .clock import clock
from .plan import ChoiceKey, Lengths, Plan, build_plan

TOLERANCE_S: Final = 1.0
CLOSE_ENOUGH_S: Final = 0.05
_BISECTIONS: Final = 16
_GRID: Final = 32


def _ranges(routine: Routine, fixed: dict) -> list[tuple[ChoiceKey, Span]]:
    """The values fitting may choose.  Counts (reps, breaths) stay the same on every side, so the
    work stays balanced; holds and rests may differ by a second between sides, which lets a
    two-sided hold move the session in one-second steps rather than two."""
    found = []
    fixed_steps = {index for index, _, _ in fixed}
    for step in routine.steps:
        if step.index in fixed_steps:
            continue
        for key in RANGED_KEYS:
            span = getattr(step, key)
            if span is None or span.fixed:
                continue
            if step.sides and not span.integer:
                found.extend(((step.index, key, side), span) for side in step.sides)
            else:
                found.append(((step.index, key, None), span))
    return found


def _at(ranges, fraction: float) -> dict:
    """Every range the same fraction of the way from its low to its high end, in whole units."""
    return {key: float(int(span.lo + fraction * (span.hi - span.lo) + 1e-9)) for key, span in ranges}


def fit_plan(routine: Routine, lengths: Lengths, *, target_s: float | None = None,
             fixed: dict[ChoiceKey, float] | None = None, **options) -> Plan:
    """The plan for ``routine``, with ranges chosen for ``target_s`` (or the script's ``duration``).

    ``fixed``: choices to keep, as a plan's ``choices`` has them; every range of their steps stays.
    """
    target_s = target_s if target_s is not None else routine.duration
    fixed = fixed or {}
    if target_s is None:
        try:
            return build_plan(routine, lengths, choices=fixed, **options)
        except PlanError:  # the middles go past the 3-hour limit: as long as it allows (a shorter session raises)
            target_s = MAX_SESSION_S

    def plan_with(values: dict, pad: float | None = None) -> Plan | None:
        """The plan for these choices; None past the 3-hour limit, which is longer than any target."""
        try:
            return build_plan(routine, lengths, choices={**values, **fixed}, pad_to_s=pad, **options)
        except PlanError:
            return None

    ranges = _ranges(routine, fixed)
    # Over the limit even at the low end: no target can be met, and build_plan's error says so.
    lowest = build_plan(routine, lengths, choices={**_at(ranges, 0.0), **fixed}, **options)
    highest = plan_with(_at(ranges, 1.0))
    if target_s == routine.duration:
        where, asked = routine.locations.get("duration"), "cannot last"
    else:  # asked for on the command line: the script's duration line, if any, is not the cause
        where, asked = None, "--duration: cannot last"
    if lowest.duration_s > target_s + 1e-9:
        return _with_warning(lowest, where, routine, (
            f"{asked} {clock(target_s)}: even with every range at its low end the session takes "
            f"{clock(lowest.duration_s)} (too much fixed speech, or ranges too narrow)"))
    if highest is not None and highest.duration_s < target_s - TOLERANCE_S:
        return _with_warning(highest, where, routine, (
            f"{asked} {clock(target_s)}: even with every range at its high end the session takes only "
            f"{clock(highest.duration_s)} (widen the ranges or add steps)"))

    counts = [(k, s) for k, s in ranges if s.integer]
    times = [(k, s) for k, s in ranges if not s.integer]
    best_values, best = None, None
    for counted in _count_choices(counts):
        values, plan = _fill_times(plan_with, counted, times, target_s)
        if plan is not None and (best is None or plan.duration_s > best.duration_s):
            best_values, best = values, plan
            if target_s - best.duration_s <= CLOSE_ENOUGH_S:
                break
    if best is None or target_s - best.duration_s > TOLERANCE_S:
        closest = best or lowest
        return _with_warning(closest, where, routine, (
            f"{asked} {clock(target_s)} within a second: the ranges move in steps too large "
            f"(closest is {clock(closest.duration_s)}); give a hold or a rest a range"))
    return plan_with(best_values, pad=target_s)


def _count_choices(counts) -> list[dict]:
    """The ways of setting the counts with all of them moving together, most reps first."""
    seen, found = set(), []
    for i in range(_GRID, -1, -1):
        values = _at(counts, i / _GRID)
        frozen = tuple(values.values())
        if frozen not in seen:
            seen.add(frozen)
            found.append(values)
    return found


def _fill_times(plan_with, counted: dict, times, target_s: float):
    """With the counts fixed, the holds and rests that come closest under the target: all move
    together first, then one second at a time in order, so two sides never differ by more than one.
    Returns (values, plan), or (None, None) when even the shortest holds and rests are too long."""

    def fits(values: dict) -> Plan | None:
        plan = plan_with(values)
        return plan if plan is not None and plan.duration_s <= target_s + 1e-9 else None

    if fits({**counted, **_at(times, 0.0)}) is None:
        return None, None
    lo, hi = 0.0, 1.0
    for _ in range(_BISECTIONS if times else 0):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if fits({**counted, **_at(times, mid)}) is not None else (lo, mid)
    values = {**counted, **_at(times, lo)}
    best = fits(values)
    grown = True
    while grown and target_s - best.duration_s > CLOSE_ENOUGH_S:
        grown = False
        for key, span in times:
            if values[key] + 1 > span.hi + 1e-9:
                continue
            trial = {**values, key: values[key] + 1}
            plan = fits(trial)
            if plan is not None and plan.duration_s > best.duration_s:
                values, best, grown = trial, plan, True
    return values, best


def _with_warning(plan: Plan, where: Location | None, routine: Routine, message: str) -> Plan:
    loc = where or Location(routine.path, 1, 1)
    return replace(plan, warnings=plan.warnings + (Problem(loc, message, "warning"),))
