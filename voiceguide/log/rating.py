"""The one question after a finished play on a terminal: how the back felt, 0 (no pain) to 10.

It is optional and asked once: Enter, the end of input or Ctrl-C skip it; an answer that is not a
whole number from 0 to 10 is asked once more, then skipped.  Nothing follows it up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from .store import MAX_RATING, MIN_RATING

RATING_QUESTION: Final = f"How did your back feel, {MIN_RATING} (no pain) to {MAX_RATING}? Enter skips. "
RATING_AGAIN: Final = f"Please give a whole number from {MIN_RATING} to {MAX_RATING}, or press Enter to skip. "
RATING_SKIPPED: Final = "No rating kept."


def parse_rating(text: str) -> int | None:
    """"7" -> 7, "" -> None (skipped); anything else is a ValueError."""
    text = text.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise ValueError(text)
    value = int(text)
    if not MIN_RATING <= value <= MAX_RATING:
        raise ValueError(text)
    return value


def ask_rating(ask: Callable[[str], str], say: Callable[[str], None]) -> int | None:
    """The rating the person gives through ``ask`` (a line typed after the prompt), or None for none;
    ``say`` tells them when a second wrong answer, the end of input or Ctrl-C skipped it."""
    for prompt in (RATING_QUESTION, RATING_AGAIN):
        try:
            return parse_rating(ask(prompt))
        except ValueError:
            continue
        except (EOFError, KeyboardInterrupt):
            say("")  # the line it was asked on is left open (no Enter ended it)
            break
    say(RATING_SKIPPED)
    return None
