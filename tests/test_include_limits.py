"""Issue 20, faults 2, 12 and 13: what a routine may expand to (nested rounds too), each file read
once, where includes may come from, and messages that quote at most a short excerpt."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from voiceguide import publish
from voiceguide.errors import ScriptError
from voiceguide.script import parse
from voiceguide.script.library import builtin_dir, list_routines
from voiceguide.script.parse import check_file, load_routine, parse_text
from voiceguide.script.routine import MAX_EXPANDED_STEPS, walk


def fan_out(folder: Path, levels: int = 6, width: int = 30) -> Path:
    """Files of about 600 bytes, each including the next one ``width`` times (the QA pass's case)."""
    for i in range(1, levels + 1):
        lines = [f"title: Level {i}", "steps:"]
        lines += [f"  - include: f{i + 1}.yaml" if i < levels else "  - say: Go." for _ in range(width)]
        (folder / f"f{i}.yaml").write_text("\n".join(lines) + "\n")
    return folder / "f1.yaml"


def errors(problems) -> list[str]:
    return [str(p) for p in problems if p.severity == "error"]


@pytest.fixture
def reads(monkeypatch):
    """How many times each file is read."""
    counted: Counter[str] = Counter()
    read = parse._read

    def counting(path: Path) -> str:
        counted[Path(path).name] += 1
        return read(path)

    monkeypatch.setattr(parse, "_read", counting)
    return counted


# --------------------------------------------------------------------------- fault 2: fan-out


def test_a_fan_out_of_includes_is_refused_quickly_at_the_include_that_crosses_the_limit(tmp_path, reads):
    top = fan_out(tmp_path)
    started = time.monotonic()
    problems = check_file(top)
    assert time.monotonic() - started < 5
    found = errors(problems)
    # f4 includes f5 (900 steps) thirty times: the 12th include takes it past 10,000, at line 3 + 11
    assert found == [f"{tmp_path / 'f4.yaml'}:14:5: with include 'f5.yaml' the steps come to more than {MAX_EXPANDED_STEPS:,} "
                     "(10,800 so far, with includes spliced in and rounds counted out); a routine is limited to "
                     f"{MAX_EXPANDED_STEPS:,}, about three hours of the shortest steps: include fewer or shorter "
                     "routines"]
    assert set(reads.values()) == {1} and len(reads) == 6  # each file read once, not once per include


def test_serve_starts_past_a_fan_out_in_scripts(tmp_path, monkeypatch, capsys):
    (tmp_path / "scripts").mkdir()
    fan_out(tmp_path / "scripts")
    monkeypatch.chdir(tmp_path)
    started = time.monotonic()
    routines = publish._loadable(list_routines())  # what serve loads before it listens
    assert time.monotonic() - started < 10
    loaded = {Path(r.path).name for r in routines}
    assert {"f5.yaml", "f6.yaml", "morning.yaml"} <= loaded and not loaded & {"f1.yaml", "f2.yaml", "f3.yaml", "f4.yaml"}
    err = capsys.readouterr().err
    assert "left out f1.yaml" in err and "f4.yaml:14:5" in err


def test_a_file_included_from_many_places_is_read_once_and_still_spliced_everywhere(tmp_path, reads):
    (tmp_path / "leaf.yaml").write_text("title: Leaf\nsteps:\n  - say: Leaf.\n")
    (tmp_path / "mid.yaml").write_text("title: Mid\nsteps:\n" + "  - include: leaf.yaml\n" * 3)
    (tmp_path / "top.yaml").write_text("title: Top\ncaution: false\nsteps:\n" + "  - include: mid.yaml\n" * 4)
    routine = load_routine(tmp_path / "top.yaml")
    assert sum(1 for s in walk(routine.steps) if s.kind == "say") == 12
    assert len({s.uid for s in walk(routine.steps) if s.uid is not None}) == 4 * 3 * 2  # every copy numbered
    assert reads == {"top.yaml": 1, "mid.yaml": 1, "leaf.yaml": 1}


def test_a_file_read_shallow_then_included_too_deep_is_still_refused(tmp_path):
    """The cache keeps how many levels a file holds: reached again deeper, the limit still holds."""
    for i in range(1, 6):
        (tmp_path / f"d{i}.yaml").write_text(f"title: D{i}\nsteps:\n  - include: d{i + 1}.yaml\n")
    (tmp_path / "d6.yaml").write_text("title: D6\nsteps:\n  - say: Deep.\n")
    (tmp_path / "top.yaml").write_text("title: Top\nsteps:\n  - include: d3.yaml\n  - include: d1.yaml\n")
    found = errors(check_file(tmp_path / "top.yaml"))
    assert len(found) == 1 and "nests includes more than 5 deep" in found[0], found


def test_the_built_ins_are_far_under_the_limit():
    for path in list_routines():
        routine = load_routine(path)
        assert sum(s.expanded for s in routine.steps) < MAX_EXPANDED_STEPS / 100, path


# --------------------------------------------------------------------------- fault 13: nested rounds


NESTED = """\
title: Nested
steps:
  - name: Outer
    rounds: 100
    steps:
      - name: Middle
        rounds: 100
        steps:
          - name: Inner
            rounds: 100
            steps:
              - {say: Go., pause: 0}
"""


def test_three_nested_rounds_of_100_are_refused_at_once_at_the_outer_rounds_line(tmp_path):
    started = time.monotonic()
    found = errors(check_file(write(tmp_path, "nested.yaml", NESTED)))
    assert time.monotonic() - started < 2
    assert len(found) == 1 and found[0].startswith(f"{tmp_path / 'nested.yaml'}:4:5: step 1 comes to 1,000,000 steps")
    assert "use fewer rounds" in found[0]


def test_rounds_under_the_step_limit_but_over_three_hours_are_located_with_advice_about_rounds(tmp_path):
    """Steps whose least length the script cannot tell (a 'say' with no pause): the planner finds the
    three hours, quickly, and says so at the group's rounds line."""
    from test_plan import ToneLengths

    from voiceguide.errors import PlanError
    from voiceguide.timeline.plan import build_plan

    script = write(tmp_path, "n.yaml", "title: Long\nsteps:\n  - say: Ready.\n  - name: Outer\n    rounds: 100\n"
                   "    steps:\n      - name: Inner\n        rounds: 50\n        steps:\n"
                   "          - {say: Go., pause: 0}\n")
    routine = load_routine(script)  # 100 x 50 = 5,000 steps: under the limit
    started = time.monotonic()
    with pytest.raises(PlanError) as raised:
        build_plan(routine, ToneLengths())
    assert time.monotonic() - started < 20
    assert str(raised.value).startswith(f"{script}:5:5: the session would last ")
    assert str(raised.value).endswith("sessions are limited to 3 hours, and step 2 passes them: use fewer rounds, "
                                      "or shorter steps inside them")


def test_rounds_over_three_hours_are_told_to_use_fewer_rounds(tmp_path):
    text = "title: Long\nsteps:\n  - name: Circuit\n    rounds: 50\n    steps:\n      - hold: 300\n"
    found = errors(check_file(write(tmp_path, "long.yaml", text)))
    assert len(found) == 1 and ":4:5:" in found[0] and "fewer rounds" in found[0], found


def test_the_limit_counts_rounds_and_a_long_routine_under_it_is_fine(tmp_path):
    body = "title: R\nsteps:\n  - name: Circuit\n    rounds: 100\n    steps:\n" + "      - say: Go.\n" * 100
    assert errors(check_file(write(tmp_path, "ok.yaml", body))) == []  # exactly 10,000
    found = errors(check_file(write(tmp_path, "over.yaml", body + "      - say: One more.\n")))
    assert found == [f"{tmp_path / 'over.yaml'}:4:5: step 1 comes to 10,100 steps: 100 rounds of 101 (groups "
                     "inside groups multiply); a routine is limited to 10,000 steps, about three hours of the "
                     "shortest steps: use fewer rounds, or fewer steps inside them"]


# --------------------------------------------------------------------------- fault 12: where includes come from


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
