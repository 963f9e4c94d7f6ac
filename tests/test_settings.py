"""A session's settings, resolved once: the script, then each layer of overrides, then the defaults;
the command line read into one layer and written back from it, so a resume hint gives back the session."""

from __future__ import annotations

import dataclasses
import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from alsa_sink import alsa_env, captured, player_command, quit_at_hold

from voiceguide import cli
from voiceguide.play.player import HOLD_ENV
from voiceguide.script.parse import parse_text
from voiceguide.script.settings import (
    DEFAULT_BITRATE_KBPS,
    DEFAULT_CUE_LEVEL_LU,
    DEFAULT_LEAD_IN_S,
    SAMPLE_RATE,
    Overrides,
    Settings,
    resolve,
)
from voiceguide.session import prepare

SCRIPT = """\
title: Settings test
caution: false
rate: 1.1
duration: "0:50"
bed: pink
bed_level: -24
cue_level: -10
intro: Stand up.
steps:
  - name: Reach
    reps: 2-4
    cycle:
      - {say: Up., seconds: 2}
      - {say: Down., seconds: 2}
  - name: Long hold
    hold: 5-15
    countdown: 0
  - rest: 3
  - name: Breathe
    breaths: 2
    inhale: 2
    exhale: 3
"""


@pytest.fixture
def script(tmp_path) -> Path:
    path = tmp_path / "settings-test.yaml"
    path.write_text(SCRIPT)
    return path


# --------------------------------------------------------------------------- resolving


def test_the_script_then_each_layer_in_order_then_the_defaults(script):
    routine = parse_text(SCRIPT.replace("rate: 1.1", "voice: piper\nrate: 1.1"), str(script))
    assert resolve(routine) == Settings(voice="piper", rate=1.1, duration_s=50.0, bed="pink", bed_level_lu=-24.0,
                                        cue_level_lu=-10.0)
    assert resolve(None) == Settings() == Settings(voice=None, rate=1.0, duration_s=None, lead_in_s=DEFAULT_LEAD_IN_S,
                                                   bed=None, cue_level_lu=DEFAULT_CUE_LEVEL_LU,
                                                   bitrate_kbps=DEFAULT_BITRATE_KBPS, sample_rate=SAMPLE_RATE)
    programme, command_line = Overrides(rate=0.9, lead_in_s=2.0, bed="drone"), Overrides(rate=1.3, no_bed=True)
    got = resolve(routine, programme, command_line)
    assert (got.rate, got.lead_in_s, got.bed, got.voice, got.cue_level_lu) == (1.3, 2.0, None, "piper", -10.0)
    assert resolve(routine, command_line, programme).bed == "drone"  # a later layer's bed over an earlier "none"
    assert resolve(routine, Overrides()) == resolve(routine)  # saying nothing changes nothing


def test_one_layer_cannot_both_name_a_bed_and_ask_for_none():
    with pytest.raises(ValueError, match="both name a bed"):
        Overrides(bed="brown", no_bed=True)


def test_the_session_carries_its_settings(script):
    session = prepare(str(script), Overrides(voice="test", bed_level_lu=-30.0, lead_in_s=1.0))
    assert session.settings == Settings(voice="test", rate=1.1, duration_s=50.0, lead_in_s=1.0, bed="pink",
                                        bed_level_lu=-30.0, cue_level_lu=-10.0)
    assert session.bed is not None and session.bed.level_lu == -30.0
    assert session.plan.events[0].start == SAMPLE_RATE  # the lead-in it was made with


# --------------------------------------------------------------------------- flags and back


def parse(argv: list[str]):
    return cli.build_parser().parse_args(argv)


def round_trip(argv: list[str]) -> None:
    """flags -> Overrides -> flags -> Overrides: equal, and the flags written are written again the same."""
    args = parse(argv)
    overrides = cli.overrides_from(args)
    routine = args.routine if hasattr(args, "routine") else args.routines[0]
    words = cli.command_words(args.command, routine, overrides, args.cache_dir)
    assert words[0] == "voiceguide"
    again = parse(words[1:])
    assert cli.overrides_from(again) == overrides
    assert again.cache_dir == args.cache_dir
    assert cli.command_words(again.command, routine, cli.overrides_from(again), again.cache_dir) == words


@pytest.mark.parametrize("argv", [
    ["play", "standing-reset"],
    ["play", "standing-reset", "--voice", "piper:/voices/en US.onnx", "--rate", "1.23456789", "--duration", "1:05:00.5",
     "--lead-in", "0", "--bed", "--bed-level", "-40", "--cue-level", "0"],
    ["play", "r.yaml", "--no-bed", "--rate", "0.5", "--duration", "0.0001", "--lead-in", "60", "--cue-level", "-30"],
    ["--cache-dir", "/tmp/a cache", "plan", "gentle-relief", "--bed", "drone", "--bed-level", "-6.25"],
    ["export", "hip-hinge", "--bitrate", "128", "--voice", "system:en-us", "--duration", "90"],
    ["serve", "morning", "--bitrate", "32", "--bed=breath"],
], ids=["nothing", "every-number", "no-bed", "cache-dir", "export", "serve"])
def test_flags_to_overrides_to_flags_round_trip(argv):
    round_trip(argv)


def test_a_bed_file_round_trips_as_its_absolute_path(tmp_path, monkeypatch):
    (tmp_path / "rain.wav").write_bytes(b"")  # the parser only checks that it is a file
    monkeypatch.chdir(tmp_path)
    args = parse(["play", "standing-reset", "--bed", "rain.wav"])
    assert cli.overrides_from(args).bed == str(tmp_path / "rain.wav")
    round_trip(["play", "standing-reset", "--bed", "rain.wav"])


def test_every_overridable_setting_has_a_flag():
    """A new setting cannot be forgotten by the hint: every field is written back by command_words."""
    said = Overrides(voice="v", rate=1.5, duration_s=61.5, lead_in_s=1.25, bed="brown", bed_level_lu=-20.0,
                     cue_level_lu=-3.5, bitrate_kbps=96)
    assert all(getattr(said, f.name) not in (None, False) for f in dataclasses.fields(Overrides) if f.name != "no_bed")
    words = cli.command_words("export", "x", said)
    assert cli.overrides_from(parse(words[1:])) == said


# --------------------------------------------------------------------------- the resume hint, end to end


def plan_json(argv: list[str], capsys) -> dict:
    capsys.readouterr()
    assert cli.main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.real
@pytest.mark.parametrize("options", [
    ["--bed", "drone", "--bed-level", "-22", "--cue-level", "-20", "--rate", "1.2", "--duration", "0:45",
     "--lead-in", "1.5"],
    ["--no-bed", "--cue-level", "-6", "--lead-in", "0", "--duration", "40", "--rate", "0.9"],
], ids=["bed-and-levels", "no-bed"])
def test_the_resume_hint_gives_back_the_same_session(script, tmp_path, capsys, options):
    """Play with every session option through the ALSA file sink, stop with q in the second step, run
    the command printed, and compare the plan it makes with the one asked for at first."""
    asked = ["plan", str(script), "--voice", "test", *options, "--json"]
    wanted = plan_json(asked, capsys)
    session = prepare(str(script), cli.overrides_from(parse(asked)))
    hold_at = next(c.start for c in session.plan.chapters if c.title == "Long hold") + SAMPLE_RATE
    env, capture = alsa_env(tmp_path, holds=[hold_at])
    code, err = quit_at_hold(player_command(script, *options), env)
    assert code == 0 and " in step 2 of 4 (Long hold); " in err, err
    hint = err.split("go on from there with: ", 1)[1].strip()
    words = shlex.split(hint)
    assert words[0] == "voiceguide" and words[-1] == "--resume", hint

    env.pop(HOLD_ENV, None)
    capture.write_bytes(b"")
    resumed = subprocess.run([sys.executable, "-m", "voiceguide", *words[1:]], env=env, stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0 and resumed.stderr == "", resumed.stderr
    step = next(c.start for c in session.plan.chapters if c.title == "Long hold")
    assert captured(capture).size == session.plan.length - step  # on from the start of the step it was stopped in

    at = words.index("play")
    again = plan_json([*words[1:at], "plan", *words[at + 1 : -1], "--json"], capsys)
    assert again == wanted
    assert wanted["sound"] == ({"bed": "drone", "bed_level": -22.0, "cue_level": -20.0} if "--bed" in options
                               else {"bed": None, "bed_level": None, "cue_level": -6.0})
    assert np.any(captured(capture))
