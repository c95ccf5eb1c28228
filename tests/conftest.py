"""Shared fixtures: the bundled fonts, small fonts made with fontTools, and broken font files.

Everything a test writes goes under pytest's ``tmp_path``; nothing is written into the repository.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from korean_gan.fonts import bundled_font_dir

#: Two small bundled fonts (about 1 MB each) that draw exactly / at least the 2,350 KS syllables.
SMALL_FONTS = ("CuteFont-Regular.ttf", "DoHyeon-Regular.ttf")


@pytest.fixture(scope="session")
def font_dir() -> Path:
    """The bundled font folder."""
    path = bundled_font_dir()
    assert path.is_dir(), f"bundled font folder {path} is missing"
    return path


@pytest.fixture(scope="session")
def two_fonts(font_dir) -> list[Path]:
    """Paths of two small bundled fonts."""
    return [font_dir / name for name in SMALL_FONTS]


def _subset(source: Path, text: str):
    """A TTFont of ``source`` cut down to the glyphs of ``text`` (names kept)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = TTFont(source)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    return font


@pytest.fixture
def subset_font(tmp_path, font_dir):
    """Factory: ``make(font_name, text, out_name=None) -> Path`` of a subset TTF, or with
    ``as_ttfont=True`` the TTFont itself (for building collections)."""

    def make(font_name: str, text: str, out_name: str | None = None, as_ttfont: bool = False):
        font = _subset(font_dir / font_name, text)
        if as_ttfont:
            return font
        out = tmp_path / (out_name or f"subset-{Path(font_name).stem}.ttf")
        font.save(out)
        return out

    return make


@dataclass(frozen=True)
class FakeCmapFont:
    """A font whose cmap maps syllables it does not draw.

    Attributes:
        path: The font file.
        real: Syllables with their own, real outline.
        shared: Syllables all mapped to one glyph (the Latin ``A``): a shared placeholder.
        empty: A syllable mapped to the space glyph, which has no outline.
    """

    path: Path
    real: str
    shared: str
    empty: str


def _make_fake_cmap(source: Path, out: Path) -> FakeCmapFont:
    real, shared, empty = "가나다", "똠햏", "뙇"
    font = _subset(source, real + "A ")
    cmap = font.getBestCmap()
    a_glyph, space_glyph = cmap[ord("A")], cmap[ord(" ")]
    for table in font["cmap"].tables:
        if table.isUnicode():
            for char in shared:
                table.cmap[ord(char)] = a_glyph
            table.cmap[ord(empty)] = space_glyph
    font.save(out)
    return FakeCmapFont(out, real, shared, empty)


@pytest.fixture
def bad_fonts(tmp_path, font_dir):
    """Factory: ``make(kind, name=None) -> Path`` of a broken font file in ``tmp_path``.

    Kinds: ``random`` (random bytes named .ttf), ``truncated`` (the first 2 KB of a real TTF),
    ``empty`` (a 0-byte .ttf), ``folder`` (a directory named .ttf), ``no_hangul`` (a real font
    subset to ASCII letters), ``fake_cmap`` (returns a :class:`FakeCmapFont`, not a path).
    """
    folder = tmp_path / "bad-fonts"
    folder.mkdir(exist_ok=True)
    source = font_dir / SMALL_FONTS[0]

    def make(kind: str, name: str | None = None):
        path = folder / (name or f"{kind}.ttf")
        if kind == "random":
            path.write_bytes(os.urandom(4096))
        elif kind == "truncated":
            path.write_bytes(source.read_bytes()[:2048])
        elif kind == "empty":
            path.write_bytes(b"")
        elif kind == "folder":
            path.mkdir()
        elif kind == "no_hangul":
            _subset(source, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ").save(
                path)
        elif kind == "fake_cmap":
            return _make_fake_cmap(source, path)
        else:
            raise ValueError(f"unknown bad font kind {kind!r}")
        return path

    return make


@pytest.fixture
def fake_cmap_font(bad_fonts) -> FakeCmapFont:
    """A font whose cmap maps two syllables to one shared glyph and one to an empty glyph."""
    return bad_fonts("fake_cmap")
