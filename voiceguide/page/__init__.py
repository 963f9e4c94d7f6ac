"""Pages -> routine scripts: an exercise page (text, Markdown, HTML, PDF) read as the routine it describes.

The stages, one module each: ``read`` (a file -> numbered lines, whatever its format, with ``html``
and ``pdf`` for those two), ``quantities`` (the numbers in one line: reps, holds, sides, sets, rounds,
breathing), ``recognise`` (lines -> exercises, cautions and what was left out, by rules you can read,
no language model, no network) and ``write`` (exercises -> a routine script in YAML, each step with a
comment naming its page line and what was assumed).  ``import_page`` runs them in order.
"""

from __future__ import annotations

from .model import Exercise, Group, Line, Page, PageError, Work
from .read import PAGE_SUFFIXES, is_page, read_lines
from .recognise import recognise
from .write import Imported, import_page, write_routine

__all__ = ["PAGE_SUFFIXES", "Exercise", "Group", "Imported", "Line", "Page", "PageError", "Work",
           "import_page", "is_page", "read_lines", "recognise", "write_routine"]
