"""An HTML page -> the lines of its article, by the standard library's parser and a few rules.

What is not the article is left out: scripts and styles, navigation, headers and footers outside
the article, asides, forms, and any element whose class or id names a menu, sidebar, newsletter,
cookie banner, share bar, comments or advert.  When the page has an ``<article>`` or ``<main>``,
only what is inside counts.  Each line keeps the source line its text starts on.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Final

from .model import Line
from .text import MAX_LINES, is_table_header, split_line, table_row
from .words import field_label

SKIP_TAGS: Final = frozenset({"script", "style", "noscript", "template", "svg", "nav", "aside", "form", "button",
                              "iframe", "select", "textarea", "footer", "head", "canvas", "video", "audio"})
BLOCK_TAGS: Final = frozenset({"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "div", "section", "article", "main",
                               "br", "tr", "dt", "dd", "blockquote", "pre", "figcaption", "ul", "ol",
                               "table", "header", "footer", "hr", "summary", "details", "body", "title"})
VOID_TAGS: Final = frozenset({"br", "img", "input", "meta", "link", "hr", "source", "wbr", "area", "base", "col",
                              "embed", "param", "track"})
NOT_ARTICLE: Final = re.compile(r"nav|menu|footer|sidebar|side-bar|newsletter|subscri|signup|sign-up|cookie|consent|"
                                r"share|social|related|comment|advert|\bads?\b|promo|popular|breadcrumb|banner|popup|"
                                r"modal|byline|author|masthead|site-header|skip-link|pagination|widget", re.I)
_CELL: Final = "\ue000"
"""Between a table row's cells while the row is read."""
WARNING_BOX: Final = re.compile(r"caution|warn|alert|danger|safety|precaution|important", re.I)


class _Article(HTMLParser):
    def __init__(self, by_class: bool = True) -> None:
        super().__init__(convert_charrefs=True)
        self.by_class = by_class
        """Leave out elements whose class names a menu, a newsletter...; off for a page whose article itself
        carries such a class (a page builder's "widget" around everything)."""
        self.stack: list[tuple[str, bool, bool, bool]] = []
        """Open elements: (tag, skipped, inside the article, a warning box)."""
        self.lines: list[tuple[int, str, dict, bool]] = []
        self.title = ""
        self.buffer: list[str] = []
        self.start_line = 0
        self.strong_chars = 0
        self.lead_strong: str | None = None
        self.in_title = False
        self.table_header: list[str] = []

    def _state(self) -> tuple[bool, bool, bool]:
        return (any(s[1] for s in self.stack), any(s[2] for s in self.stack), any(s[3] for s in self.stack))

    def _flush(self) -> None:
        raw = "".join(self.buffer)
        if _CELL in raw:  # a table's row: its cells, named by the header row above
            cells = [re.sub(r"\s+", " ", c).strip() for c in raw.split(_CELL)]
            cells = cells[:-1] if not cells[-1] else cells
            if not self.table_header and is_table_header(cells):
                self.table_header, self.buffer = cells, []
                self.lead_strong, self.strong_chars = None, 0
                return
            raw = table_row(self.table_header, cells)
        text = re.sub(r"\s+", " ", raw).strip()
        self.buffer, lead, strong = [], self.lead_strong, self.strong_chars
        self.lead_strong, self.strong_chars = None, 0
        if not text:
            return
        skipped, in_article, warning = self._state()
        tags = [s[0] for s in self.stack]
        heading = next((int(t[1]) for t in reversed(tags) if re.fullmatch(r"h[1-6]", t)), 0)
        marks = {"heading": heading, "bullet": "li" in tags, "caution": warning,
                 "strong": not heading and strong >= len(text.replace(" ", "")) * 0.9 and not text[:1].isdigit()}
        if lead and not heading and not marks["strong"] and not field_label(lead) and not lead[:1].isdigit():
            rest = text[len(lead):].lstrip(" -—–:,")
            if text.startswith(lead) and rest:
                self.lines.append((self.start_line, lead.strip(" .-—–"), {**marks, "strong": True}, in_article))
                self.lines.append((self.start_line, rest, {"caution": warning}, in_article))
                return
        self.lines.append((self.start_line, text, marks, in_article))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = " ".join(v or "" for k, v in attrs if k in ("class", "id", "role"))
        if tag in BLOCK_TAGS:
            self._flush()
        if tag == "title":
            self.in_title = True
        if tag in VOID_TAGS:
            return
        skipped, in_article, _ = self._state()
        skip = tag in SKIP_TAGS or (self.by_class and bool(NOT_ARTICLE.search(names))) \
            or (tag == "header" and not in_article)
        self.stack.append((tag, skip, tag in ("article", "main") or "main" in names.split(),
                           bool(WARNING_BOX.search(names))))
        if tag in ("strong", "b") and not "".join(self.buffer).strip():
            self.lead_strong = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in ("td", "th"):
            self.buffer.append(_CELL)
        if tag == "table":
            self.table_header = []
        if tag in BLOCK_TAGS:
            self._flush()
        for k in range(len(self.stack) - 1, -1, -1):
            if self.stack[k][0] == tag:
                del self.stack[k:]
                break
        if tag in ("strong", "b") and self.lead_strong is not None and self.lead_strong.strip():
            self.lead_strong = self.lead_strong.strip()

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
            return
        if self._state()[0] or len(self.lines) > MAX_LINES:
            return
        if not "".join(self.buffer).strip():
            self.start_line = self.getpos()[0] + (len(data) - len(data.lstrip("\n")) and
                                                 data[: len(data) - len(data.lstrip())].count("\n"))
        self.buffer.append(data)
        inside_strong = any(s[0] in ("strong", "b") for s in self.stack)
        if inside_strong:
            self.strong_chars += len(data.replace(" ", "").strip())
        if self.lead_strong is not None and inside_strong and isinstance(self.lead_strong, str) \
                and not self.lead_strong.endswith("\0"):
            self.lead_strong += data
        elif self.lead_strong is not None and not inside_strong and data.strip():
            self.lead_strong = self.lead_strong.strip() or None


def html_lines(text: str, by_class: bool = True) -> list[Line]:
    """The article's lines (the page's ``<title>`` first, as a heading, when it has no ``<h1>``)."""
    parser = _Article(by_class)
    parser.feed(text)
    parser.close()
    parser._flush()
    found = parser.lines
    if any(in_article for *_, in_article in found):
        found = [item for item in found if item[3]]
    lines: list[Line] = []
    title = re.split(r"\s+[|·–—-]\s+", parser.title.strip())[0] if parser.title.strip() else ""
    if title and not any(marks.get("heading") == 1 for _, _, marks, _ in found):
        lines.append(Line(0, title, heading=1))
    for number, line_text, marks, _ in found:
        lines += split_line(number, line_text, **{k: v for k, v in marks.items() if v})
    return lines
