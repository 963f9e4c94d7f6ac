"""What the mixer hears a plan's event as: speech (the voice layer) or a cue sound (the sound layer).

The timeline places events of these kinds (``timeline.events`` offers the same ``EventKind``); the
mixer, the loudness meter and the bed's ducking read them here, below the timeline.
"""

from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    """Whether an event is heard as speech or a sound.  A string in the plan's JSON (``kind``)."""

    SPEECH = "speech"
    SOUND = "sound"
