"""Exports as a phone, a podcast app and a desktop player read them: decoded by ffmpeg, read by ffprobe."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from helpers import invoke
from test_loudness import ebur128
from tones import SOUNDS, ToneSpeech, tone_plan

from voiceguide import files, session, signals
from voiceguide.audio import loudness, mix
from voiceguide.audio.dsp import to_pcm16
from voiceguide.errors import AudioError, ExportError
from voiceguide.export import writer as export
from voiceguide.script.settings import Overrides, Settings
from voiceguide.timeline.plan import SAMPLE_RATE

SR = SAMPLE_RATE
TESTS = Path(__file__).resolve().parent


def ffprobe(path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_chapters", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def decode(path) -> np.ndarray:
    """What a player hears: ffmpeg's decoding, as float samples at the session rate."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", str(SR), "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype="<i2").astype(np.float64) / 32768


def read_wav(path) -> np.ndarray:
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, SR)
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def isolated(plan, quiet_s: float = 0.15):
    """Events with nothing sounding in the ``quiet_s`` before them: their onsets can be seen."""
    quiet = int(quiet_s * SR)
    return [e for e in plan.events
            if not any(o.start < e.start and o.end > e.start - quiet for o in plan.events)]


def onset(pcm: np.ndarray, at: int) -> int:
    """Where the sound near ``at`` first reaches a tenth of its level over the next 150 ms."""
    before, after = int(0.1 * SR), int(0.15 * SR)
    window = np.abs(pcm[at - before : at + after])
    return at - before + int(np.argmax(window > 0.1 * window[before:].max()))


@pytest.fixture(scope="module")
def plan():
    return tone_plan()


@pytest.fixture(scope="module")
def mp3(plan, tmp_path_factory):
    path = tmp_path_factory.mktemp("mp3") / "session.mp3"
    tags = export.Tags("Mix test", "Two moves and a breath.", track=2, total=3)
    assert export.write_mp3(mix.Mix(plan, ToneSpeech(), SOUNDS, settings=Settings(bitrate_kbps=64)), path, tags=tags) == path
    return path


@pytest.fixture(scope="module")
def decoded_mp3(mp3) -> np.ndarray:
    """``mp3`` as a player hears it, decoded once for the tests that only read it (read-only)."""
    pcm = decode(mp3)
    pcm.flags.writeable = False
    return pcm


@pytest.fixture(scope="module")
def wav(plan, tmp_path_factory) -> Path:
    """The plan exported as a WAV, once for the tests that only read it."""
    return export.write_wav(mix.Mix(plan, ToneSpeech(), SOUNDS), tmp_path_factory.mktemp("wav") / "session.wav")


def test_mp3_tags_and_duration(plan, mp3):
    info = ffprobe(mp3)["format"]
    tags = info["tags"]
    assert tags["title"] == "Mix test" and tags["album"] == "voiceguide" and tags["artist"] == "voiceguide"
    assert tags["track"] == "2/3"
    assert tags["comment"] == "Two moves and a breath."
    # The decoded file ends within one MP3 frame (576 samples) after the plan: quiet tail.
    assert plan.duration_s <= float(info["duration"]) <= plan.duration_s + 576 / SR + 0.001


def test_mp3_chapters_are_every_named_step_and_side_in_time_order(plan, mp3):
    chapters = ffprobe(mp3)["chapters"]
    assert [c["tags"]["title"] for c in chapters] == [c.title for c in plan.chapters] == [
        "Introduction", "Pelvic tilts", "Hip opener, left side", "Hip opener, right side", "Slow breaths"]
    assert float(chapters[0]["start_time"]) == 0.0  # a podcast app's list starts at 0:00
    starts = [float(c["start_time"]) for c in chapters]
    assert starts == sorted(starts)
    for read, planned in zip(chapters, plan.chapters):
        assert abs(float(read["start_time"]) - planned.start / SR) < 0.001
        assert abs(float(read["end_time"]) - planned.end / SR) < 0.001
    # The frames themselves are in time order in the file (some podcast apps read them in file order).
    raw = mp3.read_bytes()
    tag = raw[: 10 + sum(b << (7 * (3 - i)) for i, b in enumerate(raw[6:10]))]  # ID3 size is syncsafe
    ids = [tag[m.end() + 6 : tag.index(b"\0", m.end() + 6)] for m in re.finditer(b"CHAP", tag)]
    assert ids == [f"chp{i}".encode() for i in range(len(plan.chapters))]


def test_decoded_mp3_onsets_land_within_20_ms_of_the_plan(plan, decoded_mp3):
    pcm = decoded_mp3
    checked = [e for e in isolated(plan) if e.kind == "speech"]
    assert len(checked) >= 10
    errors_ms = [1000 * (onset(pcm, e.start) - e.start) / SR for e in checked]
    assert max(map(abs, errors_ms)) <= 20, errors_ms
    assert max(map(abs, errors_ms)) <= 3  # in fact the encoder delay is fully taken out


def test_decoded_mp3_is_the_wav_signal(wav, decoded_mp3):
    """Same samples as the WAV, through the codec: time-aligned and at the same level."""
    wanted = read_wav(wav).astype(np.float64) / 32768
    pcm = decoded_mp3[: len(wanted)]
    reach = 40  # samples of lag tried each way
    # pcm shifted by each lag against the WAV, over the samples both have (the ends are quiet)
    n = len(wanted) - 2 * reach
    best = max(range(-reach, reach + 1),
               key=lambda lag: float(np.dot(pcm[reach + lag : reach + lag + n], wanted[reach : reach + n])))
    assert best == 0
    assert abs(20 * np.log10(np.std(pcm) / np.std(wanted))) < 0.1  # LAME's 0.95 scaling is made up for


def test_with_no_lead_in_the_chapters_still_match_the_sound(tmp_path):
    plan = tone_plan(lead_in_s=0.0)
    path = export.write_mp3(mix.Mix(plan, ToneSpeech(), SOUNDS), tmp_path / "tight.mp3", tags=export.Tags("t"))
    dropped, lag = export.mp3_offset(plan)
    assert dropped == 0 and lag == export.MP3_DELAY_SAMPLES
    pcm = decode(path)
    intro, *steps = ffprobe(path)["chapters"]
    assert intro["tags"]["title"] == "Introduction" and float(intro["start_time"]) == 0.0
    for chapter in steps:
        at = int(round(float(chapter["start_time"]) * SR))
        assert abs(onset(pcm, at) - at) <= 0.02 * SR  # the chime starts where the chapter does


def test_wav_equals_the_render_sample_for_sample(plan, wav):
    speech = ToneSpeech()
    written = read_wav(wav)
    levels = mix.measure(mix.Mix(plan, speech, SOUNDS))
    expected = to_pcm16(mix.render(mix.Mix(plan, speech, SOUNDS), levels))
    assert len(written) == plan.length
    assert np.array_equal(written, expected)


def test_exports_are_at_minus_16_lufs_under_minus_1_dbtp(wav, mp3):
    for path in (wav, mp3):
        integrated, peak = ebur128(path)
        assert abs(integrated - loudness.TARGET_LUFS) <= 0.5, path
        assert peak <= -1.0, path


ROUTINE_YAML = """\
title: {title}
summary: A short test routine.
caution: false
voice: {voice}
intro: Find a spot on the floor.
steps:
  - name: Pelvic tilts
    setup: Lie on your back with your knees bent.
    reps: 2
    cycle:
      - say: Exhale, and gently flatten your low back into the floor.
        seconds: 5
        sound: exhale
      - say: Inhale, and let it go.
        seconds: 4
  - name: Knee hug
    sides: [right, left]
    hold: 6
    countdown: 2
outro: Well done.
"""


def write_routine(folder: Path, stem: str, title: str, voice: str = "test") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.yaml"
    path.write_text(ROUTINE_YAML.format(title=title, voice=voice))
    return path


@pytest.mark.parametrize("voice, bitrate", [("piper", 64), ("hibari", 64), ("system", 64), ("system", 32)])
def test_a_real_voice_session_is_at_minus_16_lufs_under_minus_1_dbtp(tmp_path, voice, bitrate):
    """Whichever engine speaks (Piper, or espeak-ng through pyttsx3), the export meets the target;
    the MP3 too, though the encoder adds peaks of its own (more at low bit rates)."""
    script = write_routine(tmp_path, f"{voice}-check", f"{voice} check", voice=voice)
    for fmt in ("wav", "mp3"):
        [path] = session.export_routines([str(script)], Overrides(bitrate_kbps=bitrate), output=tmp_path / f"out.{fmt}",
                                         fmt=None, cue_sheet=False)
        integrated, peak = ebur128(path)
        assert abs(integrated - loudness.TARGET_LUFS) <= 1.0, (fmt, integrated)
        assert peak <= -1.0, (fmt, peak)


def test_a_folder_gives_one_file_each_and_a_playlist_with_real_durations(tmp_path):
    folder = tmp_path / "morning"
    write_routine(folder, "a-tilts", "Tilts first")
    write_routine(folder, "b-hugs", "Hugs second")
    out = tmp_path / "phone"
    written = session.export_routines([str(folder)], Overrides(), output=out, fmt=None, cue_sheet=True)
    assert [p.name for p in written] == ["a-tilts.mp3", "a-tilts.txt", "b-hugs.mp3", "b-hugs.txt", "morning.m3u"]
    lines = (out / "morning.m3u").read_text().splitlines()
    assert lines[0] == "#EXTM3U"
    entries = list(zip(lines[1::2], lines[2::2]))
    assert [name for _, name in entries] == ["a-tilts.mp3", "b-hugs.mp3"]
    for n, (extinf, name) in enumerate(entries, start=1):
        seconds, title = extinf.removeprefix("#EXTINF:").split(",", 1)
        probed = ffprobe(out / name)["format"]
        assert abs(int(seconds) - float(probed["duration"])) <= 0.5
        assert title == probed["tags"]["title"] == ("Tilts first" if n == 1 else "Hugs second")
        assert probed["tags"]["track"] == f"{n}/2"
    assert "== Pelvic tilts ==" in (out / "a-tilts.txt").read_text()


def test_the_command_prints_only_the_paths(tmp_path):
    script = write_routine(tmp_path, "solo", "Solo")
    result = invoke("export", str(script), "-o", str(tmp_path / "solo.wav"), "--cue-sheet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(tmp_path / "solo.wav"), str(tmp_path / "solo.txt")]
    assert "\r" not in result.stderr  # no progress bar when stderr is not a terminal
    result = invoke("export", str(script), cwd=tmp_path)  # default: the current folder, named after the file
    assert result.stdout.splitlines() == [str(tmp_path / "solo.mp3")]
    assert (tmp_path / "solo.mp3").is_file()


@pytest.mark.parametrize("args, message, code", [
    (["-o", "x.ogg"], "writes .mp3 or .wav", 1),
    (["--bitrate", "65"], "not an MP3 bit rate", 2),
    (["-o", "x.mp3", "--format", "wav"], "make them agree", 1),
    (["-o", "solo.yaml/x.mp3"], "cannot make the folder 'solo.yaml': 'solo.yaml' is a file, not a folder", 1),
    (["-o", "/proc/x.mp3"], "cannot write '/proc/x.mp3': No such file or directory; nothing was written there", 1),
])
def test_usage_mistakes_are_one_clear_line(tmp_path, args, message, code):
    script = write_routine(tmp_path, "solo", "Solo")
    result = invoke("export", str(script), *args, cwd=tmp_path)
    assert result.returncode == code and message in result.stderr and "Traceback" not in result.stderr
    said = [line for line in result.stderr.splitlines() if not line.startswith(("usage:", " "))]  # argparse's usage
    assert len(said) == 1, result.stderr
    assert list(tmp_path.iterdir()) == [script]


def test_a_duration_that_cannot_be_met_is_said_and_the_file_still_written(tmp_path):
    script = write_routine(tmp_path, "solo", "Solo")
    result = invoke("export", str(script), "--duration", "0:10", cwd=tmp_path)
    assert result.returncode == 0
    assert f"{script}:1:1: warning: --duration: cannot last 0:10.0: even with every range at its low end" in result.stderr
    assert result.stdout.splitlines() == [str(tmp_path / "solo.mp3")]


def test_several_routines_cannot_go_to_one_file(tmp_path):
    a, b = write_routine(tmp_path, "a", "A"), write_routine(tmp_path, "b", "B")
    with pytest.raises(ExportError, match="names a file"):
        session.export_routines([str(a), str(b)], Overrides(), output=tmp_path / "both.mp3", fmt=None,
                                cue_sheet=False)


def test_a_failure_leaves_the_destination_as_it_was(plan, tmp_path, capsys):
    class Failing(ToneSpeech):
        def audio(self, text):
            if self.calls > 5:
                raise AudioError("the voice stopped")
            return super().audio(text)

    target = tmp_path / "keep.mp3"
    target.write_bytes(b"an earlier export")
    with pytest.raises(AudioError):
        export.write_mp3(mix.Mix(plan, Failing(), SOUNDS), target, tags=export.Tags("t"))
    assert target.read_bytes() == b"an earlier export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.mp3"]
    assert f"{target} was not written" in capsys.readouterr().err


INTERRUPTED_EXPORT = """
import sys, time
sys.path.insert(0, {tests!r})
import voiceguide.session as session
from voiceguide import cli
from voiceguide.audio.sounds import SoundBank

class SlowSounds(SoundBank):  # every cue fetched by the mixer takes a while: a long export
    def audio(self, name):
        time.sleep(0.02)
        return super().audio(name)

session.SoundBank = SlowSounds
sys.exit(cli.main(["export", *{args!r}, "--voice", "test"]))
"""

LONG_YAML = """\
title: Long
caution: false
steps:
  - name: Tilts
    reps: 200
    count: false
    cycle:
      - {say: Exhale., seconds: 4, sound: exhale}
      - {say: Inhale., seconds: 4, sound: inhale}
"""
"""27 minutes to export, made slow by its 402 cues (``SlowSounds``), saying four texts: what is said is not
the point, so nothing is counted (the counts "One." to "Two hundred." were 200 more texts to make, 1.6 s
of CPU in the first export)."""


def interrupted_export(tmp_path: Path, args: list[str], sig: signal.Signals, begun) -> tuple[int, str, str]:
    """An export in a process of its own, sent ``sig`` once ``begun()`` is true: (exit code, stdout, stderr)."""
    stdout = tmp_path / "stdout.txt"
    code = INTERRUPTED_EXPORT.format(tests=str(TESTS), args=args)
    with open(stdout, "w") as out:
        process = subprocess.Popen([sys.executable, "-c", code], stdout=out, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not begun(stdout.read_text()):
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.05)
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=60)
    return process.returncode, stdout.read_text(), stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_an_export_interrupted_leaves_nothing(tmp_path, sig):
    """Ctrl-C, kill (or timeout) and a closed terminal: the temporary file goes, the target never appears."""
    script = tmp_path / "long.yaml"
    script.write_text(LONG_YAML)
    out = tmp_path / "out"
    out.mkdir()
    target = out / "long.mp3"
    def begun(printed: str) -> bool:  # the temporary file beside the target: writing has begun
        return any(out.iterdir())

    code, stdout, stderr = interrupted_export(tmp_path, [str(script), "-o", str(target)], sig, begun)
    assert code == (130 if sig == signal.SIGINT else 128 + sig), stderr
    assert list(out.iterdir()) == []
    assert stdout == ""
    assert f"interrupted: {target} was not written" in stderr and "Traceback" not in stderr


class Finaliser:
    """Sends ``sig`` to this process from ``__del__``: the handler's exception is raised there, and dropped."""

    def __init__(self, sig: signal.Signals):
        self.sig = sig

    def __del__(self):
        os.kill(os.getpid(), self.sig)  # os.kill runs the handler before it returns


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_a_signal_whose_exception_a_finaliser_dropped_still_leaves_no_file(tmp_path, sig, monkeypatch):
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)  # where Python puts "Exception ignored"
    target = tmp_path / "x.mp3"
    with pytest.raises(KeyboardInterrupt if sig == signal.SIGINT else SystemExit):
        with signals.ending_signals(), files.atomic_file(target) as f:
            f.write(b"half")
            Finaliser(sig)  # dropped at once, and not reported: no traceback on the way out
            assert reported == []
            f.write(b" and the rest")
    assert list(tmp_path.iterdir()) == []
    assert sys.unraisablehook == reported.append  # given back


class Broken:
    def __del__(self):
        raise ValueError("a finaliser's own fault")


def test_only_the_signals_own_dropped_exception_goes_unreported(monkeypatch):
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    with signals.ending_signals():
        Broken()  # no signal noted: reported as Python would
        assert [type(r.exc_value) for r in reported] == [ValueError]
        with pytest.raises(SystemExit):
            Finaliser(signal.SIGTERM)
            signals.raise_if_received()
        Broken()
    assert [type(r.exc_value) for r in reported] == [ValueError, ValueError]


def test_a_signal_ignored_at_start_stays_ignored_and_handlers_are_given_back():
    before = signal.getsignal(signal.SIGTERM)
    hup = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as nohup starts a command
    try:
        with signals.ending_signals():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is signals.leave
        assert signal.getsignal(signal.SIGTERM) is before
    finally:
        signal.signal(signal.SIGHUP, hup)


def test_an_interrupted_batch_keeps_and_lists_the_files_already_whole(tmp_path):
    folder = tmp_path / "week"
    write_routine(folder, "a-short", "Short")
    (folder / "b-long.yaml").write_text(LONG_YAML)
    out = tmp_path / "phone"
    def begun(printed: str) -> bool:  # a-short whole and printed, b-long's part file begun
        return bool(printed) and any(p.name.endswith(".part") for p in out.iterdir())

    code, stdout, stderr = interrupted_export(tmp_path, [str(folder), "-o", str(out)], signal.SIGINT, begun)
    assert code == 130
    assert stdout.splitlines() == [str(out / "a-short.mp3")]  # printed as soon as it was whole
    assert sorted(p.name for p in out.iterdir()) == ["a-short.mp3"]  # no half file, no playlist
    planned = json.loads(invoke("plan", str(folder / "a-short.yaml"), "--json").stdout)["duration"]
    assert abs(float(ffprobe(out / "a-short.mp3")["format"]["duration"]) - planned) < 0.03
    assert f"{out / 'b-long.mp3'} was not written" in stderr and "Traceback" not in stderr


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_only_on_a_terminal(monkeypatch):
    monkeypatch.setattr(export.Progress, "DELAY_S", 0.0)
    monkeypatch.setattr(export.Progress, "INTERVAL_S", 0.0)
    shown, hidden = Terminal(), io.StringIO()
    for stream in (shown, hidden):
        progress = export.Progress(100, "Mix test", stream)
        progress.advance_to(50)
        progress.close()
    assert "Mix test" in shown.getvalue() and " 50%" in shown.getvalue() and shown.getvalue().endswith("\r\x1b[K")
    assert hidden.getvalue() == ""


def test_a_long_progress_label_is_cut_at_a_word(monkeypatch):
    monkeypatch.setattr(export.Progress, "DELAY_S", 0.0)
    monkeypatch.setattr(export.Progress, "INTERVAL_S", 0.0)
    monkeypatch.setenv("COLUMNS", "60")
    shown = Terminal()
    progress = export.Progress(100, "Speaking Gentle relief sequence (piper:en_US-joe-medium)", shown)
    progress.advance_to(10)
    assert shown.getvalue().startswith("\rSpeaking Gentle relief... [")  # half the width, whole words


def test_cue_sheet_reads_as_the_plan(plan):
    text = export.cue_sheet_text(plan)
    lines = text.splitlines()
    assert lines[0] == "Mix test" and lines[1] == "Two moves and a breath."
    for chapter in plan.chapters:
        assert f"== {chapter.title} ==" in text
    for e in plan.events:
        assert (e.text if e.kind == "speech" else f"[{e.sound}]") in text
    assert " 0:00.5 " in text  # times as m:ss.s


# --------------------------------------------------------------------------- what a killed export leaves


def dead_pid() -> int:
    """The id of a process that has just ended."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def part_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_a_part_file_left_by_sigkill_is_removed_by_the_next_export_and_a_live_ones_is_kept(tmp_path):
    script = tmp_path / "long.yaml"
    script.write_text(LONG_YAML)
    out = tmp_path / "out"
    out.mkdir()
    target = out / "long.mp3"
    def begun(printed: str) -> bool:  # the part file is there (what is in it does not change how it is found)
        return any(out.iterdir())

    code, _, _ = interrupted_export(tmp_path, [str(script), "-o", str(target)], signal.SIGKILL, begun)
    assert code == -signal.SIGKILL
    (left,) = part_files(out)  # SIGKILL cannot be caught: the part file stays ...
    assert len(left) <= 40 and left.startswith(".voiceguide-")
    live = out / f".voiceguide-{os.getpid()}-0123abcd.part"  # ... beside one of a process still running
    live.write_bytes(b"being written")
    foreign = out / f".notes.{dead_pid()}.part"  # another program's, named alike: not ours to remove
    foreign.write_bytes(b"someone else's")
    short = write_routine(tmp_path, "short", "Short")
    done = invoke("export", str(short), "-o", str(out / "short.mp3"), "--voice", "test")
    assert done.returncode == 0, done.stderr
    assert part_files(out) == sorted([foreign.name, live.name])
    assert done.stderr.count(f"removed the part file {left!r}") == 1 and files.LEFT_BY in done.stderr
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["short.mp3"]


def test_a_250_character_output_name_is_written(tmp_path):
    short = write_routine(tmp_path, "short", "Short")
    target = tmp_path / ("n" * 246 + ".mp3")
    done = invoke("export", str(short), "-o", str(target), "--voice", "test")
    assert done.returncode == 0, done.stderr
    assert len(target.name) == 250 and target.stat().st_size > 0
    assert part_files(tmp_path) == []


def test_a_part_file_that_cannot_be_made_is_one_cannot_write_line(tmp_path, monkeypatch, capsys):
    """A read-only file system: open() and even unlink() of a file that is not there raise EROFS."""
    import errno

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    short = write_routine(tmp_path, "short", "Short")
    monkeypatch.setattr(files, "open", read_only, raising=False)  # the module's open: only atomic_file's
    monkeypatch.setattr(Path, "unlink", read_only)
    from voiceguide import cli

    assert cli.main(["export", str(short), "-o", str(tmp_path / "ro.mp3"), "--voice", "test"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write" in err and "read-only file system" in err.lower(), err
    assert "Traceback" not in err


@pytest.mark.real
def test_a_warm_export_from_the_kept_speech_is_the_cold_one_and_ffmpeg_finds_it_at_target(tmp_path):
    """The speed work (finished speech kept in the cache, true peak and limiting only where they can
    matter) checked by an independent meter: ffmpeg's ebur128 with peak=true, on a real voice."""
    cache = tmp_path / "cache"

    def wav(name: str) -> Path:
        [path] = session.export_routines(["standing-reset"], Overrides(voice="hibari"), cache_dir=cache,
                                         output=tmp_path / name, fmt=None, cue_sheet=False)
        return path

    cold, warm = wav("cold.wav"), wav("warm.wav")
    assert list(cache.glob("hibari/*.finished"))  # the warm one read the finished speech
    assert cold.read_bytes() == warm.read_bytes()
    integrated, peak = ebur128(warm)
    assert abs(integrated - loudness.TARGET_LUFS) <= 0.5 and peak <= -1.0, (integrated, peak)
    with wave.open(str(warm)) as w:
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32767
    assert abs(loudness.true_peak_dbtp(samples) - peak) <= 0.3  # our 4x estimate against ffmpeg's
    assert loudness.true_peak_dbtp(samples) <= loudness.CEILING_DBTP + 0.1
