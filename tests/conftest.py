"""Shared fixtures: the bundled fonts, small fonts made with fontTools, and broken font files.

Everything a test writes goes under pytest's ``tmp_path``; nothing is written into the repository.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from korean_gan.data.fonts import bundled_font_dir

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


@dataclass(frozen=True)
class CffFont:
    """An OpenType font with CFF (PostScript, cubic) outlines rather than TrueType ``glyf``.

    Attributes:
        path: The ``.otf`` file.
        drawn: Syllables with their own outline (Cute Font's, converted to cubic curves).
        empty: A syllable mapped to the space glyph, an empty charstring.
    """

    path: Path
    drawn: str
    empty: str


def _make_cff_otf(source: Path, out: Path) -> CffFont:
    """Rebuilds a subset of a TrueType font as an OTF with CFF outlines (same shapes)."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.t2CharStringPen import T2CharStringPen

    drawn, empty = "가나다", "라"
    src = _subset(source, drawn + " ")
    glyph_set = src.getGlyphSet()
    order = src.getGlyphOrder()
    charstrings = {}
    for name in order:
        # BasePen turns the quadratic TrueType curves into cubic ones for CFF.
        pen = T2CharStringPen(glyph_set[name].width, glyph_set)
        glyph_set[name].draw(pen)
        charstrings[name] = pen.getCharString()
    cmap = dict(src.getBestCmap())
    cmap[ord(empty)] = cmap[ord(" ")]
    os2 = src["OS/2"]
    builder = FontBuilder(src["head"].unitsPerEm, isTTF=False)
    builder.setupGlyphOrder(order)
    builder.setupCharacterMap(cmap)
    builder.setupCFF("CuteFontCFF-Regular", {"FullName": "Cute Font CFF"}, charstrings, {})
    builder.setupHorizontalMetrics({name: src["hmtx"][name] for name in order})
    builder.setupHorizontalHeader(ascent=src["hhea"].ascent, descent=src["hhea"].descent)
    builder.setupNameTable({"familyName": "Cute Font CFF", "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=os2.sTypoAscender, sTypoDescender=os2.sTypoDescender,
                     usWinAscent=os2.usWinAscent, usWinDescent=os2.usWinDescent)
    builder.setupPost()
    builder.save(out)
    return CffFont(out, drawn, empty)


@pytest.fixture
def cff_font(tmp_path, font_dir) -> CffFont:
    """An ``.otf`` with CFF outlines of 가나다 (from Cute Font) and an empty glyph for 라."""
    folder = tmp_path / "cff"
    folder.mkdir(exist_ok=True)
    return _make_cff_otf(font_dir / SMALL_FONTS[0], folder / "CuteFontCFF-Regular.otf")


@pytest.fixture
def run_cli(monkeypatch, capsys):
    """Calls the CLI's ``main`` in-process; returns (status, stdout, stderr).

    ``main`` replaces the warning display while it runs; the original is restored after.
    """
    import warnings

    from korean_gan.cli import main

    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)

    def run(*argv):
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory, two_fonts) -> Path:
    """20 images: 가, 나 × 2 fonts × (original + 4 seed transforms)."""
    from korean_gan.data.dataset import build_dataset

    out = tmp_path_factory.mktemp("tiny") / "tiny.npz"
    build_dataset(charset="가나", fonts=tuple(str(f) for f in two_fonts), out=str(out),
                  workers=1, progress=False, preview=False)
    return out


@pytest.fixture
def cli_train_config(monkeypatch):
    """``config(*argv) -> TrainConfig``: what ``korean-gan train *argv`` would train with,
    without training (``korean_gan.training.trainer.train`` is replaced for the test)."""
    import korean_gan.training.trainer
    from korean_gan.cli import main

    seen = []

    class _StopError(BaseException):  # passes through main's handler of internal errors
        pass

    def fake_train(config, resume=False):
        seen.append(config)
        raise _StopError  # before any training: only the mapping is tested

    monkeypatch.setattr(korean_gan.training.trainer, "train", fake_train)

    def config(*argv):
        with pytest.raises(_StopError):
            main([str(a) for a in argv])
        return seen[-1]

    return config


def _conditional_model_dir(folder: Path, fonts: list[str], g_filters: int = 16,
                           seed: int = 3) -> Path:
    import json

    from korean_gan.training.conditional import build_conditional_gan

    gan = build_conditional_gan("가나다", fonts, g_filters=g_filters, d_filters=8, seed=seed)
    gan.export(folder)
    (folder / "config.json").write_text(json.dumps({"model": "conditional", "noise_dim": 64,
                                                    "g_filters": g_filters}))
    return folder


@pytest.fixture(scope="session")
def make_conditional_model_dir():
    """``make(folder, fonts, g_filters=16, seed=3)`` writes a conditional model folder (config,
    generator weights, styles) with random weights, for the syllables 가나다 in ``fonts``."""
    return _conditional_model_dir


@contextlib.contextmanager
def tmpfs_disk(folder: Path, size: str):
    """A tmpfs of ``size`` (e.g. ``"2m"``) mounted at ``folder``: a disk that really fills up
    (ENOSPC). Needs mount rights (root); skips the test otherwise."""
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()[:100]}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)
