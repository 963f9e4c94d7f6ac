"""What the commands write on stdout, written where it cannot go: a full device, a closed pipe.

Real processes writing to the real ``/dev/full`` (opening it for writing is harmless: every write
fails with ENOSPC) and to a pipe whose reader has gone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import REPO

COMMANDS = {
    "list": ["list", "--voice", "test"],
    "plan": ["plan", "standing-reset", "--voice", "test"],
    "plan --json": ["plan", "standing-reset", "--voice", "test", "--json"],
    "voices": ["voices"],
    "cache info": ["cache", "info"],
    "export": ["export", "{short}", "--voice", "test", "-o", "{tmp}/x.mp3"],
    "export --site": ["export", "{short}", "--voice", "test", "--site", "{tmp}/site"],
}
SHORT = "title: Short\ncaution: false\nsteps:\n  - name: Hold it\n    hold: 3\n"
"""What the exports here export: their output is a path whatever the session's length, so a short one."""


def short_script(folder) -> str:
    path = folder / "short.yaml"
    path.write_text(SHORT, encoding="utf-8")
    return str(path)


def command(name: str, tmp_path) -> list[str]:
    words = (a.format(tmp=tmp_path, short=short_script(tmp_path)) for a in COMMANDS[name])
    return [sys.executable, "-m", "voiceguide", *words]


# `voices` measures each real voice's speed the first time (hibari, Piper and espeak-ng synthesise a
# sample): a real-voice test, so `make test` runs it and `make test-quick` leaves it out like the others.
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.real) if n == "voices" else n for n in COMMANDS])
def test_a_stdout_that_cannot_be_written_is_one_line_and_exit_1(name, tmp_path):
    with open("/dev/full", "w") as full:
        done = subprocess.run(command(name, tmp_path), cwd=REPO, stdout=full, stderr=subprocess.PIPE, text=True,
                              timeout=300)
    assert done.stderr.splitlines()[-1:] == ["voiceguide: cannot write to standard output (No space left on device)"]
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert done.returncode == 1


@pytest.mark.parametrize("name", ["plan", "plan --json", "export"])
def test_a_closed_pipe_stays_a_quiet_exit_0(name, tmp_path):
    with subprocess.Popen(command(name, tmp_path), cwd=REPO, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as process:  # closes the pipes it made, at the end
        process.stdout.close()  # type: ignore[union-attr]  # the reader is gone before anything is written
        err = process.stderr.read().decode()  # type: ignore[union-attr]
        assert process.wait(timeout=300) == 0, err
    assert "Traceback" not in err and "Exception ignored" not in err


# --------------------------------------------------------------------------- any locale

ASCII_ONLY = {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}  # stdout's encoding: ASCII
TITLE = "Étirement du matin — ✓ 朝"


def run_bytes(*args: str, cwd=REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "voiceguide", *args], cwd=cwd, capture_output=True, timeout=300,
                          env={**os.environ, **ASCII_ONLY})


def test_plan_json_survives_an_ascii_stdout(tmp_path):
    script = tmp_path / "morning.yaml"
    script.write_text(f"title: {TITLE}\ncaution: false\nsteps:\n  - name: Étirer\n    hold: 5\n", encoding="utf-8")
    done = run_bytes("plan", str(script), "--voice", "test", "--json")
    assert done.returncode == 0, done.stderr
    assert done.stdout.isascii()
    plan = json.loads(done.stdout)
    assert plan["title"] == TITLE and plan["chapters"][0]["title"] == "Étirer"


@pytest.mark.parametrize("folder", [b"caf\xc3\xa9", b"caf\xe9"], ids=["utf-8", "not utf-8"])
def test_export_prints_the_path_as_the_bytes_it_is(tmp_path, folder):
    where = os.path.join(os.fsencode(tmp_path), folder)
    os.mkdir(where)
    target = os.path.join(where, b"x.mp3")
    short = short_script(tmp_path)
    done = run_bytes("export", short, "--voice", "test", "-o", os.fsdecode(target))
    assert done.returncode == 0, done.stderr
    assert done.stdout == target + b"\n"
    assert os.path.isfile(done.stdout.rstrip(b"\n"))  # a script reading stdout can open it
    site = os.path.join(where, b"site")
    done = run_bytes("export", short, "--voice", "test", "--site", os.fsdecode(site))
    assert done.returncode == 0, done.stderr
    assert done.stdout == os.path.join(site, b"index.html") + b"\n"
