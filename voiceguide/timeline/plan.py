"""Routine -> plan: what is heard, and exactly when, to the sample.

The plan is built after synthesis: it asks a ``Lengths`` for how long each utterance and sound
lasts, so every time in it is real.  Building is pure and deterministic; ``fit.py`` chooses the
values inside ranges and calls ``build_plan`` as often as it needs.

A plan can also be built while speech is still being made (``live.py``): a ``Lengths`` may then
guess the length of a text not yet spoken, and say so (``exact``).  The builder walks the session
in time with a cursor that only moves forward, and everything it places after asking for a length
lies at or after the cursor of that moment; so the cursor at the first guess, ``Plan.exact_until``,
is a frontier: every event that starts before it is where the finished plan will have it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Final

from ..errors import PlanError, Problem
from ..script import words
from ..script.routine import MAX_SESSION_S, RANGED_KEYS, Routine, Span, Step, StepKind, walk
from ..script.settings import DEFAULT_LEAD_IN_S, SAMPLE_RATE
from ..script.words import phrase
from .events import Chapter, ChoiceKey, Event, EventKind, Lengths, Plan, Role, is_exact

__all__ = ["ChoiceKey", "Chapter", "Event", "Lengths", "Plan", "build_plan", "is_exact", "step_advance"]

# Quiet between things, in seconds.  Named so the rhythm of a session can be read in one place.
GAP_S: Final = 0.4  # between consecutive sentences
CHIME_TO_NAME_S: Final = 0.9  # chime onset to the step's name
BEFORE_WORK_S: Final = 0.8  # after the spoken setup, before the work starts
MIN_CUE_GAP_S: Final = 0.25  # least quiet after a cue before the next cue
ANNOUNCE_TO_HOLD_S: Final = 0.5  # "Hold for N seconds" to the start sound
RELEASE_TO_SPEECH_S: Final = 0.4  # release sound to "And release"
BETWEEN_STEPS_S: Final = 1.0
REST_QUIET_AFTER_WORD_S: Final = 1.0  # least quiet between "Rest." and the preview
PREVIEW_BEFORE_NEXT_S: Final = 1.5  # preview ends this long before the next step (rule 4: >= 1 s)
TAIL_S: Final = 1.0  # quiet after the last sound

INTRO_STEP: Final = -1

# --------------------------------------------------------------------------- the builder


def chosen(routine: Routine, choices: dict[ChoiceKey, float] | None,
           steps: tuple[Step, ...] | None = None) -> dict[ChoiceKey, float]:
    """Every range's value (of ``steps``, by default all): the given choices, else the middle (rule 6).

    Keys are (step ref, key, side); a side of None is the value for every side, and a choice for
    one side (fitting uses these for holds and rests) overrides it there.
    """
    values: dict[ChoiceKey, float] = {}
    for step in walk(routine.steps if steps is None else steps):
        for key in RANGED_KEYS:
            span: Span | None = getattr(step, key)
            if span is not None:
                values[(step.ref, key, None)] = span.lo if span.fixed else span.middle()
    values.update(choices or {})
    return values


def build_plan(
    routine: Routine,
    lengths: Lengths,
    *,
    choices: dict[ChoiceKey, float] | None = None,
    sample_rate: int = SAMPLE_RATE,
    lead_in_s: float = DEFAULT_LEAD_IN_S,
    pad_to_s: float | None = None,
) -> Plan:
    """Lay the routine out on one timeline.  ``pad_to_s`` adds quiet at the end up to that length."""
    values = chosen(routine, choices)
    b = _Builder(routine, lengths, sample_rate, values)
    b.cursor = b.n(lead_in_s)
    if routine.caution:
        b.say_lines(words.CAUTION_BRIEF if routine.brief_caution else words.CAUTION, INTRO_STEP, Role.CAUTION)
    b.say_lines(routine.intro, INTRO_STEP, Role.INTRO)
    b.steps(routine.steps, None)
    end_step = len(routine.steps)
    b.say_lines(routine.outro, end_step, Role.OUTRO)
    b.place_sound("bell", b.cursor, end_step, Role.END)
    length = max((e.end for e in b.events), default=b.cursor) + b.n(TAIL_S)
    if pad_to_s is not None:
        length = max(length, b.n(pad_to_s))
    if length > b.n(MAX_SESSION_S):
        raise PlanError(_too_long(routine, b.events, length, sample_rate))
    events = tuple(sorted(b.events, key=lambda e: (e.start, e.kind != EventKind.SOUND)))
    starts = b.chapter_starts
    if starts and events and events[0].start < starts[0][1]:  # the caution, the intro: a chapter from 0:00
        starts = [(words.INTRODUCTION, 0, INTRO_STEP, None, {}), *starts]
    chapters = tuple(
        Chapter(title, start, (starts[i + 1][1] if i + 1 < len(starts) else length), step, side, **more)
        for i, (title, start, step, side, more) in enumerate(starts)
    )
    warnings = tuple(dict.fromkeys(b.warnings))  # once each, in order
    return Plan(routine, sample_rate, length, events, chapters, b.used, warnings, b.exact_until)


def step_advance(routine: Routine, lengths: Lengths, index: int, choices: dict[ChoiceKey, float], *,
                 sample_rate: int = SAMPLE_RATE) -> int:
    """How far step ``index`` moves the cursor when laid out with these choices, in samples.

    The builder is translation-invariant and a step's layout depends only on its own choices, so a
    session lasts the sum of its steps' advances plus what is around them: ``fit.py`` relies on it.
    """
    b = _Builder(routine, lengths, sample_rate, chosen(routine, choices, routine.steps[index:index + 1]),
                 keep_events=False)
    after = first_leaf(routine.steps[index + 1]) if index + 1 < len(routine.steps) else None
    b.steps(routine.steps[index:index + 1], after)
    return b.cursor


def _too_long(routine: Routine, events: list[Event], length: int, sample_rate: int) -> str:
    """The session passes three hours: located at the top-level step during which it does, with
    advice for what that step is (a group: fewer rounds)."""
    limit = MAX_SESSION_S * sample_rate
    index = next((e.step for e in sorted(events, key=lambda e: e.end) if e.end > limit), len(routine.steps))
    said = f"the session would last {length / sample_rate / 3600:.1f} hours; sessions are limited to 3 hours"
    if not 0 <= index < len(routine.steps):
        return f"{routine.path}: {said}: use fewer reps or shorter holds"
    step = routine.steps[index]
    advice = {StepKind.ROUNDS: "use fewer rounds, or shorter steps inside them",
              StepKind.INCLUDE: "include a shorter routine"}.get(step.kind, "use fewer reps or shorter holds")
    return f"{step.locations.get(step.kind, step.location)}: {said}, and step {index + 1} passes them: {advice}"


def first_leaf(step: Step) -> Step:
    """The first step heard of ``step``: itself, or the first one inside a group or an include."""
    while step.holds_steps and step.steps:
        step = step.steps[0]
    return step


Fill = Callable[[str], str]
"""A step's text with ``{side}`` filled in for the side being done."""


def with_side(text: str, side: str | None) -> str:
    return text.replace("{side}", side) if side else text


class _Builder:
    """Walks a routine with a cursor, placing events.  Internal to ``build_plan``."""

    def __init__(self, routine: Routine, lengths: Lengths, sample_rate: int, values: dict, keep_events: bool = True):
        self.routine = routine
        self.keep_events = keep_events
        """False when only the cursor is wanted (``step_advance``, thousands of times while fitting): the
        layout reads no event back while it is made, so the cursor is the same without them."""
        self.lengths = lengths
        self.rate = sample_rate
        self.values = values
        self.cursor = 0
        self.events: list[Event] = []
        self.chapter_starts: list[tuple[str, int, int, str | None, dict]] = []
        self.warnings: list[Problem] = []
        self.warned_phases: set[tuple[int, int]] = set()
        self.used: dict[ChoiceKey, float] = {}  # the values the session actually uses
        self.side: str | None = None
        self.exact_until: int | None = None
        self.top = INTRO_STEP
        """The top-level step being laid out: every event is numbered by it."""
        self.context: dict = {}
        """Inside a group or an include: the event fields that say where (path, round, rounds, source)."""
        self.following: Step | None = None
        """The step heard after the one being laid out (a rest previews it)."""
        self.advances: dict[tuple, int] = {}
        """Without events: how far each step inside a group moved the cursor, by what it depends on (``step``)."""

    def n(self, seconds: float) -> int:
        return int(round(seconds * self.rate))

    def value(self, step: Step, key: str) -> float:
        """The chosen value of a range, for the side being laid out."""
        chosen_key = (step.ref, key, self.side)
        if chosen_key not in self.values:
            chosen_key = (step.ref, key, None)
        self.used[chosen_key] = self.values[chosen_key]
        return self.values[chosen_key]

    # -- placing

    def speech_length(self, text: str) -> int:
        """The text's length; the first guessed one sets the frontier (module docstring)."""
        if self.exact_until is None and not is_exact(self.lengths, text):
            self.exact_until = self.cursor
        return self.lengths.speech(text)

    def place_speech(self, text: str, at: int, step: int, role: Role) -> int:
        end = at + self.speech_length(text)
        if self.keep_events:
            self.events.append(Event(at, end, EventKind.SPEECH, step, text=text, role=role, side=self.side,
                                     **self.context))
        return end

    def place_sound(self, name: str, at: int, step: int, role: Role) -> int:
        end = at + self.lengths.sound(name)
        if self.keep_events:
            self.events.append(Event(at, end, EventKind.SOUND, step, sound=name, role=role, side=self.side,
                                     **self.context))
        return end

    def say(self, text: str, step: int, role: Role) -> None:
        """Speak at the cursor, then leave the usual gap."""
        self.cursor = self.place_speech(text, self.cursor, step, role) + self.n(GAP_S)

    def say_lines(self, lines, step: int, role: Role) -> None:
        for line in lines:
            self.say(line, step, role)

    def warn(self, step: Step, key: str, message: str) -> None:
        loc = step.locations.get(key, step.location)
        self.warnings.append(Problem(loc, message, "warning"))

    # -- steps

    def steps(self, steps: tuple[Step, ...], after: Step | None) -> None:
        """Steps in order; ``after`` is what is heard once they are done."""
        for j, step in enumerate(steps):
            if not step.path:
                self.top, self.context = step.index, {}
            self.following = first_leaf(steps[j + 1]) if j + 1 < len(steps) else after
            self.step(step)

    def step(self, step: Step) -> None:
        if step.kind == StepKind.ROUNDS:
            self.group(step)
            return
        if step.kind == StepKind.INCLUDE:
            outer = dict(self.context)
            self.context = {**outer, "path": step.path, "source": step.source}
            self.steps(step.steps, self.following)
            self.context = outer
            return
        self.context = {**self.context, "path": step.path}
        if self.keep_events or not step.path:
            self.lay_out(step)
            return
        # Only the cursor is wanted (fitting), and a step inside a group is laid out again in every
        # round: it moves the cursor as far each time, unless its first round says more (the goal and
        # the feel) or a rest previews another step.
        key = (step.where, self.context.get("round", 1) == 1, self.following.name if self.following else None)
        if key not in self.advances:
            start = self.cursor
            self.lay_out(step)
            self.advances[key] = self.cursor - start
        else:
            self.cursor += self.advances[key]

    def start_chapter(self, name: str, side: str | None) -> None:
        """A named step's chapter (each side its own) starts at the cursor, titled with its side and round."""
        title = name if side is None else phrase(words.SIDE_TITLE, name=name, side=side)
        rounds = {k: self.context[k] for k in ("round", "rounds") if (self.context.get("rounds") or 0) > 1}
        if rounds:
            title = phrase(words.ROUND_TITLE, title=title, **rounds)
        self.chapter_starts.append((title, self.cursor, self.top, side, {"name": name, **rounds}))

    def lay_out(self, step: Step) -> None:
        """A step that holds no steps: its name, sides, setup, work and feel."""
        sides = step.sides or (None,)
        for k, side in enumerate(sides):
            self.side = side
            fill = partial(with_side, side=side)
            if step.name:
                if self.keep_events:  # chapters, like events, only for a plan
                    self.start_chapter(step.name, side)
                chime_end = self.place_sound("chime", self.cursor, self.top, Role.CHIME)
                self.cursor += self.n(CHIME_TO_NAME_S)
                if k == 0:
                    self.say(phrase(words.STEP_NAME, name=step.name), self.top, Role.NAME)
                    if side:
                        self.say(phrase(words.FIRST_SIDE, side=side), self.top, Role.SIDE)
                else:
                    self.say(phrase(words.NEXT_SIDE, side=side), self.top, Role.SIDE)
                self.cursor = max(self.cursor, chime_end)
            elif k > 0:
                self.say(phrase(words.NEXT_SIDE, side=side), self.top, Role.SIDE)
            self.say_lines([fill(s) for s in step.setup], self.top, Role.SETUP)
            once = k == 0 and self.context.get("round", 1) == 1  # goal and feel: the first side of the first round
            if step.goal and once:
                self.say(phrase(words.GOAL, goal=fill(step.goal)), self.top, Role.GOAL)
            if step.setup or (step.goal and once):
                self.cursor += self.n(BEFORE_WORK_S - GAP_S)
            if step.sound:
                self.place_sound(step.sound, self.cursor, self.top, Role.STEP_SOUND)
            self.work(step, fill)
            if step.feel and once:
                self.say(phrase(words.FEEL, feel=fill(step.feel)), self.top, Role.FEEL)
        self.side = None
        if step.kind != StepKind.REST:
            self.cursor += self.n(BETWEEN_STEPS_S - GAP_S)

    def group(self, group: Step) -> None:
        """Rounds of the group's steps: "Round two of three." before each, a rest between them."""
        outer, after = dict(self.context), self.following
        rounds = int(self.value(group, "rounds"))
        self.context = {**outer, "path": group.path}
        if group.name:
            self.say(phrase(words.STEP_NAME, name=group.name), self.top, Role.GROUP)
        for k in range(1, rounds + 1):
            self.context = {**outer, "path": group.path, "round": k, "rounds": rounds}
            if group.announce and rounds > 1:
                said = words.LAST_ROUND if k == rounds else phrase(words.ROUND, round=k, rounds=rounds)
                self.say(said, self.top, Role.ROUND)
            last = k == rounds
            between = group.rest_between is not None and not last
            self.steps(group.steps, after if last else (None if between else first_leaf(group.steps[0])))
            if between:
                self.context = {**outer, "path": group.path, "round": k, "rounds": rounds}
                self.following = first_leaf(group.steps[0])
                self.rest(group, self.value(group, "rest_between"), "rest_between")
        self.context = outer

    def work(self, step: Step, fill: Fill) -> None:
        """The step's own part, after its name and setup: one method per kind (``_WORK``)."""
        _WORK[step.kind](self, step, fill)

    def work_say(self, step: Step, fill: Fill) -> None:
        self.cursor = self.place_speech(fill(step.say or ""), self.cursor, self.top, Role.SAY)
        self.cursor += self.n(step.pause) + self.n(GAP_S)

    def work_reps(self, step: Step, fill: Fill) -> None:
        reps = int(self.value(step, "reps"))
        gap = self.n(MIN_CUE_GAP_S)
        phase_lengths = [self.n(phase.seconds) for phase in step.cycle]
        for rep in range(1, reps + 1):
            for p, (phase, phase_length) in enumerate(zip(step.cycle, phase_lengths)):
                cue = fill(phase.short if (rep > 2 and phase.short) else phase.say)
                if p == 0 and reps > 1 and rep == reps:
                    cue = phrase(words.LAST_CUE, cue=cue)
                elif p == 0 and step.count:
                    cue = phrase(words.COUNTED_CUE, count=rep, cue=cue)
                start = self.cursor
                if phase.sound:
                    self.place_sound(phase.sound, start, self.top, Role.PHASE_SOUND)
                end = self.place_speech(cue, start, self.top, Role.CUE)
                length = phase_length
                needed = end - start + gap
                if needed > length:
                    if (step.ref, p) not in self.warned_phases:  # once per phase, at its first long cue
                        self.warned_phases.add((step.ref, p))
                        self.warnings.append(Problem(
                            phase.location or step.location,
                            f"cue {phase.say!r} takes {(end - start) / self.rate:.1f} s, too long for its "
                            f"{phase.seconds:g} s phase; the phase is lengthened "
                            "(shorten the cue or add a 'short' cue)",
                            "warning",
                        ))
                    length = needed
                self.cursor = start + length
        self.cursor += self.n(GAP_S)

    def work_hold(self, step: Step, fill: Fill) -> None:
        seconds = self.value(step, "hold")
        self.cursor = self.place_speech(phrase(words.HOLD, seconds=seconds), self.cursor, self.top, Role.HOLD)
        t0 = self.cursor + self.n(ANNOUNCE_TO_HOLD_S)
        t1 = t0 + self.n(seconds)
        self.place_sound("start", t0, self.top, Role.HOLD_START)
        if self.keep_events:  # what is said inside the hold never moves the cursor
            self.inside_hold(step, fill, seconds, t0, t1)
        self.place_sound("release", t1, self.top, Role.HOLD_END)
        self.cursor = self.place_speech(words.RELEASE, t1 + self.n(RELEASE_TO_SPEECH_S), self.top, Role.RELEASE)
        self.cursor += self.n(GAP_S)

    def inside_hold(self, step: Step, fill: Fill, seconds: float, t0: int, t1: int) -> None:
        """The countdown, the breaths and the reminders between a hold's start ``t0`` and its release
        ``t1``, each where it fits around the others: the countdown first, at its fixed places."""
        busy: list[tuple[int, int]] = []  # speech inside the hold, each with its trailing gap
        gap = self.n(MIN_CUE_GAP_S)

        def free(a: int, b: int) -> bool:
            return all(b <= s or a >= e for s, e in busy)

        def speak_at(text: str, at: int, role: Role) -> bool:
            end = at + self.speech_length(text)
            if end + gap > limit or not free(at, end + gap):
                return False
            self.place_speech(text, at, self.top, role)
            busy.append((at - gap, end + gap))
            return True

        countdown = min(step.countdown, int(seconds) - 1) if step.countdown else 0
        limit = t1
        for k in range(countdown, 0, -1):  # countdown first: it has the fixed places
            speak_at(phrase(words.COUNTDOWN, count=k), t1 - self.n(k), Role.COUNTDOWN)
        limit = t1 - self.n(countdown) if countdown else t1
        if step.breathe:
            inhale, exhale = self.n(step.breathe.inhale), self.n(step.breathe.exhale)
            t, first = t0, True
            while t < limit:
                self.place_sound("inhale", t, self.top, Role.BREATH)
                spoke_in = first and speak_at(words.BREATHE_IN, t, Role.BREATH)
                if t + inhale < limit:
                    self.place_sound("exhale", t + inhale, self.top, Role.BREATH)
                    if spoke_in:
                        speak_at(words.BREATHE_OUT, t + inhale, Role.BREATH)
                t, first = t + inhale + exhale, False
        for j, reminder in enumerate(step.reminders):
            target = t0 + (t1 - t0) * (j + 1) // (len(step.reminders) + 1)
            at = target
            while at < limit and not speak_at(fill(reminder), at, Role.REMINDER):
                at += self.n(0.25)
            if at >= limit:
                self.warn(step, "reminders", f"reminder {reminder!r} does not fit in the hold; it is left out "
                          "(use a longer hold or fewer reminders)")

    def work_breaths(self, step: Step, fill: Fill) -> None:
        count = int(self.value(step, "breaths"))
        gap = self.n(MIN_CUE_GAP_S)
        for i in range(count):
            for word, seconds, sound in (
                (fill(step.say) if (i == 0 and step.say) else words.BREATHE_IN, step.inhale, "inhale"),
                (words.BREATHE_OUT, step.exhale, "exhale"),
            ):
                start = self.cursor
                self.place_sound(sound, start, self.top, Role.BREATH)
                end = self.place_speech(word, start, self.top, Role.BREATH)
                length = self.n(seconds)
                if end - start + gap > length:
                    self.warn(step, "say" if word == step.say else sound,
                              f"cue {word!r} takes {(end - start) / self.rate:.1f} s, longer than the "
                              f"{seconds:g} s breath; the breath is lengthened")
                    length = end - start + gap
                self.cursor = start + length

    def work_rest(self, step: Step, fill: Fill) -> None:
        self.rest(step, self.value(step, "rest"), "rest")

    def rest(self, step: Step, seconds: float, key: str) -> None:
        """ "Rest.", ``seconds`` of quiet and the next step's name a little before it starts."""
        rest_start = self.place_speech(words.REST, self.cursor, self.top, Role.REST)
        rest_end = rest_start + self.n(seconds)
        following = self.following
        if following is not None and following.name:
            preview = phrase(words.PREVIEW, name=following.name)
            length = self.speech_length(preview)
            at = rest_end - self.n(PREVIEW_BEFORE_NEXT_S) - length
            earliest = rest_start + self.n(REST_QUIET_AFTER_WORD_S)
            if at < earliest:
                self.warn(step, key, f"a {seconds:g} s rest is too short for the preview {preview!r}; "
                          "the rest is lengthened")
                rest_end += earliest - at
                at = earliest
            self.place_speech(preview, at, self.top, Role.PREVIEW)
        self.cursor = rest_end


_WORK: Final[dict[StepKind, Callable[[_Builder, Step, Fill], None]]] = {
    StepKind.SAY: _Builder.work_say, StepKind.REPS: _Builder.work_reps, StepKind.HOLD: _Builder.work_hold,
    StepKind.BREATHS: _Builder.work_breaths, StepKind.REST: _Builder.work_rest}
"""The work of each kind of step that holds no steps."""
