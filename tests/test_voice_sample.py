"""`voiceguide voices --sample`: one sentence in each voice, played live, or into an MP3 with a chapter per voice."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
from alsa_sink import alsa_env, captured, kill_pacer, write_config
from helpers import run_voiceguide
from listener import recognise, words

from voiceguide import session
from voiceguide.audio.mix import Mix
from voiceguide.export import writer as export
from voiceguide.timeline.plan import SAMPLE_RATE

NO_CARD = 'pcm.!default { type hw; card "nosuchcard" }'
DISTRACTORS = ["Lie on your back and bend your knees.", "Breathe in slowly through your nose.", "Turn to the left."]


def test_with_a_sound_device_the_sample_is_played_as_rendered_and_heard(tmp_path):
    env, capture = alsa_env(tmp_path)
    result = run_voiceguide("voices", "--sample", "hibari", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["0:00.5  hibari:heart"] and not (tmp_path / "voices-sample.mp3").exists()
    plan, clips = session.voice_sample("hibari", notify=print)  # the same cache: the same speech
    assert np.array_equal(captured(capture), np.concatenate(list(export.pcm_blocks(Mix(plan, clips, session._Clips())))))
    sentence = session.sample_sentence()
    heard = recognise(captured(capture).astype(np.float32) / 32768, SAMPLE_RATE, [sentence, *DISTRACTORS])
    assert heard == " ".join(words(sentence))


def test_without_a_sound_device_every_voice_goes_into_an_mp3_with_a_chapter_each(tmp_path):
    env = {"ALSA_CONFIG_PATH": str(write_config(tmp_path, NO_CARD))}
    result = run_voiceguide("voices", "--sample", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    target = tmp_path / "voices-sample.mp3"
    assert result.stderr.startswith("voiceguide: no sound device to play on") and "writing voices-sample.mp3" in result.stderr
    assert result.stdout.splitlines()[-1] == f"wrote {target}"
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(target)],
                                      capture_output=True, text=True, check=True).stdout)
    titles = [c["tags"]["title"] for c in probe["chapters"]]
    assert titles == ["hibari:heart", "piper:en_US-joe-medium", "system:gmw/en"]  # the default first; no test tones
    pcm = subprocess.run(["ffmpeg", "-v", "error", "-i", str(target), "-f", "f32le", "-ac", "1", "-ar", "16000", "-"],
                         capture_output=True, check=True).stdout
    audio = np.frombuffer(pcm, dtype="<f4")
    sentence = session.sample_sentence()
    for chapter in probe["chapters"][:2]:  # the natural voices are heard saying it (espeak-ng is too rough to ask)
        cut = audio[int(float(chapter["start_time"]) * 16000) : int(float(chapter["end_time"]) * 16000)]
        assert recognise(cut, 16000, [sentence, *DISTRACTORS], sequence=False) == " ".join(words(sentence)), chapter


def test_a_sample_can_be_written_where_asked_at_a_rate(tmp_path):
    slow, fast = tmp_path / "slow.mp3", tmp_path / "fast.mp3"
    for target, rate in ((slow, "0.8"), (fast, "1.3")):
        result = run_voiceguide("voices", "--sample", "piper", "--rate", rate, "-o", str(target))
        assert result.returncode == 0 and result.stdout.splitlines()[-1] == f"wrote {target}", result.stderr
    def speech_s(path) -> float:  # the file less its lead-in and the quiet after the voice
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                               capture_output=True, text=True, check=True).stdout
        return float(probe) - session.SAMPLE_GAP_S - 0.5

    # Piper scales each phoneme's length, not the whole sentence: 0.8 against 1.3 measures 1.25-1.35x
    # longer here (1.625x would be exact), and each synthesis varies by a few per cent. A rate that
    # was not applied gives 1.0x.
    assert speech_s(slow) > 1.15 * speech_s(fast)


def test_a_voice_that_cannot_be_sampled_is_one_clear_error(tmp_path):
    result = run_voiceguide("voices", "--sample", "nosuch", "-o", str(tmp_path / "x.mp3"))
    assert result.returncode == 1 and "unknown voice engine 'nosuch'" in result.stderr
    result = run_voiceguide("voices", "--sample", "hibari:emma", "-o", str(tmp_path / "x.mp3"))
    assert result.returncode == 1 and "no hibari voice 'emma' in this installation" in result.stderr
    assert not (tmp_path / "x.mp3").exists()


def test_a_device_that_stops_mid_sample_is_reported_with_exit_code_4(tmp_path):
    """A headset that drops out during `voices --sample`: one line saying so, not a silent success."""
    env, capture = alsa_env(tmp_path, pace_bytes_s=2 * SAMPLE_RATE)  # a device that takes sound in real time
    process = subprocess.Popen([sys.executable, "-m", "voiceguide", "voices", "--sample", "test", "--rate", "0.5"],
                               env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while captured(capture).size < SAMPLE_RATE // 4:  # a quarter of a second heard, of 7.7 s
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.02)
        kill_pacer(process.pid)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 4, err
    assert err.startswith("voiceguide: the sound device stopped (") and " s into the voice sample; " in err, err
    assert err.count("\n") == 1 and "Traceback" not in err and "ALSA lib" not in err
