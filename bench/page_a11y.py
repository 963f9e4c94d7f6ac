"""The phone page through axe-core, as a phone on the LAN sees it: a manual check, not a test.

axe-core comes from npm, which the test machines do not have (Debian's npm is hundreds of packages
for one file), and tests never use the network; so this runs by hand, after

    npm install --prefix ~/.cache/voiceguide-bench axe-core

(or give its ``axe.min.js`` as AXE_JS).  It serves ``morning`` with the test voice on 127.0.0.1,
opens the page in headless Chromium as a 360x740 and a 740x360 phone at http://phone.lan:PORT/...
(mapped to 127.0.0.1, so not a secure context), and runs axe on the library, the session before
play, while playing (reps), and the finished view.  It prints every violation with its impact and
exits 1 when any is serious or critical.

    .venv/bin/python bench/page_a11y.py
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
AXE_JS = Path(os.environ.get("AXE_JS", Path.home() / ".cache/voiceguide-bench/node_modules/axe-core/axe.min.js"))
SIZES = {"360x740": (360, 740), "740x360": (740, 360)}


def serve(folder: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "serve", "morning", "--voice", "test", "--host", "127.0.0.1",
         "--port", "0", "--site", str(folder)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip().startswith("http://"):
            return process, line.strip().replace("127.0.0.1", "phone.lan")
    raise SystemExit("serve ended before giving an address")


def main() -> int:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not AXE_JS.is_file():
        raise SystemExit(f"no axe-core at {AXE_JS}: npm install --prefix ~/.cache/voiceguide-bench axe-core")
    axe = AXE_JS.read_text()
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--autoplay-policy=no-user-gesture-required",
                 "--host-resolver-rules=MAP phone.lan 127.0.0.1"):
        options.add_argument(flag)
    serious = 0
    with tempfile.TemporaryDirectory() as folder:
        process, url = serve(Path(folder))
        driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
        try:
            version = None
            for name, (width, height) in SIZES.items():
                driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                       {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True})
                views = [("library", url, None), ("session, before play", url + "#morning", None),
                         ("session, playing", url + "#morning", 160.0), ("finished", url + "#morning", "end")]
                for view, address, at in views:
                    driver.get("about:blank")
                    driver.get(address)
                    time.sleep(1.5)
                    if at == "end":
                        driver.execute_script("const a = document.getElementById('audio'); a.muted = true; "
                                              "a.currentTime = a.duration - 0.5; a.play();")
                        time.sleep(2.5)
                    elif at is not None:
                        driver.execute_script(f"const a = document.getElementById('audio'); a.muted = true; "
                                              f"a.currentTime = {at}; a.play();")
                        time.sleep(2)
                    driver.execute_script(axe)
                    result = driver.execute_async_script(
                        "const done = arguments[arguments.length - 1];"
                        "axe.run(document).then((r) => done(JSON.stringify({version: r.testEngine.version, "
                        "violations: r.violations.map((v) => ({id: v.id, impact: v.impact, nodes: v.nodes.length})),"
                        "passes: r.passes.length, incomplete: r.incomplete.map((v) => v.id)})));")
                    found = json.loads(result)
                    version = found["version"]
                    counted = {impact: sum(v["impact"] == impact for v in found["violations"])
                               for impact in ("critical", "serious", "moderate", "minor")}
                    serious += counted["critical"] + counted["serious"]
                    print(f"{name} {view}: {found['passes']} rules pass; violations {counted}; "
                          f"to check by hand: {', '.join(found['incomplete']) or 'none'}")
                    for v in found["violations"]:
                        print(f"    {v['impact']}: {v['id']} ({v['nodes']} elements)")
            print(f"axe-core {version}, {'no' if not serious else serious} serious or critical violations")
        finally:
            driver.quit()
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
    return 1 if serious else 0


if __name__ == "__main__":
    sys.exit(main())
