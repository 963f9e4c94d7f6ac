"""Lines -> a page's exercises, cautions and what was left out, by rules (no language model, no network).

1. **Headings** split the page into sections: those the format marks (Markdown ``#``, HTML ``h1``-``h6``,
   a bold line), and lines that look like one: short, no full stop, not an instruction and not only
   numbers ("Pelvic tilts (supine)", "A) Glute bridge", "Bodyweight squats - 12 reps").
2. **Cautions**: a section headed like one ("When to be cautious", "Safety", "Before you begin"), a
   line labelled like one ("Caution:", "Please note:"), a warning box, or a line that reads like one
   ("Stop if ...", "If you feel dizzy, stop ...").  They are spoken before the first step.
3. **Exercises**: a section with a quantity (reps, a hold, breaths, sets, sides), or a section of two
   or more instructions about the body with a heading that is not an explanation's ("Why this works",
   "Everyday habits", "What better feels like" are left out, and listed as left out).
4. **Circuits**: "complete 3 rounds" outside an exercise makes the exercises after it one group, with
   the rest between rounds the page gives; "rest 30 seconds between exercises" puts rests between them.
``exercise.py`` turns one exercise's lines into its steps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Final

from .exercise import build_exercise, clean_name
from .model import Exercise, Group, Line, Page, PageError
from .quantities import read_facts
from .text import split_line
from .words import (
    BODY_WORDS,
    CAUTION_HEADING,
    CAUTION_LABEL,
    CAUTION_LINE,
    DOSE_LABEL,
    LABELS,
    NOT_EXERCISE_HEADING,
    NUMBERING,
    PART_HEADING,
    PART_LEFT_OUT,
    SETUP_LABEL,
    VARIATION,
    WHOLE,
    WORK,
    is_instruction,
    title_case,
)

_DETERMINER: Final = re.compile(r"\b(?:the|your|a|an|one|both|each|this|that|it|them|my)\b", re.I)
"""Words an instruction's object has and an exercise's name does not ("lift the leg" / "Leg raises")."""
MAX_EXERCISES: Final = 150
"""Exercises in one imported routine; more is a book, not a session (and a script over 10,000 values)."""


@dataclass
class Section:
    heading: Line | None
    body: list[Line] = field(default_factory=list)
    title: Line | None = None
    """For the lines under the page's title: the title, which names them if they are one exercise."""

    @property
    def rank(self) -> int:
        """How high the heading stands: 1-6 as marked, 7 for a bold line, 8 for one that only looks like one."""
        if self.heading is None:
            return 0
        return self.heading.heading or (7 if self.heading.strong else 8)


_NAMED_LINE: Final = re.compile(r"^(?P<name>[A-Z][^:.;,]{1,38}?)\s*:\s+(?P<rest>[A-Za-z].{5,})$")


def _a_name(text: str) -> bool:
    """Words that name an exercise ("Wall push-ups"), not a label ("Goal", "Reps") or an instruction."""
    return (len(text.split()) <= 5 and not _DETERMINER.search(text) and not is_instruction(text)
            and not (DOSE_LABEL.match(text + ":") or SETUP_LABEL.match(text + ":") or CAUTION_LABEL.match(text + ":")
                     or VARIATION.match(text + ":") or NOT_EXERCISE_HEADING.search(text) or PART_HEADING.match(text)
                     or text.lower() in LABELS))


def looks_like_heading(line: Line, following: Line | None, previous: Line | None = None) -> bool:
    if line.heading:
        return True
    if previous is not None and previous.strong and previous.number == line.number and not line.strong:
        return False  # what follows a bold name on its line ("**Split squat**: 3 x 8") is about it
    text = NUMBERING.sub("", line.text).strip()
    if not text or not re.search(r"[A-Za-z]{2}", text):
        return False
    if line.strong and len(text.split()) <= 8 and not text[:1].isdigit():
        return True
    opens_its_line = not line.continued and following is not None and following.continued
    if opens_its_line and text[-1] in ".:" and ":" not in text[:-1] and len(text.split()) <= 5 \
            and not is_instruction(text) and not read_facts(text)[0].any() and not CAUTION_LABEL.match(text) \
            and not DOSE_LABEL.match(text + ":"):
        return True  # "1. Bridges. Lie on your back ...": a name, then its instructions
    if text[-1] in ".!?,;" or line.caution:
        return False
    facts, left = read_facts(text)
    named = left if facts.any() else text
    if len(named) > 70 or len(named.split()) > 9:
        return False
    if CAUTION_LABEL.match(text) or DOSE_LABEL.match(text) or SETUP_LABEL.match(text) or VARIATION.match(text):
        return False
    if text.endswith(":") and len(text.split()) > 5:
        return False
    lead = re.search(r"^(?P<name>[^,:;]{2,40}?)(?:\s[-–—]\s|:\s|,\s)", text)
    name_and_count = facts.any() and lead is not None and len(lead["name"].split()) <= 5 \
        and not _DETERMINER.search(lead["name"])  # "Squat jumps - 10", not "Straighten the knee, hold 2 s"
    short_title = (2 <= len(text.split()) <= 4 and not re.search(r"\d", text) and not facts.any() and not line.bullet
                   and following is not None and is_instruction(following.text) and len(following.text) > len(text) * 2
                   and (previous is None or previous.text[-1:] in ".!?:" or previous.heading > 0))
    if is_instruction(text) and not title_case(text) and not name_and_count and not short_title:
        return False
    if facts.any() and not re.search(r"[A-Za-z]{3}", re.sub(r"\b(?:reps?|sets?|hold|sec|frequency)\b", "", left,
                                                             flags=re.I)):
        return False  # "Sets: 2  Reps: 10": only numbers
    if ":" in text.rstrip(":") and not facts.any():
        label, rest = text.split(":", 1)
        if len(rest.split()) > 3 and len(label.split()) > 1:
            return False  # "Stiff hips from sitting: hip flexors tighten": a label and its explanation
    if line.bullet:
        return facts.any() or bool(following and following.indent > line.indent)
    return True


def sections_of(lines: list[Line]) -> list[Section]:
    """The page cut at its headings; a heading for a part of an exercise ("How to do it", "Sets and reps")
    adds its lines to the exercise above it (or leaves them out: "Common mistakes", "Muscles worked")."""
    sections = [Section(None)]
    part_of: Section | None = None
    skipping = False
    for k, line in enumerate(lines):
        following = lines[k + 1] if k + 1 < len(lines) else None
        named = _NAMED_LINE.match(line.text) if not line.heading and not line.continued else None
        if named and _a_name(named["name"]) and (read_facts(line.text)[0].any() or
                                                  following is not None and following.continued):
            # "Wall push-ups: stand facing a wall ... 10 reps.": a name, then its lines
            part_of, skipping = None, False
            sections.append(Section(replace(line, text=named["name"], strong=True)))
            sections[-1].body.extend(split_line(line.number, named["rest"], indent=line.indent))
            continue
        if looks_like_heading(line, following, lines[k - 1] if k else None):
            name = NUMBERING.sub("", line.text).strip()
            if PART_HEADING.match(name) and sections[-1].heading is not None and \
                    (part_of is not None or sections[-1].heading.heading < (line.heading or 9)):
                part_of = part_of or sections[-1]
                skipping = bool(PART_LEFT_OUT.search(name))
                continue
            part_of, skipping = None, False
            sections.append(Section(line))
        elif not skipping:
            (part_of or sections[-1]).body.append(line)
    return sections


def _title(sections: list[Section], fallback: str) -> tuple[str, list[Section]]:
    """The page's title (its first ``h1``, else its first heading of two words or more near the top, else
    a short first line) and the sections without it."""
    marked = [k for k, s in enumerate(sections) if s.heading is not None and s.heading.heading == 1]
    near = [k for k, s in enumerate(sections[:8]) if s.heading is not None and len(s.heading.text.split()) >= 2
            and not (s.heading.bullet or s.heading.strong)
            and (k == 1 and not sections[0].body or not read_facts(s.heading.text)[0].any())]
    top = sections[0].body[:1]
    if not marked and top and 2 <= len(top[0].text.split()) <= 10 and top[0].text[-1:] not in ".!?:;," \
            and top[0].number <= 3:
        sections = [Section(None, sections[0].body[1:]), *sections[1:]]
        return clean_name(top[0].text, keep_quantity=True), [s for s in sections if s.heading is not None or s.body]
    for k in marked[:1] or near[:1]:
        heading = sections[k].heading
        assert heading is not None
        rest = sections[:k] + [Section(None, sections[k].body, title=heading)] + sections[k + 1:]
        return clean_name(heading.text, keep_quantity=True), [s for s in rest if s.heading is not None or s.body]
    return fallback, sections


def _of_the_page(text: str) -> bool:
    """A line about the whole routine: a circuit's rounds, the time of each exercise, rests between them."""
    facts = read_facts(text)[0]
    return bool(facts.rounds or facts.rest_between_exercises_s or WORK.search(text) and facts.hold_s
                or WHOLE.search(text) and (facts.reps or facts.sets))


def _one_exercise(body: list[Line]) -> bool:
    """Lines under a title that are an exercise of their own: an instruction, and a count or time that is
    not about the whole page (a circuit's rounds, a rest between exercises, the time of each)."""
    counted = [read_facts(x.text)[0] for x in body if not WHOLE.search(x.text) and not WORK.search(x.text)]
    return any(f.reps or f.hold_s or f.breaths or f.breath_phases for f in counted) \
        and any(is_instruction(x.text) for x in body)


def _caution_text(line: Line) -> str | None:
    text = line.text
    label = CAUTION_LABEL.match(text)
    if label:
        text = text[label.end():].strip()
    elif not (line.caution or CAUTION_LINE.match(text)):
        return None
    return text[:1].upper() + text[1:] if text else None


def recognise(lines: list[Line], name: str = "PAGE") -> Page:
    """The page's exercises; ``PageError`` naming the nearest thing found when there are none."""
    title, sections = _title(sections_of(lines), name)
    page = Page(title=title)
    group: Group | None = None
    group_rank = 0
    nearest: list[str] = []
    for section in sections:
        heading = section.heading
        if heading is None and section.title is not None and _one_exercise(section.body):
            heading = section.title  # "# Box breathing" and then its instructions and counts: the page is one exercise
        if heading is not None and group is not None and section.rank <= group_rank and section.rank < 8:
            group = None
        if heading is not None and (CAUTION_HEADING.search(heading.text) or heading.caution):
            page.cautions += [(line, line.text) for line in section.body]
            continue
        exercise = None
        body = []
        for line in section.body:
            said = _caution_text(line)
            if said:
                page.cautions.append((line, said))
            else:
                body.append(line)
        heading_facts = read_facts(heading.text)[0] if heading is not None else None
        circuit = heading_facts is not None and heading_facts.rounds and not any(is_instruction(x.text) for x in body)
        if heading is not None and not circuit and not NOT_EXERCISE_HEADING.search(NUMBERING.sub("", heading.text)):
            exercise = build_exercise(heading, body, page)
        elif heading is not None:
            counted = [read_facts(line.text)[0] for line in body]
            if any(f.reps or f.hold_s or f.breaths for f in counted) and any(is_instruction(x.text) for x in body):
                exercise = build_exercise(heading, body, page)
        if exercise is None:
            instructions = [x for x in body if is_instruction(x.text)]
            speaks_of_page = any(_of_the_page(x.text) for x in body)  # a circuit's heading, not left out
            if heading is not None and (body or instructions) and not speaks_of_page:
                why = "an explanation, not an exercise" if NOT_EXERCISE_HEADING.search(heading.text) else \
                    "no count, time or instruction to follow"
                page.left_out.append((heading, why))
            nearest += [x.text for x in instructions if BODY_WORDS.search(x.text)]
            for line in body:  # a circuit's rounds, or rests between exercises, said outside any exercise
                facts, _ = read_facts(line.text)
                if facts.hold_s and WORK.search(line.text):
                    page.work_s = facts.hold_s
                rounds = facts.rounds or ((facts.reps or facts.sets) if WHOLE.search(line.text) else None)
                if rounds:
                    group = Group(rounds=rounds, line=line, rest_between_s=facts.rest_between_s)
                    group_rank = section.rank
                    page.parts.append(group)
                if facts.rest_between_exercises_s:
                    page.rest_between_exercises_s = facts.rest_between_exercises_s
                if re.search(r"\d", line.text) and not facts.any() and not facts.frequency and heading is not None:
                    page.not_understood.append(line)
            if heading is not None and (circuit or not body):
                facts, _ = read_facts(heading.text)
                if facts.rounds:  # "Main set - 3 rounds": the exercises under it are a circuit
                    group = Group(rounds=facts.rounds, line=heading, rest_between_s=facts.rest_between_s)
                    group_rank = section.rank
                    page.parts.append(group)
                else:  # a heading over other exercises ("Cool-down") ends a circuit
                    group = None
            continue
        if group is not None:
            group.exercises.append(exercise)
        else:
            page.parts.append(exercise)
    page.parts = [p for p in page.parts if not isinstance(p, Group) or p.exercises]
    for line, facts in page.whole:
        page.rest_between_exercises_s = facts.rest_between_exercises_s or page.rest_between_exercises_s
        rounds = facts.rounds or facts.sets or facts.reps
        if rounds and not any(isinstance(p, Group) for p in page.parts) and page.parts:
            group = Group(rounds=rounds, line=line, rest_between_s=facts.rest_between_s)
            group.exercises = [p for p in page.parts if isinstance(p, Exercise)]
            page.parts = [group]
        elif facts.rest_between_s and re.search(r"\bsets?\b", line.text, re.I):  # "Rest 60 seconds between sets"
            for exercise in page.exercises:
                for work in exercise.works:
                    if work.rounds and work.rest_assumed:
                        work.rest_between_s, work.rest_assumed = facts.rest_between_s, False
                        work.assumed = [a for a in work.assumed if not a.startswith("sets as rounds")]
                        work.assumed.append(f"line {line.number}: {facts.rest_between_s} s rest between sets")
        elif facts.rest_between_s:
            for part in page.parts:
                if isinstance(part, Group) and part.rest_between_s is None:
                    part.rest_between_s = facts.rest_between_s
    if len(page.exercises) > MAX_EXERCISES:
        raise PageError(f"{name} has {len(page.exercises)} exercises; a routine imported from a page has at most "
                        f"{MAX_EXERCISES} (a long session has twenty or so): import one part of it at a time")
    if not page.exercises:
        near = f"the nearest was \"{nearest[0]}\", with no count or time" if nearest else \
            (f"the nearest was the heading \"{page.left_out[0][0].text}\"" if page.left_out else
             f"it has {len(lines)} line{'s' * (len(lines) != 1)} and none is an instruction with a count or time")
        raise PageError(f"found no exercises in {name}: {near}; an exercise is a named step with a count or "
                        "a time, like 'Glute bridge' and then '10 reps' or 'Hold 30 seconds'")
    return page

