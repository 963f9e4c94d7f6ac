"""The phone: a site folder (page, podcast feed, chapters) written from exported sessions, and its server."""
