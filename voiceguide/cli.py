"""The command line: thin subcommands over the library; errors become messages and exit codes here only."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__, programme_cli, stdout
from .errors import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    ScriptError,
    VoiceguideError,
)
from .phone import DEFAULT_PORT  # not .phone.server: http.server costs --help 40 ms
from .script.routine import (
    BED_LEVEL_RANGE_LU,
    BED_NAMES,
    CUE_LEVEL_RANGE_LU,
    MAX_RATE,
    MAX_SESSION_S,
    MIN_RATE,
)
from .script.settings import (
    DEFAULT_BED,
    DEFAULT_BED_LEVEL_LU,
    DEFAULT_BITRATE_KBPS,
    DEFAULT_CUE_LEVEL_LU,
    DEFAULT_LEAD_IN_S,
    SAMPLE_RATE,
    Overrides,
)
from .signals import ending_signals

if TYPE_CHECKING:  # annotations only: the pipeline is imported by the commands that use it
    from .script.routine import Routine
    from .session import Played
    from .timeline.events import ChoiceKey

MAX_LEAD_IN_S = 60.0
LOG_DAYS = 28
"""What ``voiceguide log`` shows without ``--since``: the last four weeks."""


def parse_duration(text: str) -> float:
    """"2:00", "1:30.5", "1:05:00" or "90" -> seconds: the spellings a script's ``duration`` takes."""
    from .script.fields import clock_or_seconds  # the script reader and YAML: not imported for every command

    value = clock_or_seconds(text.strip())
    if value is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration; write M:SS (like 2:00), H:MM:SS (like 1:05:00) or seconds (like 90)")
    if not 0 < value <= MAX_SESSION_S:
        raise argparse.ArgumentTypeError(f"{text!r}: a duration must be more than 0 and at most 3 hours")
    return value


def _number(text: str, problem: str) -> float:
    """``text`` as a float, or argparse's one-line error ``problem``."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(problem) from None


def _whole(text: str, problem: str) -> int:
    """``text`` as an int, or argparse's one-line error ``problem``."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(problem) from None


def parse_lead_in(text: str) -> float:
    problem = f"{text!r} is not a lead-in; write seconds of quiet from 0 to {MAX_LEAD_IN_S:g}, like 0.5"
    value = _number(text, problem)
    if not 0 <= value <= MAX_LEAD_IN_S:  # also refuses nan
        raise argparse.ArgumentTypeError(problem)
    return value


def parse_bitrate(text: str) -> int:
    from .export.writer import check_bitrate

    value = _whole(text, f"{text!r} is not a bit rate; write kbps as a whole number, like {DEFAULT_BITRATE_KBPS}")
    try:
        check_bitrate(value, SAMPLE_RATE)
    except VoiceguideError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def parse_rate(text: str) -> float:
    value = _number(text, f"{text!r} is not a number; write a rate like 0.9")
    if not MIN_RATE <= value <= MAX_RATE:
        raise argparse.ArgumentTypeError(f"rate {text} is out of range; write a number from {MIN_RATE} to {MAX_RATE}")
    return value


def _level(text: str, what: str, bounds: tuple[float, float], like: float) -> float:
    least, most = bounds
    problem = (f"{text!r} is not a {what} level; write LU relative to the voice from {least:g} to {most:g}, "
               f"like {like:g}")
    value = _number(text, problem)
    if not least <= value <= most:  # also refuses nan
        raise argparse.ArgumentTypeError(problem)
    return value


def parse_cue_level(text: str) -> float:
    return _level(text, "cue", CUE_LEVEL_RANGE_LU, DEFAULT_CUE_LEVEL_LU)


def parse_bed_level(text: str) -> float:
    return _level(text, "bed", BED_LEVEL_RANGE_LU, DEFAULT_BED_LEVEL_LU)


def parse_bed(text: str) -> str:
    """A generated bed's name, or an audio file that exists (its absolute path)."""
    from .files import what_is
    from .script.fields import did_you_mean
    from .script.library import routine_names
    from .script.parse import looks_like_a_file

    if text in BED_NAMES:
        return text
    path, file_like = Path(text).expanduser(), looks_like_a_file(text)
    a_routine = path.suffix in (".yaml", ".yml") if file_like else text in routine_names()
    if a_routine:  # `--bed ROUTINE`: --bed alone took the routine for its name
        kind = "routine script" if file_like else "routine"
        raise argparse.ArgumentTypeError(f"{text!r} is a {kind}, not a bed; put the routine before --bed, "
                                         "or write --bed=NAME")
    if not file_like:
        best = did_you_mean(text, BED_NAMES)
        hint = f" (did you mean {best!r}?)" if best else ""
        raise argparse.ArgumentTypeError(f"{text!r} is not a generated bed{hint}; write one of: "
                                         f"{', '.join(BED_NAMES)}, or an audio file's path")
    if not path.is_file():
        there = what_is(path)
        found = "not found" if there == "nothing" else f"is {there}, not a file"
        raise argparse.ArgumentTypeError(f"bed file {text!r} {found}; give an audio file's path")
    return str(path.resolve())


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write it as YYYY-MM-DD, like 2026-12-01") from None


def parse_port(text: str) -> int:
    value = _whole(text, f"{text!r} is not a port; write a whole number from 1 to 65535 (0: any free port)")
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(
            f"port {value} is out of range; write a number from 1 to 65535 (0: any free port)")
    return value


def _add_session_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--voice", help="engine[:voice], e.g. piper, piper:/path/voice.onnx, system, system:en-us")
    p.add_argument("--rate", type=parse_rate,
                   help=f"speech-rate multiplier, {MIN_RATE} to {MAX_RATE} (timing is unchanged)")
    p.add_argument("--duration", type=parse_duration, metavar="M:SS", help="target length; ranges are chosen to fit")
    p.add_argument("--lead-in", type=parse_lead_in, metavar="S",
                   help=f"seconds of quiet before the first sound (default {DEFAULT_LEAD_IN_S})")
    p.add_argument("--cue-level", type=parse_cue_level, metavar="LU",
                   help=f"cue sounds' loudness against the voice, {CUE_LEVEL_RANGE_LU[0]:g} to "
                        f"{CUE_LEVEL_RANGE_LU[1]:g} "
                        f"(default: the script's, else {DEFAULT_CUE_LEVEL_LU:g})")
    beds = p.add_mutually_exclusive_group()
    beds.add_argument("--bed", type=parse_bed, nargs="?", const=DEFAULT_BED, metavar="NAME|FILE",
                      help=f"a bed under the voice: {', '.join(BED_NAMES)} or an audio file (no name: {DEFAULT_BED})")
    beds.add_argument("--no-bed", action="store_true", help="no bed, whatever the script says")
    p.add_argument("--bed-level", type=parse_bed_level, metavar="LU",
                   help=f"the bed's loudness against the voice between words, {BED_LEVEL_RANGE_LU[0]:g} to "
                        f"{BED_LEVEL_RANGE_LU[1]:g} (default: the script's, else {DEFAULT_BED_LEVEL_LU:g})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voiceguide", description="Voice-guided audio from exercise routine scripts.")
    parser.add_argument("--version", action="version", version=f"voiceguide {__version__}")
    parser.add_argument("--cache-dir", type=Path,
                        help="speech cache folder (default: $VOICEGUIDE_CACHE or ./audio_cache)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("check", help="validate routine scripts")
    p.add_argument("routines", nargs="+", metavar="ROUTINE")
    p.add_argument("--voice", help="voice used to measure speech for timing warnings")
    p.add_argument("--rate", type=parse_rate)
    p.add_argument("--duration", type=parse_duration, metavar="M:SS")

    p = sub.add_parser("plan", help="show the resolved session")
    p.add_argument("routine", metavar="ROUTINE")
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    _add_session_options(p)

    p = sub.add_parser("import", help="write the routine script an exercise page describes (text, Markdown, HTML, PDF)")
    p.add_argument("page", type=Path, metavar="PAGE")
    p.add_argument("-o", "--output", type=Path, metavar="ROUTINE.yaml", help="write it here (default: stdout)")

    p = sub.add_parser("list", help="list the routines voiceguide can find")
    p.add_argument("--dir", type=Path, help="also look in this folder (default: ./scripts)")
    p.add_argument("--voice")

    p = sub.add_parser("voices", help="list speech engines and their voices, or hear them")
    p.add_argument("--sample", nargs="?", const="", metavar="VOICE",
                   help="say one sentence in each voice (or in VOICE): live, or into voices-sample.mp3 "
                        "with no sound device")
    p.add_argument("-o", "--output", help="with --sample: write this MP3 (or .wav; a folder: voices-sample.mp3 "
                                           "in it) instead of playing")
    p.add_argument("--rate", type=parse_rate, help="with --sample: speech-rate multiplier")

    p = sub.add_parser("cache", help="inspect or clear the speech cache")
    p.add_argument("action", choices=["info", "clear"])

    p = sub.add_parser("export", help="write routines to MP3 or WAV files")
    p.add_argument("routines", nargs="+", metavar="ROUTINE", help="routine names, paths or folders")
    p.add_argument("-o", "--output", type=Path, help="output file (one routine) or folder")
    p.add_argument("--format", choices=["mp3", "wav"], help="default: from -o's extension, else mp3")
    p.add_argument("--bitrate", type=parse_bitrate, metavar="KBPS",
                   help=f"MP3 bit rate (default {DEFAULT_BITRATE_KBPS})")
    p.add_argument("--cue-sheet", action="store_true", help="also write the plan as readable text beside each file")
    p.add_argument("--site", type=Path, metavar="DIR",
                   help="write a folder for a web server instead: the phone page, MP3s with chapters, a podcast feed")
    p.add_argument("--base-url", metavar="URL",
                   help="with --site: the address the folder will have (absolute feed links)")
    _add_session_options(p)

    p = sub.add_parser("serve", help="serve the sessions to phones on this network: a page and a podcast feed")
    p.add_argument("routines", nargs="*", metavar="ROUTINE", help="routine names, paths or folders "
                   "(default: the built-ins and ./scripts)")
    p.add_argument("--host", help="address to listen on (default: this computer's network address; "
                   "127.0.0.1 keeps it on this computer)")
    p.add_argument("--port", type=parse_port, default=DEFAULT_PORT,
                   help=f"port (default {DEFAULT_PORT}; when taken, a free one is chosen and shown)")
    p.add_argument("--site", type=Path, metavar="DIR",
                   help="the folder the sessions are kept in (default: ./voiceguide-site)")
    p.add_argument("--bitrate", type=parse_bitrate, metavar="KBPS",
                   help=f"MP3 bit rate (default {DEFAULT_BITRATE_KBPS})")
    p.add_argument("--new-token", action="store_true",
                   help="make a new secret address (old links and subscriptions stop working)")
    p.add_argument("--qr", type=Path, metavar="FILE.png",
                   help="also write the address as a QR code picture, for a phone's camera")
    p.add_argument("--programme", metavar="FILE", help="today's sessions first, and the programme's calendar "
                   "(default: the current programme, if one is started)")
    _add_session_options(p)

    p = sub.add_parser("play", help="play a routine live, or `today` (today:N): today's session of a programme")
    p.add_argument("routine", metavar="ROUTINE")
    start = p.add_mutually_exclusive_group()
    start.add_argument("--from", dest="from_step", metavar="STEP", help="start at this step (number from 1, or name)")
    start.add_argument("--resume", action="store_true",
                       help="start at the step the last play of this routine was stopped in")
    p.add_argument("--no-log", action="store_true",
                   help="keep no row of this play in the practice log (always: VOICEGUIDE_LOG=off)")
    _add_session_options(p)
    programme_cli.add_play_options(p)

    p = sub.add_parser("log", help="the practice log: each play, how it ended, and the ratings given")
    p.add_argument("--since", type=parse_date, metavar="YYYY-MM-DD",
                   help=f"the plays since that day (default: the last {LOG_DAYS // 7} weeks)")
    p.add_argument("--csv", action="store_true", help="write the rows as CSV, for a spreadsheet")
    programme_cli.add_commands(sub, _add_session_options, parse_bitrate)
    return parser


def overrides_from(args: argparse.Namespace) -> Overrides:
    """The session options given on the command line, as one layer over the script (None: not given).

    The only place options are read; ``command_words`` writes them back."""
    return Overrides(
        voice=getattr(args, "voice", None) or None,
        rate=getattr(args, "rate", None),
        duration_s=getattr(args, "duration", None),
        lead_in_s=getattr(args, "lead_in", None),
        bed=getattr(args, "bed", None),
        bed_level_lu=getattr(args, "bed_level", None),
        cue_level_lu=getattr(args, "cue_level", None),
        bitrate_kbps=getattr(args, "bitrate", None),
        no_bed=getattr(args, "no_bed", False),
    )


def _decimal(value: float) -> str:
    """A number as the options take it back exactly: ``1.2``, ``90``, never an exponent."""
    text = f"{value:g}"
    if "e" in text or float(text) != value:
        text = format(Decimal(repr(float(value))), "f")
    return text


def command_words(command: str, routine: str, overrides: Overrides, cache_dir: Path | None = None) -> list[str]:
    """The command line that runs ``command`` on ``routine`` with ``overrides`` (and the speech cache
    ``cache_dir``): parsed, it gives back equal ``overrides_from`` and ``cache_dir``."""
    words = ["voiceguide"]
    if cache_dir is not None:
        words += ["--cache-dir", str(cache_dir)]
    words += [command, routine]
    if overrides.voice is not None:
        words += ["--voice", overrides.voice]
    words += _number_flags(("--rate", overrides.rate), ("--duration", overrides.duration_s),
                           ("--lead-in", overrides.lead_in_s))
    if overrides.bed is not None:
        words += ["--bed", overrides.bed]
    if overrides.no_bed:
        words.append("--no-bed")
    words += _number_flags(("--bed-level", overrides.bed_level_lu), ("--cue-level", overrides.cue_level_lu),
                           ("--bitrate", overrides.bitrate_kbps))
    return words


def _number_flags(*flags: tuple[str, float | None]) -> list[str]:
    """``--flag VALUE`` for each value given, in order."""
    return [word for flag, value in flags if value is not None for word in (flag, _decimal(value))]


def cmd_check(args: argparse.Namespace) -> int:
    from .script.library import find_routine
    from .script.parse import read_file
    from .session import prepare

    failed = False
    for name in args.routines:
        try:
            routine, problems = read_file(find_routine(name))
        except VoiceguideError as exc:
            print(f"voiceguide: {exc}", file=sys.stderr)
            failed = True
            continue
        errors = [p for p in problems if p.severity == "error"]
        if routine is not None and not errors:  # timing warnings need real speech lengths
            problems += list(prepare(routine, overrides_from(args), cache_dir=args.cache_dir).plan.warnings)
        for problem in problems:
            print(problem)
        failed |= bool(errors)
    return EXIT_ERROR if failed else EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    from .session import prepare
    from .timeline.report import plan_table

    session = prepare(args.routine, overrides_from(args), cache_dir=args.cache_dir)
    for warning in session.plan.warnings:
        print(warning, file=sys.stderr)
    print(session.plan_json() if args.json else plan_table(session.plan, session.sound))
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from .errors import ExportError
    from .files import write_text
    from .page import import_page
    from .script.parse import parse_text

    if args.output is not None and args.output.resolve() == args.page.resolve():
        raise UsageError(f"-o {args.output} is the page itself; give another name, like {args.page.stem}.yaml")
    if args.output is not None and args.output.is_dir():
        raise UsageError(f"-o {args.output} is a folder; give a file name, like {args.output / args.page.stem}.yaml")
    imported = import_page(args.page)
    parse_text(imported.text, str(args.output or args.page), args.page.parent)  # what we write passes `check`
    for line in imported.summary:
        print(line, file=sys.stderr)
    if args.output is None:
        sys.stdout.write(imported.text)
    else:
        try:
            write_text(args.output, imported.text)
        except OSError as exc:
            raise ExportError(f"cannot write {args.output}: {exc.strerror or exc}; nothing was written") from None
        print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from .script.library import list_routines
    from .session import routine_listing

    print(routine_listing(list_routines(args.dir), overrides_from(args), cache_dir=args.cache_dir))
    return EXIT_OK


def cmd_voices(args: argparse.Namespace) -> int:
    if args.sample is None:
        from .voice.cache import default_cache_dir
        from .voice.catalog import voices_report

        print(voices_report(args.cache_dir or default_cache_dir()))
        return EXIT_OK
    from .errors import NoSoundDeviceError
    from .play.device import Output
    from .session import SAMPLE_FILE, play_voice_sample, sample_target, voice_sample, write_voice_sample
    from .timeline.clock import clock

    target = sample_target(args.output) if args.output is not None else None
    if target is None:
        try:
            Output(SAMPLE_RATE).check()
        except NoSoundDeviceError as exc:
            target = Path(SAMPLE_FILE)
            print(f"voiceguide: {str(exc).split(';')[0]}; writing {target} instead", file=sys.stderr)
    plan, clips = voice_sample(args.sample or None, overrides_from(args), cache_dir=args.cache_dir,
                               notify=lambda message: print(f"voiceguide: {message}", file=sys.stderr))
    for chapter in plan.chapters:
        print(f"{clock(chapter.start / SAMPLE_RATE)}  {chapter.title}")
    if target is None:
        play_voice_sample(plan, clips)
    else:
        print(f"wrote {write_voice_sample(plan, clips, target).resolve()}")
    return EXIT_OK


def cmd_cache(args: argparse.Namespace) -> int:
    from .voice.cache import SpeechCache, default_cache_dir

    cache = SpeechCache(args.cache_dir or default_cache_dir())
    if args.action == "clear":
        removed = cache.clear()
        print(f"removed {removed} entries from {cache.root}")
    else:
        print(cache.info())
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from .session import export_routines

    def written(path: Path) -> None:  # as each file is whole, not at the end: an interruption keeps the list
        stdout.print_path(path)

    if args.site is not None:
        return _export_site(args)
    if args.base_url:
        raise UsageError("--base-url goes with --site DIR")
    with ending_signals():  # kill or a closed terminal: no half file left, like Ctrl-C
        export_routines(args.routines, overrides_from(args), cache_dir=args.cache_dir, output=args.output,
                        fmt=args.format, cue_sheet=args.cue_sheet, on_written=written)
    return EXIT_OK


def _export_site(args: argparse.Namespace) -> int:
    from .phone.site import write_site
    from .publish import publish

    if args.output is not None or args.format == "wav" or args.cue_sheet:
        raise UsageError("--site DIR writes MP3s into DIR: leave out -o, --format wav and --cue-sheet")
    base_url = args.base_url or ""
    if base_url and not base_url.startswith(("http://", "https://")):
        raise UsageError(f"--base-url {base_url!r} is not a web address; write it like https://example.org/workouts/")
    if base_url and not base_url.endswith("/"):
        base_url += "/"
    with ending_signals():
        episodes = publish(args.routines, overrides_from(args), args.site, cache_dir=args.cache_dir)
        write_site(args.site, episodes, base_url=base_url)
    stdout.print_path(args.site / "index.html")
    if not base_url:
        print("note: the feed's links are relative to feed.xml; give --base-url for podcast apps that need "
              "full addresses", file=sys.stderr)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from .publish import DEFAULT_SITE, serve

    if args.qr is not None and (args.qr.suffix.lower() != ".png" or not args.qr.parent.is_dir()):
        raise UsageError(f"--qr {str(args.qr)!r}: give a .png file in a folder that exists, like --qr serve-qr.png")
    return serve(args.routines, overrides_from(args), args.site or DEFAULT_SITE, cache_dir=args.cache_dir,
                 host=args.host, port=args.port, new_token=args.new_token, qr=args.qr,
                 programme=programme_cli.served(args.programme))


def cmd_play(args: argparse.Namespace) -> int:
    from .log import ask_rating, local_now
    from .play.device import Output
    from .play.player import How
    from .practice import log_play, open_log
    from .session import play_live

    log, why_not = open_log(args.no_log)
    if why_not:
        print(f"voiceguide: {why_not}; this play will not be logged", file=sys.stderr)
    started = local_now()

    def played_as(routine: str | Routine, overrides: Overrides, fixed: dict[ChoiceKey, float] | None = None,
                  week: int | None = None, logged: bool = True) -> Played:
        played = play_live(routine, overrides, cache_dir=args.cache_dir, from_step=args.from_step,
                           resume=args.resume, check_device=Output(SAMPLE_RATE).check,
                           notify=lambda note: print(f"voiceguide: {note}", file=sys.stderr), fixed=fixed)
        return replace(played, week=week, logged=logged)  # the programme's week and log setting

    number = programme_cli.today_number(args.routine)
    if number is not False:
        played = programme_cli.play_today(args, number, overrides_from(args), played_as)
    elif args.programme or args.date:
        raise UsageError("--programme and --date go with `play today`")
    else:
        played = played_as(args.routine, overrides_from(args))
    ending = played.ending
    if log is not None and played.logged:
        rating = None
        if played.finished and sys.stdin.isatty() and sys.stdout.isatty():
            rating = ask_rating(_ask_line, print)
        not_logged = log_play(log, played, started, rating)
        if not_logged:
            print(f"voiceguide: {not_logged}", file=sys.stderr)
    if played.finished:
        return ending.code
    if played.not_kept is None:
        go_on = f"go on from there with: {resume_command(args)}"
    else:
        exc = played.not_kept
        go_on = (f"its place could not be kept in {str(played.kept_in)!r} ({exc.strerror or exc}); "
                 f"go on with --from {ending.step + 1 if ending.step >= 0 else 1}")
    what = {How.DEVICE: f"the sound device stopped ({ending.detail})",
            How.QUIT_KEY: "stopped"}.get(ending.how, "interrupted")
    try:
        print(f"voiceguide: {what} at {ending.where}; {go_on}", file=sys.stderr)
    except OSError:  # the terminal was closed (SIGHUP): the place is kept all the same
        pass
    return ending.code


def _ask_line(prompt: str) -> str:
    """A line typed on the terminal after ``prompt`` on stdout (``input`` would show the prompt on
    stderr); EOFError at the end of input."""
    print(prompt, end="", flush=True)
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line


def cmd_log(args: argparse.Namespace) -> int:
    from .log import PracticeLog, log_table, ratings_chart, write_csv
    from .practice import OFF_ENV, log_wanted

    log = PracticeLog()
    since = args.since or date.today() - timedelta(days=LOG_DAYS)
    entries = log.entries(since)
    if args.csv:
        write_csv(entries, sys.stdout)
        return EXIT_OK
    if not entries:
        print(f"No plays logged since {since.isoformat()} (the log is {str(log.path)!r}).")
        if not log_wanted():
            print(f"The log is off: {OFF_ENV} is {os.environ.get(OFF_ENV)!r} in the environment.")
        return EXIT_OK
    print(log_table(entries))
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
    if sys.stdout.isatty() and encoding == "utf8":  # block characters only where they can be shown
        chart = ratings_chart(entries, shutil.get_terminal_size().columns)
        if chart:
            print(f"\n{chart}")
    return EXIT_OK


def resume_command(args: argparse.Namespace) -> str:
    """The command line that plays ``args.routine`` again as asked, from where it was stopped."""
    cache_dir = args.cache_dir if args.cache_dir_given else None
    words = command_words("play", args.routine, overrides_from(args), cache_dir)
    if getattr(args, "programme", None):
        words += ["--programme", args.programme]
    if getattr(args, "date", None):
        words += ["--date", args.date.isoformat()]
    return shlex.join([*words, *(["--no-log"] if args.no_log else []), "--resume"])


COMMANDS = {
    "check": cmd_check, "plan": cmd_plan, "import": cmd_import, "list": cmd_list, "voices": cmd_voices,
    "cache": cmd_cache, "export": cmd_export, "play": cmd_play, "serve": cmd_serve, "log": cmd_log,
    "programme": lambda args: programme_cli.cmd_programme(args, overrides_from(args)),
    "today": lambda args: programme_cli.cmd_today(args, overrides_from(args)),
}


def _print_what_can_be_shown() -> None:
    """In a terminal whose encoding cannot show every character (``LC_ALL=C``: ASCII), print "?" for
    those instead of failing on a routine's title."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="replace")  # type: ignore[union-attr]  # a TextIOWrapper at start
        except (AttributeError, ValueError):  # replaced by a caller with a stream that cannot
            pass


class UsageError(Exception):
    """Options that do not go together: argparse's message and exit code 2."""


def main(argv: list[str] | None = None) -> int:
    _print_what_can_be_shown()
    args = build_parser().parse_args(argv)
    args.cache_dir_given = args.cache_dir is not None
    if args.cache_dir is None and os.environ.get("VOICEGUIDE_CACHE"):
        args.cache_dir = Path(os.environ["VOICEGUIDE_CACHE"])
    unguarded = stdout.guard()
    try:
        return _run(args)
    finally:
        stdout.release(unguarded)


def _run(args: argparse.Namespace) -> int:
    try:
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # a stdout that cannot take the last lines fails here, not at exit
        return code
    except stdout.StdoutError as exc:
        print(f"voiceguide: {exc}", file=sys.stderr)
        stdout.abandon()
        return EXIT_ERROR
    except UsageError as exc:
        print(f"voiceguide {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ScriptError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_ERROR
    except VoiceguideError as exc:
        print(f"voiceguide: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("voiceguide: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        stdout.abandon()
        return EXIT_OK


