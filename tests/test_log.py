"""The practice log: a real SQLite file in a folder of the test's own, written and read as the commands do."""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
from helpers import REPO, invoke

from voiceguide.log import (
    RATING_QUESTION,
    SCHEMA_VERSION,
    Entry,
    LogError,
    PracticeLog,
    ask_rating,
    default_path,
    log_table,
    parse_rating,
    ratings_chart,
    store,
    write_csv,
)
from voiceguide.log.rating import RATING_AGAIN, RATING_SKIPPED

SQL = "x'); DROP TABLE plays; --"


def entry(**changes) -> Entry:
    values = dict(played_at="2026-12-03T07:30:05+01:00", routine="standing-reset", title="Standing reset",
                  finished=True, source="terminal", planned_s=120.0, played_s=120.0)
    return Entry(**{**values, **changes})


def a_log(tmp_path: Path, *entries: Entry) -> PracticeLog:
    log = PracticeLog(tmp_path / "data" / "voiceguide" / "practice.sqlite3")
    for e in entries:
        log.add(e)
    return log


def version_of(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db, db:
        return db.execute("PRAGMA user_version").fetchone()[0]


# --------------------------------------------------------------------------- the file


def test_a_row_goes_in_and_comes_back_as_it_was(tmp_path):
    stopped = entry(finished=False, played_s=191.25, stopped_step=4, stopped_where="3:12.4 in step 4 of 9 (Cat-cow)",
                    week=2, played_at="2026-12-04T18:01:00+01:00")
    rated = entry(rating=0, source="phone", played_s=None, played_at="2026-12-05T09:00:00+01:00")
    log = a_log(tmp_path, entry(rating=7), stopped, rated)
    got = log.entries()
    assert [e.id for e in got] == [1, 2, 3]
    assert [e.__class__(**{**e.__dict__, "id": None}) for e in got] == [entry(rating=7), stopped, rated]
    assert got[0].finished is True and got[1].finished is False
    assert version_of(log.path) == SCHEMA_VERSION == 1
    assert log.entries(date(2026, 12, 4)) == got[1:]  # --since: that day and after
    assert log.entries(date(2026, 12, 6)) == []


def test_the_log_is_its_owners_alone_and_in_the_xdg_data_folder(tmp_path, monkeypatch):
    log = a_log(tmp_path, entry())
    assert log.path.stat().st_mode & 0o777 == 0o600
    assert log.path.parent.stat().st_mode & 0o777 == 0o700
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_path() == tmp_path / "xdg" / "voiceguide" / "practice.sqlite3"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_path() == tmp_path / "home" / ".local" / "share" / "voiceguide" / "practice.sqlite3"


def test_the_tests_never_use_the_users_own_data_folder():
    assert Path(os.environ["XDG_DATA_HOME"]).resolve() != (Path.home() / ".local" / "share").resolve()
    assert not default_path().is_relative_to(Path.home() / ".local")


def test_sql_in_a_field_is_stored_as_data_and_the_table_stays(tmp_path):
    log = a_log(tmp_path, entry(routine=SQL, title=SQL, stopped_where=SQL, finished=False))
    log.add(entry())
    assert [(e.routine, e.title, e.stopped_where) for e in log.entries()] == [(SQL, SQL, SQL), ("standing-reset",
                                                                                               "Standing reset", None)]


def test_a_missing_log_reads_as_empty_and_is_not_made_by_reading(tmp_path):
    log = PracticeLog(tmp_path / "none" / "practice.sqlite3")
    log.check()
    assert log.entries() == [] and not log.path.parent.exists()


@pytest.mark.parametrize("bad", [dict(rating=11), dict(rating=-1), dict(source="web")])
def test_a_row_the_log_cannot_hold_is_refused_before_the_file_is_touched(tmp_path, bad):
    log = a_log(tmp_path)
    with pytest.raises(ValueError):
        log.add(entry(**bad))
    assert not log.path.exists()


# --------------------------------------------------------------------------- files it must not touch


def damaged_copy(tmp_path: Path) -> Path:
    """A real log with garbage over the page that holds its rows: its header still reads."""
    log = a_log(tmp_path, *[entry(title=f"row {i}") for i in range(40)])
    data = bytearray(log.path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page + 8: 2 * page] = b"\xa5" * (page - 8)  # keeps the page-type byte; cells and pointers are nonsense
    log.path.write_bytes(bytes(data))
    return log.path


def newer(tmp_path: Path) -> Path:
    log = a_log(tmp_path, entry())
    with closing(sqlite3.connect(log.path)) as db, db:
        db.execute("PRAGMA user_version = 99")
    return log.path


def not_a_database(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "voiceguide" / "practice.sqlite3"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"my notes about my back, not a database\n" * 100)
    return path


def someone_elses(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "voiceguide" / "practice.sqlite3"
    path.parent.mkdir(parents=True)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE recipes (name TEXT)")
    return path


@pytest.mark.parametrize("make, said", [
    (not_a_database, "is damaged (file is not a database)"),
    (damaged_copy, "is damaged ("),
    (newer, "was written by a newer voiceguide (schema version 99, this one knows up to 1)"),
    (someone_elses, "holds tables but is not a voiceguide practice log"),
])
def test_a_damaged_newer_or_foreign_file_is_one_line_and_stays_byte_for_byte(tmp_path, make, said):
    path = make(tmp_path)
    before = path.read_bytes()
    log = PracticeLog(path)
    for attempt in (log.check, lambda: log.add(entry()), log.entries):
        with pytest.raises(LogError) as caught:
            attempt()
        message = str(caught.value)
        assert said in message and str(path) in message and "\n" not in message
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["practice.sqlite3"]  # no journal left beside it


# --------------------------------------------------------------------------- versions


def test_an_empty_file_at_version_0_is_migrated_to_this_version(tmp_path):
    path = tmp_path / "practice.sqlite3"
    path.write_bytes(b"")
    log = PracticeLog(path)
    assert log.entries() == []
    log.add(entry())
    assert version_of(path) == SCHEMA_VERSION and len(log.entries()) == 1


def test_a_later_migration_is_applied_once_and_in_the_same_transaction_as_the_write(tmp_path, monkeypatch):
    """The path a future version takes: an older file of ours is migrated, a row that fails rolls the
    migration back with it."""
    log = a_log(tmp_path, entry())
    monkeypatch.setattr(store, "MIGRATIONS", (*store.MIGRATIONS, ("ALTER TABLE plays ADD COLUMN note TEXT",)))
    monkeypatch.setattr(store, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with closing(sqlite3.connect(log.path)) as db, db:  # a trigger that makes this next insert fail
        db.execute("CREATE TRIGGER no BEFORE INSERT ON plays WHEN NEW.title = 'refused' "
                   "BEGIN SELECT RAISE(ABORT, 'refused'); END")
    with pytest.raises(LogError):
        log.add(entry(title="refused"))
    assert version_of(log.path) == SCHEMA_VERSION  # not half migrated
    assert [e.title for e in log.entries()] == ["Standing reset"]  # reading migrates an older file of ours
    assert version_of(log.path) == SCHEMA_VERSION + 1
    log.add(entry(title="second"))
    with closing(sqlite3.connect(log.path)) as db, db:
        assert [r[1] for r in db.execute("PRAGMA table_info(plays)")][-1] == "note"


# --------------------------------------------------------------------------- two writers


WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from voiceguide.log import Entry, PracticeLog
    log, me, go = PracticeLog(Path(sys.argv[1])), sys.argv[2], Path(sys.argv[3])
    while not go.exists():
        time.sleep(0.001)
    for i in range(int(sys.argv[4])):
        log.add(Entry("2026-12-03T07:30:00+00:00", "standing-reset", f"{me} {i}", True, "terminal"))
""")


def test_two_processes_writing_at_once_lose_no_row(tmp_path):
    path, go, rows = tmp_path / "practice.sqlite3", tmp_path / "go", 150
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, str(go), str(rows)], cwd=REPO,
                                stderr=subprocess.PIPE, text=True) for name in ("a", "b")]
    go.touch()  # both start writing at the same moment, onto a file neither has made yet
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
    titles = [e.title for e in PracticeLog(path).entries()]
    assert sorted(titles) == sorted(f"{me} {i}" for me in "ab" for i in range(rows))
    assert [t for t in titles if t.startswith("a")] == [f"a {i}" for i in range(rows)]  # each in its own order


@pytest.mark.parametrize("lock", ["IMMEDIATE", "EXCLUSIVE"])
def test_a_log_locked_too_long_is_one_line_and_nothing_is_written(tmp_path, monkeypatch, lock):
    log = a_log(tmp_path, entry())
    monkeypatch.setattr(store, "BUSY_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(log.path, isolation_level=None)
    holder.execute(f"BEGIN {lock}")
    try:
        with pytest.raises(LogError, match=r"stayed locked by another program for 0.2 s") as caught:
            log.add(entry(title="late"))
        assert "\n" not in str(caught.value)
        if lock == "EXCLUSIVE":  # not even reading: said as locked, not as damaged
            with pytest.raises(LogError, match=r"stayed locked by another program"):
                log.check()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [e.title for e in log.entries()] == ["Standing reset"]


# --------------------------------------------------------------------------- the question


@pytest.mark.parametrize("answers, rating, said", [
    (["7"], 7, []), ([" 0 "], 0, []), (["10"], 10, []), ([""], None, []),
    (["eleven", "3"], 3, []), (["11", ""], None, []), (["-1", "x"], None, [RATING_SKIPPED]),
    (["7.5", "½"], None, [RATING_SKIPPED]), ([EOFError], None, ["", RATING_SKIPPED]),
    ([KeyboardInterrupt], None, ["", RATING_SKIPPED]), (["x", EOFError], None, ["", RATING_SKIPPED]),
])
def test_the_rating_question_asks_once_more_then_skips(answers, rating, said):
    asked: list[str] = []
    told: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        answer = answers[len(asked) - 1]
        if isinstance(answer, type):
            raise answer
        return answer

    assert ask_rating(ask, told.append) == rating
    assert asked == [RATING_QUESTION, RATING_AGAIN][: len(answers)]
    assert told == said
    assert RATING_QUESTION == "How did your back feel, 0 (no pain) to 10? Enter skips. "


def test_parse_rating_takes_whole_numbers_from_0_to_10_only():
    assert [parse_rating(str(n)) for n in range(11)] == list(range(11))
    for bad in ("11", "-0", "+3", "٣", "3 4", "1e1", "0x5"):
        with pytest.raises(ValueError):
            parse_rating(bad)


# --------------------------------------------------------------------------- showing it


ROWS = [entry(rating=2, played_at="2026-12-01T07:30:00+00:00"),
        entry(finished=False, rating=None, played_s=75.4, stopped_step=2, week=1,
              stopped_where="1:15.4 in step 2 of 3 (Find the middle)", played_at="2026-12-02T07:31:00+00:00"),
        entry(rating=10, source="phone", played_s=None, title="=HYPERLINK(\"x\")",
              played_at="2026-12-03T19:00:00+00:00")]


def test_the_table_has_every_column_and_says_how_each_play_ended():
    assert log_table(ROWS).splitlines() == [
        "when              routine          week  planned  played  rating  ended",
        "2026-12-01 07:30  Standing reset      -     2:00    2:00       2  finished",
        "2026-12-02 07:31  Standing reset      1     2:00    1:15       -  stopped at 1:15.4 in step 2 of 3 (Find the middle)",
        '2026-12-03 19:00  =HYPERLINK("x")     -     2:00       -      10  finished (phone)',
    ]
    long = log_table([entry(title="A very long title for a routine that goes on")]).splitlines()[1]
    assert "A very long title for a rou… " in long


def test_the_chart_has_a_bar_per_rating_lowest_for_0_and_highest_for_10():
    assert ratings_chart(ROWS, 80) == "Back, 0 (no pain) to 10: 2026-12-01 ▂█ 2026-12-03"
    assert ratings_chart(ROWS[:1], 80) == "Back, 0 (no pain) to 10: ▂ 2026-12-01"
    assert ratings_chart(ROWS[1:2], 80) is None
    many = [entry(rating=n % 11, played_at=f"2026-11-{1 + n % 28:02d}T07:00:00+00:00") for n in range(300)]
    chart = ratings_chart(many, 80)
    assert chart is not None and len(chart) == 80  # the latest ratings that fit
    bars = chart.split()[-2]
    assert bars == "".join("▁▂▃▄▅▆▇█"[round(e.rating * 7 / 10)] for e in many[-len(bars):])


def test_the_csv_reads_back_with_a_header_and_a_formula_stays_text():
    out = io.StringIO()
    write_csv(ROWS, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == ["date", "time", "routine", "title", "week", "planned_min", "played_min", "finished",
                             "stopped_at", "rating", "from"]
    assert rows[0] == {"date": "2026-12-01", "time": "07:30", "routine": "standing-reset", "title": "Standing reset",
                       "week": "", "planned_min": "2.0", "played_min": "2.0", "finished": "yes", "stopped_at": "",
                       "rating": "2", "from": "terminal"}
    assert rows[1]["finished"] == "no" and rows[1]["stopped_at"] == "1:15.4 in step 2 of 3 (Find the middle)"
    assert rows[1]["week"] == "1" and rows[1]["played_min"] == "1.3"
    assert rows[2]["title"] == "'=HYPERLINK(\"x\")" and rows[2]["from"] == "phone" and rows[2]["played_min"] == ""


# --------------------------------------------------------------------------- voiceguide log


@pytest.fixture
def data_home(tmp_path) -> dict:
    return {"XDG_DATA_HOME": str(tmp_path / "data")}


def test_voiceguide_log_shows_the_last_four_weeks_or_since_a_date(tmp_path, data_home):
    today = date.today()
    log = a_log(tmp_path, entry(played_at="2020-01-01T07:00:00+00:00", title="Long ago"),
                entry(played_at=f"{today.isoformat()}T07:00:00+00:00", rating=4))
    done = invoke("log", env=data_home)
    assert done.returncode == 0 and done.stderr == ""
    assert "Standing reset" in done.stdout and "Long ago" not in done.stdout
    assert "▁" not in done.stdout and "Back, 0" not in done.stdout  # not a terminal: no chart
    done = invoke("log", "--since", "2019-12-31", env=data_home)
    assert "Long ago" in done.stdout and "Standing reset" in done.stdout
    done = invoke("log", "--csv", "--since", "2019-12-31", env=data_home)
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["title"] for r in rows] == ["Long ago", "Standing reset"] and rows[1]["rating"] == "4"
    assert log.path.is_file()


def test_voiceguide_log_with_nothing_logged_says_so(data_home):
    done = invoke("log", "--since", "2026-01-02", env=data_home)
    assert done.returncode == 0 and done.stdout.startswith("No plays logged since 2026-01-02 (the log is ")


def test_voiceguide_log_on_a_damaged_file_is_one_line_and_exit_1(tmp_path, data_home):
    path = not_a_database(tmp_path)
    before = path.read_bytes()
    done = invoke("log", env=data_home)
    assert done.returncode == 1 and done.stdout == "" and path.read_bytes() == before
    assert done.stderr.count("\n") == 1 and "is damaged (file is not a database)" in done.stderr


def test_voiceguide_log_with_a_bad_date_is_a_usage_error(data_home):
    done = invoke("log", "--since", "last week", env=data_home)
    assert done.returncode == 2 and "'last week' is not a date; write it as YYYY-MM-DD" in done.stderr


# --------------------------------------------------------------------------- a play as a row


def test_a_play_becomes_a_row_with_its_week_and_where_it_stopped():
    from voiceguide.play.player import Ending, How
    from voiceguide.practice import play_entry
    from voiceguide.script.library import find_routine
    from voiceguide.script.parse import load_routine
    from voiceguide.session import Played

    routine = load_routine(find_routine("standing-reset"))
    done = Played(Ending(0, How.END, 100, 3, "2:00.0 in the finish", heard=2646000), True, routine=routine,
                  planned_s=120.00004, played_s=120.0, week=2)
    assert play_entry(done, "2026-12-03T07:30:00+00:00", rating=5) == Entry(
        "2026-12-03T07:30:00+00:00", "standing-reset", routine.title, True, "terminal", week=2, planned_s=120.0,
        played_s=120.0, rating=5)
    intro = Played(Ending(130, How.INTERRUPTED, 100, -1, "0:04.2 in the introduction"), False, routine=routine,
                   planned_s=120.0, played_s=4.2)
    row = play_entry(intro, "2026-12-03T07:30:00+00:00")
    assert (row.finished, row.stopped_step, row.stopped_where, row.week) == (False, 0, "0:04.2 in the introduction",
                                                                             None)


@pytest.mark.parametrize("locale, chart", [({"LC_ALL": "C.UTF-8"}, True),
                                           ({"LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}, False)],
                         ids=["utf-8", "ascii"])
def test_voiceguide_log_on_a_terminal_draws_the_chart_only_where_it_can(tmp_path, data_home, locale, chart):
    import pty

    a_log(tmp_path, entry(played_at=f"{date.today().isoformat()}T07:00:00+00:00", rating=0),
          entry(played_at=f"{date.today().isoformat()}T08:00:00+00:00", rating=10))
    master, slave = pty.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "voiceguide", "log"], cwd=REPO, stdout=slave,
                              stderr=subprocess.PIPE, env={**os.environ, **data_home, **locale}, timeout=60)
        out = os.read(master, 65536).decode("utf-8", "replace")
    finally:
        os.close(master)
        os.close(slave)
    assert done.returncode == 0 and "Standing reset" in out
    assert (f"Back, 0 (no pain) to 10: {date.today().isoformat()} ▁█ {date.today().isoformat()}" in out) is chart
    assert ("▁" in out) is chart


def test_voiceguide_log_says_when_the_log_is_off(data_home):
    done = invoke("log", env={**data_home, "VOICEGUIDE_LOG": "off"})
    assert done.returncode == 0 and "The log is off: VOICEGUIDE_LOG is 'off' in the environment." in done.stdout


INTERRUPTED = textwrap.dedent("""
    import os, sqlite3, sys
    db = sqlite3.connect(sys.argv[1], isolation_level=None)
    db.execute("PRAGMA cache_size = 1")  # pages go to the file before the commit: the journal is needed
    db.execute("BEGIN IMMEDIATE")
    for i in range(500):
        db.execute("INSERT INTO plays (played_at, routine, title, finished, source) "
                   "VALUES ('2026-12-02T07:00:00+00:00', 'cut', ?, 1, 'terminal')", ("x" * 300,))
    os._exit(9)  # killed in the middle of its write
""")


def test_a_write_cut_off_halfway_is_rolled_back_not_called_damaged(tmp_path):
    log = a_log(tmp_path, *[entry(title=f"row {i}") for i in range(30)])
    subprocess.run([sys.executable, "-c", INTERRUPTED, str(log.path)], check=False, timeout=60)
    assert log.path.with_name("practice.sqlite3-journal").stat().st_size > 0  # a hot journal
    log.check()
    assert [e.title for e in log.entries()] == [f"row {i}" for i in range(30)]
    log.add(entry(title="next"))
    assert len(log.entries()) == 31
