"""The command line end to end: ``cli.main`` in this process (``helpers.invoke``), and in a real process
where only one shows it (``python -m voiceguide``, the locale of a real stdout)."""

from __future__ import annotations

import json

import pytest
from helpers import REPO, invoke, run_voiceguide

BUILTINS = ["gentle-relief", "hip-hinge", "lower-back-and-hips", "morning", "sitting-reset", "standing-reset"]


@pytest.mark.real
def test_every_builtin_checks_clean_with_the_default_voice():
    result = invoke("check", *BUILTINS)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.parametrize("voice", [pytest.param([], id="default", marks=pytest.mark.real),  # the default voice is real
                                   pytest.param(["--voice", "piper"], id="piper")])
def test_standing_reset_lasts_exactly_two_minutes(voice):
    result = invoke("plan", "standing-reset", "--json", *voice)
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["duration"] == 120.0
    assert plan["warnings"] == []


def test_plan_json_follows_the_contract_and_is_deterministic():
    first = invoke("plan", "gentle-relief", "--json", "--voice", "test")
    second = invoke("plan", "gentle-relief", "--json", "--voice", "test")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    plan = json.loads(first.stdout)
    assert plan["title"] == "Gentle relief sequence"
    assert plan["sample_rate"] == 22050
    assert [c["title"] for c in plan["chapters"]] == [
        "Introduction", "Pelvic tilts", "Knee-to-chest rocking, right side", "Knee-to-chest rocking, left side",
        "Hip flexor opener, left side", "Hip flexor opener, right side", "Glute bridge",
    ]
    for event in plan["events"]:
        assert event["kind"] in ("speech", "sound")
        assert 0 <= event["start"] <= event["end"] <= plan["duration"]
        assert ("text" in event) == (event["kind"] == "speech")
    assert plan["events"][0]["step"] == -1


def test_plan_table_shows_time_step_and_words():
    result = invoke("plan", "hip-hinge", "--voice", "test")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Hip hinge practice (")
    assert any("2 Hip hinges" in line and "One. Push your hips back, as your chest tips forward." in line for line in lines)


def test_duration_on_the_command_line_overrides_the_script():
    result = invoke("plan", "gentle-relief", "--json", "--voice", "test", "--duration", "7:30")
    plan = json.loads(result.stdout)
    assert plan["duration"] == 450.0 and plan["warnings"] == []


def test_a_duration_on_the_command_line_takes_the_script_spellings():
    result = invoke("plan", "gentle-relief", "--json", "--voice", "test", "--duration", "0:07:30")
    assert json.loads(result.stdout)["duration"] == 450.0
    result = invoke("plan", "gentle-relief", "--voice", "test", "--duration", "3:00:00")
    assert result.returncode == 0
    [warning] = result.stderr.splitlines()
    assert ":1:1: warning: --duration: cannot last 3:00:00.0: even with every range at its high end" in warning


def test_list_shows_builtins_with_titles_and_lengths(tmp_path):
    result = invoke("list", "--voice", "test", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()
    assert [row.split()[0] for row in rows] == BUILTINS
    assert "Standing reset" in rows[-1] and rows[-1].rstrip().endswith("2:00.0")


def test_a_script_that_cannot_be_planned_is_listed_without_widening_the_table(tmp_path):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "broken.yaml").write_text("title: Broken\nsteps: []\n")
    rows = invoke("list", "--voice", "test", cwd=tmp_path).stdout.splitlines()
    [broken] = [row for row in rows if row.startswith("broken ")]
    assert "(cannot be planned: " in broken
    planned = [row for row in rows if row is not broken]
    assert len({len(row) for row in planned}) == 1  # one table, as wide as its longest title
    assert len(planned[0]) < 60


def test_a_local_script_is_listed_and_found_by_name(tmp_path):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "mine.yaml").write_text("title: Mine\nsteps:\n  - say: Hello.\n")
    listed = invoke("list", "--voice", "test", cwd=tmp_path)
    assert any(row.startswith("mine") and "Mine" in row for row in listed.stdout.splitlines())
    planned = invoke("plan", "mine", "--voice", "test", "--json", cwd=tmp_path)
    assert json.loads(planned.stdout)["title"] == "Mine"


def test_list_and_plan_agree_on_a_scripts_length_with_its_own_rate(tmp_path):
    """list plans each script with the script's own voice and rate, as plan does."""
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "slow.yaml").write_text("title: Slow\nrate: 0.5\ncaution: false\n"
                                                  "steps:\n  - say: Lie down and breathe out slowly.\n")
    [row] = [r for r in invoke("list", "--voice", "test", cwd=tmp_path).stdout.splitlines()
             if r.startswith("slow ")]
    planned = json.loads(invoke("plan", "slow", "--voice", "test", "--json", cwd=tmp_path).stdout)
    minutes, seconds = divmod(round(planned["duration"], 1), 60)
    assert row.split()[-1] == f"{int(minutes)}:{seconds:04.1f}"


def test_a_bad_script_gets_located_errors_and_exit_1(tmp_path):
    bad = tmp_path / "bridge.yaml"
    bad.write_text("title: Bridge\nsteps:\n  - name: Bridge\n    holdd: 20\n")
    result = invoke("check", str(bad))
    assert result.returncode == 1
    assert f"{bad}:4:5: unknown key 'holdd' in step 1 (did you mean 'hold'?)" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_timing_warning_is_located_and_exits_0(tmp_path):
    script = tmp_path / "long.yaml"
    script.write_text(
        "title: Long cue\ncaution: false\nsteps:\n  - reps: 2\n    cycle:\n"
        "      - say: Exhale very slowly and completely, letting the whole back soften.\n        seconds: 2\n"
    )
    result = invoke("check", str(script), "--voice", "test")
    assert result.returncode == 0
    assert result.stdout.startswith(f"{script}:6:9: warning: cue 'Exhale very slowly")
    assert "too long for its 2 s phase" in result.stdout


def test_check_reads_each_script_once(tmp_path, monkeypatch):
    """The parse that finds the problems gives the routine whose timing is then checked."""
    from voiceguide.script import parse

    script = tmp_path / "long.yaml"
    script.write_text("title: T\ncaution: false\nsteps:\n  - reps: 2\n    cycle: [{say: Exhale very slowly "
                      "and completely., seconds: 1}]\n")
    reads, read = [], parse._read
    monkeypatch.setattr(parse, "_read", lambda path: reads.append(path) or read(path))
    result = invoke("check", str(script), "--voice", "test")
    assert result.returncode == 0 and "too long for its 1 s phase" in result.stdout  # the timing was checked
    assert reads == [script]


def test_plan_of_a_bad_script_prints_the_problems_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    result = invoke("plan", str(bad), "--voice", "test")
    assert result.returncode == 1
    assert result.stderr.startswith(f"{bad}:1:1: ")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args, message, code", [  # 2: argparse refused an option
    (["plan", "standing-reset", "--rate", "3"], "rate 3 is out of range", 2),
    (["plan", "standing-reset", "--duration", "soon"], "is not a duration", 2),
    (["plan", "standing-reset", "--duration", "1:75"], "'1:75' is not a duration; write M:SS", 2),
    (["plan", "standing-reset", "--duration", "1e3"], "'1e3' is not a duration", 2),
    (["plan", "standing-reset", "--duration", "3:00:01"], "at most 3 hours", 2),
    (["plan", "standing-reset", "--lead-in", "nan"], "'nan' is not a lead-in; write seconds of quiet from 0 to 60", 2),
    (["plan", "standing-reset", "--lead-in", "inf"], "'inf' is not a lead-in", 2),
    (["plan", "standing-reset", "--lead-in=-1"], "'-1' is not a lead-in", 2),
    (["export", "standing-reset", "--bitrate", "abc"], "'abc' is not a bit rate", 2),
    (["export", "standing-reset", "--bitrate", "320"], "bit rate 320 kbps is not an MP3 bit rate at 22050 Hz", 2),
    (["plan", "nothere"], "no routine named 'nothere'", 1),
    (["plan", "standing-reset", "--voice", "klingon"], "unknown voice engine 'klingon'", 1),
])
def test_bad_arguments_get_one_clear_message(args, message, code):
    result = invoke(*args)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["check", "plan", "export", "play"])
@pytest.mark.parametrize("lines, message", [
    ("voice: nosuchengine", ":2:1: unknown voice engine 'nosuchengine'; known engines: hibari, piper, system, test"),
    ("sounds:\n  chime: notaudio.wav", ":2:1: cannot decode sound file"),
])
def test_a_voice_or_sound_the_script_names_is_blamed_on_its_line(tmp_path, command, lines, message):
    script = tmp_path / "s.yaml"
    script.write_text(f"title: T\n{lines}\nsteps:\n  - hold: 5\n")
    (tmp_path / "notaudio.wav").write_text("not audio")
    result = invoke(command, str(script), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [line for line in result.stderr.splitlines() if line.startswith(f"{script}:")]
    assert f"{script}{message}" in result.stderr and "Traceback" not in result.stderr
    assert sorted(tmp_path.iterdir()) == [tmp_path / "notaudio.wav", script]  # nothing exported


def test_a_voice_given_on_the_command_line_is_not_blamed_on_the_script(tmp_path):
    script = tmp_path / "s.yaml"
    script.write_text("title: T\nvoice: test\nsteps:\n  - hold: 5\n")
    result = invoke("plan", str(script), "--voice", "nosuchengine")
    assert result.returncode == 1
    assert result.stderr.startswith("voiceguide: unknown voice engine 'nosuchengine'")


def test_module_and_version():
    result = run_voiceguide("--version")  # python -m voiceguide, in a process of its own
    assert result.returncode == 0 and result.stdout.startswith("voiceguide ")
    assert (REPO / "voiceguide" / "__main__.py").exists()


@pytest.mark.real
def test_the_readme_example_checks_clean_and_meets_its_duration(tmp_path):
    text = (REPO / "README.md").read_text()
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    script = tmp_path / "readme.yaml"
    script.write_text(example)
    checked = invoke("check", str(script))
    assert (checked.returncode, checked.stdout) == (0, "")
    plan = json.loads(invoke("plan", str(script), "--json").stdout)
    assert plan["duration"] == 240.0


ASCII_LOCALE = {"LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}
UNICODE_TITLED = """\
title: "Étirements du matin ☀"
caution: false
intro: Bonjour.
steps:
  - name: "Épaules — roulées"
    hold: 3
    countdown: 0
"""


def test_plan_in_an_ascii_locale_prints_what_the_terminal_can_show(tmp_path):
    script = tmp_path / "matin.yaml"
    script.write_text(UNICODE_TITLED, encoding="utf-8")
    done = run_voiceguide("plan", str(script), "--voice", "test", env=ASCII_LOCALE)  # a real stdout's encoding
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert done.stdout.startswith("?tirements du matin ? (")
    assert "?paules ? roul?es" in done.stdout


def test_help_loads_nothing_heavy():
    """``voiceguide --help`` answers at once: no numpy, no voice, no onnxruntime, no HTTP server."""
    import subprocess
    import sys

    probe = ("import contextlib, io, sys\nfrom voiceguide.cli import main\n"
             "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n    main(['--help'])\n"
             "print(' '.join(sorted(m for m in ('numpy', 'onnxruntime', 'hibari', 'piper', 'http.server', 'yaml')"
             " if m in sys.modules)))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""
