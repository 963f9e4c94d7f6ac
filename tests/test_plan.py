"""Timing rules 1-7 of the contract, asserted to the sample on plans from the deterministic test engine."""

from __future__ import annotations

import itertools

import pytest
from tones import step

from voiceguide.errors import Location, PlanError
from voiceguide.script.parse import parse_text
from voiceguide.script.routine import RANGED_KEYS, Breathing, Phase, Routine, Span, Step, walk
from voiceguide.timeline.fit import fit_plan
from voiceguide.timeline.plan import PREVIEW_BEFORE_NEXT_S, SAMPLE_RATE, build_plan, step_advance
from voiceguide.voice.engines.testing import TestEngine

SR = SAMPLE_RATE
SOUND_S = 0.8


def n(seconds: float) -> int:
    return int(round(seconds * SR))


class ToneLengths:
    """Speech lengths of the test engine at a given rate; every sound 0.8 s."""

    def __init__(self, rate: float = 1.0):
        self.rate = rate

    def speech(self, text: str) -> int:
        return TestEngine.length_samples(text, self.rate)

    def sound(self, name: str) -> int:
        return n(SOUND_S)


def routine(*steps: Step, **fields) -> Routine:
    return Routine(title="Test", steps=tuple(steps), path="t.yaml", **fields)


TILTS = step(
    "reps", 0, name="Pelvic tilts", setup=("Lie on your back.",), reps=Span(8, 12, integer=True),
    cycle=(Phase("Exhale, flatten your low back.", 5, short="Exhale."), Phase("Inhale.", 5)),
)
OPENER = step(
    "hold", 1, name="Hip flexor opener", sides=("left", "right"), setup=("Kneel on your {side} knee.",),
    hold=Span(20, 30), breathe=Breathing(4, 6), reminders=("Ribs over hips.", "Avoid arching."),
)
REST = step("rest", 2, rest=Span(10, 10))
BREATHS = step("breaths", 3, name="Slow breaths", breaths=Span(3, 3, integer=True), inhale=4, exhale=6)
FULL = routine(TILTS, OPENER, REST, BREATHS, intro=("Find a spot on the floor.",), outro=("Well done.",))


def events(plan, role=None, kind=None, step=None):
    return [
        e for e in plan.events
        if (role is None or e.role == role) and (kind is None or e.kind == kind) and (step is None or e.step == step)
    ]


@pytest.mark.parametrize("rate", [1.0, 0.5, 2.0])
def test_rule1_each_phase_lasts_exactly_its_seconds(rate):
    plan = build_plan(FULL, ToneLengths(rate))
    cues = events(plan, role="cue")
    assert len(cues) == 10 * 2  # middle of 8-12 is 10 reps, two phases each
    gaps = [b.start - a.start for a, b in itertools.pairwise(cues)]
    assert gaps == [n(5)] * len(gaps)


def test_rule1_counts_and_last_one_are_part_of_the_phase_cue():
    texts = [e.text for e in events(build_plan(FULL, ToneLengths()), role="cue")]
    assert texts[0] == "One. Exhale, flatten your low back."
    assert texts[2] == "Two. Exhale, flatten your low back."
    assert texts[4] == "Three. Exhale."  # the short cue after the first two reps
    assert texts[-2] == "Last one. Exhale."


def test_rule2_hold_lasts_exactly_from_start_to_release_sound():
    plan = build_plan(FULL, ToneLengths())
    starts = [e.start for e in events(plan, role="hold-start")]
    ends = [e.start for e in events(plan, role="hold-end")]
    assert len(starts) == len(ends) == 2  # one hold per side
    assert [b - a for a, b in zip(starts, ends)] == [n(25)] * 2  # middle of 20-30


def test_rule3_breaths_last_exactly_their_seconds_cue_included():
    plan = build_plan(FULL, ToneLengths())
    cues = [e for e in events(plan, kind="speech", step=3) if e.role == "breath"]
    assert [e.text for e in cues] == ["Breathe in.", "And out."] * 3
    gaps = [b.start - a.start for a, b in itertools.pairwise(cues)]
    assert gaps == [n(4), n(6)] * 2 + [n(4)]


def test_rule3_breath_pacer_inside_a_hold_keeps_its_rhythm():
    plan = build_plan(FULL, ToneLengths())
    t0 = events(plan, role="hold-start")[0].start
    inhales = [e.start - t0 for e in events(plan, kind="sound", step=1) if e.sound == "inhale" and e.side == "left"]
    assert inhales[:3] == [0, n(10), n(20)]


def test_rule4_rest_and_its_preview():
    routine_ = routine(step("rest", 0, rest=Span(12, 12)),
                       step("breaths", 1, name="Slow breaths", breaths=Span(2, 2, integer=True)))
    plan = build_plan(routine_, ToneLengths())
    rest_word = events(plan, role="rest")[0]
    chime = events(plan, role="chime")[0]
    assert chime.start - rest_word.end == n(12)
    preview = events(plan, role="preview")[0]
    assert preview.text == "Next: Slow breaths."
    assert chime.start - preview.end >= n(1)
    assert chime.start - preview.end == n(PREVIEW_BEFORE_NEXT_S)


def test_rule4_a_rest_too_short_for_its_preview_is_lengthened_with_a_warning():
    short = routine(step("rest", 0, rest=Span(2, 2)), step("say", 1, name="A step with a long name indeed", say="Hi."))
    plan = build_plan(short, ToneLengths())
    rest_word, preview, chime = events(plan, role="rest")[0], events(plan, role="preview")[0], events(plan, role="chime")[0]
    assert chime.start - preview.end >= n(1)
    assert preview.start > rest_word.end
    assert any("too short for the preview" in w.message for w in plan.warnings)


@pytest.mark.parametrize("rate", [0.5, 1.0, 2.0])
def test_rule5_speech_never_overlaps_speech(rate):
    plan = build_plan(FULL, ToneLengths(rate))
    speech = sorted(events(plan, kind="speech"), key=lambda e: e.start)
    for a, b in itertools.pairwise(speech):
        assert a.end <= b.start, (a, b)


def test_rule5_a_cue_too_long_for_its_phase_is_lengthened_never_cut():
    long_cue = "Exhale slowly and completely, letting the whole back soften into the floor."
    where = Location("t.yaml", 7, 9)
    r = routine(step("reps", 0, reps=Span(2, 2, integer=True), cycle=(Phase(long_cue, 2, location=where), Phase("In.", 2))))
    plan = build_plan(r, ToneLengths())
    cues = events(plan, role="cue")
    first = cues[0]
    assert cues[1].start - first.start == first.end - first.start + n(0.25)
    assert [str(w) for w in plan.warnings] == [
        f"t.yaml:7:9: warning: cue {long_cue!r} takes {(first.end - first.start) / SR:.1f} s, too long for its 2 s "
        "phase; the phase is lengthened (shorten the cue or add a 'short' cue)"
    ]


def test_rule6_ranges_take_their_middle_by_default():
    plan = build_plan(routine(
        step("reps", 0, reps=Span(5, 8, integer=True), cycle=(Phase("Rock.", 3),)),
        step("hold", 1, hold=Span(20, 25)),
    ), ToneLengths())
    assert plan.choices == {(0, "reps", None): 6.0, (1, "hold", None): 22.5}
    assert events(plan, role="hold")[0].text == "Hold for 22 and a half seconds."


@pytest.mark.parametrize("hold, said", [(1, "1 second"), (20, "20 seconds"), (1.25, "1.25 seconds"),
                                        (2.05, "2.05 seconds"), (3.5, "3 and a half seconds")])
def test_a_hold_is_announced_as_long_as_it_lasts(hold, said):
    plan = build_plan(routine(step("hold", 0, hold=Span(hold, hold))), ToneLengths())
    assert events(plan, role="hold")[0].text == f"Hold for {said}."


@pytest.mark.parametrize("target", [210.0, 218.5, 226.3, 234.7, 250.0])
def test_rule6_duration_is_met_to_the_sample(target):
    plan = fit_plan(FULL, ToneLengths(), target_s=target)
    assert plan.warnings == ()
    assert plan.length == n(target)
    for (index, key, _side), value in plan.choices.items():
        span = getattr(FULL.steps[index], key)
        assert span.lo <= value <= span.hi


def test_rule6_two_sides_of_a_fitted_hold_differ_by_at_most_a_second():
    plan = fit_plan(FULL, ToneLengths(), target_s=226.3)
    left, right = plan.choices[(1, "hold", "left")], plan.choices[(1, "hold", "right")]
    assert abs(left - right) <= 1
    starts, ends = events(plan, role="hold-start"), events(plan, role="hold-end")
    assert [b.start - a.start for a, b in zip(starts, ends)] == [n(left), n(right)]


def test_rule6_fitting_is_deterministic():
    a = fit_plan(FULL, ToneLengths(), target_s=226.3)
    b = fit_plan(FULL, ToneLengths(), target_s=226.3)
    assert a == b


def test_rule6_an_unreachable_target_says_why():
    low = fit_plan(FULL, ToneLengths(), target_s=60)
    high = fit_plan(FULL, ToneLengths(), target_s=3600)
    assert "even with every range at its low end" in low.warnings[-1].message
    assert "even with every range at its high end" in high.warnings[-1].message


def test_rule6_a_target_on_the_command_line_is_not_blamed_on_the_script_line():
    where = Location("t.yaml", 3, 1)
    scripted = fit_plan(routine(*FULL.steps, duration=60.0, locations={"duration": where}), ToneLengths())
    asked = fit_plan(routine(*FULL.steps, duration=300.0, locations={"duration": where}), ToneLengths(), target_s=60)
    assert scripted.warnings[-1].location == where
    assert scripted.warnings[-1].message.startswith("cannot last 1:00.0: even with every range at its low end")
    assert asked.warnings[-1].location == Location("t.yaml", 1, 1)
    assert asked.warnings[-1].message.startswith("--duration: cannot last 1:00.0")


CIRCUIT = parse_text("""title: Circuit
caution: false
steps:
  - name: Warm up
    hold: 20-30
  - name: Circuit
    rounds: 2-4
    rest_between: 10-20
    steps:
      - name: Bridge
        goal: Lift the hips.
        feel: Your glutes.
        reps: 3-5
        cycle: [{say: Lift., seconds: 3}, {say: Lower., seconds: 3}]
      - rest: 5-10
      - name: Inner
        rounds: 2
        steps:
          - name: Plank
            sides: [left, right]
            hold: 10-12
          - rest: 3
  - name: Cool down
    breaths: 3-5
""", "circuit.yaml")
"""Rounds around steps that say more in the first round (goal, feel) and rests that preview a different
step in each round (the next step inside, the step after the group, none before a rest between)."""


@pytest.mark.parametrize("end", ["lo", "middle", "hi"])
def test_a_step_laid_out_alone_moves_the_cursor_as_far_as_in_the_whole_plan(end):
    """What fitting measures (``step_advance``, which lays a step out once for every round it repeats)
    is how far the step moves the session."""
    values = {(s.ref, key, None): (getattr(s, key).middle() if end == "middle" else getattr(getattr(s, key), end))
              for s in walk(CIRCUIT.steps) for key in RANGED_KEYS if getattr(s, key) is not None}
    plan = build_plan(CIRCUIT, ToneLengths(), choices=values)
    starts = [plan.step_start(i) for i in range(len(CIRCUIT.steps))]
    assert [step_advance(CIRCUIT, ToneLengths(), i, values) for i in range(len(starts) - 1)] == \
        [b - a for a, b in itertools.pairwise(starts)]


def test_rule6_ranges_that_reach_past_three_hours_still_fit_a_short_target():
    holds = routine(*(step("hold", i, hold=Span(10, 3600)) for i in range(4)))
    with pytest.raises(PlanError, match="limited to 3 hours"):
        build_plan(holds, ToneLengths(), choices={(i, "hold", None): 3600.0 for i in range(4)})
    plan = fit_plan(holds, ToneLengths(), target_s=300)
    assert plan.warnings == () and plan.length == n(300)


def test_rule7_rate_changes_speech_never_exercise_timing():
    slow, fast = build_plan(FULL, ToneLengths(0.5)), build_plan(FULL, ToneLengths(2.0))

    def intervals(plan):
        holds = [b.start - a.start for a, b in zip(events(plan, role="hold-start"), events(plan, role="hold-end"))]
        cues = [b.start - a.start for a, b in itertools.pairwise(events(plan, role="cue"))]
        return holds, cues

    assert intervals(slow) == intervals(fast)
    assert sum(e.end - e.start for e in events(slow, kind="speech")) > sum(e.end - e.start for e in events(fast, kind="speech"))


def test_sides_make_one_chapter_each_in_time_order():
    plan = build_plan(FULL, ToneLengths())
    titles = [c.title for c in plan.chapters]
    assert titles == ["Introduction", "Pelvic tilts", "Hip flexor opener, left side", "Hip flexor opener, right side",
                      "Slow breaths"]
    assert all(a.end == b.start for a, b in itertools.pairwise(plan.chapters))
    assert plan.chapters[-1].end == plan.length
    side_lines = [e.text for e in events(plan, step=1, kind="speech") if e.role in ("side", "setup")]
    assert side_lines == ["Start with the left side.", "Kneel on your left knee.", "Now the right side.", "Kneel on your right knee."]


def test_what_comes_before_the_first_named_step_is_an_introduction_chapter_from_0():
    plan = build_plan(FULL, ToneLengths())
    intro, first = plan.chapters[:2]
    assert (intro.title, intro.start, intro.end, intro.step) == ("Introduction", 0, first.start, -1)
    assert first.start == events(plan, role="chime")[0].start
    assert events(plan, role="caution")[0].start < first.start
    straight_in = build_plan(routine(*FULL.steps, caution=False), ToneLengths())
    assert straight_in.chapters[0].title == "Pelvic tilts"  # nothing before it: no empty Introduction


def test_caution_intro_and_outro_are_placed_and_indexed():
    plan = build_plan(FULL, ToneLengths(), lead_in_s=0.5)
    first = plan.events[0]
    assert first.start == n(0.5) and first.role == "caution" and first.step == -1
    assert events(plan, role="outro")[0].step == len(FULL.steps)
    assert plan.events[-1].sound == "bell"


def test_hold_reminders_fit_between_other_speech_and_countdown():
    plan = build_plan(FULL, ToneLengths())
    left = [e for e in events(plan, step=1, kind="speech") if e.side == "left"]
    reminders = [e.text for e in left if e.role == "reminder"]
    countdown = [e.text for e in left if e.role == "countdown"]
    assert reminders == ["Ribs over hips.", "Avoid arching."]
    assert countdown == ["Three.", "Two.", "One."]
    release = events(plan, role="hold-end")[0].start
    assert [release - e.start for e in left if e.role == "countdown"] == [n(3), n(2), n(1)]


def test_a_session_over_three_hours_is_refused():
    huge = routine(step("hold", 0, hold=Span(3 * 3600, 3 * 3600)))
    with pytest.raises(PlanError, match="3 hours"):
        build_plan(huge, ToneLengths())


def test_json_has_the_contract_fields_in_seconds():
    plan = build_plan(FULL, ToneLengths())
    data = plan.to_dict()
    assert data["title"] == "Test" and data["sample_rate"] == SR
    assert data["duration"] == round(plan.length / SR, 4)
    assert {"title", "start", "end"} <= set(data["chapters"][0])
    first = data["events"][0]
    assert first["kind"] == "speech" and first["step"] == -1 and first["start"] == 0.5 and "text" in first
    assert any(e["kind"] == "sound" and e["sound"] == "chime" for e in data["events"])


# --------------------------------------------------------------------------- planning while speech is made


class PartlyKnown(ToneLengths):
    """Knows the first ``known`` texts asked for; guesses the rest, much too long."""

    def __init__(self, known: set[str]):
        super().__init__()
        self.known = known

    def speech(self, text: str) -> int:
        return super().speech(text) if text in self.known else n(9.0)

    def exact(self, text: str) -> bool:
        return text in self.known


def test_every_event_before_the_frontier_is_where_the_finished_plan_has_it():
    final = build_plan(FULL, ToneLengths())
    assert final.final
    texts = list(dict.fromkeys(e.text for e in final.events if e.kind == "speech"))
    frontiers = []
    for k in range(len(texts)):
        plan = build_plan(FULL, PartlyKnown(set(texts[:k])))
        assert not plan.final
        frontiers.append(plan.exact_until)
        settled = [e for e in final.events if e.start < plan.exact_until]
        assert [e for e in plan.events if e.start < plan.exact_until] == settled
        assert all(e.start >= plan.exact_until for e in final.events if e not in settled)
    assert frontiers == sorted(frontiers) and frontiers[-1] > frontiers[0]


def test_fixed_choices_stay_and_the_other_ranges_still_fit_the_target():
    free = fit_plan(FULL, ToneLengths(), target_s=226.3)
    fixed = {(0, "reps", None): 8.0}
    assert free.choices[(0, "reps", None)] != 8.0
    plan = fit_plan(FULL, ToneLengths(), target_s=226.3, fixed=fixed)
    assert plan.choices[(0, "reps", None)] == 8.0
    assert plan.length == n(226.3)
    assert plan.choices[(1, "hold", "left")] > free.choices[(1, "hold", "left")]  # the hold took up the slack
