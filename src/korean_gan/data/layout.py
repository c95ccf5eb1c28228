"""Layout: where each character of a text goes on the page, as a font would set it, and the
drawing of glyph images into those places.

Positions come from a font's own metrics (:mod:`korean_gan.data.metrics`), in em units: the
pen starts each line at the left, every character's ink box is placed relative to the pen and
the baseline, and the pen moves on by the character's advance width; a space moves it by the
font's space width; lines are ``ascender - descender + line_gap`` apart. So a written line has
the proportions of the same line typeset in the style's font.

Characters that are not Hangul syllables (digits, punctuation, Latin letters) are drawn from a
font file by FreeType (:class:`FontGlyphs`). Nothing here knows of models: a generated glyph is
just an image whose ink is fitted into its box.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["FontGlyphs", "LayoutError", "Placement", "ink_box", "layout_text", "paste_ink"]

PAPER = 255
# Fringe pixels lighter than this do not count when finding a glyph's ink box.
_INK_LEVEL = 200


class LayoutError(ValueError):
    """A text that cannot be laid out (a character nothing can draw)."""


@dataclass(frozen=True)
class Placement:
    """One character on the page.

    Attributes:
        char: The character.
        line: Its line number (from 0).
        box: Its ink box ``(x0, y0, x1, y1)`` in page pixels (x1, y1 exclusive).
        source: ``hangul`` (a generated glyph) or the name of the font it is drawn from.
    """

    char: str
    line: int
    box: tuple[int, int, int, int]
    source: str


def ink_box(image: np.ndarray, level: int = _INK_LEVEL) -> tuple[int, int, int, int] | None:
    """The ``(x0, y0, x1, y1)`` box of the pixels darker than ``level``, or None if blank."""
    dark = image < level
    rows = np.flatnonzero(dark.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(dark.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def paste_ink(page: np.ndarray, glyph: np.ndarray, box: tuple[int, int, int, int]) -> None:
    """Crops ``glyph`` to its ink and draws it into ``box`` of ``page`` (darkest wins).

    The crop is resized to the box with area averaging (Lanczos when enlarging), so a glyph
    drawn larger than its place keeps crisp edges. Parts outside the page are cut.
    """
    found = ink_box(glyph)
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    if found is None or width < 1 or height < 1:
        return
    gx0, gy0, gx1, gy1 = found
    crop = Image.fromarray(glyph[gy0:gy1, gx0:gx1])
    shrinking = width <= crop.width and height <= crop.height
    resized = np.asarray(crop.resize((width, height), Image.Resampling.BOX if shrinking
                                     else Image.Resampling.LANCZOS))
    px0, py0 = max(0, x0), max(0, y0)
    px1, py1 = min(page.shape[1], x1), min(page.shape[0], y1)
    if px1 <= px0 or py1 <= py0:
        return
    cell = page[py0:py1, px0:px1]
    np.minimum(cell, resized[py0 - y0:py1 - y0, px0 - x0:px1 - x0], out=cell)


class FontGlyphs:
    """Characters drawn by FreeType from a font file, at a given size, with their metrics.

    Args:
        path: The font file.
        px_per_em: The size to draw at, in pixels per em.
        name: A name for messages and placements (default the file stem).
    """

    def __init__(self, path: str | Path, px_per_em: int, name: str | None = None):
        self.path = Path(path)
        self.name = name or self.path.stem
        self.px_per_em = px_per_em
        try:
            self._font = ImageFont.truetype(str(self.path), px_per_em)
        except Exception as err:  # FreeType raises several types
            raise LayoutError(f"{self.path} is not a usable font ({err})") from None
        # Read when a character is first asked for: lines of Hangul alone never need it.
        self._cmap: set[int] | None = None
        self._cache: dict[str, tuple[np.ndarray, tuple[float, float, float, float], float]
                          | None] = {}

    def _read_cmap(self) -> set[int]:
        from fontTools.ttLib import TTFont

        try:
            with open(self.path, "rb") as fh:
                tt = TTFont(fh, lazy=True)
                # Only the code points matter: numbered glyph names spare reading the names
                # (a third of the time).
                tt.setGlyphOrder([f"g{i}" for i in range(tt["maxp"].numGlyphs)])
                return set(tt.getBestCmap() or {})
        except Exception as err:  # fontTools raises several types
            raise LayoutError(f"{self.path} is not a usable font ({err})") from None

    def draws(self, char: str) -> bool:
        """Whether the font maps ``char`` and draws it with ink (a space needs no ink)."""
        return self.glyph(char) is not None

    def glyph(self, char: str):
        """``(image, box, advance)``: the ink image (255 = paper), its box in em units relative
        to the pen and the baseline (y up), and the advance in em; None if not drawn."""
        if char not in self._cache:
            self._cache[char] = self._draw(char)
        return self._cache[char]

    def _draw(self, char: str):
        if self._cmap is None:
            self._cmap = self._read_cmap()
        if ord(char) not in self._cmap:
            return None
        advance = self._font.getlength(char) / self.px_per_em
        if char.isspace():
            return np.full((1, 1), PAPER, np.uint8), (0.0, 0.0, 0.0, 0.0), advance
        # FreeType's box is loose (it starts at the pen): find the ink on a roomy canvas.
        left, top, right, bottom = self._font.getbbox(char, anchor="ls")
        if right <= left or bottom <= top:
            return None
        margin = self.px_per_em // 4 + 2
        ox, oy = margin - left, margin - top
        image = Image.new("L", (right - left + 2 * margin, bottom - top + 2 * margin), PAPER)
        ImageDraw.Draw(image).text((ox, oy), char, font=self._font, fill=0, anchor="ls")
        ink = np.asarray(image)
        found = ink_box(ink)
        if found is None:
            return None
        x0, y0, x1, y1 = found
        s = self.px_per_em
        # Pixel edges relative to the pen (ox) and the baseline (oy), y up.
        return (ink[y0:y1, x0:x1].copy(),
                ((x0 - ox) / s, (oy - y1) / s, (x1 - ox) / s, (oy - y0) / s), advance)


def layout_text(text: str, hangul, others, px_per_em: int, pad: int | None = None):
    """Places every character of ``text`` as a font would set it.

    Args:
        text: The text; ``\\n`` starts a new line.
        hangul: Metrics of the Hangul syllables (a ``korean_gan.data.metrics.FontMetrics``):
            ``boxes``, ``advances``, ``ascender``, ``descender``, ``line_gap``, ``space``.
        others: Fonts (:class:`FontGlyphs`) tried in turn for every other character.
        px_per_em: Pixels per em.
        pad: Blank border in pixels (default a quarter em).

    Returns:
        ``(width, height, placements)``: the page size and one :class:`Placement` per character
        that has ink (spaces and line breaks have none).

    Raises:
        LayoutError: a character that no font draws, named with its code point.
    """
    from korean_gan.data.charsets import SYLLABLE_FIRST, is_hangul_syllable

    s = float(px_per_em)
    pad = round(s / 4) if pad is None else pad
    pitch = (hangul.ascender - hangul.descender + hangul.line_gap) * s
    placements: list[Placement] = []
    right = 0.0
    lines = text.split("\n")
    for row, line in enumerate(lines):
        pen = float(pad)
        baseline = pad + hangul.ascender * s + row * pitch
        for char in line:
            if char == " ":
                pen += hangul.space * s
                continue
            if is_hangul_syllable(char):
                index = ord(char) - SYLLABLE_FIRST
                box, advance, source = hangul.boxes[index], float(hangul.advances[index]), "hangul"
            else:
                found = next(((f, f.glyph(char)) for f in others if f.glyph(char) is not None),
                             None)
                if found is None:
                    tried = ", ".join(f.name for f in others) or "no font"
                    raise LayoutError(f"no font can draw {char!r} (U+{ord(char):04X}): not a "
                                      f"Hangul syllable and not in {tried}; leave it out or "
                                      "give --latin-from a font that has it")
                font, (_, box, advance) = found[0], found[1]
                source = font.name
            x0, y0, x1, y1 = (float(v) for v in box)
            if x1 > x0 and y1 > y0:
                placements.append(Placement(char, row, (
                    round(pen + x0 * s), round(baseline - y1 * s),
                    round(pen + x1 * s), round(baseline - y0 * s)), source))
            pen += advance * s
            right = max(right, pen, pen - advance * s + x1 * s)
    height = pad + hangul.ascender * s + (len(lines) - 1) * pitch - hangul.descender * s + pad
    width = max(right, *(p.box[2] for p in placements)) + pad if placements else right + pad
    return int(np.ceil(width)), int(np.ceil(height)), placements
