"""The test helpers themselves: ``invoke`` gives what a real process would, and leaves nothing behind."""

from __future__ import annotations

import ast
import os
from pathlib import Path

from helpers import invoke, run_voiceguide

TESTS = Path(__file__).parent


def test_invoke_gives_the_code_and_output_a_real_process_gives(tmp_path):
    for args in (["plan", "nothere"], ["plan", "standing-reset", "--rate", "3"], ["--version"]):
        inside, real = invoke(*args), run_voiceguide(*args)
        assert (inside.returncode, inside.stdout, inside.stderr) == (real.returncode, real.stdout, real.stderr), args


def test_invoke_puts_back_the_folder_and_the_environment(tmp_path):
    before_dir, before_env = os.getcwd(), dict(os.environ)
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "mine.yaml").write_text("title: Mine\nsteps:\n  - say: Hello.\n")
    done = invoke("plan", "mine", "--voice", "test", cwd=tmp_path, env={"VOICEGUIDE_CACHE": str(tmp_path / "c")})
    assert done.returncode == 0 and done.stdout.startswith("Mine (")
    assert (tmp_path / "c").is_dir()  # the environment was the one given ...
    assert (os.getcwd(), dict(os.environ)) == (before_dir, before_env)  # ... and is as it was


def test_no_test_imports_conftest():
    """pytest loads conftest.py itself; a test importing it gets a second copy of its fixtures' state."""
    found = []
    for path in sorted(TESTS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) else [])
            if "conftest" in names:
                found.append(f"{path.name}:{node.lineno}")
    assert found == []


def test_collecting_the_tests_makes_no_speech(collection_cache):
    """Speech made while a test module is collected (before the session's cache is set) would land in
    the checkout's audio_cache/; conftest gives collection a cache of its own, and it stays empty."""
    assert sorted(p.name for p in collection_cache.rglob("*")) == []
