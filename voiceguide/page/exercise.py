"""One exercise's heading and lines -> its steps: what kind, how many, how long, and what is spoken.

Where the page is silent, these defaults apply (the README gives the reasons):

- a rep's phases: 4 s out and 4 s in, as for a breath; a "hold 5 seconds" in a rep is a 5 s
  phase between them (a hold of 10 s or more is a hold step of its own, repeated as rounds);
- a breath's pace: 4 s in and 6 s out; "breathe slowly" during a hold paces the hold the same way;
- "a few times": 3-5 reps; breaths with a pace and no count: 6 breaths (about a minute);
- sets: rounds with a 20 s rest between them, unless the page gives the rest;
- an exercise with instructions and no count or time: a 30 s hold, time to settle into it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Final

from ..script import words as spoken
from ..script.routine import StepKind
from ..script.words import phrase
from .model import Exercise, Facts, Line, Page, Work
from .quantities import read_facts, tidy
from .words import (
    BODY_WORDS,
    FEEL_OPENER,
    LABELS,
    NUMBERING,
    POSITION_OPENERS,
    RETURN_VERBS,
    SETUP_LABEL,
    VARIATION,
    WHOLE,
    first_verb,
    is_instruction,
    is_position,
)

PHASE_S: Final = 4.0
INHALE_S: Final = 4.0
EXHALE_S: Final = 6.0
FEW_BREATHS: Final = "6"
SET_REST_S: Final = "20"
SETTLE_HOLD_S: Final = "30"
LONG_HOLD_S: Final = 10.0
"""A hold in a rep this long or longer is a hold step of its own (with its countdown), done as rounds."""
MAX_PHASE_WORDS: Final = 9
_RETURNING: Final = re.compile(r"\b(?:back\s+(?:up|down|to)|come\s+back|return|to\s+(?:the\s+)?start)\b", re.I)
_DANGLING: Final = frozenset("to the a an of with and your toward towards into onto at in on as from so or".split())
_THERE_AND_BACK: Final = re.compile(r"\b(forward|forwards|up|in|out|down|left|right|back)\s+and\s+"
                                    r"(back|down|out|in|up|right|left|forward)\b", re.I)
_LABEL: Final = re.compile(r"^(?P<label>[A-Za-z][\w' ]{0,24}?)\s*:\s*(?P<rest>.*)$")
_ONE_SIDE: Final = re.compile(r"\b(?:one|a|your|the)\s+(?=(?:knee|leg|foot|arm|hand|hip|ankle|shoulder|elbow|ear|"
                              r"side)\b)", re.I)


def clean_name(text: str, keep_quantity: bool = False) -> str:
    """A heading as a step's name: no numbering, quantities, trailing colon or "(supine)"."""
    name = NUMBERING.sub("", text).strip()
    name = re.sub(r"\s*\bpage\s+\d+\s+of\s+\d+\b", "", name, flags=re.I).strip() or name
    alias = re.search(r"\((?:the|a|aka|also called)\s+([^)]{3,30})\)", name, re.I)
    if alias and len(name.split()) > 5:
        name = alias[1].strip()
    if not keep_quantity:
        name = read_facts(name)[1] or name
        name = re.sub(r"^\d+(?:\s*[-–]\s*\d+)?\s+(?=[A-Za-z])", "", name)  # "20 jumping jacks": the count is read
    name = re.sub(r"\s*\([^)]*\)", "", name) or name
    if not keep_quantity and ", " in name and len(name.split(",")[0].split()) >= 1:
        name = name.split(",")[0]  # "Stationary bike, easy": the name before the comment
    name = re.sub(r"[\s:;,.—–-]+$", "", name).strip(" -—–:")
    if name.isupper():
        name = name.capitalize()
    return name[:1].upper() + name[1:] if name else name


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[:1].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def _clause(text: str) -> str:
    """What a phase says: the line, or its first clause when the line is long."""
    text = re.sub(r"^(?:then|and|now)\s+", "", text.strip(), flags=re.I)
    if (POSITION_OPENERS.match(text) or is_position(text)) and "," in text:
        rest = text.split(",", 1)[1].strip()  # "Lie on your stomach, press ...": the position is the setup's
        if first_verb(rest) and not is_position(rest):
            text = rest
    words = text.split()
    if len(words) > MAX_PHASE_WORDS:
        text = re.split(r",|;| as | while | until | so that | — ", text)[0]
    if len(text.split()) > MAX_PHASE_WORDS and len(text.split(" and ")[0].split()) >= 3:
        text = text.split(" and ")[0]  # "Step one foot back and lower the back knee ...": the first move
    words = text.split()
    if len(words) > MAX_PHASE_WORDS:
        words = words[:MAX_PHASE_WORDS]
        while words and words[-1].lower() in _DANGLING:
            words.pop()
        text = " ".join(words)
    return _sentence(tidy(text))


def _phase(text: str) -> tuple[str, str | None, float]:
    said = _clause(text)
    return said, _short(said), PHASE_S


def _short(text: str) -> str | None:
    verb = first_verb(text)
    return phrase(spoken.VERB_CUE, verb=verb.capitalize()) if verb and verb not in ("let", "keep", "take") else None


def _cycle(work: Work, lines: list[str], rep_hold_s: float | None) -> None:
    """The phases of one rep, from the page's lines where it says them, else 4 s out and 4 s in."""
    exhale = next((x for x in lines if re.search(r"\bexhal|\bbreathe\s+out", x, re.I)), None)
    inhale = next((x for x in lines if re.search(r"\binhal|\bbreathe\s+in", x, re.I)), None)
    phases: list[tuple[str, str | None, float]] = []
    used: list[str] = []
    if exhale and inhale and exhale != inhale:
        pair = sorted([(lines.index(exhale), exhale, spoken.EXHALE_CUE),
                       (lines.index(inhale), inhale, spoken.INHALE_CUE)])
        phases = [(_clause(text), short, PHASE_S) for _, text, short in pair]
        used = [exhale, inhale]
        work.assumed.append("a phase for the exhale and one for the inhale, 4 s each, as for a breath")
    else:
        moves = [x for x in lines if first_verb(x) and not is_position(x) and first_verb(x) not in ("keep", "avoid")]
        then = next((x for x in reversed(moves) if re.search(r",?\s+then\s+", x)), None)
        back = next((x for x in lines[1:] if first_verb(x) in RETURN_VERBS or _RETURNING.search(x)), None)
        there = next((m for x in reversed(moves) if (m := _THERE_AND_BACK.search(x))), None)
        if there:
            first = there.string[: there.end(1)]
            back = there[2].lower()
            way_back = (phrase(spoken.AND_BACK_TO, back=back), phrase(spoken.VERB_CUE, verb=back.capitalize()))
            phases = [_phase(first), (*way_back, PHASE_S)]
            used = [there.string]
        elif then:
            first, second = re.split(r",?\s+then\s+", then, maxsplit=1)
            phases = [_phase(first), _phase(second)]
            used = [then]
        elif back:
            before = [x for x in lines[: lines.index(back)] if x in moves] or lines[: lines.index(back)]
            phases = [_phase(before[-1]), _phase(back)]
            used = [before[-1], back]
        elif len(moves) >= 2:
            phases = [_phase(moves[0]), _phase(moves[-1])]
            used = [moves[0], moves[-1]]
        elif moves:
            phases = [_phase(moves[-1]), (spoken.AND_BACK, spoken.BACK, PHASE_S)]
            used = [moves[-1]]
        else:
            phases = [(spoken.MOVE, None, PHASE_S), (spoken.RELEASE if rep_hold_s else spoken.AND_BACK, None, PHASE_S)]
        work.assumed.append("no phase times on the page, so 4 s out, 4 s in, as for a breath")
    if rep_hold_s:
        phases.insert(1, (spoken.HOLD_CUE, None, rep_hold_s))
        work.assumed.append(f"a {rep_hold_s:g} s hold in each rep")
    work.phases = [(say, short or "", seconds) for say, short, seconds in phases]
    # a line the phase says whole is not said again before the work; a line it shortens is, in full
    said = {say.rstrip(".").lower() for say, _, _ in phases}
    work.setup = [x for x in work.setup
                  if x not in used or _sentence(re.sub(r"^(?:then|and|now)\s+", "", x, flags=re.I)).rstrip(".").lower()
                  not in said]


def _merge(into: Facts, new: Facts) -> bool:
    """Add one line's facts to a step's; False when they describe another step (a second count)."""
    if new.breaths and (into.reps or into.hold_s) or (new.reps or new.hold_s) and into.breaths:
        return False
    if new.reps and into.reps and new.reps != into.reps or \
            new.hold_s and into.hold_s and new.hold_s != into.hold_s and not new.reps:
        return False  # the same count said again ("Perform 10 repetitions ... 3 sets of 10") is the same step
    for key in ("reps", "hold_s", "sets", "rounds", "rest_s", "rest_between_s", "breaths", "minutes_s", "frequency"):
        if getattr(new, key) is not None and getattr(into, key) is None:
            setattr(into, key, getattr(new, key))
    into.breath_phases = into.breath_phases or new.breath_phases
    into.sides = into.sides or new.sides
    into.slow_breathing = into.slow_breathing or new.slow_breathing
    into.said += new.said
    return True


def _finish(work: Work, facts: Facts) -> None:
    """A step's kind and values from what its lines said, with the defaults where they said nothing."""
    reps = facts.reps
    if facts.rounds and not reps:
        reps = facts.rounds  # "8-10 slow rounds" of one exercise: its cycles
    elif facts.rounds and not facts.sets:
        facts.sets = facts.rounds
    if facts.sets == "1":
        facts.sets = None  # "Complete 1 set": the step as it is
    pattern = facts.breath_phases
    work.sides = facts.sides
    work.rest_after_s = facts.rest_s
    if facts.sets:
        work.rounds, work.rest_between_s = facts.sets, facts.rest_between_s or SET_REST_S
        work.rest_assumed = not facts.rest_between_s
        if not facts.rest_between_s:
            work.assumed.append(f"sets as rounds, with a {SET_REST_S} s rest between them")
    hold = facts.hold_s
    if pattern and hold and not reps and re.search(r"breath", work.name, re.I):
        facts.minutes_s, hold = hold, None  # "Diaphragmatic breathing: 2 minutes"
    if pattern and any(k == "hold" for k, _ in pattern) and not hold:
        breath_s = sum(s for _, s in pattern)
        timed = _per(facts.minutes_s, breath_s) if facts.minutes_s and breath_s else None
        work.kind, work.reps = StepKind.REPS, reps or facts.breaths or timed or FEW_BREATHS
        if timed and not (reps or facts.breaths):
            work.assumed.append(f"{facts.minutes_s} s of breathing is {timed} breaths at this pace")
        names = {"in": (spoken.BREATHE_IN, spoken.IN_CUE), "out": (spoken.BREATHE_OUT_CUE, spoken.OUT_CUE),
                 "hold": (spoken.HOLD_CUE, spoken.HOLD_CUE)}
        work.phases = [(names[k][0], names[k][1], s) for k, s in pattern]
        work.assumed.append("one rep is one breath as the page paces it")
        return
    if reps:
        work.kind, work.reps = StepKind.REPS, reps
        top = float(hold.split("-")[-1]) if hold else None
        rep_hold = (float(hold.split("-")[0]) + float(hold.split("-")[-1])) / 2 if hold else None
        if hold and "-" in hold and top is not None and top < LONG_HOLD_S:
            work.assumed.append(f"the {hold} s hold in each rep is {rep_hold:g} s, the middle")
        if hold and top is not None and top >= LONG_HOLD_S:
            work.kind, work.hold_s, work.reps = StepKind.HOLD, hold, None
            work.rounds = _times(reps, work.rounds)
            work.rest_between_s = work.rest_between_s or "5"
            work.assumed.append(f"each of the {reps} reps a {hold} s hold, so the hold is done as rounds")
            _breathing(work, facts)
            return
        _cycle(work, work.setup, rep_hold)
        return
    if hold:
        work.kind, work.hold_s = StepKind.HOLD, hold
        _breathing(work, facts)
        return
    breathing = re.search(r"breath", work.name, re.I) is not None
    if facts.minutes_s and not pattern and not facts.breaths and not facts.slow_breathing and not breathing:
        work.kind, work.hold_s = StepKind.HOLD, facts.minutes_s
        _breathing(work, facts)
        return
    if facts.breaths or pattern or facts.minutes_s:
        work.kind = StepKind.BREATHS
        if pattern:
            work.inhale_s = next(s for k, s in pattern if k == "in")
            work.exhale_s = next(s for k, s in pattern if k == "out")
        else:
            work.inhale_s, work.exhale_s = INHALE_S, EXHALE_S
            work.assumed.append(f"no pace on the page, so {INHALE_S:g} s in, {EXHALE_S:g} s out")
        if facts.breaths:
            work.breaths = facts.breaths
        elif facts.minutes_s:
            work.breaths = _per(facts.minutes_s, work.inhale_s + work.exhale_s)
            work.assumed.append(f"{facts.minutes_s} s of breathing is {work.breaths} breaths at this pace")
        else:
            work.breaths = FEW_BREATHS
            work.assumed.append(f"no count on the page, so {FEW_BREATHS} breaths, about a minute")
        return
    work.kind, work.hold_s = StepKind.HOLD, SETTLE_HOLD_S
    work.assumed.append(f"no count or time on the page, so a {SETTLE_HOLD_S} s hold to settle into it")
    _breathing(work, facts)


def _per(length_s: str, breath_s: float) -> str:
    """How many breaths of ``breath_s`` fill a length ("300-600" s at 10 s a breath: "30-60")."""
    counts = sorted({max(1, round(float(x) / breath_s)) for x in length_s.split("-")})
    return str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"


def _times(reps: str, sets: str | None) -> str:
    if not sets:
        return reps
    lo = [int(float(x)) for x in reps.split("-")]
    by = [int(float(x)) for x in sets.split("-")]
    values = sorted({a * b for a in (lo[0], lo[-1]) for b in (by[0], by[-1])})
    return str(values[0]) if values[0] == values[-1] else f"{values[0]}-{values[-1]}"


def _breathing(work: Work, facts: Facts) -> None:
    if facts.breath_phases:
        pace = dict((k, s) for k, s in facts.breath_phases if k != "hold")
        work.breathe = (pace["in"], pace["out"])
    elif facts.slow_breathing or any(re.search(r"\bbreath", x, re.I) for x in work.setup):
        work.breathe = (INHALE_S, EXHALE_S)
        work.assumed.append(f"'breathing slowly' as {INHALE_S:g} s in, {EXHALE_S:g} s out")


_BREATH_STEP: Final = re.compile(r"^(?:breathe\s+)?(?:in|out|inhale|exhale|hold|pause)\b[^.]*\d", re.I)


def _breath_lines(heading: Line, body: list[Line]) -> list[Line]:
    """A breathing exercise's pace written one phase a line ("In for 4" / "Hold for 4" / "Out for 4") as one
    line, so the pace is read whole; "breathe" is added where the line has no breath word of its own."""
    if not re.search(r"breath|inhal|exhal", " ".join([heading.text, *(x.text for x in body)]), re.I):
        return body
    joined: list[Line] = []
    for line in body:
        if _BREATH_STEP.match(line.text) and joined and _BREATH_STEP.match(joined[-1].text) \
                and not read_facts(joined[-1].text)[0].breath_phases:
            joined[-1] = replace(joined[-1], text=f"{joined[-1].text.rstrip('.')}, {line.text}")
        else:
            joined.append(line)
    return [replace(x, text=phrase(spoken.BREATHE_STEP, rest=x.text[0].lower() + x.text[1:]))
            if _BREATH_STEP.match(x.text) and not re.search(r"breath|inhal|exhal", x.text, re.I) else x
            for x in joined]


def build_exercise(heading: Line, body: list[Line], page: Page) -> Exercise | None:
    """The exercise a section describes, or None when it is not one (no count, time or instructions)."""
    body = _breath_lines(heading, body)
    name = clean_name(heading.text) or clean_name(heading.text, keep_quantity=True)
    exercise = Exercise(name=name, line=heading)
    head_facts, _ = read_facts(NUMBERING.sub("", heading.text))
    current = Work(name=name, line=heading)
    facts = Facts()
    _merge(facts, head_facts)
    if head_facts.any():
        current.assumed.append(f"{', '.join(head_facts.said)} from the heading")
    instructions = settled = 0
    for line in body:
        text = line.text
        if (feel := FEEL_OPENER.match(text)) and text[feel.end():]:
            current.feel = _sentence(text[feel.end():])
            continue
        label = _LABEL.match(text)
        if label and label["label"].lower().strip() in LABELS and label["rest"].strip():
            kind, said = LABELS[label["label"].lower().strip()], _sentence(re.sub(r"[“”\"]", "", label["rest"]).strip())
            if kind == "goal":
                current.goal = said
            elif kind == "feel":
                current.feel = said
            else:
                current.reminders.append(said)
            continue
        if setup_label := SETUP_LABEL.match(text):
            text = text[setup_label.end():].strip()
            if not text:
                continue
        if VARIATION.match(text):
            current.assumed.append(f"line {line.number}: another version of it, left for the reader")
            continue
        line_facts, left = read_facts(text)
        rest_only = line_facts.rest_between_s and not (line_facts.reps or line_facts.hold_s or line_facts.sets)
        if line_facts.any() and (WHOLE.search(text) or rest_only):
            page.whole.append((line, line_facts))  # "Repeat the whole circuit 3 times": not this exercise's
            continue
        if label and line_facts.any() and (len(label["label"].split()) == 1 or not is_instruction(label["label"])):
            left = read_facts(label["rest"])[1]  # "Practice: 5-10 hinges a day": the label is not said
        if line_facts.any():
            if not _merge(facts, line_facts):
                carried, current.setup = current.setup[settled:], current.setup[:settled]
                _finish(current, facts)
                exercise.works.append(current)
                # a step of the same exercise: its chapter says whose ("Standing reset: slow breaths")
                second = f"{name}: slow breaths" if line_facts.breaths and "slow" in text.lower() else \
                    f"{name}: breaths" if line_facts.breaths else f"{name}: part {len(exercise.works) + 1}"
                current, facts = Work(name=second, line=line, setup=carried), Facts()
                _merge(facts, line_facts)
            else:
                if current.line is heading:
                    current.line = line
            current.assumed.insert(0, f"line {line.number}: \"{text}\": " + "; ".join(line_facts.said))
            left = re.sub(r"^(?:and|then|also)\s+", "", left, flags=re.I)
            if left and is_instruction(left) and not re.search(r"\d", left) \
                    and (len(left.split()) >= 2 or first_verb(left) in RETURN_VERBS):
                current.setup.append(_sentence(left))
                instructions += 1
            settled = len(current.setup)
            continue
        if line_facts.frequency:
            current.assumed.append(f"line {line.number}: {line_facts.said[0]}")
            continue
        if is_instruction(text) or (label and is_instruction(label["rest"]) and not is_instruction(label["label"])):
            current.setup.append(_sentence(text))
            instructions += 1
        elif re.search(r"\d", text):
            page.not_understood.append(line)
    if not facts.any() and page.work_s and (instructions or len(name.split()) <= 4):
        facts.hold_s = page.work_s
        current.assumed.append(f"no count or time of its own, so the page's {page.work_s} s for each exercise")
    elif not facts.any() and (instructions < 2 or not any(BODY_WORDS.search(x) for x in current.setup)):
        return None
    _finish(current, facts)
    exercise.works.append(current)
    for work in exercise.works:
        if work.sides:
            work.setup = [_ONE_SIDE.sub("your {side} ", x, count=1) if k == 0 or "{side}" not in " ".join(work.setup)
                          else x for k, x in enumerate(work.setup)]
    return exercise
