"""The numbers in one line of a page: reps, holds, sides, sets, rounds, rests and the breath's pace.

Each rule is one regular expression over the line, tried in the order below; what a rule reads is
blanked out so the next cannot read it again ("inhaling for 4 seconds" is a breath, not a 4 s hold).
Ranges stay ranges as the page wrote them ("8-12", "20 to 30" -> ``20-30``).  ``remainder`` is the
line with what was read taken out: the instruction left to speak ("Move small and smooth").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from typing import Final

from .model import Facts

WORDS: Final = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
                "forty-five": 45, "sixty": 60, "once": 1, "twice": 2}
_NUMBER_WORDS: Final = "|".join(sorted((w for w in WORDS if w not in ("once", "twice")), key=len, reverse=True))
NUM: Final = rf"(?<![0-9a-wyzA-WYZ_/.])(?:\d+(?:\.\d+)?|(?:{_NUMBER_WORDS})\b)(?![/]\d)"
"""A number, as digits or a word, that is not part of another ("90/90", "fours", "4-7-8")."""
RANGE: Final = rf"(?<![\d][-–])(?P<lo>{NUM})(?:\s*(?:-|–|—|to|or)\s*(?P<hi>{NUM}))?(?![-–]\d)"
SECONDS: Final = r"(?P<unit>seconds?|secs?|s|minutes?|mins?)\b"
NOT_REPS: Final = ("second", "sec", "minute", "min", "hour", "day", "week", "month", "year", "degree", "inch",
                   "centimetre", "centimeter", "cm", "mm", "feet", "foot", "kg", "lb", "pound", "percent", "set",
                   "round", "breath", "sigh", "time", "count", "point", "reader", "stretche", "move", "exercise",
                   "tip", "way", "minute", "rep", "repetition", "other", "k")
"""Plural nouns after a number that are not repetitions ("45 degrees", "3 stretches each time")."""
SIDES: Final = re.compile(r"\b(?:sides?\s*:\s*(?:both|each|left\s+and\s+right|l\s*/\s*r)|e/s\b|"
                          r"(?:on\s+)?(?:each|per|every)\s+(?:side|leg|arm)|both\s+sides"
                          r"|switch(?:ing)?\s+(?:sides|legs|arms)|change\s+sides|swap\s+sides|(?:on|to)\s+the\s+other\s+side"
                          r"|,?\s*then\s+switch(?:\s+(?:sides|legs|arms))?\b|switch\s+and\s+repeat|repeat\s+on\s+the\s+other(?:\s+\w+)?|then\s+the\s+other(?:\s+(?:side|leg|arm))?|alternate\s+sides"
                          r"|(?:right|left)\s+and\s+(?:right|left)(?:\s+sides?)?)\b", re.I)


def number(text: str) -> float:
    text = text.lower()
    return float(WORDS[text]) if text in WORDS else float(text)


def _fmt(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def span(m: re.Match, scale: float = 1.0) -> str:
    """"8-12" or "10" from a match of ``RANGE`` (``scale``: minutes to seconds)."""
    lo = number(m["lo"]) * scale
    if m.groupdict().get("hi") is None:
        return _fmt(lo)
    hi = number(m["hi"]) * scale
    lo, hi = min(lo, hi), max(lo, hi)
    return _fmt(lo) if lo == hi else f"{_fmt(lo)}-{_fmt(hi)}"


def _scale(m: re.Match) -> float:
    return 60.0 if (m["unit"] or "").lower().startswith("m") else 1.0


def _frequency(f: Facts, m: re.Match) -> None:
    f.frequency = m[0].strip()
    f.said.append(f"{m[0].strip()!r} is how often, not part of one session")


def _sets_of(f: Facts, m: re.Match) -> None:
    f.sets = span(m)
    lo, hi = m["rlo"], m["rhi"]
    f.reps = _fmt(number(lo)) if hi is None else f"{_fmt(number(lo))}-{_fmt(number(hi))}"
    f.said.append(f"{f.sets} sets of {f.reps} reps")


def _sets(f: Facts, m: re.Match) -> None:
    f.sets = span(m)
    f.said.append(f"sets {f.sets}")


def _rounds(f: Facts, m: re.Match) -> None:
    f.rounds = span(m)
    f.said.append(f"rounds {f.rounds}")


def _rest_between(f: Facts, m: re.Match) -> None:
    value = span(m, _scale(m))
    if re.search(r"exercise|move|station", m[0], re.I):
        f.rest_between_exercises_s = value
        f.said.append(f"{value} s rest between exercises")
    else:
        f.rest_between_s = value
        f.said.append(f"{value} s rest between rounds")


def _rest(f: Facts, m: re.Match) -> None:
    f.rest_s = span(m, _scale(m))
    f.said.append(f"rest {f.rest_s} s")


_BREATH_WORD: Final = re.compile(r"\b(?:breath|inhal|exhal)", re.I)
_BREATH_TOKEN: Final = re.compile(r"\b(?:breathe\s+in|breathing\s+in|inhal\w*|in|breathe\s+out|breathing\s+out|"
                                  r"exhal\w*|out|hold\w*|pause\w*)\b", re.I)
_BREATH_COUNT: Final = re.compile(rf"^[^.;\d]{{0,40}}?(?:\bfor\s+|\bcount\s+of\s+|\bto\s+)?(?P<n>{NUM})\b"
                                  r"(?:\s*(?:counts?|seconds?|secs?|s)\b)?", re.I)


def breath_pattern(text: str) -> tuple[tuple[tuple[str, float], ...], tuple[int, int] | None]:
    """"Breathe in for 4 and out for 6" -> ((in, 4), (out, 6)) and where it was; box breathing keeps its holds."""
    if not _BREATH_WORD.search(text):
        return (), None
    tokens = list(_BREATH_TOKEN.finditer(text))
    phases: list[tuple[str, float]] = []
    start = end = None
    for k, token in enumerate(tokens):
        stop = tokens[k + 1].start() if k + 1 < len(tokens) else len(text)
        counted = _BREATH_COUNT.match(text[token.end():stop])
        if counted is None:
            continue
        what = token[0].lower()
        kind = ("in" if what.endswith("in") or what.startswith("inhal") else
                "out" if what.endswith("out") or what.startswith("exhal") else "hold")
        phases.append((kind, number(counted["n"])))
        start = token.start() if start is None else start
        end = token.end() + counted.end()
    kinds = [k for k, _ in phases]
    if "in" in kinds and "out" in kinds and start is not None and end is not None:
        return tuple(phases), (start, end)
    return (), None


def _hold(f: Facts, m: re.Match) -> None:
    f.hold_s = span(m, _scale(m))
    f.said.append(f"hold {f.hold_s} s")


def _hold_plain(f: Facts, m: re.Match) -> None:
    """"Hold: 30" on a sheet with columns: seconds."""
    f.hold_s = span(m, 60.0 if (m.groupdict().get("unit") or "").lower().startswith("m") else 1.0)
    f.said.append(f"hold {f.hold_s} s")


def _practice_length(f: Facts, m: re.Match) -> None:
    f.minutes_s = span(m, _scale(m))
    f.said.append(f"for {f.minutes_s} s in all")


def _reps(f: Facts, m: re.Match) -> None:
    f.reps = span(m)
    f.said.append(f"reps {f.reps}")


def _reps_sides(f: Facts, m: re.Match) -> None:
    _reps(f, m)
    f.sides = True


def _times_word(f: Facts, m: re.Match) -> None:
    f.reps = {"once": "1", "twice": "2", "three": "3", "four": "4"}[m["lo"].split()[0].lower()]
    f.said.append(f"{m['lo'].lower()}: reps {f.reps}")


def _few(f: Facts, m: re.Match) -> None:
    f.reps = "3-5"
    f.said.append("'a few times': reps 3-5")


def _breaths(f: Facts, m: re.Match) -> None:
    f.breaths = span(m)
    f.said.append(f"breaths {f.breaths}")


def _noun_reps(f: Facts, m: re.Match) -> None:
    noun = m["noun"].lower().rstrip("s")
    if f.reps is None and not any(noun.startswith(w) for w in NOT_REPS):
        f.reps = span(m)
        f.said.append(f"reps {f.reps} ({m['noun'].lower()})")


def _slow(f: Facts, m: re.Match) -> None:
    f.slow_breathing = True


def _sets_combo(f: Facts, m: re.Match) -> None:
    if m["lo2"] is not None:  # "3 x 10": sets x reps, or "2 x 10 each side"
        f.sets, f.reps = _fmt(number(m["lo2"])), _fmt(number(m["r2"]))
        if m["r2hi"] is not None:
            f.reps += f"-{_fmt(number(m['r2hi']))}"
        f.said.append(f"{f.sets} sets of {f.reps} reps")
    else:
        _sets_of(f, m)


_UNIT_WORDS: Final = r"(?:rounds?|sets?|circuits?|exercises?|moves?|stations?)"
RULES: Final[list[tuple[str, Callable[[Facts, re.Match], None] | None]]] = [
    (rf"(?:perform\s+|do\s+(?:this\s+)?)?(?:{NUM}\s*(?:x|times?(?:\(s\))?)|once|twice)\s*(?:a|per|/|each|every)\s*"
     rf"(?:day|week)\b|\b{NUM}\s*(?:x|times?)\s*daily\b",
     _frequency),
    (r"\bfrequency\s*:?\s*\S+(?:\s+(?:per|a)\s+(?:day|week))?|\b(?:daily|weekly|per\s+(?:day|week))\s*:\s*\d+(?:\s*x)?"
     r"|\b(?:daily|every\s+day)\b", _frequency),
    (rf"\b(?P<lo>{NUM})(?:\s*(?:-|–|to)\s*(?P<hi>{NUM}))?\s*sets?\s+of\s+(?P<rlo>{NUM})(?:\s*(?:-|–|to)\s*(?P<rhi>{NUM}))?"
     rf"(?:\s*(?:reps?|repetitions?))?", _sets_of),
    (rf"\b(?P<lo2>{NUM})\s*[x×]\s*(?P<r2>{NUM})(?:\s*[-–]\s*(?P<r2hi>{NUM}))?\b(?!\s*(?:sec|s\b|second|min)|[-–])",
     _sets_combo),
    (rf"\b(?P<lo>{NUM})\s*[x×]\s*(?={NUM}(?:\s*[-–]\s*{NUM})?\s*(?:sec|s\b|second|min))", _sets),
    (rf"\bsets?\s*:?\s*{RANGE}\b", _sets),
    (rf"\b(?:complete|do|perform)?\s*{RANGE}\s*sets?\b", _sets),
    (rf"(?:rest(?:ing)?|pause|recover(?:ing)?)\s*:?\s*(?:for\s+)?{RANGE}\s*{SECONDS}\s*"
     rf"(?:between|after\s+each)\s+(?:each\s+)?{_UNIT_WORDS}", _rest_between),
    (rf"{RANGE}\s*{SECONDS}\s*(?:of\s+)?(?:rest|recovery)\s+(?:between|after\s+each)\s+(?:each\s+)?{_UNIT_WORDS}",
     _rest_between),
    (rf"\b(?:complete|do|repeat|perform|go\s+through)?\s*(?:(?:the|this|all|whole)\s+(?:circuit|sequence|exercises?|"
     rf"moves?)\s+)?(?:for\s+)?{RANGE}\s*(?:\w+\s+)?rounds?\b", _rounds),
    (rf"\brounds?\s*:?\s*{RANGE}\b", _rounds),
    (rf"\b(?:rest|relax|recover)\s*:?\s*(?:for\s+)?{RANGE}\s*{SECONDS}", _rest),
    (rf"\bhold\s*:\s*{RANGE}\b(?!\s*(?:reps?|times|breaths?|counts?|sets?|[x×]))(?:\s*{SECONDS})?", _hold_plain),
    (rf"\b(?:hold(?:ing)?|stay(?:ing)?(?:\s+(?:here|there|in\s+this\s+position))?|remain|keep\s+it|pause|rest\s+here)"
     rf"\s*(?:\w+\s+){{0,3}}?:?\s*(?:for\s+)?(?:about\s+)?{RANGE}\s*{SECONDS}", _hold),
    (rf"\b(?:for|continue\s+for|practi[cs]e\s+for|about)\s+{RANGE}\s*(?P<unit>minutes?|mins?)\b", _practice_length),
    (rf"(?<![\w-]){RANGE}\s*[- ]?{SECONDS}\s*(?=hold|each|per|on\b|,|\.|;|\)|$)", _hold),
    (rf"(?<![\w-]){RANGE}\s*-?\s*{SECONDS}\s+(?=[a-z])(?!(?:rest|of\s+rest|break|between)\b)", _hold),
    (rf"\b(?:repeat|do|perform|complete|take)?\s*(?:this\s+)?(?:for\s+)?{RANGE}"
     rf"\s*(?:(?:\w+\s+){{0,2}})?(?:breaths?|sighs?|breathing\s+cycles?)\b", _breaths),
    (rf"\breps?\s*:?\s*{RANGE}\b", _reps),
    (rf"\b(?:repeat\s+|do\s+|perform\s+)?{RANGE}\s*(?:x\s*)?(?:reps?|repetitions?|times|counts?)\b", _reps),
    (rf"\b(?:repeat|do|perform)\s+(?:it\s+|this\s+)?{RANGE}(?:\s*times)?\b", _reps),
    (rf"[x×]\s*{RANGE}\b", _reps),
    (rf"\b{RANGE}\s*[x×](?!\s*\d)", _reps),
    (r"\ba\s+few\s+times\b", _few),
    (r"\b(?:do|repeat|complete|go\s+through)\b[^.;]*?\b(?P<lo>once|twice|three\s+times|four\s+times)\b",
     _times_word),
    (rf"\b{RANGE}\s+(?:(?:slow|smooth|gentle|small|deep|easy|controlled|full|big|more|quick|careful|soft)\s+){{0,2}}"
     r"(?:[a-z-]+\s+)?(?P<noun>[a-z][a-z-]+s)\b", _noun_reps),
    (rf"\b{RANGE}\s+(?:each|per|on\s+each|every|ea\.?)\s+(?:side|leg|arm)\b", _reps_sides),
    (rf"\b{RANGE}\s*(?:/\s*(?:side|leg|arm)|e/s|each)\b(?!\s+(?:time|way|direction))", _reps_sides),
    (rf"\b{RANGE}\s+(?:each|per|in\s+each|every)\s+(?:direction|way)\b", _reps),
    (r"\b(?:a|per|each)\s+(?:day|week)\b", _frequency),
    (r"\bbreath(?:e|ing)\s+(?:slowly|deeply|calmly|easily|evenly|gently|quietly)|\bslow(?:,\s*\w+)?\s+breath",
     _slow),
]
_COMPILED: Final = [(re.compile(p, re.I), h) for p, h in RULES if h is not None]


def read_facts(text: str) -> tuple[Facts, str]:
    """The quantities in one line, and the line with them taken out (a copy: the rules ask about a line
    several times, and the answer is kept)."""
    facts, left = _read_facts(text)
    return replace(facts, said=list(facts.said)), left


@lru_cache(maxsize=4096)
def _read_facts(text: str) -> tuple[Facts, str]:
    facts = Facts()
    left = text
    phases, where = breath_pattern(left)
    if where is not None:
        facts.breath_phases = phases
        facts.said.append("breath " + ", ".join(f"{k} {_fmt(s)} s" for k, s in phases))
        left = left[: where[0]] + " " * (where[1] - where[0]) + left[where[1]:]
    for pattern, handle in _COMPILED:
        for m in list(pattern.finditer(left)):
            if not m[0].strip():
                continue
            before = facts.any() or facts.frequency or facts.slow_breathing
            handle(facts, m)
            after = facts.any() or facts.frequency or facts.slow_breathing
            if after or after != before:
                start, end = m.start(), m.end()
                if handle is _noun_reps:  # "20 jumping jacks": the count is read, the name stays
                    end = m.end("hi") if m["hi"] else m.end("lo")
                left = left[:start] + " " * (end - start) + left[end:]
    for m in SIDES.finditer(left):
        facts.sides = True
        left = left[: m.start()] + " " * (m.end() - m.start()) + left[m.end():]
    if facts.sides:
        facts.said.append("sides")
    return facts, tidy(left)


def tidy(text: str) -> str:
    """A line with pieces taken out, made readable again: no dangling commas, 'then' or 'for'."""
    text = re.sub(r"\(\s*\)", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    for _ in range(3):
        text = re.sub(r"\s+([,.;:!?])", r"\1", text)
        text = re.sub(r"\.{2,}$", ".", text)
        text = re.sub(r"([,;:])\s*(?=[,.;:]|$)", "", text)
        text = re.sub(r"(?:^|(?<=[.;:,]))\s*(?:then|and|for|after|of|with|on|in|do|,)\s*(?=[.,;]|$)", "", text,
                      flags=re.I)
        text = re.sub(r"\b(?:then|and|for|after|of|on|in|do|about|each|per|a|with)\s*([.,;!?]|$)", r"\1", text,
                      flags=re.I)
        text = re.sub(r"^[\s,.;:—–-]+|[\s,;:—–-]+$", "", text)
    return text.strip()
