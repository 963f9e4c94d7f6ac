"""Issue 20, fault 4: a bed file (or a replacement cue sound) over its limit is refused from its length,
quickly and in little memory, never decoded whole first; even ``plan``, which never mixes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from voiceguide.audio import bed, decode, sounds
from voiceguide.errors import AudioError

SR = 24000


@pytest.fixture(scope="module")
def minute_mp3(tmp_path_factory) -> bytes:
    """A minute of a tone as a 44.1 kHz stereo MP3 at 32 kbps with no Xing header: made once (an ffmpeg
    encode, 0.4 s of CPU), for each test to repeat into a long file of its own (``long_mp3``)."""
    path = tmp_path_factory.mktemp("minute") / "minute.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=220:sample_rate=44100:duration=60",
                    "-ac", "2", "-b:a", "32k", "-write_xing", "0", str(path)], check=True)
    return path.read_bytes()


def long_mp3(path: Path, minutes: int, minute: bytes) -> Path:
    """``minutes`` of a tone, ``minute`` (the fixture ``minute_mp3``) repeated (240 KB a minute; with no Xing
    header, ffprobe tells the length from the size).  Decoded whole, two hours are 1.3 GB of 16-bit
    samples before any conversion."""
    path.write_bytes(minute * minutes)
    return path


def run_measured(code: str, cwd: Path) -> tuple[subprocess.CompletedProcess, float, float]:
    """Python ``code`` in a fresh process: its result, wall time and peak memory (MB, max RSS)."""
    wrapper = ("import resource, subprocess, sys, time\n"
               "t = time.monotonic()\n"
               f"done = subprocess.run([sys.executable, '-c', {code!r}], capture_output=True, text=True)\n"
               "t = time.monotonic() - t\n"
               "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
               "print(done.returncode, f'{t:.3f}', f'{rss:.1f}')\n"
               "sys.stderr.write(done.stderr)\n")
    result = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, cwd=cwd, timeout=300)
    code_, seconds, mb = result.stdout.split()
    return subprocess.CompletedProcess(code, int(code_), "", result.stderr), float(seconds), float(mb)


def test_plan_with_a_two_hour_bed_file_is_refused_quickly_in_little_memory(tmp_path, minute_mp3):
    long_mp3(tmp_path / "long.mp3", 120, minute_mp3)
    (tmp_path / "s.yaml").write_text("title: T\ncaution: false\nbed: long.mp3\nsteps: [{say: x}]\n")
    cli = f"import sys; from voiceguide import cli; sys.exit(cli.main(['plan', {str(tmp_path / 's.yaml')!r}, '--voice', 'test']))"
    done, seconds, peak_mb = run_measured(cli, tmp_path)
    assert seconds < 10, seconds  # decoded whole: 91 s on this machine (QA: 25-30 s)
    assert peak_mb < 400, peak_mb  # decoded whole: 3.8 GB
    assert done.returncode == 1
    assert done.stderr.strip() == (f"{tmp_path / 's.yaml'}:3:1: bed file {str(tmp_path / 'long.mp3')!r} lasts 2.0 "
                                   "hours; a bed file may last at most 10 minutes (it is looped): trim it")


def test_a_long_file_whose_length_the_probe_cannot_tell_is_decoded_only_to_the_limit(tmp_path, minute_mp3):
    path = long_mp3(tmp_path / "untold.mp3", 120, minute_mp3)
    code = (f"from voiceguide.audio import bed, decode; decode.probe_s = lambda *a, **k: None; "
            f"bed.FileBed({str(path)!r}, {SR})")
    done, seconds, peak_mb = run_measured(code, tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().endswith(f"AudioError: bed file {str(path)!r} lasts more than 10 minutes; a bed file "
                                        "may last at most 10 minutes (it is looped): trim it")
    assert seconds < 20, seconds
    assert peak_mb < 400, peak_mb  # 10.5 minutes at 24 kHz is 30 MB of 16-bit samples


def test_a_replacement_cue_sound_over_its_limit_is_refused_from_its_length(tmp_path, monkeypatch, minute_mp3):
    path = long_mp3(tmp_path / "chime.mp3", 120, minute_mp3)
    decoded: list[object] = []
    monkeypatch.setattr(decode.subprocess, "run", lambda *a, **k: decoded.append(a[0]) or run(*a, **k))
    started = time.monotonic()
    with pytest.raises(AudioError, match=r"sound file .*chime.mp3' lasts 2.0 hours; cue sounds may last at most 30 s"):
        sounds.SoundBank(SR, {"chime": str(path)}).audio("chime")
    assert time.monotonic() - started < 5
    assert [c[0].rsplit("/", 1)[-1] for c in decoded] == ["ffprobe"]  # never decoded


def test_a_file_just_within_the_limit_with_quiet_ends_still_loads(tmp_path, monkeypatch):
    """The limit applies after the quiet ends are trimmed: decoding goes a little past it for them."""
    path = tmp_path / "bed.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono:d=3", "-f", "lavfi",
                    "-i", "sine=frequency=220:sample_rate=8000:duration=20", "-filter_complex",
                    "[0][1][0]concat=n=3:v=0:a=1", str(path)], check=True)
    monkeypatch.setattr(bed, "MAX_FILE_S", 20.5)  # 26 s in the file, 20 s of sound
    loaded = bed.FileBed(path, SR)
    assert len(loaded.table) == pytest.approx((20 - bed.LOOP_CROSSFADE_S) * SR, abs=0.05 * SR)


run = subprocess.run
