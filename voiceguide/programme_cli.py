"""The programme commands of the command line: ``programme check|plan|start|export``, ``today`` and
``play today``.  Thin, like ``cli.py``: each calls ``programmes.py`` and prints."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from .errors import EXIT_ERROR, EXIT_OK
from .script.settings import Overrides

if TYPE_CHECKING:
    from .programmes import Opened

T = TypeVar("T")

TODAY: str = "today"
"""``play today`` (or ``today:N``): today's session of a programme, not a routine of that name."""


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD, like 2026-12-16") from None


def add_commands(sub: argparse._SubParsersAction, session_options: Callable[[argparse.ArgumentParser], None],
                 bitrate: Callable[[str], int]) -> None:
    p = sub.add_parser("programme", help="programmes: routines on days over weeks (check, plan, start, export)")
    what = p.add_subparsers(dest="programme_command", required=True, metavar="ACTION")
    q = what.add_parser("check", help="validate a programme and every routine it names")
    q.add_argument("file", metavar="FILE")
    q = what.add_parser("plan", help="the weeks at a glance: each day, its sessions, their length and values")
    q.add_argument("file", metavar="FILE")
    q.add_argument("--voice", help="the voice lengths are measured with (default: each session's)")
    q = what.add_parser("start", help="make FILE the current programme (for `today` and `play today`)")
    q.add_argument("file", metavar="FILE")
    q = what.add_parser("export", help="one MP3 per distinct session, and programme.ics for the phone's calendar")
    q.add_argument("file", metavar="FILE")
    q.add_argument("-o", "--output", type=Path, required=True, metavar="DIR", help="the folder to write into")
    q.add_argument("--bitrate", type=bitrate, metavar="KBPS", help="MP3 bit rate (default 64)")
    session_options(q)

    p = sub.add_parser("today", help="what to do today in the current programme (or FILE)")
    p.add_argument("file", nargs="?", metavar="FILE", help="a programme file (default: the current programme)")
    p.add_argument("--date", type=parse_date, metavar="YYYY-MM-DD", help="another day than today")
    p.add_argument("--json", action="store_true", help="print it as JSON")
    p.add_argument("--voice", help="the voice lengths are measured with (default: each session's)")


def add_play_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--programme", metavar="FILE", help="with `play today`: this programme, not the current one")
    p.add_argument("--date", type=parse_date, metavar="YYYY-MM-DD", help="with `play today`: another day's session")


def cmd_programme(args: argparse.Namespace, cli: Overrides) -> int:
    """``programme check|plan|start|export``; ``cli``: the session options given on the command line."""
    from . import programme_report, programmes

    if args.programme_command == "check":
        from .programme import check_programme

        programme, problems = check_programme(args.file)
        for problem in problems:
            print(problem)
        if programme is None:
            return EXIT_ERROR
        print(f"{args.file}: {programme.title!r}, {programme.weeks} weeks, "
              f"{sum(len(p.entries) for p in programme.phases)} sessions in {len(programme.phases)} "
              f"phase{'s' if len(programme.phases) > 1 else ''}: ok")
        return EXIT_OK
    if args.programme_command == "start":
        from .programme.schedule import end_of

        opened, where = programmes.start_programme(args.file, date.today())
        print(f"{opened.programme.title!r} is the current programme, from {programmes.long_date(opened.start)} "
              f"to {programmes.long_date(end_of(opened.programme, opened.start))}.")
        print("`voiceguide today` says what to do each day; `voiceguide play today` plays it.")
        return EXIT_OK
    opened = programmes.open_programme(args.file, date.today())
    if args.programme_command == "plan":
        lengths = programmes.Lengths(cli, args.cache_dir)
        try:
            print(programme_report.plan_text(opened, lengths))
        finally:
            lengths.save()
        return EXIT_OK
    from .signals import ending_signals

    with ending_signals():
        programmes.export_programme(opened, cli, args.output, cache_dir=args.cache_dir,
                                    on_written=lambda path: print(path, flush=True))
    return EXIT_OK


def cmd_today(args: argparse.Namespace, cli: Overrides) -> int:
    from . import programme_report, programmes

    today = date.today()
    opened = programmes.open_programme(args.file, today)
    lengths = programmes.Lengths(cli, args.cache_dir)
    try:
        report = programme_report.today_report(opened, args.date or today, lengths, today)
    finally:
        lengths.save()
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.json else programme_report.today_text(report))
    return EXIT_OK


def today_number(routine: str) -> int | None | bool:
    """``today`` -> None, ``today:2`` -> 2; False for anything else (a routine)."""
    if routine == TODAY:
        return None
    head, _, tail = routine.partition(":")
    if head == TODAY and tail.isdigit():
        return int(tail)
    return False


def play_today(args: argparse.Namespace, number: int | None, cli: Overrides, play: Callable[..., T]) -> T:
    """The session ``play today[:N]`` means, played with ``play(routine, overrides, fixed, week)``
    (``week``: the programme's week of that day, from 1, for the practice log)."""
    from . import programmes

    today = date.today()
    opened = programmes.open_programme(args.programme, today)
    on = args.date or today
    planned = programmes.pick_session(opened, on, number, today)
    overrides = programmes.session_overrides(planned, cli)
    print(f"{opened.programme.title}: {planned.routine.title}", file=sys.stderr)
    week = (on - opened.start).days // 7 + 1
    return play(programmes.session_routine(planned), overrides, planned.fixed or None, week,
                logged=opened.programme.log)


def served(file: str | None) -> Opened | None:
    """The programme ``serve`` shows: the one named, else the current one (if any; one that cannot be
    read is said in one line and left out, so the routines are still served)."""
    from . import programmes
    from .errors import ScriptError, VoiceguideError
    from .programme import current_programme

    if file is not None:
        return programmes.open_programme(file)
    try:
        return programmes.open_programme(None) if current_programme() is not None else None
    except ScriptError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
    except VoiceguideError as exc:
        print(f"voiceguide: {exc}", file=sys.stderr)
    print("voiceguide: serving without the current programme", file=sys.stderr)
    return None
