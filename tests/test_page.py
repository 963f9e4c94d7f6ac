"""`voiceguide serve` as a user runs it, and its page in a real browser: headless Chromium as a phone
(360x740 and on its side, 740x360) on a LAN-like address, where the page is not a secure context."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest
from helpers import REPO

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
ROUTINE = "lower-back-and-hips"
MORNING = "morning"  # reps, a hold, breaths, an unnamed say step and a group of rounds with a rest between
LAN = "phone.lan"
"""A name Chromium maps to 127.0.0.1: an http:// address that is not a secure context, as a phone on the LAN has."""
SCREENSHOTS = Path(os.environ.get("VOICEGUIDE_SCREENSHOTS", "")) if os.environ.get("VOICEGUIDE_SCREENSHOTS") else None
"""Set to a folder to keep the browser's screenshots (the README's comes from there)."""


def start_serving(folder: Path, *args: str) -> tuple[subprocess.Popen, str, list[str]]:
    """``voiceguide serve`` on 127.0.0.1 and any free port; returns the process, the page's URL and what it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "serve", *args, "--voice", "test", "--host", "127.0.0.1",
         "--port", "0", "--site", str(folder)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    while True:
        line = process.stdout.readline()
        if not line:
            raise AssertionError(f"serve ended before giving an address: {process.stderr.read()}")
        lines.append(line.rstrip("\n"))
        if line.startswith("Podcast feed:"):
            return process, next(x.strip() for x in lines if x.strip().startswith("http://")), lines


def stop(process: subprocess.Popen) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    return process.returncode, err


@pytest.fixture(scope="module")
def serving(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    qr = tmp_path_factory.mktemp("qr") / "serve.png"
    process, url, lines = start_serving(folder, ROUTINE, "standing-reset", MORNING, "--qr", str(qr))
    made(url)
    yield url, folder, lines, process
    if process.poll() is None:
        stop(process)


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read()


def made(url: str, timeout_s: float = 120.0) -> dict:
    """Wait until serve has made every session it lists; the library then."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        library = json.loads(get(url + "library.json"))
        if not any(s.get("making") for s in library["sessions"]):
            return library
        time.sleep(0.2)
    raise AssertionError("serve did not finish making its sessions")


def test_serve_prints_the_address_and_feed_and_serves_them(serving):
    url, folder, lines, process = serving
    assert lines[0] == "Serving 3 sessions, 3 still being made: each plays as soon as it is ready (Ctrl-C stops):"
    assert lines[-1] == f"Podcast feed: {url}feed.xml"
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert len(token) >= 24 and token == (folder / ".voiceguide-token").read_text().strip()
    assert get(url) == (folder / "index.html").read_bytes()
    assert f'url="{url}{ROUTINE}.mp3"'.encode() in get(url + "feed.xml")
    qr = Path(process.args[process.args.index("--qr") + 1])
    read = subprocess.run(["zbarimg", "--raw", "-q", str(qr)], capture_output=True, text=True, timeout=30)
    assert read.stdout.rstrip("\n") == url  # the picture's code is the printed address


def test_ctrl_c_stops_it_cleanly_and_a_second_start_makes_nothing_again(tmp_path):
    process, url, _ = start_serving(tmp_path, "standing-reset")
    made(url)
    code, err = stop(process)
    assert code == 130 and "stopped serving" in err and "Traceback" not in err
    mp3 = tmp_path / "standing-reset.mp3"
    made_at = mp3.stat().st_mtime_ns
    process, again, lines = start_serving(tmp_path, "standing-reset")
    try:
        assert lines[0] == "Serving 1 session (Ctrl-C stops):"  # nothing to make
        assert again.split("/")[3] == url.split("/")[3]  # the same token: subscriptions keep working
        assert mp3.stat().st_mtime_ns == made_at
    finally:
        stop(process)


def test_with_nothing_made_the_address_comes_at_once_and_sessions_join_the_page_and_feed_as_made(tmp_path, browser):
    sys.path.insert(0, str(REPO / "bench"))
    from run import long_script  # 40 minutes of tilts: several seconds to make, even with the test voice

    long = long_script(40, tmp_path)
    started = time.monotonic()
    process, url, _ = start_serving(tmp_path / "site", str(long), "standing-reset", MORNING)
    try:
        assert time.monotonic() - started < 2.0  # nothing is made before the address
        feed, library = get(url + "feed.xml").decode(), json.loads(get(url + "library.json"))
        assert [s["title"] for s in library["sessions"]] == ["40 minutes of tilts", "Standing reset", "Morning back care"]
        making = [s for s in library["sessions"] if s.get("making")]
        assert making and all(0 <= s["progress"] <= 1 and "mp3" not in s for s in making)
        assert feed.count("<item>") <= 3 - len(making)  # the feed lists only finished sessions
        browser.get(lan(url))
        wait_for(browser, "document.querySelectorAll('#sessions li').length == 3")
        card = browser.find_element("css selector", "#sessions .making")  # the long one, first, is still being made
        assert "Being made" in card.text and card.find_elements("css selector", "progress")
        assert not card.find_elements("css selector", "a")
        wait_for(browser, "document.querySelector('#sessions .making progress').value > 0")  # it moves
        seen, feeds = [], []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # the feed grows as each is finished; the page follows on its own
            feeds.append(get(url + "feed.xml").decode().count("<item>"))
            seen.append(len(browser.find_elements("css selector", "#sessions a")))
            if seen[-1] == 3 and feeds[-1] == 3:
                break
            time.sleep(0.2)
        assert seen[-1] == 3 and feeds[-1] == 3 and feeds == sorted(feeds) and seen == sorted(seen)
        assert not browser.find_elements("css selector", "#sessions .making")
    finally:
        code, err = stop(process)
    assert code == 130 and "Traceback" not in err
    assert err.count("ready: ") == 3


def test_ctrl_c_while_sessions_are_being_made_stops_at_once_and_keeps_no_half_file(tmp_path):
    process, url, _ = start_serving(tmp_path, ROUTINE, "standing-reset")
    code, err = stop(process)  # right after the address: the first session is being made
    assert code == 130 and "stopped serving" in err and "Traceback" not in err
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".*.part"))


def test_a_taken_port_is_said_and_another_used(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = subprocess.Popen(
            [sys.executable, "-m", "voiceguide", "serve", "standing-reset", "--voice", "test", "--host", "127.0.0.1",
             "--port", str(port), "--site", str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        try:
            first = process.stdout.readline()
            moved = int(first.split("serving on port ")[1].split()[0])
            assert first == f"port {port} is in use; serving on port {moved} instead\n" and moved != port
            while not (line := process.stdout.readline()).startswith("Podcast feed:"):
                assert line
            assert get(f"http://127.0.0.1:{moved}/{line.split('/')[3]}/library.json")
        finally:
            stop(process)




@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--autoplay-policy=no-user-gesture-required",
                 "--window-size=360,740", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 f"--host-resolver-rules=MAP {LAN} 127.0.0.1",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    screen(driver, PHONE)
    yield driver
    driver.quit()


PHONE = {"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": True}
ON_ITS_SIDE = {"width": 740, "height": 360, "deviceScaleFactor": 2, "mobile": True}
DESKTOP = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
STEP_PX, BIG_PX = 40, 72
"""The floor: at 1.5 m the step name and the countdown (or the rep) stay readable at these sizes on a phone."""


def screen(driver, metrics: dict) -> None:
    """The viewport of a phone or a desktop: a headless window is never narrower than 500 px, so
    ``--window-size=360,740`` alone gives a 500 px page; the DevTools emulation gives the real 360."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def lan(url: str) -> str:
    return url.replace("127.0.0.1", LAN)


def wait_for(driver, script: str, timeout_s: float = 20.0):
    """Poll a JavaScript expression until it is truthy; its value."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = driver.execute_script("return " + script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {script}")


def text(driver, element_id: str) -> str:
    return driver.execute_script(f"return document.getElementById('{element_id}').textContent")


def clock(seconds: float) -> str:
    whole = max(math.ceil(seconds - 1e-9), 0)
    return f"{whole // 60}:{whole % 60:02d}"


def keep(driver, name: str) -> None:
    if SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SCREENSHOTS / name))


def open_session(driver, url: str, stem: str) -> dict:
    """The session's page, muted, with nothing remembered from an earlier test; its JSON."""
    driver.get("about:blank")  # the page before it goes: what it keeps on leaving is kept before the clear
    driver.get(url + "#" + stem)
    driver.execute_script("localStorage.clear()")
    driver.refresh()
    wait_for(driver, "document.getElementById('chapters').children.length > 0")
    driver.execute_script("document.getElementById('audio').muted = true;")
    return json.loads(get(url.replace(LAN, "127.0.0.1") + f"{stem}.json"))


def seek(driver, t: float) -> float:
    """Paused at ``t``; where the audio really is."""
    driver.execute_script(f"const a = document.getElementById('audio'); a.pause(); a.currentTime = {t};")
    wait_for(driver, "!document.getElementById('audio').seeking && document.getElementById('audio').readyState >= 2")
    time.sleep(0.15)  # the page draws on 'seeked'
    return driver.execute_script("return document.getElementById('audio').currentTime")


def frame_at(session: dict, t: float) -> dict:
    return [f for f in session["frames"] if f["t"] <= t + 1e-3][-1]


def layout(driver) -> dict:
    """Sizes and places as the browser laid them out (CSS px)."""
    return driver.execute_script("""
        const box = (id) => { const r = document.getElementById(id).getBoundingClientRect();
                              return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height}; };
        const px = (id) => parseFloat(getComputedStyle(document.getElementById(id)).fontSize);
        return {step: box('step'), big: box('big'), label: box('label'), bar: document.querySelector('.bar')
                  .getBoundingClientRect().top, play: box('play'), step_px: px('step'), big_px: px('big'),
                label_px: px('label'), say_px: px('say'), next_px: px('next'), where_px: px('where'),
                width: innerWidth, height: innerHeight, scroll_width: document.documentElement.scrollWidth};""")


def assert_readable(driver, shown: str) -> dict:
    """The step name and the big number at floor sizes, both on screen above the bar, no sideways scroll."""
    at = layout(driver)
    assert at["step_px"] >= STEP_PX and at["big_px"] >= BIG_PX, at
    for name in ("step", "big"):
        assert 0 <= at[name]["top"] and at[name]["bottom"] <= at["bar"], (shown, name, at)
    assert at["scroll_width"] <= at["width"], at
    return at


def test_the_library_lists_the_sessions_and_fits_a_phone(serving, browser):
    url, *_ = serving
    browser.get(url)
    wait_for(browser, "document.querySelectorAll('#sessions li').length == 3")
    assert "Lower back and hips" in text(browser, "sessions")
    assert browser.execute_script("return window.innerWidth") == 360
    assert text(browser, "feed-url") == url + "feed.xml"
    assert browser.find_element("id", "feed-app").get_attribute("href") == "itpc" + url[4:] + "feed.xml"
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 360
    keep(browser, "library-360.png")


def test_an_old_link_to_a_session_shows_the_list_and_says_why(serving, browser):
    url, *_ = serving
    browser.get(url + "#gone")
    wait_for(browser, "!document.getElementById('error').hidden")
    assert "no session \u201cgone\u201d" in text(browser, "error")
    assert browser.execute_script("return document.getElementById('session').hidden")
    assert len(browser.find_elements("css selector", "#sessions li")) == 3


@pytest.mark.parametrize("metrics", [PHONE, ON_ITS_SIDE], ids=["360x740", "740x360"])
def test_on_a_lan_address_the_screen_is_kept_on_while_playing_and_let_go_on_pause(serving, browser, metrics):
    """No Wake Lock over plain http: the silent video plays from the tap on Play and stops with Pause."""
    url, *_ = serving
    screen(browser, metrics)
    try:
        open_session(browser, lan(url), MORNING)
        assert browser.execute_script("return [window.isSecureContext, 'wakeLock' in navigator]") == [False, False]
        video = "document.getElementById('awake')"
        assert browser.execute_script(f"return {video}.paused && {video}.muted && {video}.loop "
                                      f"&& {video}.playsInline")
        before = layout(browser)["play"]
        browser.find_element("id", "play").click()  # a real tap
        wait_for(browser, "!document.getElementById('audio').paused && document.getElementById('audio').currentTime > 0.2")
        wait_for(browser, f"!{video}.paused && {video}.currentTime > 0")  # the screen-keeper runs
        assert browser.execute_script("return document.documentElement.dataset.awake") == "video"
        time.sleep(1.2)
        assert browser.execute_script(f"return !{video}.paused && {video}.currentTime > 0")  # and keeps running
        assert layout(browser)["play"] == before  # the controls do not move
        keep(browser, f"playing-{metrics['width']}.png")
        browser.execute_script("document.getElementById('wake').click()")  # the box below the chapters: off
        wait_for(browser, f"{video}.paused && document.documentElement.dataset.awake === 'off'")
        browser.execute_script("document.getElementById('wake').click()")  # and on again, still playing
        wait_for(browser, f"!{video}.paused && document.documentElement.dataset.awake === 'video'")
        browser.find_element("id", "play").click()
        wait_for(browser, f"document.getElementById('audio').paused && {video}.paused")
        assert browser.execute_script("return document.documentElement.dataset.awake") == "off"
    finally:
        screen(browser, PHONE)


@pytest.mark.parametrize("metrics", [PHONE, ON_ITS_SIDE], ids=["360x740", "740x360"])
def test_the_focus_view_reads_from_the_floor_with_the_right_words(serving, browser, metrics):
    """Reps, a rest between rounds, a breathing set and a hold of ``morning``, on the LAN address."""
    url, *_ = serving
    screen(browser, metrics)
    w = metrics["width"]
    try:
        session = open_session(browser, lan(url), MORNING)
        frames = session["frames"]
        rounds = next(f["round"][1] for f in frames if f["round"])

        # reps, in the last round: the phase as said, the rep, the exercise (rests not counted) and the round
        f = next(f for f in frames if f["step"] == "Glute bridge" and f["round"] == [rounds, rounds]
                 and (f["count"] or "").startswith("Rep 3 "))
        seek(browser, f["t"] + 0.5)
        assert text(browser, "label") == f["label"] == "Lift"
        assert text(browser, "big") == "3" and text(browser, "rep") == f"of {f['count'].split(' of ')[1]}"
        assert text(browser, "where") == f"Exercise 4 of 5 \u00b7 Round {rounds} of {rounds}"
        assert text(browser, "step") == "Glute bridge"
        assert_readable(browser, "reps")
        keep(browser, f"reps-{w}.png")

        # the rest between rounds: "Rest", its countdown, and what comes next
        f = next(f for f in frames if f["label"] == "Rest" and f["step"] == "Glute bridge")
        now = seek(browser, f["t"] + 2.2)
        assert text(browser, "step") == "Rest" and text(browser, "where") == ""
        assert text(browser, "big") == clock(f["end"] - now)
        assert text(browser, "rep") == "Next: Glute bridge, round 2 of " + str(rounds)  # under the countdown
        assert_readable(browser, "rest")
        keep(browser, f"rest-{w}.png")

        # a breathing set: the breathing guide grows over the inhale, as the plan times it
        start, end, way = next(b for b in session["breaths"] if b[2] == "in")
        scales = []
        for part in (0.1, 0.5, 0.9):
            seek(browser, start + part * (end - start))
            scales.append(browser.execute_script(
                "return new DOMMatrix(getComputedStyle(document.getElementById('breath')).transform).a"))
            assert browser.execute_script("return document.getElementById('breath').dataset.phase") == "in"
        assert scales[0] < scales[1] < scales[2] and scales[2] - scales[0] > 0.4, scales
        assert text(browser, "label") == "Breathe in" and text(browser, "rep").startswith("Breath 1 of ")
        assert_readable(browser, "breaths")
        keep(browser, f"breaths-{w}.png")
        out_start, out_end, _ = next(b for b in session["breaths"] if b[2] == "out" and b[0] >= end)
        shrink = []
        for part in (0.1, 0.9):
            seek(browser, out_start + part * (out_end - out_start))
            shrink.append(browser.execute_script(
                "return new DOMMatrix(getComputedStyle(document.getElementById('breath')).transform).a"))
        assert shrink[0] > shrink[1] + 0.4, shrink

        # a hold: its name as the title, the countdown big
        f = next(f for f in frames if f["label"] == "Hold")
        now = seek(browser, f["t"] + 1)
        assert text(browser, "step") == "Find the middle" and text(browser, "big") == clock(f["end"] - now)
        at = assert_readable(browser, "hold")
        keep(browser, f"hold-{w}.png")
        if SCREENSHOTS:
            (SCREENSHOTS / f"sizes-{w}.json").write_text(json.dumps(at, indent=1))

        # an unnamed say step has a name, never the start of its sentence
        f = next(f for f in frames if f["say"] and f["say"].startswith("Now lie down"))
        seek(browser, f["t"] + 0.5)
        assert text(browser, "step") == "Get ready" and text(browser, "say") == f"\u201c{f['say']}\u201d"
    finally:
        screen(browser, PHONE)


def test_the_live_region_announces_step_changes_only(serving, browser):
    url, *_ = serving
    session = open_session(browser, lan(url), MORNING)
    assert browser.execute_script(
        "return ['clock', 'big', 'seek', 'step', 'say'].every((id) => !document.getElementById(id).closest('[aria-live]'))")
    assert browser.execute_script("return document.querySelectorAll('[aria-live]').length") == 1
    observe = """
        for (const old of window.observers || []) old.disconnect();
        window.counted = {announce: 0, clock: 0};
        window.observers = Object.keys(window.counted).map((id) => {
            const observer = new MutationObserver((records) => { window.counted[id] += records.length; });
            observer.observe(document.getElementById(id), {childList: true, characterData: true, subtree: true,
                                                           attributes: true});
            return observer; });"""
    # five seconds inside one step (reps of the glute bridge): the clock runs, the live region is quiet
    f = next(f for f in session["frames"] if f["step"] == "Glute bridge" and f["count"] == "Rep 2 of 9")
    seek(browser, f["t"])
    browser.execute_script(observe)
    browser.execute_script("document.getElementById('audio').play()")
    time.sleep(5)
    browser.execute_script("document.getElementById('audio').pause()")
    counted = browser.execute_script("return window.counted")
    assert counted["announce"] == 0 and counted["clock"] >= 4, counted
    # across a step change: one announcement, the new step
    change = next(f for f in session["frames"] if f["step"] == "Find the middle")
    seek(browser, change["t"] - 1.5)
    browser.execute_script(observe)
    browser.execute_script("document.getElementById('audio').play()")
    wait_for(browser, f"document.getElementById('audio').currentTime > {change['t'] + 0.5}")
    browser.execute_script("document.getElementById('audio').pause()")
    assert browser.execute_script("return window.counted.announce") == 1
    assert text(browser, "announce") == "Find the middle, Exercise 2 of 5"


def test_one_player_the_pages_own_with_back_named_as_it_reads(serving, browser):
    url, *_ = serving
    open_session(browser, lan(url), MORNING)
    assert browser.execute_script("return document.querySelectorAll('audio[controls], video[controls]').length") == 0
    assert browser.execute_script("return document.getElementById('audio').getBoundingClientRect().height") == 0
    assert browser.execute_script("return document.getElementById('awake').getBoundingClientRect().height > 0 && "
                                  "getComputedStyle(document.getElementById('awake')).opacity") == "0"
    back = browser.find_element("id", "prev")
    assert back.text == "\u2039 Back" and back.accessible_name == "Back" and back.get_attribute("aria-label") is None
    assert browser.find_element("id", "nextch").accessible_name == "Next"
    assert browser.find_element("id", "seek").accessible_name == "Position in the session"
    assert text(browser, "clock").endswith(" left")  # one clock


def test_manifest_and_artwork_are_there_for_the_home_screen_and_the_lock_screen(serving, browser):
    url, *_ = serving
    open_session(browser, lan(url), MORNING)
    manifest = browser.execute_script("""
        const link = document.querySelector('link[rel=manifest]');
        return fetch(link.href).then((a) => a.json());""")
    assert manifest["display"] == "standalone" and {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}
    for icon in manifest["icons"] + [{"src": "artwork.jpg"}]:
        assert browser.execute_script(f"return fetch('{icon['src']}').then((a) => a.status)") == 200
    browser.execute_script("document.getElementById('audio').play()")
    wait_for(browser, "navigator.mediaSession.metadata")
    browser.execute_script("document.getElementById('audio').pause()")
    artwork = browser.execute_script("return navigator.mediaSession.metadata.artwork")
    assert [a["sizes"] for a in artwork] == ["192x192", "512x512", "1400x1400"]
    assert all(a["src"].startswith(lan(url)) for a in artwork)


def test_a_reload_offers_to_go_on_from_where_it_was(serving, browser):
    url, *_ = serving
    open_session(browser, lan(url), "standing-reset")
    seek(browser, 40)
    browser.execute_script("document.getElementById('audio').play()")
    wait_for(browser, "document.getElementById('audio').currentTime > 41")
    browser.find_element("id", "play").click()  # pause: the place is kept
    wait_for(browser, "document.getElementById('audio').paused")
    kept = browser.execute_script("return document.getElementById('audio').currentTime")
    browser.refresh()
    wait_for(browser, "!document.getElementById('resume').hidden")
    go = browser.find_element("id", "resume-go")
    assert go.text == f"Go on from {int(kept) // 60}:{int(kept) % 60:02d}"
    assert browser.find_element("id", "resume-restart").text == "Start again"
    keep(browser, "resume-360.png")
    browser.execute_script("document.getElementById('audio').muted = true;")
    go.click()
    wait_for(browser, "!document.getElementById('audio').paused")
    assert abs(browser.execute_script("return document.getElementById('audio').currentTime") - kept) < 1.5
    assert browser.execute_script("return document.getElementById('resume').hidden")
    browser.execute_script("document.getElementById('audio').pause()")


class RatingServer:
    """The site served by voiceguide's own handler, with the rating endpoints of the contract the page
    keeps: ``GET rating-key`` answers ``{"key": ...}``, ``POST rating`` answers ``answer`` (204: saved)."""

    def __init__(self, folder: Path, token: str, key: str | None):
        from voiceguide.phone import server

        self.posted: list[tuple[str, dict]] = []
        self.answer = 204
        files = {p.name: p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")}
        site = server.Site(folder, {"": folder / "index.html", **files}, token)
        outer = self

        class Handler(server.Handler):
            def do_GET(self) -> None:
                if self.path == f"/{token}/rating-key" and key is not None:
                    body = json.dumps({"key": key}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                else:
                    super().do_GET()

            def do_POST(self) -> None:
                if self.path != f"/{token}/rating" or key is None:
                    return super().do_POST()
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.posted.append((self.headers["Content-Type"], json.loads(body)))
                self.send_response(outer.answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

        Handler.site = site
        self.httpd = server.Server(("127.0.0.1", 0), Handler)
        server.serve_in_thread(self.httpd)
        self.url = f"http://{LAN}:{self.httpd.server_address[1]}/{token}/"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def play_to_the_end(driver, session: dict) -> None:
    seek(driver, session["duration"] - 1.0)
    driver.execute_script("document.getElementById('audio').play()")
    wait_for(driver, "!document.getElementById('finished').hidden", 15)


@pytest.mark.parametrize("metrics", [PHONE, ON_ITS_SIDE], ids=["360x740", "740x360"])
def test_the_end_is_a_finished_view_with_a_rating_that_is_saved(serving, browser, metrics):
    url, folder, *_ = serving
    token = url.rstrip("/").rsplit("/", 1)[1]
    rating = RatingServer(folder, token, key="k-123")
    screen(browser, metrics)
    try:
        session = open_session(browser, rating.url, MORNING)
        play_to_the_end(browser, session)
        assert browser.execute_script("return document.getElementById('focus').hidden")
        seen = browser.find_element("id", "finished").text
        assert "Well done" in seen and session["title"] in seen
        assert text(browser, "announce") == "Finished. Well done."  # said once, in the live region
        assert text(browser, "done-length") == clock(round(session["duration"]) - 0.5)
        wait_for(browser, "!document.getElementById('rating').hidden")
        buttons = browser.find_elements("css selector", "#ratings button")
        assert [b.text for b in buttons] == [str(n) for n in range(11)]
        assert all(b.rect["height"] >= 44 and b.rect["width"] >= 40 for b in buttons)  # a finger's size
        keep(browser, f"finished-{metrics['width']}.png")
        buttons[7].click()
        wait_for(browser, "document.getElementById('rate-note').textContent")
        assert rating.posted == [("application/json", {"session": MORNING, "rating": 7, "key": "k-123"})]
        assert text(browser, "rate-note") == "Saved" and buttons[7].get_attribute("aria-pressed") == "true"
        rating.answer = 500  # not saved: said, and nothing blocks
        buttons[3].click()
        wait_for(browser, "document.getElementById('rate-note').textContent.startsWith('Could not')")
        assert len(rating.posted) == 2 and buttons[3].get_attribute("aria-pressed") == "true"
        browser.find_element("id", "again").click()  # and a new start from there
        wait_for(browser, "!document.getElementById('audio').paused")
        assert browser.execute_script("return document.getElementById('finished').hidden")
        assert browser.execute_script("return document.getElementById('audio').currentTime") < 5
        browser.execute_script("document.getElementById('audio').pause()")
    finally:
        screen(browser, PHONE)
        rating.close()


def test_a_rating_tapped_on_the_phone_is_a_row_of_the_practice_log(serving, browser):
    """The real `serve` (its rating endpoint, not a stand-in), the page on a LAN-like address, the
    row read back from the SQLite file serve writes to."""
    import sqlite3

    url, *_ = serving
    log = Path(os.environ["XDG_DATA_HOME"]) / "voiceguide" / "practice.sqlite3"  # serve's, as the suite sets it

    def rows() -> list[tuple]:
        if not log.exists():
            return []
        with closing(sqlite3.connect(log)) as db, db:
            return db.execute("SELECT routine, rating, source, finished FROM plays WHERE source = 'phone'").fetchall()

    before = rows()
    session = open_session(browser, lan(url), MORNING)
    play_to_the_end(browser, session)
    wait_for(browser, "!document.getElementById('rating').hidden")
    browser.find_elements("css selector", "#ratings button")[4].click()
    wait_for(browser, "document.getElementById('rate-note').textContent")
    assert text(browser, "rate-note") == "Saved"
    assert rows() == [*before, (MORNING, 4, "phone", 1)]


def test_without_a_rating_key_the_finished_view_has_no_rating_buttons(serving, browser):
    """A static --site folder or a server without ratings: the key cannot be had, so no buttons."""
    url, folder, *_ = serving
    token = url.rstrip("/").rsplit("/", 1)[1]
    rating = RatingServer(folder, token, key=None)
    try:
        session = open_session(browser, rating.url, MORNING)
        play_to_the_end(browser, session)
        time.sleep(0.5)  # the key's answer has come
        assert "Well done" in browser.find_element("id", "finished").text
        assert browser.execute_script("return document.getElementById('rating').hidden")
        assert rating.posted == []
    finally:
        rating.close()


def test_tapping_a_chapter_jumps_there(serving, browser):
    url, folder, *_ = serving
    session = open_session(browser, lan(url), ROUTINE)
    buttons = browser.find_elements("css selector", "#chapters button")
    assert [b.text.split("\n")[0] for b in buttons] == [c["title"] for c in session["chapters"]]
    browser.execute_script("arguments[0].scrollIntoView()", buttons[4])
    buttons[4].click()
    start = session["chapters"][4]["startTime"]
    # Chromium keeps media time in microseconds: a seek to 267.65 reads back 267.649998
    wait_for(browser, f"document.getElementById('audio').currentTime >= {start} - 0.001")
    browser.execute_script("document.getElementById('audio').pause();")
    assert "current" in buttons[4].get_attribute("class")
    browser.find_element("id", "nextch").click()  # as the lock screen's next button does
    wait_for(browser, f"document.getElementById('audio').currentTime >= {session['chapters'][5]['startTime']} - 0.001")
    assert "current" in buttons[5].get_attribute("class")
    now = session["chapters"][5]["startTime"]  # where the next button went
    assert text(browser, "step") == next(f["step"] for f in reversed(session["frames"]) if f["t"] <= now + 0.01)
    browser.find_element("id", "prev").click()  # back, within 3 s of a chapter's start: the one before
    wait_for(browser, f"Math.abs(document.getElementById('audio').currentTime - {start}) < 0.01")


def test_seeking_into_step_3_shows_its_name_and_countdown_and_the_lock_screen_its_chapter(serving, browser):
    url, *_ = serving
    session = open_session(browser, lan(url), ROUTINE)
    frame = next(f for f in session["frames"] if f["n"] == 3 and f["end"] and f["end"] - f["t"] >= 3
                 and not (f["count"] or "").startswith("Rep"))
    browser.execute_script("document.getElementById('audio').play();")
    wait_for(browser, "document.getElementById('audio').currentTime > 0.3")  # it plays
    now = seek(browser, frame["t"] + (frame["end"] - frame["t"]) / 2)
    assert frame["t"] <= now < frame["end"]  # the seek landed (ranges work) and stayed in the stretch
    assert text(browser, "step") == frame["step"]
    assert text(browser, "big") == clock(frame["end"] - now)
    assert text(browser, "next") == f"Next: {frame['next']}"
    chapter = [c for c in session["chapters"] if c["startTime"] <= now][-1]
    assert browser.execute_script("return navigator.mediaSession.metadata.title") == chapter["title"]


def test_the_page_at_desktop_width(serving, browser):
    url, *_ = serving
    screen(browser, DESKTOP)
    try:
        open_session(browser, lan(url), ROUTINE)
        at = layout(browser)
        assert at["scroll_width"] <= 1280 and at["step"]["bottom"] <= at["bar"] and at["big"]["bottom"] <= at["bar"]
        keep(browser, "session-desktop.png")
    finally:
        screen(browser, PHONE)


def test_the_token_and_the_feed_that_holds_it_are_the_owners_alone(tmp_path):
    folder = tmp_path / "new-site"  # serve makes it
    process, url, _ = start_serving(folder, "standing-reset")
    try:
        made(url)
        token = url.rstrip("/").rsplit("/", 1)[1]
        assert token.encode() in (folder / "feed.xml").read_bytes()
        assert (folder.stat().st_mode & 0o777) == 0o700
        for name in (".voiceguide-token", "feed.xml"):
            assert (folder / name).stat().st_mode & 0o077 == 0, name
        for name in ("index.html", "library.json", "standing-reset.mp3", "standing-reset.json"):
            assert token.encode() not in (folder / name).read_bytes(), name  # nothing else holds it
    finally:
        stop(process)
