"""Finding routines: paths, names in ./scripts, then the built-ins; did-you-mean when nothing fits."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from examples import REPO

from voiceguide.errors import RoutineNotFoundError, VoiceguideError
from voiceguide.script.library import builtin_dir, find_routine, list_routines

BUILTINS = {"standing-reset", "sitting-reset", "gentle-relief", "hip-hinge", "lower-back-and-hips"}


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """Run from a folder of the user's own, with an empty ./scripts."""
    (tmp_path / "scripts").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_builtins_are_the_repositorys_scripts_in_a_checkout():
    assert builtin_dir() == REPO / "scripts"
    assert {p.stem for p in builtin_dir().glob("*.yaml")} >= BUILTINS


def test_an_installed_wheel_uses_its_own_copy(tmp_path):
    """The wheel force-includes scripts/ as voiceguide/scripts; lay a package out that way and ask it."""
    package = tmp_path / "site" / "voiceguide"
    shutil.copytree(REPO / "voiceguide", package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "scripts").mkdir()
    (package / "scripts" / "only-here.yaml").write_text("title: Only here\nsteps: [{say: x}]\n")
    code = "from voiceguide.script.library import builtin_dir, find_routine; print(builtin_dir()); print(find_routine('only-here'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(tmp_path / "site")},
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == [str(package / "scripts"), str(package / "scripts" / "only-here.yaml")]


def test_a_name_finds_a_builtin_from_anywhere(elsewhere):
    assert find_routine("standing-reset") == builtin_dir() / "standing-reset.yaml"
    assert find_routine("hip-hinge.yaml") == builtin_dir() / "hip-hinge.yaml"


def test_an_existing_path_is_taken_as_given(elsewhere):
    mine = elsewhere / "mine.yaml"
    mine.write_text("title: Mine\n")
    assert find_routine(str(mine)) == mine
    assert find_routine("mine.yaml") == Path("mine.yaml")


def test_a_local_script_shadows_the_builtin_of_the_same_name(elsewhere):
    local = elsewhere / "scripts" / "standing-reset.yaml"
    local.write_text("title: My own reset\nsteps: [{say: x}]\n")
    assert find_routine("standing-reset").resolve() == local
    listed = {p.stem: p for p in list_routines()}
    assert listed["standing-reset"].resolve() == local
    assert listed["hip-hinge"] == builtin_dir() / "hip-hinge.yaml"


def test_unknown_names_say_what_exists(elsewhere):
    with pytest.raises(RoutineNotFoundError) as caught:
        find_routine("standing-rest")
    message = str(caught.value)
    assert message.startswith("no routine named 'standing-rest' (did you mean 'standing-reset'?); the routines are: ")
    assert all(name in message for name in BUILTINS)
    assert isinstance(caught.value, FileNotFoundError) and isinstance(caught.value, VoiceguideError)


def test_a_missing_file_and_a_folder(elsewhere):
    with pytest.raises(RoutineNotFoundError, match=r"^no routine file 'nowhere/x\.yaml'; the routines are"):
        find_routine("nowhere/x.yaml")
    with pytest.raises(RoutineNotFoundError, match="is a folder"):
        find_routine(str(elsewhere))


def test_list_is_sorted_one_per_name_with_yml_too(elsewhere):
    (elsewhere / "scripts" / "a-first.yml").write_text("title: A\n")
    (elsewhere / "scripts" / "notes.txt").write_text("not a routine")
    names = [p.stem for p in list_routines()]
    assert names == sorted(names) and len(names) == len(set(names))
    assert set(names) == BUILTINS | {p.stem for p in builtin_dir().glob("*.yaml")} | {"a-first"}


def test_list_with_another_folder(tmp_path):
    (tmp_path / "gentle-relief.yaml").write_text("title: Mine\n")
    (tmp_path / "extra.yaml").write_text("title: Extra\n")
    listed = {p.stem: p for p in list_routines(tmp_path)}
    assert listed["gentle-relief"] == tmp_path / "gentle-relief.yaml"
    assert listed["extra"] == tmp_path / "extra.yaml"
    assert BUILTINS <= set(listed)
    with pytest.raises(RoutineNotFoundError, match="no folder"):
        list_routines(tmp_path / "missing")
