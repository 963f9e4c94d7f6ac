"""A calendar file (RFC 5545 iCalendar) of a programme's sessions, so the phone's calendar reminds.

One ``VEVENT`` per session per day: ``DTSTART`` on that day at the reminder time in floating local
time (what the phone's clock says wherever it is, as a morning habit should be), ``DURATION`` the
session's length, and a ``VALARM`` (display) at the start.  UIDs are stable, made from the
programme and the session's place in it, so importing the file again updates events rather than
doubling them.  Written with the standard library: text escaped (``\\``, ``;``, ``,``, newlines),
lines folded at 75 octets, CRLF endings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Final

from ..files import write_bytes

PRODID: Final = "-//voiceguide//programme//EN"
MAX_OCTETS: Final = 75


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    day: date
    at: time
    duration_s: float
    summary: str
    description: str


def escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def fold(line: str) -> str:
    """A content line folded at 75 octets (never inside a UTF-8 character), CRLF-ended."""
    out: list[bytes] = []
    current = b""
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > (MAX_OCTETS if not out else MAX_OCTETS - 1):
            out.append(current)
            current = b""
        current += encoded
    out.append(current)
    return "\r\n ".join(part.decode("utf-8") for part in out) + "\r\n"


def duration_value(seconds: float) -> str:
    """``PT6M12S``: whole seconds, rounded up so the event covers the session."""
    total = max(1, int(-(-seconds // 1)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (f"{secs}S" if secs else "")


def calendar_text(name: str, events: Sequence[CalendarEvent], stamp: datetime | None = None) -> str:
    stamp = (stamp or datetime.now(UTC)).astimezone(UTC)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             f"X-WR-CALNAME:{escape(name)}"]
    for e in events:
        start = datetime.combine(e.day, e.at)
        lines += [
            "BEGIN:VEVENT",
            f"UID:{e.uid}",
            f"DTSTAMP:{stamp:%Y%m%dT%H%M%SZ}",
            f"DTSTART:{start:%Y%m%dT%H%M%S}",  # floating: local time wherever the phone is
            f"DURATION:{duration_value(e.duration_s)}",
            f"SUMMARY:{escape(e.summary)}",
            f"DESCRIPTION:{escape(e.description)}",
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            f"DESCRIPTION:{escape(e.summary)}",
            "TRIGGER;RELATED=START:PT0S",
            "END:VALARM",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) for line in lines)


def write_calendar(target: Path, name: str, events: Sequence[CalendarEvent], stamp: datetime | None = None) -> Path:
    """The calendar, written whole or not at all."""
    return write_bytes(target, calendar_text(name, events, stamp).encode("utf-8"))
