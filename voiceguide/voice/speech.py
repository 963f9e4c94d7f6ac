"""Speech for a session: the voice chosen, every utterance synthesised once, cached, levelled and trimmed.

``Speech`` is what the planner (``length``) and the mixer (``audio``) use.  Each text is made for the
ear (``text.for_the_ear``), looked up in the speech cache, synthesised on a miss, then finished the
same way whatever the engine: resampled to the session rate, trimmed to the speech (so a plan's
onset is a speech onset), and levelled to ``SPEECH_LOUDNESS_LUFS``.

Levelling: every utterance is set to one loudness, measured by ``loudness.integrated_lufs`` (ITU-R
BS.1770: K-weighting, 400 ms blocks, gated at -70 LUFS absolute and -10 LU relative), so Piper,
espeak-ng and any plug-in sit at the same level and a short "Rest." is as loud as a long sentence.
The target, -23 LUFS (EBU R 128), leaves 22 dB of headroom for peaks (measured speech crest:
16-21 dB), so the safety limiter that keeps peaks at or below ``PEAK_CEILING_DBFS`` almost never
acts; the mixer then brings the whole session to -16 LUFS with its own true-peak limiter
(``audio/loudness.py``).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np

from ..audio.dsp import trim
from ..errors import EngineError
from ..script.routine import MAX_RATE, MIN_RATE
from ..script.settings import DEFAULT_RATE, SAMPLE_RATE
from . import engines
from .cache import CacheKey, Limited, SpeechCache, default_cache_dir, stderr_note
from .engines import DEFAULT_ENGINE, Audio, Engine, VoiceSettings, parse_voice
from .text import for_the_ear

if TYPE_CHECKING:
    from ..audio.loudness import PeakProfile

FALLBACK_ENGINES: Final = ("piper", "system")
"""Tried in turn when the default voice cannot run (never when a voice was asked for by name)."""
SPEECH_LOUDNESS_LUFS: Final = -23.0
PEAK_CEILING_DBFS: Final = -1.0
FINISH_VERSION: Final = "levelled -23 LUFS, peaks -1 dBFS, trimmed -45 dB; profile 1"
"""Names how ``finish``, ``PeakProfile`` and the utterance limiter (``loudness.limited``) work: a change
to any must change this, so finished (and limited) utterances kept in the cache are made again rather
than reused."""

# prepare() synthesises one text at a time.  Measured on this 2-core machine with Piper and the
# packaged voice, 16 sentences of ~80 characters, two runs each (other jobs sharing the cores):
# onnxruntime's default threads, 1 worker: 5.4 / 6.4 s; default threads, 2 workers: 5.7 / 5.6 s;
# 1 onnxruntime thread, 2 workers: 5.7 / 5.0 s, but then each single synthesis (the planner asks
# for lengths one at a time) is 1.5x slower (9.0 / 7.9 s for the 16).  onnxruntime already uses
# every core for one sentence, so workers buy nothing; the system voice is one-at-a-time anyway.

_notes_given: set[str] = set()


GUESS_S_PER_CHAR: Final = 0.08
"""A length not yet known, per character at rate 1: a little over Piper's and hibari's (0.06-0.07;
the built-in routines' speech lasts within 1 % with either)."""


def guess_per_char(rate: float, sample_rate: int) -> float:
    """Samples a character may take to say before any speech is made: the planner's stand-in."""
    return sample_rate * GUESS_S_PER_CHAR / rate


class Speech:
    """The voice of a session; see the module docstring.

    ``voice_spec``: "hibari", "piper", "piper:/path/voice.onnx", "system", "system:<id>", "test", or
    None for the default (hibari, else Piper, else the system voice, with a note).  ``notify`` gets one-line notes for
    the user (default: stderr).
    """

    def __init__(
        self,
        voice_spec: str | None = None,
        *,
        rate: float = DEFAULT_RATE,
        cache_dir: Path | None = None,
        sample_rate: int = SAMPLE_RATE,
        notify: Callable[[str], None] | None = None,
    ):
        if not MIN_RATE <= rate <= MAX_RATE:
            raise EngineError(f"speech rate {rate!r} is out of range; use a number from {MIN_RATE} to {MAX_RATE}")
        self.notify = notify or stderr_note
        self.sample_rate = sample_rate
        self.engine, self.settings, self._version = open_engine(voice_spec, rate, self.notify)
        self.cache = SpeechCache(cache_dir or default_cache_dir(), notify=self.notify)
        self._spoken: dict[str, str] = {}  # script text -> text made for the ear
        self._memo: dict[str, np.ndarray] = {}  # text made for the ear -> finished audio
        self._profiles: dict[str, PeakProfile] = {}  # text made for the ear -> its peaks and energy
        self._kept: dict[str, CacheKey] = {}  # text made for the ear -> its key, when its finished audio is kept
        self._label: str | None = None

    @property
    def version(self) -> str:
        """Engine, voice and their versions as the speech cache keys them: another one speaks differently."""
        return f"{self.engine.name}; {self.settings.voice or 'default'}; {self._version}"

    @property
    def label(self) -> str:
        """Engine and voice, e.g. "piper:en_US-joe-medium", for reports and file tags."""
        if self._label is None:
            self._label = voice_label(self.engine, self.settings)
        return self._label

    @property
    def _finish(self) -> str:
        """How finished audio is made here, as the cache keys it."""
        return f"{self.sample_rate} Hz, {FINISH_VERSION}"

    def length(self, text: str) -> int:
        """How many samples ``text`` lasts at ``sample_rate``, once finished."""
        return len(self.audio(text))

    def made(self, text: str) -> np.ndarray | None:
        """``text``'s finished audio if it has been made, else None; never synthesises.

        Safe to call from another thread while one thread makes speech (``live.py``): each memo
        entry is set once, whole, after the audio is finished.
        """
        return self._memo.get(self._ear(text))

    def _ear(self, text: str) -> str:
        spoken = self._spoken.get(text)
        if spoken is None:
            spoken = self._spoken[text] = for_the_ear(text)
        return spoken

    def audio(self, text: str) -> np.ndarray:
        """``text`` spoken: float32 in [-1, 1] at ``sample_rate``, levelled and trimmed."""
        spoken = self._ear(text)
        if spoken not in self._memo:
            self._memo[spoken] = self._make(spoken)
        return self._memo[spoken]

    def cannot_say(self, text: str) -> str | None:
        """The first part of ``text`` this voice cannot say (a writing system it does not read), or None."""
        return self.engine.cannot_say(text, self.settings)

    def prepare(self, texts: Iterable[str]) -> None:
        """Synthesise every text not yet known (one at a time: see the measurements above)."""
        for text in dict.fromkeys(texts):
            self.audio(text)

    def close(self) -> None:
        self.engine.close()
        self._memo.clear()

    def __enter__(self) -> Speech:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _make(self, spoken: str) -> np.ndarray:
        if not spoken:
            return np.zeros(0, dtype=np.float32)
        from ..audio.loudness import PeakProfile  # with the first utterance, not at import

        key = CacheKey(self.engine.name, self.settings.voice or "", self._version, self.settings.rate, spoken)
        how = self._finish
        kept = self.cache.get_finished(key, how)
        profile = _kept_profile(kept[1]) if kept is not None else None
        # The entry it was made from is checked even so (a finished file is only trusted beside a whole
        # entry): damage is reported, and the speech made again.
        if kept is not None and profile is not None and self.cache.intact(key):
            self._profiles[spoken] = profile
            self._kept[spoken] = key
            audio = kept[0].astype(np.float32)
            audio /= np.float32(32768)
            return audio
        raw = self.cache.get(key)
        if raw is None:
            raw = self.engine.synthesize(spoken, self.settings)
            _check_engine_audio(raw, spoken, self.label)
            self.cache.put(key, raw)
        # Kept as 16 bits, like the engine's own audio, and used as kept: a warm run hears what a cold one did.
        pcm = np.clip(np.rint(finish(raw, self.sample_rate) * 32768), -32768, 32767).astype(np.int16)
        audio = pcm.astype(np.float32) / np.float32(32768)
        profile = self._profiles[spoken] = PeakProfile.of(audio, self.sample_rate)
        self.cache.put_finished(key, how, pcm, self.sample_rate, {
            "profile_f64": base64.b64encode(profile.energy.astype("<f8").tobytes()).decode("ascii"),
            "peak": profile.peak})
        self._kept[spoken] = key
        return audio

    def limited(self, text: str, ceiling_db: float) -> np.ndarray:
        """``text``'s audio with its true peak held under ``ceiling_db`` dBFS (``loudness.limited``); what
        limiting changed is kept in the cache beside the finished audio, per ceiling (``LIMITED_SUFFIX``)."""
        return self.limited_with_peak(text, ceiling_db)[0]

    def limited_with_peak(self, text: str, ceiling_db: float) -> tuple[np.ndarray, float]:
        """``limited(text, ceiling_db)`` and at least its largest true peak (linear, ``loudness.peak_bound``),
        which the cache keeps with what limiting changed: the mixer bounds the session's peaks with it."""
        from ..audio import loudness

        audio = self.audio(text)
        ceiling = 10 ** (ceiling_db / 20)
        spoken = self._ear(text)
        key = self._kept.get(spoken)
        if key is None:  # not kept in the cache (or nothing to say): limited here only
            limited = loudness.limited(audio, self.sample_rate, ceiling)
            return limited, loudness.peak_bound(limited, ceiling)
        exact = float(ceiling_db).hex()
        kept = self.cache.get_limited(key, self._finish, exact)
        stretches = kept.stretches if kept is not None else loudness.limited_stretches(audio, self.sample_rate, ceiling)
        limited = loudness.with_stretches(audio, stretches)
        if kept is not None and kept.peak is not None:
            return limited, kept.peak
        peak = loudness.peak_bound(limited, ceiling)  # limited now, or kept before the peak was
        self.cache.put_limited(key, self._finish, Limited(exact, stretches, peak))
        return limited, peak

    def profile(self, text: str) -> PeakProfile:
        """``text``'s ``loudness.PeakProfile``, made with its audio and kept in the cache beside it."""
        spoken = self._ear(text)
        found = self._profiles.get(spoken)
        if found is None:
            self.audio(text)
            found = self._profiles.get(spoken)
            if found is None:  # nothing to say: an empty text
                from ..audio.loudness import PeakProfile

                found = self._profiles[spoken] = PeakProfile.of(self.audio(text), self.sample_rate)
        return found


def _kept_profile(notes: dict) -> PeakProfile | None:
    """The ``PeakProfile`` kept in a finished entry's notes; None when they are of another shape.

    Its energies are kept as little-endian float64 in base64 (reading 408 numbers written out in
    JSON took a third of a warm session's preparation); older entries wrote them as a JSON list."""
    from ..audio.loudness import PeakProfile

    try:
        if "profile_f64" in notes:
            energy = np.frombuffer(base64.b64decode(notes["profile_f64"], validate=True), "<f8").astype(np.float64)
        else:
            energy = np.asarray(notes["profile"], dtype=np.float64)
        return PeakProfile(energy, float(notes["peak"])) if energy.ndim == 1 and len(energy) else None
    except (KeyError, TypeError, ValueError):
        return None


def _check_engine_audio(raw: Audio, spoken: str, label: str) -> None:
    """Never let a failing engine pass silence off as speech."""
    samples = np.asarray(raw.samples)
    if samples.dtype != np.int16 or samples.ndim != 1 or raw.sample_rate <= 0:
        raise EngineError(f"the {label} voice returned {samples.dtype} {samples.shape} audio at "
                          f"{raw.sample_rate} Hz; engines must return mono int16")
    if not samples.size or not np.any(samples):
        raise EngineError(f"the {label} voice returned silence for {spoken!r}")


def open_engine(
    voice_spec: str | None, rate: float, notify: Callable[[str], None]
) -> tuple[Engine, VoiceSettings, str]:
    """The engine for ``voice_spec``, its settings and version.  Only the default falls back, to
    each of ``FALLBACK_ENGINES`` in turn; when none can run, every reason is given."""
    name, voice = parse_voice(voice_spec)
    settings = VoiceSettings(voice, rate)
    try:
        return _started(name, settings)
    except EngineError as exc:
        if voice_spec:  # asked for by name: an error, not a fallback
            raise
        problems = {DEFAULT_ENGINE: str(exc)}
    for fallback in FALLBACK_ENGINES:
        try:
            engine, settings, version = _started(fallback, VoiceSettings(None, rate))
        except EngineError as exc:
            problems[fallback] = str(exc)
            continue
        _note_once(notify, f"{problems[DEFAULT_ENGINE]}; using {voice_label(engine, settings)} instead")
        return engine, settings, version
    raise EngineError("no voice can run here." + "".join(f"\n  {n}: {why}" for n, why in problems.items())) from None


def _started(name: str, settings: VoiceSettings) -> tuple[Engine, VoiceSettings, str]:
    cls = engines.get_engine_class(name)
    reason = cls.unavailable_reason()
    if reason:
        raise EngineError(f"the {name} voice cannot run: {reason}")
    engine = cls()
    try:
        return engine, settings, engine.version(settings)  # also checks the voice exists
    except EngineError:
        engine.close()
        raise


def _note_once(notify: Callable[[str], None], message: str) -> None:
    if message not in _notes_given:
        _notes_given.add(message)
        notify(message)


def voice_label(engine: Engine, settings: VoiceSettings) -> str:
    voice = settings.voice
    if voice is None:
        voice = next((v.id for v in engine.voices() if v.default), "")
    elif voice.endswith(".onnx"):  # a voice given by path
        voice = Path(voice).stem
    return f"{engine.name}:{voice}" if voice else engine.name


def finish(raw: Audio, sample_rate: int) -> np.ndarray:
    """Engine audio -> float32 at ``sample_rate``, trimmed to the speech and levelled."""
    samples = raw.samples.astype(np.float32) / 32768.0
    if raw.sample_rate != sample_rate:
        samples = resample(samples, raw.sample_rate, sample_rate)
    return level(trim(samples, sample_rate), sample_rate)


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """High-quality band-limited resampling (libsoxr)."""
    import soxr

    return soxr.resample(samples.astype(np.float32), from_rate, to_rate, quality="HQ").astype(np.float32)


def level(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Gain to ``SPEECH_LOUDNESS_LUFS``, then peaks held under ``PEAK_CEILING_DBFS`` (module docstring)."""
    if not samples.size:
        return samples.astype(np.float32)
    from ..audio import loudness  # loaded when the first utterance is finished, not at import

    gain = 10 ** ((SPEECH_LOUDNESS_LUFS - loudness.integrated_lufs(samples, sample_rate)) / 20)
    ceiling = 10 ** (PEAK_CEILING_DBFS / 20)
    return loudness.limited((samples * gain).astype(np.float32), sample_rate, ceiling)
