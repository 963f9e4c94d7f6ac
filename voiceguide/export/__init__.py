"""Output 1, files: a session written as MP3 (with ID3 chapters) or WAV, playlists and cue sheets.

Offers the layers above ``writer``: every file streamed block by block from the mixer and written
whole or not at all (``write_session`` for one, ``write_all`` for a folder with its M3U playlist,
``write_mp3`` and ``write_wav`` beneath them, the cue sheet beside), and ``pcm_blocks``, a
finished session's samples for anything else that plays one.

Nothing is imported here: the writer loads the mixer and the MP3 encoder.
"""

__all__ = ["writer"]
