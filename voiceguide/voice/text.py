"""Text made for the ear, just before synthesis.

Scripts are written for the eye ("20-30 reps", "3 × 10", "90°", "breathe in… and out"); engines read
such text badly or not at all.  ``for_the_ear`` rewrites it into plain words and punctuation.

It also makes sure no engine interprets the text as instructions: espeak-ng reads SSML when asked,
SAPI5 auto-detects XML, Piper treats ``[[ ... ]]`` as raw phonemes and macOS treats ``[[rate 200]]``
as an embedded command.  Tags are dropped (a ``<break>`` becomes a pause), stray ``< > [ ] { }``
and backslashes are removed, so what reaches an engine is only words and ordinary punctuation.

The result is idempotent: ``for_the_ear(for_the_ear(t)) == for_the_ear(t)``.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Final

_MAX_PASSES: Final = 8

# (pattern, replacement), applied in order.
_RULES: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        # Markup: a break is a pause; any other tag, comment or declaration is dropped.
        (r"<break\b[^<>]*>", ", "),
        (r"</?[A-Za-z][\w:.-]*(?:\s[^<>]*)?/?>", " "),
        (r"<[!?][^<>]*>", " "),
        # Anything left that an engine could read as markup or commands.
        (r"[<>\[\]{}\\|^~`*_#=@$]", " "),
        # Numbers: ranges, multiplication, percent, degrees.
        (r"(?<=\d)\s*[-–—]\s*(?=\d)", " to "),
        (r"(?<=\d)\s*[x×X]\s*(?=\d)", " times "),
        (r"(?<=\d)\s*×|(?<=\d)x\b", " times"),  # "10×", "2x a day"
        (r"×", " times "),
        (r"\s*%", " percent"),
        (r"\s*°", " degrees"),
        (r"\s*&\s*", " and "),
        # Pauses: dashes used as punctuation, and ellipses (NFKC has made "…" into "...").
        (r"\s*(?:—|–|--+)\s*", ", "),
        (r"\s+-\s+", ", "),
        (r"\s*(?:\.\s*){2,}", ", "),
    )
)

_QUOTES: Final = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"'})


def for_the_ear(text: str) -> str:
    """Rewrite ``text`` so any engine reads it aloud as plain words; see the module docstring."""
    text = unicodedata.normalize("NFKC", html.unescape(text)).translate(_QUOTES)
    text = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in text)  # control, format chars
    for _ in range(_MAX_PASSES):  # until nothing changes: one rule's output can be another's input
        before = text
        for pattern, replacement in _RULES:
            text = pattern.sub(replacement, text)
        text = _tidy(text)
        if text == before:
            break
    return text


def _tidy(text: str) -> str:
    """One space between words, no doubled or leading commas, no space before punctuation."""
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r",(?:\s*,)+", ",", text)
    text = re.sub(r",\s*([.;:!?])", r"\1", text)
    text = re.sub(r"([.;:!?])\s*,", r"\1", text)
    text = re.sub(r",(?=[^\s\d])", ", ", text)  # not inside "1,000"
    return text.strip(" ,")
