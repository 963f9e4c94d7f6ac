"""The pipeline glue: speech is made before planning, with a progress line on a terminal."""

from __future__ import annotations

import io
import json

from voiceguide import session
from voiceguide.progress import Progress
from voiceguide.script.settings import Overrides
from voiceguide.session import prepare
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
        if not isinstance(lengths, session._Lengths):  # speak_ahead's fit with guessed lengths
            return real_build(routine, lengths, **kw)
        speech = lengths.speech.__self__

        class Watch:
            sound = lengths.sound

            def speech(self, text):
                if speech.made(text) is None:
                    asked_while_planning.append(text)
                return lengths.speech(text)

        return real_build(routine, Watch(), **kw)

    monkeypatch.setattr(session, "fit_plan", watching_fit)
    result = prepare("gentle-relief", Overrides(voice="test"), cache_dir=tmp_path)
    assert asked_while_planning == []  # no routine duration: every text was made ahead
    assert "Speaking Gentle relief sequence" in stderr.getvalue()
    assert "100%" in stderr.getvalue()
    assert stderr.getvalue().endswith("\r\x1b[K")  # the line is erased when done
    assert build_plan(result.routine, session._Lengths(result.speech, result.sounds)) == result.plan


def test_no_progress_line_when_stderr_is_not_a_terminal(monkeypatch, tmp_path):
    monkeypatch.setattr(Progress, "DELAY_S", 0.0)
    stderr = io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    prepare("hip-hinge", Overrides(voice="test"), cache_dir=tmp_path)
    assert stderr.getvalue() == ""


def long_holds(tmp_path, duration: str | None):
    """60 holds of 150-200 s: 3.0 hours with every range at its middle, 2.5 at the low end."""
    steps = "".join(f"  - name: Hold {i + 1}\n    hold: 150-200\n    countdown: 0\n" for i in range(60))
    target = f'duration: "{duration}"\n' if duration else ""
    path = tmp_path / "long-holds.yaml"
    path.write_text(f"title: Long holds\ncaution: false\n{target}steps:\n{steps}")
    return path


def test_a_target_the_middles_of_the_ranges_overshoot_is_met_by_check_plan_and_prepare(tmp_path):
    from helpers import invoke

    path = long_holds(tmp_path, "2:55:00")
    checked = invoke("check", str(path), "--voice", "test")  # check prints its problems on stdout
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")
    planned = invoke("plan", str(path), "--voice", "test", "--json")  # session.prepare: what export writes
    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)
    assert plan["duration"] == 2 * 3600 + 55 * 60 and plan["warnings"] == []


def test_with_no_target_the_limit_is_checked_against_the_shortest_session(tmp_path):
    """The middles go past 3 hours, the low ends do not: as long as the limit allows, not an error."""
    plan = prepare(str(long_holds(tmp_path, None)), Overrides(voice="test")).plan
    assert 3 * 3600 - 1 <= plan.duration_s <= 3 * 3600


def test_two_workers_make_the_longest_texts_first_and_the_progress_counts_every_one(monkeypatch, tmp_path):
    """So neither worker is left with a long text while the other idles at the end.

    The order is checked where the session decides it, in the pool's queue, which its two threads
    take from first in, first out.  (The order the engine is called in is not exact: a thread
    preempted between taking a text and starting it is overtaken, and on a busy machine, as under
    pytest-xdist, the other thread overtook it by four short texts.)
    """
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from voiceguide.voice.engines.testing import TestEngine

    lock, asked, queued, threads, counted = threading.Lock(), [], [], set(), []
    real = TestEngine.synthesize

    def noted(self, text, settings):
        with lock:
            asked.append(text)
            threads.add(threading.current_thread().name)
        return real(self, text, settings)

    class Queue(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):
            queued.append(args[0])
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(TestEngine, "workers", 2)
    monkeypatch.setattr(TestEngine, "synthesize", noted)
    monkeypatch.setattr(session, "ThreadPoolExecutor", Queue)
    monkeypatch.setattr(Progress, "advance_to", lambda self, done: counted.append((done, self.total)))
    prepare("gentle-relief", Overrides(voice="test"), cache_dir=tmp_path)
    assert len(queued) > 10 and sorted(asked) == sorted(queued)  # each text made once, by the engine
    lengths = [len(text) for text in queued]
    assert lengths == sorted(lengths, reverse=True)  # longest first
    assert all(name.startswith("speech") for name in threads)  # made in the pool's threads
    assert counted == [(done, len(queued)) for done in range(1, len(queued) + 1)]
