"""A plan as data: the events placed on the timeline, its chapters, and the plan itself (with its JSON).

``plan.py`` builds these; everything downstream (mixing, playing, exporting, reports) reads them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from ..audio.kinds import EventKind
from ..errors import Problem
from ..script.routine import Routine, walk

ChoiceKey = tuple[int, str, "str | None"]


class Lengths(Protocol):
    """How long things last once synthesised, in samples at the plan's rate."""

    def speech(self, text: str) -> int: ...

    def sound(self, name: str) -> int: ...


def is_exact(lengths: Lengths, text: str) -> bool:
    """Whether ``lengths`` knows ``text``'s length rather than guessing it (only guessing ones say)."""
    exact = getattr(lengths, "exact", None)
    return exact is None or exact(text)


class Role(StrEnum):
    """What an event is for.  A string in the plan's JSON (``role``), so readers match on the value."""

    CAUTION = "caution"
    INTRO = "intro"
    OUTRO = "outro"
    END = "end"
    CHIME = "chime"
    NAME = "name"
    SIDE = "side"
    SETUP = "setup"
    GOAL = "goal"
    STEP_SOUND = "step-sound"
    FEEL = "feel"
    GROUP = "group"
    ROUND = "round"
    SAY = "say"
    PHASE_SOUND = "phase-sound"
    CUE = "cue"
    HOLD = "hold"
    HOLD_START = "hold-start"
    COUNTDOWN = "countdown"
    BREATH = "breath"
    REMINDER = "reminder"
    HOLD_END = "hold-end"
    RELEASE = "release"
    REST = "rest"
    PREVIEW = "preview"
    SAMPLE = "sample"  # a voice's sample sentence (`voices --sample`)


@dataclass(frozen=True)
class Event:
    """One sound or utterance placed on the timeline.  Times are samples from the session start."""

    start: int
    end: int
    kind: EventKind
    step: int
    text: str | None = None
    sound: str | None = None
    role: Role | None = None
    """What the event is for (None for an event made by hand, in tests)."""
    side: str | None = None
    path: tuple[int, ...] = ()
    """Inside a group or an include: the indices of the step that made it, from the top."""
    round: int | None = None
    """Inside a group: the round of the innermost group (from 1), of ``rounds``."""
    rounds: int | None = None
    source: str | None = None
    """Inside an include: the name of the routine the step comes from."""

    @property
    def where(self) -> tuple[int, ...]:
        """The indices of the step that made it, from the top (``(step,)`` at the top)."""
        return self.path or (self.step,)


@dataclass(frozen=True)
class Chapter:
    title: str
    start: int
    end: int
    step: int
    side: str | None = None
    name: str | None = None
    """The step's own name, without the side and the round the title carries."""
    round: int | None = None
    """Inside a group of more than one round: which round, of ``rounds``."""
    rounds: int | None = None


@dataclass(frozen=True)
class Plan:
    """A resolved session."""

    routine: Routine
    sample_rate: int
    length: int
    """Samples in the whole session, lead-in and tail included."""
    events: tuple[Event, ...]
    chapters: tuple[Chapter, ...]
    choices: dict[ChoiceKey, float] = field(default_factory=dict)
    """The value chosen for every range: (step index, key, side) -> value; side None means every side."""
    warnings: tuple[Problem, ...] = ()
    exact_until: int | None = None
    """None when every length was known; else the frontier: events starting before it are final."""

    @property
    def final(self) -> bool:
        return self.exact_until is None

    def step_start(self, index: int) -> int | None:
        """Where a step begins (its first event), None when it has none."""
        return min((e.start for e in self.events if e.step == index), default=None)

    @property
    def title(self) -> str:
        return self.routine.title

    @property
    def duration_s(self) -> float:
        return self.length / self.sample_rate

    def seconds(self, samples: int) -> float:
        return round(samples / self.sample_rate, 4)

    def to_dict(self) -> dict:
        sec = self.seconds
        events = []
        for e in self.events:
            item = {"start": sec(e.start), "end": sec(e.end), "kind": e.kind}
            speech = e.kind == EventKind.SPEECH
            item["text" if speech else "sound"] = e.text if speech else e.sound
            item.update(step=e.step, role=e.role)
            if e.side:
                item["side"] = e.side
            if e.round is not None:
                item.update(round=e.round, rounds=e.rounds)
            if len(e.path) > 1:
                item.update(substep=e.path[-1], path=list(e.path))
            if e.source:
                item["from"] = e.source
            events.append(item)
        steps = {s.ref: s.where for s in walk(self.routine.steps)}

        def choice(ref: int, key: str, side: str | None, value: float) -> dict:
            where = steps.get(ref, (ref,))
            inside = {"substep": where[-1], "path": list(where)} if len(where) > 1 else {}
            return {"step": where[0], **inside, "key": key, "side": side, "value": value}

        return {
            "title": self.title,
            "duration": sec(self.length),
            "sample_rate": self.sample_rate,
            "chapters": [
                {"title": c.title, "start": sec(c.start), "end": sec(c.end), "step": c.step}
                for c in self.chapters
            ],
            "events": events,
            "choices": [
                choice(i, k, side, v)
                for (i, k, side), v in sorted(self.choices.items(),
                                              key=lambda kv: (steps.get(kv[0][0], ()), kv[0][1], kv[0][2] or ""))
            ],
            "warnings": [str(w) for w in self.warnings],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
