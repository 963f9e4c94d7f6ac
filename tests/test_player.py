"""The live player through a real ALSA client into a file sink: what is captured is what was heard.

Every player here is the real command line (``voiceguide play --voice test``) in a process with its
own ALSA configuration (tests/alsa_sink.py).  The sink is not paced, so no test measures time: keys
are sent when the player says it is held at a known sample (the hold hook), and the captured
samples are compared exactly with export's plan, rendered at the levels the player predicts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import termios
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from alsa_sink import (
    HOLD_NOTE,
    LEFT_SCREEN,
    PtyPlayer,
    alsa_env,
    captured,
    kill_pacer,
    player_command,
    write_config,
)
from test_loudness import ebur128

from voiceguide.audio.dsp import to_pcm16
from voiceguide.audio.mix import mastered_blocks
from voiceguide.play.keys import Action, decode_keys
from voiceguide.play.live import LivePlan
from voiceguide.play.player import (
    PREVIOUS_WITHIN_S,
    UnknownStepError,
    back_target,
    start_sample,
    step_index,
)
from voiceguide.play.resume import Places, state_dir
from voiceguide.script.library import find_routine
from voiceguide.script.parse import load_routine
from voiceguide.script.settings import Overrides
from voiceguide.session import prepare
from voiceguide.timeline.guide import find_stops
from voiceguide.timeline.plan import SAMPLE_RATE, Plan
from voiceguide.voice.cache import SUFFIX

ROUTINE = """\
title: Player test
caution: false
intro: Stand up.
outro: Done.
steps:
  - name: Pelvic tilts
    setup: Lie down.
    reps: 3
    cycle:
      - {say: Tilt., seconds: 2}
      - {say: Back., seconds: 2}
  - name: Hip opener
    sides: [left, right]
    hold: 6
    countdown: 0
  - rest: 4
  - name: Slow breaths
    breaths: 2
    inhale: 2
    exhale: 3
"""


def heard(session, start: int = 0) -> np.ndarray:
    """What playing from ``start`` should sound like: export's plan, mixed at the levels the player predicts."""
    levels = LivePlan(session.routine, session.speech, session.sounds, session.settings).levels(start)
    return np.concatenate([to_pcm16(b) for b in mastered_blocks(session, levels)])


@dataclass(frozen=True)
class Live:
    """The routine on disk, export's plan of it and the samples playing it should give (int16)."""

    path: Path
    plan: Plan
    audio: np.ndarray
    session: object

    def chapter(self, title: str) -> int:
        return next(c.start for c in self.plan.chapters if c.title == title)

    @property
    def mid_hold(self) -> int:
        """Inside the left side's hold, well past its chapter start."""
        hold_start = next(e.start for e in self.plan.events if e.role == "hold-start")
        return hold_start + 3 * self.plan.sample_rate


@pytest.fixture(scope="session")
def live(shared_speech_cache, tmp_path_factory) -> Live:
    path = tmp_path_factory.mktemp("routine") / "player-test.yaml"
    path.write_text(ROUTINE)
    session = prepare(str(path), Overrides(voice="test"))
    result = Live(path, session.plan, heard(session), session)
    assert result.mid_hold - result.chapter("Hip opener, left side") > PREVIOUS_WITHIN_S * session.plan.sample_rate
    return result


def run_piped(live: Live, tmp_path: Path, *args: str, config: str | None = None):
    env, capture = alsa_env(tmp_path, config=config)
    done = subprocess.run(player_command(live.path, *args), env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)
    return done, capture


# --------------------------------------------------------------------------- no keys


def test_captured_audio_equals_the_rendered_session_and_piped_output_is_one_line_per_step(live, tmp_path):
    done, capture = run_piped(live, tmp_path)
    assert done.returncode == 0, done.stderr
    got = captured(capture)
    assert len(got) == live.plan.length  # the session lasts what the plan says
    assert np.array_equal(got, live.audio)
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Player test (")
    assert len(lines) == 1 + len(find_stops(live.plan))
    assert lines[1].startswith("0:00  Introduction")
    assert lines[3].endswith("step 2 of 4: Hip opener, left side (next: Hip opener, right side)")
    assert lines[4].endswith("step 2 of 4: Hip opener, right side (next: Rest)")
    assert lines[-1].endswith("Finish")
    assert "\x1b" not in done.stdout


def test_what_plays_is_as_loud_as_what_export_writes(live, tmp_path):
    """Export measures the whole session first; the player predicts its levels from one utterance and lands
    near (this routine's many short, peaky cues make it the hardest case: 1.6 LU under), peaks in bounds."""
    wav = tmp_path / "session.wav"
    exported = subprocess.run([sys.executable, "-m", "voiceguide", "export", str(live.path), "--voice", "piper",
                               "-o", str(wav)], capture_output=True, text=True, timeout=300)
    assert exported.returncode == 0, exported.stderr
    env, capture = alsa_env(tmp_path)
    done = subprocess.run([sys.executable, "-m", "voiceguide", "play", str(live.path), "--voice", "piper"], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with wave.open(str(wav)) as w:
        written = w.getnframes()
    played = tmp_path / "played.wav"
    with wave.open(str(played), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(live.plan.sample_rate)
        w.writeframes(captured(capture).tobytes())
    assert len(captured(capture)) == written  # the same plan, to the sample
    (export_lufs, _), (played_lufs, played_peak) = ebur128(wav), ebur128(played)
    assert abs(export_lufs + 16) < 0.5 and abs(played_lufs - export_lufs) < 2.0
    assert played_peak <= -1.0


@pytest.mark.parametrize("given, title", [("2", "Hip opener, left side"), ("SLOW", "Slow breaths")])
def test_from_starts_at_the_steps_first_sample(live, tmp_path, given, title):
    done, capture = run_piped(live, tmp_path, "--from", given)
    assert done.returncode == 0, done.stderr
    start = live.chapter(title)
    assert np.array_equal(captured(capture), heard(live.session, start)[start:])
    first = done.stdout.splitlines()[1]  # the first step line is the step started at
    assert first.split("  ", 1)[1].startswith("step ") and title in first


def test_from_a_name_or_number_in_the_plan(live):
    rest = next(e.start for e in live.plan.events if e.step == 2)
    assert start_sample(live.plan, "3") == rest  # an unnamed step: its first event
    assert start_sample(live.plan, "pelvic tilts") == start_sample(live.plan, "1") == live.chapter("Pelvic tilts")
    assert start_sample(live.plan, "opener") == live.chapter("Hip opener, left side")  # a part of a name
    assert start_sample(live.plan, None) == 0


@pytest.mark.parametrize("given", ["9", "0", "knee"])
def test_from_an_unknown_step_says_which_steps_there_are(live, given):
    with pytest.raises(UnknownStepError) as info:
        start_sample(live.plan, given)
    assert repr(given) in str(info.value)
    assert "1 Pelvic tilts, 2 Hip opener, 3 (rest), 4 Slow breaths" in str(info.value)


def test_from_an_ambiguous_name_lists_only_the_steps_it_matches():
    routine = load_routine(find_routine("lower-back-and-hips"))
    with pytest.raises(UnknownStepError) as info:
        step_index(routine, "hip")
    assert str(info.value) == ("--from 'hip' matches several steps (9 Hip flexor opener, 13 Hip hinges); give more "
                               "of the name, or the number")


def test_from_an_unknown_step_exits_2_with_one_message(live, tmp_path):
    done, capture = run_piped(live, tmp_path, "--from", "knee")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "'knee'" in done.stderr and "Traceback" not in done.stderr
    assert captured(capture).size == 0


STREAMED = """\
title: Streaming test
caution: false
intro: Stand tall, and breathe easy.
steps:
  - name: Shoulder rolls
    setup: Roll your shoulders up, back and down, slowly.
    reps: 2
    cycle:
      - {say: Up and back., seconds: 3}
      - {say: Down., seconds: 2}
outro: That is all.
"""


def assert_played_in_real_time(got: np.ndarray, want: np.ndarray) -> None:
    """``got`` is ``want`` sample for sample through its last sound, then quiet.

    The paced sink is a Python process keeping to the wall clock; on a loaded machine it is starved
    and falls behind, while the player ends the play by the wall clock at the session's length (as
    a sound card's own clock would agree).  Seen with six busy processes on two cores: the last
    0.16 s of the closing quiet had not reached the sink.  So the closing quiet may be short; every
    sound, and every quiet between sounds, must be there exactly.
    """
    last_sound = int(np.flatnonzero(want)[-1]) + 1
    assert len(got) >= last_sound, f"the capture stops {(last_sound - len(got)) / SAMPLE_RATE:.2f} s before the last sound"
    shared = min(len(got), len(want))
    assert np.array_equal(got[:shared], want[:shared])
    assert not got[len(want):].any()  # a real device runs on a moment after the end: quiet


def test_a_first_run_speaks_while_piper_makes_the_rest_and_plays_exports_session(tmp_path):
    """Cold cache, a device paced at real time: playback starts on the first sentence while Piper makes
    the others, and what is heard is export's plan of the finished speech, sample for sample."""
    path = tmp_path / "streamed.yaml"
    path.write_text(STREAMED)
    cache = tmp_path / "cold-cache"
    env, capture = alsa_env(tmp_path, pace_bytes_s=2 * SAMPLE_RATE)
    env["VOICEGUIDE_CACHE"] = str(cache)
    done = subprocess.run([sys.executable, "-m", "voiceguide", "play", str(path), "--voice", "piper"], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    session = prepare(str(path), Overrides(voice="piper"), cache_dir=cache)  # the speech the player made
    assert_played_in_real_time(captured(capture), heard(session))


def test_a_skip_far_ahead_while_piper_is_still_speaking_plays_on_from_the_next_step(tmp_path):
    """Cold cache, real-time device, held one second in (inside the caution): n goes to the first
    step, 18 s on, further than is mixed ahead while speech is being made."""
    path = tmp_path / "streamed.yaml"
    path.write_text(STREAMED.replace("caution: false", "caution: true"))
    cache = tmp_path / "cold-cache"
    hold = SAMPLE_RATE
    env, capture = alsa_env(tmp_path, holds=[hold], pace_bytes_s=2 * SAMPLE_RATE)
    env["VOICEGUIDE_CACHE"] = str(cache)
    player = PtyPlayer.start([sys.executable, "-m", "voiceguide", "play", str(path), "--voice", "piper"], env)
    try:
        player.expect(HOLD_NOTE)
        player.send(b"n")
        assert player.finish() == (0, "")
    finally:
        player.close()
    session = prepare(str(path), Overrides(voice="piper"), cache_dir=cache)
    first_step = next(c.start for c in session.plan.chapters if c.title == "Shoulder rolls")
    assert first_step > hold + 10 * SAMPLE_RATE  # beyond what is mixed ahead of playback
    audio = heard(session)
    want = np.concatenate([audio[:hold], audio[first_step:]])
    assert_played_in_real_time(captured(capture), want)


# --------------------------------------------------------------------------- no device


NO_CARD = 'pcm.!default { type hw; card "nosuchcard" }'
NO_DEFAULT = 'pcm.other { type hw; card 0 }'


def _raw_play_stderr(config_path: Path) -> str:
    """What simpleaudio alone prints with this configuration: proves the configuration is noisy."""
    code = "import numpy as np, simpleaudio as sa\ntry: sa.play_buffer(np.zeros(10, np.int16), 1, 2, 22050)\nexcept Exception: pass"
    env = {**os.environ, "ALSA_CONFIG_PATH": str(config_path)}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stderr


@pytest.mark.parametrize("config", [NO_CARD, NO_DEFAULT], ids=["no-card", "no-default-pcm"])
def test_no_sound_device_exits_3_with_one_clear_message(live, tmp_path, config):
    assert "ALSA lib" in _raw_play_stderr(write_config(tmp_path, config))  # alsa-lib does speak here
    done, _ = run_piped(live, tmp_path, config=config)
    assert done.returncode == 3
    assert done.stderr.count("\n") == 1, done.stderr
    assert "no sound device" in done.stderr and "voiceguide export" in done.stderr
    assert "ALSA lib" not in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""  # nothing was shown: the device is opened before the screen


def test_no_sound_device_is_found_before_any_speech_is_made(tmp_path):
    """A first run with --from far in: the voice would speak for many seconds before the first play."""
    cache = tmp_path / "cold-cache"
    env, _ = alsa_env(tmp_path, config=NO_CARD)
    env["VOICEGUIDE_CACHE"] = str(cache)
    done = subprocess.run([sys.executable, "-m", "voiceguide", "play", "lower-back-and-hips", "--from", "Glute bridge"],
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3 and "no sound device" in done.stderr, done.stderr
    assert not cache.exists() or not any(cache.rglob(f"*{SUFFIX}"))  # Piper never spoke


@pytest.mark.skipif(Path("/proc/asound/cards").exists(), reason="this machine has sound cards: the system "
                    "configuration would really play")
def test_no_sound_device_with_the_systems_own_alsa_configuration(live, tmp_path):
    done, _ = run_piped(live, tmp_path, config=Path("/usr/share/alsa/alsa.conf").read_text())
    assert done.returncode == 3
    assert done.stderr.count("\n") == 1 and "ALSA lib" not in done.stderr, done.stderr


# --------------------------------------------------------------------------- keys on a terminal


@dataclass
class Held:
    player: PtyPlayer
    capture: Path
    before: list
    """The terminal's settings before the player started."""
    live: Live

    def captured(self) -> np.ndarray:
        return captured(self.capture)

    def then(self, start: int) -> np.ndarray:
        """What should be heard: the session up to the hold, then from ``start``."""
        return np.concatenate([self.live.audio[: self.live.mid_hold], self.live.audio[start:]])

    def restored(self) -> bool:
        return termios.tcgetattr(self.player.slave) == self.before


@pytest.fixture
def held(live, tmp_path):
    """A player on a pseudo-terminal, held at ``live.mid_hold`` waiting for keys."""
    env, capture = alsa_env(tmp_path, holds=[live.mid_hold])
    player = PtyPlayer.start(player_command(live.path), env)
    try:
        h = Held(player, capture, termios.tcgetattr(player.slave), live)
        player.expect(HOLD_NOTE)
        assert np.array_equal(h.captured(), live.audio[: live.mid_hold])  # the device is closed at a hold
        yield h
    finally:
        player.close()


def test_pause_stops_the_sound_and_resume_continues_from_the_same_sample(held):
    screen = bytes(held.player.output).decode()  # as drawn at the hold, in the left side's hold
    assert "Player test" in screen and "step 2 of 4" in screen and "LEFT SIDE" in screen
    assert "Hold: 0:03 left" in screen and "Next: Hip opener, right side" in screen
    assert "█" in screen  # the step name in block letters
    held.player.send(b" ")
    held.player.expect("PAUSED")
    assert held.captured().size == held.live.mid_hold  # nothing more was played while paused
    held.player.send(b" ")
    assert held.player.finish() == (0, "")
    assert np.array_equal(held.captured(), held.live.audio)  # nothing lost, nothing repeated
    assert held.restored()


def test_skip_plays_the_next_step_right_after_a_prefix_of_this_one(held):
    held.player.send(b"\x1b[C")  # the right arrow; n in the paused test below
    assert held.player.finish()[0] == 0
    assert np.array_equal(held.captured(), held.then(held.live.chapter("Hip opener, right side")))
    assert held.captured().size < held.live.audio.size  # the rest of the left side was not played
    assert held.restored()


@pytest.mark.parametrize("keys, target", [(b"p", "Hip opener, left side"), (b"\x1b[D\x1b[D", "Pelvic tilts")])
def test_back_restarts_the_step_and_twice_goes_to_the_one_before(held, keys, target):
    held.player.send(keys)
    assert held.player.finish()[0] == 0
    assert np.array_equal(held.captured(), held.then(held.live.chapter(target)))


def test_skip_while_paused_stays_paused_at_the_next_step(held):
    held.player.send(b" ")
    held.player.expect("PAUSED")
    held.player.send(b"n")
    held.player.expect("PAUSED", count=2)
    assert held.captured().size == held.live.mid_hold
    held.player.send(b" ")
    assert held.player.finish()[0] == 0
    assert np.array_equal(held.captured(), held.then(held.live.chapter("Hip opener, right side")))


def test_quit_stops_at_once_and_restores_the_terminal(held):
    held.player.send(b"q")  # Esc and the other keys: test_keys_decode_to_actions
    code, err = held.player.finish()
    assert code == 0
    assert err == (f"voiceguide: stopped at 0:{held.live.mid_hold / SAMPLE_RATE:04.1f} in step 2 of 4 (Hip opener, "
                   f"left side); go on from there with: voiceguide play {held.live.path} --voice test --resume\n")
    assert np.array_equal(held.captured(), held.live.audio[: held.live.mid_hold])
    assert held.restored()
    held.player.expect(LEFT_SCREEN)  # cursor shown, main screen back


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_interrupt_quits_cleanly_and_restores_the_terminal(held, how):
    assert not held.restored()  # keys are being read: the terminal is in cbreak mode
    if how == "ctrl-c":
        held.player.send(b"\x03")  # typed on the terminal: the line discipline sends SIGINT
    else:
        held.player.proc.send_signal(signal.SIGTERM)  # SIGHUP takes the same way out
    code, err = held.player.finish()
    assert code == (130 if how == "ctrl-c" else 128 + signal.SIGTERM)
    assert "Traceback" not in err
    assert held.restored()
    held.player.expect(LEFT_SCREEN)
    assert np.array_equal(held.captured(), held.live.audio[: held.live.mid_hold])


def _stopped(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"


def test_ctrl_z_gives_the_terminal_back_and_fg_takes_it_again(held):
    held.player.send(b"\x1a")  # Ctrl-Z typed on the terminal: SIGTSTP
    deadline = time.monotonic() + 30
    while not _stopped(held.player.proc.pid):
        assert time.monotonic() < deadline, "the player did not stop"
        time.sleep(0.01)
    assert held.restored()  # usable by the shell while stopped
    held.player.expect(LEFT_SCREEN)
    held.player.proc.send_signal(signal.SIGCONT)
    held.player.expect(r"\x1b\[\?1049h", count=2)  # the screen is back
    assert not held.restored()  # and keys are read again
    held.player.send(b"q")
    assert held.player.finish()[0] == 0
    assert held.restored()
    assert np.array_equal(held.captured(), held.live.audio[: held.live.mid_hold])


# --------------------------------------------------------------------------- pieces


def test_keys_decode_to_actions():
    assert decode_keys(b" np") == [Action.PAUSE, Action.NEXT, Action.BACK]
    assert decode_keys(b"\x1b[C\x1b[D\x1bOC") == [Action.NEXT, Action.BACK, Action.NEXT]
    assert decode_keys(b"\x1b") == [Action.QUIT]
    assert decode_keys(b"\x1bn") == [Action.QUIT, Action.NEXT]  # Esc, then n, read together
    assert decode_keys(b"\x1b[1;5C q") == [Action.PAUSE, Action.QUIT]  # Ctrl-right is not an arrow we know
    assert decode_keys(b"\x1b[A\x1b[Bx") == []  # up, down and other keys do nothing
    assert decode_keys(b"\x03") == [Action.INTERRUPT]


def test_back_goes_to_the_previous_step_only_just_after_a_start(live):
    stops, sr = find_stops(live.plan), live.plan.sample_rate
    left, tilts = live.chapter("Hip opener, left side"), live.chapter("Pelvic tilts")
    i = next(k for k, s in enumerate(stops) if s.start == left)
    assert back_target(stops, i, live.mid_hold, sr) == left
    assert back_target(stops, i, left, sr) == tilts
    assert back_target(stops, i, left + int(PREVIOUS_WITHIN_S * sr) - 1, sr) == tilts
    assert back_target(stops, 0, 5, sr) == 0


def test_play_in_an_ascii_locale_prints_what_the_terminal_can_show(tmp_path):
    from test_cli import ASCII_LOCALE, UNICODE_TITLED

    script = tmp_path / "matin.yaml"
    script.write_text(UNICODE_TITLED, encoding="utf-8")
    env, capture = alsa_env(tmp_path)
    done = subprocess.run(player_command(script), env={**env, **ASCII_LOCALE}, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert done.stdout.startswith("?tirements du matin ? (")
    assert "step 1 of 1: ?paules ? roul?es" in done.stdout
    assert captured(capture).size > 0


# --------------------------------------------------------------------------- resume


def resume_command(err: str) -> str:
    assert err.count("\n") == 1, err
    return err.split("go on from there with: ", 1)[1].strip()


@pytest.mark.parametrize("key", [b"q", b"\x03"], ids=["q", "ctrl-c"])
def test_resume_starts_at_the_step_that_was_playing_and_a_play_to_the_end_forgets_it(held, tmp_path, key):
    held.player.send(key)
    code, err = held.player.finish()
    assert code == (0 if key == b"q" else 130)
    assert " in step 2 of 4 (Hip opener, left side); " in err
    assert resume_command(err) == f"voiceguide play {held.live.path} --voice test --resume"
    done, capture = run_piped(held.live, tmp_path, "--voice", "test", "--resume")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    start = held.live.chapter("Hip opener, left side")
    assert np.array_equal(captured(capture), heard(held.live.session, start)[start:])
    again, capture = run_piped(held.live, tmp_path, "--resume")  # that play reached the end
    assert again.returncode == 0 and "nothing to resume" in again.stderr
    assert np.array_equal(captured(capture), held.live.audio)


def left_in(path: Path, tmp_path: Path, step: int) -> None:
    """As if a play of the script at ``path`` had been stopped in ``step`` (an index)."""
    places = Places(tmp_path / "state" / "voiceguide")  # where alsa_env's players keep them
    places.remember(load_routine(path), step, "quit")


def test_resume_after_the_script_changed_finds_the_step_by_name_or_says_it_cannot(live, tmp_path):
    path = tmp_path / "changing.yaml"
    path.write_text(ROUTINE)
    left_in(path, tmp_path, 3)  # Slow breaths
    path.write_text(ROUTINE.replace("  - rest: 4\n", "  - rest: 4\n  - rest: 5\n"))  # a step before it
    done, capture = run_piped(Live(path, live.plan, live.audio, live.session), tmp_path, "--resume")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ("voiceguide: the script changed since it was stopped; resuming at step 'Slow breaths' "
                           "(now step 5)\n")
    assert done.stdout.splitlines()[1].endswith("step 5 of 5: Slow breaths (next: Finish)"), done.stdout
    left_in(path, tmp_path, 1)  # Hip opener, then renamed
    path.write_text(ROUTINE.replace("Hip opener", "Hip circles"))
    done, capture = run_piped(Live(path, live.plan, live.audio, live.session), tmp_path, "--resume")
    assert done.returncode == 1 and captured(capture).size == 0
    assert done.stderr == ("voiceguide: cannot resume 'Player test': the script changed since it was stopped, and "
                           "has no step named 'Hip opener' any more (its steps: 1 Pelvic tilts, 2 Hip circles, "
                           "4 Slow breaths); choose where to start with --from\n")


def test_resume_and_from_together_is_a_usage_error(live, tmp_path):
    done, _ = run_piped(live, tmp_path, "--resume", "--from", "2")
    assert done.returncode == 2 and "not allowed with" in done.stderr


def test_places_are_kept_in_the_users_state_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert state_dir() == tmp_path / "xdg" / "voiceguide"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert state_dir() == tmp_path / "home" / ".local" / "state" / "voiceguide"


# --------------------------------------------------------------------------- a device that stops


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "piped"])
def test_a_device_that_stops_mid_play_is_said_once_and_resume_starts_at_that_step(live, tmp_path, terminal):
    """The paced sink's reader killed inside the first step: what a headset dropping out looks like."""
    env, capture = alsa_env(tmp_path, pace_bytes_s=2 * SAMPLE_RATE)
    tilts = live.chapter("Pelvic tilts")
    args = player_command(live.path)
    if terminal:
        player = PtyPlayer.start(args, env)
        before, process = termios.tcgetattr(player.slave), player.proc
    else:
        process = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while captured(capture).size < tilts + SAMPLE_RATE:  # a second into the step
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        kill_pacer(process.pid)
        if terminal:
            code, err = player.finish()
            assert termios.tcgetattr(player.slave) == before  # the terminal is given back
            player.expect(LEFT_SCREEN)
        else:
            out, err = process.communicate(timeout=60)
            code = process.returncode
            assert out.splitlines()[-1].endswith("step 1 of 4: Pelvic tilts (next: Hip opener, left side)"), out
    finally:
        if terminal:
            player.close()
        elif process.poll() is None:
            process.kill()
    assert code == 4
    assert "voiceguide: the sound device stopped (" in err and " in step 1 of 4 (Pelvic tilts); " in err
    assert resume_command(err) == f"voiceguide play {live.path} --voice test --resume"
    assert "ALSA lib" not in err and "Traceback" not in err
    if terminal:
        return
    done, capture = run_piped(live, tmp_path, "--voice", "test", "--resume")  # the device is back
    assert done.returncode == 0, done.stderr
    first = captured(capture)[: 2 * SAMPLE_RATE]
    assert np.array_equal(first, heard(live.session, tilts)[tilts : tilts + 2 * SAMPLE_RATE])
