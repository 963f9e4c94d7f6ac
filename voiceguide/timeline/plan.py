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

import json
from dataclasses import dataclass, field
from typing import Final, Protocol

from ..errors import PlanError, Problem
from ..script.routine import MAX_SESSION_S, RANGED_KEYS, Routine, Span, Step

SAMPLE_RATE: Final = 22050
DEFAULT_LEAD_IN_S: Final = 0.5

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

CAUTION: Final = (
    "Before we start: this is general education, not a diagnosis.",
    "If pain is severe or getting worse, or shoots down your leg with numbness or weakness, "
    "stop and see a qualified professional.",
    "Loss of bladder or bowel control is urgent: get help right away.",
    "Move gently, and stop if anything feels wrong.",
)

INTRO_STEP: Final = -1

ChoiceKey = tuple[int, str, "str | None"]


class Lengths(Protocol):
    """How long things last once synthesised, in samples at the plan's rate."""

    def speech(self, text: str) -> int: ...

    def sound(self, name: str) -> int: ...


def is_exact(lengths: Lengths, text: str) -> bool:
    """Whether ``lengths`` knows ``text``'s length rather than guessing it (only guessing ones say)."""
    exact = getattr(lengths, "exact", None)
    return exact is None or exact(text)


@dataclass(frozen=True)
class Event:
    """One sound or utterance placed on the timeline.  Times are samples from the session start."""

    start: int
    end: int
    kind: str  # "speech" or "sound"
    step: int
    text: str | None = None
    sound: str | None = None
    role: str = ""
    """What the event is for: name, setup, cue, count, hold, breath, reminder, rest, preview, ..."""
    side: str | None = None


@dataclass(frozen=True)
class Chapter:
    title: str
    start: int
    end: int
    step: int
    side: str | None = None


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
            item["text" if e.kind == "speech" else "sound"] = e.text if e.kind == "speech" else e.sound
            item.update(step=e.step, role=e.role)
            if e.side:
                item["side"] = e.side
            events.append(item)
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
                {"step": i, "key": k, "side": side, "value": v}
                for (i, k, side), v in sorted(self.choices.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or ""))
            ],
            "warnings": [str(w) for w in self.warnings],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)


# --------------------------------------------------------------------------- words for numbers

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
         "seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n: int) -> str:
    """0 .. 9999 as English words: 21 -> 'twenty-one'."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" and {number_words(rest)}" if rest else "")
    thousands, rest = divmod(n, 1000)
    return f"{number_words(thousands)} thousand" + (f" {number_words(rest)}" if rest else "")


def seconds_words(s: float) -> str:
    """How a length in seconds is said: 20 -> '20 seconds', 22.5 -> '22 and a half seconds', 1.25 -> '1.25 seconds'.

    Never rounded to another number: the hold lasts what is said (to the hundredth).
    """
    whole, frac = int(s), s - int(s)
    if abs(frac) < 1e-9:
        return f"{whole} second" + ("" if whole == 1 else "s")
    if abs(frac - 0.5) < 1e-9 and whole:
        return f"{whole} and a half seconds"
    return f"{round(s, 2):g} seconds"


# --------------------------------------------------------------------------- the builder


def chosen(routine: Routine, choices: dict[ChoiceKey, float] | None) -> dict[ChoiceKey, float]:
    """Every range's value: the given choices, else the middle (timing rule 6).

    Keys are (step index, key, side); a side of None is the value for every side, and a choice for
    one side (fitting uses these for holds and rests) overrides it there.
    """
    values = {}
    for step in routine.steps:
        for key in RANGED_KEYS:
            span: Span | None = getattr(step, key)
            if span is not None:
                values[(step.index, key, None)] = span.lo if span.fixed else span.middle()
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
        b.say_lines(CAUTION, INTRO_STEP, "caution")
    b.say_lines(routine.intro, INTRO_STEP, "intro")
    for step in routine.steps:
        b.step(step)
    end_step = len(routine.steps)
    b.say_lines(routine.outro, end_step, "outro")
    b.place_sound("bell", b.cursor, end_step, "end")
    length = max((e.end for e in b.events), default=b.cursor) + b.n(TAIL_S)
    if pad_to_s is not None:
        length = max(length, b.n(pad_to_s))
    if length > b.n(MAX_SESSION_S):
        raise PlanError(
            f"{routine.path}: the session would last {length / sample_rate / 3600:.1f} hours; "
            "sessions are limited to 3 hours: use fewer reps or shorter holds"
        )
    events = tuple(sorted(b.events, key=lambda e: (e.start, e.kind != "sound")))
    chapters = tuple(
        Chapter(title, start, (b.chapter_starts[i + 1][1] if i + 1 < len(b.chapter_starts) else length), step, side)
        for i, (title, start, step, side) in enumerate(b.chapter_starts)
    )
    warnings = tuple(dict.fromkeys(b.warnings))  # once each, in order
    return Plan(routine, sample_rate, length, events, chapters, b.used, warnings, b.exact_until)


class _Builder:
    """Walks a routine with a cursor, placing events.  Internal to ``build_plan``."""

    def __init__(self, routine: Routine, lengths: Lengths, sample_rate: int, values: dict):
        self.routine = routine
        self.lengths = lengths
        self.rate = sample_rate
        self.values = values
        self.cursor = 0
        self.events: list[Event] = []
        self.chapter_starts: list[tuple[str, int, int, str | None]] = []
        self.warnings: list[Problem] = []
        self.warned_phases: set[tuple[int, int]] = set()
        self.used: dict[ChoiceKey, float] = {}  # the values the session actually uses
        self.side: str | None = None
        self.exact_until: int | None = None

    def n(self, seconds: float) -> int:
        return int(round(seconds * self.rate))

    def value(self, step: Step, key: str) -> float:
        """The chosen value of a range, for the side being laid out."""
        chosen_key = (step.index, key, self.side)
        if chosen_key not in self.values:
            chosen_key = (step.index, key, None)
        self.used[chosen_key] = self.values[chosen_key]
        return self.values[chosen_key]

    # -- placing

    def speech_length(self, text: str) -> int:
        """The text's length; the first guessed one sets the frontier (module docstring)."""
        if self.exact_until is None and not is_exact(self.lengths, text):
            self.exact_until = self.cursor
        return self.lengths.speech(text)

    def place_speech(self, text: str, at: int, step: int, role: str) -> int:
        end = at + self.speech_length(text)
        self.events.append(Event(at, end, "speech", step, text=text, role=role, side=self.side))
        return end

    def place_sound(self, name: str, at: int, step: int, role: str) -> int:
        end = at + self.lengths.sound(name)
        self.events.append(Event(at, end, "sound", step, sound=name, role=role, side=self.side))
        return end

    def say(self, text: str, step: int, role: str) -> None:
        """Speak at the cursor, then leave the usual gap."""
        self.cursor = self.place_speech(text, self.cursor, step, role) + self.n(GAP_S)

    def say_lines(self, lines, step: int, role: str) -> None:
        for line in lines:
            self.say(line, step, role)

    def warn(self, step: Step, key: str, message: str) -> None:
        loc = step.locations.get(key, step.location)
        self.warnings.append(Problem(loc, message, "warning"))

    # -- steps

    def step(self, step: Step) -> None:
        sides = step.sides or (None,)
        for k, side in enumerate(sides):
            self.side = side
            fill = (lambda s, side=side: s.replace("{side}", side)) if side else (lambda s: s)
            if step.name:
                title = step.name if side is None else f"{step.name}, {side} side"
                self.chapter_starts.append((title, self.cursor, step.index, side))
                chime_end = self.place_sound("chime", self.cursor, step.index, "chime")
                self.cursor += self.n(CHIME_TO_NAME_S)
                if k == 0:
                    self.say(f"{step.name}.", step.index, "name")
                    if side:
                        self.say(f"Start with the {side} side.", step.index, "side")
                else:
                    self.say(f"Now the {side} side.", step.index, "side")
                self.cursor = max(self.cursor, chime_end)
            elif k > 0:
                self.say(f"Now the {side} side.", step.index, "side")
            self.say_lines([fill(s) for s in step.setup], step.index, "setup")
            if step.goal and k == 0:
                self.say(f"The goal: {fill(step.goal)}", step.index, "goal")
            if step.setup or (step.goal and k == 0):
                self.cursor += self.n(BEFORE_WORK_S - GAP_S)
            if step.sound:
                self.place_sound(step.sound, self.cursor, step.index, "step-sound")
            getattr(self, f"work_{step.kind}")(step, fill)
            if step.feel and k == 0:
                self.say(f"You should feel: {fill(step.feel)}", step.index, "feel")
        self.side = None
        if step.kind != "rest":
            self.cursor += self.n(BETWEEN_STEPS_S - GAP_S)

    def work_say(self, step: Step, fill) -> None:
        self.cursor = self.place_speech(fill(step.say), self.cursor, step.index, "say")
        self.cursor += self.n(step.pause) + self.n(GAP_S)

    def work_reps(self, step: Step, fill) -> None:
        reps = int(self.value(step, "reps"))
        for rep in range(1, reps + 1):
            for p, phase in enumerate(step.cycle):
                cue = fill(phase.short if (rep > 2 and phase.short) else phase.say)
                if p == 0 and reps > 1 and rep == reps:
                    cue = f"Last one. {cue}"
                elif p == 0 and step.count:
                    cue = f"{number_words(rep).capitalize()}. {cue}"
                start = self.cursor
                if phase.sound:
                    self.place_sound(phase.sound, start, step.index, "phase-sound")
                end = self.place_speech(cue, start, step.index, "cue")
                length = self.n(phase.seconds)
                needed = end - start + self.n(MIN_CUE_GAP_S)
                if needed > length:
                    if (step.index, p) not in self.warned_phases:  # once per phase, at its first long cue
                        self.warned_phases.add((step.index, p))
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

    def work_hold(self, step: Step, fill) -> None:
        seconds = self.value(step, "hold")
        self.cursor = self.place_speech(f"Hold for {seconds_words(seconds)}.", self.cursor, step.index, "hold")
        t0 = self.cursor + self.n(ANNOUNCE_TO_HOLD_S)
        t1 = t0 + self.n(seconds)
        self.place_sound("start", t0, step.index, "hold-start")
        busy: list[tuple[int, int]] = []  # speech inside the hold, each with its trailing gap

        def free(a: int, b: int) -> bool:
            return all(b <= s or a >= e for s, e in busy)

        def speak_at(text: str, at: int, role: str) -> bool:
            end = at + self.speech_length(text)
            if end + self.n(MIN_CUE_GAP_S) > limit or not free(at, end + self.n(MIN_CUE_GAP_S)):
                return False
            self.place_speech(text, at, step.index, role)
            busy.append((at - self.n(MIN_CUE_GAP_S), end + self.n(MIN_CUE_GAP_S)))
            return True

        countdown = min(step.countdown, int(seconds) - 1) if step.countdown else 0
        limit = t1
        for k in range(countdown, 0, -1):  # countdown first: it has the fixed places
            speak_at(f"{number_words(k).capitalize()}.", t1 - self.n(k), "countdown")
        limit = t1 - self.n(countdown) if countdown else t1
        if step.breathe:
            inhale, exhale = self.n(step.breathe.inhale), self.n(step.breathe.exhale)
            t, first = t0, True
            while t < limit:
                self.place_sound("inhale", t, step.index, "breath")
                spoke_in = first and speak_at("Breathe in.", t, "breath")
                if t + inhale < limit:
                    self.place_sound("exhale", t + inhale, step.index, "breath")
                    if spoke_in:
                        speak_at("And out.", t + inhale, "breath")
                t, first = t + inhale + exhale, False
        for j, reminder in enumerate(step.reminders):
            target = t0 + (t1 - t0) * (j + 1) // (len(step.reminders) + 1)
            at = target
            while at < limit and not speak_at(fill(reminder), at, "reminder"):
                at += self.n(0.25)
            if at >= limit:
                self.warn(step, "reminders", f"reminder {reminder!r} does not fit in the hold; it is left out "
                          "(use a longer hold or fewer reminders)")
        self.place_sound("release", t1, step.index, "hold-end")
        self.cursor = self.place_speech("And release.", t1 + self.n(RELEASE_TO_SPEECH_S), step.index, "release")
        self.cursor += self.n(GAP_S)

    def work_breaths(self, step: Step, fill) -> None:
        count = int(self.value(step, "breaths"))
        for i in range(count):
            for word, seconds, sound in (
                (fill(step.say) if (i == 0 and step.say) else "Breathe in.", step.inhale, "inhale"),
                ("And out.", step.exhale, "exhale"),
            ):
                start = self.cursor
                self.place_sound(sound, start, step.index, "breath")
                end = self.place_speech(word, start, step.index, "breath")
                length = self.n(seconds)
                if end - start + self.n(MIN_CUE_GAP_S) > length:
                    self.warn(step, "say" if word == step.say else sound,
                              f"cue {word!r} takes {(end - start) / self.rate:.1f} s, longer than the "
                              f"{seconds:g} s breath; the breath is lengthened")
                    length = end - start + self.n(MIN_CUE_GAP_S)
                self.cursor = start + length

    def work_rest(self, step: Step, fill) -> None:
        seconds = self.value(step, "rest")
        rest_start = self.place_speech("Rest.", self.cursor, step.index, "rest")
        rest_end = rest_start + self.n(seconds)
        following = self.routine.steps[step.index + 1] if step.index + 1 < len(self.routine.steps) else None
        if following is not None and following.name:
            preview = f"Next: {following.name}."
            length = self.speech_length(preview)
            at = rest_end - self.n(PREVIEW_BEFORE_NEXT_S) - length
            earliest = rest_start + self.n(REST_QUIET_AFTER_WORD_S)
            if at < earliest:
                self.warn(step, "rest", f"a {seconds:g} s rest is too short for the preview {preview!r}; "
                          "the rest is lengthened")
                rest_end += earliest - at
                at = earliest
            self.place_speech(preview, at, step.index, "preview")
        self.cursor = rest_end
