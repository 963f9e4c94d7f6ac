"""`voiceguide import`: pages of our own (tests/pages/) read as the routines expected of them, field by field.

Each page has ``PAGE.expected.yaml``: the title, the cautions spoken (each line's start) and every named
step in order with its kind, counts, ranges, sides, rounds and breathing.  Every import must also pass
the script reader with no problem at all, and name its page lines in its comments.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
import yaml
from helpers import REPO
from page_structure import structure

from voiceguide.cli import main
from voiceguide.page import PageError, import_page, read_lines
from voiceguide.page.quantities import read_facts
from voiceguide.script.parse import analyse, load_routine

PAGES = REPO / "tests" / "pages"
EXPECTED = sorted(PAGES.glob("*.expected.yaml"))
SOURCE = PAGES / "lower-back-and-hips.txt"


@functools.cache
def imported_text(page: Path) -> str:
    """The routine ``import`` writes for ``page`` (a string, made once per run for the tests that only read it)."""
    return import_page(page).text


def imported(page: Path) -> dict:
    routine, problems = analyse(imported_text(page), str(page))
    assert problems == [], [str(p) for p in problems]
    assert routine is not None
    return structure(routine)


def test_the_corpus_has_every_style():
    suffixes = sorted({p.name.split(".")[1] for p in EXPECTED})
    assert len(EXPECTED) >= 12 and suffixes == ["html", "md", "pdf", "txt"]


@pytest.mark.parametrize("expected_file", EXPECTED, ids=[p.name.split(".expected")[0] for p in EXPECTED])
def test_a_page_imports_as_the_routine_expected_of_it(expected_file):
    expected = yaml.safe_load(expected_file.read_text(encoding="utf-8"))
    got = imported(PAGES / expected_file.name.removesuffix(".expected.yaml"))
    assert got["title"] == expected["title"]
    assert len(got["cautions"]) == len(expected["cautions"]), got["cautions"]
    for said, start in zip(got["cautions"], expected["cautions"]):
        assert said.startswith(start)
    assert [e["name"] for e in got["exercises"]] == [e["name"] for e in expected["exercises"]]
    for step, want in zip(got["exercises"], expected["exercises"]):
        for key in ("kind", "sides", "reps", "rep_hold", "hold", "breathe", "breaths", "inhale", "exhale", "rounds",
                    "rest_between"):
            assert step.get(key) == want.get(key), f"{step['name']}: {key}"
    assert [r for r in got["rests"] if r] == expected.get("rests", [])


def test_the_source_page_is_the_exercises_it_describes():
    got = imported(SOURCE)
    steps = {e["name"]: e for e in got["exercises"]}
    assert list(steps) == ["Standing reset", "Standing reset: slow breaths", "Sitting reset", "Pelvic tilts", "Knee-to-chest rocking",
                           "Hip flexor opener", "Glute bridge", "Hinge"]
    assert steps["Standing reset"] | {} == {**steps["Standing reset"], "kind": "reps", "reps": "3-5"}  # its tilts
    breaths = steps["Standing reset: slow breaths"]
    assert (breaths["kind"], breaths["breaths"], breaths["inhale"], breaths["exhale"]) == ("breaths", "3", 4, 6)
    assert steps["Sitting reset"]["kind"] == "hold"
    assert (steps["Pelvic tilts"]["reps"], steps["Pelvic tilts"]["sides"]) == ("8-12", False)
    assert (steps["Knee-to-chest rocking"]["reps"], steps["Knee-to-chest rocking"]["sides"]) == ("5-8", True)
    opener = steps["Hip flexor opener"]
    assert (opener["kind"], opener["hold"], opener["sides"], opener["breathe"]) == ("hold", "20-30", True, [4, 6])
    assert steps["Glute bridge"]["reps"] == "8-10"
    assert steps["Hinge"]["reps"] == "5-10"
    cautions = " ".join(got["cautions"])
    for warning in ("not diagnosis", "Severe or worsening pain", "shoots down the leg", "bowel or bladder"):
        assert warning in cautions


def test_the_source_page_leaves_out_the_habits_and_what_better_feels_like():
    text = import_page(SOURCE).text
    spoken = text.split("# left out")[0]
    for line in ("Change positions often", "Walk softly", "Less pinching", "Standing and walking feel"):
        assert line not in spoken
    left_out = text.split("# left out")[1]
    assert "Everyday habits" in left_out and "What “better” should feel like" in left_out


def test_cues_goals_and_feel_lines_go_in_their_fields():
    routine = load_routine(SOURCE)
    by_name = {s.name: s for s in routine.steps}
    assert by_name["Pelvic tilts"].goal == "Teach the back and pelvis to move without gripping."
    assert by_name["Knee-to-chest rocking"].feel == "Gentle stretch and easing, not yanking or deep pulling."
    assert by_name["Glute bridge"].setup[-1] == "Hips up from glutes, not from the low back."
    assert "{side}" in by_name["Knee-to-chest rocking"].setup[0]
    cycle = by_name["Pelvic tilts"].cycle
    assert [(p.short, p.seconds) for p in cycle] == [("Exhale.", 4), ("Inhale.", 4)]


@pytest.mark.parametrize("name", ["lower-back-and-hips.txt", "knee-home-program.txt", "circuit.txt",
                                  "ankle-balance.txt", "desk-breaks.txt", "shoulder-sheet.txt"])
def test_each_step_names_the_page_line_it_came_from(name):
    page_lines = (PAGES / name).read_text(encoding="utf-8").splitlines()
    text = import_page(PAGES / name).text
    comments = re.findall(r'# line (\d+): "([^"]+)"', text)
    steps = re.findall(r"^\s*- name:", text, re.M)
    assert len(comments) >= len(steps)
    for number, quoted in comments:
        assert quoted in " ".join(page_lines[int(number) - 1].split()), (number, quoted)


def test_a_range_stays_a_range_in_the_script():
    text = import_page(SOURCE).text
    assert "reps: 8-12" in text and "hold: 20-30" in text and "reps: 5-8" in text


@pytest.mark.parametrize(("line", "said"), [
    ("Move small and smooth for 8–12 reps.", ["reps 8-12"]),
    ("Switch sides after 5–8 slow rocks.", ["reps 5-8 (rocks)", "sides"]),
    ("Hold 20 to 30 seconds, breathing slowly, then switch sides.", ["hold 20-30 s", "sides"]),
    ("Repeat 10 times. Hold 5 seconds. Complete 2 sets.", ["sets 2", "hold 5 s", "reps 10"]),
    ("Sets: 3   Reps: 10   Hold: 5 sec", ["sets 3", "hold 5 s", "reps 10"]),
    ("Dead bug - 3 sets of 8 (each side)", ["3 sets of 8 reps", "sides"]),
    ("Bird dog 2 x 10 each side", ["2 sets of 10 reps", "sides"]),
    ("Breathe in for 4 and out for 6.", ["breath in 4 s, out 6 s"]),
    ("Inhale for 4 counts, hold for 4, exhale for 4, hold for 4.", ["breath in 4 s, hold 4 s, out 4 s, hold 4 s"]),
    ("Take 5 slow breaths, inhaling for 4 seconds and exhaling for 6 seconds.", ["breath in 4 s, out 6 s",
                                                                                 "breaths 5"]),
    ("Complete 3 rounds, resting 60 seconds between rounds.", ["60 s rest between rounds", "rounds 3"]),
    ("Rest 30 seconds between exercises.", ["30 s rest between exercises"]),
    ("Stay here for 2 minutes.", ["hold 120 s"]),
    ("Turn your head 45 degrees to one side.", []),
    ("Gently tilt your pelvis forward and back a few times.", ["'a few times': reps 3-5"]),
])
def test_the_quantity_rules(line, said):
    assert [s for s in read_facts(line)[0].said if "how often" not in s] == said


def test_an_html_page_is_its_article_without_navigation_footer_or_newsletter():
    text = " ".join(line.text for line in read_lines(PAGES / "neck-tension-blog.html")[0])
    for chrome in ("Shop 20% off", "Subscribe", "Join 40,000 readers", "Popular posts", "Privacy", "© 2026",
                   "Share this", "6 min read", "dataLayer"):
        assert chrome not in text
    assert "Gently draw your chin straight back" in text


def test_the_pdf_printed_from_a_page_imports_as_that_page():
    assert imported(PAGES / "hip-openers.pdf")["exercises"] == imported(PAGES / "hip-openers.html")["exercises"]


# --------------------------------------------------------------------------- the command


def test_import_writes_the_routine_whole_and_says_what_it_found(tmp_path, capsys):
    target = tmp_path / "knee.yaml"
    assert main(["import", str(PAGES / "knee-home-program.txt"), "-o", str(target)]) == 0
    err = capsys.readouterr().err
    assert "4 exercises" in err and f"wrote {target}" in err
    assert target.read_text(encoding="utf-8") == import_page(PAGES / "knee-home-program.txt").text
    assert main(["check", str(target), "--voice", "test"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["knee.yaml"]


def test_import_without_o_prints_the_routine(capsys):
    assert main(["import", str(PAGES / "circuit.txt")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Imported from circuit.txt") and "rest_between: 60" in out


def test_a_page_with_no_exercises_is_one_line_and_no_file(tmp_path, capsys):
    target = tmp_path / "out.yaml"
    assert main(["import", str(PAGES / "about-posture.txt"), "-o", str(target)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"voiceguide: found no exercises in {PAGES / 'about-posture.txt'}: ")
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_the_nearest_thing_is_named(tmp_path):
    page = tmp_path / "almost.txt"
    page.write_text("Stretch notes\n\nCat stretch\nKneel on the floor and round your back slowly.\n", encoding="utf-8")
    with pytest.raises(PageError, match="nearest was \"Kneel on the floor"):
        import_page(page)


def test_the_output_must_not_be_the_page(capsys):
    assert main(["import", str(SOURCE), "-o", str(SOURCE)]) == 2
    assert "is the page itself" in capsys.readouterr().err


def _fails(page: Path, capsys, *needles: str) -> None:
    assert main(["import", str(page)]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == "" and len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    for needle in needles:
        assert needle in lines[0]


def test_a_pdf_without_text_says_so(tmp_path, capsys):
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)
    with open(tmp_path / "scan.pdf", "wb") as f:
        writer.write(f)
    _fails(tmp_path / "scan.pdf", capsys, "has no text layer")


def test_an_encrypted_pdf_says_so(tmp_path, capsys):
    import pypdf

    writer = pypdf.PdfWriter(clone_from=str(PAGES / "hip-openers.pdf"))
    writer.encrypt("secret", algorithm="RC4-128")
    with open(tmp_path / "locked.pdf", "wb") as f:
        writer.write(f)
    _fails(tmp_path / "locked.pdf", capsys, "encrypted PDF")


@pytest.mark.parametrize("damage", ["truncated", "garbled"])
def test_a_damaged_pdf_is_one_line(tmp_path, capsys, damage):
    data = (PAGES / "hip-openers.pdf").read_bytes()
    data = data[:700] if damage == "truncated" else data[:9] + bytes(range(256)) * 40
    (tmp_path / "broken.pdf").write_bytes(data)
    _fails(tmp_path / "broken.pdf", capsys, "broken.pdf")


def test_binary_junk_is_not_a_page(tmp_path, capsys):
    (tmp_path / "junk.txt").write_bytes(bytes(range(256)) * 64)
    _fails(tmp_path / "junk.txt", capsys, "binary data")


def test_a_50_mb_file_is_refused_before_it_is_read(tmp_path, capsys):
    import time

    big = tmp_path / "big.html"
    with open(big, "wb") as f:
        f.truncate(50_000_000)
    start = time.perf_counter()
    _fails(big, capsys, "50.0 MB", "at most 10 MB")
    assert time.perf_counter() - start < 1.0


def test_a_missing_page_is_one_line(tmp_path, capsys):
    _fails(tmp_path / "nowhere.md", capsys, "nowhere.md")


# --------------------------------------------------------------------------- a page is a routine as it is


def test_plan_takes_a_page_and_says_it_was_read_as_one(capsys):
    assert main(["plan", str(PAGES / "desk-breaks.txt"), "--voice", "test"]) == 0
    captured = capsys.readouterr()
    assert f"read {PAGES / 'desk-breaks.txt'} as a page: 6 exercises" in captured.err
    assert "Seated spinal twist" in captured.out


def test_export_takes_a_page(tmp_path, capsys):
    target = tmp_path / "breathing.wav"
    assert main(["export", str(PAGES / "breathing-practice.md"), "-o", str(target), "--voice", "test"]) == 0
    assert target.stat().st_size > 100_000


def test_a_routine_script_saved_as_a_page_is_read_as_a_script(tmp_path, capsys):
    page = tmp_path / "mine.txt"
    page.write_text((REPO / "scripts" / "standing-reset.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    as_page, as_script = load_routine(page), load_routine(REPO / "scripts" / "standing-reset.yaml")
    assert as_page.title == as_script.title
    assert [(s.name, s.kind, s.reps, s.hold, [(p.say, p.seconds) for p in s.cycle]) for s in as_page.steps] == \
        [(s.name, s.kind, s.reps, s.hold, [(p.say, p.seconds) for p in s.cycle]) for s in as_script.steps]
    assert "as a page" not in capsys.readouterr().err


def test_a_markdown_table_of_exercises(tmp_path):
    page = tmp_path / "table.md"
    page.write_text("# Week 1\n\n| Exercise | Sets | Reps | Hold |\n| --- | --- | --- | --- |\n"
                    "| Heel raises | 2 | 12 | - |\n| Wall sit | 3 | - | 30 s |\n", encoding="utf-8")
    got = imported(page)["exercises"]
    assert [(e["name"], e["kind"], e.get("reps"), e.get("hold"), e["rounds"]) for e in got] == [
        ("Heel raises", "reps", "12", None, "2"), ("Wall sit", "hold", None, "30", "3")]


def test_a_rule_that_fails_is_one_line_not_a_traceback(monkeypatch, capsys):
    import voiceguide.page.write as write

    def broken(lines, name):
        raise IndexError("list index out of range")

    monkeypatch.setattr(write, "recognise", broken)
    _fails(SOURCE, capsys, "could not read", "please report it")


def test_every_import_passes_check_with_no_warning(tmp_path, capsys):
    written = []
    for expected in EXPECTED:
        page = PAGES / expected.name.removesuffix(".expected.yaml")
        written.append(tmp_path / f"{page.name}.yaml")
        written[-1].write_text(imported_text(page), encoding="utf-8")
    assert main(["check", *map(str, written), "--voice", "test"]) == 0
    assert capsys.readouterr().out == ""


def test_a_page_of_too_many_lines_or_exercises_is_refused_quickly(tmp_path, capsys):
    import time

    lines = tmp_path / "lines.txt"
    lines.write_text("\n".join(f"Lift your arm {n} times." for n in range(6000)), encoding="utf-8")
    book = tmp_path / "book.txt"
    book.write_text("\n\n".join(f"Bridge {n}\nLie on your back.\nRepeat 10 times." for n in range(400)),
                    encoding="utf-8")
    one_line = tmp_path / "one-line.txt"
    one_line.write_text("lift the arm 10 reps each side and " * 200_000, encoding="utf-8")
    start = time.perf_counter()
    _fails(lines, capsys, "more than 4000 lines")
    _fails(book, capsys, "400 exercises", "at most 150")
    _fails(one_line, capsys, "found no exercises")
    assert time.perf_counter() - start < 10


def test_an_output_that_cannot_be_written_is_one_line(tmp_path, capsys):
    target = tmp_path / "no-such-folder" / "out.yaml"
    assert main(["import", str(PAGES / "circuit.txt"), "-o", str(target)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"voiceguide: cannot write {target}: No such file or directory")
    assert not (tmp_path / "no-such-folder").exists()


def test_a_routine_script_given_to_import_is_printed_as_it_is(capsys):
    script = REPO / "scripts" / "standing-reset.yaml"
    assert main(["import", str(script)]) == 0
    captured = capsys.readouterr()
    assert captured.out == script.read_text(encoding="utf-8") and "already a routine script" in captured.err


def test_a_pipe_named_like_a_page_is_refused_without_waiting(tmp_path, capsys):
    import os

    pipe = tmp_path / "page.txt"
    os.mkfifo(pipe)
    _fails(pipe, capsys, "is not a file")


def test_a_text_page_written_in_markdown_is_read_as_markdown(tmp_path):
    page = tmp_path / "notes.txt"
    page.write_text("# Quick stretch\n\n## Cat-cow\n- On hands and knees.\n- 8 slow rounds.\n\n"
                    "**Child pose** - hold 30 seconds\n", encoding="utf-8")
    got = imported(page)
    assert got["title"] == "Quick stretch"
    assert [(e["name"], e["kind"], e.get("reps"), e.get("hold")) for e in got["exercises"]] == [
        ("Cat-cow", "reps", "8", None), ("Child pose", "hold", None, "30")]
