"""`voiceguide play` writes the practice log: the real command through the real ALSA client (a file
sink, tests/alsa_sink.py), the row read back from the real SQLite file."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import pytest
from alsa_sink import HOLD_NOTE, PtyPlayer, alsa_env, captured, player_command, quit_at_hold
from helpers import run_voiceguide

from voiceguide.log import RATING_QUESTION, Entry, PracticeLog
from voiceguide.log.rating import RATING_AGAIN
from voiceguide.timeline.plan import SAMPLE_RATE

ROUTINE = """\
title: Log test
caution: false
intro: Stand tall.
outro: Done.
steps:
  - name: Pelvic tilts
    reps: 2
    cycle:
      - {say: Tilt., seconds: 2}
      - {say: Back., seconds: 2}
  - name: Hip opener
    sides: [left, right]
    hold: 5
    countdown: 0
"""


@pytest.fixture(scope="module")
def routine(tmp_path_factory) -> tuple[Path, dict]:
    """The script, and its plan as ``plan --json`` gives it (the test voice: exact lengths)."""
    path = tmp_path_factory.mktemp("routine") / "log-test.yaml"
    path.write_text(ROUTINE)
    done = run_voiceguide("plan", str(path), "--voice", "test", "--json")
    assert done.returncode == 0, done.stderr
    return path, json.loads(done.stdout)


def the_log(tmp_path: Path) -> PracticeLog:
    return PracticeLog(tmp_path / "data" / "voiceguide" / "practice.sqlite3")  # where alsa_env puts it


def only_row(tmp_path: Path) -> Entry:
    rows = the_log(tmp_path).entries()
    assert len(rows) == 1, rows
    return rows[0]


def piped(path: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(player_command(path, *args), env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=120)


def test_a_finished_play_is_one_row_with_its_lengths_and_no_question_off_a_terminal(routine, tmp_path):
    path, plan = routine
    env, capture = alsa_env(tmp_path, log=True)
    done = piped(path, env)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert "How did your back feel" not in done.stdout
    row = only_row(tmp_path)
    assert (row.routine, row.title, row.source, row.finished, row.rating) == ("log-test", "Log test", "terminal",
                                                                              True, None)
    assert row.planned_s == pytest.approx(plan["duration"], abs=1e-3)
    assert row.played_s == round(captured(capture).size / SAMPLE_RATE, 3)  # what reached the device
    assert row.played_s == pytest.approx(plan["duration"], abs=1e-3)
    assert row.stopped_step is None and row.stopped_where is None and row.week is None


def test_a_stopped_play_is_a_row_that_says_where(routine, tmp_path):
    path, plan = routine
    left = next(c for c in plan["chapters"] if c["title"] == "Hip opener, left side")
    hold = round((left["start"] + 2.0) * SAMPLE_RATE)
    env, capture = alsa_env(tmp_path, holds=[hold], log=True)
    player = PtyPlayer.start(player_command(path), env)
    try:
        player.expect(HOLD_NOTE)
        player.send(b"q")
        code, err = player.finish()
    finally:
        player.close()
    assert code == 0
    row = only_row(tmp_path)
    assert not row.finished and row.rating is None
    assert row.stopped_step == 2 and row.stopped_where is not None
    assert row.stopped_where.endswith(" in step 2 of 2 (Hip opener, left side)")
    assert f"voiceguide: stopped at {row.stopped_where}; " in err  # the same words as the line it printed
    assert row.played_s == round(hold / SAMPLE_RATE, 3) == round(captured(capture).size / SAMPLE_RATE, 3)
    assert "How did your back feel" not in bytes(player.output).decode()  # asked after a finished play only


@pytest.mark.parametrize("key, more", [(b"p", True), (b"n", False)], ids=["back", "next"])
def test_the_played_length_counts_a_part_played_again_and_not_a_part_skipped(routine, tmp_path, key, more):
    path, plan = routine
    left = next(c for c in plan["chapters"] if c["title"] == "Hip opener, left side")
    hold = round((left["start"] + 4.0) * SAMPLE_RATE)  # past the 3 s in which back goes to the step before
    env, capture = alsa_env(tmp_path, holds=[hold], log=True)
    player = PtyPlayer.start(player_command(path), env)
    try:
        player.expect(HOLD_NOTE)
        player.send(key)
        player.expect(r"How did your back feel")
        player.send(b"\n")
        assert player.finish()[0] == 0
    finally:
        player.close()
    row = only_row(tmp_path)
    assert row.finished and row.played_s == round(captured(capture).size / SAMPLE_RATE, 3)
    assert (row.played_s > row.planned_s + 3.9) if more else (row.played_s < row.planned_s - 0.5)


@pytest.mark.parametrize("answers, rating", [
    ([b"4\n"], 4), ([b"\n"], None), ([b"twelve\n", b"0\n"], 0), ([b"\x04"], None),  # Ctrl-D: the end of input
    ([b"\x03"], None),  # Ctrl-C: typed on the terminal, a real SIGINT
], ids=["4", "enter", "again", "eof", "ctrl-c"])
def test_a_finished_play_on_a_terminal_asks_one_optional_question(routine, tmp_path, answers, rating):
    path, _ = routine
    env, _ = alsa_env(tmp_path, log=True)
    player = PtyPlayer.start(player_command(path), env)
    try:
        player.expect(r"How did your back feel, 0 \(no pain\) to 10\? Enter skips\.")
        for n, answer in enumerate(answers):
            if n:
                player.expect(RATING_AGAIN.split(",")[0])
            player.send(answer)
        code, err = player.finish()
    finally:
        player.close()
    assert code == 0 and "Traceback" not in err, err
    assert RATING_QUESTION.strip() in bytes(player.output).decode()
    row = only_row(tmp_path)
    assert row.finished and row.rating == rating


@pytest.mark.parametrize("how", ["--no-log", "VOICEGUIDE_LOG=off"])
def test_the_log_can_be_turned_off(routine, tmp_path, how):
    path, _ = routine
    env, capture = alsa_env(tmp_path, log=True)
    if how == "--no-log":
        done = piped(path, env, "--no-log")
    else:
        done = piped(path, {**env, "VOICEGUIDE_LOG": "off"})
    assert done.returncode == 0 and done.stderr == "" and captured(capture).size > 0
    assert not the_log(tmp_path).path.parent.exists()


def damage(log: PracticeLog) -> str:
    log.path.parent.mkdir(parents=True)
    log.path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4080)  # the right magic, nonsense after it
    return "is damaged ("


def make_newer(log: PracticeLog) -> str:
    log.add(Entry("2026-12-01T07:00:00+00:00", "standing-reset", "Standing reset", True, "terminal"))
    with closing(sqlite3.connect(log.path)) as db, db:
        db.execute("PRAGMA user_version = 7")
    return "was written by a newer voiceguide (schema version 7, "


@pytest.mark.parametrize("spoil", [damage, make_newer], ids=["damaged", "newer"])
def test_a_damaged_or_newer_log_is_said_once_and_the_play_goes_on_unlogged(routine, tmp_path, spoil):
    path, plan = routine
    env, capture = alsa_env(tmp_path, log=True)
    log = the_log(tmp_path)
    said = spoil(log)
    before = log.path.read_bytes()
    done = piped(path, env)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("voiceguide: the practice log ")
    assert said in done.stderr and done.stderr.endswith("; this play will not be logged\n")
    assert abs(captured(capture).size - plan["duration"] * SAMPLE_RATE) < 5  # the whole session was played
    assert log.path.read_bytes() == before
    assert sorted(p.name for p in log.path.parent.iterdir()) == ["practice.sqlite3"]


def test_two_plays_ending_at_once_both_get_their_row(routine, tmp_path):
    path, _ = routine
    envs = []
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        env, _ = alsa_env(tmp_path / name, log=True)
        envs.append({**env, "XDG_DATA_HOME": str(tmp_path / "data")})  # one log for both
    plays = [subprocess.Popen(player_command(path), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for env in envs]
    for play in plays:
        _, err = play.communicate(timeout=120)
        assert play.returncode == 0 and err == "", err
    rows = the_log(tmp_path).entries()
    assert len(rows) == 2 and all(r.finished and r.routine == "log-test" for r in rows)
    with closing(sqlite3.connect(the_log(tmp_path).path)) as db, db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_play_stopped_with_no_log_gives_a_resume_command_that_keeps_it_off(routine, tmp_path):
    path, plan = routine
    hold = round((plan["chapters"][1]["start"] + 1.0) * SAMPLE_RATE)
    env, _ = alsa_env(tmp_path, holds=[hold], log=True)
    code, err = quit_at_hold(player_command(path, "--no-log"), env)
    assert code == 0 and err.endswith(f"go on from there with: voiceguide play {path} --voice test --no-log --resume\n")
    assert not the_log(tmp_path).path.parent.exists()
