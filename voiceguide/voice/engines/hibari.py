"""hibari: a small neural voice (American English, female) whose weights ship inside its wheel.

``hibari-tts`` runs a 7.9 MB ONNX model on onnxruntime and returns float32 at 24 kHz, one array
per sentence.  Each sentence comes with 0.2-0.3 s of quiet before its speech and 0.3-0.45 s after
(measured); that padding is cut here and the sentences are joined with ``SENTENCE_PAUSE_S`` of
quiet, so an utterance starts and ends with speech as Piper's do (speech.py then trims, resamples
to the session rate and levels every voice alike).  The rate is hibari's ``speed`` (above 1 is
faster); the noise is seeded, so a text always sounds the same.

Only voices inside the wheel are used (``heart``).  hibari downloads its other voices on first use;
voiceguide never asks for one: a voice that is not in the package is an ``EngineError`` naming the
ones that are, raised before hibari is called.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import Any, Final

import numpy as np

from ...audio.dsp import to_pcm16, trim
from ...errors import EngineError
from .base import Audio, Engine, VoiceInfo, VoiceSettings, installed_version, unread_letters

INSTALL: Final = "pip install hibari-tts"
SENTENCE_PAUSE_S: Final = 0.4
"""Quiet between two sentences of one utterance, at rate 1 (Piper: its 0.25 s plus the ~0.15 s each
chunk ends with)."""
READS: Final = ("LATIN", "GREEK", "CYRILLIC", "ARMENIAN", "GEORGIAN")
"""The writing systems hibari's letters-to-sounds reads (measured with hibari-tts 0.2.1): it is
silent on Hebrew, Arabic, Chinese, Japanese, Korean, Thai, Devanagari and Ethiopic, and leaves them
out of a sentence that mixes them with English."""
SEED: Final = 0
THREADS: Final = 1
"""onnxruntime threads: two made no difference on this 2-core machine (187x against 207x real time on
two sentences), and one leaves a core to the player and the mixer."""
WORKERS: Final = max(1, min(2, os.cpu_count() or 1))
"""Utterances made at once for a cold session, each on its own thread and model (one onnxruntime
thread each): onnxruntime lets go of the GIL while it infers, so two threads use both cores."""


class HibariEngine(Engine):
    name = "hibari"
    description = "hibari, a small neural voice from the hibari-tts package, offline"

    workers = WORKERS

    def __init__(self) -> None:
        self._models: dict[str, list[Any]] = {}  # voice name -> every hibari.Hibari loaded for it
        self._idle: dict[str, list[Any]] = {}  # voice name -> those not speaking right now
        self._lock = threading.Lock()

    @classmethod
    def unavailable_reason(cls) -> str | None:
        for module, package in (("hibari", "hibari-tts"), ("onnxruntime", "onnxruntime")):
            if importlib.util.find_spec(module) is None:
                return f"{package} is not installed: {INSTALL}"
        return None

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        name, tts = self._take(settings.voice)  # a model of its own for each thread speaking at once
        try:
            sentences = list(tts.stream(text, speed=settings.rate, seed=SEED))
        except Exception as exc:  # onnxruntime and the G2P raise many types
            raise EngineError(f"hibari could not speak {text!r}: {exc}") from exc
        finally:
            with self._lock:
                self._idle[name].append(tts)
        sample_rate = int(tts.sample_rate)
        pause = np.zeros(int(round(SENTENCE_PAUSE_S / settings.rate * sample_rate)), dtype=np.float32)
        spoken = [trim(np.asarray(s, dtype=np.float32), sample_rate) for s in sentences]
        pieces = [piece for sentence in spoken if sentence.size for piece in (pause, sentence)][1:]
        samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
        return Audio(to_pcm16(samples), sample_rate)

    def cannot_say(self, text: str, settings: VoiceSettings) -> str | None:
        return unread_letters(text, READS)

    def version(self, settings: VoiceSettings) -> str:
        """hibari-tts's version and the voice's identity: its name and its model's size.  The model ships
        inside hibari's wheel, so the package's version names it; the size tells a model changed by hand
        (as piper.py does for its packaged voice), without reading 8 MB before the first word."""
        name, model = voice_file(settings.voice)
        return f"hibari-tts {installed_version('hibari-tts')}; voice {name} {model.stat().st_size} bytes"

    def voices(self) -> list[VoiceInfo]:
        default = default_voice()
        return [VoiceInfo(name, f"{info['accent']} English, {info['gender']} (packaged)", default=name == default,
                          language=info["language"], sex=info["gender"])
                for name, info in packaged_voices().items()]

    def close(self) -> None:
        with self._lock:
            self._models.clear()
            self._idle.clear()

    def _take(self, voice: str | None) -> tuple[str, Any]:
        """An idle model of ``voice``, loaded when every one is busy: at most ``workers`` of them, which
        share one G2P (plain Python, under the GIL; its lexicon is loaded once)."""
        name, model = voice_file(voice)
        with self._lock:
            idle = self._idle.setdefault(name, [])
            if idle:
                return name, idle.pop()
            loaded = self._models.setdefault(name, [])
            try:
                from hibari import Hibari

                # the model by path: hibari's own lookup by name would download a missing voice
                tts = Hibari(voice=name, model=str(model), threads=THREADS,
                             g2p=loaded[0].g2p if loaded else None)
            except Exception as exc:
                raise EngineError(f"cannot load the hibari voice {name!r}: {exc} (reinstall it: {INSTALL}; "
                                  "or speak with another voice: --voice piper)") from exc
            loaded.append(tts)
            return name, tts


def _registry() -> tuple[dict[str, dict[str, Any]], str]:
    try:
        from hibari.voices import DEFAULT, VOICES
    except ImportError:
        raise EngineError(f"hibari-tts is not installed: {INSTALL}") from None
    return VOICES, DEFAULT


def packaged_voices() -> dict[str, dict[str, Any]]:
    """hibari's voices that are inside its wheel, by name, with hibari's own facts about each."""
    voices, _ = _registry()
    return {name: info for name, info in voices.items() if info.get("bundled")}


def default_voice() -> str:
    return _registry()[1]


def voice_file(voice: str | None) -> tuple[str, Path]:
    """The name and model file of ``voice`` (None for hibari's default); never downloads."""
    import hibari

    name = default_voice() if voice is None else voice.strip().lower()
    packaged = packaged_voices()
    if name not in packaged:
        here = ", ".join(sorted(packaged)) or "none"
        elsewhere = " (hibari would download it; voiceguide never goes online)" if name in _registry()[0] else ""
        raise EngineError(f"no hibari voice {voice!r} in this installation{elsewhere}; the voices here are: {here} "
                          f"(for example --voice hibari:{next(iter(sorted(packaged)), 'heart')})")
    model = Path(hibari.__file__).parent / "assets" / packaged[name]["file"]
    if not model.is_file():
        raise EngineError(f"the hibari voice {name!r} is missing its model {str(model)!r}; reinstall: {INSTALL}")
    return name, model
