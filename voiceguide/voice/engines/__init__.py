"""Speech engines: the contract (``base``: text and voice settings in, audio with its sample rate
out) and the registry that finds them; the built-ins (``hibari``, ``piper``, ``system``, ``testing``),
and ``sentences``, where hibari and Piper keep a short sentence said in many texts, made once.

Engines are found through the ``voiceguide.voice.engines`` entry-point group, the built-ins
included, so a third-party package adds one the same way (see pyproject.toml).  A third-party engine imports
``Audio``, ``Engine``, ``VoiceInfo`` and ``VoiceSettings`` from here.
"""

from __future__ import annotations

import functools
from importlib.metadata import entry_points
from typing import Final

from ...errors import EngineError, UnknownEngineError
from .base import Audio, Engine, VoiceInfo, VoiceSettings

__all__ = ["Audio", "DEFAULT_ENGINE", "Engine", "VoiceInfo", "VoiceSettings", "default_first", "engine_classes",
           "get_engine_class", "parse_voice"]

ENTRY_POINT_GROUP: Final = "voiceguide.voice.engines"
DEFAULT_ENGINE: Final = "hibari"
"""Chosen by measurement against Piper (README, "Which voice is the default"; bench/voices.py)."""


def engine_classes() -> dict[str, type[Engine]]:
    """Every registered engine class by name, built-ins included.  A broken plug-in is reported, not hidden.

    The registry is read once per process (a copy each call): a batch or a programme opens a voice per
    routine, and reading every installed package's entry points took 5 ms each time here, more where
    many packages are installed.  A plug-in installed while ``serve`` runs is found on its next start.
    """
    return dict(_registered())


@functools.cache
def _registered() -> dict[str, type[Engine]]:
    found: dict[str, type[Engine]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            found[ep.name] = ep.load()
        except Exception as exc:  # a broken third-party plug-in must not stop the built-ins
            found[ep.name] = _broken_engine(ep.name, f"{ep.value} failed to load: {exc}")
    if not found:  # running from a source tree that was never installed
        from .hibari import HibariEngine
        from .piper import PiperEngine
        from .system import SystemEngine
        from .testing import TestEngine

        found = {"piper": PiperEngine, "hibari": HibariEngine, "system": SystemEngine, "test": TestEngine}
    return found


def default_first(classes: dict[str, type[Engine]]) -> list[tuple[str, type[Engine]]]:
    """Engines by name, the default first: the order they are listed and sampled in."""
    return sorted(classes.items(), key=lambda item: (item[0] != DEFAULT_ENGINE, item[0]))


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
    """``"hibari"``, ``"piper:/path/voice.onnx"``, ``"system:<id>"`` -> (engine name, voice or None)."""
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
