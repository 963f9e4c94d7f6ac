"""Stage 2, samples: a plan mixed to int16 audio at -16 LUFS, block by block, with its cue sounds and bed.

Offers the layers above: ``mix`` (``Renderer``: any range of a session rendered on its own),
``loudness`` (the BS.1770 meter, the limiter, the ``Levels`` a session is mixed at) with
``event_sums`` (the meter's sums of a session without a bed, from its events), ``sounds``
(the cue sounds, made or read from a script's files), ``bed`` (the beds under the voice) with
``duck`` (their gain curve read from the plan), ``kinds`` (an event heard as speech or a sound),
``decode`` (a script's own audio files, read with ffmpeg, their length checked before they are
decoded) and ``dsp`` (the filters under them, numpy only).

Nothing is imported here: each user loads the module it needs (the speech stage needs only ``dsp``).
"""

__all__ = ["bed", "decode", "dsp", "duck", "event_sums", "kinds", "loudness", "mix", "sounds"]
