"""The words the program says itself, in English: one catalogue of templates with named fields.

A script writes the moves ("Exhale, flatten your low back."); everything around them that a
session says or shows as speech is here: the caution, a step's name and sides, the goal and feel,
rounds, counts, holds, breaths, rests and previews, the titles of chapters and countdowns, the
cues the page importer writes into a script it makes, and the few words read in a script (a
phase named "Inhale" is a breath).  ``timeline.plan``, ``timeline.guide`` and ``page.exercise``
fill these in with ``phrase``, which also makes every number heard (``{n:words}`` 21 ->
"twenty-one", ``{n:Words}`` -> "Twenty-one", ``{s:seconds}`` 22.5 -> "22 and a half seconds",
1 -> "1 second"), so no other module builds a sentence or a plural.

Another language is one more module with these names and its own ``number_words`` and
``seconds_words``; nothing else changes.  A change here changes what every session says, so the
plans of the built-in routines are compared before and after.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Final

CAUTION: Final = (
    "Before we start: this is general education, not a diagnosis.",
    "If pain is severe or getting worse, or shoots down your leg with numbness or weakness, "
    "stop and see a qualified professional.",
    "Loss of bladder or bowel control is urgent: get help right away.",
    "Move gently, and stop if anything feels wrong.",
)
"""The safety note said first (``caution: true``, the default), one sentence an utterance."""
CAUTION_BRIEF: Final = ("Move gently; stop if anything feels wrong.",)
"""The caution on a programme's later days (``Routine.brief_caution``); the whole note on its first."""

# -- a step: its name, its sides, what it is for
STEP_NAME: Final = "{name}."
"""A named step (or group), said after its chime."""
FIRST_SIDE: Final = "Start with the {side} side."
NEXT_SIDE: Final = "Now the {side} side."
GOAL: Final = "The goal: {goal}"
FEEL: Final = "You should feel: {feel}"

# -- rounds of a group
ROUND: Final = "Round {round:words} of {rounds:words}."
LAST_ROUND: Final = "Last round."

# -- reps: the first phase's cue carries the count
COUNTED_CUE: Final = "{count:Words}. {cue}"
LAST_CUE: Final = "Last one. {cue}"

# -- holds
HOLD: Final = "Hold for {seconds:seconds}."
COUNTDOWN: Final = "{count:Words}."
BREATHE_IN: Final = "Breathe in."
BREATHE_OUT: Final = "And out."
RELEASE: Final = "And release."

# -- rests
REST: Final = "Rest."
PREVIEW: Final = "Next: {name}."
"""The next step's name, said before a rest ends."""

# -- cues the page importer writes into the script it makes (``page.exercise``), when the page
# names no cue of its own: a rep's phases, the breaths of a paced breathing exercise
EXHALE_CUE: Final = "Exhale."
INHALE_CUE: Final = "Inhale."
VERB_CUE: Final = "{verb}."
"""A phase's short cue, its verb: "Lift."; also the way back said short ("Lower.")."""
AND_BACK_TO: Final = "And {back}."
AND_BACK: Final = "And back."
BACK: Final = "Back."
MOVE: Final = "Move."
HOLD_CUE: Final = "Hold."
IN_CUE: Final = "In."
BREATHE_OUT_CUE: Final = "Breathe out."
OUT_CUE: Final = "Out."
BREATHE_STEP: Final = "Breathe {rest}"
"""A page's breathing line made a cue: "in through the nose" -> "Breathe in through the nose"."""

# -- a voice sample (`voices --sample`)
SAMPLE_LINE: Final = "{voice}: {sentence}"
"""One voice's part of a sample: its label, then the sentence it speaks."""
SAMPLE_DESCRIPTION: Final = "One sentence in each voice: {sentence}"

# -- titles: chapters (the contract's forms, digits), stops and countdowns on the screen and the phone
INTRODUCTION: Final = "Introduction"
"""The chapter of whatever is said before the first named step, so chapters start at 0:00."""
FINISH: Final = "Finish"
SIDE_TITLE: Final = "{name}, {side} side"
ROUND_TITLE: Final = "{title}, round {round} of {rounds}"
KIND_TITLES: Final = {"rest": "Rest", "reps": "Reps", "hold": "Hold", "breaths": "Breathing"}
"""An unnamed step's stand-in title, by kind."""
GET_READY: Final = "Get ready"
"""What an unnamed ``say`` step is called on a screen: a name, never the start of its sentence."""
REP_LABEL: Final = "Rep"
"""Counting reps ("Rep 3 of 10"); also a rep's phase whose cue has no words before its first stop."""
HOLD_LABEL: Final = "Hold"
INHALE_LABEL: Final = "Breathe in"
EXHALE_LABEL: Final = "Breathe out"
BREATH_LABEL: Final = "Breath"
REST_LABEL: Final = "Rest"

# -- words read, not said: a rep's phase named so (its first clause, any case) is a breath, for the
# breathing guide on the phone (``guide.phase_breath``)
INHALE_NAMES: Final = ("inhale", "breathe in", "in")
EXHALE_NAMES: Final = ("exhale", "breathe out", "out")


# --------------------------------------------------------------------------- numbers

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


_SPOKEN_FORMS: Final[dict[str, Callable[[float], str]]] = {
    "words": lambda n: number_words(int(n)),
    "Words": lambda n: number_words(int(n)).capitalize(),
    "seconds": seconds_words,
}
"""How a template says a number: ``{n:words}``, ``{n:Words}``, ``{s:seconds}`` (module docstring)."""

_COMPILED: dict[str, tuple[str, tuple[tuple[str, Callable[[float], str]], ...]]] = {}
"""Each template as used: itself without the spoken forms, and the fields to say in them.  The plan
builder fills thousands of templates while fitting, so each is read once."""


def _compile(template: str) -> tuple[str, tuple[tuple[str, Callable[[float], str]], ...]]:
    plain: list[str] = []
    spoken: dict[str, Callable[[float], str]] = {}
    forms: dict[str, str] = {}
    for literal, name, spec, conversion in string.Formatter().parse(template):
        plain.append(literal.replace("{", "{{").replace("}", "}}"))
        if name is None:
            continue
        spec = spec or ""
        if forms.setdefault(name, spec) != spec:  # the field is filled once: one form for it
            raise ValueError(f"template {template!r} says {name!r} in two forms")
        if spec in _SPOKEN_FORMS:
            spoken[name] = _SPOKEN_FORMS[spec]
            spec = ""
        plain.append("{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}")
    return "".join(plain), tuple(spoken.items())


def phrase(template: str, **fields: object) -> str:
    """A template of this catalogue filled in: ``phrase(ROUND, round=2, rounds=3)`` -> 'Round two of three.'"""
    compiled = _COMPILED.get(template)
    if compiled is None:
        compiled = _COMPILED[template] = _compile(template)
    plain, spoken = compiled
    for name, say in spoken:
        fields[name] = say(fields[name])  # type: ignore[arg-type]
    return plain.format_map(fields)
