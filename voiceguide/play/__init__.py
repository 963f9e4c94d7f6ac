"""Output 2, live play: a session mixed while its speech is made and played on the sound device.

Offers the layers above ``player`` (``play``: a screen and keys, pause, skip, the end told by an
``Ending``), with ``live`` (the plan rebuilt as speech is made, exact up to a frontier that only
moves forward), ``device`` (one buffer for the session and the simpleaudio output), ``keys``,
``screen`` (the terminal view of ``timeline.guide``) and ``resume`` (where a play stopped).

Nothing is imported here: the sound device's library loads only when something plays.
"""

__all__ = ["device", "keys", "live", "player", "resume", "screen"]
