"""Live play: a session mixed while its speech is made, played on the sound device, with keys and a screen."""
