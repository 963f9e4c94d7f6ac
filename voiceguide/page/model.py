"""What a page is read into: numbered lines, then exercises, groups of them and cautions (plain values)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import VoiceguideError
from ..script.routine import StepKind


class PageError(VoiceguideError, ValueError):
    """A page that cannot be read as a routine: no exercises, no text layer, not a page at all."""


@dataclass(frozen=True)
class Line:
    """One line of a page's text, as its format marks it."""

    number: int
    """Where it is: the line in the file (for a PDF, in its extracted text)."""
    text: str
    heading: int = 0
    """1-6 when the page marks it a heading (Markdown ``#``, HTML ``h1``-``h6``), 0 otherwise."""
    bullet: bool = False
    """A list item (``-``, ``*``, ``1.``, ``<li>``)."""
    strong: bool = False
    """The whole line is bold, or the bold name that opened a list item: heading-like."""
    indent: int = 0
    """Leading spaces in a text page (an indented line under a bullet belongs to it)."""
    caution: bool = False
    """Inside a box the page marks as a warning (HTML ``class="caution"`` and the like)."""
    continued: bool = False
    """A second or later sentence of one line of the page."""


@dataclass
class Facts:
    """The quantities one line or one exercise states; strings keep ranges as written (``8-12``)."""

    reps: str | None = None
    hold_s: str | None = None
    sets: str | None = None
    rounds: str | None = None
    """"Complete 3 rounds": rounds of a circuit (outside an exercise) or cycles (inside one)."""
    rest_s: str | None = None
    rest_between_s: str | None = None
    rest_between_exercises_s: str | None = None
    breaths: str | None = None
    breath_phases: tuple[tuple[str, float], ...] = ()
    """The breath's own pattern, as ("in" | "out" | "hold", seconds), in the page's order."""
    minutes_s: str | None = None
    """A practice's whole length ("for 5 minutes"), turned into breaths when the breath is paced."""
    slow_breathing: bool = False
    sides: bool = False
    frequency: str | None = None
    said: list[str] = field(default_factory=list)
    """What each rule read, for the comment ("reps 8-12", "sides")."""

    def any(self) -> bool:
        return any((self.reps, self.hold_s, self.sets, self.rounds, self.rest_s, self.rest_between_s,
                    self.rest_between_exercises_s, self.breaths, self.breath_phases, self.minutes_s,
                    self.sides))


@dataclass
class Work:
    """One timed step: the reps, hold, or breaths of an exercise (an exercise may have several)."""

    name: str
    line: Line
    """The line that gave it its count or time (the heading when the page gave none)."""
    kind: StepKind = StepKind.HOLD
    setup: list[str] = field(default_factory=list)
    phases: list[tuple[str, str, float]] = field(default_factory=list)
    """Reps: (say, short, seconds) for each phase of one rep."""
    reps: str | None = None
    hold_s: str | None = None
    breathe: tuple[float, float] | None = None
    breaths: str | None = None
    inhale_s: float = 4.0
    exhale_s: float = 6.0
    sides: bool = False
    rounds: str | None = None
    rest_between_s: str | None = None
    rest_assumed: bool = False
    """The rest between sets is the default, not the page's."""
    rest_after_s: str | None = None
    goal: str | None = None
    feel: str | None = None
    reminders: list[str] = field(default_factory=list)
    assumed: list[str] = field(default_factory=list)
    """What the comment says: what was read, and what was assumed where the page was silent."""


@dataclass
class Exercise:
    """A named exercise and the steps it becomes."""

    name: str
    line: Line
    works: list[Work] = field(default_factory=list)


@dataclass
class Group:
    """Exercises done as a circuit: ``rounds`` times, with a rest between rounds."""

    rounds: str
    line: Line
    exercises: list[Exercise] = field(default_factory=list)
    rest_between_s: str | None = None


@dataclass
class Page:
    """A page read as a routine."""

    title: str
    parts: list[Exercise | Group] = field(default_factory=list)
    cautions: list[tuple[Line, str]] = field(default_factory=list)
    rest_between_exercises_s: str | None = None
    left_out: list[tuple[Line, str]] = field(default_factory=list)
    """Sections that are not exercises, and why (habits, explanations)."""
    not_understood: list[Line] = field(default_factory=list)
    """Lines with numbers that no rule read."""
    work_s: str | None = None
    """"Work for 40 seconds": the time of each exercise the page gives no count or time of its own."""
    whole: list[tuple[Line, Facts]] = field(default_factory=list)
    """Lines inside an exercise that speak of the whole page ("Repeat the circuit 3 times")."""

    @property
    def exercises(self) -> list[Exercise]:
        found: list[Exercise] = []
        for part in self.parts:
            found.extend(part.exercises if isinstance(part, Group) else [part])
        return found
