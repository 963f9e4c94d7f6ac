"""An independent listener hears every cue of an exported routine, where the plan puts it, for every real voice.

The MP3 is decoded by ffmpeg; each speech event of the plan is cut out at its plan times and
pocketsphinx, constrained to the routine's prompts plus wrong distractors, must pick the right one.
"""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from helpers import run_voiceguide
from listener import recognise, words

SCRIPT = """\
title: Listening test
caution: false
steps:
  - say: Lie on your back with your knees bent.
  - name: Pelvic tilts
    reps: 2
    cycle:
      - {say: Exhale and flatten your back., seconds: 4}
      - {say: Inhale and let it tip., seconds: 4}
  - say: Now stand up slowly.
outro: That is the end of the session.
"""
DISTRACTORS = ["Roll onto your side.", "Reach your arms overhead.", "Hold your breath.", "Turn to the left."]
RATE = 16000
MARGIN_S = 0.15


def decoded(path) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "1", "-ar", str(RATE), "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype="<f4")


@pytest.mark.parametrize("voice", ["piper", "hibari", "system"])
def test_every_cue_is_heard_where_the_plan_puts_it(tmp_path, voice):
    script = tmp_path / "listen.yaml"
    script.write_text(SCRIPT)
    exported = run_voiceguide("export", str(script), "--voice", voice, "-o", str(tmp_path / "listen.mp3"))
    assert exported.returncode == 0, exported.stderr
    plan = json.loads(run_voiceguide("plan", str(script), "--voice", voice, "--json").stdout)
    audio = decoded(tmp_path / "listen.mp3")
    speech = [e for e in plan["events"] if e["kind"] == "speech"]
    prompts = sorted({e["text"] for e in speech}) + DISTRACTORS
    heard = []
    for event in speech:
        a, b = int((event["start"] - MARGIN_S) * RATE), int((event["end"] + MARGIN_S) * RATE)
        heard.append(recognise(audio[max(a, 0):b], RATE, prompts, sequence=False))
    assert heard == [" ".join(words(e["text"])) for e in speech]
