"""The contract's scripts parse into exactly the values they say, with every key located."""

from __future__ import annotations

import pytest
from examples import BUILTIN_SCRIPTS, CONTRACT_EXAMPLE, SMALL_VALID

from voiceguide.errors import Location, ScriptError, VoiceguideError
from voiceguide.script.parse import check_file, load_routine, parse_text
from voiceguide.script.routine import Breathing, Phase, Routine, Span, Step
from voiceguide.timeline.plan import build_plan
from voiceguide.voice.engines.testing import TestEngine

PATH = "example.yaml"


def at(text: str, needle: str, nth: int = 1) -> Location:
    """Where the ``nth`` occurrence of ``needle`` starts in ``text``, as editors count."""
    index = -1
    for _ in range(nth):
        index = text.index(needle, index + 1)
    before = text[:index]
    return Location(PATH, before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1)


def test_the_contract_example_parses_into_what_it_says():
    t = CONTRACT_EXAMPLE
    routine = parse_text(t, PATH)
    expected = Routine(
        title="Gentle relief sequence",
        path=PATH,
        summary="Four floor moves that teach the back and pelvis to move without gripping.",
        duration=480.0,
        voice="piper",
        rate=0.95,
        caution=True,
        intro=("Find a comfortable spot on the floor.",),
        outro=("Well done. Notice how your back feels now.",),
        steps=(
            Step("reps", 0, at(t, "name: Pelvic tilts"), name="Pelvic tilts",
                 setup=("Lie on your back with knees bent, feet flat.",),
                 goal="Teach the back and pelvis to move without gripping.",
                 reps=Span(8, 12, integer=True), count=True,
                 cycle=(Phase("Exhale, flatten your low back into the floor.", 4.0, "Exhale.", "exhale",
                              at(t, "say: Exhale")),
                        Phase("Inhale, let the pelvis tip slightly forward.", 4.0, "Inhale.", None,
                              at(t, "say: Inhale")))),
            Step("reps", 1, at(t, "name: Knee-to-chest"), name="Knee-to-chest rocking", sides=("right", "left"),
                 setup=("Hug your {side} knee toward your chest.",), reps=Span(5, 8, integer=True),
                 cycle=(Phase("Rock gently", 3.0, location=at(t, "{say: Rock")),),
                 feel="A gentle stretch and easing, not yanking."),
            Step("hold", 2, at(t, "name: Hip flexor"), name="Hip flexor opener", sides=("left", "right"),
                 setup=("Kneel on your {side} knee with the other foot in front, like a small lunge.",
                        "Tuck your pelvis slightly and shift your weight forward."),
                 hold=Span(20, 30), breathe=Breathing(4, 6),
                 reminders=("Keep your ribs stacked over your hips.", "Avoid arching your back."), countdown=3),
            Step("breaths", 3, at(t, "name: Slow breaths"), name="Slow breaths",
                 breaths=Span(3, 3, integer=True), inhale=4.0, exhale=6.0),
            Step("rest", 4, at(t, "rest: 10"), rest=Span(10, 10)),
            Step("say", 5, at(t, "say: Let your"), say="Let your shoulders relax. Tall, but easy.", pause=2.0),
        ),
    )
    assert routine == expected
    assert routine.sounds == {}


def test_every_key_is_located_where_it_was_written():
    t = CONTRACT_EXAMPLE
    routine = parse_text(t, PATH)
    assert routine.locations["duration"] == at(t, "duration:")
    assert routine.locations["steps"] == at(t, "steps:")
    tilts, _, opener, *_ = routine.steps
    assert tilts.locations["reps"] == at(t, "reps: 8-12")
    assert tilts.locations["cycle"] == at(t, "cycle:")
    assert opener.locations["reminders"] == at(t, "reminders:")
    assert set(opener.locations) == {"name", "sides", "setup", "hold", "breathe", "reminders", "countdown"}
    assert [s.index for s in routine.steps] == list(range(6))


def test_defaults_apply_where_keys_are_left_out():
    routine = parse_text("title: T\nsteps:\n  - say: Hello.\n  - hold: 5\n  - breaths: 2\n")
    say, hold, breaths = routine.steps
    assert (routine.caution, routine.rate, routine.duration, routine.intro, routine.voice) == (True, 1.0, None, (), None)
    assert say.pause == 0.5
    assert (hold.countdown, hold.breathe, hold.reminders) == (3, None, ())
    assert (breaths.inhale, breaths.exhale, breaths.say) == (4.0, 6.0, None)


def test_the_small_example_covers_the_other_spellings():
    routine = parse_text(SMALL_VALID, PATH)
    bridge, breaths, hold, rest, say = routine.steps
    assert routine.duration == 90.0 and routine.caution is False
    assert bridge.reps == Span(3, 5, integer=True) and bridge.count is False
    assert bridge.cycle[1] == Phase("Lower.", 2.5, location=at(SMALL_VALID, "{say: Lower."))
    assert bridge.setup == ("Lie down.", "Bend your {side} knee.")
    assert (breaths.kind, breaths.say, breaths.inhale, breaths.exhale) == ("breaths", "Breathe in through your nose.", 3.0, 4.0)
    assert (hold.hold, hold.countdown, hold.reminders, hold.sound) == (Span(10, 15), 0, ("Easy.",), "tick")
    assert rest.rest == Span(5, 5) and say.say == "Done."


@pytest.mark.parametrize("written, seconds", [('"8:00"', 480), ("8:00", 480), ("90", 90), ('"1:02:03"', 3723), ("75.5", 75.5)])
def test_duration_is_m_ss_or_seconds(written, seconds):
    assert parse_text(f"title: T\nduration: {written}\nsteps: [{{say: x}}]\n").duration == seconds


@pytest.mark.parametrize("written", ["8-12", "8 - 12", "8–12", '"8-12"', "8 -12"])
def test_ranges_may_be_spaced_and_use_an_en_dash(written):
    routine = parse_text(f"title: T\nsteps:\n  - reps: {written}\n    cycle: [{{say: x, seconds: 1}}]\n")
    assert routine.steps[0].reps == Span(8, 12, integer=True)


@pytest.mark.parametrize("written, span", [("12", Span(12, 12, True)), ('"12"', Span(12, 12, True)), ("12.0", Span(12, 12, True))])
def test_a_number_or_a_string_number_is_a_fixed_span(written, span):
    routine = parse_text(f"title: T\nsteps:\n  - breaths: {written}\n")
    assert routine.steps[0].breaths == span and routine.steps[0].breaths.fixed


def test_text_is_spoken_as_written_even_where_yaml_reads_a_bool_or_number():
    routine = parse_text("title: 1999\nsteps:\n  - say: Yes\n  - say: 42\n  - say: |\n      Two\n      lines.\n")
    assert routine.title == "1999"
    assert [s.say for s in routine.steps] == ["Yes", "42", "Two lines."]


def test_sound_files_are_checked_and_stored_as_absolute_paths(tmp_path):
    (tmp_path / "sounds").mkdir()
    (tmp_path / "sounds" / "bowl.wav").write_bytes(b"RIFF")
    script = tmp_path / "r.yaml"
    script.write_text("title: T\nsounds: {chime: sounds/bowl.wav}\nsteps: [{say: x}]\n")
    routine = load_routine(script)
    assert routine.sounds == {"chime": str((tmp_path / "sounds" / "bowl.wav").resolve())}
    assert routine.path == str(script)


def test_merge_keys_share_settings_between_steps():
    routine = parse_text("title: T\nsteps:\n  - &base {say: First., pause: 2}\n  - <<: *base\n    say: Second.\n")
    assert [(s.say, s.pause) for s in routine.steps] == [("First.", 2.0), ("Second.", 2.0)]


def test_a_byte_order_mark_is_fine(tmp_path):
    script = tmp_path / "bom.yaml"
    script.write_bytes("\ufefftitle: T\nsteps: [{say: x}]\n".encode())
    assert load_routine(script).title == "T"


@pytest.mark.parametrize("path", BUILTIN_SCRIPTS, ids=lambda p: p.stem)
def test_every_builtin_checks_clean(path):
    assert check_file(path) == []
    assert load_routine(path).steps


def test_there_are_builtins_to_check():
    assert {p.stem for p in BUILTIN_SCRIPTS} >= {"standing-reset", "sitting-reset", "gentle-relief", "hip-hinge",
                                                "lower-back-and-hips"}


class _ToneLengths:
    def speech(self, text: str) -> int:
        return TestEngine.length_samples(text)

    def sound(self, name: str) -> int:
        return 11025


def test_the_contract_example_plans():
    plan = build_plan(parse_text(CONTRACT_EXAMPLE, PATH), _ToneLengths())
    assert [c.title for c in plan.chapters][:3] == ["Pelvic tilts", "Knee-to-chest rocking, right side",
                                                    "Knee-to-chest rocking, left side"]


def test_script_errors_are_the_projects_own_and_a_value_error():
    with pytest.raises(ScriptError) as caught:
        parse_text("title: T\nsteps: []\n")
    assert isinstance(caught.value, VoiceguideError) and isinstance(caught.value, ValueError)
