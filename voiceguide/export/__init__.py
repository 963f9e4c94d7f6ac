"""Files: a session written as MP3 (with chapters) or WAV, playlists and cue sheets."""
