"""``voiceguide voices``: every engine and voice with its language, sex, speed here and whether it works."""

from __future__ import annotations

import json

import pytest
from helpers import run_voiceguide
from test_speech import counting, missing

from voiceguide.errors import EngineError
from voiceguide.voice import catalog, engines
from voiceguide.voice.engines import Audio, VoiceSettings
from voiceguide.voice.engines.testing import TestEngine


@pytest.fixture
def registry(monkeypatch):
    classes = dict(engines.engine_classes())
    monkeypatch.setattr(engines, "engine_classes", lambda: classes)
    return classes


def section(report: str, engine: str) -> list[str]:
    return report.split(f"\n{engine}")[1].split("\n\n")[0].splitlines()[1:]


def test_the_report_lists_engines_voices_defaults_and_what_cannot_run(registry, tmp_path):
    registry["espeakless"] = missing("espeakless", "espeak-ng is not installed: apt-get install espeak-ng")
    report = catalog.voices_report(tmp_path)
    assert report.index("hibari (default):") < report.index("piper:") < report.index("system:")
    [joe] = section(report, "piper:")
    assert joe.startswith("  * en_US-joe-medium  en-US   male  ") and "x  works here  Joe, US English" in joe
    [heart] = section(report, "hibari (default):")
    assert heart.startswith("  * heart  en-US   female  ") and "works here" in heart
    assert "espeakless: deterministic tones" in report
    assert "  cannot run here: espeak-ng is not installed: apt-get install espeak-ng" in report
    system_lines = section(report, "system:")
    assert len(system_lines) > 5 and sum(line.startswith("  *") for line in system_lines) == 1
    english = next(line for line in system_lines if " gmw/en " in line)
    assert "  en-gb   male" in english  # the language and sex pyttsx3 gives each espeak-ng voice


def test_speed_is_measured_once_per_voice_version_and_kept_in_the_cache_folder(registry, tmp_path):
    registry["counting"] = Counting = counting(TestEngine, "counting")
    first = {f.engine: f for f in catalog.voice_facts(tmp_path)}
    assert Counting.calls == ["Ready.", catalog.SPEED_TEXT]  # warmed up, then timed
    speeds = json.loads((tmp_path / catalog.SPEEDS_FILE).read_text())
    assert speeds["counting|tone|test-1"] == first["counting"].x_realtime > 1
    assert any(key.startswith("hibari|heart|hibari-tts ") for key in speeds)
    again = {f.engine: f for f in catalog.voice_facts(tmp_path)}
    assert Counting.calls == ["Ready.", catalog.SPEED_TEXT] and again["counting"].x_realtime == first["counting"].x_realtime
    Counting.version = lambda self, settings: "test-2"  # a new engine or voice version: measured again
    catalog.voice_facts(tmp_path)
    assert len(Counting.calls) == 4


def test_a_default_voice_that_fails_says_so_and_why(registry, tmp_path):
    class Failing(TestEngine):
        name = "failing"

        def synthesize(self, text: str, settings: VoiceSettings) -> Audio:
            raise EngineError("the model file is damaged; reinstall it")

    registry["failing"] = Failing
    lines = section(catalog.voices_report(tmp_path), "failing:")
    assert "fails here" in lines[0] and lines[1].strip() == "the model file is damaged; reinstall it"
    assert "failing|" not in (tmp_path / catalog.SPEEDS_FILE).read_text()  # not remembered: tried again next time


def test_the_command_prints_the_report(tmp_path):
    result = run_voiceguide("--cache-dir", str(tmp_path), "voices")
    assert result.returncode == 0 and result.stderr == ""
    assert "* heart  en-US   female" in result.stdout and (tmp_path / catalog.SPEEDS_FILE).is_file()
