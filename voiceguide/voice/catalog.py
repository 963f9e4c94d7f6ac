"""What ``voiceguide voices`` shows: every engine and voice, with the facts that help choose one.

For each voice: its engine, language and sex where the engine says, and whether it works here.
Each engine's default voice is also spoken once and timed, to show how many times faster than real
time it speaks on this machine.  That figure is kept in ``voice-speeds.json`` in the speech cache
folder, keyed by the engine's version string (engine and voice versions), so it is measured once
per machine and again after an upgrade.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ..errors import EngineError
from ..files import write_text
from . import engines
from .engines import DEFAULT_ENGINE, Engine, VoiceInfo, VoiceSettings

SPEEDS_FILE: Final = "voice-speeds.json"
SPEED_TEXT: Final = "Lie on your back with knees bent, feet flat. Exhale, and flatten your low back."
"""Timed for the speed figure: two sentences of the kind a routine says."""


@dataclass(frozen=True)
class VoiceFacts:
    """One row of ``voiceguide voices``."""

    engine: str
    voice: VoiceInfo
    x_realtime: float | None
    """Seconds of speech made per second of work; None when not measured (not the default)."""
    problem: str | None = None
    """Why it does not work here; None when it does (or, for a voice not measured, may)."""


def measure_speed(engine: Engine, settings: VoiceSettings) -> float:
    """Speak ``SPEED_TEXT`` once to warm up (models load on first use), then time it."""
    engine.synthesize("Ready.", settings)
    started = time.perf_counter()
    audio = engine.synthesize(SPEED_TEXT, settings)
    return audio.duration_s / max(time.perf_counter() - started, 1e-9)


class SpeedBook:
    """Measured speeds by engine, voice and version, in one small JSON file (written whole)."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / SPEEDS_FILE
        try:
            self._speeds: dict[str, float] = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # none yet, or damaged: measure again
            self._speeds = {}

    @staticmethod
    def key(engine: str, voice: str, version: str) -> str:
        return f"{engine}|{voice}|{version}"

    def get(self, key: str) -> float | None:
        value = self._speeds.get(key)
        return float(value) if isinstance(value, (int, float)) else None

    def put(self, key: str, x_realtime: float) -> None:
        self._speeds[key] = x_realtime
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_text(self.path, json.dumps(self._speeds, indent=1, sort_keys=True))
        except OSError:  # a read-only cache folder: the figure is measured again next time
            pass


def voice_facts(cache_dir: Path) -> list[VoiceFacts]:
    """Every registered engine's voices, the default engine first; default voices measured."""
    book = SpeedBook(cache_dir)
    rows: list[VoiceFacts] = []
    for name, cls in engines.default_first(engines.engine_classes()):
        reason = cls.unavailable_reason()
        if reason:
            rows.append(VoiceFacts(name, VoiceInfo("", ""), None, reason))
            continue
        engine = cls()
        try:
            try:
                voices = engine.voices()
            except EngineError as exc:
                rows.append(VoiceFacts(name, VoiceInfo("", ""), None, str(exc)))
                continue
            for info in voices:
                speed, problem = _default_speed(engine, info, book) if info.default else (None, None)
                rows.append(VoiceFacts(name, info, speed, problem))
        finally:
            engine.close()
    return rows


def _default_speed(engine: Engine, info: VoiceInfo, book: SpeedBook) -> tuple[float | None, str | None]:
    settings = VoiceSettings(None)
    try:
        key = book.key(engine.name, info.id, engine.version(settings))
        speed = book.get(key)
        if speed is None:
            speed = round(measure_speed(engine, settings), 1)
            book.put(key, speed)
        return speed, None
    except EngineError as exc:
        return None, str(exc)


def voices_report(cache_dir: Path) -> str:
    """``voice_facts`` as text: one block per engine, one line per voice, the defaults marked *."""
    lines = ["Voices (choose with --voice ENGINE or --voice ENGINE:VOICE; * marks each engine's default;",
             "speed: times faster than real time on this machine, measured once for each default voice):"]
    rows = voice_facts(cache_dir)
    classes = engines.engine_classes()
    for name in dict.fromkeys(row.engine for row in rows):
        mine = [row for row in rows if row.engine == name]
        default = " (default)" if name == DEFAULT_ENGINE else ""
        lines += ["", f"{name}{default}: {classes[name].description}".rstrip(": ")]
        if not mine[0].voice.id:
            lines.append(f"  cannot run here: {mine[0].problem}")
            continue
        width = max(len(row.voice.id) for row in mine)
        for row in mine:
            v = row.voice
            speed = f"{row.x_realtime:.0f}x" if row.x_realtime is not None else "-"
            works = "fails here" if row.problem else ("works here" if v.default else "")
            lines.append(f"  {'*' if v.default else ' '} {v.id:<{width}}  {v.language or '?':<6}  {v.sex or '?':<6}  "
                         f"{speed:>5}  {works:<10}  {v.name}".rstrip())
            if row.problem:
                lines.append(f"      {row.problem}")
    return "\n".join(lines)
