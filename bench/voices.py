"""Voice benchmark (``make bench``): the natural voices side by side, measured the same way; not a test.

Every built-in routine is exported with each voice (``VOICES``) from an empty speech cache, in a
fresh process, as a user's first export is.  Then, with the same tools for every voice:

- intelligibility: each speech event is cut from the decoded MP3 at its plan times and heard by
  pocketsphinx, freely (word error rate against the text, with its own language model) and
  constrained to the routine's own prompts (the share of cues heard as exactly themselves, as
  ``tests/test_heard.py`` does).  Cues with words the listener's dictionary lacks (digits) are
  left out of both, for every voice alike;
- timing: where each utterance sits in the decoded MP3 (by correlation with its own audio, as
  ``tests/test_hibari.py`` does) against the plan; the contract allows 20 ms;
- cost: cold export time, the first utterance's time in a fresh process (import, model load,
  "Rest."), speed (times real time), and how far ahead of the session the speaker thread of
  ``play`` makes each utterance from an empty cache (``play/live.py``): the smallest lead,
  counting the session from the moment its first utterance is made (playback cannot start sooner;
  it starts a little later, once the first block is mixed, so the real lead is a little larger).

Figures are printed against the first voice (Piper, the baseline) measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from listener import LISTEN_RATE, prompt_decoder, recognise, transcribe, unknown_words, words  # noqa: E402

VOICES = ("piper", "hibari")
ROUTINES = ("standing-reset", "sitting-reset", "gentle-relief", "hip-hinge", "lower-back-and-hips")
LIVE_ROUTINE = "lower-back-and-hips"
MARGIN_S = 0.15
SEARCH_S = 0.06
REPEATS = 3


@dataclass
class Tally:
    """One voice's figures, summed over the routines."""

    export_s: dict[str, float] = field(default_factory=dict)
    words: int = 0
    word_errors: int = 0
    cues: int = 0
    cues_heard: int = 0
    placement_ms: list[float] = field(default_factory=list)
    speech_s: float = 0.0


def run(*args: str, cache: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "voiceguide", "--cache-dir", str(cache), *args],
                          cwd=REPO, check=True, capture_output=True, text=True)


def decoded(path: Path, rate: int) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "1", "-ar", str(rate), "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype="<f4")


def edit_distance(a: list[str], b: list[str]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def placed(pcm: np.ndarray, at: int, own: np.ndarray, rate: int) -> int:
    head = own[: int(0.4 * rate)].astype(np.float64)
    lags = np.arange(-int(SEARCH_S * rate), int(SEARCH_S * rate) + 1)
    scores = [float(np.dot(pcm[at + lag : at + lag + len(head)], head)) for lag in lags]
    return at + int(lags[int(np.argmax(scores))])


def measure_routine(voice: str, routine: str, workdir: Path, tally: Tally, free) -> None:
    from voiceguide.voice.speech import Speech

    cache = workdir / f"cache-{voice}-{routine}"
    target = workdir / f"{routine}-{voice}.mp3"
    started = time.perf_counter()
    run("export", routine, "--voice", voice, "-o", str(target), cache=cache)
    tally.export_s[routine] = time.perf_counter() - started
    plan = json.loads(run("plan", routine, "--voice", voice, "--json", cache=cache).stdout)  # the export's lengths
    rate = plan["sample_rate"]
    heard, exact = decoded(target, LISTEN_RATE), decoded(target, rate)
    speech = [e for e in plan["events"] if e["kind"] == "speech"]
    prompts = sorted({e["text"] for e in speech})
    listenable = [p for p in prompts if not unknown_words([p], free)]
    constrained = prompt_decoder(listenable, sequence=False)
    with Speech(voice, cache_dir=cache, sample_rate=rate) as own:
        for event in speech:
            start = int(event["start"] * rate)
            tally.placement_ms.append(1000 * (placed(exact, start, own.audio(event["text"]), rate) - start) / rate)
            tally.speech_s += event["end"] - event["start"]
            if event["text"] not in listenable:
                continue
            a, b = int((event["start"] - MARGIN_S) * LISTEN_RATE), int((event["end"] + MARGIN_S) * LISTEN_RATE)
            cut = heard[max(a, 0) : b]
            reference = words(event["text"])
            tally.words += len(reference)
            tally.word_errors += edit_distance(reference, transcribe(cut, LISTEN_RATE, free).split())
            tally.cues += 1
            tally.cues_heard += recognise(cut, LISTEN_RATE, listenable, decoder=constrained) == " ".join(reference)


def first_utterance_s(voice: str) -> float:
    """A fresh process: import the engine, load its voice, say "Rest." (best of ``REPEATS``)."""
    code = ("import time; t = time.perf_counter()\n"
            "from voiceguide.voice.engines import get_engine_class, VoiceSettings\n"
            f"get_engine_class({voice!r})().synthesize('Rest.', VoiceSettings())\n"
            "print(time.perf_counter() - t)")
    return min(float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                                    cwd=REPO).stdout) for _ in range(REPEATS))


def speed_x(voice: str) -> float:
    from voiceguide.voice.catalog import measure_speed
    from voiceguide.voice.engines import VoiceSettings, get_engine_class

    engine = get_engine_class(voice)()
    try:
        return max(measure_speed(engine, VoiceSettings()) for _ in range(REPEATS))
    finally:
        engine.close()


def live_lead_s(voice: str, workdir: Path) -> tuple[float, float, int]:
    """(smallest lead of an utterance over the session, the first utterance's time, utterances late).

    Playback cannot start before the first utterance is made, so the session's clock starts then
    (at the earliest: the player also mixes its first block); an utterance's lead is when the
    session reaches it less when it was made.
    """
    from voiceguide import session
    from voiceguide.script.settings import Overrides

    made_at: dict[str, float] = {}
    started = time.perf_counter()
    live = session.prepare_live(LIVE_ROUTINE, Overrides(voice=voice), cache_dir=workdir / f"live-{voice}")
    done = threading.Event()

    def watch() -> None:  # notes when each text's finished audio appears
        while not done.is_set():
            now = time.perf_counter() - started
            for text in list(live.speech._memo):
                made_at.setdefault(text, now)
            time.sleep(0.002)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    plan = live.when(lambda plan: False)  # the settled plan: every utterance made
    done.set()
    watcher.join()
    live.close()
    for text in list(live.speech._memo):
        made_at.setdefault(text, time.perf_counter() - started)
    speech = [e for e in plan.events if e.kind == "speech"]
    playing_from = made_at[live.speech._ear(speech[0].text)]
    leads = [playing_from + e.start / plan.sample_rate - made_at[live.speech._ear(e.text)] for e in speech[1:]]
    return min(leads), playing_from, sum(lead < 0 for lead in leads)


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    from run import machine

    print(f"machine: {machine()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    tallies = {voice: Tally() for voice in VOICES}
    with tempfile.TemporaryDirectory(prefix="voiceguide-voices-") as tmp:
        workdir = Path(tmp)
        from pocketsphinx import Decoder

        free = Decoder(samprate=LISTEN_RATE, loglevel="FATAL")  # loaded once: about 0.9 s each
        for routine in ROUTINES:  # voices interleaved, so a busy spell on the machine hits both
            for voice in VOICES:
                measure_routine(voice, routine, workdir, tallies[voice], free)
        firsts = {voice: first_utterance_s(voice) for voice in VOICES}
        speeds = {voice: speed_x(voice) for voice in VOICES}
        lives = {voice: live_lead_s(voice, workdir) for voice in VOICES}
    base = VOICES[0]
    rows = [
        ("word error, free transcription (lower is better)",
         lambda t: t.word_errors / t.words, lambda v: f"{v:.1%}"),
        ("cues heard as themselves among the routine's prompts",
         lambda t: t.cues_heard / t.cues, lambda v: f"{v:.1%}"),
        ("utterance placement in the MP3, largest error either way (contract: 20 ms)",
         lambda t: max(map(abs, t.placement_ms)), lambda v: f"{v:.1f} ms"),
        ("speech in the five routines", lambda t: t.speech_s, lambda v: f"{v / 60:.1f} min"),
        ("cold export, all five routines", lambda t: sum(t.export_s.values()), lambda v: f"{v:.1f} s"),
        (f"cold export, {LIVE_ROUTINE}", lambda t: t.export_s[LIVE_ROUTINE], lambda v: f"{v:.1f} s"),
    ]
    print(f"\n| measure | {' | '.join(VOICES)} | {VOICES[1]} / {base} |\n| --- |{' --- |' * (len(VOICES) + 1)}")
    for label, value, shown in rows:
        values = [value(tallies[voice]) for voice in VOICES]
        ratio = f"{values[1] / values[0]:.2f}x" if values[0] else "-"
        print(f"| {label} | {' | '.join(shown(v) for v in values)} | {ratio} |")
    extra = [
        ("first utterance in a fresh process (import, load, \"Rest.\")", firsts, lambda v: f"{v:.2f} s"),
        ("speed, times real time (best of 3)", speeds, lambda v: f"{v:.0f}x"),
        (f"`play {LIVE_ROUTINE}`, cold cache: smallest lead of a later utterance", {v: lives[v][0] for v in VOICES},
         lambda v: f"{v:.1f} s"),
        ("... first utterance made after (play starts then)", {v: lives[v][1] for v in VOICES}, lambda v: f"{v:.2f} s"),
        ("... utterances made after their time", {v: lives[v][2] for v in VOICES}, lambda v: f"{v}"),
    ]
    for label, by_voice, shown in extra:
        values = [by_voice[voice] for voice in VOICES]
        ratio = f"{values[1] / values[0]:.2f}x" if values[0] else "-"
        print(f"| {label} | {' | '.join(shown(v) for v in values)} | {ratio} |")
    cues = {voice: tallies[voice].cues for voice in VOICES}
    print(f"\ncues listened to: {cues} (those without digits); words: {tallies[base].words}")


if __name__ == "__main__":
    main()
