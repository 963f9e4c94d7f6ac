"""Import benchmark (``make bench``): how long `voiceguide import` takes for a page, not a test.

Each figure is the best of ``REPEATS`` runs (other work on a shared machine only ever adds time),
printed against a baseline measured in the same run: reading the built-in ``lower-back-and-hips``
script, the hand-written routine of the same page, with the script reader (``load_routine``).

- the source page (tests/pages/lower-back-and-hips.txt) imported in the process;
- a 20-page PDF, made here from a generated HTML handout by headless Chromium's ``--print-to-pdf``
  (80 exercises; the figure per page is the total over 20);
- the whole command as a user runs it (``voiceguide import PAGE``, a new Python each time) against
  ``voiceguide check lower-back-and-hips --voice test``, with ``voiceguide --version`` beside it: the
  part of any command that is starting Python and the package.

The target: well under a second for a page.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from voiceguide.page import import_page  # noqa: E402
from voiceguide.page.quantities import _read_facts  # noqa: E402
from voiceguide.script.library import find_routine  # noqa: E402
from voiceguide.script.parse import load_routine  # noqa: E402

REPEATS = 5
SOURCE = REPO / "tests" / "pages" / "lower-back-and-hips.txt"
PAGES = 20
MOVES = [("Figure-four stretch", "Lie on your back and cross one ankle over the opposite knee.",
          "Hold 30-45 seconds each side."),
         ("Clamshells", "Lie on your side with your knees bent. Lift the top knee, then lower it.",
          "12-15 reps each side."),
         ("Glute bridge", "Press through your heels and lift your hips. Lower with control.",
          "Repeat 10 times. Complete 2 sets."),
         ("Slow breaths", "Sit tall and let your shoulders drop.", "Breathe in for 4 and out for 6, for 8 breaths.")]


def cold_import(page: Path) -> None:
    """One import as a new process makes it: the rules' memory of lines read emptied first."""
    _read_facts.cache_clear()
    import_page(page)


def best_s(work, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def handout_pdf(folder: Path) -> Path:
    """A 20-page PDF handout, printed by headless Chromium from HTML made here."""
    sections = []
    for page in range(1, PAGES + 1):
        moves = "".join(f"<h2>{name} {page}</h2><p>{how}</p><p>{dose}</p>" for name, how, dose in MOVES)
        sections.append(f'<section style="page-break-after: always"><h1>Week {page}</h1>'
                        f"<p>Do these after an easy walk, when the muscles are warm.</p>{moves}</section>")
    html = folder / "handout.html"
    html.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>Handout</title></head>"
                    f"<body>{''.join(sections)}</body></html>", encoding="utf-8")
    pdf = folder / "handout.pdf"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
    subprocess.run([chromium, "--headless=new", "--no-sandbox", "--disable-gpu", f"--print-to-pdf={pdf}",
                    html.as_uri()], check=True, capture_output=True, timeout=120)
    return pdf


def command_s(*args: str) -> float:
    return best_s(lambda: subprocess.run([sys.executable, "-m", "voiceguide", *args], cwd=REPO, check=True,
                                         capture_output=True), repeats=3)


def main() -> None:
    builtin = find_routine("lower-back-and-hips")
    baseline = best_s(lambda: load_routine(builtin))
    source = best_s(lambda: cold_import(SOURCE))
    with tempfile.TemporaryDirectory() as folder:
        pdf = handout_pdf(Path(folder))
        found = len(import_page(pdf).page.exercises)  # type: ignore[union-attr]
        handout = best_s(lambda: cold_import(pdf), repeats=3)
        size_kb = pdf.stat().st_size / 1000
    check = command_s("check", "lower-back-and-hips", "--voice", "test")
    command = command_s("import", str(SOURCE))
    start = command_s("--version")
    print(f"baseline: reading the built-in lower-back-and-hips script {baseline * 1000:.1f} ms (best of {REPEATS})")
    print("| measure | figure | target |\n| --- | --- | --- |")
    print(f"| import the source page, against reading its built-in script | {source * 1000:.1f} ms / "
          f"{baseline * 1000:.1f} ms = **{source / baseline:.2f}x** | well under 1 s: "
          f"{'met' if source < 0.5 else 'missed'} |")
    print(f"| import a {PAGES}-page PDF ({size_kb:.0f} kB, {found} exercises), per page | "
          f"{handout / PAGES * 1000:.1f} ms "
          f"(whole: {handout:.2f} s = **{handout / baseline:.1f}x** the baseline) | well under 1 s a page: "
          f"{'met' if handout / PAGES < 0.5 else 'missed'} |")
    print(f"| `voiceguide import PAGE`, against `voiceguide check lower-back-and-hips --voice test` | "
          f"{command:.2f} s / {check:.2f} s = **{command / check:.2f}x** (starting `voiceguide --version` alone: "
          f"{start:.2f} s) | the import itself under 1 s: {'met' if command - start < 1 else 'missed'} |")


if __name__ == "__main__":
    main()
