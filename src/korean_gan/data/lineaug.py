"""Line augmentation: a laid-out text line made to look handwritten and scanned.

:func:`korean_gan.data.layout.layout_text` places every character as a font would; a hand is
less regular. This module adds the variation in two steps, on images in the renderer's
convention (uint8, 255 = paper):

1. Per glyph, before pasting (:func:`glyph_jitter`, :func:`rotate_glyph`): each character's box
   is scaled, shifted and turned a little, independently of its neighbours.
2. Per line, after pasting (:func:`line_effects`): the whole line is slanted, its strokes made
   a little heavier or lighter, and it is put on paper and "scanned" (blur, noise, JPEG).

Each character's box comes out twice: as an upright ink box, and as a quadrilateral that turns
and slants with the glyph (:func:`glyph_quads`, :func:`slant_quads`), like the character
boxes of scene-text datasets: a turned or slanted neighbour reaches into an upright box, not
into the quadrilateral.

The defaults of :class:`LineAugment` give moderate, realistic variation; ``LineAugment.none()``
turns everything off and leaves the layout exactly as typeset. Every random choice comes from
the ``numpy.random.Generator`` passed in, so the same seed gives the same bytes. Sizes are in
em and scaled by ``px_per_em``, so a line drawn larger varies in proportion.

Nothing here knows of models: numpy, OpenCV and nothing else. ``python -m
korean_gan.data.lineaug`` prints the time each function takes on a 64 × 800 line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["LineAugError", "LineAugment", "glyph_jitter", "glyph_quads", "line_effects",
           "rotate_glyph", "slant_quads"]

Box = tuple[int, int, int, int]
#: A box's four corners ``(x0, y0, x1, y1, x2, y2, x3, y3)``: top left, top right, bottom right
#: and bottom left as the glyph sees them, in page pixels.
Quad = tuple[float, float, float, float, float, float, float, float]

# Jitter draws are normal, truncated at this many sd so that a rare draw cannot turn a glyph
# upside down or shrink it to nothing (the sd of the truncated draw is 0.987 of the nominal).
_TRUNCATE = 3.0
# Effects are specified at this resolution and scaled with px_per_em.
_REFERENCE_PX_PER_EM = 64
# Kinds of paper line_effects draws from, with equal probability.
_PAPERS = ("plain", "fibres", "ruled")


class LineAugError(ValueError):
    """A line augmentation setting or argument out of its allowed range."""


# Allowed range of each setting, inclusive: (low, high, unit for messages).
_RANGES = {
    "size_jitter": (0.0, 0.3, "relative sd"),
    "baseline_jitter": (0.0, 0.5, "sd in em"),
    "spacing_jitter": (0.0, 0.5, "sd in em"),
    "rotation": (0.0, 30.0, "sd in degrees"),
    "slant": (0.0, 1.0, "shear"),
    "ink_weight": (0.0, 1.0, "probability"),
    "paper": (0.0, 1.0, "probability"),
    "blur": (0.0, 1.0, "probability"),
    "noise": (0.0, 1.0, "probability"),
    "jpeg": (0.0, 1.0, "probability"),
}


@dataclass
class LineAugment:
    """How much a line varies. Defaults give moderate, realistic variation; ``none()`` turns
    everything off (the layout exactly as typeset).

    Attributes:
        size_jitter: sd of each glyph's scale, relative; its box is scaled about its centre.
        baseline_jitter: sd of each glyph's vertical shift, in em.
        spacing_jitter: sd of each glyph's horizontal shift, in em. Shifts are independent per
            glyph (a gap varies with sd √2 × this), not a drift that accumulates along the
            line, so a long line keeps its typeset length and stays on its page.
        rotation: sd of each glyph's rotation, in degrees.
        slant: the line's shear is drawn uniformly in ``[-slant, slant]``
            (``x += shear * (bottom - y)``; 0.12 is about 7°).
        ink_weight: probability of making the strokes heavier or lighter (equally likely) by
            about 1 px in total width at 64 px/em.
        paper: probability of a procedural paper background (a grey tint with mottled grain,
            plus fibres or ruled lines); otherwise the paper stays white.
        blur: probability of a Gaussian blur, sigma in [0.3, 1.0] px at 64 px/em.
        noise: probability of Gaussian noise, sd in [2, 10] grey levels.
        jpeg: probability of JPEG artefacts, quality in [30, 90].
        keep_apart: a glyph's jitter may close the gap to the character before it (on the
            same row) but not run into it: where the shifted, scaled and turned boxes would
            overlap and the layout's did not, the glyph moves right until they touch.
    """

    size_jitter: float = 0.06      # a hand's letters vary by a few per cent in size
    baseline_jitter: float = 0.03  # and wander about 2 px off the baseline at 64 px/em
    spacing_jitter: float = 0.03   # and about as much along the line
    rotation: float = 2.0          # each letter turned by a degree or two
    slant: float = 0.12            # up to about 7° of italic either way
    ink_weight: float = 0.5        # half the lines written with a finer or broader pen
    paper: float = 0.5             # half on textured paper, half on clean white
    blur: float = 0.3              # a scan slightly out of focus
    noise: float = 0.3             # sensor noise
    jpeg: float = 0.3              # compressed on the way
    keep_apart: bool = True        # a hand does not write over the syllable before

    def __post_init__(self) -> None:
        self.validate()

    @classmethod
    def none(cls) -> LineAugment:
        """All variation off: the layout exactly as typeset."""
        return cls(**{name: 0.0 for name in _RANGES})

    def validate(self) -> None:
        """Raises LineAugError naming the first setting outside its allowed range."""
        for name, (low, high, unit) in _RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value) or not low <= value <= high:
                raise LineAugError(f"LineAugment.{name} must be a number in [{low:g}, {high:g}] "
                                   f"({unit}), got {value!r}")
        if not isinstance(self.keep_apart, bool):
            raise LineAugError(f"LineAugment.keep_apart must be true or false, got "
                               f"{self.keep_apart!r}")


def _check_px_per_em(px_per_em) -> None:
    if isinstance(px_per_em, bool) or not isinstance(px_per_em, int | np.integer) \
            or px_per_em < 1:
        raise LineAugError(f"px_per_em must be a positive integer, got {px_per_em!r}")


def _check_image(image, name: str) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 2 \
            or image.size == 0:
        got = (f"{image.dtype} array of shape {image.shape}" if isinstance(image, np.ndarray)
               else type(image).__name__)
        raise LineAugError(f"{name} must be a non-empty 2-D uint8 array, got {got}")


def _truncated_normal(rng: np.random.Generator, shape) -> np.ndarray:
    return np.clip(rng.standard_normal(shape), -_TRUNCATE, _TRUNCATE)


# Per-character size, position and angle variation, and (below) shear and stroke-width changes,
# as in rendering handwriting fonts for recognisers: Krishnan & Jawahar 2016, "Generating
# Synthetic Data for Text Recognition", https://arxiv.org/abs/1608.04224.
def glyph_jitter(boxes: list[Box], px_per_em: int, config: LineAugment,
                 rng: np.random.Generator) -> tuple[list[Box], list[float]]:
    """Scales, shifts and turns each glyph's box a little, as a hand would place it.

    Each box is scaled about its centre by ``1 + size_jitter * z`` and moved by
    ``(spacing_jitter, baseline_jitter) * z * px_per_em``, with ``z`` standard normal draws
    (truncated at 3 sd) independent per glyph. A glyph turned by an angle needs more room for
    the same size, so the returned box is the bounding box of the turned rectangle: paste
    ``rotate_glyph(glyph, angle)`` into it with ``paste_ink``. Four draws are made per box
    whatever the settings, so changing one setting does not reshuffle the others.

    Args:
        boxes: The laid-out ink boxes ``(x0, y0, x1, y1)`` in page pixels (x1, y1 exclusive).
        px_per_em: Pixels per em of the layout.
        config: The variation.
        rng: The source of randomness.

    Returns:
        ``(boxes, angles)``: the new integer boxes (each at least 1 px wide and high; may
        extend past the page, which ``paste_ink`` cuts) and each glyph's rotation in degrees
        (counter-clockwise as seen, rounded to 0.01°).

    Raises:
        LineAugError: a bad setting, ``px_per_em`` or box.
    """
    config.validate()
    _check_px_per_em(px_per_em)
    array = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(array) and ((array[:, 2] < array[:, 0]).any() or (array[:, 3] < array[:, 1]).any()):
        raise LineAugError("every box must be (x0, y0, x1, y1) with x1 >= x0 and y1 >= y0")
    z = _truncated_normal(rng, (len(array), 4))
    scale = 1.0 + config.size_jitter * z[:, 0]
    dx = config.spacing_jitter * px_per_em * z[:, 1]
    dy = config.baseline_jitter * px_per_em * z[:, 2]
    # + 0.0 turns a -0.0 (a negative draw times a zero sd) into 0.0.
    angles = np.round(config.rotation * z[:, 3], 2) + 0.0
    theta = np.radians(angles)
    cos, sin = np.abs(np.cos(theta)), np.abs(np.sin(theta))
    cx = (array[:, 0] + array[:, 2]) / 2 + dx
    cy = (array[:, 1] + array[:, 3]) / 2 + dy
    w = (array[:, 2] - array[:, 0]) * scale
    h = (array[:, 3] - array[:, 1]) * scale
    # Bounding box of the turned w × h rectangle (exactly w × h when the angle is 0).
    half_w = (w * cos + h * sin) / 2
    half_h = (w * sin + h * cos) / 2
    if config.keep_apart:
        cx = _kept_apart(array, cx, cy, half_w, half_h)
    x0 = np.round(cx - half_w)
    y0 = np.round(cy - half_h)
    x1 = np.maximum(np.round(cx + half_w), x0 + 1)
    y1 = np.maximum(np.round(cy + half_h), y0 + 1)
    out = [(int(a), int(b), int(c), int(d)) for a, b, c, d in zip(x0, y0, x1, y1, strict=True)]
    return out, [float(a) for a in angles]


def _kept_apart(typeset: np.ndarray, cx: np.ndarray, cy: np.ndarray, half_w: np.ndarray,
                half_h: np.ndarray) -> np.ndarray:
    """Centres moved right, in text order, so that no box runs into the one before it on its
    row unless their typeset boxes already overlapped."""
    cx = cx.copy()
    for i in range(1, len(cx)):
        j = i - 1
        same_row = min(cy[i] + half_h[i], cy[j] + half_h[j]) \
            > max(cy[i] - half_h[i], cy[j] - half_h[j])
        if not same_row or typeset[i, 0] < typeset[j, 0]:  # a new row, or right to left
            continue
        allowed = min(typeset[i, 0] - typeset[j, 2], 0.0)  # a typeset overlap is kept
        gap = (cx[i] - half_w[i]) - (cx[j] + half_w[j])
        if gap < allowed:
            cx[i] += allowed - gap
    return cx


def glyph_quads(boxes: list[Box], angles: list[float]) -> list[Quad]:
    """Each glyph's box as it was turned: the rectangle turned by ``angle`` whose bounding box
    is the box (what :func:`glyph_jitter` returned).

    The turned glyph is drawn filling its box, so its upright rectangle is recovered from the
    box's width W and height H: ``w cos + h sin = W``, ``w sin + h cos = H``. Where that has no
    positive solution (turns near 45°, or a box too thin for its angle) the box itself is the
    quad.

    Args:
        boxes: Boxes ``(x0, y0, x1, y1)`` from :func:`glyph_jitter`.
        angles: Their angles in degrees, counter-clockwise as seen.

    Returns:
        One :data:`Quad` per box.
    """
    quads = []
    for (x0, y0, x1, y1), angle in zip(boxes, angles, strict=True):
        width, height = x1 - x0, y1 - y0
        theta = math.radians(angle)
        cos, sin = abs(math.cos(theta)), abs(math.sin(theta))
        det = cos * cos - sin * sin
        w = (width * cos - height * sin) / det if det > 1e-6 else 0.0
        h = (height * cos - width * sin) / det if det > 1e-6 else 0.0
        if w <= 0 or h <= 0:
            w, h, theta = width, height, 0.0
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        c, s = math.cos(theta), math.sin(theta)
        corners = []
        for u, v in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)):
            # Counter-clockwise as seen, with y pointing down (OpenCV's rotation matrix).
            corners += [cx + u * c + v * s, cy - u * s + v * c]
        quads.append(tuple(corners))
    return quads


def slant_quads(quads: list[Quad], shear: float, shape: tuple[int, int]) -> list[Quad]:
    """Quads moved as :func:`line_effects` slants the page of shape ``shape`` by ``shear``
    (its ``params["slant"]``), clipped to the slanted page.

    Args:
        quads: Quads on the page before the slant (from :func:`glyph_quads`).
        shear: The slant drawn for the line.
        shape: ``(height, width)`` of the page before the slant.

    Returns:
        The quads on the slanted page.
    """
    height, width = shape
    new_width = width + (math.ceil(abs(shear) * height) if shear else 0)
    out = []
    for quad in quads:
        corners = []
        for x, y in zip(quad[0::2], quad[1::2], strict=True):
            corners += [min(max(_slanted_x(x, y, shear, height), 0.0), float(new_width)),
                        min(max(y, 0.0), float(height))]
        out.append(tuple(corners))
    return out


def _slanted_x(x: float, y: float, shear: float, height: int) -> float:
    """Where ``x`` at height ``y`` goes on a page of ``height`` slanted by ``shear``."""
    # A negative shear moves the top left: everything shifts right by the amount it moves.
    offset = -shear * height if shear < 0 else 0.0
    return x + shear * (height - y) + offset


def rotate_glyph(glyph: np.ndarray, angle: float) -> np.ndarray:
    """A glyph turned about its centre, on a canvas just large enough to hold all of it.

    Args:
        glyph: uint8 image, 255 = paper.
        angle: Degrees, counter-clockwise as seen (OpenCV's convention; 90 is ``np.rot90``).

    Returns:
        The turned uint8 image, the uncovered corners filled with paper. An angle of 0 returns
        a copy of ``glyph``.
    """
    _check_image(glyph, "glyph")
    if not math.isfinite(angle):
        raise LineAugError(f"angle must be a finite number of degrees, got {angle!r}")
    if angle % 360 == 0:
        return glyph.copy()
    h, w = glyph.shape
    theta = math.radians(angle)
    cos, sin = abs(math.cos(theta)), abs(math.sin(theta))
    # The tolerance keeps cos(90°) = 6e-17 from adding a pixel.
    new_w = max(1, math.ceil(w * cos + h * sin - 1e-6))
    new_h = max(1, math.ceil(w * sin + h * cos - 1e-6))
    # Pixel-centre coordinates ((n - 1) / 2 is the middle), so quarter turns map pixels exactly.
    matrix = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, 1.0)
    matrix[0, 2] += (new_w - w) / 2
    matrix[1, 2] += (new_h - h) / 2
    return cv2.warpAffine(glyph, matrix, (new_w, new_h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=255)


# Blur, noise and JPEG as a scanner or camera degrades a page: Baird 1990, "Document image
# defect models"; for synthetic text lines, Jaderberg et al. 2014, "Synthetic Data and
# Artificial Neural Networks for Natural Scene Text Recognition", https://arxiv.org/abs/1406.2227.
def line_effects(page: np.ndarray, boxes: list[Box], px_per_em: int, config: LineAugment,
                 rng: np.random.Generator) -> tuple[np.ndarray, list[Box], dict]:
    """Slant, ink weight, paper, blur, noise and JPEG, in that order (pen, paper, scanner).

    Args:
        page: uint8 page, 255 = paper, with the characters drawn on it. Not modified.
        boxes: The characters' ink boxes ``(x0, y0, x1, y1)`` in page pixels.
        px_per_em: Pixels per em of the page.
        config: The variation.
        rng: The source of randomness.

    Returns:
        ``(page, boxes, params)``: the new page (wider by ``ceil(|shear| * height)`` when
        slanted, so nothing is cut; the same height), the boxes transformed with it (each the
        bounding box of its sheared corners, clipped to the page), and the parameters drawn,
        JSON-serialisable: ``{"slant": shear, "ink": -1 | 0 | 1, "paper": "none" | "plain" |
        "fibres" | "ruled", "blur": sigma px or 0.0, "noise": sd or 0.0, "jpeg": quality or
        0}``. Recorded values are rounded first and then used, so they reproduce the line.

    Raises:
        LineAugError: a bad setting, ``px_per_em`` or page.
    """
    config.validate()
    _check_px_per_em(px_per_em)
    _check_image(page, "page")
    scale = px_per_em / _REFERENCE_PX_PER_EM
    # Every decision and parameter up front, in a fixed number of draws, so that turning one
    # effect off leaves the others' draws unchanged; textures are drawn after these.
    (u_slant, u_ink, u_ink_dir, u_paper, u_kind, u_level, u_blur, u_sigma, u_noise, u_sd,
     u_jpeg, u_quality) = rng.random(12)
    params: dict = {}

    shear = round(float((2 * u_slant - 1) * config.slant), 4) + 0.0
    params["slant"] = shear
    out, boxes = _shear(page, boxes, shear)

    ink = (1 if u_ink_dir < 0.5 else -1) if u_ink < config.ink_weight else 0
    params["ink"] = ink
    if ink:
        out = _ink_weight(out, ink, 0.5 * scale)

    kind = _PAPERS[int(u_kind * len(_PAPERS))] if u_paper < config.paper else "none"
    params["paper"] = kind
    if kind != "none":
        paper = _paper(out.shape, boxes, px_per_em, kind, u_level, rng)
        # Ink multiplies over paper, so it always stays darker than the paper under it.
        out = cv2.multiply(out, paper, scale=1 / 255)

    sigma = round(float((0.3 + 0.7 * u_sigma) * scale), 3) if u_blur < config.blur else 0.0
    params["blur"] = sigma
    if sigma:
        out = cv2.GaussianBlur(out, (0, 0), sigma)

    sd = round(float(2 + 8 * u_sd), 2) if u_noise < config.noise else 0.0
    params["noise"] = sd
    if sd:
        noise = rng.standard_normal(out.shape, dtype=np.float32)
        # OpenCV adds, rounds and saturates to uint8 in one pass.
        out = cv2.addWeighted(out, 1.0, noise, sd, 0.0, dtype=cv2.CV_8U)

    quality = min(30 + int(u_quality * 61), 90) if u_jpeg < config.jpeg else 0
    params["jpeg"] = quality
    if quality:
        ok, data = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:  # pragma: no cover - OpenCV encodes any non-empty uint8 image
            raise LineAugError("OpenCV could not JPEG-encode the page")
        out = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)

    if out is page:
        out = page.copy()
    return out, boxes, params


def _shear(page: np.ndarray, boxes: list[Box], shear: float) -> tuple[np.ndarray, list[Box]]:
    """``x += shear * (height - y)``, the page widened so that nothing is cut."""
    height, width = page.shape
    if shear == 0:
        return page, [tuple(int(v) for v in box) for box in boxes]
    grow = math.ceil(abs(shear) * height)
    offset = -shear * height if shear < 0 else 0.0
    new_width = width + grow
    # OpenCV's pixel coordinates are pixel centres: y + 0.5 in edge coordinates.
    matrix = np.array([[1.0, -shear, shear * (height - 0.5) + offset], [0.0, 1.0, 0.0]])
    out = cv2.warpAffine(page, matrix, (new_width, height), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=255)
    moved = []
    for x0, y0, x1, y1 in boxes:
        xs = [_slanted_x(x, y, shear, height) for x in (x0, x1) for y in (y0, y1)]
        moved.append((min(max(math.floor(min(xs)), 0), new_width),
                      min(max(int(y0), 0), height),
                      min(max(math.ceil(max(xs)), 0), new_width),
                      min(max(int(y1), 0), height)))
    return out, moved


# Grey morphology for stroke weight, as augment.stroke_variants does for single glyphs.
_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


def _ink_weight(page: np.ndarray, direction: int, amount: float) -> np.ndarray:
    """Strokes ``amount`` px heavier (direction 1) or lighter (-1) on each side.

    Ink is dark, so erosion (a min filter) spreads it and dilation takes it away; whole pixels
    by repeated passes, the fraction by averaging with one more pass, so that 64 px/em lines
    change by half a pixel a side and thin strokes do not vanish.
    """
    op = cv2.erode if direction > 0 else cv2.dilate
    whole = int(amount)
    fraction = amount - whole
    base = op(page, _CROSS, iterations=whole) if whole else page
    if fraction < 1e-3:
        return base
    return cv2.addWeighted(base, 1 - fraction, op(base, _CROSS), fraction, 0)


def _paper(shape: tuple[int, int], boxes: list[Box], px_per_em: int, kind: str,
           u_level: float, rng: np.random.Generator) -> np.ndarray:
    """A procedural sheet of paper in grey levels (nothing read from files).

    A tint (cream, grey or bluish paper seen in grey: 222-250) with mottled grain (noise on a
    coarse grid, about a third of an em, smoothly resized up) and a little fine grain; then
    ``fibres``: a few faint short strokes, or ``ruled``: a printed rule under each line.
    """
    height, width = shape
    level = 222 + 28 * u_level
    # Mottling: low-frequency noise, a small random array resized up.
    cell = max(2, px_per_em // 3)
    coarse = rng.standard_normal((height // cell + 2, width // cell + 2), dtype=np.float32)
    mottle = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    # Fine grain at half resolution (a quarter of the draws), uniform in ±3 levels.
    fine = rng.random(((height + 1) // 2, (width + 1) // 2), dtype=np.float32)
    grain = cv2.resize(fine, (width, height), interpolation=cv2.INTER_LINEAR)
    amplitude = rng.uniform(1.5, 4.0)
    paper = cv2.scaleAdd(mottle, amplitude, np.float32(level - 3) + 6 * grain)
    paper = cv2.convertScaleAbs(paper)  # rounds and saturates to uint8 (all values are > 0)
    if kind == "fibres":
        # Fibres: faint, short, thin lines in every direction, about two per em².
        dark = np.zeros(shape, np.uint8)
        count = 1 + int(rng.integers(0, max(2, 2 * height * width // px_per_em ** 2)))
        for _ in range(count):
            x, y = rng.uniform(0, width), rng.uniform(0, height)
            length = rng.uniform(0.1, 0.5) * px_per_em
            turn = rng.uniform(0, math.pi)
            dx, dy = length * math.cos(turn) / 2, length * math.sin(turn) / 2
            cv2.line(dark, (round(x - dx), round(y - dy)), (round(x + dx), round(y + dy)),
                     int(rng.integers(8, 26)), 1, cv2.LINE_AA)
        paper = cv2.subtract(paper, dark)
    elif kind == "ruled":
        # Ruled lines sit a little below each line's ink bottoms (the writer wrote on them);
        # lines are found by grouping the boxes' bottoms that lie within half an em.
        rule = int(rng.integers(165, 215))  # light blue or grey print, seen in grey
        thickness = max(1, round(px_per_em / _REFERENCE_PX_PER_EM))
        drop = px_per_em * rng.uniform(0.02, 0.12)
        for bottom in _line_bottoms(boxes, px_per_em, height):
            y = round(bottom + drop)
            if 0 <= y < height:
                paper[y:y + thickness] = np.minimum(paper[y:y + thickness], rule)
    return paper


def _line_bottoms(boxes: list[Box], px_per_em: int, height: int) -> list[float]:
    """The typical ink bottom of each line of boxes (a guess at 0.8 of the page if none)."""
    bottoms = sorted(float(b[3]) for b in boxes)
    if not bottoms:
        return [0.8 * height]
    groups: list[list[float]] = [[bottoms[0]]]
    for b in bottoms[1:]:
        if b - groups[-1][-1] > px_per_em / 2:
            groups.append([])
        groups[-1].append(b)
    return [float(np.median(g)) for g in groups]


def _benchmark() -> None:
    """Prints each function's time on a 64 × 800 line (48 px/em, 16 glyphs)."""
    import time

    rng = np.random.default_rng(0)
    px_per_em = 48
    page = np.full((64, 800), 255, np.uint8)
    boxes = [(8 + 48 * i, 10, 50 + 48 * i, 54) for i in range(16)]
    for x0, y0, x1, y1 in boxes:
        page[y0:y1:6, x0:x1] = 0
    glyph = np.full((48, 48), 255, np.uint8)
    glyph[8:40:6, 6:42] = 0
    always = LineAugment(ink_weight=1, paper=1, blur=1, noise=1, jpeg=1)

    def timed(label: str, call, repeat: int = 300) -> None:
        call()
        start = time.perf_counter()
        for _ in range(repeat):
            call()
        print(f"{label:48s} {1000 * (time.perf_counter() - start) / repeat:7.3f} ms")

    timed("glyph_jitter, 16 boxes", lambda: glyph_jitter(boxes, px_per_em, LineAugment(), rng))
    timed("rotate_glyph 48 x 48, 16 glyphs",
          lambda: [rotate_glyph(glyph, 2.5) for _ in range(16)])
    timed("line_effects, defaults", lambda: line_effects(page, boxes, px_per_em, LineAugment(),
                                                         rng))
    timed("line_effects, every effect", lambda: line_effects(page, boxes, px_per_em, always,
                                                             rng))
    for name in ("slant", "ink_weight", "paper", "blur", "noise", "jpeg"):
        only = LineAugment.none()
        setattr(only, name, always.slant if name == "slant" else 1.0)
        timed(f"line_effects, {name} only",
              lambda only=only: line_effects(page, boxes, px_per_em, only, rng))


if __name__ == "__main__":
    _benchmark()
