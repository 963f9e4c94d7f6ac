"""Issue 20, fault 12: where includes may come from, and messages that quote at most a short excerpt."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceguide.errors import ScriptError
from voiceguide.script.library import builtin_dir
from voiceguide.script.parse import check_file, load_routine, parse_text


def errors(problems) -> list[str]:
    return [str(p) for p in problems if p.severity == "error"]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize("written", ["/etc/passwd", "../outside.yaml", "UP/etc/passwd"])
def test_an_include_outside_the_scripts_folder_is_refused_at_its_line(tmp_path, written):
    written = written.replace("UP/", "../" * len((tmp_path / "mine").parts))  # ../../../etc/passwd
    write(tmp_path, "outside.yaml", "title: Outside\nsteps:\n  - say: Hello.\n")
    script = write(tmp_path / "mine", "s.yaml", f"title: S\nsteps:\n  - say: Hi.\n  - include: {written}\n")
    found = errors(check_file(script))
    assert len(found) == 1 and found[0].startswith(f"{script}:4:14: include {written!r} is outside the folder "
                                                   f"of the script being read ({str(tmp_path / 'mine')!r})")
    assert "copy the routine into that folder" in found[0] and "root:" not in found[0]


def test_a_link_out_of_the_folder_is_refused_too(tmp_path):
    write(tmp_path, "outside.yaml", "title: Outside\nsteps:\n  - say: Hello.\n")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "linked.yaml").symlink_to(tmp_path / "outside.yaml")
    script = write(tmp_path / "mine", "s.yaml", "title: S\nsteps:\n  - include: linked.yaml\n")
    assert "is outside the folder" in errors(check_file(script))[0]


def test_includes_inside_the_folder_and_built_ins_still_work(tmp_path):
    write(tmp_path, "shared/warmup.yaml", "title: Warm-up\nsteps:\n  - include: ../cooldown.yaml\n")
    write(tmp_path, "cooldown.yaml", "title: Cool-down\nsteps:\n  - say: Breathe out.\n")
    script = write(tmp_path, "s.yaml", "title: S\nsteps:\n  - include: shared/warmup.yaml\n  - include: morning\n")
    routine = load_routine(script)  # ../ back into the script's own folder is inside it
    assert {s.source for s in routine.steps} == {"warmup", "morning"}
    assert load_routine(builtin_dir() / "morning.yaml").title  # the built-in that includes others


def test_a_file_the_script_may_include_is_quoted_only_as_a_short_excerpt(tmp_path):
    write(tmp_path, "passwd.yaml", Path("/etc/passwd").read_text())
    found = errors(check_file(write(tmp_path, "s.yaml", "title: S\nsteps:\n  - include: passwd.yaml\n")))
    assert len(found) == 1 and len(found[0]) < 400 and "characters)" in found[0], found


@pytest.mark.parametrize("line", ["  - {x}", "  - say: {x}", "  - name: {x}\n    reps: 2", "  - include: {x}"])
def test_a_990_kb_line_gives_a_short_message(tmp_path, line):
    script = write(tmp_path, "s.yaml", "title: S\nsteps:\n" + line.format(x="a" * 990_000) + "\n")
    with pytest.raises(ScriptError) as raised:
        load_routine(script)
    assert all(len(str(p)) < 1_100 for p in raised.value.problems), [len(str(p)) for p in raised.value.problems]


def test_text_without_a_file_includes_from_its_folder(tmp_path):
    write(tmp_path, "x.yaml", "title: X\nsteps:\n  - say: X.\n")
    routine = parse_text("title: T\nsteps:\n  - include: x.yaml\n", "<routine>", tmp_path)
    assert routine.steps[0].source == "x"
    with pytest.raises(ScriptError, match="outside the folder"):
        parse_text("title: T\nsteps:\n  - include: /etc/passwd\n", "<routine>", tmp_path)
