"""hibari: a small neural voice (American English, female) whose weights ship inside its wheel.

``hibari-tts`` runs a 7.9 MB ONNX model on onnxruntime and returns float32 at 24 kHz, one array
per sentence.  Each sentence comes with 0.2-0.3 s of quiet before its speech and 0.3-0.45 s after
(measured); that padding is cut here and the sentences are joined with ``SENTENCE_PAUSE_S`` of
quiet, so an utterance starts and ends with speech as Piper's do (speech.py then trims, resamples
to the session rate and levels every voice alike).  The rate is hibari's ``speed`` (above 1 is
faster); each sentence's noise is seeded on its own, so a sentence sounds the same wherever it is
said, and a short one said again is made once (``SEEDING``, ``sentences.py``).

Only voices inside the wheel are used (``heart``).  hibari downloads its other voices on first use;
voiceguide never asks for one: a voice that is not in the package is an ``EngineError`` naming the
ones that are, raised before hibari is called.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Final

import numpy as np

from ...audio.dsp import to_pcm16, trim
from ...errors import EngineError
from .base import Audio, Engine, VoiceInfo, VoiceSettings, installed_version, unread_letters
from .sentences import Sentences

INSTALL: Final = "pip install hibari-tts"
SENTENCE_PAUSE_S: Final = 0.4
"""Quiet between two sentences of one utterance, at rate 1 (Piper: its 0.25 s plus the ~0.15 s each
chunk ends with)."""
READS: Final = ("LATIN", "GREEK", "CYRILLIC", "ARMENIAN", "GEORGIAN")
"""The writing systems hibari's letters-to-sounds reads (measured with hibari-tts 0.2.1): it is
silent on Hebrew, Arabic, Chinese, Japanese, Korean, Thai, Devanagari and Ethiopic, and leaves them
out of a sentence that mixes them with English."""
SAMPLE_RATE: Final = 24000
"""hibari's output rate (``hibari.SAMPLE_RATE``; checked against it when a model is loaded)."""
SEED: Final = 0
SEEDING: Final = "each sentence seeded alone"
"""hibari draws each sentence's noise from a generator seeded with ``SEED`` for that sentence alone (its
own ``stream`` carries one generator across a text's sentences): a sentence then sounds the same
wherever it is said, so one said in many texts is made once.  In ``version()``, so audio made the
other way is not reused from the cache."""
THREADS: Final = 1
"""onnxruntime threads: two made no difference on this 2-core machine (187x against 207x real time on
two sentences), and one leaves a core to the player and the mixer."""
WORKERS: Final = max(1, min(2, os.cpu_count() or 1))
"""Utterances made at once for a cold session, each on its own thread, all with one model (one
onnxruntime thread each, the caller's): onnxruntime lets go of the GIL while it infers, so two threads
use both cores."""


class HibariEngine(Engine):
    name = "hibari"
    description = "hibari, a small neural voice from the hibari-tts package, offline"

    workers = WORKERS

    def __init__(self) -> None:
        self._voices: dict[str, _Voice] = {}  # voice name -> its model, G2P and sentences made
        self._lock = threading.Lock()  # guards _voices only: nothing is loaded under it

    @classmethod
    def unavailable_reason(cls) -> str | None:
        for module, package in (("hibari", "hibari-tts"), ("onnxruntime", "onnxruntime")):
            if importlib.util.find_spec(module) is None:
                return f"{package} is not installed: {INSTALL}"
        return None

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        voice = self._voice(settings.voice)
        tts = voice.loaded()
        try:
            spoken = [voice.sentence(tts, phonemes, settings.rate) for phonemes in tts.phonemize(text)]
        except EngineError:  # the G2P could not be loaded: its own message and hint
            raise
        except Exception as exc:  # onnxruntime and the G2P raise many types
            raise EngineError(f"hibari could not speak {text!r}: {exc}") from exc
        pause = np.zeros(int(round(SENTENCE_PAUSE_S / settings.rate * SAMPLE_RATE)), dtype=np.int16)
        pieces = [piece for sentence in spoken if sentence.size for piece in (pause, sentence)][1:]
        return Audio(np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16), SAMPLE_RATE)

    def cannot_say(self, text: str, settings: VoiceSettings) -> str | None:
        return unread_letters(text, READS)

    def version(self, settings: VoiceSettings) -> str:
        """hibari-tts's version and the voice's identity: its name and its model's size.  The model ships
        inside hibari's wheel, so the package's version names it; the size tells a model changed by hand
        (as piper.py does for its packaged voice), without reading 8 MB before the first word.  The last
        part names how the noise is seeded (``SEEDING``)."""
        name, model = voice_file(settings.voice)
        return f"hibari-tts {installed_version('hibari-tts')}; voice {name} {model.stat().st_size} bytes; {SEEDING}"

    def voices(self) -> list[VoiceInfo]:
        default = default_voice()
        return [VoiceInfo(name, f"{info['accent']} English, {info['gender']} (packaged)", default=name == default,
                          language=info["language"], sex=info["gender"])
                for name, info in packaged_voices().items()]

    def close(self) -> None:
        with self._lock:
            self._voices.clear()

    def _voice(self, voice: str | None) -> _Voice:
        name, model = voice_file(voice)
        with self._lock:
            if name not in self._voices:
                self._voices[name] = _Voice(name, model)
            return self._voices[name]


class _Voice:
    """One voice: its model, the G2P, and the short sentences made so far.

    One model serves every thread speaking at once: onnxruntime's ``run`` may be called from several
    threads, and with one thread of its own it runs on the caller's, in parallel (measured: two threads on
    one session are never blocked on each other and as fast as on two sessions, which cost a second
    0.2 s load and its memory).  The G2P (0.5 s of plain Python) loads on a thread of its own while the
    model loads; the model reaches it through ``_WhenLoaded``.
    """

    def __init__(self, name: str, model: Path) -> None:
        self.name, self.model = name, model
        self._loading = threading.Lock()  # the first thread loads the model; another waits for that load
        self._tts: Any = None
        self._g2p: _WhenLoaded | None = None
        self.sentences = Sentences(SAMPLE_RATE)  # by (speed, phonemes): int16, trimmed

    def loaded(self) -> Any:
        """hibari's model of this voice (``hibari.Hibari``), loaded by the first thread to ask."""
        with self._loading:
            if self._tts is None:
                if self._g2p is None:
                    self._g2p = _WhenLoaded(self.name)  # starts now, beside the model's load
                try:
                    from hibari import Hibari

                    # the model by path: hibari's own lookup by name would download a missing voice
                    tts = Hibari(voice=self.name, model=str(self.model), threads=THREADS, g2p=self._g2p)
                    if tts.sample_rate != SAMPLE_RATE:
                        raise ValueError(f"it speaks at {tts.sample_rate} Hz, not {SAMPLE_RATE}; voiceguide "
                                         f"knows hibari-tts {installed_version('hibari-tts')} by another rate")
                    self._tts = tts
                except Exception as exc:
                    raise EngineError(f"cannot load the hibari voice {self.name!r}: {exc} (reinstall it: "
                                      f"{INSTALL}; or speak with another voice: --voice piper)") from exc
            return self._tts

    def sentence(self, tts: Any, phonemes: str, speed: float) -> np.ndarray:
        """One sentence (hibari's phonemes) spoken at ``speed``, its padding cut: int16 at hibari's rate.
        Its noise is seeded on its own (``SEEDING``), so a sentence sounds the same in any text, and a
        short one is made once (``sentences.Sentences``: for ``lower-back-and-hips``, 64 of the 339 s of
        audio, and a quarter of the CPU, its 118 texts one after another taking 2.4 s against 3.3 s)."""
        key = (speed, phonemes)
        kept = self.sentences.get(key)
        if kept is not None:
            return kept
        made = tts.from_ids(tts.ids(phonemes), speed, np.random.default_rng(SEED))
        spoken = to_pcm16(trim(np.asarray(made, dtype=np.float32), SAMPLE_RATE))
        return self.sentences.keep(key, len(phonemes), spoken)


class _WhenLoaded:
    """hibari's G2P (its letters-to-sounds rules and lexicons), loaded on a thread of its own; called as
    the G2P is (``g2p(sentence)``), it waits for the load.  Only a sentence's phonemes need it."""

    def __init__(self, voice: str) -> None:
        self._loaded: Future[Any] = Future()
        threading.Thread(target=self._load, args=(voice,), name="hibari-g2p", daemon=True).start()

    def _load(self, voice: str) -> None:
        try:
            from hibari.g2p import G2P
            from hibari.voices import VOICES

            self._loaded.set_result(G2P(british=bool(VOICES[voice]["british"])))
        except Exception as exc:
            self._loaded.set_exception(EngineError(
                f"cannot load hibari's letters-to-sounds rules for {voice!r}: {exc} (reinstall it: {INSTALL}; "
                "or speak with another voice: --voice piper)"))

    def __call__(self, text: str) -> Any:
        return self._loaded.result()(text)


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
