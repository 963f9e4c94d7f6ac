"""Stage 3, speech: text in, audio out, from whichever engine speaks it, each utterance made once.

Offers the layers above: ``speech`` (``Speech``: a voice chosen, each text made for the ear,
synthesised, cached, trimmed and levelled; its length is what the planner asks for), ``engines``
(the engine contract and the registry of built-in and plug-in engines), ``cache`` (the speech cache
on disk), ``text`` (text made for the ear), ``sayable`` (text a voice cannot say, found and located
in the script before any speech is made) and ``catalog`` (what ``voiceguide voices`` shows).

Nothing is imported here: engines load their models on first use, and a plug-in importing the
contract from ``voiceguide.voice.engines`` should pay for that alone.
"""

__all__ = ["cache", "catalog", "engines", "sayable", "speech", "text"]
