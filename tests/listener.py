"""An independent listener for tests: does this audio say these prompts, in this order?

pocketsphinx (its bundled en-us model) is constrained by a JSGF grammar to a sequence of the given
prompts, so it must choose among them; tests pass the right prompts plus wrong distractors and check
the right ones win, in order.  Free transcription of synthetic speech is too rough to assert on
(facts.md).  ``Decoder`` is used directly: pocketsphinx's ``AudioFile`` fails outside the main thread.
"""

from __future__ import annotations

import re

import numpy as np

from voiceguide.voice.speech import resample

LISTEN_RATE = 16000
PAD_S = 0.5
DITHER = 1e-3


def words(prompt: str) -> list[str]:
    """A prompt as the lowercase words the dictionary knows ("Hold for 30 seconds." -> hold for 30 seconds)."""
    return re.findall(r"[a-z']+|\d+", prompt.lower())


def recognise(samples: np.ndarray, sample_rate: int, prompts: list[str], *, sequence: bool = True,
              decoder=None) -> str:
    """The sequence of ``prompts`` heard in ``samples`` (float32 mono), as space-separated lowercase words.

    With ``sequence=False`` the audio must be exactly one of the prompts: the grammar then has no
    way to tack a fragment of another prompt onto the end.  ``decoder``: one from ``prompt_decoder``
    for these prompts, to listen to many cuts without loading the model for each (about 0.9 s).
    """
    return _decoded(decoder or prompt_decoder(prompts, sequence=sequence), samples, sample_rate)


def prompt_decoder(prompts: list[str], *, sequence: bool = True):
    """A pocketsphinx decoder that can only hear ``prompts`` (in sequence, or exactly one)."""
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=LISTEN_RATE, loglevel="FATAL")
    alternatives = sorted({" ".join(words(p)) for p in prompts} - {""})
    unknown = unknown_words(alternatives, decoder)
    if unknown:
        raise ValueError(f"the listener's dictionary lacks {unknown!r}; choose prompts with common words")
    grammar = "#JSGF V1.0;\ngrammar prompts;\npublic <prompts> = ( " + " | ".join(alternatives) + (" )+;\n" if sequence else " );\n")
    decoder.add_jsgf_string("prompts", grammar)
    decoder.activate_search("prompts")
    return decoder


def _decoded(decoder, samples: np.ndarray, sample_rate: int) -> str:
    decoder.start_utt()
    decoder.process_raw(listening_pcm(samples, sample_rate), full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    return hypothesis.hypstr if hypothesis else ""


def unknown_words(prompts: list[str], decoder=None) -> list[str]:
    """The words of ``prompts`` the listener's dictionary does not have (digits, rare names)."""
    if decoder is None:
        from pocketsphinx import Decoder

        decoder = Decoder(samprate=LISTEN_RATE, loglevel="FATAL")
    return sorted({w for p in prompts for w in words(p) if decoder.lookup_word(w) is None})


def transcribe(samples: np.ndarray, sample_rate: int, decoder=None) -> str:
    """Free transcription with pocketsphinx's own language model: rough on synthetic speech, so a
    figure to compare voices by (``bench/voices.py``), not something to assert on.  ``decoder``: a
    plain ``Decoder(samprate=LISTEN_RATE)`` to reuse."""
    if decoder is None:
        from pocketsphinx import Decoder

        decoder = Decoder(samprate=LISTEN_RATE, loglevel="FATAL")
    return _decoded(decoder, samples, sample_rate)


def listening_pcm(samples: np.ndarray, sample_rate: int) -> bytes:
    """float32 mono -> 16 kHz int16 bytes with quiet around it and a fixed noise floor."""
    audio = resample(samples, sample_rate, LISTEN_RATE) if sample_rate != LISTEN_RATE else samples
    quiet = np.zeros(int(PAD_S * LISTEN_RATE), dtype=np.float32)  # the decoder needs silence around speech
    audio = np.concatenate([quiet, audio, quiet])
    # Digital silence (exact zeros) derails the decoder (measured: 2 of 5 espeak cues lost); a fixed
    # -60 dBFS noise floor, like a real room's, makes every cue come through.
    audio = audio + DITHER * np.random.default_rng(0).standard_normal(len(audio)).astype(np.float32)
    return (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()
