"""Where a session is, read off the plan: the step, what is being said, the countdown, rep n of N,
the side and the next step, at any sample (``Guide.status``).

Everything a player shows is derived from the plan at a position, so no view can disagree with
what is heard: the terminal screen (``screen.py``) draws it, and the phone page (``site.py``) gets
it precomputed at every change.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass
from typing import Final

from ..script import words
from ..script.routine import Phase, StepKind, walk
from .events import EventKind, Role
from .plan import INTRO_STEP, MIN_CUE_GAP_S, Event, Plan

NOT_EXERCISES: Final = (StepKind.SAY, StepKind.REST)
"""Named steps of these kinds are chapters but not exercises ("Exercise 2 of 4" counts the others)."""


@dataclass(frozen=True)
class Stop:
    """A place the player can skip to: each named step (each side its own), an unnamed step, the intro, the finish."""

    start: int
    step: int
    title: str
    side: str | None = None
    name: str | None = None
    """A named step's own name (the title may add the side and the round)."""
    round: tuple[int, int] | None = None
    """(n, N): round n of N, inside a group."""
    kind: StepKind | None = None
    """The step's kind (``say``, ``rest``, ...); None for the intro and the finish."""


@dataclass(frozen=True)
class Window:
    """A stretch with a countdown: a hold, a phase of a rep, a breath, a rest."""

    start: int
    end: int
    label: str
    count: tuple[int, int] | None = None
    """(n, N): rep n of N, breath n of N."""
    count_label: str = ""
    inhale: bool | None = None
    """A rep's phase that is a breath (its cue sound, else its name: "Inhale", "Breathe out"): in or out."""


@dataclass(frozen=True)
class Status:
    """Everything the screen shows at one moment."""

    title: str
    step: str
    step_number: int | None
    """1-based position of the step in the routine; None for the intro and the finish."""
    step_count: int
    side: str | None
    saying: str | None
    countdown_label: str | None
    countdown_s: float | None
    count: tuple[int, int] | None
    count_label: str
    next_step: str | None
    position_s: float
    length_s: float
    paused: bool = False
    note: str | None = None
    round: tuple[int, int] | None = None
    """(n, N): round n of N, inside a group."""
    sound: str | None = None
    """Which bed is under the voice and where the cues sit (``report.sound_line``)."""
    exercise: tuple[int, int] | None = None
    """(n, N): exercise n of N, counting named steps that are neither a rest nor a ``say`` (each side
    and each round of one is the same exercise); None between exercises."""


@dataclass(frozen=True)
class Breath:
    """One breath in or out that the session paces (a breathing set, a hold's pacer, or a rep's phase
    cued with the inhale or exhale sound): what a breathing guide follows."""

    start: int
    end: int
    inhale: bool


def step_label(plan: Plan, index: int) -> str:
    """A step's name, or a short stand-in for an unnamed one."""
    steps = plan.routine.steps
    if index == INTRO_STEP:
        return words.INTRODUCTION
    if index >= len(steps):
        return words.FINISH
    step = steps[index]
    if step.name:
        return step.name
    if step.kind == StepKind.SAY:
        return words.GET_READY
    return words.KIND_TITLES.get(step.kind, step.kind)


def find_stops(plan: Plan) -> tuple[Stop, ...]:
    """Every place ``n``/``p`` and ``--from`` can go, in time order."""
    first: dict[int, int] = {}
    for e in plan.events:
        first[e.step] = min(first.get(e.step, e.start), e.start)
    steps = plan.routine.steps
    found = [Stop(c.start, c.step, c.title, c.side, c.name, (c.round, c.rounds) if c.round and c.rounds else None,
                  _named_kind(plan, c.step, c.name)) for c in plan.chapters]
    named = {c.step for c in plan.chapters}
    for step, start in first.items():
        if step == INTRO_STEP:
            found.append(Stop(0, step, step_label(plan, step)))
        elif step not in named:
            kind = steps[step].kind if step < len(steps) else None
            found.append(Stop(start, step, step_label(plan, step), kind=kind))
    found.sort(key=lambda s: (s.start, s.step))
    unique: list[Stop] = []
    for stop in found:
        if not unique or stop.start != unique[-1].start:
            unique.append(stop)
    return tuple(unique) or (Stop(0, INTRO_STEP, plan.title),)


def _named_kind(plan: Plan, step: int, name: str | None) -> StepKind | None:
    """The kind of the step a chapter is for: the named step at or inside top-level step ``step``."""
    steps = plan.routine.steps
    if not 0 <= step < len(steps):
        return None
    return next((s.kind for s in walk((steps[step],)) if s.name == name and not s.holds_steps), steps[step].kind)


def phase_name(phase: Phase) -> str:
    """A rep's phase as it is said, in a word or two: the first clause of its short cue (else of its
    cue), without the full stop: "Exhale, flatten." -> "Exhale", "Lift." -> "Lift"."""
    return re.split(r"[,;:.!?]", phase.short or phase.say, maxsplit=1)[0].strip() or words.REP_LABEL


def exercises(stops: tuple[Stop, ...]) -> list[tuple[int, str | None]]:
    """Every exercise once, in order: (top-level step, name) of the stops that are exercises."""
    found: list[tuple[int, str | None]] = []
    for stop in stops:
        key = (stop.step, stop.name)
        if stop.name and stop.kind not in NOT_EXERCISES and key not in found:
            found.append(key)
    return found


def phase_breath(phase: Phase) -> bool | None:
    """Whether a rep's phase is a breath in (True) or out (False), by its cue sound, else by its name."""
    if phase.sound in ("inhale", "exhale"):
        return phase.sound == "inhale"
    name = phase_name(phase).lower()
    return True if name in words.INHALE_NAMES else False if name in words.EXHALE_NAMES else None


def breaths(plan: Plan) -> list[Breath]:
    """Every paced breath in time order, from the plan's own events, so a guide drawn from them moves
    with what is heard: the breath sounds of breathing sets and holds (a breath lasts until the next
    breath or cue of its step, or its own planned seconds, whichever comes first), and the phases of
    reps that are breaths (``phase_breath``), each as long as its phase."""
    rate, found = plan.sample_rate, []
    marks = [e for e in plan.events if e.kind == EventKind.SOUND and e.sound in ("inhale", "exhale")
             and e.role == Role.BREATH]
    beats = sorted({e.start for e in plan.events if e.role in (Role.BREATH, Role.CUE, Role.HOLD_END)})
    for e in marks:
        step = plan.routine.step_at(e.where) if 0 <= e.step < len(plan.routine.steps) else None
        inhale = e.sound == "inhale"
        if step is None:
            continue
        if step.kind == StepKind.BREATHS:
            seconds = step.inhale if inhale else step.exhale
        elif step.kind == StepKind.HOLD and step.breathe:
            seconds = step.breathe.inhale if inhale else step.breathe.exhale
        else:
            continue
        k = bisect.bisect_right(beats, e.start)
        end = e.start + round(seconds * rate)
        if k < len(beats):
            end = min(end, beats[k])
        if end > e.start:
            found.append(Breath(e.start, end, inhale))
    found += [Breath(w.start, w.end, w.inhale) for w in _windows(plan) if w.inhale is not None]
    return sorted(found, key=lambda b: b.start)


def _windows(plan: Plan) -> list[Window]:
    """The countdown stretches of the session, from its events."""
    rate, steps = plan.sample_rate, plan.routine.steps
    by_group: dict[tuple[tuple[int, ...], str | None, int | None], list[Event]] = {}
    for e in plan.events:
        by_group.setdefault((e.where, e.side, e.round), []).append(e)
    found: list[Window] = []
    for (where, _side, _round), events in by_group.items():
        if not 0 <= where[0] < len(steps):
            continue
        step = plan.routine.step_at(where)
        if step.kind == StepKind.REPS and step.cycle:
            cues = [e for e in events if e.role == Role.CUE]
            phases = len(step.cycle)
            for j, cue in enumerate(cues):
                if j + 1 < len(cues):
                    end = cues[j + 1].start
                else:
                    needed = cue.end - cue.start + round(MIN_CUE_GAP_S * rate)
                    end = cue.start + max(round(step.cycle[j % phases].seconds * rate), needed)
                phase = step.cycle[j % phases]
                found.append(Window(cue.start, end, phase_name(phase), (j // phases + 1, len(cues) // phases),
                                    words.REP_LABEL, phase_breath(phase)))
        elif step.kind == StepKind.HOLD:
            ends = [e for e in events if e.role == Role.HOLD_END]
            for begin in (e for e in events if e.role == Role.HOLD_START):
                end = next((e.start for e in ends if e.start >= begin.start), begin.start)
                found.append(Window(begin.start, end, words.HOLD_LABEL))
        elif step.kind == StepKind.BREATHS:
            breaths = [e for e in events if e.kind == EventKind.SOUND and e.role == Role.BREATH]
            total = sum(e.sound == "inhale" for e in breaths)
            k = 0
            for j, e in enumerate(breaths):
                k += e.sound == "inhale"
                seconds = step.inhale if e.sound == "inhale" else step.exhale
                end = breaths[j + 1].start if j + 1 < len(breaths) else e.start + round(seconds * rate)
                label = words.INHALE_LABEL if e.sound == "inhale" else words.EXHALE_LABEL
                found.append(Window(e.start, end, label, (max(k, 1), total), words.BREATH_LABEL))
        elif step.kind == StepKind.REST or any(e.role == Role.REST for e in events):  # a rest, or between rounds
            rest_word = next((e for e in events if e.role == Role.REST), None)
            if rest_word is not None:
                later = [e.start for e in plan.events if e.start > rest_word.start and e.role != Role.PREVIEW]
                found.append(Window(rest_word.end, min(later, default=plan.length), words.REST_LABEL))
    found.sort(key=lambda w: w.start)
    return found


class Guide:
    """Answers "where are we?" for any sample position of one plan.  Built once; each lookup is a bisect."""

    def __init__(self, plan: Plan, sound: str | None = None):
        self.plan = plan
        self.sound = sound
        self.stops = find_stops(plan)
        self._stop_starts = [s.start for s in self.stops]
        self._windows = _windows(plan)
        self._window_starts = [w.start for w in self._windows]
        self._speech = [e for e in plan.events if e.kind == EventKind.SPEECH]
        self._speech_starts = [e.start for e in self._speech]
        self._event_starts = [e.start for e in plan.events]
        self._exercises = exercises(self.stops)

    def changes(self) -> list[int]:
        """Every position where the status changes other than by its countdown running down, sorted.

        Between two of them the view is the same but for the countdown and the clock: the page on
        the phone (``site.py``) is given the status at each, so it needs no copy of this logic.
        """
        points = {0, *self._stop_starts, *self._speech_starts}
        for w in self._windows:
            points.update((w.start, w.end))
        return sorted(p for p in points if 0 <= p < self.plan.length)

    def stop_index(self, position: int) -> int:
        """The stop that ``position`` is in (the first one before any stop starts)."""
        return max(bisect.bisect_right(self._stop_starts, position) - 1, 0)

    def _heard_round(self, position: int, stop: Stop) -> tuple[int, int] | None:
        """The round of what was heard last in this stop (an unnamed step inside a group)."""
        k = bisect.bisect_right(self._event_starts, position) - 1
        last = self.plan.events[k] if k >= 0 and self.plan.events[k].start >= stop.start else None
        if last is None or last.round is None or last.rounds is None or last.rounds < 2:
            return None
        return (last.round, last.rounds)

    def status(self, position: int, *, paused: bool = False, note: str | None = None) -> Status:
        plan, rate = self.plan, self.plan.sample_rate
        i = self.stop_index(position)
        stop = self.stops[i]
        steps = plan.routine.steps
        j = bisect.bisect_right(self._speech_starts, position) - 1
        saying = self._speech[j].text if j >= 0 and self._speech[j].start >= stop.start else None
        w = bisect.bisect_right(self._window_starts, position) - 1
        window = self._windows[w] if w >= 0 and position < self._windows[w].end else None
        side = stop.side  # a named step's side is its chapter's; an unnamed step's, what was said last
        if side is None and saying is not None:
            side = self._speech[j].side
        return Status(
            title=plan.title,
            step=stop.name or (step_label(plan, stop.step) if stop.side else stop.title),
            round=stop.round or self._heard_round(position, stop),
            step_number=stop.step + 1 if 0 <= stop.step < len(steps) else None,
            step_count=len(steps),
            side=side,
            saying=saying,
            countdown_label=window.label if window else None,
            countdown_s=(window.end - position) / rate if window else None,
            count=window.count if window else None,
            count_label=window.count_label if window else "",
            next_step=next((s.title for s in self.stops[i + 1 :] if s.name or s.kind != StepKind.SAY), None),
            position_s=position / rate,
            length_s=plan.length / rate,
            paused=paused,
            note=note,
            sound=self.sound,
            exercise=self._exercise(stop),
        )

    def _exercise(self, stop: Stop) -> tuple[int, int] | None:
        key = (stop.step, stop.name)
        if key not in self._exercises:
            return None
        return (self._exercises.index(key) + 1, len(self._exercises))


def countdown_clock(seconds: float) -> str:
    """Seconds as m:ss, rounded up so a countdown reaches 0:00 exactly at its end."""
    whole = max(math.ceil(seconds - 1e-9), 0)
    return f"{whole // 60}:{whole % 60:02d}"
