"""A parsed routine script, as plain values.

``parse.py`` builds these from YAML (keeping where every value came from, for messages);
``plan.py`` turns them into a timed session.  Nothing here does work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from ..errors import Location
from .settings import DEFAULT_BED_LEVEL_LU, DEFAULT_CUE_LEVEL_LU, DEFAULT_RATE


class StepKind(StrEnum):
    """What a step does: the one key of these it has (``say`` may also go with ``breaths``).

    A string too (``StepKind.REPS == "reps"``), so it reads and prints as the key written."""

    SAY = "say"
    REPS = "reps"
    HOLD = "hold"
    BREATHS = "breaths"
    REST = "rest"
    ROUNDS = "rounds"
    """A group: its steps, done in rounds."""
    INCLUDE = "include"
    """Another routine's steps, spliced in."""


KINDS: Final = tuple(StepKind)
"""The step kinds, in the order a step's keys are looked for."""

RANGED_KEYS: Final = ("reps", "hold", "breaths", "rest", "rounds", "rest_between")
"""The keys that take a number or a range (``8-12``) the planner chooses inside."""

MAX_DEPTH: Final = 3
"""Groups inside groups: at most this many levels."""
MAX_INCLUDE_DEPTH: Final = 5
"""Includes inside includes: at most this many levels."""
MAX_EXPANDED_STEPS: Final = 10_000
"""Steps a routine may come to with its includes spliced in and every group's rounds counted out (at
the high end of a range; each side of a step counts).  A three-hour session of one-second steps would
be 10,800; real routines have tens (the built-ins at most 17).  Checked as includes are read, so a
few small files that include each other many times cannot make millions."""

SOUND_NAMES: Final = ("chime", "start", "release", "tick", "inhale", "exhale", "bell")
"""Built-in cue sounds, made by the program itself."""

BED_NAMES: Final = ("pink", "brown", "drone", "breath")
"""Generated beds under the voice, made by the program itself."""
CUE_LEVEL_RANGE_LU: Final = (-30.0, 0.0)
BED_LEVEL_RANGE_LU: Final = (-40.0, -6.0)

DEFAULT_PAUSE_S: Final = 0.5
DEFAULT_COUNTDOWN: Final = 3
MIN_RATE: Final = 0.5
MAX_RATE: Final = 2.0
MAX_SESSION_S: Final = 3 * 60 * 60
"""No session is longer: a typo must not make a three-hour one by accident."""


@dataclass(frozen=True)
class Span:
    """A number or a range the planner chooses inside (``8-12``): ``lo == hi`` for a plain number."""

    lo: float
    hi: float
    integer: bool = False
    """Whole numbers only (reps, breaths)."""

    @property
    def fixed(self) -> bool:
        return self.lo == self.hi

    def middle(self) -> float:
        """The default choice (timing rule 6): the middle, rounded down for whole-number spans."""
        mid = (self.lo + self.hi) / 2
        return float(int(mid)) if self.integer else mid


@dataclass(frozen=True)
class Phase:
    """One part of a repetition: a cue spoken as it starts, lasting exactly ``seconds``."""

    say: str
    seconds: float
    short: str | None = None
    """Shorter cue for reps after the first two."""
    sound: str | None = None
    """Cue sound at the phase start."""
    location: Location | None = None


@dataclass(frozen=True)
class Breathing:
    """A breathing pacer: seconds in and out."""

    inhale: float
    exhale: float


@dataclass(frozen=True)
class Step:
    """One step of a routine.  ``kind`` says which of the kind-specific fields mean anything."""

    kind: StepKind
    index: int
    location: Location
    name: str | None = None
    setup: tuple[str, ...] = ()
    goal: str | None = None
    feel: str | None = None
    sides: tuple[str, ...] = ()
    sound: str | None = None
    """Cue sound played as the work starts."""

    # say (also the first-breath cue of a breaths step)
    say: str | None = None
    pause: float = DEFAULT_PAUSE_S

    # reps
    reps: Span | None = None
    count: bool = True
    cycle: tuple[Phase, ...] = ()

    # hold
    hold: Span | None = None
    breathe: Breathing | None = None
    reminders: tuple[str, ...] = ()
    countdown: int = DEFAULT_COUNTDOWN

    # breaths
    breaths: Span | None = None
    inhale: float = 4.0
    exhale: float = 6.0

    # rest
    rest: Span | None = None

    # rounds (a group) and include: steps inside the step
    rounds: Span | None = None
    steps: tuple[Step, ...] = ()
    announce: bool = True
    """Say "Round two of three." as each round starts."""
    rest_between: Span | None = None
    """A rest between rounds, not after the last."""
    include: str | None = None
    """The routine included, as written (a built-in's name or a path)."""
    source: str | None = None
    """For an include: the name of the routine its steps come from."""

    path: tuple[int, ...] = ()
    """Where a step inside a group or include is: its indices from the top (empty at the top)."""
    uid: int | None = None
    """A number unique in the routine for a step inside a group (top-level steps: their index)."""

    locations: dict[str, Location] = field(default_factory=dict, compare=False, hash=False)
    """Where each key of the step was written, for warnings."""
    expanded: int = field(default=1, compare=False, hash=False)
    """How many steps this one comes to with its rounds (at their high end) and includes counted out."""

    @property
    def ref(self) -> int:
        """The step's number in a plan's choices: its index at the top, its ``uid`` inside a group."""
        return self.index if self.uid is None else self.uid

    @property
    def where(self) -> tuple[int, ...]:
        """Its indices from the top: ``(2,)`` for the third step, ``(2, 0)`` for the first inside it."""
        return self.path or (self.index,)

    @property
    def holds_steps(self) -> bool:
        return self.kind in (StepKind.ROUNDS, StepKind.INCLUDE)


def walk(steps: tuple[Step, ...]):
    """Every step, groups and what they hold, in the order they are written."""
    for step in steps:
        yield step
        yield from walk(step.steps)


@dataclass(frozen=True)
class Routine:
    """A whole routine script."""

    title: str
    steps: tuple[Step, ...]
    path: str = "<routine>"
    summary: str | None = None
    duration: float | None = None
    """Target length in seconds (timing rule 6)."""
    voice: str | None = None
    rate: float = DEFAULT_RATE
    caution: bool = True
    brief_caution: bool = False
    """Say the caution as one short sentence: a programme's later days (the full note on its first)."""
    intro: tuple[str, ...] = ()
    outro: tuple[str, ...] = ()
    sounds: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    """Replacement cue sounds: name -> absolute path of an audio file."""
    cue_level: float = DEFAULT_CUE_LEVEL_LU
    """Cue sounds' loudness relative to the voice, LU."""
    bed: str | None = None
    """A generated bed's name (``BED_NAMES``), an audio file's absolute path, or None: no bed."""
    bed_level: float = DEFAULT_BED_LEVEL_LU
    """The bed's loudness relative to the voice between utterances, LU."""
    locations: dict[str, Location] = field(default_factory=dict, compare=False, hash=False)
    sources: tuple[str, ...] = field(default=(), compare=False, hash=False)
    """Every file the routine was read from, as absolute paths: its own first (none for text
    without a file), then each included one; what a made session depends on."""

    def step_at(self, where: tuple[int, ...]) -> Step:
        """The step at these indices from the top (``Step.where``)."""
        steps, step = self.steps, None
        for i in where:
            step = steps[i]
            steps = step.steps
        if step is None:
            raise IndexError(where)
        return step

    def by_ref(self, ref: int) -> Step | None:
        """The step a plan's choice names (``Step.ref``)."""
        return next((s for s in walk(self.steps) if s.ref == ref), None)

    def top_of(self, ref: int) -> int:
        """The top-level step that holds the step a plan's choice names."""
        step = self.by_ref(ref)
        return step.where[0] if step is not None else ref
