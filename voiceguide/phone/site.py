"""Sessions -> a folder a phone can use: the page, an MP3 and two JSON files each, and a podcast feed.

The folder works from any static host as it is (``voiceguide export --site DIR``) and is what
``voiceguide serve`` serves.  For each session ``<stem>``:

- ``<stem>.mp3``, as ``export`` writes it (ID3 chapters included);
- ``<stem>.chapters.json``: Podcasting 2.0 chapters, the same times and titles as the MP3's own;
- ``<stem>.json``: what the page shows, precomputed: the chapters, and the glanceable view as
  *frames*, the player's status (``timeline.guide.Guide``) at every point where it changes other than by
  its countdown.  The page finds the frame at ``audio.currentTime`` and counts down to its end, so
  it needs none of the plan logic.  The plan itself (``voiceguide plan --json``) is there too.

Beside them: ``library.json`` (every session, for the page's list), ``feed.xml`` (RSS 2.0 with the
itunes and podcast namespaces), the library's artwork (``artwork.py``: ``artwork.jpg`` for the feed
and the lock screen, ``icon-192.png`` and ``icon-512.png`` for the manifest), and the page's own
files, which ship in the package (``phone/web/``): ``index.html``, ``app.js``, ``style.css``, the web
app manifest, and two one-second blank videos (WebM and MP4, 1-2 KB, made once with ffmpeg) that
keep a phone's screen on over plain http, where browsers give no Wake Lock.  Every file is written
whole or not at all.
"""

from __future__ import annotations

import email.utils
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final
from urllib.parse import quote

from ..export.writer import (
    Rendition,
    audio_duration_s,
    export_file,
    mp3_chapters_ms,
    mp3_offset,
    write_session,
    write_text,
)
from ..files import file_sha256
from ..timeline.guide import Guide, breaths
from ..timeline.plan import Plan
from . import artwork

WEB_DIR: Final = Path(__file__).parent / "web"
ASSETS: Final = ("index.html", "app.js", "style.css", "manifest.webmanifest", "keep-awake.webm", "keep-awake.mp4")
LIBRARY: Final = "library.json"
FEED: Final = "feed.xml"
LIBRARY_TITLE: Final = "voiceguide"
"""The feed's title and the artwork's."""
ARTWORK: Final = "artwork.jpg"
ICONS: Final = tuple(f"icon-{px}.png" for px in artwork.ICON_PX)
ITUNES: Final = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST: Final = "https://podcastindex.org/namespace/1.0"
CHAPTERS_TYPE: Final = "application/json+chapters"
OWN_FILES: Final = (*ASSETS, ARTWORK, *ICONS, LIBRARY, FEED)
"""The site's files that belong to no session: a session may not write over one."""


@dataclass(frozen=True)
class Episode:
    """One exported session as the library and the feed describe it (kept in the site's manifest)."""

    stem: str
    title: str
    summary: str
    duration_s: float
    """How long the MP3 plays, as its frames say."""
    chapter_count: int
    mp3_bytes: int
    mp3_sha256: str
    """The feed's guid: the same across restarts, another one when the audio changes."""
    published: str
    """When the MP3 was written, RFC 2822 (the feed's pubDate)."""
    guid: str = ""
    """The feed's guid when it is not ``mp3_sha256``: a programme's session of the day is a new
    episode each day (a podcast app downloads it), though its audio may be yesterday's."""

    def files(self) -> tuple[str, ...]:
        return episode_files(self.stem)

    @classmethod
    def from_dict(cls, data: dict) -> Episode:
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key != "guid" or key in data})

    def to_dict(self) -> dict:
        return asdict(self)


def episode_files(stem: str) -> tuple[str, ...]:
    """The files a session named ``stem`` writes, beside the site's own (``OWN_FILES``)."""
    return (f"{stem}.mp3", f"{stem}.chapters.json", f"{stem}.json")


# --------------------------------------------------------------------------- one session


def chapters_json(plan: Plan, lag: int) -> dict:
    """Podcasting 2.0 chapters (``startTime`` in seconds), exactly the MP3's ID3 chapters."""
    return {"version": "1.2.0", "chapters": [{"startTime": start_ms / 1000, "endTime": end_ms / 1000, "title": title}
                                             for title, start_ms, end_ms in mp3_chapters_ms(plan, lag)]}


def view_frames(plan: Plan, lag: int = 0) -> list[dict]:
    """The glanceable view at every change (see the module docstring); times in seconds of the MP3."""
    guide, rate = Guide(plan), plan.sample_rate
    frames: list[dict] = []
    for position in guide.changes():
        s = guide.status(position)
        frame = {
            "t": round((position + lag) / rate, 6),
            "step": s.step,
            "n": s.step_number,
            "side": s.side,
            "say": s.saying,
            "label": s.countdown_label,
            "end": round((position + lag) / rate + s.countdown_s, 6) if s.countdown_s is not None else None,
            "count": f"{s.count_label} {s.count[0]} of {s.count[1]}" if s.count else None,
            "next": s.next_step,
            "round": list(s.round) if s.round else None,
            "ex": list(s.exercise) if s.exercise else None,
        }
        if not frames or {**frames[-1], "t": frame["t"]} != frame:
            frames.append(frame)
    return frames


def breath_times(plan: Plan, lag: int = 0) -> list[list]:
    """The paced breaths as ``[start, end, "in" | "out"]`` in seconds of the MP3: the page's breathing guide."""
    rate = plan.sample_rate
    return [[round((b.start + lag) / rate, 6), round((b.end + lag) / rate, 6), "in" if b.inhale else "out"]
            for b in breaths(plan)]


def session_json(rendition: Rendition, lag: int) -> dict:
    plan = rendition.plan
    return {
        "title": plan.title,
        "summary": rendition.routine.summary or "",
        "duration": round((plan.length + lag) / plan.sample_rate, 4),
        "steps": len(plan.routine.steps),
        "chapters": chapters_json(plan, lag)["chapters"],
        "frames": view_frames(plan, lag),
        "breaths": breath_times(plan, lag),
        "plan": plan.to_dict(),
    }


@dataclass(frozen=True)
class Pending:
    """A session listed on the page while it is still being made (``serve``): not playable yet."""

    stem: str
    title: str
    summary: str
    progress: float = 0.0
    """How much of it is made, 0 to 1 (the MP3's mixing and encoding)."""


def write_episode(rendition: Rendition, folder: Path, stem: str, *, number: int = 1, total: int = 1,
                  on_fraction: Callable[[float], None] | None = None) -> Episode:
    """Write one session's MP3 (at its settings' bit rate) and its two JSON files into ``folder``;
    ``on_fraction`` hears how far the MP3 is."""
    plan, routine = rendition.plan, rendition.routine
    lag = mp3_offset(plan)[1]
    mp3 = write_session(rendition, folder / f"{stem}.mp3", number=number, total=total, numbered=total > 1,
                        picture=artwork.id3_jpeg(LIBRARY_TITLE), on_fraction=on_fraction)
    write_json(folder / f"{stem}.chapters.json", chapters_json(plan, lag))
    write_json(folder / f"{stem}.json", session_json(rendition, lag))
    return Episode(stem=stem, title=routine.title, summary=routine.summary or "",
                   duration_s=round(audio_duration_s(mp3, plan), 3), chapter_count=len(plan.chapters),
                   mp3_bytes=mp3.stat().st_size, mp3_sha256=file_sha256(mp3),
                   published=email.utils.formatdate(time.time(), usegmt=True))


def write_json(target: Path, data: object) -> Path:
    return write_text(target, json.dumps(data, ensure_ascii=False, separators=(",", ":")))


# --------------------------------------------------------------------------- the whole site


def feed_xml(episodes: list[Episode], base_url: str, title: str = LIBRARY_TITLE) -> str:
    """RSS 2.0 with itunes and Podcasting 2.0 tags.  ``base_url`` ends in '/' ("" gives relative links,
    which a client resolves against the feed's own address)."""
    ET.register_namespace("itunes", ITUNES)
    ET.register_namespace("podcast", PODCAST)
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")

    def add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, tag, attrs)
        element.text = text
        return element

    add(channel, "title", title)
    add(channel, "link", base_url or "./")
    add(channel, "description", "Voice-guided exercise sessions made by voiceguide on your own computer.")
    add(channel, "language", "en")
    add(channel, "generator", "voiceguide")
    image = add(channel, "image")  # RSS 2.0's own picture, for clients that read no itunes tags
    add(image, "url", f"{base_url}{ARTWORK}")
    add(image, "title", title)
    add(image, "link", base_url or "./")
    ET.SubElement(channel, f"{{{ITUNES}}}image", {"href": f"{base_url}{ARTWORK}"})
    add(channel, f"{{{ITUNES}}}author", "voiceguide")
    add(channel, f"{{{ITUNES}}}explicit", "false")
    ET.SubElement(channel, f"{{{ITUNES}}}category", {"text": "Health & Fitness"})
    add(channel, f"{{{ITUNES}}}block", "Yes")  # private: directories must not list it
    for number, episode in enumerate(episodes, start=1):
        item = add(channel, "item")
        add(item, "title", episode.title)
        add(item, "description", episode.summary or episode.title)
        add(item, f"{{{ITUNES}}}summary", episode.summary or episode.title)
        add(item, "enclosure", url=f"{base_url}{quote(episode.stem)}.mp3", length=str(episode.mp3_bytes),
            type="audio/mpeg")
        add(item, "guid", episode.guid or episode.mp3_sha256, isPermaLink="false")
        add(item, "pubDate", episode.published)
        add(item, f"{{{ITUNES}}}duration", str(round(episode.duration_s)))
        add(item, f"{{{ITUNES}}}episode", str(number))
        add(item, f"{{{PODCAST}}}chapters", url=f"{base_url}{quote(episode.stem)}.chapters.json", type=CHAPTERS_TYPE)
    ET.indent(rss)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(rss, encoding="unicode") + "\n"


def library_json(episodes: Sequence[Episode | Pending], today: dict | None = None,
                 calendar: str | None = None) -> dict:
    """Every session for the page's list, in order; one still being made says so (``making``, ``progress``).
    With a programme: ``today`` (the day and its sessions, each naming its ``stem`` in ``sessions``)
    and ``calendar`` (the programme's ``.ics``, relative to the page)."""
    library: dict = {"feed": FEED, "sessions": [
        {"stem": e.stem, "title": e.title, "summary": e.summary, "making": True, "progress": round(e.progress, 3)}
        if isinstance(e, Pending) else
        {"stem": e.stem, "title": e.title, "summary": e.summary, "duration": e.duration_s,
         "chapters": e.chapter_count, "mp3": f"{e.stem}.mp3"} for e in episodes]}
    if today is not None:
        library["today"] = today
    if calendar is not None:
        library["calendar"] = calendar
    return library


def write_library(folder: Path, episodes: Sequence[Episode | Pending], base_url: str = "", *,
                  private: bool = False, today: dict | None = None, calendar: str | None = None) -> list[str]:
    """``library.json`` (every session) and the feed (the finished ones only); returns the URL paths of
    the finished sessions' files and of these two."""
    done = [e for e in episodes if isinstance(e, Episode)]
    write_text(folder / FEED, feed_xml(done, base_url), mode=0o600 if private else 0o666)
    # last: once it says a session is there, all is
    write_json(folder / LIBRARY, library_json(episodes, today, calendar))
    return [LIBRARY, FEED, *(name for e in done for name in e.files()), *([calendar] if calendar else [])]


def write_site(folder: Path, episodes: Sequence[Episode | Pending], base_url: str = "", *,
               private: bool = False, pictures: bool = True, today: dict | None = None,
               calendar: str | None = None) -> dict[str, Path]:
    """The page, the library and the feed around already written episodes (and those ``Pending``).

    ``private``: the feed holds a secret address (``serve``'s token), so only its owner may read it.
    ``pictures``: also the artwork and icons (``write_pictures``; drawing them takes about a second,
    which ``serve`` spends after it has given its address).  ``today`` and ``calendar``: a programme's
    day and calendar file, for the library (``library_json``); today's episodes come first.

    Returns every file of the site by its URL path (``""`` is the page): the server's allow-list.
    """
    for name in ASSETS:
        with export_file(folder / name) as f:
            f.write((WEB_DIR / name).read_bytes())
    names = [*ASSETS, *(write_pictures(folder) if pictures else []),
             *write_library(folder, episodes, base_url, private=private, today=today, calendar=calendar)]
    return {"": folder / "index.html", **{name: folder / name for name in names}}


def write_pictures(folder: Path) -> list[str]:
    """The library's artwork and icons (the page's and the feed's); returns their URL paths."""
    pictures = {ARTWORK: artwork.feed_jpeg(LIBRARY_TITLE),
                **{name: artwork.icon_png(LIBRARY_TITLE, px) for name, px in zip(ICONS, artwork.ICON_PX)}}
    for name, data in pictures.items():
        with export_file(folder / name) as f:
            f.write(data)
    return list(pictures)
