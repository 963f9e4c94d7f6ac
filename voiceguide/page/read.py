"""A page file -> its lines, whatever its format: plain text, Markdown, HTML (``html.py``), PDF (``pdf.py``).

Limits come before the work they limit: the size from the file system before a byte is read, then
binary data (NUL bytes, bytes that are not text) is refused in one line.  A line carries what its
format says about it (heading, list item, bold, indentation); paragraphs are split into sentences,
each keeping the number of the line it started on.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from .html import html_lines
from .markdown import markdown_lines
from .model import Line, PageError
from .pdf import pdf_lines
from .text import MAX_LINES, text_lines

PAGE_SUFFIXES: Final = (".txt", ".text", ".md", ".markdown", ".html", ".htm", ".pdf")
MAX_PAGE_BYTES: Final = 10_000_000
"""A page is at most this big (a 20-page handout as a PDF is about 200 kB; a text page a few kB)."""
_ROUTINE: Final = re.compile(r"(?m)^title\s*:.*$[\s\S]*^steps\s*:")


def is_page(path: Path | str) -> bool:
    """A file voiceguide reads as a page (by its name): text, Markdown, HTML or PDF."""
    return Path(path).suffix.lower() in PAGE_SUFFIXES


def looks_like_routine(text: str) -> bool:
    """Text that is already a routine script (``title:`` and ``steps:`` at the top level)."""
    return bool(_ROUTINE.search(text[:200_000]))


def read_bytes(path: Path) -> bytes:
    """The file's bytes, after checking it exists, is a file, and is not too big to be a page."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise PageError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    if path.is_dir():
        raise PageError(f"{str(path)!r} is a folder; give a page (a .txt, .md, .html or .pdf file)")
    if not path.is_file():  # a pipe or a device would be read for ever
        raise PageError(f"{path} is not a file (a pipe or a device?); give a page saved as a file")
    if size > MAX_PAGE_BYTES:
        raise PageError(f"{path} is {size / 1e6:.1f} MB; a page is at most {MAX_PAGE_BYTES // 1_000_000} MB "
                        "(an exercise handout is a few kB, a PDF of one a few hundred): is this the right file?")
    try:
        with path.open("rb") as f:
            return f.read(MAX_PAGE_BYTES + 1)
    except OSError as exc:
        raise PageError(f"cannot read {path}: {exc.strerror or exc}") from None


def decode(data: bytes, path: Path) -> str:
    """Bytes -> text: UTF-8 (or UTF-16 with its mark); binary data is refused, naming the first bad byte."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    nul = data.find(b"\x00", 0, 65536)
    if nul >= 0:
        raise PageError(f"{path} is binary data, not a page (a zero byte at byte {nul}); "
                        "give a text, Markdown, HTML or PDF file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = data.decode("cp1252", errors="replace")
        if text.count("\ufffd") > 8 or sum(c < 32 and c not in (9, 10, 12, 13) for c in data[:65536]) > 8:
            raise PageError(f"{path} is binary data, not a page (byte {data[exc.start]:#04x} at {exc.start} is not "
                            "text); give a text, Markdown, HTML or PDF file") from None
        return text


def read_lines(path: Path | str, by_class: bool = True) -> tuple[list[Line], str, str | None]:
    """The page's lines, its format (``text``, ``markdown``, ``html``, ``pdf``, ``routine``) and, for a
    routine script, its text.  ``PageError`` for anything that is not a readable page."""
    lines, fmt, text = _read_lines(Path(path), by_class)
    if len(lines) > MAX_LINES:
        raise PageError(f"{path} has more than {MAX_LINES} lines of text; a page to import is at most that "
                        "(an exercise page has a few hundred): import its exercise part on its own")
    return lines, fmt, text


def _read_lines(path: Path, by_class: bool = True) -> tuple[list[Line], str, str | None]:
    data = read_bytes(path)
    suffix = path.suffix.lower()
    if data.startswith(b"%PDF-") or suffix == ".pdf":
        return pdf_lines(data, path), "pdf", None
    text = decode(data, path)
    if looks_like_routine(text):
        return [], "routine", text
    head = text.lstrip()[:200].lower()
    if suffix in (".html", ".htm") or head.startswith(("<!doctype html", "<html")):
        return html_lines(text, by_class), "html", None
    if suffix in (".md", ".markdown") or re.search(r"(?m)^#{1,6} \S|^\s*[-*] \*\*|\*\*\w[^*\n]*\*\*", text[:100_000]):
        # Markdown by its name, or a text page written in it (headings with "#", bold names)
        return markdown_lines(text), "markdown", None
    return text_lines(text), "text", None
