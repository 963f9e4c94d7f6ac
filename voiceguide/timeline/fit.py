"""Choosing the values inside ranges so a session lasts its target (timing rule 6).

Without a target every range takes its middle.  With one, the values are the ones that bring the
session closest to the target, found by an exact search:

- Each ranged value is a *stage* with its *options*: every whole number of a count (reps, breaths,
  rounds); every half second of a hold or rest (and its ends).  The sides of a hold or rest are one
  stage whose options keep the sides within half a second of each other.
- An option's length is measured with the real plan builder (``plan.step_advance``): "Hold for 24
  seconds." is longer than "Hold for 8 seconds.", so a length is not a multiple of the value.
  A session lasts the sum of its steps' lengths, so the search adds them up.
- Dynamic programming over the stages, on the lengths they can reach: for each reachable length, the
  best way there.  "Best" is, in order: closest to the target (any length in the last second below
  it counts as the target itself, since the plan pads that fraction with quiet), then a length more
  than ``GUARD_S`` inside that second (live play guesses speech not made yet), sides that match,
  values nearest the middle of their ranges.  Lengths are exact to the sample while the search is
  small; a large one (hours of many ranges) merges lengths that differ by under ``quantum`` samples,
  keeping the exact length of the best, so its answer is exact where it lands and at most a few
  milliseconds from the best there is.
- Options whose extra work alone would overshoot (or fall short of) the target by more than
  ``MARGIN_S`` are not tried: speech that changes with the value varies by a second or two.

The plan is then built with the chosen values and padded to the target, so it lasts the target to
the sample.  The search is deterministic: the same script and voice give the same plan every time.

``fixed`` choices are kept as they are and the search moves the rest: the live player fixes the
ranges of the steps it has started to play (``live.py``) and fits the others as speech arrives.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Final

import numpy as np

from ..errors import Location, PlanError, Problem
from ..script.routine import MAX_SESSION_S, RANGED_KEYS, Routine, Span, walk
from ..script.settings import DEFAULT_LEAD_IN_S, SAMPLE_RATE
from .clock import clock
from .plan import ChoiceKey, Lengths, Plan, build_plan, step_advance

TOLERANCE_S: Final = 1.0
GUARD_S: Final = 0.25
"""Among lengths that reach the target, those this far inside the last second below it come first:
while playing live, later speech may turn out a little longer or shorter than guessed."""
MARGIN_S: Final = 60.0
BUDGET: Final = 20_000_000
"""Array cells the search may visit (options x reachable lengths); beyond, lengths are merged."""
_MISMATCH: Final = 1 << 40
_MIDDLE_SCALE: Final = 1 << 20
_UNREACHED: Final = np.int64(1 << 60)
SPARSE_COMBINATIONS: Final = 200_000
"""Up to this many combinations, every reachable length is kept exactly (no grid)."""


@dataclass(frozen=True)
class Stage:
    """One choice the search makes: the value(s) of one range, for every side that has its own."""

    index: int
    """The top-level step whose layout it changes."""
    keys: tuple[ChoiceKey, ...]
    spans: tuple[Span, ...]
    unit_s: float
    """Seconds of work one unit of the value adds (a rep's phases, a breath, a second)."""

    def options(self) -> list[tuple[float, ...]]:
        """Every value tuple the search may choose, sides within one step (half a second) of each other."""
        values = candidates(self.spans[0])
        if len(self.keys) == 1:
            return [(v,) for v in values]
        found = {tuple(values[j] for _ in self.keys)
                 for j in range(len(values))}
        for j in range(len(values) - 1):
            found.update(t for t in itertools.product(values[j:j + 2], repeat=len(self.keys)) if len(set(t)) > 1)
        return sorted(found)

    def cost(self, option: tuple[float, ...]) -> int:
        """The tie-break: sides that differ, then the distance from each range's middle."""
        middle = sum(abs(v - s.middle()) / (s.hi - s.lo) for v, s in zip(option, self.spans))
        return (len(set(option)) - 1) * _MISMATCH + round(middle * _MIDDLE_SCALE)

    def extra_work_s(self, option: tuple[float, ...]) -> float:
        """The work an option adds over every value at its low end."""
        return sum((v - s.lo) * self.unit_s for v, s in zip(option, self.spans))

    def missing_work_s(self, option: tuple[float, ...]) -> float:
        return sum((s.hi - v) * self.unit_s for v, s in zip(option, self.spans))


def candidates(span: Span) -> list[float]:
    """The values a range offers the search: whole counts; half seconds of a hold or rest, and its ends."""
    if span.integer:
        return [float(v) for v in range(int(span.lo), int(span.hi) + 1)]
    halves = range(int(np.ceil(span.lo * 2)), int(np.floor(span.hi * 2)) + 1)
    return sorted({float(span.lo), float(span.hi), *(h / 2 for h in halves)})


def stages(routine: Routine, fixed: dict) -> list[Stage]:
    """The ranges fitting may choose, as stages.  Counts stay the same on every side, so the work
    stays balanced; holds and rests may differ by a second between sides, which lets a two-sided
    hold move the session in one-second steps rather than two.  A step inside a group takes the
    same value in every round."""
    found = []
    fixed_steps = {routine.top_of(ref) for ref, _, _ in fixed}
    for step in walk(routine.steps):
        if step.where[0] in fixed_steps:
            continue
        for key in RANGED_KEYS:
            span: Span | None = getattr(step, key)
            if span is None or span.fixed:
                continue
            sides = max(1, len(step.sides))
            unit = {"reps": sum(p.seconds for p in step.cycle), "breaths": step.inhale + step.exhale}.get(key, 1.0)
            if step.sides and not span.integer:
                keys = tuple((step.ref, key, side) for side in step.sides)
                found.append(Stage(step.where[0], keys, (span,) * sides, unit))
            else:
                found.append(Stage(step.where[0], ((step.ref, key, None),), (span,), unit * sides))
    return found


def fit_plan(routine: Routine, lengths: Lengths, *, target_s: float | None = None,
             fixed: dict[ChoiceKey, float] | None = None, sample_rate: int = SAMPLE_RATE,
             lead_in_s: float = DEFAULT_LEAD_IN_S) -> Plan:
    """The plan for ``routine``, with ranges chosen for ``target_s`` (or the script's ``duration``).

    ``fixed``: choices to keep, as a plan's ``choices`` has them; every range of their steps stays.
    """
    target_s = target_s if target_s is not None else routine.duration
    fixed = fixed or {}
    if target_s is None:
        try:
            return build_plan(routine, lengths, choices=fixed, sample_rate=sample_rate, lead_in_s=lead_in_s)
        except PlanError:  # the middles go past the 3-hour limit: as long as it allows (a shorter session raises)
            target_s = MAX_SESSION_S
    found = stages(routine, fixed)
    lowest_values = {**{k: float(s.lo) for st in found for k, s in zip(st.keys, st.spans)}, **fixed}
    # Over the limit even at the low end: no target can be met, and build_plan's error says so.
    lowest = build_plan(routine, lengths, choices=lowest_values, sample_rate=sample_rate, lead_in_s=lead_in_s)
    rate = lowest.sample_rate
    target, tolerance = int(round(target_s * rate)), int(round(TOLERANCE_S * rate))
    measured: dict = {}

    def advance(index: int, values: dict) -> int:
        """Step ``index``'s length with these values (cached: only the values inside it matter)."""
        own = tuple(sorted((k, v) for k, v in values.items() if tops.get(k[0]) == index))
        if (index, own) not in measured:
            measured[index, own] = step_advance(routine, lengths, index, values, sample_rate=rate)
        return measured[index, own]

    tops = {s.ref: s.where[0] for s in walk(routine.steps)}
    counted = [st for st in found if st.keys[0][1] == "rounds"]  # they multiply what is inside
    added = [st for st in found if st.keys[0][1] != "rounds"]
    best: tuple | None = None
    highest_n = 0
    for rounds in itertools.product(*(st.options() for st in counted)):
        values = dict(lowest_values)
        for st, option in zip(counted, rounds):
            values.update(zip(st.keys, option))
        touched = {st.index for st in counted}
        base = lowest.length + sum(advance(i, values) - advance(i, lowest_values) for i in touched)
        rounds_cost = sum(st.cost(o) for st, o in zip(counted, rounds))
        tables = []
        for stage in added:  # the sides of a step are laid out one after the other: their lengths add up
            at_low = advance(stage.index, values)
            each = [{v: advance(stage.index, {**values, key: v}) - at_low for v in candidates(span)}
                    for key, span in zip(stage.keys, stage.spans)]
            tables.append((stage, [(o, sum(side[v] for side, v in zip(each, o))) for o in stage.options()]))
        low = base + sum(min(length for _, length in rows) for _, rows in tables)
        high = base + sum(max(length for _, length in rows) for _, rows in tables)
        highest_n = max(highest_n, high)
        if best is not None and best[0] < _distance(low, high, target, tolerance):
            continue  # no choice inside can come closer than the best so far
        room_s = max(0.0, (target - base) / rate) + MARGIN_S
        short_s = max(0.0, (high - target) / rate) + MARGIN_S
        tables = [(stage, [(o, length) for o, length in rows
                           if stage.extra_work_s(o) <= room_s and stage.missing_work_s(o) <= short_s] or rows[:1])
                  for stage, rows in tables]
        chosen, total, edge, cost = search(
            [(np.array([length for _, length in rows], dtype=np.int64),
              np.array([stage.cost(o) for o, _ in rows], dtype=np.int64)) for stage, rows in tables],
            base, target, tolerance)
        for (stage, rows), j in zip(tables, chosen):
            values.update(zip(stage.keys, rows[j][0]))
        score = (_distance(total, total, target, tolerance), edge, cost + rounds_cost)
        if best is None or score < best[:3]:
            best = (*score, total, values)
    _, _, _, total, values = best  # type: ignore[misc]  # one set of rounds at least: product() of none is one
    reached = target - tolerance <= total <= target
    plan = build_plan(routine, lengths, choices=values, pad_to_s=target_s if reached else None,
                      sample_rate=sample_rate, lead_in_s=lead_in_s)
    if plan.length == target:
        return plan
    if target_s == routine.duration:
        where, asked = routine.locations.get("duration"), "cannot last"
    else:  # asked for on the command line: the script's duration line, if any, is not the cause
        where, asked = None, "--duration: cannot last"
    if plan.length == lowest.length and plan.length > target:
        why = (f"even with every range at its low end the session takes {clock(plan.duration_s)} "
               "(too much fixed speech, or ranges too narrow)")
    elif plan.length == highest_n and plan.length < target:
        why = f"even with every range at its high end the session takes only {clock(plan.duration_s)} " \
              "(widen the ranges or add steps)"
    else:
        why = (f"the ranges move in steps too large (the closest it can last is {clock(plan.duration_s)}); "
               "give a hold or a rest a range")
    loc = where or Location(routine.path, 1, 1)
    return replace(plan, warnings=plan.warnings + (Problem(loc, f"{asked} {clock(target_s)}: {why}", "warning"),))


def _distance(low: int, high: int, target: int, tolerance: int) -> int:
    """How far the closest length in [low, high] is from the target (the last second below it counts as it)."""
    if high < target - tolerance:
        return target - high
    return max(0, low - target)


def search(stages_: list[tuple[np.ndarray, np.ndarray]], base: int, target: int, tolerance: int,
           budget: int = BUDGET) -> tuple[list[int], int, int, int]:
    """The option of each stage that brings ``base`` plus their lengths closest to ``target``.

    Each stage is (lengths in samples, tie-break costs), one per option.  Within ``tolerance`` below
    the target counts as the target; there, lengths ``GUARD_S`` inside that second come first.  Returns
    the options chosen, the total they make, whether it is near the edge (1) or not (0), and its cost.
    """
    floors = [int(lengths.min()) for lengths, _ in stages_]  # speech can make a higher value shorter
    stages_ = [(lengths - floor, costs) for (lengths, costs), floor in zip(stages_, floors)]
    base += sum(floors)
    if np.prod([float(len(lengths)) for lengths, _ in stages_]) <= SPARSE_COMBINATIONS:
        exact, cost, chosen = _sparse(stages_)
    else:
        exact, cost, chosen = _dense(stages_, budget)
    totals = base + exact
    distance = np.where((totals <= target) & (totals >= target - tolerance), 0, np.abs(totals - target))
    guard = round(GUARD_S * tolerance / TOLERANCE_S)
    edge = ((totals > target - guard) | (totals < target - tolerance + guard)).astype(np.int64)
    best = int(np.lexsort((cost, edge, distance))[0])
    return chosen(best), int(totals[best]), int(edge[best]), int(cost[best])


def _sparse(stages_: list[tuple[np.ndarray, np.ndarray]]):
    """Every reachable length, exactly: for few combinations.  (lengths, costs, a way to each)."""
    exact = np.zeros(1, dtype=np.int64)
    cost = np.zeros(1, dtype=np.int64)
    backs: list[tuple[np.ndarray, np.ndarray]] = []
    for lengths, costs in stages_:
        m = len(lengths)
        sums = (exact[:, None] + lengths[None, :]).ravel()
        paid = (cost[:, None] + costs[None, :]).ravel()
        order = np.lexsort((paid, sums))  # the cheapest way to each length (the first on a tie)
        first = order[np.r_[True, sums[order][1:] != sums[order][:-1]]]
        backs.append((first // m, first % m))
        exact, cost = sums[first], paid[first]

    def chosen(state: int) -> list[int]:
        found = []
        for parent, option in reversed(backs):
            found.append(int(option[state]))
            state = int(parent[state])
        return found[::-1]

    return exact, cost, chosen


def _dense(stages_: list[tuple[np.ndarray, np.ndarray]], budget: int):
    """Reachable lengths on a grid of ``quantum`` samples, the exact length of the best way kept in each."""
    quantum = 1
    while _cells(stages_, quantum) > budget:
        quantum *= 2
    cost = np.zeros(1, dtype=np.int64)
    exact = np.zeros(1, dtype=np.int64)
    backs: list[tuple[np.ndarray, np.ndarray]] = []
    for lengths, costs in stages_:
        shifts = lengths // quantum
        order = np.lexsort((costs, shifts))  # one option per shift: the cheapest (the first on a tie)
        keep = order[np.r_[True, shifts[order][1:] != shifts[order][:-1]]]
        size = len(cost) + int(shifts.max())
        new_cost = np.full(size, _UNREACHED, dtype=np.int64)
        new_exact = np.zeros(size, dtype=np.int64)
        back = np.full(size, -1, dtype=np.int32)
        for j in keep:
            at = slice(int(shifts[j]), int(shifts[j]) + len(cost))
            candidate = np.where(cost < _UNREACHED, cost + costs[j], _UNREACHED)
            better = candidate < new_cost[at]
            new_cost[at] = np.where(better, candidate, new_cost[at])
            new_exact[at] = np.where(better, exact + lengths[j], new_exact[at])
            back[at] = np.where(better, j, back[at])
        cost, exact = new_cost, new_exact
        backs.append((back, shifts))
    reached = cost < _UNREACHED

    def chosen(state: int) -> list[int]:
        bucket, found = int(np.flatnonzero(reached)[state]), []
        for back, shifts in reversed(backs):
            j = int(back[bucket])
            found.append(j)
            bucket -= int(shifts[j])
        return found[::-1]

    return exact[reached], cost[reached], chosen


def _cells(stages_: list[tuple[np.ndarray, np.ndarray]], quantum: int) -> int:
    cells, width = 0, 1
    for lengths, _ in stages_:
        shifts = np.unique(lengths // quantum)
        cells += len(shifts) * width
        width += int(shifts.max())
    return cells
