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
- Options whose length alone would overshoot (or fall short of) the target by more than
  ``MARGIN_S`` are not tried: speech that changes with the value varies by a second or two.
- Ranged rounds multiply what is inside their group, so a top-level step with ranged rounds is one
  stage (``_group_options``): every choice of its rounds, each with every length the ranges inside
  can then make.  The work grows with the rounds' options, not with their product over the routine
  (ten groups of ``rounds: 1-5`` were 5**10 searches before).  The search machinery is ``search.py``.

The plan is then built with the chosen values and padded to the target, so it lasts the target to
the sample.  The search is deterministic: the same script and voice give the same plan every time.

``fixed`` choices are kept as they are and the search moves the rest: the live player fixes the
ranges of the steps it has started to play (``live.py``) and fits the others as speech arrives.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final

import numpy as np

from ..errors import Location, PlanError, Problem
from ..script.routine import MAX_SESSION_S, RANGED_KEYS, Routine, Span, StepKind, walk
from ..script.settings import DEFAULT_LEAD_IN_S, SAMPLE_RATE
from .clock import clock
from .plan import ChoiceKey, Lengths, Plan, build_plan, step_advance
from .search import BUDGET, TOLERANCE_S, Options, reachable, search

__all__ = ["TOLERANCE_S", "Stage", "candidates", "fit_plan", "stages"]

MARGIN_S: Final = 60.0
MAX_ROUND_CHOICES: Final = 400
"""Choices of rounds fitted in one top-level step (nested ranged rounds multiply theirs)."""
MEASURE_BUDGET: Final = 60_000
"""Step layouts spent measuring what is inside a group at each choice of its rounds; beyond, the
lengths measured at the high end are scaled by the rounds."""
SPARSE_BUDGET: Final = 200_000
_MISMATCH: Final = 1 << 40
_MIDDLE_SCALE: Final = 1 << 20


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
    tops = {s.ref: s.where[0] for s in walk(routine.steps)}
    low_inside: dict[int, dict[ChoiceKey, float]] = {}  # each top-level step's values at the low end
    for key, value in lowest_values.items():
        if key[0] in tops:
            low_inside.setdefault(tops[key[0]], {})[key] = value
    measured: dict = {}

    def advance(index: int, changed: dict) -> int:
        """Step ``index``'s length at the low end but for ``changed`` (cached: only its own values matter,
        so the cost of a measure does not grow with the routine)."""
        own = {**low_inside.get(index, {}), **{k: v for k, v in changed.items() if tops.get(k[0]) == index}}
        key = (index, tuple(sorted(own.items())))
        if key not in measured:
            measured[key] = step_advance(routine, lengths, index, own, sample_rate=rate)
        return measured[key]

    counted = [st for st in found if st.keys[0][1] == "rounds"]  # they multiply what is inside
    grouped = sorted({st.index for st in counted})
    stage_rows: list[Options] = []
    for stage in (st for st in found if st.keys[0][1] != "rounds" and st.index not in grouped):
        at_low = advance(stage.index, {})
        each = [{v: advance(stage.index, {key: v}) - at_low for v in candidates(span)}
                for key, span in zip(stage.keys, stage.spans)]
        rows = [(o, sum(side[v] for side, v in zip(each, o))) for o in stage.options()]
        stage_rows.append(_rows_options(stage, rows))
    warnings: list[Problem] = []
    for index in grouped:  # each step with ranged rounds is one stage: its rounds and what is inside
        stage_rows.append(_group_options(routine, index, [st for st in found if st.index == index], advance,
                                         warnings))
    highest_n = lowest.length + sum(int(o.lengths.max()) for o in stage_rows)
    room = target - lowest.length + int(MARGIN_S * rate)  # an option adding more overshoots whatever the rest
    short = highest_n - target + int(MARGIN_S * rate)  # one taking away more falls short whatever the rest
    stage_rows = [o.pruned(room, short) for o in stage_rows]
    chosen, total, _, _ = search([(o.lengths, o.costs) for o in stage_rows], lowest.length, target, tolerance)
    values = dict(lowest_values)
    for options, j in zip(stage_rows, chosen):
        values.update(options.values(j))
    reached = target - tolerance <= total <= target
    plan = build_plan(routine, lengths, choices=values, pad_to_s=target_s if reached else None,
                      sample_rate=sample_rate, lead_in_s=lead_in_s)
    plan = replace(plan, warnings=plan.warnings + tuple(warnings))
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


def _rows_options(stage: Stage, rows: list[tuple[tuple[float, ...], int]]) -> Options:
    """A stage's options as the search takes them: (values, length added) each."""
    return Options(np.array([length for _, length in rows], dtype=np.int64),
                   np.array([stage.cost(o) for o, _ in rows], dtype=np.int64),
                   lambda j: dict(zip(stage.keys, rows[j][0])))


def _group_options(routine: Routine, index: int, found: list[Stage], advance: Callable[[int, dict], int],
                   warnings: list[Problem]) -> Options:
    """Top-level step ``index``, whose groups have ranged rounds, as one stage: for every choice of its
    rounds, every length the ranges inside can make (``reachable``), with the rounds' cost added.
    ``advance`` measures the step with the values it is given and the rest at their low end.

    So rounds are a stage of the search like any other range, and the work grows with the rounds'
    options times what is inside, not with their product over the whole routine.  Nested groups with
    ranged rounds multiply their options; past ``MAX_ROUND_CHOICES`` the inner ones keep their middle
    (a warning at their line says so).  What is inside is measured at every choice of rounds while
    that takes at most ``MEASURE_BUDGET`` step layouts; beyond, once at the rounds' high end and scaled
    by the rounds (each round lays its steps out the same way).
    """
    counted = [st for st in found if st.keys[0][1] == "rounds"]
    inside = [st for st in found if st.keys[0][1] != "rounds"]
    held: dict[ChoiceKey, float] = {}
    while len(counted) > 1 and math.prod(len(st.options()) for st in counted) > MAX_ROUND_CHOICES:
        st = counted.pop()  # the innermost (walk order: outer groups first)
        held[st.keys[0]] = st.spans[0].middle()
        step = routine.by_ref(st.keys[0][0])
        where = step.locations.get("rounds", step.location) if step else Location(routine.path, 1, 1)
        warnings.append(Problem(where, (
            f"the rounds here keep the middle of their range ({st.spans[0].middle():g}) when fitting a duration: "
            f"groups inside groups with ranged rounds make too many combinations; give this group a fixed number "
            "of rounds to choose it yourself"), "warning"))
    combos = list(itertools.product(*(st.options() for st in counted)))
    at_low = advance(index, {})
    size = max(1, routine.steps[index].expanded)
    high = {**held, **{st.keys[0]: st.spans[0].hi for st in counted}}
    per_layout = sum(len(st.options()) + 1 for st in inside)
    exact = len(combos) * per_layout * size <= MEASURE_BUDGET
    scale_at: dict[ChoiceKey, tuple[float, dict[float, int]]] = {}
    if not exact:  # once, at the high end: the option's length per unit of the rounds around it
        top = advance(index, high)
        for st in inside:
            for key, span in zip(st.keys, st.spans):
                per = _rounds_around(routine, key, high)
                scale_at[key] = (per, {v: advance(index, {**high, key: v}) - top for v in candidates(span)})
    lengths, costs, picks, choosers = [], [], [], []
    for n, combo in enumerate(combos):
        values = {**held, **{st.keys[0]: o[0] for st, o in zip(counted, combo)}}
        base = advance(index, values) - at_low
        tables = []
        for st in inside:
            if exact:
                here = advance(index, values)
                each = [{v: advance(index, {**values, key: v}) - here for v in candidates(span)}
                        for key, span in zip(st.keys, st.spans)]
            else:
                each = []
                for key in st.keys:
                    per, measured = scale_at[key]
                    ratio = _rounds_around(routine, key, values) / per if per else 0.0
                    each.append({v: int(round(d * ratio)) for v, d in measured.items()})
            tables.append([(o, sum(side[v] for side, v in zip(each, o))) for o in st.options()])
        reach, cost, chooser = reachable(
            [(np.array([length for _, length in rows], dtype=np.int64),
              np.array([st.cost(o) for o, _ in rows], dtype=np.int64)) for st, rows in zip(inside, tables)],
            max(SPARSE_BUDGET, BUDGET // max(1, len(combos))))
        lengths.append(base + reach)
        costs.append(cost + sum(st.cost(o) for st, o in zip(counted, combo)))
        picks.append(np.stack([np.full(len(reach), n), np.arange(len(reach))], axis=1))
        choosers.append((combo, tables, chooser))
    all_lengths, all_costs, all_picks = np.concatenate(lengths), np.concatenate(costs), np.concatenate(picks)
    order = np.lexsort((all_costs, all_lengths))  # the cheapest way to each length (the first on a tie)
    first = order[np.r_[True, all_lengths[order][1:] != all_lengths[order][:-1]]]

    def chosen_values(j: int) -> dict:
        n, state = (int(x) for x in all_picks[first[j]])
        combo, tables, chooser = choosers[n]
        chosen = {**held, **{st.keys[0]: o[0] for st, o in zip(counted, combo)}}
        for st, rows, k in zip(inside, tables, chooser(state)):
            chosen.update(zip(st.keys, rows[k][0]))
        return chosen

    return Options(all_lengths[first], all_costs[first], chosen_values)


def _rounds_around(routine: Routine, key: ChoiceKey, values: dict) -> float:
    """How many times a range's value is laid out in its top-level step: the rounds of every group
    around its step multiplied (for a group's ``rest_between``: its own rounds less one, times those
    around it)."""
    step = routine.by_ref(key[0])
    if step is None:
        return 1.0
    where = step.where
    times = 1.0
    for depth in range(1, len(where)):
        group = routine.step_at(where[:depth])
        if group.kind == StepKind.ROUNDS and group.rounds is not None:
            times *= values.get((group.ref, "rounds", None), group.rounds.lo)
    if key[1] == "rest_between" and step.rounds is not None:
        times *= values.get((step.ref, "rounds", None), step.rounds.lo) - 1
    return times
