"""Bytes -> YAML nodes, safely: nothing constructed, nothing unbounded, every failure located.

A routine script comes from anyone, so reading it must never build objects (``!!python/...``
tags stay inert nodes; ``fields.py`` refuses them), never recurse without bound (nesting is
capped while composing) and never expand aliases: each alias use becomes a light copy of its
anchor's node, carrying the alias's own position, and the values each node stands for are
counted as it is composed, so a billion-laughs file stops at the alias that tips it over.
Every failure is a ``StopReading`` carrying one located ``Problem``.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any, Final

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent, Event
from yaml.nodes import MappingNode, Node, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from ..errors import Location, Problem

MAX_BYTES: Final = 1_000_000
MAX_DEPTH: Final = 40
"""Nesting levels; a routine needs six (steps, a step, its cycle, a phase, a value)."""
MAX_VALUES: Final = 10_000
"""Values in one script with aliases expanded; a long routine has a few hundred."""
_TOO_DEEP: Final = (f"values nested more than {MAX_DEPTH} levels deep; a routine needs about six: "
                    "check the brackets and the indentation")

TAG: Final = "tag:yaml.org,2002:"
_PLAIN_TAGS: Final = frozenset(TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp", "value",
                                                "merge", "seq", "map"))


class _PythonEvents(Reader, Scanner, Parser):
    """PyYAML's own event parser: for builds without libyaml."""

    byte_positions = False

    def __init__(self, text: str):
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)


try:  # libyaml's event parser is about three times faster on big files; composing stays in Python
    from yaml._yaml import CParser

    class _LibyamlEvents(CParser):
        byte_positions = True  # a reader error's position counts UTF-8 bytes here

    _EVENT_PARSERS: tuple = (_LibyamlEvents, _PythonEvents)
except ImportError:  # PyYAML built without libyaml
    _EVENT_PARSERS = (_PythonEvents,)


class StopReading(Exception):
    """Reading cannot go on; ``problem`` says where and why."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


class _Refused(Exception):
    def __init__(self, mark, message: str):
        self.mark, self.message = mark, message


class _Composing(Composer, Resolver):
    """Nodes from PyYAML's composer over either event parser, with depth and size bounds added.

    ``sizes`` holds how many values each node stands for once aliases are expanded, so that a
    billion-laughs file is refused at the alias that tips it over, without expanding anything.
    """

    get_single_node = Composer.get_single_node  # ahead of CParser's own, which cannot be hooked

    if TYPE_CHECKING:  # given by the event parser this is combined with (``_EVENT_PARSERS``)
        def peek_event(self) -> Event: ...
        def check_event(self, *choices: type[Event]) -> bool: ...

    def start_composing(self) -> None:
        Composer.__init__(self)
        Resolver.__init__(self)
        self.depth = 0
        self.sizes: dict[int, int] = {}

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        mark = self.peek_event().start_mark
        node: Node | None
        if self.check_event(AliasEvent):
            anchored = Composer.compose_node(self, parent, index)
            if anchored is None or id(anchored) not in self.sizes:
                raise _Refused(mark, "this alias refers to the value that contains it, which never ends; "
                                     "write the value out instead")
            clone = copy.copy(anchored)  # shares the children: nothing is expanded
            clone.start_mark = clone.end_mark = mark
            node, size = clone, self.sizes[id(anchored)]
        else:
            self.depth += 1
            try:
                if self.depth > MAX_DEPTH:
                    raise _Refused(mark, _TOO_DEEP)
                node = Composer.compose_node(self, parent, index)
            finally:
                self.depth -= 1
            children = node.value if isinstance(node, SequenceNode) else (
                [n for pair in node.value for n in pair] if isinstance(node, MappingNode) else [])
            size = 1
            for child in children:
                size += self.sizes[id(child)]
                if size > MAX_VALUES:
                    raise _Refused(child.start_mark, (
                        f"this script holds more than {MAX_VALUES:,} values once its aliases ('*name') are "
                        "expanded; a routine needs far fewer: write the steps out, or repeat less"))
        self.sizes[id(node)] = size
        return node


def _loader(events: type) -> type:
    class Loader(_Composing, events):
        def __init__(self, text: str):
            events.__init__(self, text)  # type: ignore[misc]  # the event parser this class was made over
            self.start_composing()

    Loader.__name__ = f"Loader({events.__name__})"
    return Loader


LOADERS: Final = tuple(_loader(events) for events in _EVENT_PARSERS)
"""The fastest first; ``compose`` takes another for tests of the pure-Python path."""


def plain_tag(node: Node) -> bool:
    """True for the tags of plain data; anything else (``!!python/object``, ``!custom``) is refused."""
    return node.tag in _PLAIN_TAGS


def decode_text(data: bytes, path: str) -> str:
    """UTF-8 (with or without a byte-order mark) -> text; anything else names the first bad byte."""
    if len(data) > MAX_BYTES:
        raise StopReading(Problem(Location(path, 1, 1), (
            f"the file is {len(data) / 1e6:.1f} MB or more; routine scripts are limited to 1 MB "
            "(a long routine is a few kilobytes): is this the right file?")))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise StopReading(Problem(Location(path, 1, 1), "the file is UTF-16 text; save it as UTF-8"))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line_start = before.rfind(b"\n") + 1
        col = len(before[line_start:].decode("utf-8", errors="replace")) + 1
        raise StopReading(Problem(Location(path, before.count(b"\n") + 1, col), (
            f"byte {data[exc.start]:#04x} is not UTF-8 text; save the file as UTF-8 "
            "(most editors offer it under 'Save as' or 'Encoding')"))) from None


def compose(text: str, path: str, loader_class: Any = LOADERS[0]) -> Node | None:
    """YAML text -> the root node (None for an empty document), or ``StopReading`` with a located reason."""
    if len(text) > MAX_BYTES:
        decode_text(text.encode("utf-8", errors="replace"), path)  # raises the size message
    loader = None
    try:
        loader = loader_class(text)  # the pure-Python reader checks every character here
        return loader.get_single_node()
    except _Refused as exc:
        raise StopReading(Problem(_where(path, exc.mark), exc.message)) from None
    except yaml.YAMLError as exc:
        raise StopReading(_syntax_problem(exc, text, path, loader_class.byte_positions)) from None
    finally:
        if loader is not None:
            loader.dispose()


def _where(path: str, mark) -> Location:
    return Location(path, mark.line + 1, mark.column + 1) if mark is not None else Location(path, 1, 1)


# What YAML says -> what to do about it.  Checked in order; the first match adds its hint.
_HINTS: Final = (
    ("mapping values are not allowed", "a ': ' inside unquoted text starts a new key: put the whole text in quotes"),
    ("could not find expected ':'", "every line here should be 'key: value' or '- item': check the indentation"),
    ("did not find expected key", "the keys of one mapping must start in the same column"),
    ("did not find expected '-' indicator", "the items of one list must line up, each starting with '- '"),
    ("expected <block end>", "a line is indented differently from its neighbours: line them up"),
    ("found unexpected end of stream", "this quote or bracket is never closed"),
    ("undefined alias", "an alias '*name' needs an anchor '&name' earlier in the file"),
    ("cannot start any token", "put text that starts with this character in quotes"),
    ("flow", "text that starts with '{' or '[' must be in quotes; otherwise check the brackets"),
)


def _syntax_problem(exc: yaml.YAMLError, text: str, path: str, byte_positions: bool) -> Problem:
    context = getattr(exc, "context_mark", None)
    mark = getattr(exc, "problem_mark", None) or context
    if "end of stream" in str(exc) and context:
        mark = context  # where the unclosed quote or bracket opens, not the end of the file
    if mark is not None:
        where = _where(path, mark)
    elif isinstance(exc, yaml.reader.ReaderError):
        before = text[: exc.position]
        if byte_positions:
            before = text.encode("utf-8")[: exc.position].decode("utf-8", errors="replace")
        where = Location(path, before.count("\n") + 1, len(before) - before.rfind("\n"))
    else:
        where = Location(path, 1, 1)
    problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
    problem = problem.replace(" in this context", "").replace(" here", "")
    lines = text.splitlines()
    line = lines[where.line - 1] if 0 < where.line <= len(lines) else ""
    indent = line[: len(line) - len(line.lstrip(" \t-"))]
    if "\t" in indent[: where.col]:
        return Problem(where, "a tab character here; YAML indents with spaces only: replace the tab with spaces")
    if "cannot start any token" in str(exc) and line[where.col - 1: where.col] == "\t":
        return Problem(where, "a tab character here, where YAML wants a space: replace the tab with a space")
    if isinstance(exc, yaml.reader.ReaderError):
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return Problem(where, f"the control character U+{code:04X} cannot appear in a routine script; delete it")
    if "nesting depth" in str(exc):  # libyaml's own limit, past ours
        return Problem(where, _TOO_DEEP)
    if "single document" in str(exc):
        return Problem(where, "a second YAML document starts here ('---'); a routine is one document: "
                              "remove this line and what follows, or move it to a file of its own")
    if "{side}" in line:
        hint = ('text with {side} must be in quotes when it starts with {side} or sits inside [ ] or { }, '
                'like "{side} knee up"')
    elif mistake := common_mistake(exc, lines, path):
        return mistake
    else:
        hint = next((h for key, h in _HINTS if key in str(exc)), "check the quotes, colons and indentation here")
    return Problem(where, f"YAML cannot read this: {problem}; {hint}")


# ------------------------------------------------------------------ mistakes people make in YAML
# Recognised from where YAML stopped and the line it stopped on; anything unsure gets the
# general hints above.

_SPECIAL: Final = {
    "[": "the start of a list", "{": "the start of keys and values", "*": "an alias (a reference to an '&' anchor)",
    "&": "an anchor (a name for the value)", "|": "the start of a block of lines", ">": "the start of a block of lines",
    "`": "a reserved character", "@": "a reserved character", "%": "a reserved character",
}
_BRACKETED: Final = {"[": "a list", "{": "keys and values in braces"}
_CLOSERS: Final = {"'": "'", '"': '"', "[": "]", "{": "}"}
_KEY_RE: Final = re.compile(r"(\s*(?:-\s+)?)([A-Za-z_][\w-]*):")
_NO_SPACE_RE: Final = re.compile(r"\s*(?:-\s+)?([A-Za-z_][\w-]*):(\w.*)")


def common_mistake(exc: yaml.YAMLError, lines: list[str], path: str) -> Problem | None:
    """A located explanation of a YAML error that a routine's author commonly makes, or None."""
    mark = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context_mark", None)
    said = str(exc)
    if mark is None or not 0 <= mark.line < len(lines):
        return None
    line = lines[mark.line]
    if context is not None and ("scanning an alias" in said or "scanning an anchor" in said
                                or "scanning a block scalar" in said):
        return _special_start(path, lines, context.line, context.column)
    if "cannot start any token" in said:
        return _special_start(path, lines, mark.line, mark.column)
    if "mapping values are not allowed" in said:
        return _no_space_after_colon(path, lines, mark.line) or _key_indented_deeper(path, lines, mark)
    if "expected key" in said or "expected <block end>, but found '<scalar>'" in said or "expected ','" in said:
        return _text_after_closed_value(path, line, mark)
    return None


def _special_start(path: str, lines: list[str], row: int, col: int) -> Problem | None:
    line = lines[row] if 0 <= row < len(lines) else ""
    char = line[col: col + 1]
    if char not in _SPECIAL or not _value_starts_at(line, col):
        return None
    return Problem(Location(path, row + 1, col + 1), (
        f"the text starts with {char!r}, which YAML reads as {_SPECIAL[char]}; put the whole text in double "
        f"quotes{_like_quoted(line[col:])}"))


def _text_after_closed_value(path: str, line: str, mark) -> Problem | None:
    """Text going on after a quoted text, a list or keys in braces that the value started with."""
    before = line[: mark.column].rstrip()
    closer = before[-1:]
    if line[: mark.column].endswith("'") and line[mark.column: mark.column + 1].isalnum() and before[-2:-1].isalnum():
        start = before.rfind("'", 0, len(before) - 1)
        if start >= 0 and _value_starts_at(line, start):
            words = line[start + 1: line.rfind("'")]
            doubled = words.replace("'", "''")
            like = (f""" ("{words}") or double the apostrophe ('{doubled}')""" if '"' not in words and len(words) <= 60
                    else ", or double the apostrophe")
            return Problem(Location(path, mark.line + 1, len(before)), (
                f"this apostrophe ends the text in single quotes, so YAML cannot read the rest; write the text "
                f"in double quotes{like}"))
    opener = next((o for o, c in _CLOSERS.items() if c == closer), None)
    start = _opening(before, opener) if opener else -1
    if opener is None or start < 0 or not _value_starts_at(line, start):
        return None
    where = Location(path, mark.line + 1, start + 1)
    if opener in "'\"":
        other, kind = ("'", "single") if opener == '"' else ('"', "double")
        whole = line[start:].split(" #")[0].rstrip()
        like = f", like {other}{whole}{other}" if other not in whole and len(whole) <= 60 else ""
        return Problem(where, (
            f"the text starts with a quote, so YAML takes {before[start:]} as the whole text and cannot read what "
            f"follows; put the whole text in {kind} quotes{like}, or leave the quotes out"))
    return Problem(where, (
        f"the text starts with {opener!r}, which YAML reads as {_SPECIAL[opener]}, and that ends at "
        f"{_CLOSERS[opener]!r} before the line does; put the whole text in double quotes{_like_quoted(line[start:])}"
        f" (or, if you meant {_BRACKETED[opener]}, end the line after {_CLOSERS[opener]!r})"))


def _opening(before: str, opener: str) -> int:
    """Where the quote or bracket closed at the end of ``before`` opens (-1 if unsure)."""
    if opener in "'\"":
        return before.rfind(opener, 0, len(before) - 1)
    depth = 0
    for i in range(len(before) - 1, -1, -1):
        depth += {_CLOSERS[opener]: 1, opener: -1}.get(before[i], 0)
        if depth == 0:
            return i
    return -1


def _value_starts_at(line: str, col: int) -> bool:
    """Whether a value starts at ``col``: after 'key: ' or '- ', or first in brackets."""
    head = line[:col].rstrip()
    if head.endswith(("[", "{", ",")):
        return True
    return head.endswith((":", "-")) and line[col - 1: col].isspace()


def _like_quoted(rest: str) -> str:
    whole = rest.split(" #")[0].rstrip()
    return f', like "{whole}"' if '"' not in whole and len(whole) <= 60 else ""


def _line_above(lines: list[str], row: int) -> int | None:
    """The nearest line above ``row`` that is neither blank nor a comment."""
    return next((r for r in range(row - 1, -1, -1) if lines[r].strip() and not lines[r].lstrip().startswith("#")), None)


def _no_space_after_colon(path: str, lines: list[str], row: int) -> Problem | None:
    """'title:T': with no space after the colon it is text, and the next key's ':' is where YAML stops."""
    above = _line_above(lines, row)
    if above is None or ": " in lines[above] or lines[above].rstrip().endswith(":"):
        return None
    found = _NO_SPACE_RE.fullmatch(lines[above].rstrip())
    if not found:
        return None
    key, value = found.groups()
    return Problem(Location(path, above + 1, found.end(1) + 1), (
        f"no space after the colon of {key!r}, so YAML reads '{key}:{value}' as text, not a key; put a space after "
        f"the colon, like '{key}: {value}'"))


def _key_indented_deeper(path: str, lines: list[str], mark) -> Problem | None:
    """A key indented deeper than the key above it reads as more of that key's text."""
    here = _KEY_RE.match(lines[mark.line])
    if not here or here.end() - 1 != mark.column:
        return None
    above = _line_above(lines, mark.line)
    before = _KEY_RE.match(lines[above]) if above is not None else None
    if before is None or len(here.group(1)) <= len(before.group(1)):
        return None
    column, above_column = len(here.group(1)) + 1, len(before.group(1)) + 1
    return Problem(Location(path, mark.line + 1, column), (
        f"{here.group(2)!r} is indented differently from the keys before it (column {column}; {before.group(2)!r} "
        f"is at column {above_column}), so YAML reads it as more of the text above: line it up with the keys it "
        "belongs with"))
