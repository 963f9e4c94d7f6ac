"""One test per class of bad input: each gets a located message saying what to write instead."""

from __future__ import annotations

import re
import time

import pytest

from voiceguide.errors import RoutineNotFoundError, ScriptError
from voiceguide.script import fields, yamlsafe
from voiceguide.script.parse import check_file, load_routine, parse_text

P = "s.yaml"
REPS_STEP = "  - reps: 8\n    cycle: [{say: Lift., seconds: 3}]\n"


def problems(text: str) -> list[str]:
    """Every problem ``parse_text`` reports for ``text``; it must refuse the script."""
    with pytest.raises(ScriptError) as caught:
        parse_text(text, P)
    return [str(p) for p in caught.value.problems]


def only(text: str) -> str:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


def steps(body: str) -> str:
    return "title: T\nsteps:\n" + body


# -- the file itself


@pytest.mark.parametrize("text", ["", "\n\n", "# just a comment\n", "---\n"])
def test_an_empty_file(text):
    assert only(text) == "s.yaml:1:1: the file is empty; a routine needs at least 'title:' and 'steps:'"


def test_a_list_instead_of_a_mapping():
    assert only("- say: Hello.\n- say: Bye.\n") == (
        "s.yaml:1:1: expected keys and values at the top level, like 'title: Morning stretch', not a list")


def test_plain_text_instead_of_a_mapping():
    assert only("Lie on your back.\n").startswith("s.yaml:1:1: expected keys and values at the top level")


def test_non_utf8_bytes_are_located(tmp_path):
    script = tmp_path / "latin1.yaml"
    script.write_bytes("title: T\nsteps:\n  - say: Caf\u00e9 time\n".encode("latin-1"))
    (problem,) = check_file(script)
    assert (problem.location.line, problem.location.col) == (3, 13)
    assert problem.message.startswith("byte 0xe9 is not UTF-8 text; save the file as UTF-8")
    with pytest.raises(ScriptError):
        load_routine(script)


def test_utf16_is_named(tmp_path):
    script = tmp_path / "utf16.yaml"
    script.write_bytes("title: T\n".encode("utf-16"))
    assert [str(p) for p in check_file(script)] == [f"{script}:1:1: the file is UTF-16 text; save it as UTF-8"]


def test_files_over_a_megabyte_are_refused_before_parsing(tmp_path):
    script = tmp_path / "huge.yaml"
    script.write_text("title: T\n" + "# padding\n" * 110_000)
    (problem,) = check_file(script)
    assert problem.location.line == 1 and "limited to 1 MB" in problem.message
    assert "limited to 1 MB" in only("title: T\n" + "x" * 1_000_001)


def test_a_missing_file_is_not_found_not_a_traceback(tmp_path):
    with pytest.raises(RoutineNotFoundError, match="no routine script at"):
        check_file(tmp_path / "nothere.yaml")
    with pytest.raises(RoutineNotFoundError, match="is a folder"):
        load_routine(tmp_path)


# -- YAML syntax


def test_tabs_in_indentation():
    assert only("title: T\nsteps:\n\t- say: x\n") == (
        "s.yaml:3:1: a tab character here; YAML indents with spaces only: replace the tab with spaces")


def test_an_unquoted_colon_in_text():
    assert only(steps("  - say: Exhale: flatten your back.\n")) == (
        "s.yaml:3:16: YAML cannot read this: mapping values are not allowed; a ': ' inside unquoted text starts "
        "a new key: put the whole text in quotes")


@pytest.mark.parametrize("body, where, label", [
    ("  - say: '-'\n", "3:10", "'say' in step 1"),
    ("  - name: '***'\n    hold: 5\n", "3:11", "'name' in step 1"),
    ("  - say: hi\nintro: ['...']\n", "4:9", "item 1 of 'intro'"),
])
def test_text_with_no_words_is_refused_before_a_voice_says_nothing(body, where, label):
    problem = only(steps(body))
    assert problem.startswith(f"s.yaml:{where}: {label} has no words in it"), problem
    assert "a voice would say nothing; write " in problem


def test_text_of_digits_or_only_a_side_is_words():
    routine = parse_text(steps("  - say: '5'\n  - name: Lunge\n    sides: [left, right]\n    setup: '{side}'\n"
                               "    hold: 5\n"), P)
    assert routine.steps[0].say == "5" and routine.steps[1].setup == ("{side}",)


def test_text_starting_with_side_needs_quotes():
    message = only(steps("  - sides: [left, right]\n    setup: {side} knee up\n    say: x\n"))
    assert message.startswith("s.yaml:4:19: YAML cannot read this:")
    assert 'must be in quotes when it starts with {side}' in message


@pytest.mark.parametrize("text, where, words", [
    ("title: 'unclosed\nsteps: x\n", "1:8", "this quote or bracket is never closed"),
    ("title: T\nsteps:\n  - say: x\n   pause: 3\n", "4:4", "the items of one list must line up"),
    ("title: [T\nsteps: x\n", "2:6", "must be in quotes; otherwise check the brackets"),
    ("title: *nothing\n", "1:8", "an alias '*name' needs an anchor '&name' earlier in the file"),
])
def test_yaml_syntax_errors_use_the_yaml_position(text, where, words):
    message = only(text)
    assert message.startswith(f"s.yaml:{where}: YAML cannot read this:") and words in message


@pytest.mark.parametrize("loader", yamlsafe.LOADERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("text, where, words", [
    ("title: T\nsteps:\n  - say: Exhale: flatten\n", "3:16", "mapping values are not allowed; a ': ' inside"),
    ("title: T\nsteps:\n\t- say: x\n", "3:1", "a tab character here"),
    ("title: 'abc\nsteps: x", "1:8", "this quote or bracket is never closed"),
    ("title: [a\nsteps: x", "2:6", "must be in quotes; otherwise check the brackets"),
    ("title: T\nsteps:\n  - say: x\n   pause: 3", "4:4", "YAML cannot read this"),
    ("title: T\nsteps:\n  - say: `x`", "3:10", "a reserved character; put the whole text in double quotes"),
    ("title: *x", "1:8", "found undefined alias 'x'"),
    ("a: 1\n---\nb: 2", "2:1", "a second YAML document starts here"),
    ("title: \u00e9\u20ac x\x07y", "1:12", "the control character U+0007 cannot appear"),
    ("title: T\nsteps: " + "[" * 100 + "]" * 100, "2:47", "nested more than 40 levels deep"),
])
def test_both_yaml_parsers_place_problems_alike(loader, text, where, words):
    """libyaml's parser is used where PyYAML has it; the pure-Python one must read scripts the same way."""
    with pytest.raises(yamlsafe.StopReading) as caught:
        yamlsafe.compose(text, P, loader)
    assert str(caught.value.problem).startswith(f"s.yaml:{where}: ") and words in caught.value.problem.message


QUOTE_IT = "put the whole text in double quotes"


@pytest.mark.parametrize("loader", yamlsafe.LOADERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("line, where, message", [
    ("  - say: 'Don't arch'\n    pause: 1\n", "3:14",
     "this apostrophe ends the text in single quotes, so YAML cannot read the rest; write the text in double "
     "quotes (\"Don't arch\") or double the apostrophe ('Don''t arch')"),
    ("  - {say: 'Don't arch', pause: 1}\n", "3:15", "this apostrophe ends the text in single quotes"),
    ('  - say: "Lift" your arm\n', "3:10",
     'the text starts with a quote, so YAML takes "Lift" as the whole text and cannot read what follows; put the '
     "whole text in single quotes, like '\"Lift\" your arm', or leave the quotes out"),
    ("  - say: [slowly] lift your arm\n", "3:10",
     "the text starts with '[', which YAML reads as the start of a list, and that ends at ']' before the line does; "
     f'{QUOTE_IT}, like "[slowly] lift your arm" (or, if you meant a list, end the line after \']\')'),
    ("  - say: {Relax} now\n", "3:10", "the text starts with '{', which YAML reads as the start of keys and values"),
    ("  - say: * breathe *\n", "3:10",
     f"the text starts with '*', which YAML reads as an alias (a reference to an '&' anchor); {QUOTE_IT}, "
     'like "* breathe *"'),
    ("  - say: & relax\n", "3:10", f"the text starts with '&', which YAML reads as an anchor (a name for the value); "
                                   f'{QUOTE_IT}, like "& relax"'),
    ("  - say: | relax\n", "3:10", "the text starts with '|'"),
    ("  - say: @home relax\n", "3:10", f"the text starts with '@', which YAML reads as a reserved character; {QUOTE_IT}"),
    ("  - say:x\n    pause: 1\n", "3:8", "no space after the colon of 'say', so YAML reads 'say:x' as text, not a "
                                        "key; put a space after the colon, like 'say: x'"),
    ("  - name: A\n     hold: 5\n", "4:6",
     "'hold' is indented differently from the keys before it (column 6; 'name' is at column 5), so YAML reads it as "
     "more of the text above: line it up with the keys it belongs with"),
])
def test_common_yaml_mistakes_are_named(loader, line, where, message):
    with pytest.raises(yamlsafe.StopReading) as caught:
        yamlsafe.compose(steps(line), P, loader)
    assert str(caught.value.problem).startswith(f"s.yaml:{where}: {message}")


def test_no_space_after_the_colon_of_the_title_is_found_on_its_own_line():
    assert only("title:T\nsteps:\n  - say: x\n") == (
        "s.yaml:1:6: no space after the colon of 'title', so YAML reads 'title:T' as text, not a key; put a space "
        "after the colon, like 'title: T'")


def test_no_space_after_the_colon_of_a_steps_only_key():
    assert only(steps("  - say:Relax.\n")) == (
        "s.yaml:3:5: step 1 is the text 'say:Relax.': with no space after the colon, 'say' is not a key; put a space "
        "after the colon, like '- say: Relax.'")


def test_a_tab_after_a_colon_is_not_blamed_for_the_colon_in_the_text():
    """libyaml allows the tab and stops at the ': ' in the text; PyYAML's own scanner stops at the tab."""
    libyaml, *python = [_problem_with(loader, steps("  - say:\tLift: slowly\n")) for loader in yamlsafe.LOADERS]
    if yamlsafe.LOADERS[0].byte_positions:  # libyaml is there
        assert libyaml.startswith("s.yaml:3:14: YAML cannot read this: mapping values are not allowed; a ': ' inside")
    assert all(p == "s.yaml:3:9: a tab character here, where YAML wants a space: replace the tab with a space"
               for p in python)


def _problem_with(loader, text: str) -> str:
    with pytest.raises(yamlsafe.StopReading) as caught:
        yamlsafe.compose(text, P, loader)
    return str(caught.value.problem)


@pytest.mark.parametrize("loader", yamlsafe.LOADERS, ids=lambda c: c.__name__)
def test_both_yaml_parsers_refuse_the_bomb_at_the_same_alias(loader):
    with pytest.raises(yamlsafe.StopReading) as caught:
        yamlsafe.compose(_bomb(9), P, loader)
    assert str(caught.value.problem).startswith("s.yaml:5:55: this script holds more than 10,000 values")


def test_two_documents():
    assert only("title: T\nsteps: [{say: x}]\n---\ntitle: U\n").startswith(
        "s.yaml:3:1: a second YAML document starts here ('---'); a routine is one document")


def test_control_characters():
    assert only("title: T\x07\nsteps: [{say: x}]\n") == (
        "s.yaml:1:9: the control character U+0007 cannot appear in a routine script; delete it")
    assert only(steps('  - say: "a\\0b"\n')) == "s.yaml:3:10: 'say' in step 1 holds the control character U+0000; delete it"


def test_duplicate_keys():
    assert only(steps("  - say: x\n    pause: 1\n    pause: 2\n")) == (
        "s.yaml:5:5: duplicate key 'pause' in step 1 (first at line 4); keep one")


# -- safety


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system", "!!python/object:collections.OrderedDict",
                                 "!!python/name:os.system"])
def test_object_tags_are_never_constructed(tag):
    assert only(f'title: {tag} ["echo hacked"]\nsteps: [{{say: x}}]\n') == (
        f"s.yaml:1:8: tag {tag!r} would build a Python object; routine scripts are plain data: remove the tag")


def test_other_tags_are_refused():
    assert only("title: !!binary aGk=\nsteps: [{say: x}]\n") == (
        "s.yaml:1:8: tag '!!binary' is not allowed in routine scripts; remove it")
    assert only("title: !custom T\nsteps: [{say: x}]\n").startswith("s.yaml:1:8: tag '!custom' is not allowed")


def _bomb(levels: int) -> str:
    lines = ["title: T", "a0: &a0 [" + ", ".join(["Lie down."] * 10) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels)]
    lines += ["steps:", f"  - {{say: x, setup: *a{levels - 1}}}"]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_quickly_at_the_alias_that_tips_it():
    started = time.process_time()
    message = only(_bomb(9))  # a billion values once expanded; the tenth "*a2" on line 5 passes 10,000
    assert time.process_time() - started < 5  # a guard against a hang, not a timing claim
    assert message == (
        "s.yaml:5:55: this script holds more than 10,000 values once its aliases ('*name') are expanded; "
        "a routine needs far fewer: write the steps out, or repeat less")


def test_aliases_are_counted_where_they_are_used():
    big = "[" + ", ".join(["Easy."] * 1000) + "]"
    text = f"title: T\nsteps:\n  - &s {{say: x, setup: {big}}}\n" + "  - *s\n" * 20
    assert only(text).startswith("s.yaml:12:5: this script holds more than 10,000 values")
    assert parse_text(f"title: T\nsteps:\n  - &s {{say: x, setup: {big}}}\n" + "  - *s\n" * 5).steps[5].setup[999] == "Easy."


def test_an_alias_inside_its_own_anchor():
    assert only(steps("  - &a {say: x, setup: [*a]}\n")) == (
        "s.yaml:3:25: this alias refers to the value that contains it, which never ends; write the value out instead")


def test_deep_nesting_is_refused():
    found = only("title: T\nsteps: " + "[" * 5000 + "]" * 5000 + "\n")
    assert found.startswith("s.yaml:2:") and "nested more than 40 levels deep" in found


def test_problems_stop_after_fifty():
    found = problems(steps("".join(f"  - sayy: {i}\n" for i in range(200))))
    assert len(found) == fields.MAX_PROBLEMS + 1
    assert found[-1].endswith("stopping after 50 problems; fix these first")


# -- the shape of a routine


def test_unknown_keys_get_a_did_you_mean():
    assert only(steps("  - name: Bridge\n    holdd: 20\n")) == "s.yaml:4:5: unknown key 'holdd' in step 1 (did you mean 'hold'?)"
    assert only("titel: T\nsteps: [{say: x}]\n").startswith("s.yaml:1:1: unknown key 'titel' at the top level (did you mean 'title'?)")
    assert only(steps("  - reps: 8\n    cycle: [{say: x, secs: 3}]\n")).startswith(
        "s.yaml:4:22: unknown key 'secs' in phase 1 of step 1 (did you mean 'seconds'?)")
    assert only(steps("  - title: Bridge\n    say: x\n")) == "s.yaml:3:5: unknown key 'title' in step 1 (did you mean 'name'?)"


def test_unknown_keys_without_a_near_miss_list_the_keys():
    assert only(steps("  - say: x\n    zzz: 1\n")).endswith(
        "unknown key 'zzz' in step 1; write one of: name, setup, goal, feel, sides, sound, say, pause, reps, count, "
        "cycle, hold, breathe, reminders, countdown, breaths, inhale, exhale, rest")


def test_a_step_key_at_the_top_level():
    assert only("title: T\nreps: 8\nsteps: [{say: x}]\n").startswith(
        "s.yaml:2:1: 'reps' belongs to a step, but it is at the top level; put it inside a step")


def test_missing_title_and_steps():
    assert problems("summary: S\n") == [
        "s.yaml:1:1: the script has no 'title'; add a line like 'title: Morning stretch'",
        "s.yaml:1:1: the script has no 'steps'; add 'steps:' with at least one step under it",
    ]


@pytest.mark.parametrize("value, shape", [("[]", "empty"), ("hello", "'hello', not a list"), ("", "empty, not a list")])
def test_empty_or_odd_steps(value, shape):
    message = only(f"title: T\nsteps: {value}\n")
    assert message.startswith("s.yaml:2:") and f"'steps' is {shape}; write a list of steps" in message


def test_a_step_written_as_text():
    assert only(steps("  - Relax your shoulders.\n")) == (
        "s.yaml:3:5: step 1 is plain text; write it as '- say: Relax your shoulders.'")


def test_no_kind_and_two_kinds():
    assert only(steps("  - name: Bridge\n")) == (
        "s.yaml:3:5: step 1 has nothing to do; give it one of the keys: say, reps, hold, breaths, rest")
    assert only(steps("  - hold: 20\n    rest: 10\n")) == (
        "s.yaml:4:5: step 1 has two kinds, 'hold' and 'rest'; a step does one thing: move 'rest' to a step of its own")


def test_reps_and_cycle_need_each_other():
    assert only(steps("  - cycle: [{say: x, seconds: 3}]\n")).startswith(
        "s.yaml:3:5: step 1 has a 'cycle' but no 'reps'; add 'reps: 8'")
    assert only(steps("  - reps: 8\n")).startswith("s.yaml:3:5: step 1 has 'reps' but no 'cycle'; add the phases")
    assert only(steps("  - reps: 8\n    cycle: []\n")).startswith("s.yaml:4:12: 'cycle' in step 1 is empty; write the phases")


def test_keys_that_do_not_go_with_the_kind():
    assert only(steps("  - hold: 20\n    count: false\n")) == (
        "s.yaml:4:5: 'count' does not go with a 'hold' step (step 1); it belongs to 'reps' steps")
    assert only(steps("  - rest: 5\n    pause: 1\n")).endswith("it belongs to 'say' steps")


def test_phases_need_say_and_seconds():
    assert problems(steps("  - reps: 8\n    cycle:\n      - short: x\n")) == [
        "s.yaml:5:9: phase 1 of step 1 has no 'say'; add it, like 'say: Exhale.'",
        "s.yaml:5:9: phase 1 of step 1 has no 'seconds'; add it, like 'seconds: 4'",
    ]


# -- numbers


@pytest.mark.parametrize("body, message", [
    ("  - reps: 12-8\n    cycle: [{say: x, seconds: 3}]\n",
     "s.yaml:3:11: 'reps' in step 1 is '12-8', a range that runs backwards; write 8-12"),
    ("  - reps: 0\n    cycle: [{say: x, seconds: 3}]\n",
     "s.yaml:3:11: 'reps' in step 1 is '0'; it cannot be 0: write a whole number from 1 to 200"),
    ("  - reps: 500\n    cycle: [{say: x, seconds: 3}]\n",
     "s.yaml:3:11: 'reps' in step 1 is '500'; that is more than makes sense: write a whole number from 1 to 200"),
    ("  - reps: 8.5\n    cycle: [{say: x, seconds: 3}]\n",
     "s.yaml:3:11: 'reps' in step 1 is '8.5'; it must be a whole number: write a whole number from 1 to 200"),
    ("  - hold: -5\n", "s.yaml:3:11: 'hold' in step 1 is '-5'; it cannot be negative: write seconds from 1 to 3600"),
    ("  - hold: 7200\n", "s.yaml:3:11: 'hold' in step 1 is '7200'; that is more than makes sense: write seconds from 1 to 3600"),
    ("  - hold: 0.01\n", "s.yaml:3:11: 'hold' in step 1 is '0.01'; that is too low: write seconds from 1 to 3600"),
    ("  - hold: 0.5-2\n", "s.yaml:3:11: 'hold' in step 1 is '0.5-2'; that is too low: write seconds from 1 to 3600"),
    ("  - hold: 20 s\n", "s.yaml:3:11: 'hold' in step 1 is '20 s'; write just the number, 20"),
    ("  - hold: 1:30\n", "s.yaml:3:11: 'hold' in step 1 is '1:30'; write it in seconds: 90"),
    ("  - hold: long\n", "s.yaml:3:11: 'hold' in step 1 is 'long'; write seconds, like 30, or a range like 20-30"),
    ("  - rest: yes\n", "s.yaml:3:11: 'rest' in step 1 is 'yes', which YAML reads as true; write seconds, like 30, or a range like 20-30"),
    ("  - rest:\n", "s.yaml:3:10: 'rest' in step 1 is empty; write seconds, like 30, or a range like 20-30"),
    ("  - reps: 8\n    cycle: [{say: x, seconds: 900}]\n",
     "s.yaml:4:31: 'seconds' in phase 1 of step 1 is '900'; that is more than makes sense: write seconds more than 0 and at most 600"),
    ("  - say: x\n    pause: -1\n", "s.yaml:4:12: 'pause' in step 1 is '-1'; it cannot be negative: write seconds from 0 to 600"),
    ("  - hold: 20\n    countdown: 2.5\n",
     "s.yaml:4:16: 'countdown' in step 1 is '2.5'; it must be a whole number: write a whole number from 0 to 60"),
    ("  - breaths: 3\n    inhale: [4]\n", "s.yaml:4:13: 'inhale' in step 1 is a list; write seconds, like 4"),
])
def test_bad_numbers_say_what_to_write(body, message):
    assert only(steps(body)) == message


def test_top_level_numbers_and_bools():
    assert problems("title: T\nrate: 3\nduration: '200:00'\ncaution: 'yes'\nsteps: [{say: x}]\n") == [
        "s.yaml:2:7: 'rate' is '3'; that is more than makes sense: write a number from 0.5 to 2",
        "s.yaml:3:11: 'duration' is '200:00'; that is more than makes sense: write a length up to 3:00:00",
        "s.yaml:4:10: 'caution' is 'yes'; write true or false",
    ]
    assert only("title: T\nduration: soon\nsteps: [{say: x}]\n") == (
        "s.yaml:2:11: 'duration' is 'soon'; write a length like \"8:00\", or seconds like 480")


def test_a_session_over_three_hours():
    assert only(steps("  - reps: 200\n    cycle: [{say: x, seconds: 100}]\n")) == (
        "s.yaml:3:5: the steps last at least 5.6 hours even with every range at its low end (step 1 alone: "
        "5.6 hours); a session is limited to 3 hours: use fewer reps, shorter holds or fewer steps")


# -- sounds, sides and text


def test_unknown_sounds_anywhere():
    assert only(steps("  - say: x\n    sound: chmie\n")) == (
        "s.yaml:4:12: 'sound' in step 1 is 'chmie', not a built-in sound (did you mean 'chime'?); "
        "write one of: chime, start, release, tick, inhale, exhale, bell")
    assert only(steps("  - reps: 8\n    cycle: [{say: x, seconds: 3, sound: gong}]\n")).startswith(
        "s.yaml:4:41: 'sound' in phase 1 of step 1 is 'gong', not a built-in sound;")
    assert only("title: T\nsounds: {chim: a.wav}\nsteps: [{say: x}]\n") == (
        "s.yaml:2:10: unknown sound 'chim' in 'sounds' (did you mean 'chime'?)")


def test_a_missing_sound_file(tmp_path):
    script = tmp_path / "r.yaml"
    script.write_text("title: T\nsounds:\n  bell: sounds/gong.wav\nsteps: [{say: x}]\n")
    (problem,) = check_file(script)
    assert (problem.location.line, problem.location.col) == (3, 9)
    assert problem.message == (f"sound file 'sounds/gong.wav' for 'bell' not found (looked for "
                               f"{str(tmp_path / 'sounds' / 'gong.wav')!r}); give a path relative to the script")


def test_side_placeholders():
    assert only(steps("  - say: Hug your {side} knee.\n")) == (
        "s.yaml:3:10: 'say' in step 1 uses {side}, but step 1 has no 'sides': add 'sides: [right, left]', "
        "or write the side out")
    assert only(steps("  - sides: [left, right]\n    say: Hug your {sidee} knee.\n")) == (
        "s.yaml:4:10: 'say' in step 1 has an unknown placeholder '{sidee}'; the only one is {side}")
    assert only("title: T\nintro: Start on your {side}.\nsteps: [{say: x}]\n").endswith(
        "'intro' uses {side}, but only a step with 'sides' can use it")


def test_bad_sides():
    assert only(steps("  - sides: both\n    say: x\n")) == (
        "s.yaml:3:12: 'sides' in step 1 is 'both'; write the sides the step is done on, like 'sides: [right, left]'")
    assert only(steps("  - sides: []\n    say: x\n")) == (
        "s.yaml:3:12: 'sides' in step 1 is an empty list; write the sides the step is done on, "
        "like 'sides: [right, left]'")
    assert only(steps("  - sides: [left, left]\n    say: x\n")) == (
        "s.yaml:3:19: 'sides' in step 1 lists 'left' twice; name each side once")


def test_wrong_types_for_text():
    assert only(steps("  - say: [a, b]\n")) == "s.yaml:3:10: 'say' in step 1 must be text, not a list"
    assert only(steps("  - say: ''\n")) == "s.yaml:3:10: 'say' in step 1 is empty; write the words to speak, or remove the key"
    assert only(steps("  - say: x\n    setup: [a, {b: c}]\n")).startswith(
        "s.yaml:4:16: item 2 of 'setup' in step 1 must be text, not a mapping")


@pytest.mark.parametrize("text, message", [
    ("title: ~\nsteps: [{say: x}]\n", "s.yaml:1:8: 'title' is empty; write the routine's name, shown while it plays, "
                                      "like 'title: Morning stretch'; every script needs one"),
    ("title: T\nvoice:\nsteps: [{say: x}]\n", "s.yaml:2:7: 'voice' is empty; write a voice, like 'voice: piper' "
                                              "('voiceguide voices' lists them), or remove the key"),
    ("title: T\nsounds: {chime: ''}\nsteps: [{say: x}]\n",
     "s.yaml:2:17: the file for sound 'chime' is empty; write an audio file's path relative to the script, "
     "like 'chime: sounds/bowl.wav', or remove the key"),
    (steps("  - sides: [left, '']\n    say: x\n"),
     "s.yaml:3:19: item 2 of 'sides' in step 1 is empty; write a side's name, like 'left', or remove the item"),
    (steps("  - name:\n    say: x\n"), "s.yaml:3:10: 'name' in step 1 is empty; write the step's name, spoken as "
                                      "it starts, like 'name: Pelvic tilts', or remove the key"),
    (steps("  - say: x\n    sound: ''\n"), "s.yaml:4:12: 'sound' in step 1 is empty; write a built-in sound "
                                         "(chime, start, release, tick, inhale, exhale, bell), or remove the key"),
    (steps("  - say: x\n    setup: [a, '']\n"),
     "s.yaml:4:16: item 2 of 'setup' in step 1 is empty; write the words to speak, or remove the item"),
])
def test_an_empty_value_says_what_belongs_there(text, message):
    assert only(text) == message


# Where each number is written; every key with bounds must be here, so that its examples are checked.
NUMBER_PLACES = {
    "rate": "title: T\nrate: {}\nsteps: [{{say: x}}]\n",
    "duration": "title: T\nduration: {}\nsteps: [{{say: x}}]\n",
    "reps": steps("  - reps: {}\n    cycle: [{{say: x, seconds: 3}}]\n"),
    "seconds": steps("  - reps: 3\n    cycle: [{{say: x, seconds: {}}}]\n"),
    "hold": steps("  - hold: {}\n"),
    "countdown": steps("  - hold: 20\n    countdown: {}\n"),
    "rest": steps("  - rest: {}\n"),
    "breaths": steps("  - breaths: {}\n"),
    "inhale": steps("  - breaths: 3\n    inhale: {}\n"),
    "exhale": steps("  - hold: 20\n    breathe: {{inhale: 4, exhale: {}}}\n"),
    "pause": steps("  - say: x\n    pause: {}\n"),
}


def test_every_key_with_bounds_has_its_examples_checked():
    assert set(NUMBER_PLACES) == set(fields.BOUNDS)


@pytest.mark.parametrize("key", sorted(NUMBER_PLACES))
@pytest.mark.parametrize("bad", ["fast", "[1]", "~"])
def test_every_example_in_a_number_message_is_accepted_where_it_is_given(key, bad):
    message = only(NUMBER_PLACES[key].format(bad))
    examples = re.findall(r"like \"?(\d+(?:[.:]\d+)*(?:-\d+)?)", message)
    assert examples, message
    for example in examples:
        parse_text(NUMBER_PLACES[key].format(f'"{example}"'), P)


@pytest.mark.parametrize("body, where, label", [
    ("  - say: {}\n", "3:10", "'say' in step 1"),
    ("  - say: x\n    setup: [Lie down., {}]\n", "4:24", "item 2 of 'setup' in step 1"),
    ("  - reps: 3\n    cycle: [{{say: x, short: {}, seconds: 3}}]\n", "4:29", "'short' in phase 1 of step 1"),
    ("  - name: {}\n    say: x\n", "3:11", "'name' in step 1"),
])
def test_a_spoken_text_over_the_limit_is_refused_where_it_starts(body, where, label):
    words = ("lift your arm slowly " * 100)[: fields.MAX_TEXT_CHARS + 1].strip() + "x"
    assert only(steps(body.format(words))) == (
        f"s.yaml:{where}: {label} is {len(words)} characters long; a text is limited to 400 (about 20 seconds of "
        "speech): split it into shorter texts: several 'say' steps or phases, or a list of lines where the key "
        "takes one (setup, reminders, intro, outro)")
    parse_text(steps(body.format(words[: fields.MAX_TEXT_CHARS])), P)


def test_breathe_needs_both_halves():
    assert only(steps("  - hold: 20\n    breathe: {inhale: 4}\n")) == (
        "s.yaml:4:14: 'breathe' in step 1 has no 'exhale'; write 'breathe: {inhale: 4, exhale: 6}'")


# -- all at once, and warnings


def test_every_problem_is_reported_at_once_in_file_order():
    found = problems("titel: T\nsteps:\n  - holdd: 20\n  - reps: 0\n    cycle: [{say: x, seconds: 3}]\n"
                     "  - say: x\n    sound: gong\n")
    assert [p.split(": ")[0] for p in found] == ["s.yaml:1:1", "s.yaml:3:5", "s.yaml:4:11", "s.yaml:7:12"]


def test_warnings_do_not_stop_a_script(tmp_path):
    script = tmp_path / "w.yaml"
    script.write_text("title: T\nsteps:\n" + REPS_STEP.replace("reps: 8", "reps: 2").replace("seconds: 3}", "seconds: 3, short: L.}")
                      + "  - hold: 3\n    countdown: 5\n")
    found = check_file(script)
    assert [(p.severity, p.location.line) for p in found] == [("warning", 4), ("warning", 6)]
    assert "is never heard" in found[0].message and "does not fit in a 3 s hold" in found[1].message
    assert str(found[1]).startswith(f"{script}:6:5: warning: a countdown of 5")
    assert load_routine(script).steps[1].countdown == 5


def test_the_default_countdown_adapts_to_a_short_hold_without_a_warning(tmp_path):
    script = tmp_path / "short.yaml"
    script.write_text("title: T\nsteps:\n  - hold: 2\n  - hold: 1\n    countdown: 1\n")
    (warning,) = check_file(script)
    assert str(warning) == (f"{script}:5:5: warning: a countdown of 1 does not fit in a 1 s hold; it is left out "
                            "(write a smaller countdown or a longer hold)")
