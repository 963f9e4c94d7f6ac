"""Programmes end to end: a programme file of the tests' own, `today` on several dates, progression
between weeks, the caution, `programme start`, bad input located, and `programme export` (MP3s
decoded by ffprobe, the calendar parsed back by icalendar)."""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import time as time_module
from datetime import date, datetime, time, timedelta
from pathlib import Path

import icalendar
import pytest
from test_export import ffprobe
from test_page import browser  # noqa: F401  the page tests' headless Chromium, a fixture here

from voiceguide import cli
from voiceguide.programme import check_programme, programme_days
from voiceguide.programme.state import state_file
from voiceguide.script.words import CAUTION, CAUTION_BRIEF

PROGRAMME = """\
title: Test weeks
start: 2026-12-07
reminder: "07:30"
phases:
  - weeks: 3
    sessions:
      - routine: short
        days: [mon, wed, fri]
        progress: true
      - routine: short
        days: [wed]
  - weeks: 1
    sessions:
      - routine: short
        days: 2 per week
        duration: "1:30"
"""
"""Monday 7 December 2026 to Sunday 3 January 2027; Tuesdays, Thursdays and weekends are days off."""

SHORT = """\
title: Short test routine
steps:
  - name: Tilts
    reps: 8-12
    cycle: [{say: Tilt., seconds: 2}, {say: Back., seconds: 2}]
  - name: Hold it
    hold: 20-30
"""


@pytest.fixture(autouse=True)
def own_state(tmp_path, monkeypatch):
    """A current programme of each test's own: one left started would be served by other tests' `serve`."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def write_programme(folder: Path, text: str = PROGRAMME, routine: str = SHORT) -> Path:
    (folder / "short.yaml").write_text(routine, encoding="utf-8")
    path = folder / "weeks.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def write_daily_programme(folder: Path, start: date) -> Path:
    """``PROGRAMME`` every day from ``start``: a session falls on whatever day the test runs."""
    return write_programme(folder, PROGRAMME.replace("start: 2026-12-07", f"start: {start.isoformat()}").replace(
        "days: [mon, wed, fri]", "days: daily"))


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def today_json(capsys, path: Path, on: str, *more: str) -> dict:
    code, out, err = run(capsys, "today", str(path), "--date", on, "--json", "--voice", "test", *more)
    assert code == 0, err
    return json.loads(out)


def values(session: dict) -> dict[str, float]:
    return {f"{v['step']} {v['key']}": v["value"] for v in session["values"]}


# --------------------------------------------------------------------------- today


def test_today_on_four_dates(tmp_path, capsys):
    path = write_programme(tmp_path)
    code, out, _ = run(capsys, "today", str(path), "--date", "2026-12-16", "--voice", "test")
    assert code == 0
    lines = out.splitlines()
    assert lines[:2] == ["Test weeks", "Week 2 of 4, Wednesday 16 December 2026 (day 10 of 28)"]
    assert lines[3].startswith("1. Short test routine  ") and lines[6].startswith("2. Short test routine  ")
    assert lines[4].strip() == "Tilts 10 reps, Hold it 25 s"  # week 2 of 3: the middle of each range
    assert lines[5].strip() == f"voiceguide play today:1 --voice test --programme {path} --date 2026-12-16"
    assert lines[8].strip() == f"voiceguide play today:2 --voice test --programme {path} --date 2026-12-16"

    code, out, _ = run(capsys, "today", str(path), "--date", "2026-12-17")  # a Thursday
    assert (code, out.splitlines()[1:]) == (0, [
        "Week 2 of 4, Thursday 17 December 2026 (day 11 of 28)", "", "Nothing planned today: a day off.",
        "Next: Friday 18 December 2026."])

    code, out, _ = run(capsys, "today", str(path), "--date", "2026-12-01")
    assert (code, out.splitlines()[1]) == (0, "Tuesday 1 December 2026: the programme has not started yet; it "
                                              "starts on Monday 7 December 2026 (in 6 days).")
    code, out, _ = run(capsys, "today", str(path), "--date", "2027-01-04")
    assert (code, out.splitlines()[1]) == (0, "Monday 4 January 2027: the programme is over; it ended on Sunday "
                                              "3 January 2027 (4 weeks).")


def test_today_as_json_gives_each_session_its_length_values_and_command(tmp_path, capsys):
    path = write_programme(tmp_path)
    report = today_json(capsys, path, "2026-12-07")
    assert (report["status"], report["week"], report["day"], report["weekday"]) == ("day", 1, 1, "Monday")
    [session] = report["sessions"]
    assert session["title"] == "Short test routine" and session["caution"] == "full"
    assert session["command"] == f"voiceguide play today --voice test --programme {path} --date 2026-12-07"
    # the length is the real plan's: the same as `voiceguide plan` gives with the values fixed
    assert 60 < session["length"] < 300
    assert today_json(capsys, path, "2026-12-08")["status"] == "rest"
    assert today_json(capsys, path, "2026-11-30")["status"] == "before"
    assert today_json(capsys, path, "2027-01-04")["status"] == "after"


def test_progression_moves_each_range_from_low_to_high_over_the_phase(tmp_path, capsys):
    path = write_programme(tmp_path)
    weeks = [today_json(capsys, path, on)["sessions"][0] for on in ("2026-12-09", "2026-12-16", "2026-12-23")]
    assert [values(s) for s in weeks] == [{"Tilts reps": 8, "Hold it hold": 20}, {"Tilts reps": 10, "Hold it hold": 25},
                                          {"Tilts reps": 12, "Hold it hold": 30}]
    assert weeks[0]["length"] < weeks[1]["length"] < weeks[2]["length"]
    # the session without progress chooses the middle, as a routine alone does; a duration wins
    wednesday = today_json(capsys, path, "2026-12-09")["sessions"]  # week 1
    assert values(wednesday[1]) == {"Tilts reps": 10, "Hold it hold": 25}
    last_week = today_json(capsys, path, "2026-12-28")["sessions"]
    assert last_week[0]["length"] == 90.0


def test_rounding_follows_the_routine_whole_reps_and_half_second_holds(tmp_path):
    text = PROGRAMME.replace("weeks: 3", "weeks: 4")
    programme, problems = check_programme(write_programme(tmp_path, text))
    assert programme is not None, problems
    mondays = [d for d in programme_days(programme, programme.start) if d.date.weekday() == 0][:4]
    got = [dict(((k[1], v) for k, v in d.sessions[0].choices)) for d in mondays]
    # 8-12 over 4 weeks: 8, 9.33, 10.67, 12; 20-30: 20, 23.33, 26.67, 30 (halves)
    assert got == [{"reps": 8, "hold": 20}, {"reps": 9, "hold": 23.5}, {"reps": 11, "hold": 26.5},
                   {"reps": 12, "hold": 30}]


def test_n_per_week_spreads_from_the_first_day_of_each_week(tmp_path):
    text = PROGRAMME.replace("start: 2026-12-07", "start: 2026-12-10").replace("days: [mon, wed, fri]",
                                                                                 "days: 3 per week")
    programme, problems = check_programme(write_programme(tmp_path, text))
    assert programme is not None, problems
    days = programme_days(programme, programme.start)[:14]
    firsts = [d.date.strftime("%a") for d in days if d.sessions and d.sessions[0].entry.progress]
    assert firsts == ["Thu", "Sat", "Mon"] * 2


def test_the_caution_is_whole_on_the_first_day_and_one_sentence_after(tmp_path, capsys):
    path = write_programme(tmp_path)
    from voiceguide import programmes
    from voiceguide.script.settings import Overrides
    from voiceguide.session import prepare

    opened = programmes.open_programme(str(path))

    def spoken(on: date) -> list[str]:
        planned = programmes.day_sessions(opened, on)[0]
        session = prepare(programmes.session_routine(planned), Overrides(voice="test"), fixed=planned.fixed)
        return [e.text for e in session.plan.events if e.role == "caution"]

    assert spoken(date(2026, 12, 7)) == list(CAUTION)
    assert spoken(date(2026, 12, 9)) == list(CAUTION_BRIEF) == ["Move gently; stop if anything feels wrong."]
    full = write_programme(tmp_path, PROGRAMME.replace('reminder: "07:30"', 'reminder: "07:30"\ncaution: full'))
    opened = programmes.open_programme(str(full))
    assert spoken(date(2026, 12, 9)) == list(CAUTION)
    assert today_json(capsys, full, "2026-12-09")["sessions"][0]["caution"] == "full"


# --------------------------------------------------------------------------- bad input


def test_bad_input_is_located_with_what_to_write(tmp_path, capsys):
    path = write_programme(tmp_path, PROGRAMME.replace("[mon, wed, fri]", "[mon, wendsday, fri]")
                           .replace("      - routine: short\n        days: [wed]", "      - routine: shrot\n"
                                    "        days: [wed]")
                           .replace("2026-12-07", "2026-12-32").replace("weeks: 1", "weeks: 1\n    sesions: []"))
    code, out, _ = run(capsys, "programme", "check", str(path))
    assert code == 1
    assert out.splitlines() == [
        f"{path}:2:8: 'start' is '2026-12-32', not a date; write the first day as YYYY-MM-DD, like 2026-12-07, "
        "or leave 'start' out to begin the day you run `voiceguide programme start`",
        f"{path}:8:21: 'wendsday' is not a weekday (did you mean 'wed'?); write one of: mon, tue, wed, thu, fri, "
        "sat, sun",
        f"{path}:10:18: no routine named 'shrot' (did you mean 'short'?); write a built-in's name (gentle-relief, "
        "hip-hinge, lower-back-and-hips, morning, sitting-reset, standing-reset) or a path relative to this programme",
        f"{path}:13:5: unknown key 'sesions' in phase 2 (did you mean 'sessions'?)",
    ]


def test_a_routine_with_a_mistake_is_located_in_its_own_file(tmp_path, capsys):
    path = write_programme(tmp_path, routine=SHORT.replace("reps: 8-12", "reps: 12-8"))
    code, out, _ = run(capsys, "programme", "check", str(path))
    shown = os.path.relpath(tmp_path / "short.yaml")
    routine = shown if not shown.startswith("..") else tmp_path / "short.yaml"
    message = f"{routine}:4:11: 'reps' in step 1 is '12-8', a range that runs backwards; write 8-12\n"
    assert (code, out) == (1, message)
    code, _, err = run(capsys, "today", str(path))
    assert (code, err) == (1, message)


@pytest.mark.parametrize("line, message", [
    ("reminder: 7.30", "'reminder' is '7.30', not a time of day; write it as \"HH:MM\" in quotes, like \"07:30\""),
    ("caution: always", "'caution' is 'always'; write 'caution: full' to hear the whole safety note every day, or "
                        "leave it out (in full on the first day, one short sentence after)"),
])
def test_bad_top_level_values(tmp_path, capsys, line, message):
    path = write_programme(tmp_path, PROGRAMME.replace('reminder: "07:30"', line))
    code, out, _ = run(capsys, "programme", "check", str(path))
    assert (code, out) == (1, f"{path}:3:{len(line.split(':')[0]) + 3}: {message}\n")


def test_progress_with_a_duration_is_a_warning_not_an_error(tmp_path, capsys):
    path = write_programme(tmp_path, PROGRAMME.replace('        duration: "1:30"', '        duration: "1:30"\n'
                                                                                    '        progress: true'))
    code, out, _ = run(capsys, "programme", "check", str(path))
    assert code == 0
    assert out.splitlines()[0] == (f"{path}:17:9: warning: 'duration' chooses this session's values, so "
                                   "'progress: true' does nothing here; remove one of them")


# --------------------------------------------------------------------------- the current programme


def test_start_remembers_the_programme_for_today_and_play_today(tmp_path, capsys):
    path = write_programme(tmp_path)
    code, out, _ = run(capsys, "programme", "start", str(path))
    assert code == 0 and out.startswith("'Test weeks' is the current programme, from Monday 7 December 2026")
    assert json.loads(state_file().read_text())["path"] == str(path.resolve())
    code, out, _ = run(capsys, "today", "--date", "2026-12-09", "--voice", "test")
    assert code == 0 and "voiceguide play today:1 --voice test --date 2026-12-09" in out  # no --programme: current
    # several sessions: play today says which there are and how to choose, before opening any device
    code, _, err = run(capsys, "play", "today", "--date", "2026-12-09", "--voice", "test")
    assert code == 1
    assert err.strip().endswith("has 2 sessions (1: Short test routine; 2: Short test routine); say which: "
                                "`voiceguide play today:1 --date 2026-12-09` or `voiceguide play today:2 --date "
                                "2026-12-09`")


@pytest.mark.parametrize("content, says", [
    (b"{not json", "is damaged and is left as it is"),
    (b'{"format": 99, "path": "x", "start": "2026-01-01"}', "was written by a newer voiceguide (format 99)"),
])
def test_a_damaged_or_newer_state_file_is_reported_and_never_overwritten(tmp_path, capsys, content, says):
    path = write_programme(tmp_path)
    state = state_file()
    state.parent.mkdir(parents=True)
    state.write_bytes(content)
    code, _, err = run(capsys, "programme", "start", str(path))
    assert code == 1 and len(err.splitlines()) == 1 and says in err
    assert state.read_bytes() == content
    code, _, err = run(capsys, "today")
    assert code == 1 and says in err
    code, out, _ = run(capsys, "today", str(path), "--date", "2026-12-08")  # a file named: not needed
    assert code == 0 and "Nothing planned today" in out
    assert state.read_bytes() == content


# --------------------------------------------------------------------------- export and the calendar


def test_export_writes_one_file_per_distinct_session_and_a_calendar(tmp_path, capsys):
    path = write_programme(tmp_path)
    out = tmp_path / "out"
    code, printed, err = run(capsys, "programme", "export", str(path), "-o", str(out), "--voice", "test")
    assert code == 0, err
    # week 1 Monday: full caution (1); progress weeks 1, 2, 3 (later days: 2, 3, 4); the plain Wednesday
    # session is week 2's values with the short caution, so the same session as week 2's (3); the last
    # week's 1:30 (5)
    mp3s = sorted(p.name for p in out.glob("*.mp3"))
    assert mp3s == [f"short-{n}.mp3" for n in range(1, 6)]
    assert sorted(printed.split()) == sorted([str(out / n) for n in mp3s] + [str(out / "programme.ics")])

    decoded_s = {name: float(ffprobe(out / name)["format"]["duration"]) for name in mp3s}  # each file once
    calendar = icalendar.Calendar.from_ical((out / "programme.ics").read_bytes())
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 3 * 3 + 3 + 2  # Mon/Wed/Fri for 3 weeks, every Wednesday, 2 in the last week
    assert len({str(e["UID"]) for e in events}) == len(events)
    for event in events:
        start = event.decoded("DTSTART")
        assert isinstance(start, datetime) and start.tzinfo is None and start.time() == time(7, 30)  # floating
        assert str(event["SUMMARY"]) == "Short test routine"
        name = str(event["DESCRIPTION"]).split("File: ")[1].split("\n")[0]
        assert abs(event.decoded("DURATION").total_seconds() - decoded_s[name]) < 1.5
        [alarm] = event.walk("VALARM")
        assert str(alarm["ACTION"]) == "DISPLAY" and str(alarm["DESCRIPTION"]) == "Short test routine"
        assert alarm.decoded("TRIGGER") == timedelta(0)
        assert "DTSTAMP" in event
    days = sorted(e.decoded("DTSTART").date() for e in events)
    assert days[0] == date(2026, 12, 7) and days[-1] == date(2026, 12, 31)
    first = next(e for e in events if e.decoded("DTSTART").date() == date(2026, 12, 21))
    assert "Tilts 12 reps, Hold it 30 s" in str(first["DESCRIPTION"])
    assert math.isclose(first.decoded("DURATION").total_seconds(),
                        math.ceil(decoded_s["short-4.mp3"]), abs_tol=1.5)

    again = tmp_path / "again"
    run(capsys, "programme", "export", str(path), "-o", str(again), "--voice", "test")
    uids = [str(e["UID"]) for e in icalendar.Calendar.from_ical((again / "programme.ics").read_bytes()).walk("VEVENT")]
    assert uids == [str(e["UID"]) for e in events]  # stable: importing again updates, not doubles


@pytest.mark.parametrize("voice", ["hibari"])
def test_export_with_the_default_voice(tmp_path, capsys, voice):
    text = ("title: One week\nstart: 2026-12-07\nphases:\n  - weeks: 1\n    sessions:\n"
            "      - routine: standing-reset\n        days: [mon, tue]\n")
    path = tmp_path / "one.yaml"
    path.write_text(text, encoding="utf-8")
    code, _, err = run(capsys, "programme", "export", str(path), "-o", str(tmp_path / "out"))
    assert code == 0, err
    first, later = (float(ffprobe(tmp_path / "out" / f"standing-reset-{n}.mp3")["format"]["duration"]) for n in (1, 2))
    assert abs(first - later) < 0.2  # the reset lasts its two minutes either way: the hold takes up the difference
    events = list(icalendar.Calendar.from_ical((tmp_path / "out" / "programme.ics").read_bytes()).walk("VEVENT"))
    assert [e.decoded("DTSTART") for e in events] == [datetime(2026, 12, 7, 8, 0), datetime(2026, 12, 8, 8, 0)]


# --------------------------------------------------------------------------- serve


def test_serve_puts_today_first_in_the_feed_and_on_the_page_and_serves_the_calendar(tmp_path):
    import podcastparser
    from test_page import get, start_serving, stop

    today = date.today()
    path = write_daily_programme(tmp_path, today - timedelta(days=7))
    other = tmp_path / "other.yaml"  # a routine served beside the programme (short: it is made before the feed is read)
    other.write_text("title: Other\ncaution: false\nsteps:\n  - name: Hold it\n    hold: 3\n", encoding="utf-8")
    process, url, lines = start_serving(tmp_path / "site", str(other), "--programme", str(path))
    try:
        for _ in range(600):  # serve answers at once and makes the sessions after: wait for them
            if not any(s.get("making") for s in json.loads(get(url + "library.json"))["sessions"]):
                break
            time_module.sleep(0.1)
        feed = podcastparser.parse(url + "feed.xml", io.BytesIO(get(url + "feed.xml")))
        episodes = feed["episodes"]
        newest = max(episodes, key=lambda e: e["published"])
        assert newest is episodes[0]
        assert newest["title"] == f"{today:%a} {today.day} {today:%b}: Short test routine"
        assert datetime.fromtimestamp(newest["published"]).date() == today
        assert newest["guid"].endswith(today.isoformat())
        assert [e["title"] for e in episodes[1:]][-1] == "Other"
        assert get(newest["enclosures"][0]["url"])[:3] in (b"ID3", b"\xff\xfb")

        library = json.loads(get(url + "library.json"))
        assert library["calendar"] == "programme.ics"
        assert library["today"]["heading"] == f"Week 2 of 4, {programmes_long_date(today)} (day 8 of 28)"
        [session] = library["today"]["sessions"]
        assert session["title"] == "Short test routine" and session["values"] == ["Tilts 10 reps", "Hold it 25 s"]
        assert library["sessions"][0]["stem"] == session["stem"]  # today's first on the page too
        calendar = icalendar.Calendar.from_ical(get(url + "programme.ics"))
        assert len(list(calendar.walk("VEVENT"))) == 7 * 3 + 3 + 2
    finally:
        code, err = stop(process)
    assert code == 130 and err.endswith("voiceguide: stopped serving\n")  # Ctrl-C, as test_serve has it


def programmes_long_date(on: date) -> str:
    from voiceguide.programmes import long_date

    return long_date(on)


# --------------------------------------------------------------------------- play today


@pytest.mark.real
def test_play_today_plays_that_days_session_with_its_values_through_a_real_alsa_client(tmp_path):
    import subprocess
    import sys

    import numpy as np
    from alsa_sink import alsa_env, captured
    from test_player import heard

    from voiceguide import programmes
    from voiceguide.script.settings import Overrides
    from voiceguide.session import prepare

    path = write_programme(tmp_path)
    env, capture = alsa_env(tmp_path, log=True)
    done = subprocess.run([sys.executable, "-m", "voiceguide", "play", "today:1", "--voice", "test", "--programme",
                           str(path), "--date", "2026-12-16"], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == "Test weeks: Short test routine"
    planned = programmes.day_sessions(programmes.open_programme(str(path)), date(2026, 12, 16))[0]
    assert planned.entry.progress and planned.fixed
    session = prepare(programmes.session_routine(planned), Overrides(voice="test"), fixed=planned.fixed)
    assert {k[1]: v for k, v in session.plan.choices.items()} == {"reps": 10, "hold": 25}
    assert [e.text for e in session.plan.events if e.role == "caution"] == list(CAUTION_BRIEF)
    assert np.array_equal(captured(capture), heard(session))
    from voiceguide.log import PracticeLog  # the practice log's row knows the programme's week

    rows = PracticeLog(tmp_path / "data" / "voiceguide" / "practice.sqlite3").entries()
    assert [(r.routine, r.week, r.finished) for r in rows] == [("short", 2, True)]  # 16 December: week 2 from the 7th


def test_a_serve_left_running_turns_to_the_next_day_at_midnight(tmp_path):
    import podcastparser

    from voiceguide import programmes
    from voiceguide.phone import site
    from voiceguide.publish import ProgrammeDays
    from voiceguide.script.settings import Overrides

    path = write_programme(tmp_path)
    folder = tmp_path / "site"
    folder.mkdir()
    days = ProgrammeDays(programmes.open_programme(str(path)), Overrides(voice="test"), None, folder)
    url = "http://127.0.0.1:1/token/"
    days.make(date(2026, 12, 7))
    files = site.write_site(folder, days.todays, url, private=True, pictures=False, **days.library())
    first = {p.name for p in folder.glob("programme-*")}
    assert first == {"programme-short-1.mp3", "programme-short-1.json", "programme-short-1.chapters.json"}
    days.make(date(2026, 12, 9))  # what the timer does at midnight, then the library and feed again
    files.update({name: folder / name for name in site.write_library(folder, days.todays, url, private=True,
                                                                     **days.library())})
    assert not first & {p.name for p in folder.glob("programme-*")}  # the day before's files are gone

    feed = podcastparser.parse("feed.xml", io.BytesIO((folder / "feed.xml").read_bytes()))
    assert [e["title"] for e in feed["episodes"]] == ["Wed 9 Dec: Short test routine"] * 2
    library = json.loads((folder / "library.json").read_text())
    assert library["today"]["date"] == "2026-12-09" and len(library["today"]["sessions"]) == 2
    assert all(f"{s['stem']}.mp3" in files for s in library["today"]["sessions"])


def test_the_builtin_programme_follows_the_source_page():
    from collections import Counter

    programme, problems = check_programme("back-and-hips-four-weeks")
    assert programme is not None and [p for p in problems if p.severity == "error"] == []
    assert "General education, not medical advice" in programme.summary
    days = programme_days(programme, date(2026, 12, 7))  # from a Monday
    assert len(days) == 28
    per_week = [Counter(Path(s.routine.path).stem for d in days[w * 7:(w + 1) * 7] for s in d.sessions)
                for w in range(4)]
    assert [c["standing-reset"] for c in per_week] == [7] * 4  # every day
    assert [c["hip-hinge"] for c in per_week] == [7] * 4  # hinge practice daily, 5-10 hinges
    assert [c["gentle-relief"] for c in per_week] == [3] * 4  # the floor sequence three times a week
    assert [c["lower-back-and-hips"] for c in per_week] == [0, 0, 2, 2]  # the full session in the later weeks
    relief = [dict((k[1], v) for k, v in s.choices if k[0] == 0)["reps"] for d in days for s in d.sessions
              if Path(s.routine.path).stem == "gentle-relief"]
    assert relief == [8] * 3 + [12] * 3 + [8] * 3 + [12] * 3  # its pelvic tilts, 8-12, climbing each fortnight


def test_serve_takes_the_current_programme_by_default_and_goes_on_without_a_damaged_one(tmp_path, capsys):
    from voiceguide.programme_cli import served

    path = write_programme(tmp_path)
    assert served(None) is None  # none started: the routines alone
    run(capsys, "programme", "start", str(path))
    assert served(None).programme.title == "Test weeks"
    state_file().write_text("{damaged")
    assert served(None) is None
    assert capsys.readouterr().err.splitlines()[-1] == "voiceguide: serving without the current programme"


def test_tags_that_build_objects_and_files_that_are_not_routines_are_refused(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("not a routine\n")
    path = write_programme(tmp_path, PROGRAMME.replace("start: 2026-12-07", "start: !!python/object:os.system x")
                           .replace("days: [wed]", "days: [wed]\n      - {routine: notes.txt, days: daily}"))
    code, out, _ = run(capsys, "programme", "check", str(path))
    assert (code, out.splitlines()) == (1, [
        f"{path}:2:8: tag '!!python/object:os.system' would build a Python object; routine scripts are plain data: "
        "remove the tag",
        f"{path}:12:19: routine 'notes.txt' is not a routine script; give a .yaml file, or a built-in routine's name",
    ])


@pytest.mark.real
def test_the_page_opens_on_today_with_the_calendar_in_a_real_browser(tmp_path, browser):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    from test_page import start_serving, stop

    today = date.today()
    path = write_daily_programme(tmp_path, today)
    process, url, _ = start_serving(tmp_path / "site", "standing-reset", "--programme", str(path))
    try:
        browser.get(url)
        WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "today").is_displayed())
        heading = browser.find_element(By.ID, "today-heading").text
        assert heading.startswith(f"Week 1 of 4, {today:%A}")
        links = browser.find_elements(By.CSS_SELECTOR, "#today-sessions a")
        assert [a.find_element(By.TAG_NAME, "strong").text for a in links] == ["Short test routine"]
        assert links[0].get_attribute("href").endswith("#programme-short-1")
        calendar = browser.find_element(By.ID, "calendar")
        assert calendar.is_displayed() and calendar.get_attribute("href") == url + "programme.ics"
        # above the list of every session
        assert links[0].location["y"] < browser.find_element(By.ID, "sessions").location["y"]
        browser.save_screenshot(str(tmp_path / "today.png"))
    finally:
        stop(process)



@pytest.mark.parametrize("lower, upper", [
    ({"bed": "pink", "rate": 1.2}, {}),
    ({"bed": "pink"}, {"no_bed": True}),
    ({"no_bed": True}, {"bed": "drone"}),
    ({"duration_s": 90.0, "voice": "test"}, {"duration_s": 120.0, "cue_level_lu": -20.0}),
])
def test_a_programmes_options_sit_between_the_script_and_the_command_line(lower, upper):
    from voiceguide.script.parse import load_routine
    from voiceguide.script.settings import Overrides, combined, resolve

    routine = load_routine(Path(__file__).resolve().parent.parent / "scripts" / "gentle-relief.yaml")
    routine = dataclasses.replace(routine, bed="brown", rate=0.9)
    programme, cli = Overrides(**lower), Overrides(**upper)
    assert resolve(routine, combined(programme, cli)) == resolve(routine, programme, cli)


def test_a_session_option_in_the_programme_reaches_the_plan(tmp_path, capsys):
    path = write_programme(tmp_path, PROGRAMME.replace('        duration: "1:30"', '        duration: "1:20"\n'
                                                                                    '        rate: 1.5'))
    [session] = today_json(capsys, path, "2026-12-28")["sessions"]
    assert session["length"] == 80.0
    from voiceguide import programmes
    from voiceguide.script.settings import Overrides

    planned = programmes.day_sessions(programmes.open_programme(str(path)), date(2026, 12, 28))[0]
    assert programmes.session_settings(planned, Overrides(voice="test")).rate == 1.5
    assert programmes.session_settings(planned, Overrides(voice="test", rate=0.8)).rate == 0.8  # the command line wins


@pytest.mark.real
def test_a_programme_with_log_false_keeps_no_row_of_its_plays(tmp_path):
    import subprocess
    import sys

    from alsa_sink import alsa_env

    from voiceguide.log import PracticeLog

    path = write_programme(tmp_path, PROGRAMME.replace("title: Test weeks\n", "title: Test weeks\nlog: false\n", 1))
    env, _ = alsa_env(tmp_path, log=True)
    done = subprocess.run([sys.executable, "-m", "voiceguide", "play", "today:1", "--voice", "test", "--programme",
                           str(path), "--date", "2026-12-16"], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    database = tmp_path / "data" / "voiceguide" / "practice.sqlite3"
    assert not database.exists() or PracticeLog(database).entries() == []
    done = subprocess.run([sys.executable, "-m", "voiceguide", "play", "short.yaml", "--voice", "test"], cwd=tmp_path,
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr  # the same routine outside the programme is logged as usual
    assert [r.routine for r in PracticeLog(database).entries()] == ["short"]


def test_log_in_a_programme_is_true_or_false(tmp_path, capsys):
    path = write_programme(tmp_path, PROGRAMME.replace("title: Test weeks\n", "title: Test weeks\nlog: maybe\n", 1))
    code, out, _ = run(capsys, "programme", "check", str(path))
    assert (code, out.strip()) == (1, f"{path}:2:6: 'log' is 'maybe'; write true or false")
