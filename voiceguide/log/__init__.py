"""The practice log: one row per play in an SQLite file in the user's data folder.

``store`` is the database (where it is, its schema and migrations, the checks that keep a damaged
or newer file untouched, writes that two processes can make at once); ``table`` shows it (``voiceguide
log``, ``--csv``); ``rating`` is the one question after a finished play.  It knows nothing of
routines or players: the layers above hand it plain rows.
"""

from .rating import RATING_QUESTION, ask_rating, parse_rating
from .store import SCHEMA_VERSION, Entry, LogError, PracticeLog, default_path, local_now
from .table import log_table, ratings_chart, write_csv

__all__ = [
    "RATING_QUESTION", "SCHEMA_VERSION", "Entry", "LogError", "PracticeLog", "ask_rating", "default_path",
    "local_now", "log_table", "parse_rating", "ratings_chart", "write_csv",
]
