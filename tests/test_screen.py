"""What the screen shows, read off a plan from the deterministic engine, and how it is laid out."""

from __future__ import annotations

import re

import pytest

from voiceguide.errors import Location
from voiceguide.play.screen import PlainScreen, big_text, plain_line, render_screen
from voiceguide.script.routine import Phase, Routine, Span, Step
from voiceguide.timeline.guide import Guide, Status, countdown_clock, find_stops
from voiceguide.timeline.plan import build_plan
from voiceguide.voice.engines.testing import TestEngine


def _step(kind: str, index: int, **fields) -> Step:
    return Step(kind, index, Location("t.yaml", index + 1, 1), **fields)


ROUTINE = Routine(
    title="Player test",
    steps=(
        _step("reps", 0, name="Pelvic tilts", setup=("Lie down.",), reps=Span(3, 3, integer=True),
              cycle=(Phase("Tilt.", 2), Phase("Back.", 2))),
        _step("hold", 1, name="Hip opener", sides=("left", "right"), hold=Span(6, 6), countdown=0),
        _step("rest", 2, rest=Span(4, 4)),
        _step("breaths", 3, name="Slow breaths", breaths=Span(2, 2, integer=True), inhale=2, exhale=3),
    ),
    path="t.yaml", caution=False, intro=("Stand up.",), outro=("Done.",),
)


class ToneLengths:
    """The test engine's speech lengths; every sound 0.3 s."""

    def speech(self, text: str) -> int:
        return TestEngine.length_samples(text)

    def sound(self, name: str) -> int:
        return round(0.3 * 22050)


PLAN = build_plan(ROUTINE, ToneLengths())
SR = PLAN.sample_rate
GUIDE = Guide(PLAN)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def events(role: str, step: int | None = None):
    return [e for e in PLAN.events if e.role == role and (step is None or e.step == step)]


def test_stops_are_intro_each_named_step_and_side_unnamed_steps_and_the_finish():
    stops = find_stops(PLAN)
    assert [s.title for s in stops] == ["Introduction", "Pelvic tilts", "Hip opener, left side",
                                        "Hip opener, right side", "Rest", "Slow breaths", "Finish"]
    assert [s.start for s in stops[:4]] == [c.start for c in PLAN.chapters[:4]]
    assert stops[0].start == 0
    assert stops[4].start == events("rest")[0].start
    assert stops[-1].start == min(e.start for e in PLAN.events if e.step == len(ROUTINE.steps))


def test_a_hold_counts_down_to_its_release_with_its_side():
    start, end = events("hold-start")[1], events("hold-end")[1]  # the right side
    s = GUIDE.status(start.start + SR)
    assert s.countdown_label == "Hold" and s.side == "right" and s.step == "Hip opener"
    assert s.countdown_s == pytest.approx((end.start - start.start - SR) / SR)
    assert s.step_number == 2 and s.next_step == "Rest"


def test_reps_show_rep_n_of_n_and_the_phase_countdown():
    cues = events("cue")
    assert len(cues) == 6  # 3 reps of 2 phases
    s = GUIDE.status(cues[3].start + SR // 2)  # rep 2, second phase
    assert s.count == (2, 3) and s.count_label == "Rep"
    assert s.countdown_s == pytest.approx((cues[4].start - cues[3].start - SR // 2) / SR)
    assert s.saying == cues[3].text
    last = GUIDE.status(cues[5].start)
    assert last.count == (3, 3) and last.countdown_s == pytest.approx(2.0)  # its phase: 2 s
    assert [GUIDE.status(c.start).countdown_label for c in cues] == ["Tilt", "Back"] * 3  # as said, not "Phase"


def test_exercises_are_counted_without_rests_each_side_the_same_exercise():
    assert [GUIDE.status(c.start).exercise for c in PLAN.chapters[1:]] == [(1, 3), (2, 3), (2, 3), (3, 3)]
    assert GUIDE.status(events("rest")[0].end + SR).exercise is None
    assert GUIDE.status(0).exercise is None  # the introduction


def test_breaths_count_breaths_and_the_rest_counts_down_to_the_next_step():
    inhales = [e for e in PLAN.events if e.sound == "inhale" and e.step == 3]
    s = GUIDE.status(inhales[1].start)
    assert s.countdown_label == "Breathe in" and s.count == (2, 2) and s.countdown_s == pytest.approx(2.0)
    word = events("rest")[0]
    next_start = PLAN.chapters[-1].start
    r = GUIDE.status(word.end + SR)
    assert r.step == "Rest" and r.countdown_label == "Rest"
    assert r.countdown_s == pytest.approx((next_start - word.end - SR) / SR)


def test_what_is_said_belongs_to_the_current_step():
    chime = PLAN.chapters[1].start  # after the Introduction
    assert GUIDE.status(chime).saying is None  # the chime sounds; nothing of this step said yet
    name = events("name", 0)[0]
    assert GUIDE.status(name.start).saying == "Pelvic tilts."
    assert GUIDE.status(PLAN.length - 1).step == "Finish"


def test_clock_rounds_up_so_a_countdown_ends_at_zero():
    assert [countdown_clock(x) for x in (0, 0.01, 59.2, 60, 61.0, 125.5)] == ["0:00", "0:01", "1:00", "1:00", "1:01", "2:06"]


def test_big_text_draws_block_letters_within_the_width():
    assert big_text("A", 10, ascii_only=True) == [" # ", "# #", "###", "# #", "# #"]
    assert big_text("A", 10) == ["▄▀▄", "█▀█", "▀ ▀"]  # half blocks: five pixel rows in three
    assert big_text("A", 10, scale=2)[0] == "  ██  "
    rows = big_text("Hip flexor opener", 40)
    assert rows is not None and all(len(r) <= 40 for r in rows) and len(rows) == 3 + 1 + 3  # two lines
    assert big_text("Hip flexor opener", 20) is None  # would need three lines
    assert big_text("Épaule", 30) == big_text("EPAULE", 30)


def _visible(lines):
    return [ANSI.sub("", line) for line in lines]


@pytest.mark.parametrize("width, height", [(100, 40), (80, 24), (40, 15), (30, 10)])
def test_the_view_fits_the_terminal(width, height):
    hold = events("hold-start")[0]
    lines = _visible(render_screen(GUIDE.status(hold.start + SR, paused=True), width, height))
    assert len(lines) <= height and all(len(line) <= width for line in lines)
    text = "\n".join(lines)
    assert "Player test" in text and "Hold: 0:05 left" in text and "PAUSED" in text
    assert "left" in text.lower() and "Next: Hip opener, right side" in text


def test_the_view_uses_the_largest_type_that_fits():
    status = GUIDE.status(PLAN.chapters[1].start + SR)
    tall = _visible(render_screen(status, 100, 40))
    short = _visible(render_screen(status, 100, 14))  # 15 lines at scale 2, 13 at scale 1
    tiny = _visible(render_screen(status, 100, 12))
    assert any("██  ██" in line for line in tall)  # scale 2: two columns a pixel
    assert any("▀" in line for line in short) and not any("██  ██" in line for line in short)
    assert "PELVIC TILTS" in tiny


def test_progress_bar_and_time_left():
    half = GUIDE.status(PLAN.length // 2)
    bar = next(line for line in _visible(render_screen(half, 60, 40)) if line.startswith("["))
    inside = bar[1 : bar.index("]")]
    assert abs(inside.count("█") - inside.count("░")) <= 1
    assert bar.endswith(f" {countdown_clock(PLAN.length / SR / 2)} left")


def test_plain_output_prints_every_step_passed_once_and_in_order(capsys):
    import sys

    screen = PlainScreen(GUIDE, sys.stdout)
    with screen:
        screen.update(0)
        screen.update(PLAN.chapters[3].start + 10)  # jumped over two steps: both are printed
        screen.update(PLAN.chapters[3].start + 20)  # same step: nothing
        screen.update(PLAN.chapters[1].start)  # back: where it lands
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Player test (1:03)"
    assert [line.split("  ", 1)[1].split(" (")[0] for line in lines[1:]] == [
        "Introduction", "step 1 of 4: Pelvic tilts", "step 2 of 4: Hip opener, left side",
        "step 2 of 4: Hip opener, right side", "step 1 of 4: Pelvic tilts"]


def test_plain_line():
    s = Status("T", "Hold", 3, 5, "left", None, None, None, None, "", "Rest", 65.0, 100.0)
    assert plain_line(s) == "1:05  step 3 of 5: Hold, left side (next: Rest)"


def test_the_screen_says_which_bed_is_under_the_voice(capsys):
    import sys

    sound = "bed: drone at -20 LU, ducked under speech; cues at -12 LU"
    guide = Guide(PLAN, sound)
    lines = _visible(render_screen(guide.status(SR), 100, 40))
    assert "Bed: drone at -20 LU, ducked under speech; cues at -12 LU" in lines
    assert not any("Bed:" in line for line in _visible(render_screen(GUIDE.status(SR), 100, 40)))
    with PlainScreen(guide, sys.stdout) as screen:
        screen.update(0)
    assert capsys.readouterr().out.splitlines()[1] == "Bed: drone at -20 LU, ducked under speech; cues at -12 LU"


def test_reps_whose_phases_are_breaths_pace_the_breathing_guide_by_name_or_sound():
    from voiceguide.timeline.guide import breaths

    routine = Routine(title="Breaths by name", path="t.yaml", caution=False, steps=(
        _step("reps", 0, name="Arm lifts", reps=Span(2, 2, integer=True),
              cycle=(Phase("Inhale, and lift.", 3), Phase("Exhale, and lower.", 2), Phase("Pause.", 1))),
        _step("reps", 1, name="Tilts", reps=Span(1, 1, integer=True),
              cycle=(Phase("Flatten.", 2, sound="exhale"), Phase("Tip.", 2))),
    ))
    plan = build_plan(routine, ToneLengths())
    cues = [e for e in plan.events if e.role == "cue"]
    found = breaths(plan)
    assert [(b.start, b.inhale) for b in found] == [(cues[0].start, True), (cues[1].start, False),
                                                    (cues[3].start, True), (cues[4].start, False),
                                                    (cues[6].start, False)]  # "Pause." and "Tip." are not breaths
    assert [b.end for b in found[:2]] == [cues[1].start, cues[2].start]  # as long as the phase
