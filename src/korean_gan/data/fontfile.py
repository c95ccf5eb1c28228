"""Font files: traced Hangul syllables and a style's metrics written as an installable font.

:func:`build_font` writes TrueType (``.ttf``), OpenType/CFF (``.otf``), WOFF2 or WOFF (web fonts,
with TrueType outlines) from the file name's suffix, with fontTools' ``FontBuilder``
(https://fonttools.readthedocs.io/en/latest/fontBuilder.html). The font has 1000 units per em;
the line metrics, every syllable's advance width and the space come from a
:class:`korean_gan.data.metrics.FontMetrics`, so text set in the font has the layout of
:mod:`korean_gan.data.layout`. Outlines are :class:`korean_gan.data.trace.Contour` lists in em
units (from :func:`korean_gan.data.trace.trace_glyph`).

Every outline goes through skia-pathops (https://github.com/fonttools/skia-pathops), which
removes overlaps (strokes traced separately, or copied Latin glyphs drawn as overlapping parts) and
sets contour directions: outer contours clockwise for TrueType, counter-clockwise for CFF, as
each format's rasterisers expect (https://learn.microsoft.com/typography/opentype/spec/glyf,
https://adobe-type-tools.github.io/font-tech-notes/pdfs/5177.Type2.pdf). TrueType needs
quadratic curves: cubics are converted by cu2qu (https://github.com/fonttools/fonttools/tree/main/
Lib/fontTools/cu2qu) to within 2 units (0.002 em).

Digits, punctuation and Latin letters can be copied from another font (``latin_from``): each
glyph is drawn through a pen (composites decomposed), scaled to 1000 units per em.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from korean_gan._io import atomic_path
from korean_gan.data.charsets import is_hangul_syllable

__all__ = [
    "DEFAULT_LICENSE",
    "DEFAULT_LICENSE_URL",
    "FORMATS",
    "MAX_FAMILY_LENGTH",
    "FontFileError",
    "build_font",
    "check_family",
]

UPM = 1000
#: File suffix -> (outline format, WOFF flavor).
FORMATS = {".ttf": ("truetype", None), ".otf": ("cff", None),
           ".woff2": ("truetype", "woff2"), ".woff": ("truetype", "woff")}
#: The SIL Open Font License 1.1's name-table notice (https://openfontlicense.org/ofl-faq/).
DEFAULT_LICENSE = ("This Font Software is licensed under the SIL Open Font License, Version 1.1. "
                   "This license is available with a FAQ at: https://openfontlicense.org")
DEFAULT_LICENSE_URL = "https://openfontlicense.org"
#: Windows keeps a family name in a 32-character buffer with its terminator (LOGFONT's
#: lfFaceName, https://learn.microsoft.com/windows/win32/api/wingdi/ns-wingdi-logfontw): a longer
#: name is cut and the font cannot be selected by it; the OpenType spec advises the same limit.
MAX_FAMILY_LENGTH = 31
# Characters copied by latin_from: printable ASCII (the space is the metrics' own).
_LATIN = range(0x21, 0x7F)
# cu2qu's tolerance in font units: 0.002 em, a quarter of a pixel of the 128 px glyphs traced.
# Twice ufo2ft's default (1 unit), which made a heavy style's TrueType font 12% larger (8.5 MB
# for all 11,172 syllables) for no difference a reader can see.
_CU2QU_MAX_ERR = 2.0
_VERSION = re.compile(r"\d{1,4}\.\d{1,3}")


class FontFileError(ValueError):
    """A font that cannot be built as asked, with the reason."""


def build_font(glyphs: Mapping[str, Sequence], metrics, family: str, out: str | os.PathLike,
               version: str = "1.000", license_text: str | None = None,
               latin_from: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
               progress=None,
               timings: dict[str, float] | None = None) -> Path:
    """Writes a font of traced Hangul syllables, atomically.

    Args:
        glyphs: Syllable -> its contours in em units (y up from the baseline, x from the pen):
            :class:`korean_gan.data.trace.Contour` objects or anything with ``draw(pen)``. An
            empty list makes a blank glyph.
        metrics: A :class:`korean_gan.data.metrics.FontMetrics` (line metrics, advances, space).
        family: The family name: printable ASCII and Hangul syllables, at most
            :data:`MAX_FAMILY_LENGTH` characters. The style is Regular.
        out: The file to write; its suffix picks the format (:data:`FORMATS`).
        version: The font version, ``major.minor`` such as ``"1.000"``.
        license_text: The license description (name ID 13); default the SIL OFL 1.1 notice,
            with its URL as name ID 14.
        latin_from: A font file whose digits, punctuation and Latin letters (printable ASCII)
            are copied in, scaled to 1000 units per em; or a list of font files, each
            character then taken from the first that has it.
        progress: A tqdm bar (or anything with ``update(n)``) advanced per Hangul outline.
        timings: If given, receives the seconds of ``build`` (outlines, tables) and ``save``
            (compression for web fonts, and writing).

    Returns:
        The path written.

    Raises:
        FontFileError: an unknown suffix, a bad family name or version, a key that is not a
            Hangul syllable, or a ``latin_from`` that cannot be read.
        korean_gan._io.OutputError: ``out`` cannot be written.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise FontFileError(f"cannot write {out.name}: unknown font format {suffix or '(none)'!r};"
                            f" use {', '.join(FORMATS)}")
    outlines, flavor = FORMATS[suffix]
    check_family(family)
    check_version(version)
    bad = [key for key in glyphs if not is_hangul_syllable(key)]
    if bad:
        raise FontFileError(f"{len(bad)} glyph key(s) are not Hangul syllables, e.g. {bad[0]!r}")
    if flavor == "woff2":
        try:
            import brotli  # noqa: F401  (fontTools needs it for WOFF2)
        except ImportError:
            raise FontFileError("WOFF2 needs the brotli package: pip install brotli") from None

    started = time.perf_counter()
    truetype = outlines == "truetype"
    drawn: dict[str, tuple[int, object]] = {}  # glyph name -> (advance, RecordingPen)
    cmap: dict[int, str] = {}
    for char in sorted(glyphs):
        name = f"uni{ord(char):04X}"
        drawn[name] = (round(metrics.advance(char) * UPM),
                       _outline(glyphs[char], UPM, truetype))
        cmap[ord(char)] = name
        if progress is not None:
            progress.update(1)
    sources = [] if latin_from is None else (
        [latin_from] if isinstance(latin_from, (str, os.PathLike)) else list(latin_from))
    copied: dict[int, tuple[int, object]] = {}
    for source in sources:
        copied = {**_latin(source, truetype), **copied}  # earlier sources win
    for code, (advance, recording) in sorted(copied.items()):
        name = f"uni{code:04X}"
        drawn[name] = (advance, recording)
        cmap[code] = name
    cmap[0x20] = "space"

    font = _assemble(drawn, cmap, metrics, family, version, license_text, truetype)
    if flavor:
        font.flavor = flavor
    built = time.perf_counter()
    with atomic_path(out, suffix=suffix) as tmp:
        font.save(str(tmp))
    if timings is not None:
        timings.update(build=built - started, save=time.perf_counter() - built)
    return out


def check_version(version: str) -> None:
    """Checks a font version, ``major.minor`` such as ``1.000``.

    Raises:
        FontFileError: anything else.
    """
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise FontFileError(f"font version {version!r} must look like 1.000 (major.minor)")


def check_family(family: str) -> None:
    """Checks a font family name (see :func:`build_font`).

    Raises:
        FontFileError: empty, too long, a character outside printable ASCII and Hangul
            syllables, or a space at either end.
    """
    if not isinstance(family, str) or not family.strip():
        raise FontFileError("the font family name is empty")
    if len(family) > MAX_FAMILY_LENGTH:
        raise FontFileError(f"font family name {family!r} has {len(family)} characters; at most "
                            f"{MAX_FAMILY_LENGTH} (Windows cuts longer names)")
    bad = [c for c in family if not (" " <= c <= "~" or is_hangul_syllable(c))]
    if bad:
        raise FontFileError(f"font family name {family!r} has {bad[0]!r} "
                            f"(U+{ord(bad[0]):04X}); use printable ASCII and Hangul syllables")
    if family != family.strip():
        raise FontFileError(f"font family name {family!r} starts or ends with a space")


def _postscript_name(family: str) -> str:
    """ASCII letters, digits and hyphens only (PostScript names allow no spaces, no Hangul)."""
    base = re.sub(r"[^A-Za-z0-9-]", "", family)
    if not base:
        # A Hangul-only family: a stable ASCII name from its code points.
        base = "Hangul" + "".join(f"{ord(c) - 0xAC00:X}" for c in family if c != " ")[:20]
    return f"{base[:50]}-Regular"


def _outline(contours: Sequence, scale: float, truetype: bool):
    """Contours scaled to font units, overlaps removed and directed for the format."""
    import pathops
    from fontTools.pens.transformPen import TransformPen

    path = pathops.Path()
    pen = TransformPen(path.getPen(), (scale, 0, 0, scale, 0, 0))
    for contour in contours:
        contour.draw(pen)
    return _simplified(path, truetype)


def _simplified(path, truetype: bool):
    from fontTools.pens.recordingPen import RecordingPen

    # Clockwise outer contours for TrueType, counter-clockwise for CFF (both y up).
    path.simplify(fix_winding=True, keep_starting_points=True, clockwise=truetype)
    recording = RecordingPen()
    path.draw(recording)
    return recording


def _latin(source: str | os.PathLike, truetype: bool) -> dict[int, tuple[int, object]]:
    """Code point -> (advance, outline) of the printable ASCII glyphs of a font file."""
    import pathops
    from fontTools.pens.recordingPen import DecomposingRecordingPen
    from fontTools.pens.transformPen import TransformPen
    from fontTools.ttLib import TTFont

    try:
        with TTFont(source) as font:
            scale = UPM / font["head"].unitsPerEm
            best = font.getBestCmap() or {}
            glyph_set = font.getGlyphSet()
            hmtx = font["hmtx"]
            copied = {}
            for code in _LATIN:
                name = best.get(code)
                if name is None:
                    continue
                recording = DecomposingRecordingPen(glyph_set)
                glyph_set[name].draw(recording)
                path = pathops.Path()
                recording.replay(TransformPen(path.getPen(), (scale, 0, 0, scale, 0, 0)))
                copied[code] = (round(hmtx[name][0] * scale), _simplified(path, truetype))
    except FontFileError:
        raise
    except Exception as err:  # fontTools raises many types for a file that is not a font
        raise FontFileError(f"cannot copy Latin glyphs from {source}: {err}") from None
    return copied


def _assemble(drawn, cmap, metrics, family, version, license_text, truetype):
    """A fontTools TTFont from the outlines (RecordingPens in font units) and the metrics."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.boundsPen import BoundsPen

    order = [".notdef", "space", *drawn]
    fb = FontBuilder(UPM, isTTF=truetype)
    fb.setupGlyphOrder(order)
    fb.setupCharacterMap(cmap)
    ascender = round(metrics.ascender * UPM)
    descender = round(metrics.descender * UPM)
    line_gap = round(metrics.line_gap * UPM)
    advances = {".notdef": round(0.5 * UPM), "space": round(metrics.space * UPM)}
    recordings = {".notdef": _notdef(ascender, descender, advances[".notdef"], truetype)}
    for name, (advance, recording) in drawn.items():
        advances[name] = advance
        recordings[name] = recording

    ps_name = _postscript_name(family)
    if truetype:
        from fontTools.pens.cu2quPen import Cu2QuPen
        from fontTools.pens.ttGlyphPen import TTGlyphPen

        tt_glyphs = {}
        for name in order:
            pen = TTGlyphPen(None)
            if name in recordings:
                recordings[name].replay(Cu2QuPen(pen, _CU2QU_MAX_ERR, reverse_direction=False))
            tt_glyphs[name] = pen.glyph()
        fb.setupGlyf(tt_glyphs)
        glyf = fb.font["glyf"]
        lsb = {name: getattr(glyf[name], "xMin", 0) for name in order}
        y_min = min((getattr(glyf[n], "yMin", 0) for n in order), default=0)
        y_max = max((getattr(glyf[n], "yMax", 0) for n in order), default=0)
    else:
        from fontTools.pens.t2CharStringPen import T2CharStringPen

        charstrings, lsb, y_min, y_max = {}, {}, 0, 0
        for name in order:
            pen = T2CharStringPen(advances[name], None)
            bounds = BoundsPen(None)
            if name in recordings:
                recordings[name].replay(pen)
                recordings[name].replay(bounds)
            charstrings[name] = pen.getCharString()
            box = bounds.bounds
            lsb[name] = round(box[0]) if box else 0
            if box:
                y_min, y_max = min(y_min, box[1]), max(y_max, box[3])
        # CFF's own names are Latin-1: a Hangul family is spelt there as its PostScript name.
        cff_family = family if family.isascii() else ps_name.removesuffix("-Regular")
        fb.setupCFF(ps_name, {"FullName": f"{cff_family} Regular", "FamilyName": cff_family,
                              "Weight": "Regular", "version": version}, charstrings, {})
    fb.setupHorizontalMetrics({name: (advances[name], lsb[name]) for name in order})
    fb.setupHorizontalHeader(ascent=ascender, descent=descender, lineGap=line_gap)
    from fontTools.misc.timeTools import timestampNow

    # timestampNow honours SOURCE_DATE_EPOCH, for reproducible builds.
    fb.setupHead(unitsPerEm=UPM, fontRevision=float(version), created=timestampNow(),
                 modified=timestampNow())
    fb.setupOS2(
        version=4, usWeightClass=400, usWidthClass=5,
        fsType=0,  # installable: no embedding restrictions
        fsSelection=0x40 | 0x80,  # REGULAR | USE_TYPO_METRICS (line spacing from sTypo*)
        sTypoAscender=ascender, sTypoDescender=descender, sTypoLineGap=line_gap,
        # Windows clips ink outside usWin*: cover every glyph as well as the line.
        usWinAscent=max(ascender, round(y_max)), usWinDescent=max(-descender, -round(y_min)),
        achVendID="NONE",
    )
    os2 = fb.font["OS/2"]
    os2.recalcUnicodeRanges(fb.font)
    os2.recalcCodePageRanges(fb.font)
    license_text = DEFAULT_LICENSE if license_text is None else license_text
    names = {
        "familyName": family,
        "styleName": "Regular",
        "uniqueFontIdentifier": f"{version};NONE;{ps_name}",
        "fullName": f"{family} Regular",
        "psName": ps_name,
        "version": f"Version {version}",
        "description": "Handwritten Hangul generated by korean-gan",
        "licenseDescription": license_text,
    }
    if license_text == DEFAULT_LICENSE:
        names["licenseInfoURL"] = DEFAULT_LICENSE_URL
    # Windows (Unicode) names only: Mac Roman cannot spell a Hangul family, and current systems
    # read the Windows names.
    fb.setupNameTable(names, mac=False)
    fb.setupPost(keepGlyphNames=not truetype)
    return fb.font


def _notdef(ascender: int, descender: int, width: int, truetype: bool):
    """The conventional empty box for characters the font lacks."""
    from fontTools.pens.recordingPen import RecordingPen

    pen = RecordingPen()
    x0, x1 = 50, width - 50
    y0, y1 = max(descender, -UPM) // 2, round(ascender * 0.8)
    t = 50
    # Outer and inner rectangles in opposite directions (outer clockwise for TrueType).
    outer = [(x0, y0), (x0, y1), (x1, y1), (x1, y0)]
    inner = [(x0 + t, y0 + t), (x1 - t, y0 + t), (x1 - t, y1 - t), (x0 + t, y1 - t)]
    if not truetype:
        outer, inner = outer[::-1], inner[::-1]
    for points in (outer, inner):
        pen.moveTo(points[0])
        for point in points[1:]:
            pen.lineTo(point)
        pen.closePath()
    return pen
