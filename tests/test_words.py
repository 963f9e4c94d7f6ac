"""The catalogue of the program's own words: its forms of numbers, and that a plan says nothing else."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
from test_plan import ToneLengths

import voiceguide
from voiceguide.script import words
from voiceguide.script.parse import parse_text
from voiceguide.script.routine import walk
from voiceguide.script.words import number_words, phrase, seconds_words
from voiceguide.timeline.plan import build_plan

EVERYTHING = """\
title: Everything
intro: [Find a spot., Get ready.]
outro: Well done.
steps:
  - name: Pelvic tilts
    setup: Lie down.
    goal: move the {side} hip gently
    feel: a stretch on the {side}
    sides: [left, right]
    reps: 4
    cycle:
      - {say: "Exhale, flatten.", short: Exhale., seconds: 4, sound: exhale}
      - {say: "Inhale.", seconds: 4}
  - name: Opener
    sides: [left, right]
    setup: Kneel on your {side} knee.
    hold: 22.5
    countdown: 5
    breathe: {inhale: 4, exhale: 6}
    reminders: [Keep your ribs stacked.]
  - rest: 10
  - say: Roll to your side.
  - name: Slow breaths
    breaths: 3
    say: Breathe into your belly.
  - name: Bridge rounds
    rounds: 3
    rest_between: 12
    steps:
      - name: Glute bridge
        reps: 3
        count: false
        cycle: [{say: Lift., seconds: 3}, {say: Lower., seconds: 3}]
      - hold: 1
"""


@pytest.mark.parametrize(("n", "said"), [
    (0, "zero"), (7, "seven"), (19, "nineteen"), (20, "twenty"), (21, "twenty-one"), (100, "one hundred"),
    (101, "one hundred and one"), (999, "nine hundred and ninety-nine"), (1000, "one thousand"),
    (2024, "two thousand twenty-four"), (9999, "nine thousand nine hundred and ninety-nine"),
])
def test_number_words(n, said):
    assert number_words(n) == said


@pytest.mark.parametrize(("s", "said"), [
    (1, "1 second"), (2, "2 seconds"), (20.0, "20 seconds"), (22.5, "22 and a half seconds"),
    (0.5, "0.5 seconds"), (1.25, "1.25 seconds"), (3600, "3600 seconds"),
])
def test_seconds_words_say_the_exact_length_with_its_plural(s, said):
    assert seconds_words(s) == said


def test_templates_fill_numbers_in_their_spoken_forms():
    assert phrase(words.ROUND, round=2, rounds=3) == "Round two of three."
    assert phrase(words.COUNTED_CUE, count=21, cue="Lift.") == "Twenty-one. Lift."
    assert phrase(words.COUNTDOWN, count=3) == "Three."
    assert phrase(words.HOLD, seconds=1) == "Hold for 1 second."
    assert phrase(words.HOLD, seconds=22.5) == "Hold for 22 and a half seconds."
    assert phrase(words.ROUND_TITLE, title="Bridge", round=2, rounds=3) == "Bridge, round 2 of 3"  # the contract's form
    assert phrase(words.PREVIEW, name="Cat {side}") == "Next: Cat {side}."  # a field's value is never read as a template


def _pattern(template: str, fields: dict[str, str]) -> str:
    """A regular expression for what ``template`` can say, each field one of the values it may take."""
    out = []
    for literal, name, spec, _ in string.Formatter().parse(template):
        out.append(re.escape(literal))
        if name is not None:
            out.append(fields[f"{name}:{spec}" if spec else name])
    return "".join(out)


def test_a_plan_says_only_the_script_and_the_catalogue():
    """Every utterance is a text of the script or a catalogue template filled with the script's values:
    a sentence written anywhere else (a literal in the builder) fails here."""
    routine = parse_text(EVERYTHING, "everything.yaml")
    assert routine.caution
    plan = build_plan(routine, ToneLengths())
    sides = ["left", "right"]
    own: set[str] = set(routine.intro) | set(routine.outro)
    for step in walk(routine.steps):
        texts = [*step.setup, *step.reminders, step.say, step.goal, step.feel,
                 *(t for p in step.cycle for t in (p.say, p.short))]
        own |= {t.replace("{side}", side) for t in texts if t for side in sides}
    names = [s.name for s in walk(routine.steps) if s.name]

    def alternatives(values) -> str:
        return "(?:" + "|".join(re.escape(v) for v in values) + ")"

    number = r"[a-z]+(?:-[a-z]+)?"
    fields = {
        "name": alternatives(names), "side": alternatives(sides), "cue": alternatives(own),
        "goal": alternatives(own), "feel": alternatives(own), "round:words": number, "rounds:words": number,
        "count:Words": number.replace("[a-z]", "[A-Za-z]", 1), "seconds:seconds": r"\d+(?: and a half)? seconds?",
    }
    spoken = (words.STEP_NAME, words.FIRST_SIDE, words.NEXT_SIDE, words.GOAL, words.FEEL, words.ROUND,
              words.LAST_ROUND, words.COUNTED_CUE, words.LAST_CUE, words.HOLD, words.COUNTDOWN, words.BREATHE_IN,
              words.BREATHE_OUT, words.RELEASE, words.REST, words.PREVIEW)
    catalogue = re.compile("|".join(f"(?:{_pattern(t, fields)})" for t in spoken))
    said = [e.text for e in plan.events if e.kind == "speech"]
    caution = [t for t in said if t in words.CAUTION]
    assert caution == list(words.CAUTION)
    strays = [t for t in said if t not in own and t not in words.CAUTION and not catalogue.fullmatch(t)]
    assert strays == []
    heard = set(said)  # the catalogue's fixed sentences are all heard in this script
    for fixed in (words.BREATHE_IN, words.BREATHE_OUT, words.RELEASE, words.REST, words.LAST_ROUND):
        assert fixed in heard
    assert {"Round one of three.", "Round two of three.", "Hold for 22 and a half seconds.", "Hold for 1 second.",
            "Five.", "Start with the left side.", "Now the right side.", "Last one. Exhale.", "Two. Exhale, flatten.",
            "Next: Glute bridge.", "The goal: move the left hip gently"} <= heard


def test_no_module_but_the_catalogue_writes_its_sentences():
    """The catalogue's fixed sentences appear as string literals nowhere else in the package."""
    fixed = {v for k, v in vars(words).items() if k.isupper() and isinstance(v, str) and "{" not in v}
    fixed |= set(words.CAUTION)
    root = Path(voiceguide.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "words.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        exported = {id(c) for node in ast.walk(tree) if isinstance(node, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
                    for c in ast.walk(node.value)}  # names in __all__ ("Phase") are not words said
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in fixed and id(node) not in exported:
                found.append(f"{path.relative_to(root)}:{node.lineno}: {node.value!r}")
    assert found == []


def test_a_field_is_said_in_one_form_per_template():
    assert phrase("{n:words}, and {n:words} again.", n=3) == "three, and three again."
    with pytest.raises(ValueError, match="two forms"):
        phrase("{n} is {n:words}", n=3)
