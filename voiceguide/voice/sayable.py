"""Text a voice cannot say, found before any speech is made and located in the script.

hibari (the default) reads the Latin, Greek, Cyrillic, Armenian and Georgian alphabets; Hebrew or
Arabic in a script gave "returned silence" with no line, or vanished from a sentence that mixed
them with English.  Each text the session will say is asked of the voice first
(``Engine.cannot_say``); the first part it cannot say is found in the script, or in a script it
includes, and reported at its ``file:line:col`` with the voices that can say it.  Nothing falls back
by itself: the voice is the user's choice, and a session in two voices would be a surprise.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from ..errors import EngineError, Location, Problem, ScriptError
from ..script.routine import Routine
from .speech import Speech

LANGUAGES: Final = {"HEBREW": ("Hebrew", "he"), "ARABIC": ("Arabic", "ar"), "CJK": ("Chinese", "cmn"),
                    "HIRAGANA": ("Japanese", "ja"), "KATAKANA": ("Japanese", "ja"), "HANGUL": ("Korean", "ko"),
                    "THAI": ("Thai", "th"), "DEVANAGARI": ("Hindi", "hi"), "ETHIOPIC": ("Amharic", "am")}
"""A writing system (the first word of its letters' Unicode names) -> a language written in it and
espeak-ng's voice for that language (``voiceguide voices`` lists them all)."""


def check_sayable(routine: Routine, speech: Speech, texts: Iterable[str]) -> None:
    """``ScriptError`` at the first text ``speech`` cannot say, located in the script; an
    ``EngineError`` if the text is not written in any of the script's files (a generated phrase)."""
    for text in texts:
        part = speech.cannot_say(text)
        if part is None:
            continue
        system = unicodedata.name(part[0], "").split(" ")[0]
        language, code = LANGUAGES.get(system, (system.capitalize() or "this", "<language>"))
        message = (f"the {speech.label} voice cannot say {language} text ({part!r}); speak this routine with a "
                   f"voice that can: --voice system:{code} (espeak-ng; `voiceguide voices` lists its languages), "
                   f"or a Piper voice in {language} (--voice piper:/path/to/voice.onnx)")
        where = find_text(routine, part)
        if where is None:
            raise EngineError(f"{message} (in {text!r})")
        raise ScriptError([Problem(where, message)])


def find_text(routine: Routine, part: str) -> Location | None:
    """Where ``part`` is first written in the routine's script or the scripts it includes."""
    for source in routine.sources or (routine.path,):
        try:
            text = Path(source).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        at = text.find(part)
        if at >= 0:
            line_start = text.rfind("\n", 0, at) + 1
            return Location(source, text.count("\n", 0, at) + 1, at - line_start + 1)
    return None
