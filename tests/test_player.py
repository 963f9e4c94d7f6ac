"""The live player through a real ALSA client into a file sink: what is captured is what was heard.

Every player here is a separate process with its own ALSA configuration (tests/alsa_sink.py).  The
sink is not paced, so no test measures time: keys are sent when the player says it is held at a
known sample (the hold hook), and the captured samples are compared exactly with the rendering.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import numpy as np
import pytest

from alsa_sink import (
    HOLD_NOTE, LEFT_SCREEN, PtyPlayer, alsa_env, captured, player_command, render, session_plan, write_config,
)
from voiceguide.player import (
    BACK, NEXT, PAUSE, PREVIOUS_WITHIN_S, QUIT, INTERRUPT, UnknownStepError, back_target, decode_keys,
    start_sample,
)
from voiceguide.screen import find_stops

PLAN = session_plan()
AUDIO = render(PLAN)
SR = PLAN.sample_rate


def chapter(title: str) -> int:
    return next(c.start for c in PLAN.chapters if c.title == title)


LEFT, RIGHT, TILTS = chapter("Hip opener, left side"), chapter("Hip opener, right side"), chapter("Pelvic tilts")
HOLD_START = next(e.start for e in PLAN.events if e.role == "hold-start")
MID_HOLD = HOLD_START + 3 * SR  # inside the left side's hold, well past its chapter start
assert MID_HOLD - LEFT > PREVIOUS_WITHIN_S * SR


def run_piped(tmp_path: Path, *args: str, config: str | None = None) -> tuple[subprocess.CompletedProcess, Path]:
    env, capture = alsa_env(tmp_path, config=config)
    done = subprocess.run(player_command(*args), env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=60)
    return done, capture


# --------------------------------------------------------------------------- no keys


def test_captured_audio_equals_the_rendered_session(tmp_path):
    done, capture = run_piped(tmp_path)
    assert done.returncode == 0, done.stderr
    got = captured(capture)
    assert len(got) == PLAN.length  # the session lasts what the plan says
    assert np.array_equal(got, AUDIO)


def test_piped_output_prints_one_line_per_step(tmp_path):
    done, _ = run_piped(tmp_path)
    lines = done.stdout.splitlines()
    assert lines[0] == "Player test (1:03)"
    stops = find_stops(PLAN)
    assert len(lines) == 1 + len(stops)
    assert lines[1].startswith("0:00  Introduction")
    assert "step 2 of 4: Hip opener, left side (next: Hip opener, right side)" in lines[3]
    assert "step 2 of 4: Hip opener, right side (next: Rest)" in lines[4]
    assert lines[-1].endswith("Finish")
    assert "\x1b" not in done.stdout


@pytest.mark.parametrize("given, title", [("2", "Hip opener, left side"), ("slow", "Slow breaths"),
                                          ("PELVIC TILTS", "Pelvic tilts")])
def test_from_starts_at_the_steps_first_sample(tmp_path, given, title):
    done, capture = run_piped(tmp_path, "--from", given)
    assert done.returncode == 0, done.stderr
    assert np.array_equal(captured(capture), AUDIO[chapter(title):])
    first = done.stdout.splitlines()[1]  # the first step line is the step started at
    assert first.split("  ", 1)[1].startswith("step ") and title in first


def test_from_an_unnamed_step_starts_at_its_first_event():
    rest = next(e.start for e in PLAN.events if e.step == 2)
    assert start_sample(PLAN, "3") == rest


@pytest.mark.parametrize("given", ["9", "0", "knee", "xyz"])
def test_from_an_unknown_step_says_which_steps_there_are(tmp_path, given):
    with pytest.raises(UnknownStepError) as info:
        start_sample(PLAN, given)
    assert repr(given) in str(info.value)
    assert "1 Pelvic tilts, 2 Hip opener, 3 (rest), 4 Slow breaths" in str(info.value)


def test_from_an_unknown_step_exits_2_with_one_message(tmp_path):
    done, capture = run_piped(tmp_path, "--from", "knee")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "'knee'" in done.stderr and "Traceback" not in done.stderr
    assert captured(capture).size == 0


# --------------------------------------------------------------------------- no device


NO_CARD = 'pcm.!default { type hw; card "nosuchcard" }'
NO_DEFAULT = 'pcm.other { type hw; card 0 }'


def _raw_play_stderr(config_path: Path) -> str:
    """What simpleaudio alone prints with this configuration: proves the configuration is noisy."""
    code = "import numpy as np, simpleaudio as sa\ntry: sa.play_buffer(np.zeros(10, np.int16), 1, 2, 22050)\nexcept Exception: pass"
    env = {**os.environ, "ALSA_CONFIG_PATH": str(config_path)}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stderr


@pytest.mark.parametrize("config", [NO_CARD, NO_DEFAULT], ids=["no-card", "no-default-pcm"])
def test_no_sound_device_exits_3_with_one_clear_message(tmp_path, config):
    assert "ALSA lib" in _raw_play_stderr(write_config(tmp_path, config))  # alsa-lib does speak here
    done, _ = run_piped(tmp_path, config=config)
    assert done.returncode == 3
    assert done.stderr.count("\n") == 1, done.stderr
    assert "no sound device" in done.stderr and "voiceguide export" in done.stderr
    assert "ALSA lib" not in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""  # nothing was shown: the device is opened before the screen


@pytest.mark.skipif(Path("/proc/asound/cards").exists(), reason="this machine has sound cards: the system "
                    "configuration would really play")
def test_no_sound_device_with_the_systems_own_alsa_configuration(tmp_path):
    done, _ = run_piped(tmp_path, config=Path("/usr/share/alsa/alsa.conf").read_text())
    assert done.returncode == 3
    assert done.stderr.count("\n") == 1 and "ALSA lib" not in done.stderr, done.stderr


# --------------------------------------------------------------------------- keys on a terminal


@pytest.fixture
def held(tmp_path):
    """A player on a pseudo-terminal, held at MID_HOLD; yields (player, capture path, terminal settings)."""
    env, capture = alsa_env(tmp_path, holds=[MID_HOLD])
    player = PtyPlayer.start(player_command(), env)
    before = termios.tcgetattr(player.slave)
    try:
        player.expect(HOLD_NOTE)
        assert np.array_equal(captured(capture), AUDIO[:MID_HOLD])  # the device is closed at a hold
        yield player, capture, before
    finally:
        player.close()


def test_screen_shows_the_step_side_countdown_and_next(held):
    player, _, _ = held
    screen = bytes(player.output).decode()
    assert "Player test" in screen and "step 2 of 4" in screen and "LEFT SIDE" in screen
    assert "Hold: 0:03 left" in screen and "Next: Hip opener, right side" in screen
    assert "█" in screen  # the step name in block letters
    player.send(b"q")
    assert player.finish()[0] == 0


def test_pause_stops_the_sound_and_resume_continues_from_the_same_sample(held):
    player, capture, before = held
    player.send(b" ")
    player.expect("PAUSED")
    assert captured(capture).size == MID_HOLD  # nothing more was played while paused
    player.send(b" ")
    code, err = player.finish()
    assert code == 0 and err == ""
    assert np.array_equal(captured(capture), AUDIO)  # nothing lost, nothing repeated
    assert termios.tcgetattr(player.slave) == before


@pytest.mark.parametrize("key", [b"n", b"\x1b[C"], ids=["n", "right-arrow"])
def test_skip_plays_the_next_step_right_after_a_prefix_of_this_one(held, key):
    player, capture, before = held
    player.send(key)
    code, _ = player.finish()
    assert code == 0
    got = captured(capture)
    assert np.array_equal(got, np.concatenate([AUDIO[:MID_HOLD], AUDIO[RIGHT:]]))
    assert len(got) < len(AUDIO)  # the rest of the left side was not played
    assert termios.tcgetattr(player.slave) == before


@pytest.mark.parametrize("keys, target", [(b"p", "left"), (b"\x1b[D", "left"), (b"pp", "tilts")])
def test_back_restarts_the_step_and_twice_goes_to_the_one_before(held, keys, target):
    player, capture, _ = held
    player.send(keys)
    assert player.finish()[0] == 0
    start = {"left": LEFT, "tilts": TILTS}[target]
    assert np.array_equal(captured(capture), np.concatenate([AUDIO[:MID_HOLD], AUDIO[start:]]))


def test_skip_while_paused_stays_paused_at_the_next_step(held):
    player, capture, _ = held
    player.send(b" ")
    player.expect("PAUSED")
    player.send(b"n")
    player.expect("PAUSED", count=2)
    assert captured(capture).size == MID_HOLD
    player.send(b" ")
    assert player.finish()[0] == 0
    assert np.array_equal(captured(capture), np.concatenate([AUDIO[:MID_HOLD], AUDIO[RIGHT:]]))


@pytest.mark.parametrize("key", [b"q", b"\x1b"], ids=["q", "esc"])
def test_quit_stops_at_once_and_restores_the_terminal(held, key):
    player, capture, before = held
    player.send(key)
    code, err = player.finish()
    assert code == 0 and err == ""
    assert np.array_equal(captured(capture), AUDIO[:MID_HOLD])
    assert termios.tcgetattr(player.slave) == before
    player.expect(LEFT_SCREEN)  # cursor shown, main screen back


@pytest.mark.parametrize("how", ["ctrl-c", "sigint", "sigterm", "sighup"])
def test_interrupt_quits_cleanly_and_restores_the_terminal(held, how):
    player, capture, before = held
    assert termios.tcgetattr(player.slave) != before  # keys are being read: the terminal is in cbreak mode
    if how == "ctrl-c":
        player.send(b"\x03")  # typed on the terminal: the line discipline sends SIGINT
    else:
        player.proc.send_signal({"sigint": signal.SIGINT, "sigterm": signal.SIGTERM, "sighup": signal.SIGHUP}[how])
    code, err = player.finish()
    assert code == {"sigterm": 128 + signal.SIGTERM, "sighup": 128 + signal.SIGHUP}.get(how, 130)
    assert "Traceback" not in err
    assert termios.tcgetattr(player.slave) == before
    player.expect(LEFT_SCREEN)
    assert np.array_equal(captured(capture), AUDIO[:MID_HOLD])


# --------------------------------------------------------------------------- pieces


def test_keys_decode_to_actions():
    assert decode_keys(b" np") == [PAUSE, NEXT, BACK]
    assert decode_keys(b"\x1b[C\x1b[D\x1bOC") == [NEXT, BACK, NEXT]
    assert decode_keys(b"\x1b") == [QUIT]
    assert decode_keys(b"\x1bn") == [QUIT, NEXT]  # Esc, then n, read together
    assert decode_keys(b"\x1b[1;5C q") == [PAUSE, QUIT]  # Ctrl-right is not an arrow we know
    assert decode_keys(b"\x1b[A\x1b[Bx") == []  # up, down and other keys do nothing
    assert decode_keys(b"\x03") == [INTERRUPT]


def test_back_goes_to_the_previous_step_only_just_after_a_start():
    stops = find_stops(PLAN)
    i = next(k for k, s in enumerate(stops) if s.start == LEFT)
    assert back_target(stops, i, MID_HOLD, SR) == LEFT
    assert back_target(stops, i, LEFT, SR) == TILTS
    assert back_target(stops, i, LEFT + int(PREVIOUS_WITHIN_S * SR) - 1, SR) == TILTS
    assert back_target(stops, 0, 5, SR) == 0


def test_plays_while_it_mixes_on_a_paced_device(tmp_path):
    """The default preroll: sound starts after the first blocks; the rest is mixed into the buffer as it plays."""
    env, capture = alsa_env(tmp_path, pace_bytes_s=40 * 2 * SR)  # a device at 40x real time
    done = subprocess.run(player_command("--slow", "0.01"), env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)  # blocks of 2 s at 200x real time
    assert done.returncode == 0, done.stderr
    assert np.array_equal(captured(capture), AUDIO)


def _stopped(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"


def test_ctrl_z_gives_the_terminal_back_and_fg_takes_it_again(held):
    player, capture, before = held
    player.send(b"\x1a")  # Ctrl-Z typed on the terminal: SIGTSTP
    deadline = time.monotonic() + 30
    while not _stopped(player.proc.pid):
        assert time.monotonic() < deadline, "the player did not stop"
        time.sleep(0.01)
    assert termios.tcgetattr(player.slave) == before  # usable by the shell while stopped
    player.expect(LEFT_SCREEN)
    player.proc.send_signal(signal.SIGCONT)
    player.expect(r"\x1b\[\?1049h", count=2)  # the screen is back
    assert termios.tcgetattr(player.slave) != before  # and keys are read again
    player.send(b"q")
    assert player.finish()[0] == 0
    assert termios.tcgetattr(player.slave) == before
    assert np.array_equal(captured(capture), AUDIO[:MID_HOLD])
