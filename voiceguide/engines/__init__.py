"""Deprecated: the engine contract moved to ``voiceguide.voice.engines``.

Third-party engines written against ``voiceguide.engines`` (``from voiceguide.engines import Audio,
Engine, VoiceSettings``) keep working, with a DeprecationWarning; ``voiceguide.engines.piper``,
``.system`` and ``.testing`` still import.  This alias goes away in voiceguide 0.3.
"""

from __future__ import annotations

import sys
import warnings

from ..voice import engines as _engines
from ..voice.engines import *  # noqa: F403 (the alias re-exports the whole contract)
from ..voice.engines import piper, system, testing

warnings.warn("voiceguide.engines moved to voiceguide.voice.engines; import from there "
              "(the old name goes away in voiceguide 0.3)", DeprecationWarning, stacklevel=2)

for _name, _module in {"piper": piper, "system": system, "testing": testing}.items():
    sys.modules[f"{__name__}.{_name}"] = _module
__all__ = list(_engines.__all__)
