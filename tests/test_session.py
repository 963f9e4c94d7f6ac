"""The pipeline glue: speech is made before planning, with a progress line on a terminal."""

from __future__ import annotations

import io

from voiceguide import session
from voiceguide.progress import Progress
from voiceguide.session import Options, prepare
from voiceguide.timeline.plan import build_plan


class TtyBuffer(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_speech_is_made_before_planning_with_a_progress_line(monkeypatch, tmp_path):
    monkeypatch.setattr(Progress, "DELAY_S", 0.0)
    monkeypatch.setattr(Progress, "INTERVAL_S", 0.0)
    stderr = TtyBuffer()
    monkeypatch.setattr("sys.stderr", stderr)
    asked_while_planning = []

    real_build = session.fit_plan

    def watching_fit(routine, lengths, **kw):
        speech = lengths.speech.__self__

        class Watch:
            sound = lengths.sound

            def speech(self, text):
                if speech.made(text) is None:
                    asked_while_planning.append(text)
                return lengths.speech(text)

        return real_build(routine, Watch(), **kw)

    monkeypatch.setattr(session, "fit_plan", watching_fit)
    result = prepare("gentle-relief", Options(voice="test", cache_dir=tmp_path))
    assert asked_while_planning == []  # no routine duration: every text was made ahead
    assert "Speaking Gentle relief sequence" in stderr.getvalue()
    assert "100%" in stderr.getvalue()
    assert stderr.getvalue().endswith("\r\x1b[K")  # the line is erased when done
    assert build_plan(result.routine, session._Lengths(result.speech, result.sounds)) == result.plan


def test_no_progress_line_when_stderr_is_not_a_terminal(monkeypatch, tmp_path):
    monkeypatch.setattr(Progress, "DELAY_S", 0.0)
    stderr = io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    prepare("hip-hinge", Options(voice="test", cache_dir=tmp_path))
    assert stderr.getvalue() == ""
