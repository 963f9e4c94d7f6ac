"""Routines -> a site folder kept up to date, and ``voiceguide serve``: which sessions to (re)make, and when.

A session is made again only when it is missing or stale: its script or any script it includes,
the voice (engine, voice file and their versions, as the speech cache keys them), its sound files,
its settings (``script/settings.py``: rate, length, bed, levels, bit rate, ...), or voiceguide's
version changed.  A small manifest in the folder (``.voiceguide-site.json``, never served) keeps a
fingerprint of those per session, so a second ``serve`` starts at once.  The speech cache still
spares the voice's work for a session that is made again.  Writing the files is ``phone/site.py``'s
job; serving them is ``phone/server.py``'s.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Final, TextIO

from . import __version__, programme_report, programmes
from .errors import EXIT_INTERRUPTED, ExportError, ScriptError, ServeError
from .export.calendar import write_calendar
from .export.writer import export_file, make_folder, write_text
from .files import file_sha256
from .phone import site
from .phone.site import Episode, Pending
from .script.library import find_routine, list_routines
from .script.parse import load_routine
from .script.routine import BED_NAMES, Routine
from .script.settings import Overrides, Settings, resolve
from .session import Voices, expand_routines, prepare
from .signals import ending_signals
from .voice.speech import Speech

DEFAULT_SITE: Final = Path("voiceguide-site")
MANIFEST: Final = ".voiceguide-site.json"
TOKEN_FILE: Final = ".voiceguide-token"
PROGRAMME_PREFIX: Final = "programme-"
"""A programme's sessions of the day are ``programme-NAME.mp3`` (``programmes.session_names``)."""
MANIFEST_FORMAT: Final = 2
"""2: the MP3s carry the library's artwork; a site made before is made again."""


def fingerprint(routine: Routine, settings: Settings, speech: Speech, extra: object = None) -> str:
    """What a session's files depend on, hashed: equal fingerprints, equal files.

    ``settings``: the session's, resolved (``script.settings.resolve``).  ``speech``: the voice the
    routine is spoken with, opened (a fallback from the default is another voice; its version
    changes with the engine and the voice file)."""
    parts: list[object] = [__version__, speech.version, sorted(asdict(settings).items())]
    if extra is not None:  # a programme's session: its values and its caution
        parts.append(["programme", extra])
    for source in routine.sources or (routine.path,):  # the script and every script it includes
        parts.append(file_sha256(Path(source)))  # contents, not where they are
    for name, path in sorted(routine.sounds.items()):
        parts += [name, file_sha256(Path(path))]
    if settings.bed is not None and settings.bed not in BED_NAMES and Path(settings.bed).is_file():
        parts += ["bed", file_sha256(Path(settings.bed))]  # a bed file: its sound, not its name
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def _read_manifest(folder: Path) -> dict[str, dict]:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return dict(data["episodes"]) if data.get("format") == MANIFEST_FORMAT else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}  # none yet, or unreadable: everything is made again


def _up_to_date(folder: Path, kept: dict | None, key: str) -> Episode | None:
    if not kept or kept.get("key") != key:
        return None
    try:
        episode = Episode.from_dict(kept)
    except (KeyError, TypeError):
        return None
    mp3 = folder / f"{episode.stem}.mp3"
    if not all((folder / name).is_file() for name in episode.files()) or mp3.stat().st_size != episode.mp3_bytes:
        return None
    return episode


def publish(names: list[str] | None, overrides: Overrides, folder: Path, *, cache_dir: Path | None = None,
            on_made: Callable[[Episode], None] | None = None, private: bool = False,
            on_change: Callable[[list[Episode | Pending]], None] | None = None,
            keep: Callable[[str], bool] = lambda stem: False) -> list[Episode]:
    """Bring ``folder``'s sessions up to date with the routines (default: the built-ins and ./scripts).

    Every script is loaded first, so a mistake in one costs nothing; then each stale session is
    made and the manifest saved after it, so an interruption keeps what was finished.  ``private``:
    the folder, when made, is its owner's alone (``serve`` keeps its token there).  ``on_change``
    hears of every session, finished or ``Pending``, once they are known (before anything is made),
    as the one being made advances, and as each is finished: ``serve`` lists them on the page.
    ``keep``: the stems of sessions made for something else (a programme's day) that stay though no
    routine names them.
    """
    if names:
        routines = [load_routine(find_routine(name)) for name in expand_routines(names)[0]]
    else:
        routines = _loadable(list_routines())
    stems = [Path(r.path).stem for r in routines]
    clashes = sorted({s for s in stems if stems.count(s) > 1})
    if clashes:
        raise ExportError(f"several routines are named {', '.join(map(repr, clashes))}; "
                          "give them different file names or publish them separately")
    _check_names(routines, stems)
    make_folder(folder, mode=0o700 if private else 0o777, option="--site")
    manifest = _read_manifest(folder)
    if _remove_dropped(folder, manifest, {*stems, *filter(keep, manifest)}):
        site.write_json(folder / MANIFEST, {"format": MANIFEST_FORMAT, "episodes": manifest})
    with Voices(cache_dir) as voices:  # opening a voice loads no model: this is quick
        settings = [resolve(r, overrides) for r in routines]
        keys = [fingerprint(r, s, voices.speech_for(r, s)) for r, s in zip(routines, settings)]
        episodes = [_up_to_date(folder, manifest.get(stem), key) for stem, key in zip(stems, keys)]
        stale = [i for i, e in enumerate(episodes) if e is None]
        listing: list[Episode | Pending] = [e or Pending(stem, r.title, r.summary or "")
                                            for e, stem, r in zip(episodes, stems, routines)]
        if on_change:
            on_change(list(listing))
        for n, i in enumerate(stale, start=1):
            session = prepare(routines[i], overrides, shared=voices)
            for warning in session.plan.warnings:
                print(warning, file=sys.stderr)

            def advanced(fraction: float, i: int = i) -> None:
                pending = listing[i]
                if isinstance(pending, Pending):
                    listing[i] = replace(pending, progress=fraction)
                if on_change:
                    on_change(list(listing))

            episode = site.write_episode(session, folder, stems[i], number=n, total=len(stale),
                                         on_fraction=advanced if on_change else None)
            episodes[i] = listing[i] = episode
            manifest[stems[i]] = {"key": keys[i], **episode.to_dict()}
            site.write_json(folder / MANIFEST, {"format": MANIFEST_FORMAT, "episodes": manifest})
            if on_made:
                on_made(episode)
            if on_change:
                on_change(list(listing))
    return [e for e in episodes if e is not None]


def _remove_dropped(folder: Path, manifest: dict[str, dict], stems: set[str]) -> list[str]:
    """Remove the files of the sessions the manifest says were written here and are no longer, and
    their entries; nothing else (a file of the user's own, a folder, a link, the site's own files).
    Returns the stems removed."""
    own = {*site.OWN_FILES, MANIFEST, TOKEN_FILE}
    dropped = [stem for stem in manifest if stem not in stems]
    for stem in dropped:
        del manifest[stem]
        if stem in ("", ".", "..") or any(c in stem for c in "/\\\0"):
            continue  # not a name this folder's sessions can have: a damaged manifest, never followed
        for name in site.episode_files(stem):
            path = folder / name
            if name in own or not path.is_file() or path.is_symlink():
                continue
            try:
                path.unlink()
            except OSError as exc:
                print(f"voiceguide: cannot remove {str(path)!r}, left from an earlier run ({exc.strerror or exc})",
                      file=sys.stderr)
    return dropped


def _check_names(routines: list[Routine], stems: list[str]) -> None:
    """Refuse a routine whose files would write over the site's own (``library.json``, the manifest)
    or over another routine's (``x.chapters.yaml`` makes ``x.chapters.json``, as ``x.yaml`` does)."""
    own = {name: f"the site's own {name}" for name in (*site.OWN_FILES, MANIFEST, TOKEN_FILE)}
    for routine, stem in zip(routines, stems):
        for name in site.episode_files(stem):
            if name in own:
                raise ExportError(f"routine {stem!r} ({routine.path}) would write over {own[name]}; "
                                  "give the script another file name or publish it separately")
        own.update((name, f"{name} of routine {stem!r}") for name in site.episode_files(stem))


def publish_day(opened: programmes.Opened, overrides: Overrides, folder: Path, on: date, *,
                cache_dir: Path | None = None) -> tuple[list[Episode], dict]:
    """A programme's sessions of the day ``on``, made where stale, and the day for the library.

    Their episodes are dated now and given a guid of their own for the day, so a podcast app finds
    each day's session as a new episode; ``programme.ics`` (the whole programme) is written beside them.
    """
    lengths = programmes.Lengths(overrides, cache_dir)
    days = programmes.programme_days(opened.programme, opened.start)
    names = programmes.session_names(days, overrides)
    manifest = _read_manifest(folder)
    planned_today = programmes.day_sessions(opened, on)
    stems = [f"{PROGRAMME_PREFIX}{programmes.name_of(names, planned, overrides)}" for planned in planned_today]
    if _remove_dropped(folder, manifest, {*stems, *(s for s in manifest if not s.startswith(PROGRAMME_PREFIX))}):
        site.write_json(folder / MANIFEST, {"format": MANIFEST_FORMAT, "episodes": manifest})  # the day before's
    episodes, listed = [], []
    now = time.time()
    with Voices(cache_dir) as voices:
        for n, (planned, stem) in enumerate(zip(planned_today, stems), 1):
            layered = programmes.session_overrides(planned, overrides)
            routine = programmes.session_routine(planned)
            settings = resolve(routine, layered)
            key = fingerprint(routine, settings, voices.speech_for(routine, settings),
                              extra=planned.identity(settings.duration_s)[1:])
            episode = _up_to_date(folder, manifest.get(stem), key)
            if episode is None:
                session = prepare(routine, layered, shared=voices, fixed=planned.fixed or None)
                for warning in session.plan.warnings:
                    print(warning, file=sys.stderr)
                episode = site.write_episode(session, folder, stem, number=n, total=len(planned_today))
                manifest[stem] = {"key": key, **episode.to_dict()}
                site.write_json(folder / MANIFEST, {"format": MANIFEST_FORMAT, "episodes": manifest})
            got = lengths.of(planned)
            episodes.append(replace(episode, title=f"{on:%a} {on.day} {on:%b}: {routine.title}",
                                    published=email.utils.formatdate(now + len(planned_today) - n, usegmt=True),
                                    guid=f"{episode.mp3_sha256}-{on.isoformat()}"))
            listed.append({"number": n, "stem": stem, "title": routine.title, "duration": episode.duration_s,
                           "values": [programmes.value_text(v) for v in got.values]})
    try:
        calendar = programmes.calendar_events(opened, lengths, names, overrides)
        write_calendar(folder / programmes.CALENDAR, opened.programme.title, calendar)
        report = programme_report.today_report(opened, on, lengths, on)
    finally:
        lengths.save()
    today = {"programme": opened.programme.title, "date": on.isoformat(), "status": report["status"],
             "heading": programme_report.day_heading(report), "sessions": listed}
    return episodes, today


def _loadable(paths: list[Path]) -> list[Routine]:
    """The routines found (not named): one that does not load is reported and left out, so a
    script being edited in ./scripts does not keep the others off the phone."""
    routines = []
    for path in paths:
        try:
            routines.append(load_routine(path))
        except ScriptError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            print(f"voiceguide: left out {path.name}: fix it and start again to add it", file=sys.stderr)
    return routines


def site_token(folder: Path, new: bool = False) -> str:
    """The folder's secret for URLs: kept across runs (a podcast app's subscription keeps working)
    until ``new`` asks for another one."""
    path = folder / TOKEN_FILE
    if not new:
        try:
            token = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            token = ""
        if len(token) >= 16 and token.replace("-", "").replace("_", "").isalnum():
            _make_private(path)
            return token
    token = secrets.token_urlsafe(18)
    write_text(path, token + "\n", mode=0o600)  # the owner's alone from the first byte
    return token


def _make_private(path: Path) -> None:
    """A kept token file that others can read (copied, restored from a backup) is made the owner's
    alone again, and said so; one that cannot be is refused (``ServeError``)."""
    mode = path.stat().st_mode
    if mode & 0o077 == 0:
        return
    try:
        os.chmod(path, 0o600)
    except OSError as exc:
        raise ServeError(f"{str(path)!r} holds the secret address and others can read it, and it cannot be made "
                         f"yours alone ({exc.strerror or exc}); remove it, or start with --new-token") from None
    print(f"voiceguide: {str(path)!r} was readable by others; it is yours alone again (0600); if someone "
          "may have read it, start with --new-token", file=sys.stderr)


class ProgrammeDays:
    """A served site's programme day: made for the day ``serve`` starts on, and turned at each
    midnight while it runs, so the feed's newest episode is always the day's session."""

    def __init__(self, programme: programmes.Opened, overrides: Overrides, cache_dir: Path | None, folder: Path):
        self.programme, self.overrides, self.cache_dir, self.folder = programme, overrides, cache_dir, folder
        self.todays: list[Episode] = []
        self.today: dict | None = None

    def make(self, on: date) -> None:
        """Make the day's sessions (where stale); the site is written by the caller."""
        self.todays, self.today = publish_day(self.programme, self.overrides, self.folder, on,
                                              cache_dir=self.cache_dir)

    def listing(self, others: list[Episode | Pending]) -> list[Episode | Pending]:
        """The day's sessions first, dated after every other session (the feed's newest items)."""
        made = [email.utils.parsedate_to_datetime(e.published).timestamp() for e in others if isinstance(e, Episode)]
        newest = max([time.time(), *made])
        count = len(self.todays)
        return [*(replace(e, published=email.utils.formatdate(newest + count - n, usegmt=True))
                  for n, e in enumerate(self.todays)), *others]

    def library(self) -> dict:
        """What ``site.write_site`` and ``site.write_library`` take for the programme."""
        return {"today": self.today, "calendar": programmes.CALENDAR}

    def keep_turning(self, rewrite: Callable[[], None]) -> threading.Thread:
        """At each midnight: the new day's sessions made, then ``rewrite`` (the library and the feed)."""
        def run() -> None:
            while True:
                now = datetime.now()
                midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time())
                time.sleep((midnight - now).total_seconds() + 1)
                try:
                    self.make(date.today())
                    rewrite()
                except Exception as exc:  # one line, and the last day stays served
                    print(f"voiceguide: could not make the programme's new day: {exc}", file=sys.stderr)

        thread = threading.Thread(target=run, name="voiceguide-programme-day", daemon=True)
        thread.start()
        return thread


def serve(names: list[str] | None, overrides: Overrides, folder: Path, *, cache_dir: Path | None = None,
          host: str | None, port: int, new_token: bool = False, out: TextIO | None = None,
          qr: Path | None = None, programme: programmes.Opened | None = None) -> int:
    """Serve the folder until Ctrl-C, with the address and a QR code on ``out`` (and in the PNG ``qr``,
    when given) as soon as the sessions are known; those still to be made are listed as being made,
    and become playable (and join the feed) one by one as they are finished.

    With a ``programme``, the day's sessions (made first) come first on the page and in the feed (the
    feed's newest items), turned at midnight while it runs, and its calendar is served."""
    from .phone import server
    from .practice import rating_desk

    out = out or sys.stdout
    days = ProgrammeDays(programme, overrides, cache_dir, folder) if programme is not None else None
    if days is not None:
        make_folder(folder, mode=0o700, option="--site")
        with ending_signals():
            days.make(date.today())
    latest: list[Episode | Pending] = []
    rated: dict[str, Episode] = {}  # the finished sessions, which the phone can rate (today's included)
    desk = rating_desk(rated)

    def with_day(listing: list[Episode | Pending]) -> tuple[list[Episode | Pending], dict]:
        latest[:] = listing
        shown, library = (days.listing(listing), days.library()) if days is not None else (listing, {})
        rated.update({e.stem: e for e in shown if isinstance(e, Episode)})
        return shown, library

    token = site_token(folder, new_token) if folder.is_dir() else None
    files: dict[str, Path] = {}
    httpd: server.Server | None = None
    url = ""
    serving: list[threading.Thread] = []
    told = [0.0, 0.0]  # when library.json was last written, and how many sessions were finished then

    def changed(listing: list[Episode | Pending]) -> None:
        nonlocal httpd, url, token
        listing, programme_day = with_day(listing)
        if httpd is None:  # the sessions are known: serve them now, made or not
            token = token or site_token(folder, new_token)
            bind_host = host or server.lan_address()
            httpd, moved = server.bind(server.Site(folder, files, token, desk), bind_host, port)
            shown = server.lan_address() if bind_host in ("0.0.0.0", "") else bind_host
            url = f"http://{f'[{shown}]' if ':' in shown else shown}:{httpd.server_address[1]}/{token}/"
            files.update(site.write_site(folder, listing, base_url=url, private=True, pictures=False,
                                         **programme_day))
            if days is not None:
                days.keep_turning(lambda: files.update(
                    {name: folder / name for name in site.write_library(folder, *with_day(list(latest))[:1], url,
                                                                        private=True, **days.library())}))
            serving.append(server.serve_in_thread(httpd))  # answering before the address is given
            making = sum(isinstance(e, Pending) for e in listing)
            head, tail = announcement(url, len(listing), port if moved else None, shown, making)
            if qr is not None:
                write_qr_png(url, qr)
            print(head, file=out, flush=True)
            if out.isatty():  # a QR code in a log file helps no one
                print_qr(url, out)
            print(tail, file=out, flush=True)
            files.update({name: folder / name for name in site.write_pictures(folder)})  # after the address
            told[:] = [time.monotonic(), len(listing) - making]
            return
        finished = sum(isinstance(e, Episode) for e in listing)
        if finished != told[1] or time.monotonic() - told[0] >= PAGE_PROGRESS_S:  # a session done, or news
            told[:] = [time.monotonic(), finished]
            files.update({name: folder / name for name in site.write_library(folder, listing, url, private=True,
                                                                             **programme_day)})

    try:
        with ending_signals():  # kill or a closed terminal while making: no half file, like Ctrl-C
            publish(names, overrides, folder, cache_dir=cache_dir, private=True, on_change=changed,
                    keep=lambda stem: days is not None and stem.startswith(PROGRAMME_PREFIX),
                    on_made=lambda e: print(f"voiceguide: ready: {e.title}", file=sys.stderr, flush=True))
            while True:  # served on its own thread; this one waits for Ctrl-C (or kill)
                time.sleep(3600)
    except KeyboardInterrupt:  # the usual way to stop it, but an interruption all the same: 130, as the README says
        print("voiceguide: stopped serving", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if serving:  # shutdown() waits for a serving loop: only once one was started
            httpd.shutdown()  # type: ignore[union-attr]
        if httpd is not None:
            httpd.server_close()
    return 0


PAGE_PROGRESS_S: Final = 1.0
"""``library.json`` is written again at most this often while a session is being made (the page polls it)."""


def announcement(url: str, sessions: int, taken_port: int | None, host: str, making: int = 0) -> tuple[str, str]:
    """What ``serve`` says before the QR code (the address) and after it (the feed, who can open it)."""
    head = []
    if taken_port is not None:
        head.append(f"port {taken_port} is in use; serving on port {url.split(':')[-1].split('/')[0]} instead")
    being = f", {making} still being made: each plays as soon as it is ready" if making else ""
    head += [f"Serving {sessions} session{'s' if sessions != 1 else ''}{being} (Ctrl-C stops):", "", f"  {url}", ""]
    if host.startswith("127."):
        reach = "Only this computer can open it; give --host with this computer's network address for a phone."
    else:
        reach = "Anyone on this network who has the address can open it; the traffic is not encrypted."
    return "\n".join(head), f"{reach}\nPodcast feed: {url}{site.FEED}"


QR_BORDER: Final = 4
"""The quiet zone around a QR code, in modules, as the standard asks."""
QR_DARK: Final = "16"
QR_LIGHT: Final = "231"
"""xterm-256 colours black and white: from the fixed colour cube, so no terminal theme changes them
(the 16 basic colours are the theme's, and a light theme's default colours invert a code drawn with them)."""


def print_qr(url: str, out: TextIO) -> None:
    """The address as a QR code in the terminal, for a phone's camera: dark modules black on white,
    with a white quiet zone, on dark and light themes alike.  Each character is two modules, the
    upper half block in the top one's colour over the bottom one's."""
    import segno

    matrix = [list(row) for row in segno.make(url, error="m").matrix]
    size = len(matrix) + 2 * QR_BORDER
    light = [0] * size
    rows = [light] * QR_BORDER + [[0] * QR_BORDER + [int(m) for m in row] + [0] * QR_BORDER for row in matrix]
    rows += [light] * (QR_BORDER + (len(rows) + QR_BORDER) % 2)  # an even count: the last line is whole
    colour = {1: QR_DARK, 0: QR_LIGHT}
    for top, bottom in zip(rows[::2], rows[1::2]):
        cells = "".join(f"\x1b[38;5;{colour[a]};48;5;{colour[b]}m\u2580" for a, b in zip(top, bottom))
        out.write(cells + "\x1b[0m\n")
    out.flush()


def write_qr_png(url: str, target: Path) -> Path:
    """The address as a QR code picture (PNG, 8 px a module, the quiet zone included), whole or not at all."""
    import io

    import segno

    data = io.BytesIO()
    segno.make(url, error="m").save(data, kind="png", scale=8, border=QR_BORDER, dark="black", light="white")
    with export_file(target) as f:
        f.write(data.getvalue())
    return target
