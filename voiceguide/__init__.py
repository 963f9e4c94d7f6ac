"""voiceguide: exercise routine scripts in, voice-guided audio out.

The sub-packages are the pipeline's stages, in the order data flows: ``script`` (YAML -> Routine),
``voice`` (text -> audio), ``timeline`` (Routine -> a Plan placed to the sample), ``audio`` (the
plan mixed to samples), then the outputs: ``export`` (files), ``play`` (the live player) and
``phone`` (the page, feed and server).  ``session`` runs them in order.
"""

from .errors import VoiceguideError
from .script.routine import Routine
from .timeline.plan import Plan

__all__ = ["Plan", "Routine", "VoiceguideError"]
__version__ = "0.1.0"
