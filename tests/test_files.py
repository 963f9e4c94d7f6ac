"""Whole-or-nothing files: one naming for every temporary file, so what a killed writer left is found.

Exports have tests of their own (test_export.py: interrupts, SIGKILL, a read-only file system); these
cover the small files beside them (measured speeds, where a play was left) and the shared pieces.
"""

from __future__ import annotations

import hashlib
import os

import pytest
from test_export import dead_pid

from voiceguide import files
from voiceguide.play.resume import Places
from voiceguide.script.parse import load_routine
from voiceguide.voice.catalog import SpeedBook


def failing(exc: BaseException):
    def rename(*args: object) -> None:  # the last step: the temporary file is whole by then
        raise exc
    return rename


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), KeyboardInterrupt()],
                         ids=["full disk", "Ctrl-C"])
def test_measured_speeds_that_cannot_be_written_leave_no_temporary_file(tmp_path, monkeypatch, exc):
    book = SpeedBook(tmp_path)
    book.put("test|default|1", 100.0)
    monkeypatch.setattr(os, "replace", failing(exc))
    if isinstance(exc, OSError):
        book.put("test|default|1", 200.0)  # a cache that cannot be written is not fatal
    else:
        with pytest.raises(KeyboardInterrupt):
            book.put("test|default|1", 200.0)
    assert os.listdir(tmp_path) == [book.path.name]  # the old file whole, and nothing beside it
    assert SpeedBook(tmp_path).get("test|default|1") == 100.0


def test_where_a_play_was_left_is_written_whole_and_a_killed_writers_part_is_tidied(tmp_path, monkeypatch, capsys):
    script = tmp_path / "s.yaml"
    script.write_text("title: T\nsteps:\n  - name: One\n    hold: 5\n  - name: Two\n    hold: 5\n")
    routine = load_routine(script)
    state = tmp_path / "state"
    state.mkdir()
    killed = state / f".voiceguide-{dead_pid()}-0123abcd.part"  # a voiceguide killed while it wrote a place
    killed.write_bytes(b"{")
    places = Places(state)
    monkeypatch.setattr(os, "replace", failing(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        places.remember(routine, 1, "quit")
    assert os.listdir(state) == []  # the killed writer's part tidied, this one's removed
    assert files.LEFT_BY in capsys.readouterr().err
    monkeypatch.undo()
    places.remember(routine, 1, "quit")
    place = places.recall(routine)
    assert place is not None and place.name == "Two" and place.script_sha256 == files.file_sha256(script)
    assert [p.suffix for p in state.iterdir()] == [".json"]


def test_only_part_files_voiceguide_wrote_are_stale():
    gone = dead_pid()
    ours = [f".voiceguide-{gone}-0123abcd.part"]
    foreign = [f".notes.{gone}.part", f".x.{gone}.part", f".voiceguide-{gone}-XYZ.part", f"long.mp3.{gone}.part",
               f".long.mp3.{gone}.part"]
    assert [n for n in ours + foreign if files.PART_NAME.fullmatch(n)] == ours
    assert len(files.part_name()) <= 36 and files.PART_NAME.fullmatch(files.part_name())


def test_file_sha256_reads_in_blocks_and_agrees_with_hashlib(tmp_path):
    data = os.urandom(3 * (1 << 20) + 17)  # more than one block, and a short last one
    path = files.write_bytes(tmp_path / "blob", data)
    assert files.file_sha256(path) == hashlib.sha256(data).hexdigest()
    assert files.file_sha256(files.write_text(tmp_path / "empty", "")) == hashlib.sha256(b"").hexdigest()
