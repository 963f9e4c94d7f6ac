"""Text -> numbered lines: list items and indentation marked, paragraphs split into sentences.

Shared by every format: a plain-text page is read here whole; Markdown, HTML and PDF use
``split_line`` once they have found their lines.
"""

from __future__ import annotations

import re
from typing import Final

from .model import Line

MAX_LINES: Final = 4_000
"""Lines (sentences) in one page; a long exercise page has a few hundred, a 20-page handout about 500."""
MAX_LINE_CHARS: Final = 600
"""A sentence longer than this is cut here: no instruction is that long, and the rules stay fast."""

BULLET: Final = re.compile(r"^(?P<mark>[-*+•▪◦‣·●○■□✓✔➢►→]|\d{1,3}[.)](?=\s)|\(\d{1,3}\))\s+")
_SENTENCE_END: Final = re.compile(r"(?<=[^\s\d.]{2}[.!?])[\"”’)]*\s+(?=[\"“(]?[A-Z0-9])|(?<=\s\d[.!?])\s+(?=[A-Z])")


def sentences(text: str) -> list[str]:
    """A paragraph split where one sentence ends and the next begins."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def split_line(number: int, text: str, **marks) -> list[Line]:
    """One line of a page as Lines: each sentence its own, all with the line's number."""
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return []
    parts = [p[:MAX_LINE_CHARS] for p in (sentences(text) if not marks.get("heading") else [text])]
    first = Line(number, parts[0], **marks)
    rest = {k: v for k, v in marks.items() if k in ("indent", "caution")}
    return [first, *(Line(number, p, continued=True, **rest) for p in parts[1:])]


def text_lines(text: str) -> list[Line]:
    """A plain-text page: bullets and indentation marked, sentences split, a table pasted with tabs read
    by its header row."""
    lines: list[Line] = []
    header: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        if len(lines) > MAX_LINES:
            break
        stripped = raw.strip()
        if not stripped:
            continue
        if "\t" in stripped:
            cells = [c.strip() for c in re.split(r"\t+", stripped)]
            if not header and is_table_header(cells):
                header = cells
                continue
            if header:
                lines += split_line(number, table_row(header, cells))
                continue
        else:
            header = []
        indent = len(raw) - len(raw.lstrip())
        bullet = BULLET.match(stripped)
        symbol = bool(bullet) and not re.match(r"[\d(]", bullet["mark"]) if bullet else False
        body = stripped[bullet.end():] if bullet and symbol else stripped
        lines += split_line(number, body, bullet=symbol, indent=indent)
    return lines


def table_row(header: list[str], cells: list[str]) -> str:
    """A table's row as a line the rules read: "Knee bends - Sets: 2, Reps: 10, Hold: 5 seconds"."""
    cells = [c.strip() for c in cells]
    if not header or len(header) != len(cells):
        return " - ".join(c for c in cells if c)
    said = [f"{h}: {c}" for h, c in zip(header[1:], cells[1:]) if c and c not in ("-", "–", "—", "n/a", "N/A")]
    return f"{cells[0]} - {', '.join(said)}" if said else cells[0]


def is_table_header(cells: list[str]) -> bool:
    """A row of labels (no digits): the names of the columns below it."""
    return all(c.strip() and not re.search(r"\d", c) for c in cells) and len(cells) >= 2
