"""Text made for the ear: what scripts say for the eye becomes words, and markup never reaches an engine."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voiceguide.voice.text import for_the_ear


@pytest.mark.parametrize(
    ("script", "spoken"),
    [
        ("Do 20-30 reps", "Do 20 to 30 reps"),
        ("Hold 20–30 seconds", "Hold 20 to 30 seconds"),
        ("2.5-3 minutes", "2.5 to 3 minutes"),
        ("3 × 10", "3 times 10"),
        ("3x10, twice", "3 times 10, twice"),
        ("Repeat 10×", "Repeat 10 times"),
        ("Do it 2x a day", "Do it 2 times a day"),
        ("50% effort", "50 percent effort"),
        ("Bend to 90°", "Bend to 90 degrees"),
        ("Knees & hips", "Knees and hips"),
        ("Rest — then go", "Rest, then go"),
        ("Rest -- then go", "Rest, then go"),
        ("Reach up - and down", "Reach up, and down"),
        ("Breathe in… and out", "Breathe in, and out"),
        ("Breathe in... and out...", "Breathe in, and out"),
        ("“Quote” and it’s", "\"Quote\" and it's"),
        ("warm-up stays", "warm-up stays"),
        ("1,000 steps", "1,000 steps"),
        ("  lots   of\n\tspace ", "lots of space"),
    ],
)
def test_written_for_the_eye_is_spoken_as_words(script, spoken):
    assert for_the_ear(script) == spoken


@pytest.mark.parametrize(
    ("script", "spoken"),
    [
        ('<speak>Lie down <break time="1s"/> and rest.</speak>', "Lie down, and rest."),
        ("Bend <emphasis level='strong'>your</emphasis> knees", "Bend your knees"),
        ('<?xml version="1.0"?><speak>Hi</speak>', "Hi"),
        ("<!-- a note --> Rest.", "Rest."),
        ("&lt;break/&gt; Rest &amp; relax", "Rest and relax"),
        ("Say [[h@'loU]] now", "Say h 'loU now"),  # Piper's raw phonemes; macOS's [[rate 50]] commands
        ("[[rate 50]] Slowly", "rate 50 Slowly"),
        ("{side} leg", "side leg"),
        ("<break/>", ""),
    ],
)
def test_markup_is_dropped_or_spoken_never_passed_on(script, spoken):
    assert for_the_ear(script) == spoken


@given(st.text())
def test_any_text_reaches_an_engine_without_markup_characters(text):
    spoken = for_the_ear(text)
    assert not set(spoken) & set("<>[]{}\\")
    assert spoken == spoken.strip() and "  " not in spoken


@given(st.text(alphabet=st.sampled_from(list("ab 12-–—x×%°.…,<>/[]{}&;'’“\"\n"))) | st.text())
def test_making_text_for_the_ear_twice_changes_nothing(text):
    once = for_the_ear(text)
    assert for_the_ear(once) == once
