"""Layout metrics of fonts: where each font puts each Hangul syllable, so generated glyphs can be
placed as that font places them.

For every one of the 11,172 syllables a font gets an ink box and an advance width, in em units
with the pen at the origin and y up from the baseline (the font's own coordinates divided by
``unitsPerEm``), plus the font's line metrics. Boxes come from the outlines through fontTools'
``BoundsPen``, which reads TrueType (``glyf``) and CFF outlines alike.

Most fonts draw only the 2,350 syllables of KS X 1001 (see
:func:`korean_gan.data.fonts.drawn_syllables`); the metrics of the others are *predicted* by an
additive jamo model fitted per font on the syllables it draws:
``value ≈ intercept + a[initial] + b[vowel] + c[final]``. A Hangul syllable's layout is set by
its jamo (a vowel beside the initial makes it wide, a final makes it reach lower), so fitted on
KS X 1001 the model predicts the boxes of the other 8,822 syllables to 0.009-0.035 em on average
(0.015 em for HiMelody), a third to a half of the error of predicting the font's mean box.

Several fonts stack into a :class:`MetricsTable` (one ``.npz`` file); a new style, taken as a blend
of the fonts' styles (:func:`korean_gan.models.styles.convex_weights`), gets the same blend of their
metrics (:meth:`MetricsTable.blend`).
"""

from __future__ import annotations

import functools
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from korean_gan.data.charsets import SYLLABLE_FIRST, SYLLABLE_LAST, jamo_table
from korean_gan.data.fonts import FontError, FontFace, drawn_syllables

__all__ = [
    "DEFAULT_SPACE",
    "N_SYLLABLES",
    "FontMetrics",
    "MetricsError",
    "MetricsTable",
    "build_metrics_table",
    "font_metrics",
    "jamo_design",
    "predict_from_jamo",
]

#: Number of modern Hangul syllables; row ``i`` of every per-syllable array is ``chr(0xAC00 + i)``.
N_SYLLABLES = SYLLABLE_LAST - SYLLABLE_FIRST + 1
#: Advance of a space (em) for a font that maps no U+0020.
DEFAULT_SPACE = 0.3
FORMAT_VERSION = 1
# A value's worst round-trip error (em) that float16 storage may add; above it, float32 is kept.
_STORE_TOLERANCE = 1e-3
# Outlier screen (em). Across the 21 bundled fonts a real syllable's box and advance stay within
# 0.40 em of the font's median and within 0.28 em of a jamo fit that leaves the syllable out;
# BMHannaPro's food pictures, mapped to 144 rare syllables, lie 0.49 to 5.6 em away.
_OUTLIER_SPREAD = 0.5
_OUTLIER_RESIDUAL = 0.4


class MetricsError(ValueError):
    """A metrics file that cannot be read, with the path and the reason."""


@dataclass
class FontMetrics:
    """The layout metrics of one font (or of a blend of fonts), in em units.

    Attributes:
        name: The font face's name (:attr:`korean_gan.data.fonts.FontFace.name`), or ``"blend"``.
        ascender: Line ascender above the baseline (positive).
        descender: Line descender (negative: below the baseline).
        line_gap: Extra space between lines.
        space: Advance width of a space (U+0020), or :data:`DEFAULT_SPACE` if the font has none.
        boxes: ``(11172, 4)`` float32 ink boxes ``(x0, y0, x1, y1)`` in code-point order; x from
            the pen position (``x0`` is the left side bearing), y up from the baseline.
        advances: ``(11172,)`` float32 advance widths.
        drawn: ``(11172,)`` bool; True where the values come from the font's own outline, False
            where the jamo model predicted them.
    """

    name: str
    ascender: float
    descender: float
    line_gap: float
    space: float
    boxes: np.ndarray
    advances: np.ndarray
    drawn: np.ndarray

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, dtype=np.float32)
        self.advances = np.asarray(self.advances, dtype=np.float32)
        self.drawn = np.asarray(self.drawn, dtype=bool)
        for field, value, shape in (("boxes", self.boxes, (N_SYLLABLES, 4)),
                                    ("advances", self.advances, (N_SYLLABLES,)),
                                    ("drawn", self.drawn, (N_SYLLABLES,))):
            if value.shape != shape:
                raise ValueError(f"font metrics {self.name!r}: {field} has shape {value.shape}, "
                                 f"expected {shape}")

    def line(self) -> np.ndarray:
        """``(4,)`` float32: ascender, descender, line gap, space."""
        return np.array([self.ascender, self.descender, self.line_gap, self.space],
                        dtype=np.float32)

    def box(self, char: str) -> tuple[float, float, float, float]:
        """The ink box ``(x0, y0, x1, y1)`` of one syllable, in em."""
        x0, y0, x1, y1 = (float(v) for v in self.boxes[_syllable_index(char)])
        return x0, y0, x1, y1

    def advance(self, char: str) -> float:
        """The advance width of one syllable, in em."""
        return float(self.advances[_syllable_index(char)])


def _syllable_index(char: str) -> int:
    if len(char) != 1 or not SYLLABLE_FIRST <= ord(char) <= SYLLABLE_LAST:
        raise ValueError(f"{char!r} is not a precomposed Hangul syllable")
    return ord(char) - SYLLABLE_FIRST


@functools.lru_cache(maxsize=1)
def jamo_design() -> np.ndarray:
    """The additive jamo model's design matrix: ``(11172, 69)`` float64, read-only.

    Columns: an intercept, then one-hot columns of the 19 initials, 21 vowels and 28 finals
    (the first of them "no final"). Each one-hot group sums to the intercept, so the matrix has
    rank 67; :func:`numpy.linalg.lstsq` returns the minimum-norm fit, whose predictions are the
    same as any other least-squares fit's.
    """
    chars = [chr(cp) for cp in range(SYLLABLE_FIRST, SYLLABLE_LAST + 1)]
    jamo = jamo_table(chars)
    rows = np.arange(N_SYLLABLES)
    design = np.zeros((N_SYLLABLES, 1 + 19 + 21 + 28))
    design[:, 0] = 1.0
    design[rows, 1 + jamo[:, 0]] = 1.0
    design[rows, 20 + jamo[:, 1]] = 1.0
    design[rows, 41 + jamo[:, 2]] = 1.0
    design.flags.writeable = False
    return design


def predict_from_jamo(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Fits the additive jamo model on the ``known`` syllables and predicts every syllable.

    A jamo that no known syllable contains gets a zero coefficient (the minimum-norm fit), so its
    syllables are predicted from their other two jamo and the mean.

    Args:
        values: ``(11172,)`` or ``(11172, K)`` values in code-point order; rows that are not
            ``known`` are ignored (they may be NaN).
        known: ``(11172,)`` bool, the rows to fit on.

    Returns:
        float64 predictions of the same shape as ``values``, for all rows (known ones included).

    Raises:
        ValueError: a shape is wrong or no row is known.
    """
    values = np.asarray(values, dtype=np.float64)
    known = np.asarray(known, dtype=bool)
    if values.shape[:1] != (N_SYLLABLES,) or values.ndim > 2 or known.shape != (N_SYLLABLES,):
        raise ValueError(f"values must be ({N_SYLLABLES},) or ({N_SYLLABLES}, K) and known "
                         f"({N_SYLLABLES},); got {values.shape} and {known.shape}")
    if not known.any():
        raise ValueError("cannot fit the jamo model: no syllable is known")
    design = jamo_design()
    coef = np.linalg.lstsq(design[known], values[known], rcond=None)[0]
    return design @ coef


def _outliers(values: np.ndarray, drawn: np.ndarray) -> np.ndarray:
    """Drawn syllables whose glyph is not a Hangul syllable's (a picture mapped to its code point).

    Two screens, because pictures that share a rare jamo (BMHannaPro maps most syllables with the
    final ㅊ outside KS X 1001 to food) would pull the jamo fit toward themselves: first values
    far from the font's median, then, on a fit without those, values far from the fit.
    """
    median = np.median(values[drawn], axis=0)
    keep = drawn & (np.abs(values - median).max(axis=1) <= _OUTLIER_SPREAD)
    design = jamo_design()
    for _ in range(5):  # settles in one or two rounds
        if not keep.any():
            break
        residual = np.abs(predict_from_jamo(values, keep) - values).max(axis=1)
        # A syllable with a rare jamo pulls the fit toward itself (its leverage h is large);
        # residual / (1 - h) is its residual under a fit that leaves it out.
        fitted = design[keep]
        leverage = ((design @ np.linalg.pinv(fitted.T @ fitted)) * design).sum(axis=1)
        free = 1.0 - leverage
        # The only drawn syllable with some jamo (h = 1) cannot be judged: keep it.
        left_out = np.where(free > 1e-6, residual / np.maximum(free, 1e-6), 0.0)
        refined = keep & (left_out <= _OUTLIER_RESIDUAL)
        if np.array_equal(refined, keep):
            break
        keep = refined
    return drawn & ~keep


def _line_metrics(font, path: Path) -> tuple[float, float, float]:
    """Ascender, descender, line gap in font units: hhea, else the OS/2 typo values."""
    hhea = font["hhea"] if "hhea" in font else None
    if hhea is not None and (hhea.ascent or hhea.descent):
        ascent, descent, gap = hhea.ascent, hhea.descent, hhea.lineGap
    elif "OS/2" in font:
        os2 = font["OS/2"]
        ascent, descent, gap = os2.sTypoAscender, os2.sTypoDescender, os2.sTypoLineGap
    else:
        raise FontError(f"{path} has no line metrics (neither hhea nor OS/2)")
    # Some fonts store the descent as a positive distance.
    return float(ascent), -abs(float(descent)), float(gap)


def font_metrics(face: FontFace) -> FontMetrics:
    """Measures one font face: line metrics, and the box and advance of every syllable.

    Syllables the face really draws (:func:`korean_gan.data.fonts.drawn_syllables`) are measured
    from their outlines; the others, and drawn ones that are pictures rather than Hangul (far from
    every other syllable of the font), are predicted by :func:`predict_from_jamo`.

    Args:
        face: The font face.

    Returns:
        The face's metrics, named ``face.name``.

    Raises:
        FontError: the font cannot be read, or it draws no Hangul syllable.
    """
    from fontTools.pens.boundsPen import BoundsPen
    from fontTools.ttLib import TTFont

    chars = [chr(cp) for cp in range(SYLLABLE_FIRST, SYLLABLE_LAST + 1)]
    values = np.full((N_SYLLABLES, 5), np.nan)  # x0, y0, x1, y1, advance in font units
    drawn = np.zeros(N_SYLLABLES, dtype=bool)
    try:
        drawn_chars, _ = drawn_syllables(face, chars)
        # Open the file here so it is closed even when fontTools fails on a damaged font.
        with open(face.path, "rb") as fh:
            font = TTFont(fh, fontNumber=face.index, lazy=True)
            units = float(font["head"].unitsPerEm)
            ascent, descent, gap = _line_metrics(font, face.path)
            cmap = font.getBestCmap() or {}
            hmtx = font["hmtx"].metrics
            glyph_set = font.getGlyphSet()
            space = hmtx[cmap[0x20]][0] / units if 0x20 in cmap else DEFAULT_SPACE
            for char in drawn_chars:
                glyph = cmap[ord(char)]
                pen = BoundsPen(glyph_set)
                glyph_set[glyph].draw(pen)
                if pen.bounds is None:  # a composite of empty glyphs
                    continue
                i = ord(char) - SYLLABLE_FIRST
                values[i, :4] = pen.bounds
                values[i, 4] = hmtx[glyph][0]
                drawn[i] = True
    except FontError:
        raise
    except Exception as err:  # fontTools raises many types for damaged files
        raise FontError(f"cannot read the metrics of {face.path} "
                        f"({type(err).__name__}: {err})") from None
    if not drawn.any():
        raise FontError(f"{face.path} draws no Hangul syllable; its metrics cannot be measured")
    values /= units
    drawn &= ~_outliers(values, drawn)
    if not drawn.all():
        values = np.where(drawn[:, None], values, predict_from_jamo(values, drawn))
    return FontMetrics(
        name=face.name, ascender=ascent / units, descender=descent / units, line_gap=gap / units,
        space=float(space), boxes=values[:, :4], advances=values[:, 4], drawn=drawn,
    )


@dataclass
class MetricsTable:
    """The metrics of several fonts, stacked (row ``f`` is font ``names[f]``).

    Attributes:
        names: The fonts' names, unique.
        boxes: ``(F, 11172, 4)`` float32 ink boxes (see :class:`FontMetrics`).
        advances: ``(F, 11172)`` float32 advance widths.
        drawn: ``(F, 11172)`` bool, True where measured rather than predicted.
        lines: ``(F, 4)`` float32: ascender, descender, line gap, space.
    """

    names: list[str]
    boxes: np.ndarray
    advances: np.ndarray
    drawn: np.ndarray
    lines: np.ndarray

    def __post_init__(self) -> None:
        self._float64: tuple[np.ndarray, ...] | None = None
        self.names = [str(name) for name in self.names]
        self.boxes = np.asarray(self.boxes, dtype=np.float32)
        self.advances = np.asarray(self.advances, dtype=np.float32)
        self.drawn = np.asarray(self.drawn, dtype=bool)
        self.lines = np.asarray(self.lines, dtype=np.float32)
        count = len(self.names)
        if count == 0:
            raise ValueError("a metrics table needs at least one font")
        repeated = sorted({name for name in self.names if self.names.count(name) > 1})
        if repeated:
            raise ValueError(f"font names must be unique; repeated: {', '.join(repeated)}")
        for field, value, shape in (("boxes", self.boxes, (count, N_SYLLABLES, 4)),
                                    ("advances", self.advances, (count, N_SYLLABLES)),
                                    ("drawn", self.drawn, (count, N_SYLLABLES)),
                                    ("lines", self.lines, (count, 4))):
            if value.shape != shape:
                raise ValueError(f"metrics table: {field} has shape {value.shape}, "
                                 f"expected {shape} for {count} fonts")

    def __len__(self) -> int:
        return len(self.names)

    @classmethod
    def from_fonts(cls, metrics: Sequence[FontMetrics]) -> MetricsTable:
        """Stacks the metrics of several fonts, in the order given.

        Raises:
            ValueError: the list is empty or two fonts have the same name.
        """
        if not metrics:
            raise ValueError("a metrics table needs at least one font")
        return cls(
            names=[m.name for m in metrics],
            boxes=np.stack([m.boxes for m in metrics]),
            advances=np.stack([m.advances for m in metrics]),
            drawn=np.stack([m.drawn for m in metrics]),
            lines=np.stack([m.line() for m in metrics]),
        )

    def _row(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise ValueError(f"unknown font {name!r}; known: {', '.join(self.names)}") from None

    def select(self, names: Sequence[str]) -> MetricsTable:
        """The table of the named fonts, rows in the order given.

        Raises:
            ValueError: a name is not in the table (the error lists the known ones), or is given
                twice.
        """
        rows = [self._row(name) for name in names]
        return MetricsTable(names=[self.names[r] for r in rows], boxes=self.boxes[rows],
                            advances=self.advances[rows], drawn=self.drawn[rows],
                            lines=self.lines[rows])

    def font(self, name: str) -> FontMetrics:
        """The metrics of one font of the table (a copy).

        Raises:
            ValueError: the name is not in the table.
        """
        row = self._row(name)
        ascender, descender, line_gap, space = (float(v) for v in self.lines[row])
        return FontMetrics(name=name, ascender=ascender, descender=descender, line_gap=line_gap,
                           space=space, boxes=self.boxes[row].copy(),
                           advances=self.advances[row].copy(), drawn=self.drawn[row].copy())

    def blend(self, weights: np.ndarray) -> FontMetrics:
        """The weighted average of the fonts' metrics, every field alike.

        A new style expressed as a blend of the fonts' styles (see
        :func:`korean_gan.models.styles.convex_weights`) is laid out with the same blend of
        their metrics.

        Args:
            weights: ``(F,)`` non-negative weights, one per row; they are normalised to sum to 1.

        Returns:
            Metrics named ``"blend"``; ``drawn`` is that of the font with the largest weight.

        Raises:
            ValueError: the weights have the wrong shape, are negative or not finite, or sum to 0.
        """
        weights = np.asarray(weights, dtype=np.float64)
        if weights.shape != (len(self),):
            raise ValueError(f"blend weights must have shape ({len(self)},), one per font; got "
                             f"{weights.shape}")
        if not np.isfinite(weights).all() or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f"blend weights must be finite, non-negative and not all 0; got "
                             f"{weights.tolist()}")
        weights = weights / weights.sum()
        if self._float64 is None:  # converted once: a line of text blends once per line
            self._float64 = tuple(a.astype(np.float64)
                                  for a in (self.lines, self.boxes, self.advances))
        lines, boxes, advances = self._float64
        line = np.tensordot(weights, lines, axes=1)
        return FontMetrics(
            name="blend", ascender=float(line[0]), descender=float(line[1]),
            line_gap=float(line[2]), space=float(line[3]),
            boxes=np.tensordot(weights, boxes, axes=1),
            advances=np.tensordot(weights, advances, axes=1),
            drawn=self.drawn[int(np.argmax(weights))].copy(),
        )

    def save(self, path: str | os.PathLike) -> None:
        """Writes the table as a compressed ``.npz``, atomically.

        Boxes and advances are stored as float16 (a third of the file), which changes no value by
        more than 1e-3 em below 4 em; an array with a larger value is stored as float32 instead.
        """
        from korean_gan._io import save_npz

        save_npz(path, {
            "format_version": np.int32(FORMAT_VERSION),
            "names": np.array(self.names, dtype=str),
            "boxes": _compact(self.boxes),
            "advances": _compact(self.advances),
            "drawn": self.drawn,
            "lines": self.lines,
        }, compresslevel=6)

    @classmethod
    def load(cls, path: str | os.PathLike) -> MetricsTable:
        """Reads a table written by :meth:`save`.

        Raises:
            MetricsError: the file is missing, damaged or not a metrics table.
        """
        path = Path(path)
        if not path.is_file():
            raise MetricsError(f"metrics file {path} does not exist")
        try:
            with np.load(path, allow_pickle=False) as npz:
                version = int(npz["format_version"])
                if version != FORMAT_VERSION:
                    raise MetricsError(f"metrics file {path} has format version {version}; this "
                                       f"version of korean-gan reads {FORMAT_VERSION}")
                return cls(names=npz["names"].tolist(), boxes=npz["boxes"],
                           advances=npz["advances"], drawn=npz["drawn"], lines=npz["lines"])
        except MetricsError:
            raise
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
            raise MetricsError(f"metrics file {path} is damaged or not a metrics table "
                               f"({type(err).__name__}: {err})") from None


def _compact(values: np.ndarray) -> np.ndarray:
    """float16 if that keeps every value within the storage tolerance, else float32."""
    values = np.asarray(values, dtype=np.float32)
    with np.errstate(invalid="ignore", over="ignore"):  # a value beyond float16's range fails below
        half = values.astype(np.float16)
        error = np.abs(half.astype(np.float32) - values)
    if np.all(error <= _STORE_TOLERANCE):
        return half
    return values


def build_metrics_table(faces: Sequence[FontFace], progress: bool = False) -> MetricsTable:
    """Measures every face (:func:`font_metrics`) into one table, in the order given.

    Args:
        faces: The font faces (names must be unique, as :func:`~korean_gan.data.fonts.load_faces`
            makes them).
        progress: Show a progress bar.

    Raises:
        FontError: a font cannot be measured.
        ValueError: no face is given.
    """
    from tqdm.auto import tqdm

    if not faces:
        raise ValueError("no font face to measure")
    metrics = [font_metrics(face)
               for face in tqdm(faces, desc="font metrics", unit="font", disable=not progress)]
    return MetricsTable.from_fonts(metrics)
