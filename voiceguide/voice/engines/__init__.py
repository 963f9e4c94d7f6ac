"""The engine contract: text and voice settings in, audio with its sample rate out.

Engines are found through the ``voiceguide.engines`` entry-point group, the built-ins included,
so a third-party package adds one the same way (see pyproject.toml).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import ClassVar, Final

import numpy as np

from ...errors import EngineError, UnknownEngineError

ENTRY_POINT_GROUP: Final = "voiceguide.engines"
DEFAULT_ENGINE: Final = "piper"


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
    """Speech-rate multiplier, 0.5 .. 2.0; above 1 speaks faster."""


@dataclass(frozen=True)
class VoiceInfo:
    id: str
    name: str
    default: bool = False


class Engine(abc.ABC):
    """A speech engine.  Subclasses set ``name`` and implement ``synthesize``."""

    name: ClassVar[str]
    description: ClassVar[str] = ""

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

    def close(self) -> None:
        """Release what the engine holds (processes, models)."""


def engine_classes() -> dict[str, type[Engine]]:
    """Every registered engine class by name, built-ins included.  A broken plug-in is reported, not hidden."""
    found: dict[str, type[Engine]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            found[ep.name] = ep.load()
        except Exception as exc:  # a broken third-party plug-in must not stop the built-ins
            found[ep.name] = _broken_engine(ep.name, f"{ep.value} failed to load: {exc}")
    if not found:  # running from a source tree that was never installed
        from .piper import PiperEngine
        from .system import SystemEngine
        from .testing import TestEngine

        found = {"piper": PiperEngine, "system": SystemEngine, "test": TestEngine}
    return found


def _broken_engine(engine_name: str, reason: str) -> type[Engine]:
    class Broken(Engine):
        name = engine_name

        @classmethod
        def unavailable_reason(cls) -> str | None:
            return reason

        def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
            raise EngineError(reason)

    return Broken


def parse_voice(spec: str | None) -> tuple[str, str | None]:
    """``"piper"``, ``"piper:/path/voice.onnx"``, ``"system:<id>"`` -> (engine name, voice or None)."""
    if not spec:
        return DEFAULT_ENGINE, None
    name, _, voice = spec.partition(":")
    return name.strip().lower(), (voice.strip() or None)


def get_engine_class(name: str) -> type[Engine]:
    classes = engine_classes()
    if name not in classes:
        known = ", ".join(sorted(classes))
        raise UnknownEngineError(f"unknown voice engine {name!r}; known engines: {known}")
    return classes[name]
