"""The hibari voice for real: its padding cut, its rate, its cache key, never a download, and a
built-in routine exported with it that keeps the timing rules in the decoded MP3."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import hibari.voices
import numpy as np
import pytest
from helpers import REPO, run_voiceguide
from test_export import decode

from voiceguide import session
from voiceguide.audio.dsp import TRIM_MARGIN_MS, TRIM_THRESHOLD_DB
from voiceguide.errors import EngineError
from voiceguide.export import writer as export
from voiceguide.script.settings import Overrides
from voiceguide.timeline.plan import SAMPLE_RATE
from voiceguide.voice.engines import VoiceSettings
from voiceguide.voice.engines import hibari as hibari_engine
from voiceguide.voice.engines.hibari import SENTENCE_PAUSE_S, HibariEngine
from voiceguide.voice.speech import Speech

TWO = "Exhale, flatten your low back. Inhale, let the pelvis tip forward."
SR = SAMPLE_RATE
ONSET_TOLERANCE_MS = 20  # the contract's: onset to onset in the exported audio


@pytest.fixture(scope="module")
def engine():
    engine = HibariEngine()
    yield engine
    engine.close()


def loud(samples: np.ndarray) -> np.ndarray:
    level = np.abs(samples.astype(np.float64))
    return np.flatnonzero(level >= level.max() * 10 ** (TRIM_THRESHOLD_DB / 20))


def longest_zero_run(samples: np.ndarray) -> tuple[int, int]:
    """(start, end) of the longest stretch of exact zeros."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], (samples == 0).astype(np.int8), [0]])))
    runs = list(zip(edges[::2], edges[1::2]))
    return max(runs, key=lambda run: run[1] - run[0], default=(0, 0))


# ------------------------------------------------------------------------------------- the engine


def test_hibari_speaks_int16_at_24_khz_with_its_padding_cut(engine):
    raw = engine._voice(None).loaded()(TWO, seed=hibari_engine.SEED)  # hibari as it comes: quiet around each sentence
    assert loud(raw)[0] > 0.15 * 24000 and len(raw) - loud(raw)[-1] > 0.2 * 24000
    audio = engine.synthesize(TWO, VoiceSettings())
    assert audio.sample_rate == 24000 and audio.samples.dtype == np.int16
    margin = int(24000 * TRIM_MARGIN_MS / 1000)
    pause = round(SENTENCE_PAUSE_S * 24000)  # between the sentences: the pause, not hibari's 0.6-0.9 s
    gap_start, gap_end = longest_zero_run(audio.samples)
    assert pause <= gap_end - gap_start <= pause + 2 * margin
    for sentence in (audio.samples[:gap_start], audio.samples[gap_end:]):  # each starts and ends with speech
        speech = loud(sentence)
        assert speech[0] <= margin and len(sentence) - 1 - speech[-1] <= margin
    assert len(audio.samples) < len(raw) - 0.5 * 24000


def test_hibari_says_a_text_the_same_way_every_time(engine):
    assert np.array_equal(engine.synthesize("Rest.", VoiceSettings()).samples,
                          engine.synthesize("Rest.", VoiceSettings()).samples)


def test_hibari_rate_is_its_speed_and_scales_the_pause_too(engine):
    normal, faster = (engine.synthesize(TWO, VoiceSettings(rate=rate)).samples for rate in (1.0, 1.3))
    assert len(faster) < 0.9 * len(normal)  # 0.86 measured: not 1/1.3, hibari does not speed up every sound alike
    gap_start, gap_end = longest_zero_run(faster)
    assert round(SENTENCE_PAUSE_S / 1.3 * 24000) <= gap_end - gap_start < round(SENTENCE_PAUSE_S * 24000)


def test_hibari_lists_only_the_voice_inside_its_package(engine):
    [voice] = engine.voices()
    assert (voice.id, voice.default, voice.language, voice.sex) == ("heart", True, "en-US", "female")


# -------------------------------------------------------------------------------- never online


@pytest.mark.parametrize("voice", ["emma", "fenrir", "nobody"])
def test_a_voice_not_in_the_package_is_a_clear_error_and_nothing_is_downloaded(voice, engine, monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise AssertionError(f"a download was attempted: {args!r}")

    monkeypatch.setenv("HIBARI_HOME", str(tmp_path / "hibari-home"))
    monkeypatch.setattr(hibari.voices, "download", refuse)
    monkeypatch.setattr(hibari.voices.urllib.request, "urlopen", refuse)
    with pytest.raises(EngineError, match=f"no hibari voice '{voice}' in this installation.*the voices here are: heart"):
        Speech(f"hibari:{voice}", cache_dir=tmp_path / "cache")
    with pytest.raises(EngineError, match="the voices here are: heart"):
        engine.synthesize("Rest.", VoiceSettings(voice))
    assert not (tmp_path / "hibari-home").exists()


def test_the_command_opens_no_socket_for_a_missing_voice(tmp_path):
    """An audit hook in a real process refuses any socket or URL; hibari's own download trips it (the control)."""
    code = textwrap.dedent("""
        import sys
        seen = []
        def hook(event, args):
            if event.startswith(("socket.", "urllib.")):
                seen.append(event)
                raise RuntimeError("network refused: " + event)
        sys.addaudithook(hook)
        from voiceguide.cli import main
        status = main(["plan", "standing-reset", "--voice", "hibari:emma"])
        print("status", status, "network", seen)
        import hibari.voices
        try:
            hibari.voices.voice_path("emma")
        except RuntimeError as exc:
            print("control:", exc)
    """)
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "HIBARI_HOME": str(tmp_path), "VOICEGUIDE_CACHE": str(tmp_path)})
    assert "status 1 network []" in result.stdout, result.stdout + result.stderr
    assert "voiceguide: no hibari voice 'emma' in this installation (hibari would download it; voiceguide never " \
           "goes online); the voices here are: heart" in result.stderr
    assert "control: network refused: urllib.Request" in result.stdout


# --------------------------------------------------------------------------------- the cache key


def test_the_cache_key_carries_hibaris_version_and_the_model_size(engine, monkeypatch, tmp_path):
    version = engine.version(VoiceSettings())
    model = Path(hibari.__file__).parent / "assets" / hibari.voices.VOICES["heart"]["file"]  # hibari's own record
    assert version == f"hibari-tts 0.2.1; voice heart {model.stat().st_size} bytes; each sentence seeded alone"
    calls = []
    real = HibariEngine.synthesize
    monkeypatch.setattr(HibariEngine, "synthesize", lambda self, text, s: calls.append(text) or real(self, text, s))

    def speak() -> None:
        with Speech("hibari", cache_dir=tmp_path) as speech:
            speech.audio("Rest.")

    speak()
    speak()
    assert calls == ["Rest."]  # the second session read the cache
    monkeypatch.setattr(hibari_engine, "installed_version", lambda package: "0.2.2")
    speak()
    assert calls == ["Rest."] * 2  # an upgraded hibari never replays the old audio


def test_another_model_of_the_same_hibari_is_another_version(tmp_path, monkeypatch):
    """The cache key holds ``version()``: a model file changed by hand (another size) is another voice."""
    engine, settings = HibariEngine(), VoiceSettings()
    name, model = hibari_engine.voice_file(None)
    before = engine.version(settings)
    assert before == engine.version(settings) and f"{model.stat().st_size} bytes" in before
    other = tmp_path / model.name
    other.write_bytes(model.read_bytes() + b"\0")
    monkeypatch.setattr(hibari_engine, "voice_file", lambda voice: (name, other))
    assert engine.version(settings) != before


# ------------------------------------------------------------------------- a built-in routine


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """standing-reset with hibari, planned and exported in this process: the plan, its voice, the decoded MP3."""
    prepared = session.prepare("standing-reset", Overrides(voice="hibari"))
    path = tmp_path_factory.mktemp("hibari") / "standing-reset.mp3"
    export.write_mp3(prepared, path, tags=export.Tags("Standing reset"))
    return prepared, decode(path)


def placed(pcm: np.ndarray, at: int, own: np.ndarray) -> int:
    """Where ``own`` (an event's audio) sits in ``pcm`` near ``at``: the lag of best correlation, within +-60 ms.

    A threshold onset detector is exact on the test engine's tones but not on speech and swells
    that start softly (hibari's "Hold", the breath sounds: tens of ms of drift through the MP3 codec);
    matching the sound itself finds where it is, whatever its attack.
    """
    head = own[: int(0.4 * SR)].astype(np.float64)
    search = int(0.06 * SR)
    lags = np.arange(-search, search + 1)
    scores = [float(np.dot(pcm[at + lag : at + lag + len(head)], head)) for lag in lags]
    return at + int(lags[int(np.argmax(scores))])


def test_a_built_in_routine_with_hibari_keeps_the_timing_rules_in_the_decoded_mp3(exported):
    prepared, pcm = exported
    plan = prepared.plan
    assert plan.length == 120 * SR and plan.warnings == ()  # rule 6: exactly its two minutes
    speech = [e for e in plan.events if e.kind == "speech"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(speech))  # rule 5
    steps = prepared.routine.steps
    cues = [e for e in plan.events if e.role == "cue"]
    cycle_s = [p.seconds for p in steps[0].cycle]
    assert [b.start - a.start for a, b in itertools.pairwise(cues)] == \
        [round(cycle_s[i % 2] * SR) for i in range(len(cues) - 1)]  # rule 1, in the plan
    [start], [end] = ([e for e in plan.events if e.role == role] for role in ("hold-start", "hold-end"))
    assert end.start - start.start == round(plan.choices[(1, "hold", None)] * SR)  # rule 2, in the plan

    def heard(event) -> int:
        own = prepared.speech.audio(event.text) if event.kind == "speech" else prepared.sounds.audio(event.sound)
        return placed(pcm, event.start, np.asarray(own))

    clear = [e for e in plan.events if e.kind == "speech" or not any(  # a sound under speech is not told apart
        o.kind == "speech" and o.start < e.end and e.start < o.end for o in plan.events)]
    errors_ms = [1000 * (heard(e) - e.start) / SR for e in clear]
    assert len(errors_ms) > 30 and max(map(abs, errors_ms)) <= ONSET_TOLERANCE_MS, errors_ms
    # rules 1 and 2 onset to onset, as heard: cue to cue, and hold start to release
    for a, b in [*itertools.pairwise(cues), (start, end)]:
        assert abs((heard(b) - heard(a)) - (b.start - a.start)) <= ONSET_TOLERANCE_MS * SR / 1000


def test_rate_changes_hibaris_speech_and_never_the_exercise_timing():
    plans = {}
    for rate in ("1.0", "1.3"):
        result = run_voiceguide("plan", "gentle-relief", "--voice", "hibari", "--rate", rate, "--json")
        assert result.returncode == 0, result.stderr
        plans[rate] = json.loads(result.stdout)

    def timing(plan):  # within each step and side, from one exercise event to the next
        keep = [e for e in plan["events"] if e["role"] in ("cue", "hold-start", "hold-end", "breath")]
        return [(a["role"], b["role"], round(b["start"] - a["start"], 4)) for a, b in itertools.pairwise(keep)
                if (a["step"], a.get("side")) == (b["step"], b.get("side"))]

    def spoken(plan):
        return {e["text"]: e["end"] - e["start"] for e in plan["events"] if e["kind"] == "speech"}

    assert len(timing(plans["1.0"])) > 20
    assert timing(plans["1.0"]) == timing(plans["1.3"]) and plans["1.0"]["choices"] == plans["1.3"]["choices"]
    normal, faster = spoken(plans["1.0"]), spoken(plans["1.3"])
    assert all(faster[text] < normal[text] for text in normal if normal[text] > 0.6), (normal, faster)


def test_a_cold_session_is_spoken_two_at_a_time_each_utterance_as_made_alone(tmp_path, monkeypatch):
    """Two threads, a model each, one shared G2P: the same samples as one at a time, and the cache
    holds one good entry each."""
    import os
    import threading

    from voiceguide.voice.cache import CacheKey, SpeechCache, decode_entry
    from voiceguide.voice.text import for_the_ear

    assert HibariEngine.workers == min(2, os.cpu_count() or 1)
    lock, at_once, speaking = threading.Lock(), [0], [0]
    real = HibariEngine.synthesize

    def counted(self, text, settings):
        with lock:
            speaking[0] += 1
            at_once[0] = max(at_once[0], speaking[0])
        try:
            return real(self, text, settings)
        finally:
            with lock:
                speaking[0] -= 1

    monkeypatch.setattr(HibariEngine, "synthesize", counted)
    cache = tmp_path / "together"
    prepared = session.prepare("standing-reset", Overrides(voice="hibari"), cache_dir=cache)
    assert at_once[0] == HibariEngine.workers
    entries = sorted((cache / "hibari").glob("*.speech"))
    assert entries and all(decode_entry(p.read_bytes())[1] is None for p in entries)
    alone = HibariEngine()
    for text in list(dict.fromkeys(e.text for e in prepared.plan.events if e.kind == "speech"))[:4]:
        spoken = for_the_ear(str(text))
        key = CacheKey("hibari", "", prepared.speech._version, 1.0, spoken)
        kept = SpeechCache(cache).get(key)
        assert kept is not None
        assert np.array_equal(kept.samples, real(alone, spoken, VoiceSettings(None, 1.0)).samples)


# ------------------------------------------------------------------ sentences, models, start-up


def test_a_sentence_sounds_the_same_wherever_it_is_said_and_a_short_one_is_made_once(monkeypatch):
    """Each sentence's noise is seeded on its own, so "Lift." alone is sample for sample the "Lift." that
    ends a longer text, and the second time it is not synthesised again."""
    import hibari as hibari_package

    made = []
    real = hibari_package.Hibari.from_ids
    monkeypatch.setattr(hibari_package.Hibari, "from_ids", lambda self, ids, *a: made.append(ids) or real(self, ids, *a))
    engine = HibariEngine()
    alone = engine.synthesize("Lift.", VoiceSettings()).samples
    within = engine.synthesize("Breathe in, and as you breathe out, press down. Lift.", VoiceSettings()).samples
    assert len(made) == 2  # the long sentence; "Lift." was kept
    assert np.array_equal(within[-len(alone):], alone)
    assert not np.any(within[-len(alone) - round(SENTENCE_PAUSE_S * 24000):-len(alone)])  # the pause before it
    again = HibariEngine().synthesize("Breathe in, and as you breathe out, press down. Lift.", VoiceSettings())
    assert np.array_equal(again.samples, within) and len(made) == 4  # a fresh engine makes both, the same


def test_only_short_sentences_are_kept():
    engine = HibariEngine()
    long = "Keep your ribs stacked over your hips, and let your shoulders soften away from your ears."
    engine.synthesize(long, VoiceSettings())
    kept = engine._voice(None).sentences
    assert len(kept) == 0 and kept.samples == 0  # more than MAX_PHONEMES letters
    engine.synthesize("Lift. Lower.", VoiceSettings(rate=1.3))
    assert len(kept) == 2 and kept.get((1.3, "lˈɪft.")) is not None and kept.get((1.0, "lˈɪft.")) is None


def test_the_model_loads_once_beside_the_g2p_and_serves_both_threads(monkeypatch):
    """The model does not wait for the G2P's load: it is handed out while a G2P held back is still
    loading; two threads asking at once get the one model, loaded once, and the G2P is loaded once."""
    import threading

    import hibari as hibari_package
    import hibari.g2p

    release, g2p_loads, model_loads = threading.Event(), [], []
    real_g2p, real_init = hibari.g2p.G2P, hibari_package.Hibari.__init__

    def held_back(*args, **kwargs):
        g2p_loads.append(threading.current_thread().name)
        assert release.wait(60)
        return real_g2p(*args, **kwargs)

    def counted(self, *args, **kwargs):
        model_loads.append(threading.current_thread().name)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(hibari.g2p, "G2P", held_back)
    monkeypatch.setattr(hibari_package.Hibari, "__init__", counted)
    engine = HibariEngine()
    voice = engine._voice(None)
    taken: list = []
    threads = [threading.Thread(target=lambda: taken.append(voice.loaded())) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(taken) == 2 and taken[0] is taken[1] and len(model_loads) == 1 and not release.is_set()
    release.set()
    with ThreadPoolExecutor(2) as pool:
        spoken = list(pool.map(lambda text: engine.synthesize(text, VoiceSettings()), ["Lift.", "Lower."]))
    assert all(audio.samples.size for audio in spoken)
    assert g2p_loads == ["hibari-g2p"] and len(model_loads) == 1


def test_a_model_that_cannot_load_is_an_engine_error_with_its_fix_every_time(monkeypatch, tmp_path):
    """Not a hang and not a model of None: the next thread to ask tries (and fails) again."""
    broken = tmp_path / "hibari.onnx"
    broken.write_bytes(b"not a model")
    monkeypatch.setattr(hibari_engine, "voice_file", lambda voice: ("heart", broken))
    engine = HibariEngine()
    for _ in range(HibariEngine.workers + 1):
        with pytest.raises(EngineError, match="cannot load the hibari voice 'heart': .*reinstall it: pip install "
                                              "hibari-tts; or speak with another voice: --voice piper"):
            engine.synthesize("Rest.", VoiceSettings())


def test_a_g2p_that_cannot_load_is_an_engine_error_with_its_fix(monkeypatch):
    import hibari.g2p

    def broken(*args, **kwargs):
        raise OSError("lexicon_us_gold.json.gz: No such file")

    monkeypatch.setattr(hibari.g2p, "G2P", broken)
    with pytest.raises(EngineError) as raised:
        HibariEngine().synthesize("Rest.", VoiceSettings())
    assert str(raised.value) == ("cannot load hibari's letters-to-sounds rules for 'heart': lexicon_us_gold.json.gz: "
                                 "No such file (reinstall it: pip install hibari-tts; or speak with another voice: "
                                 "--voice piper)")
