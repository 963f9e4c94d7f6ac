"""A Markdown page -> lines, by the plain rules Markdown notes use (no Markdown library needed).

Headings (``#`` and underlined), list items, block quotes, bold lines and a bold name opening a
list item ("**Dead bug** - 3 sets of 8") are marked; links keep their text, images, code fences
and HTML tags are dropped.
"""

from __future__ import annotations

import re
from typing import Final

from .model import Line
from .text import BULLET, is_table_header, split_line, table_row
from .words import field_label

_LEADING_BOLD: Final = re.compile(r"^(\*\*|__|\*|_)(?P<name>[^*_]+?)\1(?![*_])\s*(?:[-—–:,]\s*)?(?P<rest>.*)$")
"""A bold (or italic) name opening a line: "**Dead bug** - 3 sets of 8", "*Chin nods* - 10 x"."""


def inline(text: str) -> str:
    """Markdown inline marks removed: links keep their text, images and tags go."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])[*_](?!\s)(.+?)(?<!\s)[*_](?![\w*])", r"\1", text)
    return text.replace("\\", "")


def markdown_lines(text: str) -> list[Line]:
    lines: list[Line] = []
    raw_lines = text.splitlines()
    fenced = False
    header: list[str] = []
    front = 0
    if raw_lines and raw_lines[0].strip() == "---":  # front matter: the note's metadata, not its text
        front = next((k for k in range(1, min(len(raw_lines), 60)) if raw_lines[k].strip() in ("---", "...")), 0)
    for number, raw in enumerate(raw_lines, 1):
        if number <= front + (1 if front else 0):
            continue
        stripped = raw.strip()
        if stripped.startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if fenced or not stripped or re.fullmatch(r"[-*_=\s]{3,}", stripped):
            if re.fullmatch(r"=+|-+", stripped) and lines and lines[-1].number == number - 1:
                last = lines.pop()  # a setext heading: the line above, underlined
                lines.append(Line(last.number, last.text, heading=1 if stripped[0] == "=" else 2))
            continue
        stripped = re.sub(r"^(?:>\s?)+", "", stripped).strip()
        if heading := re.match(r"^(#{1,6})\s+(.*?)\s*#*$", stripped):
            lines += split_line(number, inline(heading[2]), heading=len(heading[1]))
            continue
        if stripped.startswith("|"):
            cells = [inline(c) for c in stripped.strip().strip("|").split("|")]
            if all(re.fullmatch(r"\s*:?-+:?\s*", c) for c in cells):
                continue
            if not header and is_table_header(cells):
                header = cells
                continue
            lines += split_line(number, table_row(header, cells))
            continue
        header = []
        indent = len(raw) - len(raw.lstrip())
        bullet = BULLET.match(stripped)
        body = stripped[bullet.end():] if bullet else stripped
        body = re.sub(r"^\[[ xX]\]\s+", "", body)  # a task list's box
        bold = _LEADING_BOLD.match(body)
        if bold and not field_label(bold["name"]) and not bold["name"].lstrip()[:1].isdigit():
            name = inline(bold["name"]).strip()
            if not bold["rest"].strip():
                if name.endswith((".", "!", "?")):  # a bold sentence, not a name
                    lines += split_line(number, name, bullet=bool(bullet), indent=indent)
                else:
                    lines.append(Line(number, name, strong=True, bullet=bool(bullet), indent=indent))
                continue
            lines.append(Line(number, name, strong=True, bullet=bool(bullet), indent=indent))
            lines += split_line(number, inline(bold["rest"]), indent=indent + 2)
            continue
        lines += split_line(number, inline(body), bullet=bool(bullet), indent=indent)
    return lines
