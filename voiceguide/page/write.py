"""A page read as exercises -> a routine script (YAML) that reads as if a person wrote it.

Every step carries a comment naming the page line it came from, what was read there and what was
assumed where the page was silent; sections left out are listed at the end, so nothing is lost
without a word.  ``import_page`` is the whole import: read, recognise, write.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from ..script.routine import StepKind
from .model import Exercise, Group, Page, PageError, Work
from .read import read_lines
from .recognise import recognise

SIDES: Final = ("right", "left")
_PLAIN: Final = re.compile(r"^[A-Za-z{][^:#\n]*$")
_YAML_WORDS: Final = re.compile(r"^(?:y|n|yes|no|on|off|true|false|null|~)$", re.I)


@dataclass(frozen=True)
class Imported:
    """A page imported: the routine script's text, and what a person should hear about it."""

    text: str
    page: Page | None
    format: str
    summary: list[str] = field(default_factory=list)
    """Lines for stderr: how many exercises, and which lines were not understood."""


def scalar(value: str, flow: bool = False) -> str:
    """A YAML scalar: plain where that is safe, else double-quoted (JSON's quoting is YAML's).

    ``flow``: inside ``{...}``, where a comma or bracket ends a plain scalar."""
    value = value.strip()
    if flow and re.search(r"[,\[\]{}]", value):
        return json.dumps(value, ensure_ascii=False)
    if _PLAIN.match(value) and not _YAML_WORDS.match(value) and not value.endswith(" ") \
            and not re.search(r"[\[\]{}&*!|>'\"%@`,]", value[:1]) and "{" not in value.replace("{side}", ""):
        return value
    return json.dumps(value, ensure_ascii=False)


def _text_list(key: str, items: list[str], pad: str) -> list[str]:
    if len(items) == 1:
        return [f"{pad}{key}: {scalar(items[0])}"]
    return [f"{pad}{key}:"] + [f"{pad}  - {scalar(x)}" for x in items]


def _comment(work: Work) -> str:
    where = work.line
    said = "; ".join(work.assumed) if work.assumed else "as the page says"
    if not said.startswith("line "):
        said = f"line {where.number}: \"{where.text}\": {said}"
    return said


def _step(work: Work, pad: str) -> list[str]:
    lines = [f"{pad}# {_comment(work)}".replace("\n", " "), f"{pad}- name: {scalar(work.name)}"]
    inner = pad + "  "
    if work.sides:
        lines.append(f"{inner}sides: [{', '.join(SIDES)}]")
    setup = list(work.setup)
    if work.kind != StepKind.HOLD:
        setup += work.reminders  # a reps or breaths step has no reminders: the page's cue is said before it
    if setup:
        lines += _text_list("setup", setup, inner)
    if work.goal:
        lines.append(f"{inner}goal: {scalar(work.goal)}")
    if work.kind == StepKind.REPS:
        lines.append(f"{inner}reps: {work.reps}")
        lines.append(f"{inner}cycle:")
        few = int(float(str(work.reps).split("-")[-1])) <= 2  # the short cue is for reps after the second
        for say, short, seconds in work.phases:
            phase = f"say: {scalar(say, flow=True)}"
            if short and short != say and not few:
                phase += f", short: {scalar(short, flow=True)}"
            lines.append(f"{inner}  - {{{phase}, seconds: {seconds:g}}}")
    elif work.kind == StepKind.HOLD:
        lines.append(f"{inner}hold: {work.hold_s}")
        if work.breathe:
            lines.append(f"{inner}breathe: {{inhale: {work.breathe[0]:g}, exhale: {work.breathe[1]:g}}}")
        if work.reminders:
            lines += _text_list("reminders", work.reminders, inner)
    elif work.kind == StepKind.BREATHS:
        lines += [f"{inner}breaths: {work.breaths}", f"{inner}inhale: {work.inhale_s:g}",
                  f"{inner}exhale: {work.exhale_s:g}"]
    if work.feel:
        lines.append(f"{inner}feel: {scalar(work.feel)}")
    return lines


def _work(work: Work, pad: str) -> list[str]:
    if not work.rounds:
        lines = _step(work, pad)
    else:
        lines = [f"{pad}# line {work.line.number}: done {work.rounds} times, as rounds",
                 f"{pad}- rounds: {work.rounds}"]
        if work.rest_between_s:
            lines.append(f"{pad}  rest_between: {work.rest_between_s}")
        lines.append(f"{pad}  announce: true")
        lines.append(f"{pad}  steps:")
        lines += _step(work, pad + "    ")
    if work.rest_after_s:
        lines.append(f"{pad}- rest: {work.rest_after_s}")
    return lines


def _exercise(exercise: Exercise, pad: str) -> list[str]:
    return [line for work in exercise.works for line in _work(work, pad)]


def write_routine(page: Page, source: str) -> str:
    """The routine script for a page, with its comments."""
    out = [f"# Imported from {source} by `voiceguide import`: each step's comment names the page line it",
           "# came from and what was assumed where the page was silent.  Edit freely; `voiceguide check` it after.",
           f"title: {scalar(page.title or Path(source).stem)}"]
    if page.cautions:
        numbers = sorted({line.number for line, _ in page.cautions})
        out.append(f"# the page's cautions (line{'s' * (len(numbers) > 1)} {', '.join(map(str, numbers))}), "
                   "said after the standard safety note")
        out += _text_list("intro", [text for _, text in page.cautions], "")
    out.append("steps:")
    parts = page.parts
    for k, part in enumerate(parts):
        if k and page.rest_between_exercises_s:
            out.append(f"  - rest: {page.rest_between_exercises_s}")
        if isinstance(part, Group):
            out.append(f"  # line {part.line.number}: \"{part.line.text}\": rounds {part.rounds}"
                       + (f", {part.rest_between_s} s rest between them" if part.rest_between_s else ""))
            out.append(f"  - rounds: {part.rounds}")
            if part.rest_between_s:
                out.append(f"    rest_between: {part.rest_between_s}")
            out.append("    steps:")
            for j, exercise in enumerate(part.exercises):
                if j and page.rest_between_exercises_s:
                    out.append(f"      - rest: {page.rest_between_exercises_s}")
                out += _exercise(exercise, "      ")
        else:
            out += _exercise(part, "  ")
    if page.left_out:
        out.append("# left out, as not exercises to follow by ear:")
        out += [f"#   line {line.number}: \"{line.text}\" ({why})" for line, why in page.left_out]
    return "\n".join(out) + "\n"


def _summary(page: Page, source: str, fmt: str) -> list[str]:
    steps = sum(len(e.works) for e in page.exercises)
    names = ", ".join(e.name for e in page.exercises)
    said = [f"read {source} as a page ({fmt}): {len(page.exercises)} exercise{'s' * (len(page.exercises) != 1)}"
            f" in {steps} step{'s' * (steps != 1)} ({names})"]
    if page.cautions:
        said.append(f"  {len(page.cautions)} caution line{'s' * (len(page.cautions) != 1)} spoken at the start")
    if page.left_out:
        said.append("  left out: " + "; ".join(f"line {line.number} \"{line.text}\" ({why})"
                                                for line, why in page.left_out))
    if page.not_understood:
        unread = dict.fromkeys((line.number, line.text) for line in page.not_understood)
        said.append("  not understood: " + "; ".join(f"line {number} \"{text}\"" for number, text in unread))
    return said


def import_page(path: Path | str) -> Imported:
    """Read a page and write its routine script; ``PageError`` when it cannot."""
    path = Path(path)
    lines, fmt, routine_text = read_lines(path)
    if routine_text is not None:
        return Imported(routine_text, None, "routine", [f"{path} is already a routine script; read as one"])
    try:
        try:
            page = recognise(lines, str(path))
        except PageError:
            if fmt != "html":
                raise
            # no exercise outside the menus, newsletters and sidebars its classes name: a page builder may
            # name its article so ("elementor-widget"); read it again with only its tags to go by
            page = recognise(read_lines(path, by_class=False)[0], str(path))
        return Imported(write_routine(page, path.name), page, fmt, _summary(page, str(path), fmt))
    except PageError:
        raise
    except (ValueError, IndexError, KeyError, TypeError, AttributeError, StopIteration, RecursionError) as exc:
        # a rule that met a line it was not written for: one line, not a traceback, and worth a report
        raise PageError(f"could not read {path} as a page ({type(exc).__name__}: {exc}); please report it "
                        "with the page, and write the routine by hand meanwhile") from None
