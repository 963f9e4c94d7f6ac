"""Rounds and includes: the timing rules inside groups, the plan's fields, and located errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import invoke
from test_plan import ToneLengths, events, n

from voiceguide.errors import ScriptError
from voiceguide.script.parse import check_file, load_routine, parse_text
from voiceguide.script.words import CAUTION
from voiceguide.timeline.fit import fit_plan
from voiceguide.timeline.plan import BETWEEN_STEPS_S, GAP_S, build_plan

CIRCUIT = """\
title: Circuit
caution: false
steps:
  - say: Get ready.
  - name: Floor circuit
    rounds: 3
    steps:
      - name: Glute bridge
        reps: 2
        cycle:
          - {say: Lift., seconds: 3}
          - {say: Lower., seconds: 3}
      - name: Dead bug
        hold: 5
        countdown: 0
    rest_between: 10
  - name: Slow breaths
    breaths: 2
"""


@pytest.fixture(scope="module")
def circuit():
    return build_plan(parse_text(CIRCUIT, "circuit.yaml"), ToneLengths())


def test_each_round_lasts_exactly_what_its_steps_say(circuit):
    cues = events(circuit, role="cue")
    assert len(cues) == 3 * 4  # 2 reps of 2 phases, 3 rounds
    for k in range(3):
        lift, lower, lift2, lower2 = cues[4 * k:4 * k + 4]
        assert [lower.start - lift.start, lift2.start - lower.start, lower2.start - lift2.start] == [n(3)] * 3
    starts, ends = events(circuit, role="hold-start"), events(circuit, role="hold-end")
    assert [b.start - a.start for a, b in zip(starts, ends)] == [n(5)] * 3
    chimes = [e for e in events(circuit, role="chime") if e.round is not None and e.path[-1] == 0]
    spans = [next(e.end for e in events(circuit, role="release") if e.round == k) - chimes[k - 1].start
             for k in (1, 2, 3)]
    assert spans[0] == spans[1] == spans[2]  # every round is the same work, to the sample


def test_a_rest_between_rounds_lies_only_between_them(circuit):
    rests = [e for e in events(circuit, role="rest")]
    assert [e.round for e in rests] == [1, 2]  # not after the last round
    for rest in rests:
        nxt = next(e for e in circuit.events if e.round == rest.round + 1 and e.role == "round")
        assert nxt.start - rest.end == n(10)  # rule 4: from the end of "Rest." to what comes next
    last_round_end = max(e.end for e in circuit.events if e.round == 3)
    breaths_chime = next(c.start for c in circuit.chapters if c.title == "Slow breaths")
    assert breaths_chime - last_round_end == n(GAP_S) + n(BETWEEN_STEPS_S - GAP_S)  # straight on, no rest


def test_rounds_are_announced_and_carried_by_chapter_titles(circuit):
    assert [e.text for e in events(circuit, role="round")] == ["Round one of three.", "Round two of three.",
                                                               "Last round."]
    assert [c.title for c in circuit.chapters] == [
        "Introduction", "Glute bridge, round 1 of 3", "Dead bug, round 1 of 3", "Glute bridge, round 2 of 3",
        "Dead bug, round 2 of 3", "Glute bridge, round 3 of 3", "Dead bug, round 3 of 3", "Slow breaths"]
    assert events(circuit, role="group")[0].text == "Floor circuit."


def test_announce_false_and_one_round_say_no_round():
    quiet = parse_text(CIRCUIT.replace("rest_between: 10", "rest_between: 10\n    announce: false"), "c.yaml")
    once = parse_text(CIRCUIT.replace("rounds: 3", "rounds: 1"), "c.yaml")
    for routine in (quiet, once):
        assert events(build_plan(routine, ToneLengths()), role="round") == []
    assert "round" not in " ".join(c.title for c in build_plan(once, ToneLengths()).chapters)


def test_the_plan_json_has_round_substep_and_from(tmp_path):
    (tmp_path / "part.yaml").write_text("title: Part\nsteps:\n  - name: Reach\n    hold: 4\n")
    script = tmp_path / "whole.yaml"
    script.write_text(CIRCUIT.replace("  - say: Get ready.\n", "  - include: part.yaml\n"))
    result = invoke("plan", str(script), "--json", "--voice", "test")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    reach = [e for e in data["events"] if e["step"] == 0 and e.get("text") == "Reach."]
    assert reach and all(e["from"] == "part" and e["substep"] == 0 and "round" not in e for e in reach)
    lifts = [e for e in data["events"] if e["role"] == "cue" and e["text"].endswith("Lift.")]
    assert [(e["step"], e["round"], e["substep"]) for e in lifts] == [(1, k, 0) for k in (1, 1, 2, 2, 3, 3)]
    assert data["chapters"][0] == {"title": "Introduction", "start": 0.0, "end": data["chapters"][1]["start"], "step": -1}
    assert data["events"][0]["text"] == CAUTION[0]  # the part asks for the caution (its default): said once
    assert sum(e.get("text") == CAUTION[0] for e in data["events"]) == 1


def test_an_include_splices_the_steps_and_leaves_out_intro_and_outro():
    morning = load_routine(Path(__file__).parent.parent / "scripts" / "morning.yaml")
    plan = build_plan(morning, ToneLengths())
    texts = [e.text for e in plan.events if e.kind == "speech"]
    assert "That is your reset." not in texts  # standing-reset's outro
    assert "One of the best gifts you can give your lower back is a good hip hinge." not in texts
    assert {e.source for e in plan.events} >= {"standing-reset", "hip-hinge"}
    assert texts.count(CAUTION[0]) == 1


def test_fitting_chooses_rounds_and_what_is_inside():
    ranged = parse_text(CIRCUIT.replace("rounds: 3", "rounds: 2-4").replace("hold: 5", "hold: 5-15"), "c.yaml")
    chosen = set()
    for target in (141.5, 162.5, 190.5):  # reachable: the hold moves the session in steps of one per round
        plan = fit_plan(ranged, ToneLengths(), target_s=target)
        assert plan.warnings == () and plan.length == n(target)
        assert len(events(plan, role="hold-start")) == plan.choices[(1, "rounds", None)]
        chosen.add(plan.choices[(1, "rounds", None)])
    assert chosen == {3.0, 4.0}


# --------------------------------------------------------------------------- located errors, one per class


def only_error(path: Path) -> str:
    problems = [p for p in check_file(path) if p.severity == "error"]
    assert len(problems) == 1, problems
    with pytest.raises(ScriptError):
        load_routine(path)
    return str(problems[0])


def test_an_include_that_cannot_be_found(tmp_path):
    script = tmp_path / "s.yaml"
    script.write_text("title: T\nsteps:\n  - say: Hi.\n  - include: standing-rest\n")
    assert only_error(script) == (
        f"{script}:4:14: include 'standing-rest': no routine of that name (did you mean 'standing-reset'?); "
        "write a built-in's name (gentle-relief, hip-hinge, lower-back-and-hips, morning, sitting-reset, "
        "standing-reset) or a path relative to this script")


def test_an_include_cycle(tmp_path):
    (tmp_path / "a.yaml").write_text("title: A\nsteps:\n  - include: b.yaml\n")
    (tmp_path / "b.yaml").write_text("title: B\nsteps:\n  - say: Hi.\n  - include: a.yaml\n")
    message = only_error(tmp_path / "a.yaml")
    assert message == (f"{tmp_path / 'b.yaml'}:4:14: include 'a.yaml' includes itself (a.yaml -> b.yaml -> a.yaml); "
                       "remove the include that closes the loop")


def test_includes_nested_too_deep(tmp_path):
    for k in range(7):
        (tmp_path / f"p{k}.yaml").write_text(f"title: P{k}\nsteps:\n  - include: p{k + 1}.yaml\n")
    (tmp_path / "p7.yaml").write_text("title: End\nsteps:\n  - say: Hi.\n")
    message = only_error(tmp_path / "p0.yaml")
    assert message.startswith(f"{tmp_path / 'p5.yaml'}:3:14: include 'p6.yaml' nests includes more than 5 deep "
                              "(p0.yaml -> p1.yaml -> p2.yaml -> p3.yaml -> p4.yaml -> p5.yaml -> p6.yaml)")


def test_groups_nested_too_deep(tmp_path):
    script = tmp_path / "s.yaml"
    script.write_text("title: T\nsteps:\n  - rounds: 2\n    steps:\n    - rounds: 2\n      steps:\n"
                      "      - rounds: 2\n        steps:\n        - rounds: 2\n          steps:\n          - say: Hi.\n")
    assert only_error(script) == (
        f"{script}:10:11: step 1.1.1.1 puts a group inside 3 others; groups go at most 3 levels deep: "
        "write the inner steps out, or include another routine")


def test_an_error_inside_an_included_file_is_located_in_that_file(tmp_path):
    (tmp_path / "part.yaml").write_text("title: Part\nsteps:\n  - say: Hi.\n  - hold: 20\n    holdd: 3\n")
    script = tmp_path / "s.yaml"
    script.write_text("title: T\nsteps:\n  - include: part.yaml\n")
    assert only_error(script) == f"{tmp_path / 'part.yaml'}:5:5: unknown key 'holdd' in step 2 (did you mean 'hold'?)"
    result = invoke("check", str(script))
    assert result.returncode == 1 and "part.yaml:5:5: unknown key 'holdd'" in result.stdout + result.stderr


def test_a_group_key_that_belongs_on_its_steps(tmp_path):
    script = tmp_path / "s.yaml"
    script.write_text("title: T\nsteps:\n  - rounds: 2\n    sides: [left, right]\n    steps: [{say: Hi.}]\n")
    assert only_error(script) == f"{script}:4:5: 'sides' does not go with a group (step 1); put it on the steps inside"
