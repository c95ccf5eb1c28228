"""Fonts: finding font files, reading their faces, knowing which syllables each really draws.

The bundled corpus lives in the repository's ``fonts/`` folder (``korean_gan/_fonts`` in an
installed wheel) and is described by ``fonts/catalog.csv``. Users add their own fonts as files or
folders of ``.ttf``/``.otf``/``.ttc``/``.otc`` files.

"Really draws" matters: many Korean fonts map all 11,172 syllables in their cmap but draw only
the 2,350 of KS X 1001, sending the rest to an empty glyph or to one shared placeholder. A syllable
counts as drawn only if its glyph is not ``.notdef``, has an outline, and is not shared with
another syllable (no real font draws two syllables with one glyph).
"""

from __future__ import annotations

import csv
import io
import os
import struct
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from korean_gan._io import sha256_file
from korean_gan.data.charsets import SYLLABLE_FIRST, SYLLABLE_LAST

__all__ = [
    "FONT_SUFFIXES",
    "CatalogEntry",
    "FontError",
    "FontFace",
    "FontSkippedWarning",
    "OutlineChecker",
    "bundled_font_dir",
    "drawn_syllables",
    "find_font_files",
    "load_faces",
    "mapped_syllables",
    "read_catalog",
]

FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
CATALOG_NAME = "catalog.csv"
CATALOG_FIELDS = (
    "file", "family", "style", "license", "license_file", "source", "source_version",
    "copyright", "sha256", "ks2350_drawn", "all11172_drawn",
)


class FontError(ValueError):
    """A font file that cannot be used, with the reason."""


class FontSkippedWarning(UserWarning):
    """A font file was skipped (unreadable, not a font, or without Hangul)."""


class _BundledFontChangedError(FontError):
    """A bundled font whose bytes differ from the catalog's sha256 (never skipped silently)."""


@dataclass(frozen=True)
class FontFace:
    """One face of a font file (a ``.ttc`` collection holds several).

    Attributes:
        path: The font file.
        index: The face's index in the file (0 for plain TTF/OTF).
        family: The family name from the font's name table.
        subfamily: The style name ("Regular", ...).
        name: A unique, file-based id used in datasets: the file stem, plus ``#index`` for faces
            of a collection.
        sha256: The hex sha256 of the file's bytes.
    """

    path: Path
    index: int
    family: str
    subfamily: str
    name: str
    sha256: str


def bundled_font_dir() -> Path:
    """The folder of the bundled font corpus.

    ``KOREAN_GAN_FONTS`` overrides it; otherwise the copy inside an installed wheel, otherwise the
    repository's ``fonts/`` (editable installs and source checkouts).
    """
    env = os.environ.get("KOREAN_GAN_FONTS")
    if env:
        return Path(env)
    package = Path(__file__).resolve().parents[1]  # korean_gan/
    inside = package / "_fonts"
    if inside.is_dir():
        return inside
    return package.parents[1] / "fonts"


def find_font_files(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Expands files and folders (searched recursively) into a sorted list of font files.

    The special path ``bundled`` stands for :func:`bundled_font_dir`. Files are kept in the
    order given; files found in a folder are sorted by name, so the result is reproducible.

    Raises:
        FontError: a path does not exist, or a folder holds no font file.
    """
    found: list[Path] = []
    for entry in paths:
        path = bundled_font_dir() if str(entry) == "bundled" else Path(entry)
        if path.is_dir() and path.suffix.lower() not in FONT_SUFFIXES:
            files = sorted(
                (p for p in path.rglob("*") if p.suffix.lower() in FONT_SUFFIXES),
                key=lambda p: p.relative_to(path).as_posix(),
            )
            if not files:
                raise FontError(f"font folder {path} holds no .ttf/.otf/.ttc/.otc file")
            found.extend(files)
        elif path.exists():
            found.append(path)
        else:
            raise FontError(f"font path {path} does not exist")
    unique: dict[Path, None] = {}
    for path in found:
        unique.setdefault(path.resolve(), None)
    return list(unique)


def _bundled_sha256() -> dict[Path, str]:
    """The catalog's sha256 of each bundled font file, by resolved path.

    Empty if the bundled folder has no catalog (``KOREAN_GAN_FONTS`` pointing at a plain
    folder). Costs one small CSV read: :func:`load_faces` hashes every font file anyway.

    Raises:
        FontError: the catalog exists but is damaged.
    """
    folder = bundled_font_dir()
    catalog = folder / CATALOG_NAME
    if not catalog.is_file():
        return {}
    folder = folder.resolve()
    return {folder / entry.file: entry.sha256 for entry in read_catalog(catalog)}


def _open_ttfont(path: Path, index: int = 0):
    from fontTools.ttLib import TTFont

    return TTFont(path, fontNumber=index, lazy=True)


def _face_count(path: Path) -> int:
    with open(path, "rb") as fh:
        tag = fh.read(4)
    if tag != b"ttcf":
        return 1
    from fontTools.ttLib import TTCollection

    with open(path, "rb") as fh:  # fontTools leaves a file it opened itself open on errors
        return len(TTCollection(fh, lazy=True).fonts)


def _name(font, name_id: int) -> str:
    table = font["name"] if "name" in font else None
    if table is None:
        return ""
    record = table.getDebugName(name_id)
    return record or ""


def _check_face(path: Path, index: int, sha: str, multi: bool) -> FontFace:
    """Opens a face with fontTools and Pillow; raises FontError if either cannot use it."""
    if path.is_dir():
        raise FontError(f"{path} is a folder, not a font file")
    # Name the face too for a collection, so a warning says which of its fonts was skipped.
    where = f"{path} (face {index})" if multi else str(path)
    try:
        # Open the file here so it is closed even when fontTools fails on a damaged font.
        with open(path, "rb") as fh:
            from fontTools.ttLib import TTFont

            font = TTFont(fh, fontNumber=index, lazy=True)
            cmap = font.getBestCmap() or {}
            family = _name(font, 16) or _name(font, 1) or path.stem
            subfamily = _name(font, 17) or _name(font, 2) or "Regular"
    except Exception as err:  # fontTools raises many types for damaged files
        raise FontError(f"{where} is not a readable font ({type(err).__name__}: {err})") from None
    if not any(SYLLABLE_FIRST <= cp <= SYLLABLE_LAST for cp in cmap):
        raise FontError(f"{where} maps no Hangul syllable")
    try:
        from PIL import ImageFont

        ImageFont.truetype(str(path), 32, index=index)
    except Exception as err:
        raise FontError(f"{where} cannot be rendered by FreeType ({err})") from None
    name = f"{path.stem}#{index}" if multi else path.stem
    return FontFace(path=path, index=index, family=family, subfamily=subfamily, name=name,
                    sha256=sha)


def load_faces(paths: Iterable[str | os.PathLike], strict: bool = False) -> list[FontFace]:
    """Reads every face of the given font files and folders.

    A file that is not a usable font (unreadable, damaged, a folder named ``.ttf``, no Hangul) is
    skipped with a one-line :class:`FontSkippedWarning` naming it, or raises with ``strict``.
    Faces with the same name (two files ``Foo.ttf`` in different folders) get a numeric suffix.
    A bundled font is checked against the sha256 in the catalog; a changed one always raises.

    Args:
        paths: Font files and/or folders; ``"bundled"`` for the bundled corpus.
        strict: Raise FontError on the first bad file instead of skipping it.

    Returns:
        The usable faces, in a reproducible order.

    Raises:
        FontError: with ``strict`` on a bad file; always if no usable face remains or a bundled
            font does not match its catalog sha256.
    """
    faces: list[FontFace] = []
    files = find_font_files(paths)
    # Only a build that uses a bundled font reads (and depends on) the catalog.
    bundled = bundled_font_dir().resolve()
    expected = _bundled_sha256() if any(p.parent == bundled for p in files) else {}
    for path in files:
        try:
            if path.is_dir():
                raise FontError(f"{path} is a folder, not a font file")
            sha = sha256_file(path)
            if path in expected and sha != expected[path]:
                # Not skippable: building without a corpus font would silently change datasets.
                raise _BundledFontChangedError(
                    f"bundled font {path} does not match its sha256 in {CATALOG_NAME} (changed "
                    f"or damaged); restore it (git checkout fonts/{path.name}), or run "
                    "`korean-gan fonts catalog` if you changed it on purpose")
            try:
                count = _face_count(path)
            except Exception as err:
                raise FontError(f"{path} is not a readable font collection ({err})") from None
            for index in range(count):
                try:
                    faces.append(_check_face(path, index, sha, multi=count > 1))
                except FontError as err:
                    if strict:
                        raise
                    warnings.warn(f"skipping font: {err}", FontSkippedWarning, stacklevel=2)
        except FontError as err:
            if strict or isinstance(err, _BundledFontChangedError):
                raise
            warnings.warn(f"skipping font: {err}", FontSkippedWarning, stacklevel=2)
    if not faces:
        raise FontError("no usable font among: " + ", ".join(str(p) for p in files))
    names = Counter(face.name for face in faces)
    seen: Counter[str] = Counter()
    unique: list[FontFace] = []
    for face in faces:
        if names[face.name] > 1:
            seen[face.name] += 1
            face = FontFace(face.path, face.index, face.family, face.subfamily,
                            f"{face.name}~{seen[face.name]}", face.sha256)
        unique.append(face)
    return unique


def _glyph_has_outline(font, glyph_set, glyph_name: str) -> bool:
    if "glyf" in font:
        glyph = font["glyf"].glyphs[glyph_name]
        # Read numberOfContours from the raw glyph header (decompiling the coordinates costs 100×
        # more): 0 or no data = empty, > 0 a simple outline, -1 a composite of other glyphs.
        data = glyph.__dict__.get("data")
        if data is None:
            return glyph.numberOfContours != 0
        return len(data) >= 2 and struct.unpack(">h", data[:2])[0] != 0
    from fontTools.pens.boundsPen import BoundsPen

    pen = BoundsPen(glyph_set)
    glyph_set[glyph_name].draw(pen)
    return pen.bounds is not None


class OutlineChecker:
    """Answers "does this face really draw this syllable?" from its outlines; keeps the font open.

    Args:
        face: The font face.
    """

    def __init__(self, face: FontFace):
        self._font = _open_ttfont(face.path, face.index)
        self._cmap = self._font.getBestCmap() or {}
        self._glyph_set = self._font.getGlyphSet()
        self._notdef = self._font.getGlyphOrder()[0]
        self._per_glyph = Counter(
            glyph for cp, glyph in self._cmap.items() if SYLLABLE_FIRST <= cp <= SYLLABLE_LAST
        )

    def reason_not_drawn(self, char: str) -> str | None:
        """None if the face draws ``char``, else why not."""
        glyph = self._cmap.get(ord(char))
        if glyph is None:
            return "no cmap entry"
        if glyph == self._notdef or glyph == ".notdef":
            return ".notdef"
        if self._per_glyph[glyph] > 1:
            return "shared placeholder glyph"
        if not _glyph_has_outline(self._font, self._glyph_set, glyph):
            return "empty outline"
        return None

    def close(self) -> None:
        """Closes the font file."""
        self._font.close()


def drawn_syllables(face: FontFace, chars: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Splits ``chars`` into those the face really draws and those it does not.

    Args:
        face: The font face.
        chars: Hangul syllables to check.

    Returns:
        ``(drawn, skipped)``: the drawn syllables in the order given, and for each skipped one
        the reason (``"no cmap entry"``, ``".notdef"``, ``"shared placeholder glyph"``,
        ``"empty outline"``).
    """
    checker = OutlineChecker(face)
    try:
        drawn: list[str] = []
        skipped: dict[str, str] = {}
        for char in chars:
            reason = checker.reason_not_drawn(char)
            if reason is None:
                drawn.append(char)
            else:
                skipped[char] = reason
        return drawn, skipped
    finally:
        checker.close()


@dataclass(frozen=True)
class CatalogEntry:
    """One row of ``fonts/catalog.csv``: a bundled font, its licence and provenance."""

    file: str
    family: str
    style: str
    license: str
    license_file: str
    source: str
    source_version: str
    copyright: str
    sha256: str
    ks2350_drawn: int
    all11172_drawn: int


def read_catalog(path: str | os.PathLike | None = None) -> list[CatalogEntry]:
    """Reads the font catalog (default: the bundled one).

    Raises:
        FontError: the file is missing or its columns are not the expected ones.
    """
    path = Path(path) if path is not None else bundled_font_dir() / CATALOG_NAME
    if not path.is_file():
        raise FontError(f"font catalog {path} does not exist")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != CATALOG_FIELDS:
            raise FontError(f"font catalog {path} has columns {reader.fieldnames}; expected "
                            f"{list(CATALOG_FIELDS)}")
        return [
            CatalogEntry(**{**row, "ks2350_drawn": int(row["ks2350_drawn"]),
                            "all11172_drawn": int(row["all11172_drawn"])})
            for row in reader
        ]


def catalog_row(path: Path, curated: dict[str, str]) -> dict[str, str | int]:
    """Computes a catalog row for a font file: curated columns plus sha256 and drawn counts."""
    from korean_gan.data.charsets import all11172, ks2350

    face = _check_face(path, 0, sha256_file(path), multi=False)
    ks = ks2350().chars
    drawn_all, _ = drawn_syllables(face, all11172().chars)
    drawn_set = set(drawn_all)
    row: dict[str, str | int] = {field: curated.get(field, "") for field in CATALOG_FIELDS}
    row.update(
        file=path.name,
        family=curated.get("family") or face.family,
        sha256=face.sha256,
        ks2350_drawn=sum(c in drawn_set for c in ks),
        all11172_drawn=len(drawn_all),
    )
    return row


def write_catalog(font_dir: str | os.PathLike | None = None) -> Path:
    """Recomputes the computed columns of ``catalog.csv`` in ``font_dir`` from the font files.

    Curated columns (family, style, licence, source, ...) of existing rows are kept; new font
    files get a row with those left blank to fill in; rows of vanished files are dropped.

    Returns:
        The catalog's path.
    """
    from korean_gan._io import write_bytes_atomic

    font_dir = Path(font_dir) if font_dir is not None else bundled_font_dir()
    path = font_dir / CATALOG_NAME
    curated: dict[str, dict[str, str]] = {}
    if path.is_file():
        with open(path, newline="", encoding="utf-8") as fh:
            curated = {row["file"]: row for row in csv.DictReader(fh)}
    files = sorted(p for p in font_dir.iterdir() if p.suffix.lower() in FONT_SUFFIXES)
    rows = [catalog_row(p, curated.get(p.name, {})) for p in files]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CATALOG_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_bytes_atomic(path, buffer.getvalue().encode("utf-8"))
    return path


def mapped_syllables(face: FontFace) -> list[str]:
    """The Hangul syllables that the face's cmap maps (drawn or not), in code-point order."""
    font = _open_ttfont(face.path, face.index)
    try:
        cmap = font.getBestCmap() or {}
    finally:
        font.close()
    return [chr(cp) for cp in sorted(cmap) if SYLLABLE_FIRST <= cp <= SYLLABLE_LAST]
