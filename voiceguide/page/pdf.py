"""A PDF -> the lines of its text layer, with pypdf (pure Python; see the README for why this reader).

Encrypted, damaged and image-only PDFs each get one line that says so.  Lines a browser prints
around a page (the date and title at the top, the address and page count at the bottom) are left
out, and a sentence the page width wrapped is joined again.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from pathlib import Path
from typing import Final

from .model import Line, PageError
from .text import BULLET, split_line

MAX_PDF_PAGES: Final = 200
"""Pages read from one PDF; an exercise handout has a few."""
_PRINTED_AROUND: Final = re.compile(r"^\d{1,2}/\d{1,2}/\d{2,4},?\s+\d{1,2}:\d{2}|(?:file|https?)://|^\d+\s*/\s*\d+$"
                                    r"|^page\s+\d+(?:\s+of\s+\d+)?$", re.I)


def pdf_lines(data: bytes, path: Path) -> list[Line]:
    import pypdf
    from pypdf.errors import PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings about damaged files are ours to say
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise PageError(f"{path} is an encrypted PDF; open it with its password and save or print "
                            "a copy without one, then import that")
        pages = reader.pages
        count = len(pages)
        if count > MAX_PDF_PAGES:
            raise PageError(f"{path} has {count} pages; a page to import is at most {MAX_PDF_PAGES} pages")
        texts = [page.extract_text() or "" for page in pages]
    except PageError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError,
            RecursionError, NotImplementedError, AssertionError, ZeroDivisionError) as exc:
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise PageError(f"{path} is a damaged PDF that cannot be read ({reason}); "
                        "print it again to PDF, or save its text as a .txt file") from None
    raw = [unicodedata.normalize("NFKC", line).strip() for text in texts for line in text.splitlines()]
    if not any(re.search(r"[A-Za-z]{2}", line) for line in raw):
        raise PageError(f"{path} has no text layer (it is {count} page{'s' * (count != 1)} of images, "
                        "a scan): voiceguide reads a PDF's text, not its pictures; type the page out "
                        "or export it with text from the program that made it")
    lines: list[Line] = []
    joined: list[tuple[int, str]] = []
    for number, text in enumerate(raw, 1):
        if not text or _PRINTED_AROUND.search(text):
            continue
        if joined and _continues(joined[-1][1], text):
            joined[-1] = (joined[-1][0], joined[-1][1].rstrip("-") + ("" if joined[-1][1].endswith("-") else " ")
                          + text)
        else:
            joined.append((number, text))
    for number, text in joined:
        bullet = BULLET.match(text)
        body = text[bullet.end():] if bullet and not bullet["mark"][:1].isdigit() else text
        lines += split_line(number, body, bullet=bool(bullet) and body is not text)
    return lines


def _continues(before: str, text: str) -> bool:
    """A line the page width wrapped: the one before stops mid-sentence and this one goes on in lower case."""
    if BULLET.match(text):
        return False
    return (text[:1].islower() and not before.endswith((".", ":", "!", "?"))) or before.endswith((",", "-", "—"))
