"""`voiceguide serve` as a user runs it, and its page in a real browser (headless Chromium at 360x740)."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from helpers import REPO

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
ROUTINE = "lower-back-and-hips"
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
    process, url, lines = start_serving(folder, ROUTINE, "standing-reset")
    yield url, folder, lines, process
    if process.poll() is None:
        stop(process)


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read()


def test_serve_prints_the_address_and_feed_and_serves_them(serving):
    url, folder, lines, _ = serving
    assert lines[0] == "Serving 2 sessions (Ctrl-C stops):"
    assert lines[-1] == f"Podcast feed: {url}feed.xml"
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert len(token) >= 24 and token == (folder / ".voiceguide-token").read_text().strip()
    assert get(url) == (folder / "index.html").read_bytes()
    assert f'url="{url}{ROUTINE}.mp3"'.encode() in get(url + "feed.xml")


def test_ctrl_c_stops_it_cleanly_and_a_second_start_makes_nothing_again(tmp_path):
    process, url, _ = start_serving(tmp_path, "standing-reset")
    assert get(url + "library.json")
    code, err = stop(process)
    assert code == 0 and "stopped serving" in err and "Traceback" not in err
    mp3 = tmp_path / "standing-reset.mp3"
    made_at = mp3.stat().st_mtime_ns
    process, again, _ = start_serving(tmp_path, "standing-reset")
    try:
        assert again.split("/")[3] == url.split("/")[3]  # the same token: subscriptions keep working
        assert mp3.stat().st_mtime_ns == made_at
    finally:
        stop(process)


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
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    screen(driver, PHONE)
    yield driver
    driver.quit()


PHONE = {"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": True}
DESKTOP = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}


def screen(driver, metrics: dict) -> None:
    """The viewport of a phone or a desktop: a headless window is never narrower than 500 px, so
    ``--window-size=360,740`` alone gives a 500 px page; the DevTools emulation gives the real 360."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


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


def test_the_library_lists_the_sessions_and_fits_a_phone(serving, browser):
    url, *_ = serving
    browser.get(url)
    wait_for(browser, "document.querySelectorAll('#sessions li').length == 2")
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
    assert len(browser.find_elements("css selector", "#sessions li")) == 2


def test_a_session_plays_and_seeking_into_step_3_shows_its_name_and_countdown(serving, browser):
    url, folder, *_ = serving
    session = json.loads((folder / f"{ROUTINE}.json").read_text())
    # a stretch of step 3 with a countdown of a few seconds at least
    frame = next(f for f in session["frames"] if f["n"] == 3 and f["end"] and f["end"] - f["t"] >= 3)
    browser.get(url + "#" + ROUTINE)
    wait_for(browser, "document.getElementById('chapters').children.length > 0")
    browser.execute_script("const a = document.getElementById('audio'); a.muted = true; a.play();")
    wait_for(browser, "document.getElementById('audio').currentTime > 0.3")  # it plays

    target = frame["t"] + (frame["end"] - frame["t"]) / 2
    browser.execute_script(f"document.getElementById('audio').currentTime = {target};")
    wait_for(browser, "!document.getElementById('audio').seeking")
    assert text(browser, "step") == frame["step"]  # while it plays
    browser.execute_script("document.getElementById('audio').pause();")
    wait_for(browser, "document.getElementById('audio').paused")
    time.sleep(0.3)
    now = browser.execute_script("return document.getElementById('audio').currentTime")
    assert frame["t"] <= now < frame["end"]  # the seek landed (ranges work) and stayed in the stretch
    assert text(browser, "step") == frame["step"]
    assert text(browser, "stepno") == f"Step 3 of {session['steps']}"
    assert text(browser, "label") == frame["label"]
    assert text(browser, "countdown") == clock(frame["end"] - now)
    assert text(browser, "rep") == (frame["count"] or "")
    assert text(browser, "next") == f"Next: {frame['next']}"
    chapter = [c for c in session["chapters"] if c["startTime"] <= now][-1]
    assert browser.execute_script("return navigator.mediaSession.metadata.title") == chapter["title"]
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 360
    keep(browser, "session-360.png")


def test_tapping_a_chapter_jumps_there(serving, browser):
    url, folder, *_ = serving
    session = json.loads((folder / f"{ROUTINE}.json").read_text())
    browser.get(url + "#" + ROUTINE)
    wait_for(browser, "document.getElementById('chapters').children.length > 0")
    browser.execute_script("document.getElementById('audio').muted = true;")
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


def test_the_page_at_desktop_width(serving, browser):
    url, *_ = serving
    screen(browser, DESKTOP)
    try:
        browser.get(url + "#" + ROUTINE)
        wait_for(browser, "document.getElementById('chapters').children.length > 0")
        view = browser.execute_script("return document.querySelector('.player').getBoundingClientRect()")
        toc = browser.execute_script("return document.querySelector('.toc').getBoundingClientRect()")
        assert toc["left"] > view["right"] and toc["top"] == view["top"]  # side by side
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 1280
        keep(browser, "session-desktop.png")
    finally:
        screen(browser, PHONE)


def test_the_token_and_the_feed_that_holds_it_are_the_owners_alone(tmp_path):
    folder = tmp_path / "new-site"  # serve makes it
    process, url, _ = start_serving(folder, "standing-reset")
    try:
        token = url.rstrip("/").rsplit("/", 1)[1]
        assert token.encode() in (folder / "feed.xml").read_bytes()
        assert (folder.stat().st_mode & 0o777) == 0o700
        for name in (".voiceguide-token", "feed.xml"):
            assert (folder / name).stat().st_mode & 0o077 == 0, name
        for name in ("index.html", "library.json", "standing-reset.mp3", "standing-reset.json"):
            assert token.encode() not in (folder / name).read_bytes(), name  # nothing else holds it
    finally:
        stop(process)
