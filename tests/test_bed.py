"""The bed under the voice: generated and file beds, ducking before every word, levels, on real audio.

The bed alone is measured by exporting the same plan with the speech and the cue sounds muted (a
speech layer of the right lengths and zeros): the ducking comes from the plan, so what is left in
the decoded MP3 is the bed as it sounds under the real session.
"""

from __future__ import annotations

import subprocess
import threading
import wave
from pathlib import Path

import numpy as np
import pytest
from helpers import invoke
from test_export import decode, ffprobe
from test_loudness import ebur128

from voiceguide import session
from voiceguide.audio import bed, duck, loudness, mix
from voiceguide.audio.dsp import to_pcm16
from voiceguide.audio.mix import mastered_blocks
from voiceguide.audio.sounds import SoundBank
from voiceguide.errors import AudioError, ScriptError
from voiceguide.export import writer as export
from voiceguide.play.live import LivePlan
from voiceguide.script.parse import parse_text
from voiceguide.script.routine import BED_NAMES
from voiceguide.script.settings import DEFAULT_BED, Overrides, Settings, resolve
from voiceguide.timeline.plan import SAMPLE_RATE
from voiceguide.voice.speech import Speech

SR = SAMPLE_RATE

SCRIPT = """\
title: Bed test
caution: false
steps:
  - say: Lie on your back with your knees bent.
    pause: 4
  - name: Find the middle
    hold: 12
    countdown: 0
  - name: Slow breaths
    breaths: 2
    inhale: 4
    exhale: 6
  - rest: 8
  - say: Now stand up slowly.
    pause: 3
outro: That is the end of the session.
"""


class Muted:
    """A speech layer or sound bank of the right lengths that says nothing."""

    def __init__(self, source):
        self.source = source

    def length(self, key: str) -> int:
        return self.source.length(key)

    def audio(self, key: str) -> np.ndarray:
        return np.zeros(self.source.length(key), np.float32)


def db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x)) + 1e-20))


def write_wav(path: Path, samples: np.ndarray, rate: int = SR) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.clip(np.rint(samples * 32767), -32768, 32767).astype("<i2").tobytes())
    return path


def ramped_file(path: Path, seconds: float = 6.0, drop_db: float = 8.0) -> Path:
    """A file that would click and step if looped naively: loud at its start, ``drop_db`` quieter at its end."""
    n = int(seconds * SR)
    rng = np.random.default_rng(5)
    noise = np.convolve(rng.standard_normal(n), np.ones(8) / 8, mode="same")
    t = np.arange(n) / SR
    level = np.linspace(1.0, 10 ** (-drop_db / 20), n)
    return write_wav(path, 0.2 * level * (noise + np.sin(2 * np.pi * 220 * t)))


@pytest.fixture(scope="module")
def script(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bed") / "bed-test.yaml"
    path.write_text(SCRIPT)
    return path


@pytest.fixture(scope="module")
def file_bed(tmp_path_factory) -> Path:
    return ramped_file(tmp_path_factory.mktemp("bed-file") / "ramp.wav")


@pytest.fixture(scope="module")
def steady_file(tmp_path_factory) -> Path:
    return ramped_file(tmp_path_factory.mktemp("bed-file") / "steady.wav", drop_db=0.0)


def bed_alone(script: Path, bed_name: str, target: Path) -> tuple[np.ndarray, session.Session]:
    """The session exported to MP3 with only the bed sounding, decoded by ffmpeg."""
    prepared = session.prepare(str(script), Overrides(voice="test", bed=bed_name))
    muted = mix.Mix(prepared.plan, Muted(prepared.speech), Muted(prepared.sounds), prepared.bed, prepared.settings)
    export.write_mp3(muted, target, tags=export.Tags("Bed alone"))
    return decode(target), prepared


# --------------------------------------------------------------------------- ducking, on real audio


@pytest.mark.parametrize("bed_name", ["brown", "drone", "file"])
def test_under_speech_the_bed_is_8_db_down_and_the_drop_begins_before_the_word(script, steady_file, tmp_path,
                                                                                 bed_name):
    audio, prepared = bed_alone(script, str(steady_file) if bed_name == "file" else bed_name, tmp_path / "bed.mp3")
    plan = prepared.plan
    speech = [e for e in plan.events if e.kind == "speech"]
    s = lambda samples: samples / SR  # noqa: E731
    level = lambda a_s, b_s: db(audio[int(a_s * SR) : int(b_s * SR)])  # noqa: E731
    # Between utterances: the middle of every gap of 3 s or more, away from the fades.
    between = [level(s(a.end) + duck.RISE_S + 0.2, s(b.start) - duck.LEAD_S - 0.2)
               for a, b in zip(speech, speech[1:]) if s(b.start - a.end) >= 3.0]
    assert len(between) >= 3
    up = float(np.median(between))
    under = [level(s(e.start) + 0.05, s(e.end) - 0.05) for e in speech if s(e.end - e.start) > 0.3]
    assert max(under) <= up - 8.0, (under, up)
    # Before each utterance that follows a long quiet: up 0.5 s before, already well down in the last 0.1 s.
    after_quiet = [b for a, b in zip(speech, speech[1:]) if s(b.start - a.end) >= 3.0]
    for e in after_quiet:
        assert abs(level(s(e.start) - 0.65, s(e.start) - 0.45) - up) < 2.0
        assert level(s(e.start) - 0.1, s(e.start)) <= up - 6.0


def test_the_bed_fades_in_over_the_lead_in_and_out_at_the_end(script, tmp_path):
    audio, prepared = bed_alone(script, "pink", tmp_path / "bed.mp3")
    assert db(audio[: int(0.05 * SR)]) < db(audio[int(0.4 * SR) : int(0.5 * SR)]) - 10
    tail = audio[-int(duck.FADE_OUT_S * SR) :]
    assert db(tail[-int(0.1 * SR) :]) < db(tail[: int(0.3 * SR)]) - 15


# --------------------------------------------------------------------------- loudness with every bed


@pytest.fixture(scope="module")
def exported_with_bed(script, file_bed, tmp_path_factory):
    """``script`` exported with the bed named ("file": ``file_bed``), once per bed for the tests that only read it."""
    made: dict[str, Path] = {}

    def export_with(bed_name: str) -> Path:
        if bed_name not in made:
            target = tmp_path_factory.mktemp("with-bed") / f"{bed_name}.mp3"
            name = str(file_bed) if bed_name == "file" else bed_name
            done = invoke("export", str(script), "--voice", "test", "--bed", name, "-o", str(target))
            assert done.returncode == 0, done.stderr
            made[bed_name] = target
        return made[bed_name]

    return export_with


@pytest.mark.parametrize("bed_name", [*BED_NAMES, "file"])
def test_with_each_bed_the_session_is_minus_16_lufs_under_minus_1_dbtp(exported_with_bed, bed_name):
    integrated, peak = ebur128(exported_with_bed(bed_name))
    assert abs(integrated + 16) <= 0.5 and peak <= -1.0, (integrated, peak)


@pytest.mark.parametrize("bed_level", [-40.0, -18.0, -6.0])
def test_the_voice_is_never_made_quieter_by_a_bed(script, bed_level):
    """The speech's gain and ceiling with a bed are at least those without: the bed never pulls the voice down."""
    prepared = session.prepare(str(script), Overrides(voice="test"))
    plan, speech = prepared.plan, mix.speech_layer(prepared.speech, SR)
    without = mix.measure(mix.Mix(plan, speech, prepared.sounds))
    with_bed = mix.measure(mix.Mix(plan, speech, prepared.sounds, bed.open_bed("pink", bed_level, SR)))
    assert with_bed.gain_db >= without.gain_db - 1e-9
    assert abs(with_bed.expected_lufs - loudness.TARGET_LUFS) < 0.3
    # The bed sits where it was asked, against the speech as limited and mixed.
    renderer = mix.Renderer(mix.Mix(plan, speech, prepared.sounds), with_bed)  # layers: unscaled
    speech_lufs = loudness.integrated_lufs(renderer.layers(0, plan.length)[0], SR)
    assert abs(loudness.BED_LUFS + with_bed.bed_gain_db - (speech_lufs + bed_level)) < 0.01


@pytest.mark.real
def test_a_real_voice_session_with_the_default_bed_is_minus_16_lufs(script, tmp_path):
    target = tmp_path / "piper-bed.mp3"
    done = invoke("export", str(script), "--voice", "piper", "--bed", "-o", str(target))
    assert done.returncode == 0, done.stderr
    integrated, peak = ebur128(target)
    assert abs(integrated + 16) <= 0.5 and peak <= -1.0, (integrated, peak)


# --------------------------------------------------------------------------- cue level


def test_cue_level_moves_the_cues_measured_loudness_by_the_amount_asked(script, tmp_path):
    prepared = session.prepare(str(script), Overrides(voice="test"))
    plan = prepared.plan
    speech = [e for e in plan.events if e.kind == "speech"]
    alone = [e for e in plan.events if e.kind == "sound"
             and not any(o.start < e.end + int(0.1 * SR) and o.end > e.start - int(0.1 * SR) for o in speech)]
    assert len(alone) >= 2
    measured = {}
    for level in (-18, -6):
        target = tmp_path / f"cues{level}.mp3"
        done = invoke("export", str(script), "--voice", "test", "--cue-level", str(level), "-o", str(target))
        assert done.returncode == 0, done.stderr
        audio = decode(target)
        cues = np.concatenate([audio[e.start : e.end] for e in alone])
        words = np.concatenate([audio[e.start : e.end] for e in speech])
        measured[level] = (loudness.momentary_max_lufs(cues, SR), loudness.integrated_lufs(words, SR))
    (cue_a, voice_a), (cue_b, voice_b) = measured[-18], measured[-6]
    assert abs((cue_b - cue_a) - 12) <= 1.0, measured
    assert abs(voice_b - voice_a) <= 1.0  # the voice stays where it was


# --------------------------------------------------------------------------- the file bed's loop


def steps_db(x: np.ndarray, window_s: float = 0.1) -> np.ndarray:
    n = int(window_s * SR)
    rms = np.sqrt(np.mean(x[: len(x) // n * n].reshape(-1, n) ** 2, axis=1))
    return np.abs(np.diff(20 * np.log10(rms + 1e-12)))


def test_a_looped_file_bed_has_no_click_and_no_step_at_the_loop_point(file_bed):
    source = bed.FileBed(file_bed, SR)
    period = len(source.table)
    seam = source.samples(period - SR, period + SR)  # a second each side of the loop point
    jumps = np.abs(np.diff(seam))
    assert jumps[SR - 5 : SR + 5].max() <= 1.5 * np.percentile(jumps, 99)  # no click
    assert steps_db(seam).max() < 2.0  # no step in level: it glides over the crossfade
    # The same measure finds both in the file looped naively: it can fail.
    raw = np.tile(bed.decode_file(file_bed, SR), 2)
    n = len(raw) // 2
    assert steps_db(raw[n - SR : n + SR]).max() > 5


def test_a_looped_file_bed_runs_on_without_a_step_in_the_decoded_mp3(tmp_path, file_bed):
    script = tmp_path / "loop.yaml"
    script.write_text("title: Loop\ncaution: false\nbed: ramp.wav\nsteps:\n  - say: Rest now.\n  - rest: 20\n"
                      "  - say: Done.\n")
    (tmp_path / "ramp.wav").write_bytes(file_bed.read_bytes())
    audio, prepared = bed_alone(script, None, tmp_path / "loop.mp3")
    speech = [e for e in prepared.plan.events if e.kind == "speech"]
    quiet = max(zip(speech, speech[1:]), key=lambda ab: ab[1].start - ab[0].end)
    a, b = quiet[0].end + int(1.0 * SR), quiet[1].start - int(0.5 * SR)
    period = len(prepared.bed.source.table)
    assert (b - a) > 3 * period  # several loop points inside
    assert steps_db(audio[a:b]).max() < 2.0


# --------------------------------------------------------------------------- generated beds


@pytest.mark.parametrize("name", BED_NAMES)
def test_a_generated_bed_is_the_same_wherever_blocks_start_and_run_to_run(name):
    source = bed.open_bed(name, -18, SR).source
    whole = source.samples(1000, 1000 + 30 * SR)
    cut = np.concatenate([source.samples(1000, 1777), source.samples(1777, 1000 + 13 * SR),
                          source.samples(1000 + 13 * SR, 1000 + 30 * SR)])
    assert np.array_equal(whole, cut)
    assert np.array_equal(whole, bed.open_bed(name, -18, SR).source.samples(1000, 1000 + 30 * SR))
    assert abs(loudness.integrated_lufs(whole, SR) - loudness.BED_LUFS) < 0.5
    assert steps_db(whole, 0.4).max() < 3.0  # steady: no pumping from the grains or the table


def test_the_drone_is_a_just_chord_whose_partials_cannot_beat():
    source = bed.DroneBed(SR)
    x = source.samples(0, int(bed.DRONE_PERIOD_S * SR))
    spectrum = np.abs(np.fft.rfft(x))
    freqs = np.fft.rfftfreq(len(x), 1 / SR)
    peaks = freqs[np.argsort(spectrum)[-len(bed.DRONE_PARTIALS):]]
    common = bed.DRONE_ROOT_HZ / 2  # every partial a whole multiple of 32.5 Hz: the chord repeats, no beats
    assert np.allclose(peaks / common, np.round(peaks / common), atol=0.01)
    assert steps_db(x, 4 / common).max() < 0.3  # over whole periods of the chord: only the slow swells move it


def test_the_breath_bed_rises_on_each_inhale_and_falls_on_each_exhale(script):
    prepared = session.prepare(str(script), Overrides(voice="test", bed="breath"))
    layer = duck.BedLayer(prepared.plan, prepared.bed.source)
    swell = layer.swell(0, prepared.plan.length)
    low = 10 ** (duck.BREATH_LOW_DB / 20)
    cues = [e for e in prepared.plan.events if e.kind == "sound" and e.sound in ("inhale", "exhale")]
    assert [e.sound for e in cues] == ["inhale", "exhale"] * 2
    for inhale, exhale in zip(cues[::2], cues[1::2]):
        assert swell[inhale.start] == pytest.approx(low, abs=0.01)
        assert swell[exhale.start] == pytest.approx(1.0, abs=0.01)
        assert np.all(np.diff(swell[inhale.start : exhale.start]) >= 0)
        assert np.all(np.diff(swell[exhale.start : exhale.start + 5 * SR]) <= 0)
    assert np.abs(np.diff(swell)).max() < 1e-3  # glides, never jumps


def test_ducking_is_computed_the_same_for_any_block(script):
    prepared = session.prepare(str(script), Overrides(voice="test", bed="brown"))
    layer = duck.BedLayer(prepared.plan, prepared.bed.source)
    n = prepared.plan.length
    whole = layer.samples(0, n)
    blocks = np.concatenate([layer.samples(a, min(a + 12345, n)) for a in range(0, n, 12345)])
    assert np.array_equal(whole, blocks)
    gain = layer.envelope(0, n)
    assert np.abs(np.diff(20 * np.log10(np.maximum(gain[SR:-4 * SR], 1e-9)))).max() < 0.01  # dB a sample: no clicks


def test_the_same_script_gives_the_same_file(script, tmp_path, exported_with_bed):
    target = tmp_path / "same.mp3"
    assert invoke("export", str(script), "--voice", "test", "--bed", "pink", "-o", str(target)).returncode == 0
    assert target.read_bytes() == exported_with_bed("pink").read_bytes()  # another export of it, maybe run earlier


# --------------------------------------------------------------------------- live play


def test_live_play_mixes_the_bed_as_export_would(script, tmp_path):
    routine = parse_text(SCRIPT, str(script))
    speech = Speech("test", cache_dir=tmp_path / "cold", sample_rate=SR)
    chosen = bed.open_bed("brown", -18, SR)
    live = LivePlan(routine, speech, SoundBank(SR), Settings(bed="brown"), bed=chosen)
    live.start()
    levels = live.levels(0)
    got: list[tuple[int, np.ndarray]] = []
    mixer = threading.Thread(target=lambda: got.extend(live.blocks(levels)))
    mixer.start()
    mixer.join(120)
    live.close()
    final = live.plan
    mixed = np.concatenate([block for _, block in got])
    want = np.concatenate([to_pcm16(b) for b in mastered_blocks(mix.Mix(final, speech, live.sounds, chosen), levels)])
    assert np.array_equal(mixed, want)
    assert levels.bed_gain_db != 0.0 and "brown noise at -18 LU" in live.sound
    # The bed is placed against the predicted speech as export places it against the measured one.
    measured = mix.measure(mix.Mix(final, speech, live.sounds, chosen))
    assert abs((levels.bed_gain_db + levels.gain_db) - (measured.bed_gain_db + measured.gain_db)) < 1.5


# --------------------------------------------------------------------------- what the user is told


def test_plan_and_the_cue_sheet_say_which_bed_is_used(script, tmp_path):
    shown = invoke("plan", str(script), "--voice", "test", "--bed", "--bed-level", "-20", "--cue-level", "-9")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[1] == f"bed: {DEFAULT_BED} noise at -20 LU, ducked under speech; cues at -9 LU"
    target = tmp_path / "sheet.mp3"
    done = invoke("export", str(script), "--voice", "test", "--bed", "drone", "--cue-sheet", "-o", str(target))
    assert done.returncode == 0, done.stderr
    assert "Bed: drone at -18 LU, ducked under speech; cues at -12 LU" in target.with_suffix(".txt").read_text()
    assert "bed: none" in invoke("plan", str(script), "--voice", "test").stdout
    import json

    as_json = json.loads(invoke("plan", str(script), "--voice", "test", "--bed", "breath", "--json").stdout)
    assert as_json["sound"] == {"bed": "breath", "bed_level": -18, "cue_level": -12}
    assert json.loads(invoke("plan", str(script), "--voice", "test", "--json").stdout)["sound"]["bed"] is None
    assert ffprobe(target)["format"]["duration"]


def test_a_script_that_says_nothing_has_no_bed_and_no_bed_overrides_one(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("title: T\ncaution: false\nbed: pink\nbed_level: -22\ncue_level: -8\nsteps: [{say: Hello.}]\n")
    assert session.prepare(str(path), Overrides(voice="test", no_bed=True)).bed is None
    chosen = session.prepare(str(path), Overrides(voice="test"))
    assert (chosen.bed.label, chosen.bed.level_lu, chosen.settings.cue_level_lu) == ("pink noise", -22, -8)
    overridden = session.prepare(str(path), Overrides(voice="test", bed="drone", bed_level_lu=-30, cue_level_lu=-20))
    assert (overridden.bed.label, overridden.bed.level_lu, overridden.settings.cue_level_lu) == ("drone", -30, -20)
    path.write_text("title: T\ncaution: false\nsteps: [{say: Hello.}]\n")
    assert session.prepare(str(path), Overrides(voice="test")).bed is None


# --------------------------------------------------------------------------- bad input


def only_problem(text: str, tmp_path: Path) -> str:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ScriptError) as caught:
        session.prepare(str(path), Overrides(voice="test"))
    [problem] = caught.value.problems
    return str(problem).replace(str(tmp_path) + "/", "")


@pytest.mark.parametrize("body, message", [
    ("bed: pnik\n", "s.yaml:2:6: 'bed' is 'pnik', not a generated bed (did you mean 'pink'?); write one of: pink, "
                    "brown, drone, breath, or an audio file's path like 'bed: sounds/rain.ogg'"),
    ("bed: sounds/rain.ogg\n", "s.yaml:2:6: bed file 'sounds/rain.ogg' not found (looked for 'sounds/rain.ogg'); "
                               "give a path relative to the script"),
    ("bed: [brown]\n", "s.yaml:2:6: 'bed' must be text, not a list"),
    ("bed: pink\nbed_level: -3\n", "s.yaml:3:12: 'bed_level' is '-3'; that is too high: write LU relative to the "
                                   "voice from -40 to -6"),
    ("cue_level: 6\n", "s.yaml:2:12: 'cue_level' is '6'; that is too high: write LU relative to the voice from -30 "
                       "to 0"),
    ("cue_level: -31\n", "s.yaml:2:12: 'cue_level' is '-31'; that is too low: write LU relative to the voice from "
                         "-30 to 0"),
    ("cue_level: loud\n", "s.yaml:2:12: 'cue_level' is 'loud'; write LU relative to the voice, like -12"),
])
def test_a_bad_bed_or_level_in_a_script_is_an_error_at_its_line(tmp_path, body, message):
    got = only_problem(f"title: T\n{body}steps: [{{say: x}}]\n", tmp_path)
    assert got.replace(str(tmp_path / "sounds"), "sounds") == message


def test_a_bed_file_that_cannot_be_decoded_is_an_error_at_the_scripts_line(tmp_path):
    (tmp_path / "rain.ogg").write_text("this is not audio")
    got = only_problem("title: T\ncaution: false\nbed: rain.ogg\nsteps: [{say: x}]\n", tmp_path)
    assert got.startswith("s.yaml:3:1: cannot decode bed file ")
    assert got.endswith("use a WAV, FLAC, OGG or MP3 file that ffmpeg can play, or remove it from 'bed:'")
    (tmp_path / "s.yaml").write_text("title: T\ncaution: false\nbed: rain.ogg\nsteps: [{say: x}]\n")
    done = invoke("export", str(tmp_path / "s.yaml"), "--voice", "test", "-o", str(tmp_path / "o.mp3"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"{tmp_path / 's.yaml'}:3:1: cannot decode bed file")
    assert not list(tmp_path.glob("*.mp3")) and not list(tmp_path.glob(".*part"))


def test_a_silent_or_too_short_bed_file_says_so(tmp_path):
    with pytest.raises(AudioError, match="is silent"):
        bed.FileBed(write_wav(tmp_path / "quiet.wav", np.zeros(3 * SR)), SR)
    with pytest.raises(AudioError, match="needs at least 2 s"):
        bed.FileBed(write_wav(tmp_path / "short.wav", 0.1 * np.ones(SR // 2)), SR)


@pytest.mark.parametrize("args, said", [
    (["--bed", "pnik"], "'pnik' is not a generated bed (did you mean 'pink'?)"),
    (["--bed", "missing.ogg"], "bed file 'missing.ogg' not found"),
    (["--bed-level", "-3"], "'-3' is not a bed level; write LU relative to the voice from -40 to -6"),
    (["--bed-level", "nan"], "'nan' is not a bed level"),
    (["--cue-level", "3"], "'3' is not a cue level; write LU relative to the voice from -30 to 0"),
    (["--bed", "pink", "--no-bed"], "not allowed with argument"),
])
@pytest.mark.parametrize("command", ["plan", "export", "play", "serve"])
def test_bad_bed_options_are_usage_errors(script, args, said, command):
    done = invoke(command, str(script), "--voice", "test", *args)
    assert done.returncode == 2 and said in done.stderr and "Traceback" not in done.stderr


def test_a_routine_taken_for_the_bed_name_is_explained(script):
    done = invoke("export", "--bed", str(script))
    assert done.returncode == 2 and "is a routine script, not a bed; put the routine before --bed" in done.stderr


def test_a_routine_name_taken_for_the_bed_name_is_explained():
    done = invoke("plan", "--bed", "standing-reset")
    assert done.returncode == 2 and "'standing-reset' is a routine, not a bed; put the routine before --bed" in done.stderr
    done = invoke("plan", "--bed", "brwn", "standing-reset")  # a bed's name misspelt is still a bed's
    assert done.returncode == 2 and "(did you mean 'brown'?)" in done.stderr


def test_bed_sources_refuse_an_unreadable_path_with_the_bed_key(tmp_path):
    with pytest.raises(AudioError, match="bed file .* does not exist; fix the path under 'bed:'"):
        bed.open_bed(str(tmp_path / "gone.wav"), -18, SR)


def test_ffmpeg_reads_what_the_bed_tests_write(file_bed):
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=sample_rate,channels", "-of", "csv=p=0",
                            str(file_bed)], capture_output=True, text=True, check=True).stdout.strip()
    assert probe == f"{SR},1"


# --------------------------------------------------------------------------- intelligibility


def word_accuracy(path: Path, plan: dict, prompts: list[str]) -> float:
    """The share of the plan's spoken words that pocketsphinx hears right, each utterance cut at its plan times."""
    from listener import recognise, words
    from test_heard import MARGIN_S, RATE, decoded

    audio = decoded(path)
    right = total = 0
    for e in (e for e in plan["events"] if e["kind"] == "speech"):
        a, b = int((e["start"] - MARGIN_S) * RATE), int((e["end"] + MARGIN_S) * RATE)
        heard = recognise(audio[max(a, 0) : b], RATE, prompts, sequence=False).split()
        said = words(e["text"])
        right += sum(h == w for h, w in zip(heard, said)) if len(heard) == len(said) else 0
        total += len(said)
    return right / total


@pytest.mark.real
def test_the_default_bed_does_not_hurt_intelligibility(tmp_path):
    import json

    from test_heard import DISTRACTORS
    from test_heard import SCRIPT as HEARD

    script = tmp_path / "listen.yaml"
    script.write_text(HEARD)
    plan = json.loads(invoke("plan", str(script), "--voice", "piper", "--json").stdout)
    prompts = sorted({e["text"] for e in plan["events"] if e["kind"] == "speech"}) + DISTRACTORS
    accuracy = {}
    for label, args in (("none", []), ("bed", ["--bed"])):
        target = tmp_path / f"{label}.mp3"
        done = invoke("export", str(script), "--voice", "piper", *args, "-o", str(target))
        assert done.returncode == 0, done.stderr
        accuracy[label] = word_accuracy(target, plan, prompts)
    assert accuracy["bed"] >= accuracy["none"] - 0.05, accuracy
    assert accuracy["none"] > 0.8, accuracy  # the listener hears this voice at all


def test_a_served_site_is_made_again_when_the_bed_changes(script, tmp_path):
    from voiceguide.publish import fingerprint
    from voiceguide.voice.speech import Speech

    routine = parse_text(SCRIPT, str(script))
    speech = Speech("test")
    keys = {fingerprint(routine, resolve(routine, overrides), speech) for overrides in (
        Overrides(), Overrides(bed="pink"), Overrides(bed="pink", bed_level_lu=-20), Overrides(cue_level_lu=-6))}
    assert len(keys) == 4
    # What is heard decides, not how it was asked for: no bed over a script without one is the same session.
    assert fingerprint(routine, resolve(routine, Overrides(no_bed=True, cue_level_lu=-12.0)), speech) in keys
    loop = tmp_path / "loop.wav"
    ramped_file(loop)
    before = fingerprint(routine, resolve(routine, Overrides(bed=str(loop))), speech)
    ramped_file(loop, drop_db=3.0)  # the same name, another sound
    assert fingerprint(routine, resolve(routine, Overrides(bed=str(loop))), speech) != before


def test_a_batch_decodes_a_shared_bed_file_once(tmp_path, file_bed, monkeypatch):
    """Routines that agree on the bed share it: a file bed is decoded and measured once per export."""
    opened = []
    real_open = session.open_bed
    monkeypatch.setattr(session, "open_bed", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    folder = tmp_path / "batch"
    folder.mkdir()
    for name in ("one", "two", "three"):
        (folder / f"{name}.yaml").write_text(f"title: {name}\ncaution: false\nsteps:\n  - say: Breathe out.\n")
    written = session.export_routines([str(folder)], Overrides(voice="test", bed=str(file_bed)),
                                      output=tmp_path / "out", fmt="wav", cue_sheet=False)
    assert len([p for p in written if p.suffix == ".wav"]) == 3
    assert len(opened) == 1
