"""YAML nodes -> plain values (text, numbers, ranges, sounds), each problem located and explained.

``Reader`` is the vocabulary ``parse.py`` reads a routine with.  It collects every problem instead
of stopping at the first (authors fix a script in one pass), says what to write instead, and
refuses tags that would build objects wherever they appear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import Any, Final, TypeVar

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import Location, Problem, quoted
from .routine import BED_LEVEL_RANGE_LU, CUE_LEVEL_RANGE_LU, MAX_RATE, MAX_SESSION_S, MIN_RATE, SOUND_NAMES, Span
from .yamlsafe import TAG, StopReading, plain_tag

MAX_PROBLEMS: Final = 50
MAX_TEXT_CHARS: Final = 400
"""One text, spoken in one piece: the built-ins' longest is 121 characters.  Piper's memory grows
with the length of what it is given, sentences or not (peak, packaged voice: 127 characters
290 MB, 404 characters 550 MB, 1,052 characters 1.4 GB)."""
_SPLIT_IT: Final = ("split it into shorter texts: several 'say' steps or phases, or a list of lines where the key "
                    "takes one (setup, reminders, intro, outro)")


@dataclass(frozen=True)
class Bounds:
    """What a number may be: for the checks, and for telling the author what to write instead."""

    least: float
    most: float
    above: bool = False
    """``least`` itself is not allowed (seconds must be more than 0)."""
    integer: bool = False
    noun: str = "seconds"
    like: str = "4"
    """An example inside the bounds, for "write seconds, like 4"."""
    like_range: str = "20-30"
    """An example range inside the bounds, for keys that take one."""

    def what(self) -> str:
        noun = "a whole number" if self.integer else self.noun
        if self.above:
            return f"{noun} more than {self.least:g} and at most {self.most:g}"
        return f"{noun} from {self.least:g} to {self.most:g}"

    def fault(self, value: float) -> str | None:
        if value < 0 <= self.least:
            return "it cannot be negative"
        if value < self.least or (self.above and value == self.least):
            return "it cannot be 0" if value == 0 else "that is too low"
        if value > self.most:
            return "that is too high" if self.most <= 0 else "that is more than makes sense"
        if self.integer and value != int(value):
            return "it must be a whole number"
        return None


BOUNDS: Final = {
    "reps": Bounds(1, 200, integer=True, like="8", like_range="8-12"),
    "breaths": Bounds(1, 100, integer=True, like="8", like_range="8-12"),
    "hold": Bounds(1, 3600, like="30"),  # at least a second: anything shorter is a typo, not a hold
    "rest": Bounds(0, 3600, above=True, like="30"),
    "rest_between": Bounds(0, 3600, above=True, like="20"),
    "rounds": Bounds(1, 100, integer=True, like="3", like_range="2-3"),
    "seconds": Bounds(0, 600, above=True),
    "inhale": Bounds(0, 60, above=True),
    "exhale": Bounds(0, 60, above=True),
    "pause": Bounds(0, 600),
    "countdown": Bounds(0, 60, integer=True, like="3"),
    "rate": Bounds(MIN_RATE, MAX_RATE, noun="a number", like="0.9"),
    "duration": Bounds(0, MAX_SESSION_S, above=True, like="480"),
    "cue_level": Bounds(*CUE_LEVEL_RANGE_LU, noun="LU relative to the voice", like="-12"),
    "bed_level": Bounds(*BED_LEVEL_RANGE_LU, noun="LU relative to the voice", like="-18"),
}

_NUM = r"(?:\d+(?:\.\d+)?|\.\d+)"
_NUMBER_RE: Final = re.compile(rf"[+-]?{_NUM}")
_RANGE_RE: Final = re.compile(rf"(-?{_NUM})\s*[-\u2013\u2014]\s*(-?{_NUM})")
_CLOCK_RE: Final = re.compile(r"(?:(\d+):)?(\d+):([0-5]\d(?:\.\d+)?)")
_WITH_UNIT_RE: Final = re.compile(rf"({_NUM})\s*(?:s|secs?|seconds?|reps?|breaths?|times|x)\.?", re.I)
_PLACEHOLDER_RE: Final = re.compile(r"\{([^{}]*)\}")


def did_you_mean(word: str, choices, synonyms: dict[str, str] | None = None) -> str | None:
    """The closest of ``choices`` to a mistyped ``word``, if any is close."""
    if synonyms and word.lower() in synonyms:
        return synonyms[word.lower()]
    found = get_close_matches(word.lower(), list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


T = TypeVar("T")


def all_or_none(items: list[T | None]) -> tuple[T, ...] | None:
    """Every item read, or None when any could not be (its error is already noted)."""
    found = [item for item in items if item is not None]
    return tuple(found) if len(found) == len(items) else None

class Reader:
    """Reads YAML nodes into plain values, recording every problem with its place.

    Each reading method returns None after reporting a problem, so callers can go on and find
    the next one.
    """

    def __init__(self, path: str):
        self.path = path
        self.problems: list[Problem] = []
        self.errors = 0
        self.suggested: set[str] = set()
        """The keys offered as "did you mean" by the last ``mapping`` call: not reported missing again."""
        # where the script is, for includes; set by parse.read_routine
        self.base_dir = Path.cwd()
        self.chain: tuple[Path, ...] = ()
        self.caution_asked = False
        self.groups_open: list[tuple[int, ...]] = []
        self.included: list[tuple[Location, Problem]] = []
        """Problems of included files, each with the ``include:`` line it was found through."""
        self.included_sources: list[str] = []
        """The files included routines were read from (``Routine.sources``), set by ``include.read_include``."""
        self.includes: Any = None
        """The run's ``include.Includes``: the folder includes stay in, the files read so far."""
        self.include_height = 0
        """Levels of includes inside this script, set by ``include.read_include``."""
        self.too_many_steps = False
        """The routine came to more than ``MAX_EXPANDED_STEPS``: too many to add up their lengths."""
        self._listed: set[Problem] = set()

    def include_problem(self, anchor: Location, problem: Problem) -> None:
        """A problem in an included file: reported as located there, listed at the include (once,
        however many includes reach it)."""
        if problem.severity == "error":
            self.errors += 1
        if problem not in self._listed:
            self._listed.add(problem)
            self.included.append((anchor, problem))

    def at(self, node: Node | Location) -> Location:
        if isinstance(node, Location):
            return node
        mark = node.start_mark
        return Location(self.path, mark.line + 1, mark.column + 1)

    def error(self, node: Node | Location, message: str) -> None:
        self.problems.append(Problem(self.at(node), message))
        self.errors += 1
        if self.errors >= MAX_PROBLEMS:
            raise StopReading(Problem(self.at(node), f"stopping after {MAX_PROBLEMS} problems; fix these first"))

    def warn(self, node: Node | Location, message: str) -> None:
        self.problems.append(Problem(self.at(node), message, "warning"))

    def check_tag(self, node: Node) -> bool:
        """Refuse tags that would build objects (``!!python/object``) or that mean nothing here."""
        if plain_tag(node):
            return True
        tag = node.tag.replace(TAG, "!!")
        if tag.startswith("!!python/"):
            self.error(node, f"tag {tag!r} would build a Python object; routine scripts are plain data: remove the tag")
        else:
            self.error(node, f"tag {tag!r} is not allowed in routine scripts; remove it")
        return False

    # -- mappings

    def pairs(self, node: MappingNode, depth: int = 0) -> list[tuple[Node, Node]]:
        """The key/value pairs of a mapping, with YAML merge keys (``<<: *defaults``) applied."""
        explicit, merged = [], []
        for key, value in node.value:
            if key.tag != TAG + "merge":
                explicit.append((key, value))
                continue
            for source in value.value if isinstance(value, SequenceNode) else [value]:
                if not isinstance(source, MappingNode) or depth > 8:
                    self.error(source, "a merge key '<<' needs a mapping, like '*defaults' anchored with '&defaults'")
                elif self.check_tag(source):
                    merged.extend(self.pairs(source, depth + 1))
        written = {k.value for k, _ in explicit if isinstance(k, ScalarNode)}
        for key, value in merged:  # keys written out win; among merged ones, the first
            name = key.value if isinstance(key, ScalarNode) else None
            if name is None or name not in written:
                written.add(name)
                explicit.append((key, value))
        return explicit

    def mapping(self, node: Node, where: str, allowed, synonyms=None, *, noun: str = "key",
                like: str = "'name: ...'", misplaced=None) -> dict[str, tuple[Node, Node]] | None:
        """Known keys -> (key node, value node), reporting unknown, duplicate and odd keys.

        ``misplaced(name)`` may explain a key that belongs somewhere else.  None if not a mapping.
        """
        if not self.check_tag(node):
            return None
        if not isinstance(node, MappingNode):
            self.error(node, f"expected keys and values {where}, like {like}, not {describe(node)}")
            return None
        found: dict[str, tuple[Node, Node]] = {}
        first_line: dict[str, int] = {}
        self.suggested = set()
        for key, value in self.pairs(node):
            if not self.check_tag(key):
                continue
            if not isinstance(key, ScalarNode) or key.tag == TAG + "null":
                self.error(key, f"a key {where} must be a plain word like 'name', not {describe(key)}")
                continue
            name = key.value
            if name in first_line:
                self.error(key, f"duplicate key {quoted(name)} {where} (first at line {first_line[name]}); keep one")
                continue
            first_line[name] = key.start_mark.line + 1
            if name in allowed:
                found[name] = (key, value)
            elif hint := misplaced and misplaced(name):
                self.error(key, hint)
            elif best := did_you_mean(name, allowed, synonyms):
                self.suggested.add(best)
                self.error(key, f"unknown {noun} {quoted(name)} {where} (did you mean {best!r}?)")
            else:
                self.error(key, f"unknown {noun} {quoted(name)} {where}; write one of: {', '.join(allowed)}")
        return found

    # -- values

    def text(self, node: Node, label: str, no_side: str | None = None, *, want: str = "the words to speak",
             remove: str | None = "the key", too_long: str | None = _SPLIT_IT, spoken: bool = True) -> str | None:
        """Words to speak, whitespace tidied.  ``no_side`` (if given) says why ``{side}`` cannot be used here.

        Any scalar counts as text as written: ``say: Yes`` speaks "Yes", though YAML reads it as true.
        An empty value is told to write ``want`` or (unless ``remove`` is None: required) to remove ``remove``;
        one over ``MAX_TEXT_CHARS`` is told ``too_long`` (None: no limit, for a file's path).
        A ``spoken`` text needs a letter or a digit: a voice says nothing for "-" or "***".
        """
        if not self.check_tag(node):
            return None
        if isinstance(node, MappingNode) and any(getattr(k, "value", None) == "side" for k, _ in node.value):
            self.error(node, f'{label} starts with {{side}}, which YAML reads as a mapping; put the text in quotes, '
                             'like "{side} knee up"')
            return None
        if not isinstance(node, ScalarNode):
            self.error(node, f"{label} must be text, not {describe(node)}")
            return None
        value = " ".join(node.value.split())
        if node.tag == TAG + "null" or not value:
            self.error(node, f"{label} is empty; write {want}" + (f", or remove {remove}" if remove else ""))
            return None
        if too_long and len(value) > MAX_TEXT_CHARS:
            self.error(node, f"{label} is {len(value):,} characters long; a text is limited to {MAX_TEXT_CHARS} "
                             f"(about 20 seconds of speech): {too_long}")
            return None
        if spoken and not any(c.isalnum() for c in value):
            self.error(node, f"{label} has no words in it ({quoted(value)}), so a voice would say nothing; "
                             f"write {want}")
            return None
        if control := next((c for c in value if ord(c) < 32 or 0x7F <= ord(c) < 0xA0), None):
            self.error(node, f"{label} holds the control character U+{ord(control):04X}; delete it")
            return None
        for match in _PLACEHOLDER_RE.finditer(value):
            if match.group(1) != "side":
                self.error(node, f"{label} has an unknown placeholder {match.group(0)!r}; the only one is {{side}}")
            elif no_side:
                self.error(node, f"{label} uses {{side}}, {no_side}")
        return value

    def lines(self, node: Node, label: str, no_side: str | None = None, *,
              want: str = "the words to speak") -> tuple[str, ...] | None:
        """One text, or a list of texts."""
        if not isinstance(node, SequenceNode):
            text = self.text(node, label, no_side, want=want)
            return None if text is None else (text,)
        if not self.check_tag(node):
            return None
        found = [self.text(item, f"item {i} of {label}", no_side, want=want, remove="the item")
                 for i, item in enumerate(node.value, 1)]
        return all_or_none(found)

    def boolean(self, node: Node, label: str) -> bool | None:
        if not self.check_tag(node):
            return None
        if isinstance(node, ScalarNode) and node.tag == TAG + "bool":
            return _yaml_true(node.value)
        self.error(node, f"{label} is {describe(node)}; write true or false")
        return None

    def sound(self, node: Node, label: str) -> str | None:
        name = self.text(node, label, "but a sound has no sides", want=f"a built-in sound ({', '.join(SOUND_NAMES)})",
                         too_long=None)
        if name is None or name in SOUND_NAMES:
            return name
        best = did_you_mean(name, SOUND_NAMES)
        hint = f" (did you mean {best!r}?)" if best else ""
        self.error(node, f"{label} is {quoted(name)}, not a built-in sound{hint}; "
                         f"write one of: {', '.join(SOUND_NAMES)}")
        return None

    def number(self, node: Node, key: str, label: str, *, span: bool = False):
        """A number within ``BOUNDS[key]`` (a ``Span`` with ``span``: a number or a range like 8-12)."""
        bounds = BOUNDS[key]
        if key == "duration":
            example = f'a length like "8:00", or seconds like {bounds.like}'
        else:
            example = f"a whole number like {bounds.like}" if bounds.integer else f"{bounds.noun}, like {bounds.like}"
            if span:
                example += f", or a range like {bounds.like_range}"
        if not self.check_tag(node):
            return None
        if not isinstance(node, ScalarNode) or node.tag in (TAG + "null", TAG + "bool"):
            self.error(node, f"{label} is {describe(node)}; write {example}")
            return None
        raw = node.value.strip()
        if _NUMBER_RE.fullmatch(raw):
            lo = hi = float(raw)
        elif span and (m := _RANGE_RE.fullmatch(raw)):
            lo, hi = float(m.group(1)), float(m.group(2))
        elif key == "duration" and (m := _CLOCK_RE.fullmatch(raw)):
            lo = hi = clock_seconds(m)
        else:
            self.error(node, f"{label} is {quoted(raw)}; write {_instead(raw) or example}")
            return None
        for value in (lo, hi):
            if fault := bounds.fault(value):
                what = "a length up to 3:00:00" if key == "duration" else bounds.what()
                self.error(node, f"{label} is {quoted(raw)}; {fault}: write {what}")
                return None
        if lo > hi:
            self.error(node, f"{label} is {quoted(raw)}, a range that runs backwards; write {hi:g}-{lo:g}")
            return None
        if span:
            return Span(int(lo), int(hi), integer=True) if bounds.integer else Span(lo, hi)
        return int(lo) if bounds.integer else lo


def describe(node: Node) -> str:
    """How a value looks to its author: "a list", "'yes', which YAML reads as true", "empty"."""
    if isinstance(node, SequenceNode):
        return "a list" if node.value else "an empty list"
    if isinstance(node, MappingNode):
        return "a mapping of keys" if node.value else "an empty mapping"
    if node.tag == TAG + "null":
        return "empty"
    if node.tag == TAG + "bool":
        return f"{node.value!r}, which YAML reads as {'true' if _yaml_true(node.value) else 'false'}"
    return quoted(node.value)


def _yaml_true(raw: str) -> bool:
    return raw.lower() in ("true", "yes", "on")


def clock_seconds(match: re.Match) -> float:
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)


def clock_or_seconds(raw: str) -> float | None:
    """A duration as written on the command line: M:SS, H:MM:SS or plain seconds; None if it is none of these."""
    if m := _CLOCK_RE.fullmatch(raw):
        return clock_seconds(m)
    if re.fullmatch(_NUM, raw):
        return float(raw)
    return None


def _instead(raw: str) -> str | None:
    """A better spelling of a number written with a unit or as a clock time."""
    if m := _WITH_UNIT_RE.fullmatch(raw):
        return f"just the number, {m.group(1)}"
    if m := _CLOCK_RE.fullmatch(raw):
        return f"it in seconds: {clock_seconds(m):g}"
    return None
