"""Stage 1, scripts: routine YAML in, a ``Routine`` out, every value checked and located.

Offers the layers above the routine as plain values (``Routine``, ``Step``, ``StepKind``, ``Span``,
``Phase``, ``Breathing``, re-exported from ``routine``: every stage reads them), reading it
(``parse``: ``load_routine``, ``read_file``, ``parse_text``, every problem as ``file:line:col``),
finding it (``library``: a path, a name in ./scripts, or a built-in), ``settings`` (how one session
sounds and lasts, resolved once from the script and the choices over it, every default in one
place) and ``words`` (everything the program says itself, one catalogue of templates: here, low
down, because both the timeline and the page importer write with it).  The other modules are
``parse``'s own: ``yamlsafe`` (bytes -> inert YAML nodes), ``fields``, ``include`` and ``checks``.

Only ``routine`` is imported here: reading YAML loads PyYAML, which ``voiceguide --help`` must not.
"""

from .routine import Breathing, Phase, Routine, Span, Step, StepKind

__all__ = ["Breathing", "Phase", "Routine", "Span", "Step", "StepKind", "library", "parse", "routine", "settings",
           "words"]
