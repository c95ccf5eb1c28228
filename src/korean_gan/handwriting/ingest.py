"""Scan ingestion: photos of filled-in handwriting sheets → a glyph dataset in your own hand.

For each photo (of any page of a :mod:`korean_gan.handwriting.template` sheet, in any order):

1. find the ArUco markers; the four corner markers give the page's perspective, the page
   marker says which page it is, and the template marker must match the layout;
2. rectify the photo onto the page's canonical geometry (a homography fitted to all marker
   corners), so rotation, tilt and perspective are undone;
3. even out the lighting: divide by a background estimate (a grey closing wider than any
   stroke, which keeps only the paper), and stretch the contrast between the page's ink
   level and the paper, so that the light grey box outlines vanish and ink becomes black;
4. cut each writing box (inset past its outline; the guide syllable is printed above the box),
   drop specks, skip blank cells, and fit the ink into the renderer's box exactly as
   :func:`korean_gan.data.render.fit_to_box` fits a font's glyph: same size, margin and polarity.

The result is written in the ``data build`` format (one font: the style name; one
augmentation: ``orig``), with a manifest holding a per-photo and per-cell report and a preview
grid of every cell of the template. Every photo is checked before anything is written.

Nothing here imports TensorFlow.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from korean_gan._io import check_output_path, sha256_file, write_json_atomic
from korean_gan.data.charsets import Charset
from korean_gan.data.dataset import GlyphDataset, check_dataset_target, save_dataset, sidecar_paths
from korean_gan.data.render import INK_THRESHOLD, PAPER, RenderConfig, fit_to_box
from korean_gan.handwriting.template import (
    ARUCO_DICTIONARY,
    CORNER_IDS,
    CORNER_NAMES,
    FIRST_CODE_ID,
    Layout,
    load_layout,
    make_layout,
)

__all__ = [
    "CellReport",
    "IngestConfig",
    "IngestError",
    "IngestResult",
    "PageScan",
    "cut_cells",
    "ingest",
    "ingest_photos",
    "scan_photo",
]

FORMAT_VERSION = 1
# Status of a cell in the report.
OK, BLANK, SMALL, OUTSIDE = "ok", "blank", "small mark", "outside the photo"
# Detection runs on a copy whose longer side is at most this: markers stay >50 px wide on a
# whole-page photo, and a 12-megapixel photo is detected in a fraction of the time.
_DETECT_MAX_SIDE = 2000
# A homography that misses the marker corners by more than this (in mm on the page) means a
# curled page or a misread marker.
_MAX_MARKER_ERROR_MM = 1.5
# Ink cover (share of the box) below which a cell counts as blank, and ink extent (share of
# the box side) below which the ink is a stray mark rather than a syllable.
_BLANK_COVER = 0.0015
_SMALL_EXTENT = 0.15


class IngestError(ValueError):
    """A photo, layout or request that cannot be ingested, with the reason."""


@dataclass
class IngestConfig:
    """What :func:`ingest` reads and writes.

    Attributes:
        photos: Photos or scans (JPEG, PNG, ...) of filled-in pages, in any order.
        layout: The layout ``.json`` written beside the sheet by ``korean-gan template``.
        charset: Instead of ``layout``: the charset the sheet was made with (with ``page``,
            ``dpi`` and ``box_mm``), to rebuild the same layout.
        page: Page size of the sheet (``A4`` or ``letter``), with ``charset``.
        dpi: Layout resolution, with ``charset``.
        box_mm: Box size, with ``charset``.
        out: The ``.npz`` to write.
        style: The style (font) name stored in the dataset; default: the output's stem.
        size: Glyph side in pixels (the renderer's default, 32).
        preview: Also write the preview grid PNG.
    """

    photos: tuple[str, ...] = ()
    layout: str | None = None
    charset: str | None = None
    page: str = "A4"
    dpi: int = 200
    box_mm: float = 20.0
    out: str = "data/mine.npz"
    style: str | None = None
    size: int = 32
    preview: bool = True


@dataclass
class CellReport:
    """What became of one cell of one photo."""

    photo: str
    page: int
    cell: int
    row: int
    col: int
    char: str
    status: str
    ink: float
    touches_edge: bool = False

    def to_json(self) -> dict:
        """The report entry as a dict."""
        return asdict(self)


@dataclass
class PageScan:
    """One photo, located and rectified.

    Attributes:
        photo: The photo's path (or name).
        page_index: Which page of the template it shows (0-based).
        page: The rectified page, float32 in [0, 1] (1 = paper), lighting evened out.
        ink_level: The page's typical ink darkness (0 = black) the contrast is stretched from.
        px_per_mm: The photo's resolution on the page.
        marker_error_px: RMS distance between the marker corners and the fitted homography, in
            page pixels.
        photo_to_page: The 3×3 homography from photo pixels to page pixels.
        photo_shape: ``(height, width)`` of the photo.
    """

    photo: str
    page_index: int
    page: np.ndarray = field(repr=False)
    ink_level: float
    px_per_mm: float
    marker_error_px: float
    photo_to_page: np.ndarray = field(repr=False)
    photo_shape: tuple[int, int]


@dataclass
class IngestResult:
    """What :func:`ingest` wrote."""

    path: Path
    manifest_path: Path
    preview_path: Path | None
    dataset: GlyphDataset = field(repr=False)
    cells: list[CellReport] = field(repr=False)
    manifest: dict = field(repr=False)


# --- reading photos ---------------------------------------------------------------------------

def _read_photo(path: str | os.PathLike) -> np.ndarray:
    """A photo as a 2-D uint8 array: the darkest of its colour channels per pixel.

    The minimum channel makes any saturated ink (blue, red, green pens) as dark as black ink,
    while paper, white in every channel, stays light.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise IngestError(f"photo {path} does not exist")
    try:
        with Image.open(path) as image:
            # Phones store the camera's orientation in EXIF instead of rotating the pixels.
            image = ImageOps.exif_transpose(image)
            rgb = np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as err:
        raise IngestError(f"photo {path} cannot be read as an image ({err}); give a JPEG or "
                          "PNG") from None
    return rgb.min(axis=2)


def _detect_markers(gray: np.ndarray) -> dict[int, list[np.ndarray]]:
    """ArUco markers in a photo: ``{id: [corners (4, 2) in photo pixel centres, ...]}``."""
    import cv2

    scale = min(1.0, _DETECT_MAX_SIDE / max(gray.shape))
    small = gray if scale == 1.0 else cv2.resize(gray, None, fx=scale, fy=scale,
                                                 interpolation=cv2.INTER_AREA)
    params = cv2.aruco.DetectorParameters()
    # Sub-pixel corners: the homography, and so every box, lands within a pixel or two.
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, ARUCO_DICTIONARY))
    corners, ids, _ = cv2.aruco.ArucoDetector(dictionary, params).detectMarkers(small)
    found: dict[int, list[np.ndarray]] = {}
    if ids is None:
        return found
    for marker_id, quad in zip(ids.reshape(-1), corners, strict=True):
        # Pixel centres scale about the pixel edge: x_full + 0.5 = (x_small + 0.5) / scale.
        points = (np.asarray(quad, np.float64).reshape(4, 2) + 0.5) / scale - 0.5
        found.setdefault(int(marker_id), []).append(points)
    return found


def _fit_homography(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares homography src → dst and its RMS error in dst units."""
    import cv2

    matrix, _ = cv2.findHomography(src.astype(np.float64), dst.astype(np.float64), 0)
    if matrix is None:
        return np.eye(3), float("inf")
    projected = cv2.perspectiveTransform(src.reshape(-1, 1, 2), matrix).reshape(-1, 2)
    return matrix, float(np.sqrt(np.mean(np.sum((projected - dst) ** 2, axis=1))))


def _locate(markers: dict[int, list[np.ndarray]], layout: Layout, name: str
            ) -> tuple[int, np.ndarray, float, float]:
    """Page index, photo→page homography, its error (page px) and photo px per page px."""
    import cv2

    if not markers:
        raise IngestError(f"photo {name}: no template markers found; photograph the whole "
                          "sheet, flat and in focus, with its four black corner squares "
                          "visible")
    for marker_id in CORNER_IDS:
        if len(markers.get(marker_id, [])) > 1:
            raise IngestError(f"photo {name} shows more than one page (its "
                              f"{CORNER_NAMES[marker_id]} corner marker appears twice); "
                              "photograph one page at a time")
    missing = [CORNER_NAMES[i] for i in CORNER_IDS if i not in markers]
    if missing:
        if len(missing) == len(CORNER_IDS):
            raise IngestError(f"photo {name}: no corner marker of a korean-gan sheet found; "
                              "photograph the whole sheet with its four black corner squares "
                              "visible")
        raise IngestError(f"photo {name}: the {', '.join(missing)} corner marker"
                          f"{'s are' if len(missing) > 1 else ' is'} not in the photo (cut "
                          "off, covered or lost in glare); photograph the whole page with all "
                          "four corner squares")
    roles = dict(zip(CORNER_IDS, ("top-left", "top-right", "bottom-right", "bottom-left"),
                     strict=True))
    src = np.concatenate([markers[i][0] for i in CORNER_IDS])
    dst = np.concatenate([layout.marker_corners(roles[i]) for i in CORNER_IDS])
    matrix, error = _fit_homography(src, dst)
    # The code markers: whichever detected marker lies where the page / template marker is.
    codes: dict[str, tuple[int, np.ndarray]] = {}
    for marker_id, quads in markers.items():
        if marker_id in CORNER_IDS:
            continue
        for quad in quads:
            centre = cv2.perspectiveTransform(quad.reshape(-1, 1, 2), matrix).reshape(-1, 2)
            centre = centre.mean(axis=0)
            for role in ("page", "template"):
                x0, y0, side = layout.markers[role]
                if np.hypot(*(centre - (x0 + side / 2, y0 + side / 2))) < side / 2:
                    codes[role] = (marker_id, quad)
    for role, where in (("template", "right"), ("page", "left")):
        if role not in codes:
            raise IngestError(f"photo {name}: the {role} marker (bottom edge, {where} of the "
                              "page number) is not readable; photograph the whole page, flat "
                              "and in focus")
    template_id, page_id = codes["template"][0], codes["page"][0]
    if template_id != layout.code:
        raise IngestError(f"photo {name} shows a page of another template (code {template_id}"
                          f", not {layout.code} of template {layout.template_id}); give the "
                          "layout .json of the sheet it was printed from (or its exact "
                          "--charset, --page, --box-mm and --dpi)")
    page_index = page_id - FIRST_CODE_ID
    if not 0 <= page_index < len(layout.pages):
        raise IngestError(f"photo {name} shows page {page_index + 1}, but template "
                          f"{layout.template_id} has {len(layout.pages)} page(s); give the "
                          "layout .json of the sheet it was printed from (or its exact "
                          "--charset, --page, --box-mm and --dpi)")
    # Refit with the code markers' corners too: more points, spread along the bottom edge.
    src = np.concatenate([src, codes["page"][1], codes["template"][1]])
    dst = np.concatenate([dst, layout.marker_corners("page"), layout.marker_corners("template")])
    matrix, error = _fit_homography(src, dst)
    max_error = _MAX_MARKER_ERROR_MM * layout.dpi / 25.4
    if error > max_error:
        raise IngestError(f"photo {name}: the markers do not lie on a flat page (off by "
                          f"{error * 25.4 / layout.dpi:.1f} mm); flatten the sheet and "
                          "photograph it again")
    photo_side = np.mean([np.linalg.norm(np.roll(q, -1, axis=0) - q, axis=1).mean()
                          for i in CORNER_IDS for q in markers[i]])
    return page_index, matrix, error, float(photo_side / layout.markers["top-left"][2])


def _even_light(page: np.ndarray, layout: Layout) -> np.ndarray:
    """Divides a rectified page by its paper brightness: float32, 1 = paper.

    The background is a grey closing (dilation then erosion) with a disc wider than any pen
    stroke, which removes ink and print and keeps the paper with its shading; the classic
    shading correction of document images (the black top-hat of grey-scale morphology;
    Gonzalez & Woods, Digital Image Processing, chapter "Morphological Image Processing").
    It runs at a quarter of the resolution, where it is 16 times cheaper and the lighting is
    just as smooth.
    """
    import cv2

    work = page.copy()
    pad = round(2 * layout.dpi / 25.4)
    # The solid black markers are wider than the disc: paint them with the paper around them.
    for x0, y0, side in layout.markers.values():
        ring = page[max(0, y0 - 2 * pad):y0 + side + 2 * pad,
                    max(0, x0 - 2 * pad):x0 + side + 2 * pad]
        work[max(0, y0 - pad):y0 + side + pad, max(0, x0 - pad):x0 + side + pad] = \
            np.percentile(ring, 90)
    factor = 4
    small = cv2.resize(work, (page.shape[1] // factor, page.shape[0] // factor),
                       interpolation=cv2.INTER_AREA)
    disc = max(3, round(8 * layout.dpi / 25.4 / factor)) | 1  # 8 mm, odd
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (disc, disc))
    background = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel)
    background = cv2.GaussianBlur(background.astype(np.float32), (0, 0), disc / 2)
    background = cv2.resize(background, (page.shape[1], page.shape[0]),
                            interpolation=cv2.INTER_LINEAR)
    return np.clip(page.astype(np.float32) / np.maximum(background, 1.0), 0.0, 1.0)


def _inset(layout: Layout) -> int:
    # Past the outline plus a little slack for the homography's error (about 0.4 mm).
    return layout.line_px + max(2, round(0.02 * layout.box_px))


def _box_pixels(page: np.ndarray, layout: Layout, page_index: int) -> np.ndarray:
    inset = _inset(layout)
    return np.concatenate([
        page[y0 + inset:y1 - inset, x0 + inset:x1 - inset].reshape(-1)
        for x0, y0, x1, y1 in (cell.box for cell in layout.pages[page_index])])


def _ink_level(values: np.ndarray) -> float:
    """The typical darkness of the page's ink: a low percentile of its clearly dark pixels."""
    dark = values[values < 0.6]
    if dark.size < 50:
        return 0.2  # no writing at all: any level will do, every cell is blank
    return float(np.percentile(dark, 10))


def scan_photo(path: str | os.PathLike, layout: Layout) -> PageScan:
    """Locates a photo's page and rectifies it (no cells cut yet).

    Raises:
        IngestError: an unreadable photo, no or missing markers, another template, or a page
            that is not flat; the message names the photo.
    """
    import cv2

    name = str(path)
    gray = _read_photo(path)
    page_index, matrix, error, ratio = _locate(_detect_markers(gray), layout, name)
    if ratio > 1.5:
        # Much finer than the page grid: shrink first (area averaging) so that the warp's
        # bilinear sampling does not alias.
        factor = 1.25 / ratio
        shrunk = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        to_small = np.array([[factor, 0, 0.5 * factor - 0.5], [0, factor, 0.5 * factor - 0.5],
                             [0, 0, 1]])
        warp_matrix, source = matrix @ np.linalg.inv(to_small), shrunk
    else:
        warp_matrix, source = matrix, gray
    page = cv2.warpPerspective(source, warp_matrix, (layout.width, layout.height),
                               flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    even = _even_light(page, layout)
    level = _ink_level(_box_pixels(even, layout, page_index))
    return PageScan(name, page_index, even, level, ratio * layout.dpi / 25.4, error, matrix,
                    gray.shape)


def _cell_inside_photo(scan: PageScan, box: tuple[int, int, int, int]) -> bool:
    import cv2

    x0, y0, x1, y1 = box
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64).reshape(-1, 1, 2)
    back = cv2.perspectiveTransform(corners, np.linalg.inv(scan.photo_to_page)).reshape(-1, 2)
    height, width = scan.photo_shape
    return bool(((back >= 0) & (back <= (width - 1, height - 1))).all())


def _stretch(values: np.ndarray, ink_level: float) -> np.ndarray:
    """Maps evened-out brightness to the renderer's uint8 (255 paper, 0 full ink).

    Everything at or below a level just above the ink becomes 0, everything above a level
    between ink and paper becomes 255 (this drops the light grey outlines and paper texture),
    linearly in between, which keeps the anti-aliased stroke edges.
    """
    low = ink_level + 0.15 * (1.0 - ink_level)
    high = min(0.8, ink_level + 0.6 * (1.0 - ink_level))
    scaled = np.clip((values - low) / max(high - low, 1e-3), 0.0, 1.0)
    return np.rint(scaled * PAPER).astype(np.uint8)


def _clean_cell(crop: np.ndarray) -> tuple[np.ndarray, float, bool, tuple[int, int]]:
    """Drops specks and stray faint pixels; returns the cleaned crop, its ink cover, whether
    ink touches the crop's edge, and the ink's extent (rows, cols)."""
    import cv2

    ink = (crop < INK_THRESHOLD).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    min_area = max(4, round(0.0008 * crop.size))
    keep_ids = [i for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] >= min_area]
    keep = np.isin(labels, keep_ids)
    # Keep the faint anti-aliased fringe next to real ink only: paper texture, JPEG ringing
    # and bits of outline elsewhere would widen fit_to_box's crop.
    near = cv2.dilate(keep.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    cleaned = np.where(near, crop, PAPER).astype(np.uint8)
    if not keep.any():
        return cleaned, 0.0, False, (0, 0)
    rows, cols = np.flatnonzero(keep.any(axis=1)), np.flatnonzero(keep.any(axis=0))
    touches = bool(rows[0] == 0 or cols[0] == 0 or rows[-1] == crop.shape[0] - 1
                   or cols[-1] == crop.shape[1] - 1)
    extent = (int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1))
    return cleaned, float(keep.mean()), touches, extent


def cut_cells(scan: PageScan, layout: Layout, config: RenderConfig
              ) -> list[tuple[CellReport, np.ndarray | None]]:
    """Cuts every cell of a rectified page into a glyph (or None for a skipped cell).

    Returns:
        For each cell of the page, its report and its ``(size, size)`` uint8 glyph.
    """
    inset = _inset(layout)
    out = []
    for cell in layout.pages[scan.page_index]:
        x0, y0, x1, y1 = cell.box
        report = CellReport(Path(scan.photo).name, scan.page_index + 1, cell.index, cell.row,
                            cell.col, cell.char, OK, 0.0)
        if not _cell_inside_photo(scan, cell.box):
            report.status = OUTSIDE
            out.append((report, None))
            continue
        crop = _stretch(scan.page[y0 + inset:y1 - inset, x0 + inset:x1 - inset], scan.ink_level)
        cleaned, cover, touches, extent = _clean_cell(crop)
        report.ink, report.touches_edge = round(cover, 4), touches
        glyph = None
        if cover < _BLANK_COVER:
            report.status = BLANK
        elif max(extent) < _SMALL_EXTENT * min(crop.shape):
            report.status = SMALL
        else:
            glyph = fit_to_box(cleaned, config)
            if glyph is None:  # cannot happen with ink above the threshold; be safe
                report.status = BLANK
        out.append((report, glyph))
    return out


def _resolve_layout(config: IngestConfig) -> tuple[Layout, str | None]:
    if config.layout and config.charset:
        raise IngestError("give either --layout or --charset (with --page), not both")
    if config.layout:
        return load_layout(config.layout), str(config.layout)
    if config.charset:
        return make_layout(config.charset, config.page, config.dpi, config.box_mm), None
    raise IngestError("which sheet is it? give --layout sheet.json (written beside the sheet "
                      "by `korean-gan template`), or the --charset and --page it was made with")


def ingest_photos(photos, layout: Layout, size: int = 32, style: str = "mine"
                  ) -> tuple[GlyphDataset, list[CellReport], list[dict]]:
    """Reads photos of a template's pages into a dataset, without writing anything.

    Args:
        photos: Photo paths, in any order (several photos of one page are all kept).
        layout: The template's layout.
        size: Glyph side in pixels.
        style: The dataset's one font name.

    Returns:
        The dataset (label order, then photo order), the per-cell reports (photo order, then
        cell order) and a per-photo summary.

    Raises:
        IngestError: a photo that cannot be used (see :func:`scan_photo`), or no writing in
            any cell.
    """
    config = RenderConfig(size=size)
    photos = [str(p) for p in photos]
    if not photos:
        raise IngestError("no photo given; pass one or more photos of filled-in pages")
    seen: dict[Path, str] = {}
    for photo in photos:
        key = Path(photo).resolve()
        if key in seen:
            raise IngestError(f"photo {photo} is given twice; give each photo once (a second "
                              "photo of the same page is fine)")
        seen[key] = photo
    # Locate every page first: a bad photo stops everything before any cell is cut.
    scans = [scan_photo(photo, layout) for photo in photos]
    cells: list[CellReport] = []
    found: list[tuple[int, int, np.ndarray]] = []  # (label, photo order, glyph)
    summaries = []
    for order, scan in enumerate(scans):
        counts: dict[str, int] = {}
        for report, glyph in cut_cells(scan, layout, config):
            cells.append(report)
            counts[report.status] = counts.get(report.status, 0) + 1
            if glyph is not None:
                label = layout.pages[scan.page_index][report.cell].label
                found.append((label, order, glyph))
        summaries.append({
            "photo": scan.photo, "page": scan.page_index + 1,
            "photo_size": [int(scan.photo_shape[1]), int(scan.photo_shape[0])],
            "px_per_mm": round(scan.px_per_mm, 2),
            "marker_error_mm": round(scan.marker_error_px * 25.4 / layout.dpi, 3),
            "ink_level": round(scan.ink_level, 3), "cells": counts,
        })
    if not found:
        names = ", ".join(Path(p).name for p in photos)
        raise IngestError(f"no writing found in any cell of {names}; fill in the boxes with a "
                          "dark pen and photograph the page again")
    found.sort(key=lambda item: (item[0], item[1]))
    labels = np.array([label for label, _, _ in found], np.int32)
    images = np.stack([glyph for _, _, glyph in found])
    zeros = np.zeros(len(found), np.int32)
    dataset = GlyphDataset(images, labels, Charset(layout.charset.name, layout.charset.chars),
                           [style], zeros, ["orig"], zeros.copy())
    return dataset, cells, summaries


_STYLE_NAME = re.compile(r"^[\w.-]+$")


def _preview(dataset: GlyphDataset, layout: Layout, path: Path) -> Path:
    """Every cell of the template in order: its glyph, or light grey where none was ingested."""
    from korean_gan.data.images import save_png, tile

    size = dataset.image_size
    grid = np.full((len(layout.charset), size, size), 215, np.uint8)
    # The first glyph of each syllable (the dataset is in label order).
    labels, first = np.unique(dataset.labels, return_index=True)
    grid[labels] = dataset.images[first]
    cols = layout.cols if len(grid) <= 128 else 48
    image = tile(grid, cols=cols)
    scale = 2 if len(grid) <= 512 else 1
    if scale != 1:
        image = np.kron(image, np.ones((scale, scale), np.uint8))
    return save_png(image, path)


def ingest(config: IngestConfig | None = None, **overrides) -> IngestResult:
    """Ingests photos of filled-in sheets into a dataset ``.npz`` with manifest and preview.

    Args:
        config: What to read and write (see :class:`IngestConfig`).
        **overrides: Fields of :class:`IngestConfig` to change.

    Returns:
        The paths written, the dataset and the per-cell reports.

    Raises:
        IngestError, TemplateError, CharsetError, OutputError: a bad photo, layout or output;
            nothing is written then.
    """
    config = IngestConfig(**{**asdict(config or IngestConfig()), **overrides})
    if isinstance(config.photos, str):
        config.photos = (config.photos,)
    started = time.perf_counter()
    out = Path(config.out)
    if out.suffix != ".npz":
        raise IngestError(f"output {out} must end in .npz")
    style = config.style or out.stem
    if not _STYLE_NAME.match(style):
        raise IngestError(f"style name {style!r} may hold only letters, digits, '.', '-' and "
                          "'_'; pass --style")
    if not config.photos:
        raise IngestError("give at least one photo of a filled-in sheet")
    for photo in config.photos:  # the photos first: the commonest mistake is a path
        if not Path(photo).is_file():
            raise IngestError(f"photo {photo} does not exist" if not Path(photo).exists()
                              else f"photo {photo} is not a file")
    layout, layout_source = _resolve_layout(config)
    check_dataset_target(out)
    manifest_path, preview_path = sidecar_paths(out)
    check_output_path(manifest_path)
    dataset, cells, photos = ingest_photos(config.photos, layout, config.size, style)
    for summary, photo in zip(photos, config.photos, strict=True):
        summary["sha256"] = sha256_file(photo)
    pages_seen = sorted({summary["page"] for summary in photos})
    statuses = [c.status for c in cells]
    render = RenderConfig(size=config.size)
    manifest = {
        "format_version": FORMAT_VERSION,
        "kind": "handwriting",
        "style": style,
        "charset": {"name": layout.charset.name, "size": len(layout.charset),
                    "chars": layout.charset.text if len(layout.charset) <= 2350 else None},
        "template": {"id": layout.template_id, "code": layout.code, "layout": layout_source,
                     "page": layout.page_name, "pages": len(layout.pages), "dpi": layout.dpi,
                     "box_px": layout.box_px},
        "parameters": {"size": config.size, "margin": render.margin},
        "augmentations": ["orig"],
        "counts": {
            "images": len(dataset), "glyphs": len(dataset),
            "syllables": int(len(np.unique(dataset.labels))), "classes": len(layout.charset),
            "photos": len(photos), "pages_photographed": pages_seen,
            "pages_missing": [p for p in range(1, len(layout.pages) + 1) if p not in pages_seen],
            "cells": len(cells), "blank": statuses.count(BLANK),
            "small_marks": statuses.count(SMALL), "outside_photo": statuses.count(OUTSIDE),
            "touching_edge": sum(c.touches_edge for c in cells if c.status == OK),
        },
        "photos": photos,
        "cells": [c.to_json() for c in cells],
    }
    save_dataset(dataset, out, manifest, "npz", preview=False)
    written_preview = _preview(dataset, layout, preview_path) if config.preview else None
    manifest["build"] = {"seconds": round(time.perf_counter() - started, 3),
                         "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    write_json_atomic(manifest_path, manifest)
    return IngestResult(out, manifest_path, written_preview, dataset, cells, manifest)
