"""Dynamic programming over reachable lengths: the search behind fitting a duration (``fit.py``).

Each stage is an array of option lengths (samples) with tie-break costs; the search finds, for every
length the stages can add up to, the cheapest way there, and picks the length closest to a target.
Exact to the sample while the combinations are few (``_sparse``); beyond, lengths are kept on a grid
of ``quantum`` samples with the exact length of the best way in each cell (``_dense``), under a
budget of array cells.  ``reachable`` gives every length a set of stages can make (a group's rounds
and what is inside them become one stage of options this way, ``fit._group_options``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np

TOLERANCE_S: Final = 1.0
GUARD_S: Final = 0.25
"""Among lengths that reach the target, those this far inside the last second below it come first:
while playing live, later speech may turn out a little longer or shorter than guessed."""
BUDGET: Final = 20_000_000
"""Array cells the search may visit (options x reachable lengths); beyond, lengths are merged."""
_UNREACHED: Final = np.int64(1 << 60)
SPARSE_COMBINATIONS: Final = 200_000
"""Up to this many combinations, every reachable length is kept exactly (no grid)."""

Chooser = Callable[[int], list[int]]
"""The option of each stage that makes a reachable length, by the length's index."""


@dataclass(frozen=True)
class Options:
    """One stage as the search sees it: lengths and costs, and the values each option sets."""

    lengths: np.ndarray
    costs: np.ndarray
    values: Callable[[int], dict]
    """Option ``j`` -> the choices it makes (``ChoiceKey`` -> value)."""

    def pruned(self, room: int, short: int) -> Options:
        """Without the options that add more than ``room`` or fall more than ``short`` below the
        longest (they cannot come closest whatever the other stages do); the nearest one at least."""
        low, high = self.lengths.max() - max(short, 0), max(room, int(self.lengths.min()))
        keep = np.flatnonzero((self.lengths <= high) & (self.lengths >= low))
        if not len(keep):  # the two bounds cross: the option nearest to both
            keep = np.array([int(np.argmin(np.maximum(self.lengths - high, low - self.lengths)))])
        if len(keep) == len(self.lengths):
            return self
        values = self.values
        return Options(self.lengths[keep], self.costs[keep], lambda j: values(int(keep[j])))


def reachable(stages_: list[tuple[np.ndarray, np.ndarray]],
              budget: int = BUDGET) -> tuple[np.ndarray, np.ndarray, Chooser]:
    """Every length the stages can add up to (on a grid beyond ``SPARSE_COMBINATIONS``), the cheapest
    cost of each, and the options that make it."""
    if not stages_:
        return np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64), lambda state: []
    floors = [int(lengths.min()) for lengths, _ in stages_]  # speech can make a higher value shorter
    shifted = [(lengths - floor, costs) for (lengths, costs), floor in zip(stages_, floors)]
    if np.prod([float(len(lengths)) for lengths, _ in shifted]) <= SPARSE_COMBINATIONS:
        exact, cost, chosen = _sparse(shifted)
    else:
        exact, cost, chosen = _dense(shifted, budget)
    return exact + sum(floors), cost, chosen


def search(stages_: list[tuple[np.ndarray, np.ndarray]], base: int, target: int, tolerance: int,
           budget: int = BUDGET) -> tuple[list[int], int, int, int]:
    """The option of each stage that brings ``base`` plus their lengths closest to ``target``.

    Each stage is (lengths in samples, tie-break costs), one per option.  Within ``tolerance`` below
    the target counts as the target; there, lengths ``GUARD_S`` inside that second come first.  Returns
    the options chosen, the total they make, whether it is near the edge (1) or not (0), and its cost.
    """
    exact, cost, chosen = reachable(stages_, budget)
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
        reached = cost < _UNREACHED
        for j in keep:
            at = slice(int(shifts[j]), int(shifts[j]) + len(cost))
            candidate = np.where(reached, cost + costs[j], _UNREACHED)
            better = candidate < new_cost[at]
            np.copyto(new_cost[at], candidate, where=better)  # in place: the slices are views
            np.copyto(new_exact[at], exact + lengths[j], where=better)
            np.copyto(back[at], j, where=better)
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
