"""A programme's day and weeks as text and data: ``voiceguide today`` (``--json`` too) and
``voiceguide programme plan``.  Lengths and values come from ``programmes.Lengths``."""

from __future__ import annotations

import textwrap
from datetime import date

from .programme import programme_days
from .programme.model import WEEKDAYS
from .programme.schedule import end_of, weekdays_of
from .programmes import Lengths, Opened, long_date, play_command, value_text


def today_report(chosen: Opened, on: date, lengths: Lengths, today: date) -> dict:
    """What ``voiceguide today`` says, as data (``--json`` prints it; the text is made from it)."""
    programme, start = chosen.programme, chosen.start
    end = end_of(programme, start)
    report: dict = {"programme": programme.title, "file": str(chosen.path), "date": on.isoformat(),
                    "start": start.isoformat(), "end": end.isoformat(), "weeks": programme.weeks,
                    "days": 7 * programme.weeks}
    if on < start:
        return {**report, "status": "before", "sessions": []}
    if on > end:
        return {**report, "status": "after", "sessions": []}
    days = programme_days(programme, start)
    day = days[(on - start).days]
    sessions = []
    for n, planned in enumerate(day.sessions, 1):
        got = lengths.of(planned)
        sessions.append({"number": n, "routine": planned.entry.written, "title": planned.routine.title,
                         "length": got.length_s, "values": list(got.values),
                         "caution": "none" if not planned.routine.caution else
                                    ("short" if planned.brief_caution else "full"),
                         "command": play_command(n, len(day.sessions), chosen, on, today, lengths.cli.voice)})
    following = next((d for d in days[day.number:] if d.sessions), None)
    return {**report, "status": "day" if sessions else "rest", "week": day.week, "day": day.number,
            "weekday": day.weekday, "sessions": sessions,
            "next": following.date.isoformat() if following else None}


def day_heading(report: dict) -> str:
    """"Week 2 of 4, Wednesday 16 December 2026 (day 10 of 28)", or that the programme has not
    started or is over."""
    on = date.fromisoformat(report["date"])
    start, end = date.fromisoformat(report["start"]), date.fromisoformat(report["end"])
    if report["status"] == "before":
        wait = (start - on).days
        return (f"{long_date(on)}: the programme has not started yet; it starts on {long_date(start)} "
                f"(in {wait} day{'s' if wait != 1 else ''}).")
    if report["status"] == "after":
        return f"{long_date(on)}: the programme is over; it ended on {long_date(end)} ({report['weeks']} weeks)."
    return f"Week {report['week']} of {report['weeks']}, {long_date(on)} (day {report['day']} of {report['days']})"


def today_text(report: dict) -> str:
    from .timeline.clock import clock

    lines = [report["programme"], day_heading(report)]
    if report["status"] in ("before", "after"):
        return "\n".join(lines)
    lines.append("")
    if not report["sessions"]:
        lines.append("Nothing planned today: a day off.")
        if report["next"]:
            lines.append(f"Next: {long_date(date.fromisoformat(report['next']))}.")
        return "\n".join(lines)
    for s in report["sessions"]:
        lines.append(f"{s['number']}. {s['title']}  {clock(s['length'])}")
        if s["values"]:
            lines.append(f"   {', '.join(value_text(v) for v in s['values'])}")
        lines.append(f"   {s['command']}")
    return "\n".join(lines)


def plan_text(chosen: Opened, lengths: Lengths) -> str:
    """``programme plan``: the weeks at a glance, each day with its sessions, lengths and values."""
    from .timeline.clock import clock

    programme, start = chosen.programme, chosen.start
    lines = [f"{programme.title}: {programme.weeks} weeks, {long_date(start)} to "
             f"{long_date(end_of(programme, start))}; reminders at {programme.reminder:%H:%M}"]
    if programme.summary:
        lines += textwrap.wrap(programme.summary, 100)
    caution = "said in full every day" if programme.caution_full else \
        "said in full on the first day, as one short sentence after"
    lines.append(f"The safety note is {caution}.")
    first_week = 1
    for p, phase in enumerate(programme.phases, 1):
        span = f"week {first_week}" if phase.weeks == 1 else f"weeks {first_week}-{first_week + phase.weeks - 1}"
        lines += ["", f"Phase {p}{': ' + phase.name if phase.name else ''} ({span})"]
        for entry in phase.entries:
            days = entry.days_text
            if entry.per_week:
                days += ": " + ", ".join(weekdays_of(entry, start))
            lines.append(f"  {entry.written}: {days}{', progressing' if entry.progress else ''}")
        first_week += phase.weeks
    title_w = max(len(s.routine.title) for p in programme.phases for e in p.entries for s in [e])
    week = 0
    for day in programme_days(programme, start):
        if day.week != week:
            week = day.week
            lines += ["", f"Week {week}"]
        label = f"  {WEEKDAYS[day.date.weekday()].title()} {day.date.day:>2} {day.date:%b}"
        if not day.sessions:
            lines.append(f"{label}  -")
        for n, planned in enumerate(day.sessions):
            got = lengths.of(planned)
            note = got.values_text()
            if planned.routine.caution and not planned.brief_caution and not programme.caution_full:
                note = "full safety note" + (f"; {note}" if note else "")
            lead = label if n == 0 else " " * len(label)
            lines.append(f"{lead}  {planned.routine.title:<{title_w}}  {clock(got.length_s):>7}  {note}".rstrip())
    return "\n".join(lines)
