"""The library's artwork, made by the program: its title over a soft gradient in the page's colours.

One square picture serves everywhere a player shows one: the podcast feed (``itunes:image``, which
Apple Podcasts and most apps want as a 1400-3000 px square RGB JPEG or PNG, else the tile is blank),
the page's Media Session (the lock screen; several sizes), the web app manifest's icons (192 and 512
px) and each MP3's ID3 picture (a phone's music app).  Drawn once at full size with Pillow (its
bundled scalable font, so no system font is needed) and scaled down for the smaller ones.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Final

ART_PX: Final = 1400
"""The feed's picture: the smallest size Apple Podcasts accepts, so the file stays small."""
ICON_PX: Final = (192, 512)
"""The manifest's icons (what Android and Chromium ask for), also given to the Media Session."""
ID3_PX: Final = 600
"""The picture inside each MP3: enough for a music app's screen, about 20 KB."""
TOP: Final = (0x2A, 0x7F, 0x6A)
"""The gradient, from the page's accent (``style.css``) to a deeper shade of it."""
BOTTOM: Final = (0x10, 0x3A, 0x31)
INK: Final = (0xFB, 0xFA, 0xF7)
"""The page's light background colour, for the title and the ring."""


@lru_cache(maxsize=4)
def _picture(title: str, size: int):
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    at = np.arange(size) / (size - 1)
    mix = (at[:, None] + 0.35 * at[None, :]) / 1.35  # a soft diagonal: top left to bottom right
    # each channel rounded to bytes before they are interleaved: the same pixels, an eighth of the memory moved
    rgb = np.stack([np.round(t + (b - t) * mix).astype(np.uint8) for t, b in zip(TOP, BOTTOM)], axis=-1)
    art = Image.fromarray(rgb, "RGB")
    draw = ImageDraw.Draw(art)
    # a breathing ring, as on the page, above the title
    r, cx, cy = size * 0.16, size / 2, size * 0.36
    for k, alpha in ((1.0, 0.55), (0.72, 0.3)):
        ring = tuple(round(c + (i - c) * alpha) for c, i in zip(TOP, INK))
        w = max(2, round(size * 0.012))
        draw.ellipse((cx - r * k, cy - r * k, cx + r * k, cy + r * k), outline=ring, width=w)
    font_px = size * 0.13
    font = ImageFont.load_default(size=font_px)
    while draw.textlength(title, font=font) > size * 0.84 and font_px > size * 0.04:
        font_px *= 0.92
        font = ImageFont.load_default(size=font_px)
    draw.text((cx, size * 0.68), title, font=font, fill=INK, anchor="mm")
    return art


@lru_cache(maxsize=8)
def _encode(title: str, size: int, fmt: str) -> bytes:
    """The picture at ``size`` in ``fmt`` (kept: a site writes the same MP3 picture into every episode)."""
    art = _picture(title, ART_PX)
    if size != ART_PX:
        from PIL import Image

        art = art.resize((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if fmt == "JPEG":
        art.save(out, "JPEG", quality=88, optimize=True, progressive=False)
    else:
        art.save(out, "PNG", optimize=True)
    return out.getvalue()


def feed_jpeg(title: str) -> bytes:
    """The feed's and the lock screen's large picture: ``ART_PX`` square, RGB JPEG."""
    return _encode(title, ART_PX, "JPEG")


def icon_png(title: str, size: int) -> bytes:
    """A manifest icon, ``size`` px square PNG."""
    return _encode(title, size, "PNG")


def id3_jpeg(title: str) -> bytes:
    """The picture for an MP3's ID3 ``APIC`` frame: ``ID3_PX`` square JPEG."""
    return _encode(title, ID3_PX, "JPEG")
