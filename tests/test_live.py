"""The live plan: speech released one utterance at a time, and what is mixed meanwhile is final."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from voiceguide.audio.dsp import to_pcm16
from voiceguide.audio.mix import Mix, mastered_blocks
from voiceguide.audio.sounds import SoundBank
from voiceguide.play.keys import Action
from voiceguide.play.live import LivePlan, exact_through
from voiceguide.play.player import PREROLL_S
from voiceguide.script.parse import parse_text
from voiceguide.script.settings import Overrides, Settings
from voiceguide.session import prepare
from voiceguide.timeline.plan import SAMPLE_RATE
from voiceguide.voice.speech import Speech

SCRIPT = """\
title: Live test
caution: false
intro: Find a spot on the floor.
steps:
  - name: Pelvic tilts
    setup: Lie on your back.
    reps: 3-5
    cycle:
      - {say: "Exhale, flatten.", short: Exhale., seconds: 3}
      - {say: Inhale., seconds: 3}
  - name: Hip opener
    sides: [left, right]
    hold: 8-14
    reminders: [Ribs over hips.]
  - rest: 5
  - name: Slow breaths
    breaths: 2
    inhale: 3
    exhale: 4
outro: Well done.
"""


class Gated:
    """The test voice, speaking one utterance each time it is let go."""

    def __init__(self, engine):
        self.engine, self.name = engine, engine.name
        self.go = threading.Semaphore(0)
        self.spoken: list[str] = []

    def synthesize(self, text, settings):
        self.go.acquire()
        self.spoken.append(text)
        return self.engine.synthesize(text, settings)

    def __getattr__(self, name):  # everything else as the test voice has it
        return getattr(self.engine, name)

    def let_all_go(self):
        """More utterances than any session here asks for, fitting's alternatives included."""
        for _ in range(200):
            self.go.release()


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "live-test.yaml"
    path.write_text(SCRIPT)
    return path


def live_plan(script, tmp_path, target_s):
    routine = parse_text(SCRIPT, str(script))
    speech = Speech("test", cache_dir=tmp_path / "cold", sample_rate=SAMPLE_RATE)
    speech.engine = gate = Gated(speech.engine)
    live = LivePlan(routine, speech, SoundBank(SAMPLE_RATE), Settings(duration_s=target_s))
    return live, gate


@pytest.mark.parametrize("target_s", [None, 95.0])
def test_blocks_mixed_while_speech_arrives_are_the_finished_plan_mixed(script, tmp_path, target_s):
    live, gate = live_plan(script, tmp_path, target_s)
    assert not live.plan.final and live.plan.exact_until == int(0.5 * SAMPLE_RATE)  # nothing spoken yet
    live.start()
    gate.go.release()  # the first utterance: enough to choose the levels
    levels = live.levels(0)
    got: list[tuple[int, np.ndarray]] = []
    mixer = threading.Thread(target=lambda: got.extend(live.blocks(levels)))
    mixer.start()
    frontiers = []
    while mixer.is_alive():  # one utterance at a time, noting how far the plan is exact each time
        frontiers.append(live.plan.exact_until)
        gate.go.release()
        mixer.join(0.005)
    live.close()
    final = live.plan
    assert live.settled and final.final
    assert len(set(frontiers)) > 3  # the plan firmed up step by step
    positions = [a for a, _ in got]
    assert positions[0] == 0 and positions == sorted(positions)
    mixed = np.concatenate([block for _, block in got])
    speech = live.speech
    want = np.concatenate([to_pcm16(b) for b in mastered_blocks(Mix(final, speech, live.sounds), levels)])
    assert np.array_equal(mixed, want)
    if target_s is not None:
        assert final.length == int(round(target_s * SAMPLE_RATE))  # fitted as speech arrived, still on target


def test_with_speech_made_before_mixing_reaches_a_step_the_plan_is_exports(script, tmp_path):
    live, gate = live_plan(script, tmp_path, 95.0)
    live.start()
    gate.let_all_go()
    live.when(lambda plan: False)  # until settled
    levels = live.levels(0)
    blocks = list(live.blocks(levels))
    live.close()
    exported = prepare(str(script), Overrides(voice="test", duration_s=95.0), cache_dir=tmp_path / "other")
    assert live.plan == exported.plan
    assert sum(len(b) for _, b in blocks) == exported.plan.length


def test_a_failing_voice_is_reported_to_whoever_waits(script, tmp_path):
    live, gate = live_plan(script, tmp_path, None)

    def broken(text, settings):
        raise RuntimeError("the voice broke")

    gate.synthesize = broken
    live.start()
    with pytest.raises(RuntimeError, match="the voice broke"):
        live.levels(0)
    live.close()


def test_from_a_later_step_the_blocks_start_there_and_cover_the_rest(script, tmp_path):
    live, gate = live_plan(script, tmp_path, None)
    live.start()
    gate.let_all_go()
    plan = live.when(lambda p: False)
    start = next(c.start for c in plan.chapters if c.title == "Slow breaths")
    levels = live.levels(start)
    later = list(live.blocks(levels, start))
    earlier = list(live.blocks(levels, 0, start))
    live.close()
    assert later[0][0] == start and earlier[0][0] == 0
    assert sum(len(b) for _, b in later) == plan.length - start
    assert sum(len(b) for _, b in earlier) == start


def test_from_a_step_on_a_first_run_waits_for_the_speech_before_it_with_a_progress_line(script, tmp_path,
                                                                                        monkeypatch):
    from test_session import TtyBuffer

    from voiceguide.play.player import live_start
    from voiceguide.progress import Progress

    monkeypatch.setattr(Progress, "DELAY_S", 0.0)
    monkeypatch.setattr(Progress, "INTERVAL_S", 0.0)
    stderr = TtyBuffer()
    monkeypatch.setattr("sys.stderr", stderr)
    live, gate = live_plan(script, tmp_path, None)
    live.start()
    found: list[int] = []
    waiting = threading.Thread(target=lambda: found.append(live_start(live, "slow")))
    waiting.start()
    while waiting.is_alive():
        gate.go.release()
        waiting.join(0.02)
    gate.let_all_go()
    final = live.when(lambda plan: False)
    live.close()
    assert found == [next(c.start for c in final.chapters if c.title == "Slow breaths")]
    assert "Speaking Live test to step 4" in stderr.getvalue() and stderr.getvalue().endswith("\r\x1b[K")


class RecordedOutput:
    """Stands in for the sound device: notes what would be played."""

    def __init__(self):
        self.plays: list[tuple[int, int]] = []

    def play(self, samples, start):
        self.plays.append((start, len(samples)))

    def stop(self):
        return 0

    playing = False


def test_a_skip_far_ahead_is_mixed_at_once_while_speech_is_still_being_made(script, tmp_path):
    """n: the player finds the next step and asks the mixer for it; neither may wait for playback to
    get near it, nor for all the speech to be made (which, here, never happens)."""
    import io

    from voiceguide.play.player import Player

    live, gate = live_plan(script, tmp_path, None)
    live.start()
    gate.go.release()
    player = Player(live, stdin=io.StringIO(), stdout=io.StringIO())
    player.output = RecordedOutput()
    player.buffer.start()
    player._play_from(0)  # playing from the start ...
    title = "Hip opener, left side"

    def placed(plan):
        at = next((c.start for c in plan.chapters if c.title == title), None)
        return at is not None and exact_through(plan, at + int((PREROLL_S + 1) * SAMPLE_RATE))

    enough = threading.Event()

    def feed():  # speech up to just past the skip, not all of it
        while not enough.wait(0.02):
            gate.go.release()

    feeder = threading.Thread(target=feed)
    feeder.start()
    plan = live.when(placed)
    enough.set()
    feeder.join()
    hop = next(c.start for c in plan.chapters if c.title == title)
    assert hop > player.buffer.filled_until(0) and not live.settled
    player.position = next(c.start for c in plan.chapters if c.title == "Pelvic tilts") + 1
    skipping = threading.Thread(target=player._act, args=([Action.NEXT],))  # ... then n, from the tilts to the hop
    skipping.start()
    skipping.join(30)
    stuck = skipping.is_alive()
    gate.let_all_go()
    skipping.join()
    player.buffer.cancel()
    live.close()
    assert not stuck, "the skip waited for all the speech"
    assert player.output.plays[-1][0] == hop


def test_when_the_guessed_length_was_short_the_buffer_grows_and_a_play_on_the_old_one_is_whole(script, tmp_path):
    from voiceguide.play.device import SessionBuffer

    live, gate = live_plan(script, tmp_path, None)
    live.start()
    gate.let_all_go()
    final = live.when(lambda plan: False)
    levels = live.levels(0)
    buffer = SessionBuffer(live, levels, 0, ahead_s=1000.0, preroll_s=1000.0)
    short = final.length // 2 + 123  # as if the guess had been half the session, ending mid-block
    buffer.samples = np.zeros(short, dtype=np.int16)
    held_by_a_play = buffer.samples
    buffer.start()
    buffer.wait_for(0, final.length)
    live.close()
    want = np.concatenate([to_pcm16(b) for b in mastered_blocks(Mix(final, live.speech, live.sounds), levels)])
    assert np.array_equal(buffer.samples[: final.length], want)
    assert np.array_equal(held_by_a_play, want[:short])  # nothing the old array covers was left out
