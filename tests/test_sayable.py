"""Text the voice cannot say (Hebrew, Arabic for the default hibari) is found before any speech is
made, at its ``file:line:col``, with the voices that can say it.  Real hibari: the point is what it
can and cannot say."""

from __future__ import annotations

import pytest
from helpers import run_voiceguide

from voiceguide.voice.engines.base import unread_letters
from voiceguide.voice.engines.hibari import READS

pytestmark = pytest.mark.real

HEBREW = "title: Shalom\ncaution: false\nsteps:\n  - name: Breathe\n    say: Breathe in, שָׁלוֹם, and out.\n"
HINT = "speak this routine with a voice that can: --voice system:{code} (espeak-ng; `voiceguide voices` lists its " \
       "languages), or a Piper voice in {language} (--voice piper:/path/to/voice.onnx)"


def test_check_locates_hebrew_and_says_which_voice_can_say_it(tmp_path):
    script = tmp_path / "shalom.yaml"
    script.write_text(HEBREW)
    done = run_voiceguide("check", str(script), "--voice", "hibari")
    assert done.returncode == 1
    assert done.stderr == (f"{script}:5:22: the hibari:heart voice cannot say Hebrew text ('שָׁלוֹם'); "
                           f"{HINT.format(code='he', language='Hebrew')}\n")


def test_export_locates_arabic_in_an_included_script_and_writes_nothing(tmp_path):
    (tmp_path / "part.yaml").write_text("title: Part\ncaution: false\nsteps:\n  - name: مرحبا\n    hold: 4\n")
    script = tmp_path / "main.yaml"
    script.write_text("title: Main\ncaution: false\nsteps:\n  - include: part.yaml\n")
    out = tmp_path / "out.mp3"
    done = run_voiceguide("export", str(script), "--voice", "hibari", "-o", str(out))
    assert done.returncode == 1
    assert done.stderr == (f"{tmp_path / 'part.yaml'}:4:11: the hibari:heart voice cannot say Arabic text "
                           f"('مرحبا'); {HINT.format(code='ar', language='Arabic')}\n")
    assert not out.exists()


def test_the_voice_it_names_can_say_it(tmp_path):
    script = tmp_path / "shalom.yaml"
    script.write_text(HEBREW)
    done = run_voiceguide("export", str(script), "--voice", "system:he", "-o", str(tmp_path / "out.mp3"))
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("text, part", [
    ("Café, naïve, Straße, Ærø", None),
    ("Привет, Γειά σου, Բարեւ, გამარჯობა", None),  # hibari says these (measured)
    ("Hello שלום there", "שלום"),
    ("Hold 你好 now", "你好"),
    ("µ and ª and ½", None),
])
def test_hibari_reads_the_alphabets_it_says(text, part):
    assert unread_letters(text, READS) == part


def test_play_says_so_before_it_looks_for_a_sound_device(tmp_path):
    script = tmp_path / "shalom.yaml"
    script.write_text(HEBREW)
    done = run_voiceguide("play", str(script), "--voice", "hibari")
    assert done.returncode == 1
    assert done.stderr == (f"{script}:5:22: the hibari:heart voice cannot say Hebrew text ('שָׁלוֹם'); "
                           f"{HINT.format(code='he', language='Hebrew')}\n")
