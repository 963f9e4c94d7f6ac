"""The engine contract: text and voice settings in, audio with its sample rate out.

What a third-party engine subclasses and returns; re-exported by ``voiceguide.voice.engines``, which
is where to import it from.
"""

from __future__ import annotations

import abc
import unicodedata
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import ClassVar

import numpy as np


@dataclass(frozen=True, eq=False)
class Audio:
    """Mono 16-bit samples that know their own rate.  Compared by identity: numpy arrays have no
    single truth value, and Python 3.13's dataclass ``==`` compares field by field."""

    samples: np.ndarray
    """int16, one channel."""
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class VoiceSettings:
    """Everything that decides how a text sounds, besides the text."""

    voice: str | None = None
    """Engine-specific voice id or path; None for the engine's default."""
    rate: float = 1.0
    """Speech-rate multiplier (``script.routine.MIN_RATE`` .. ``MAX_RATE``); above 1 speaks faster."""


@dataclass(frozen=True)
class VoiceInfo:
    id: str
    name: str
    default: bool = False
    language: str | None = None
    """A BCP 47 tag such as ``en-US``, where the engine says."""
    sex: str | None = None
    """``female`` or ``male``, where the engine says."""


class Engine(abc.ABC):
    """A speech engine.  Subclasses set ``name`` and implement ``synthesize``."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    speaks_words: ClassVar[bool] = True
    """False for an engine that makes no speech (the test tones): ``voices --sample`` leaves it out."""
    workers: ClassVar[int] = 1
    """How many utterances ``synthesize`` may be asked for at once, from as many threads (a cold
    session's speech is made that many at a time).  More than one only for an engine whose work lets
    go of the GIL (onnxruntime's inference does) and that is safe to call from several threads."""

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """Why this engine cannot run here, with how to fix it; None when it can.  No side effects."""
        return None

    @abc.abstractmethod
    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        """Speak ``text`` (already made for the ear) and return its audio."""

    def version(self, settings: VoiceSettings) -> str:
        """Identifies engine and voice versions, for the cache key."""
        return "1"

    def voices(self) -> list[VoiceInfo]:
        return []

    def cannot_say(self, text: str, settings: VoiceSettings) -> str | None:
        """The first run of ``text`` this voice cannot say (letters of a writing system it does not
        read), None when it can say all of it.  Asked before any speech is made, so the script's line
        can be named; an engine that reads every script keeps this default."""
        return None

    def close(self) -> None:
        """Release what the engine holds (processes, models)."""


def unread_letters(text: str, reads: tuple[str, ...]) -> str | None:
    """The first run of letters in ``text`` from a writing system not in ``reads`` (Unicode names'
    first words: ``("LATIN", "GREEK")``), with the marks on them; None if there is none.  Everything
    below U+0370 counts as Latin (its symbols and modifier letters too)."""
    run: list[str] = []
    for ch in text:
        if run and unicodedata.category(ch).startswith("M"):  # vowel points, harakat
            run.append(ch)
        elif ch.isalpha() and ord(ch) >= 0x370 and not unicodedata.name(ch, "").startswith(reads):
            run.append(ch)
        elif run:
            break
    return "".join(run) or None


def installed_version(package: str) -> str:
    """The installed version of a distribution (``"piper-tts"``), or ``"unknown"``: for ``Engine.version``."""
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"
