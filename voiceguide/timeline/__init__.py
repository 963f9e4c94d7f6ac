"""Stage 4, the timeline: a ``Routine`` laid out as a ``Plan``, every event placed to the sample.

Offers the layers above the plan as data (``Plan``, ``Event``, ``Chapter``, ``Role``, ``EventKind``,
``Lengths``, re-exported from ``events``) and its builder (``build_plan``, from ``plan``), which
``voiceguide --help`` loads anyway; and, by module: ``fit`` (ranges chosen so a session lasts its
target) with ``search`` (its dynamic programming), ``guide`` (where a session is at any sample,
for every screen), ``report`` (plans as text) and ``clock``.  The words the plan says are
``script.words``'s.
"""

from .events import Chapter, Event, EventKind, Lengths, Plan, Role
from .plan import build_plan

__all__ = ["Chapter", "Event", "EventKind", "Lengths", "Plan", "Role", "build_plan", "clock", "events", "fit",
           "guide", "plan", "report", "search"]
