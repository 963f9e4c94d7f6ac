"""How one session sounds and lasts, resolved once: the script's values, then each layer of choices
over them (the command line's; a programme's), every default in this one module.

``Settings`` is what a session is made with (``session.Session.settings``): the voice and rate it
is spoken with, the length it is fitted to, the quiet before it, the bed under it, where the bed and
the cue sounds sit against the voice, and the file format.  ``Overrides`` is one layer of choices,
with None for "not said"; ``resolve`` lays the layers over the script.  Nothing else re-reads
options: ``publish`` hashes a ``Settings``, and ``cli`` turns ``Overrides`` back into flags.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Final, Protocol

SAMPLE_RATE: Final = 22050
"""Every session is mixed, played and written at this rate (Piper's medium voices speak at it)."""
DEFAULT_RATE: Final = 1.0
"""Speech-rate multiplier: the voice's own pace."""
DEFAULT_LEAD_IN_S: Final = 0.5
"""Quiet before the first sound, so Bluetooth headphones do not swallow the first word."""
DEFAULT_BED: Final = "brown"
"""The bed ``--bed`` picks when it is given no name: the warmest, least in the way of consonants."""
DEFAULT_BED_LEVEL_LU: Final = -18.0
"""The bed's loudness relative to the voice when nothing is said (under speech it ducks further)."""
DEFAULT_CUE_LEVEL_LU: Final = -12.0
"""Cue sounds' loudness relative to the voice."""
DEFAULT_BITRATE_KBPS: Final = 64
"""MP3 bit rate: speech in mono at 22050 Hz sounds clean at it, and an hour is 29 MB."""


@dataclass(frozen=True)
class Settings:
    """Everything that decides how a session sounds and lasts, resolved (``resolve``)."""

    voice: str | None = None
    """``engine[:voice]`` as ``--voice`` takes it; None: the default engine."""
    rate: float = DEFAULT_RATE
    """Speech-rate multiplier; the exercise timing does not change with it."""
    duration_s: float | None = None
    """The length the ranges are fitted to; None: the middle of every range."""
    lead_in_s: float = DEFAULT_LEAD_IN_S
    """Quiet before the first sound."""
    bed: str | None = None
    """A generated bed's name or an audio file's absolute path; None: no bed."""
    bed_level_lu: float = DEFAULT_BED_LEVEL_LU
    """The bed against the voice between words, LU."""
    cue_level_lu: float = DEFAULT_CUE_LEVEL_LU
    """Cue sounds against the voice, LU."""
    bitrate_kbps: int = DEFAULT_BITRATE_KBPS
    """MP3 bit rate."""
    sample_rate: int = SAMPLE_RATE
    """Samples per second of everything mixed, played and written."""


@dataclass(frozen=True)
class Overrides:
    """One layer of choices over a script (the command line's; a programme's): None is "not said"."""

    voice: str | None = None
    rate: float | None = None
    duration_s: float | None = None
    lead_in_s: float | None = None
    bed: str | None = None
    """A generated bed's name or an audio file's absolute path."""
    bed_level_lu: float | None = None
    cue_level_lu: float | None = None
    bitrate_kbps: int | None = None
    no_bed: bool = False
    """No bed, whatever the layers under this one say."""

    def __post_init__(self) -> None:
        if self.no_bed and self.bed is not None:
            raise ValueError(f"a layer cannot both name a bed ({self.bed!r}) and ask for none")


class Script(Protocol):
    """What a script says about its settings (``routine.Routine``)."""

    @property
    def voice(self) -> str | None: ...
    @property
    def rate(self) -> float: ...
    @property
    def duration(self) -> float | None: ...
    @property
    def bed(self) -> str | None: ...
    @property
    def bed_level(self) -> float: ...
    @property
    def cue_level(self) -> float: ...


NO_OVERRIDES: Final = Overrides()
"""Nothing said: the script's values and the defaults."""
_OVERRIDABLE: Final = tuple(f.name for f in fields(Overrides) if f.name != "no_bed")


def resolve(routine: Script | None, *layers: Overrides) -> Settings:
    """The settings of ``routine``'s session: the script's values, then each layer in order (a later
    one wins), the defaults for whatever none of them says.  ``routine`` None: no script (a voice
    sample), the layers over the defaults."""
    values: dict[str, Any] = {}
    if routine is not None:
        values.update(voice=routine.voice, rate=routine.rate, duration_s=routine.duration, bed=routine.bed,
                      bed_level_lu=routine.bed_level, cue_level_lu=routine.cue_level)
    for layer in layers:
        if layer.no_bed:
            values["bed"] = None
        values.update({name: getattr(layer, name) for name in _OVERRIDABLE if getattr(layer, name) is not None})
    return Settings(**{name: value for name, value in values.items() if value is not None})


def combined(*layers: Overrides) -> Overrides:
    """Several layers as one, a later one winning: ``resolve(s, combined(a, b)) == resolve(s, a, b)``
    (a programme's session options under the command line's, handed on as one layer)."""
    values: dict[str, Any] = {}
    no_bed = False
    for layer in layers:
        if layer.no_bed or layer.bed is not None:
            values.pop("bed", None)
            no_bed = layer.no_bed
        values.update({name: getattr(layer, name) for name in _OVERRIDABLE if getattr(layer, name) is not None})
    return Overrides(**values, no_bed=no_bed)
