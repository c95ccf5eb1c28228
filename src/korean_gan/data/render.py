"""Rendering: one syllable of one font face into a small grayscale glyph image.

The convention (the reference project's, made exact):

* square ``size`` × ``size`` pixels (default 32), ``uint8``, dark ink on white paper:
  255 is paper, 0 is full ink;
* the glyph is rendered large (``oversample`` × ``size`` pixels per em) with anti-aliasing
  and placed in the box inside a margin of ``margin`` × ``size`` pixels on each side, in one of
  two ways (``placement``):

  - ``fit`` (the reference's, the default): cropped to its ink and scaled so its longer side
    fills the box (aspect ratio kept), centred. Following the IBM
    tensorflow-hangul-recognition recipe, every glyph fills the same box, so the images differ
    by handwriting style rather than by font metrics;
  - ``em``: as the font draws it. One scale per font, each glyph at its own position: the box
    holds the font's *frame*, the union of the ink boxes of every syllable the font maps, so a
    small syllable stays small beside a large one, all sit on the font's baseline, and a thin
    pen stays thin.

A syllable that the face does not really draw (see :func:`korean_gan.data.fonts.drawn_syllables`),
or that renders blank, yields ``None``: it is never emitted as an image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from korean_gan.data.fonts import FontFace, OutlineChecker

__all__ = ["PLACEMENTS", "GlyphRenderer", "RenderConfig", "fit_to_box", "render_glyph"]

PAPER = 255
# A pixel darker than this counts as ink when cropping and when checking that a glyph is not blank:
# faint anti-aliasing fringes alone (a stray hairline) do not make a glyph.
INK_THRESHOLD = 128
#: How a glyph is placed in its box (see the module docstring).
PLACEMENTS = ("fit", "em")


@dataclass(frozen=True)
class RenderConfig:
    """How glyphs are rendered.

    Attributes:
        size: Output side in pixels (the reference used 32).
        margin: Blank border on each side, as a fraction of ``size`` (2 px at 32).
        oversample: The glyph is drawn at ``oversample * size`` pixels per em and downsampled
            with area averaging, which gives smooth, even stroke edges.
        placement: ``fit`` (each glyph's ink fills the box) or ``em`` (as the font draws it:
            one scale per font, each glyph at its own position).
    """

    size: int = 32
    margin: float = 0.0625
    oversample: int = 4
    placement: str = "fit"  # the reference's

    def __post_init__(self) -> None:
        if not isinstance(self.size, int) or self.size < 8:
            raise ValueError(f"glyph size must be an integer of at least 8, got {self.size!r}")
        if not 0 <= self.margin < 0.4:
            raise ValueError(f"margin must be in [0, 0.4) of the size, got {self.margin!r}")
        if not isinstance(self.oversample, int) or self.oversample < 1:
            raise ValueError(f"oversample must be a positive integer, got {self.oversample!r}")
        if self.placement not in PLACEMENTS:
            raise ValueError(f"unknown placement {self.placement!r}; choose from "
                             f"{', '.join(PLACEMENTS)}")

    @property
    def box(self) -> int:
        """Side of the square the glyph's ink is fitted into.

        A non-zero margin is at least 1 px (``round`` would make it 0 at 8 px), so the ink of a
        glyph never touches the frame, and augmentation can move it a little without cutting.
        """
        margin = round(self.margin * self.size)
        if self.margin > 0:
            margin = max(1, margin)
        return max(1, self.size - 2 * margin)


def fit_to_box(ink: np.ndarray, config: RenderConfig) -> np.ndarray | None:
    """Crops a large paper-white image to its ink and fits it into the config's box, centred.

    Args:
        ink: 2-D uint8 image, 255 = paper.
        config: The render configuration.

    Returns:
        A ``(size, size)`` uint8 image, or None if the image holds no ink.
    """
    dark = ink < INK_THRESHOLD
    rows = np.flatnonzero(dark.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(dark.any(axis=0))
    # Keep the faint fringe around the ink: widen the crop to any non-paper pixel next to it.
    faint = ink < PAPER
    r0, r1 = rows[0], rows[-1] + 1
    c0, c1 = cols[0], cols[-1] + 1
    rows_f = np.flatnonzero(faint[:, c0:c1].any(axis=1))
    cols_f = np.flatnonzero(faint[r0:r1].any(axis=0))
    r0, r1 = min(r0, rows_f[0]), max(r1, rows_f[-1] + 1)
    c0, c1 = min(c0, cols_f[0]), max(c1, cols_f[-1] + 1)
    crop = Image.fromarray(ink[r0:r1, c0:c1])
    height, width = r1 - r0, c1 - c0
    scale = config.box / max(height, width)
    new_w = max(1, round(width * scale))
    new_h = max(1, round(height * scale))
    small = crop.resize((new_w, new_h), Image.Resampling.BOX)
    canvas = Image.new("L", (config.size, config.size), PAPER)
    canvas.paste(small, ((config.size - new_w) // 2, (config.size - new_h) // 2))
    return np.asarray(canvas, dtype=np.uint8)


class GlyphRenderer:
    """Renders syllables of one font face; knows which syllables the face really draws.

    Args:
        face: The font face.
        config: Rendering parameters.
    """

    def __init__(self, face: FontFace, config: RenderConfig | None = None):
        self.face = face
        self.config = config or RenderConfig()
        px = self.config.size * self.config.oversample
        self._font = ImageFont.truetype(str(face.path), px, index=face.index)
        self._checker: OutlineChecker | None = None
        self._frame: tuple[int, int, int, int] | None = None

    def check(self, chars) -> dict[str, str]:
        """Checks syllables against the font's outlines; returns ``{char: reason}`` of skips."""
        if self._checker is None:
            self._checker = OutlineChecker(self.face)
        reasons = {c: self._checker.reason_not_drawn(c) for c in chars}
        return {c: r for c, r in reasons.items() if r is not None}

    def close(self) -> None:
        """Closes the font file held for outline checks (rendering keeps working)."""
        if self._checker is not None:
            self._checker.close()
            self._checker = None

    def render(self, char: str) -> np.ndarray | None:
        """Renders one syllable, or returns None if the face does not really draw it."""
        if self.check([char]):
            return None
        return self.render_unchecked(char)

    def render_unchecked(self, char: str) -> np.ndarray | None:
        """Renders without the outline check (None only if the result is blank)."""
        if self.config.placement == "em":
            return self._render_in_frame(char)
        left, top, right, bottom = self._font.getbbox(char)
        pad = 2
        width, height = right - left + 2 * pad, bottom - top + 2 * pad
        if width <= 2 * pad or height <= 2 * pad:
            return None
        image = Image.new("L", (width, height), PAPER)
        ImageDraw.Draw(image).text((pad - left, pad - top), char, font=self._font, fill=0)
        return fit_to_box(np.asarray(image), self.config)

    @property
    def frame(self) -> tuple[int, int, int, int]:
        """``(left, top, right, bottom)`` in pixels of the rendering size, relative to the pen
        position at the ascender line: the union of the ink boxes of every Hangul syllable the
        face maps, so every syllable of the face fits in it."""
        if self._frame is None:
            from korean_gan.data.fonts import mapped_syllables

            boxes = np.array([self._font.getbbox(c) for c in mapped_syllables(self.face)])
            if not len(boxes):
                raise ValueError(f"font {self.face.name} maps no Hangul syllable")
            self._frame = (int(boxes[:, 0].min()), int(boxes[:, 1].min()),
                           int(boxes[:, 2].max()), int(boxes[:, 3].max()))
        return self._frame

    def _render_in_frame(self, char: str) -> np.ndarray | None:
        """The glyph where the font puts it in the frame, the frame scaled into the box."""
        left, top, right, bottom = self.frame
        width, height = right - left, bottom - top
        canvas = Image.new("L", (width, height), PAPER)
        ImageDraw.Draw(canvas).text((-left, -top), char, font=self._font, fill=0)
        ink = np.asarray(canvas)
        if not (ink < INK_THRESHOLD).any():
            return None
        scale = self.config.box / max(width, height)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        small = canvas.resize((new_w, new_h), Image.Resampling.BOX)
        out = Image.new("L", (self.config.size, self.config.size), PAPER)
        out.paste(small, ((self.config.size - new_w) // 2, (self.config.size - new_h) // 2))
        return np.asarray(out, dtype=np.uint8)


def render_glyph(face: FontFace, char: str, size: int = 32) -> np.ndarray | None:
    """Renders one syllable of one face at ``size`` pixels (a convenience for notebooks).

    Returns:
        A ``(size, size)`` uint8 image (255 = paper), or None if the face does not draw it.
    """
    return GlyphRenderer(face, RenderConfig(size=size)).render(char)
