"""`pip install .` gives a working command with the built-in routines inside the package."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest
from helpers import REPO

BUILTINS = {"gentle-relief", "hip-hinge", "lower-back-and-hips", "morning", "sitting-reset", "standing-reset"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The wheel built from this checkout (offline: the build backend comes from the test extra),
    installed on its own into a folder; dependencies come from the running environment."""
    root = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "--no-index", "-w", str(root / "dist"), str(REPO)], check=True, capture_output=True)
    wheel = next((root / "dist").glob("voiceguide-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    "--target", str(root / "site"), str(wheel)], check=True, capture_output=True)
    return wheel, root / "site"


def test_the_wheel_carries_the_routines_the_schema_and_the_entry_points(installed):
    wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert {f"voiceguide/scripts/{n}.yaml" for n in BUILTINS} <= set(names)
    assert "voiceguide/script/routine.schema.json" in names
    assert "voiceguide/programmes/back-and-hips-four-weeks.yaml" in names
    assert {f"voiceguide/phone/web/{n}" for n in ("index.html", "app.js", "style.css", "manifest.webmanifest",
                                                  "keep-awake.webm", "keep-awake.mp4")} <= set(names)
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "voiceguide = voiceguide.cli:main" in entry_points
    assert "piper = voiceguide.voice.engines.piper:PiperEngine" in entry_points
    assert "hibari = voiceguide.voice.engines.hibari:HibariEngine" in entry_points
    assert "[voiceguide.voice.engines]" in entry_points  # the group the registry reads


def test_the_installed_package_finds_its_builtins_away_from_the_checkout(installed, tmp_path):
    _, site = installed
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run([sys.executable, "-m", "voiceguide", "plan", "standing-reset", "--voice", "test"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Standing reset (2:00.0)")
    where = subprocess.run([sys.executable, "-c", "import voiceguide, voiceguide.script.library as l; "
                            "print(voiceguide.__file__); print(l.builtin_dir())"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert where[0].startswith(str(site)) and where[1] == str(site / "voiceguide" / "scripts")
    result = subprocess.run([sys.executable, "-m", "voiceguide", "programme", "check", "back-and-hips-four-weeks"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "'Back and hips, four weeks', 4 weeks" in result.stdout
