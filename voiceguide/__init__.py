"""voiceguide: exercise routine scripts in, voice-guided audio out.

The pipeline, one module each: ``parse`` (script -> Routine), ``speech`` (engines + cache),
``plan``/``fit`` (Routine -> timed Plan), ``mix`` (Plan -> samples), then ``player`` or ``export``.
"""

from .errors import VoiceguideError
from .script.routine import Routine
from .timeline.plan import Plan

__all__ = ["Plan", "Routine", "VoiceguideError"]
__version__ = "0.1.0"
