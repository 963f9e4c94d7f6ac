"""``play --resume``: a damaged, huge or foreign place file, an unusable state folder, repeated step names.

The place files are real files in a state folder of the test's own; the command-line tests run the
real ``voiceguide play`` on a machine with no sound device, which settles where to start (and says
so) before it looks for the device.
"""

from __future__ import annotations

import json
import os
import tracemalloc

import pytest
from helpers import run_voiceguide

from voiceguide.errors import ResumeError
from voiceguide.play.resume import MAX_STATE_BYTES, Place, Places, Unreadable, resume_step
from voiceguide.script.parse import load_routine

ROUTINE = """\
title: Resume test
caution: false
steps:
  - name: Breathe
    breaths: 2
  - name: Tilts
    hold: 5
  - name: Rest
    rest: 4
  - name: Breathe
    breaths: 3
  - name: Tilts
    hold: 6
  - name: Rest
    rest: 4
  - name: Breathe
    breaths: 4
"""


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "routine.yaml"
    path.write_text(ROUTINE)
    return path


def place_file(places: Places, script) -> os.PathLike:
    places.remember(load_routine(script), 3, "quit")
    (kept,) = places.folder.iterdir()
    return kept


def good_fields(script) -> dict:
    return json.loads(place_file(Places(script.parent / "good"), script).read_text())


DAMAGED = {
    "step a string": lambda d: {**d, "step": "3"},
    "step a bool": lambda d: {**d, "step": True},
    "step huge": lambda d: {**d, "step": 10 ** 30},
    "name a number": lambda d: {**d, "name": 7},
    "name a list": lambda d: {**d, "name": ["Breathe"]},
    "name too long": lambda d: {**d, "name": "x" * 5000},
    "sha a dict": lambda d: {**d, "script_sha256": {}},
    "why missing": lambda d: {k: v for k, v in d.items() if k != "why"},
    "a field too many": lambda d: {**d, "extra": 1},
    "another script": lambda d: {**d, "script": "/elsewhere/routine.yaml"},
    "a list": lambda d: [d],
    "a string": lambda d: "hello",
    "null": lambda d: None,
}


@pytest.mark.parametrize("damage", DAMAGED.values(), ids=DAMAGED.keys())
def test_a_place_file_of_the_wrong_shape_is_ignored_with_one_line(script, tmp_path, damage):
    places = Places(tmp_path / "state")
    kept = place_file(places, script)
    kept.write_text(json.dumps(damage(good_fields(script))))
    recalled = places.recall(load_routine(script))
    assert isinstance(recalled, Unreadable)
    index, note = resume_step(load_routine(script), recalled)
    assert index is None
    assert note == f"ignored the place file {str(kept)!r}: it is damaged or not a place file; starting at the beginning"


@pytest.mark.parametrize("content", [b"[" * 30_000 + b"]" * 30_000, b'{"script": "\xff\xfe"}', b"{not json",
                                     b"\x00" * 100], ids=["deep", "not utf-8", "not json", "zeros"])
def test_deep_nesting_and_garbage_are_ignored(script, tmp_path, content):
    places = Places(tmp_path / "state")
    kept = place_file(places, script)
    kept.write_bytes(content)
    recalled = places.recall(load_routine(script))
    assert recalled == Unreadable(f"ignored the place file {str(kept)!r}: it is damaged or not a place file")


def test_a_huge_place_file_is_refused_by_its_size_before_it_is_read(script, tmp_path):
    places = Places(tmp_path / "state")
    kept = place_file(places, script)
    with open(kept, "r+b") as f:  # 300 MB, sparse: costs no disk
        f.truncate(300 * 1024 * 1024)
    routine = load_routine(script)
    tracemalloc.start()
    try:
        recalled = places.recall(routine)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert recalled == Unreadable(f"ignored the place file {str(kept)!r}: it is 314,572,800 bytes, more than a "
                                  f"place file's {MAX_STATE_BYTES:,}")
    assert peak < 1024 * 1024  # not read: reading it would hold 300 MB


def test_a_place_file_that_is_a_folder_or_a_fifo_is_ignored(script, tmp_path):
    places = Places(tmp_path / "state")
    kept = place_file(places, script)
    kept.unlink()
    os.mkfifo(kept)  # opening it must not wait for a writer
    assert places.recall(load_routine(script)) == Unreadable(
        f"ignored the place file {str(kept)!r}: it is not a regular file")
    kept.unlink()
    kept.mkdir()
    assert places.recall(load_routine(script)) == Unreadable(
        f"ignored the place file {str(kept)!r}: it is not a regular file")


def test_a_good_place_file_is_still_read(script, tmp_path):
    places = Places(tmp_path / "state")
    place_file(places, script)
    recalled = places.recall(load_routine(script))
    assert isinstance(recalled, Place) and recalled.step == 3 and recalled.name == "Breathe"
    assert resume_step(load_routine(script), recalled) == (3, None)


def test_play_resume_with_a_damaged_place_says_it_was_ignored_in_one_line(script, tmp_path):
    state = tmp_path / "xdg"
    kept = place_file(Places(state / "voiceguide"), script)
    kept.write_text(json.dumps({**good_fields(script), "step": [[[[]]]]}))
    done = run_voiceguide("play", str(script), "--voice", "test", "--resume", env={"XDG_STATE_HOME": str(state)},
                          timeout=60)
    assert "Traceback" not in done.stderr
    first = done.stderr.splitlines()[0]
    assert first == (f"voiceguide: ignored the place file {str(kept)!r}: it is damaged or not a place file; "
                     "starting at the beginning")


# --------------------------------------------------------------------------- fault 17: the folder


def test_play_resume_with_an_unusable_state_folder_says_so_and_where(script, tmp_path):
    state = tmp_path / "xdg"
    state.mkdir()
    (state / "voiceguide").write_text("a file where the folder should be")
    done = run_voiceguide("play", str(script), "--voice", "test", "--resume", env={"XDG_STATE_HOME": str(state)},
                          timeout=60)
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[0] == (
        f"voiceguide: cannot read the state folder {str(state / 'voiceguide')!r} (Not a directory), where the "
        "place of the last play is kept; starting at the beginning")
    assert "not stopped early" not in done.stderr


def test_no_place_kept_still_says_nothing_to_resume(script, tmp_path):
    assert Places(tmp_path / "none").recall(load_routine(script)) is None


# --------------------------------------------------------------------------- fault 9: repeated names


def left_in(script, tmp_path, step: int) -> Place:
    places = Places(tmp_path / "state")
    places.remember(load_routine(script), step, "quit")
    recalled = places.recall(load_routine(script))
    assert isinstance(recalled, Place)
    return recalled


def test_after_an_edit_the_kept_index_wins_among_steps_of_the_same_name(script, tmp_path):
    place = left_in(script, tmp_path, 3)  # the second "Breathe" of three
    script.write_text(ROUTINE.replace("title: Resume test", "title: Resume test, edited"))  # same steps
    assert resume_step(load_routine(script), place) == (
        3, "the script changed since it was stopped; resuming at step 'Breathe'")


def test_after_an_edit_the_nearest_step_of_the_same_name_wins(script, tmp_path):
    place = left_in(script, tmp_path, 4)  # the second "Tilts", at index 4
    script.write_text(ROUTINE.replace("steps:\n", "steps:\n  - name: New one\n    rest: 3\n"))  # now at index 5
    assert resume_step(load_routine(script), place) == (
        5, "the script changed since it was stopped; resuming at step 'Tilts' (now step 6)")


def test_after_an_edit_two_steps_as_near_are_ambiguous(script, tmp_path):
    place = left_in(script, tmp_path, 3)  # the second "Breathe", then renamed: index 0 and 6 remain, 3 away each
    script.write_text(ROUTINE.replace("name: Breathe\n    breaths: 3", "name: Other\n    breaths: 3"))
    with pytest.raises(ResumeError, match=r"steps 1 and 7 are both named 'Breathe' and as near to where it was "
                                          r"stopped; choose where to start with --from"):
        resume_step(load_routine(script), place)
