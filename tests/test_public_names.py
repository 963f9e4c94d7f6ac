"""What each package offers the layers above, pinned: its ``__all__``, as httpx's
tests/test_exported_members.py pins httpx's.  Changing a package's public names is a decision:
make it here too.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import voiceguide

PACKAGE = Path(voiceguide.__file__).parent

PUBLIC = {
    "voiceguide": ["Plan", "Routine", "VoiceguideError"],
    "voiceguide.log": ["RATING_QUESTION", "SCHEMA_VERSION", "Entry", "LogError", "PracticeLog", "ask_rating",
                       "default_path", "local_now", "log_table", "parse_rating", "ratings_chart", "write_csv"],
    "voiceguide.script": ["Breathing", "Phase", "Routine", "Span", "Step", "StepKind", "library", "parse", "routine",
                          "settings", "words"],
    "voiceguide.page": ["PAGE_SUFFIXES", "Exercise", "Group", "Imported", "Line", "Page", "PageError", "Work",
                        "import_page", "is_page", "read_lines", "recognise", "write_routine"],
    "voiceguide.programme": ["CAUTION_FULL", "Current", "Day", "Entry", "Phase", "Planned", "Programme",
                             "check_programme", "current_programme", "day_of", "load_programme", "programme_days",
                             "programme_names", "progress_values", "remember_programme", "weekdays_of"],
    "voiceguide.audio": ["bed", "decode", "dsp", "duck", "event_sums", "kinds", "loudness", "mix", "sounds"],
    "voiceguide.voice": ["cache", "catalog", "engines", "sayable", "speech", "text"],
    "voiceguide.voice.engines": ["Audio", "DEFAULT_ENGINE", "Engine", "VoiceInfo", "VoiceSettings", "default_first",
                                 "engine_classes", "get_engine_class", "parse_voice"],
    "voiceguide.timeline": ["Chapter", "Event", "EventKind", "Lengths", "Plan", "Role", "build_plan", "clock",
                            "events", "fit", "guide", "plan", "report", "search"],
    "voiceguide.export": ["writer"],
    "voiceguide.play": ["device", "keys", "live", "player", "resume", "screen"],
    "voiceguide.phone": ["DEFAULT_PORT", "artwork", "server", "site"],
}


def packages() -> list[str]:
    """Every folder of the package that holds Python modules, as a dotted name."""
    found = {PACKAGE} | {p.parent for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}
    return sorted(".".join(("voiceguide", *d.relative_to(PACKAGE).parts)) for d in found)


def test_every_package_is_pinned_and_says_what_it_holds():
    assert packages() == sorted(PUBLIC)
    for name in PUBLIC:
        init = PACKAGE.joinpath(*name.split(".")[1:], "__init__.py")
        tree = ast.parse(init.read_text(encoding="utf-8"))
        doc = ast.get_docstring(tree)
        assert doc and len(doc.split()) >= 12, f"{init}: say in a docstring what the package holds and offers"


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_names(name):
    package = importlib.import_module(name)
    assert package.__all__ == PUBLIC[name]
    namespace: dict = {}
    exec(f"from {name} import *", namespace)  # every name listed is there (a submodule is imported)
    assert set(PUBLIC[name]) <= set(namespace)
    # every class and function the package makes or takes from its own modules is listed
    offered = {k for k, v in vars(package).items()
               if not k.startswith("_") and (inspect.isclass(v) or inspect.isfunction(v))
               and (v.__module__ == name or v.__module__.startswith(name + "."))}
    assert offered <= set(PUBLIC[name])


def test_the_command_line_starts_without_numpy_or_yaml():
    """``voiceguide --help`` stays fast: no package's ``__init__`` pulls in the mixer or the YAML reader."""
    code = ("import sys, voiceguide.cli; heavy = {'numpy', 'yaml', 'PIL', 'voiceguide.audio.mix', 'voiceguide.script.parse'};"
            "print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
