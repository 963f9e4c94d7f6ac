"""A path that is there but is not what was asked for (a folder, a FIFO, a device, a file) is said
to be what it is, with what is wanted instead: never "not found", never advice about another option.

A FIFO or a device read by mistake would never end, so those tests run the command in a process of
its own that a timeout can stop; the others run it in this one (``helpers.invoke``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import invoke, run_voiceguide

ROUTINE = "title: Bed test\ncaution: false\nbed: {bed}\nsteps:\n  - name: Hold it\n    hold: 3\n"


@pytest.fixture
def things(tmp_path):
    (tmp_path / "folder.mp3").mkdir()
    os.mkfifo(tmp_path / "pipe.mp3")
    return {"folder": (tmp_path / "folder.mp3", "a folder"), "fifo": (tmp_path / "pipe.mp3", "a named pipe (FIFO)"),
            "device": ("/dev/null", "a character device")}


def in_its_kind_of_process(kind: str, *args: str):
    """``voiceguide ARGS`` in a process a timeout can stop where a read could hang (a FIFO, a device), else here."""
    return invoke(*args) if kind == "folder" else run_voiceguide(*args, timeout=60)


@pytest.mark.parametrize("kind", ["folder", "fifo", "device"])
def test_a_bed_on_the_command_line_that_is_not_a_file_says_what_it_is(things, kind):
    path, said = things[kind]
    done = in_its_kind_of_process(kind, "plan", "standing-reset", "--voice", "test", "--bed", str(path))
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (f"voiceguide plan: error: argument --bed: bed file {str(path)!r} is "
                                            f"{said}, not a file; give an audio file's path")


@pytest.mark.parametrize("kind", ["folder", "fifo", "device"])
def test_a_bed_in_a_script_that_is_not_a_file_says_what_it_is_at_its_line(things, tmp_path, kind):
    path, said = things[kind]
    # Written as a user writes it, relative to the script (the device by its absolute path): the message
    # quotes what was written and, in full, where it looked.  (A temporary folder's path quoted as written
    # would be cut at 80 characters where the folder's name is long, as under pytest-xdist.)
    written = str(path) if kind == "device" else Path(path).name
    script = tmp_path / "bed.yaml"
    script.write_text(ROUTINE.format(bed=written))
    done = in_its_kind_of_process(kind, "check", str(script))
    assert done.returncode == 1
    assert done.stdout + done.stderr == (f"{script}:3:6: bed file {written!r} is {said}, not a file (looked for "
                                         f"{str(path)!r}); give the path of an audio file, relative to the script\n")


def test_a_missing_bed_is_still_not_found(tmp_path):
    done = invoke("plan", "standing-reset", "--voice", "test", "--bed", str(tmp_path / "gone.mp3"))
    assert done.stderr.splitlines()[-1].endswith(f"bed file {str(tmp_path / 'gone.mp3')!r} not found; give an audio "
                                                 "file's path")


@pytest.mark.parametrize("kind", ["file", "device"])
def test_site_on_something_that_is_not_a_folder_says_what_it_is_and_to_fix_site(tmp_path, kind):
    if kind == "file":
        site = tmp_path / "taken"
        site.write_text("mine")
        said = f"{str(site)!r} is a file"
    else:
        site, said = Path("/dev/null/site"), "'/dev/null' is a character device"
    done = invoke("export", "standing-reset", "--voice", "test", "--site", str(site))
    assert done.returncode == 1
    assert done.stderr == (f"voiceguide: cannot make the folder {str(site)!r}: {said}, not a folder; nothing was "
                           "written (give --site a folder that exists or can be made)\n")
