"""Printable handwriting sheets: a grid of writing boxes, one per syllable, with markers.

A *template* lays a charset out over one or more pages. Each *cell* is a small printed guide
syllable (the syllable to write) above a square writing box with a light grey outline. Four
ArUco markers at the page corners let :mod:`korean_gan.handwriting.ingest` find the page in a
photo and undo its perspective; two more at the bottom edge encode the page number and the
template's code, so photos of several pages can be ingested together in any order, and a photo of
another template is refused.

Marker ids (dictionary ``DICT_4X4_1000``):

* corners: 0 top-left, 1 top-right, 2 bottom-right, 3 bottom-left (the same on every page);
* page marker (bottom, left of centre): ``4 + page_index``;
* template marker (bottom, right of centre): the template's ``code``, ``4 + id mod 996``.

The layout (page size in pixels at a stated dpi, marker corners, every cell's guide and box
rectangle and syllable) is written as a JSON sidecar beside the sheet; ingestion reads it, or
rebuilds it from the same charset and options, since layouts are deterministic. The template id
is the sha256 of the layout itself, so any change of charset, page or geometry changes it.

ArUco markers: S. Garrido-Jurado et al., "Automatic generation and detection of highly reliable
fiducial markers under occlusion", Pattern Recognition 47(6), 2014;
https://docs.opencv.org/4.x/d5/dae/tutorial_aruco_detection.html
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from korean_gan._io import atomic_path, check_output_path, write_json_atomic
from korean_gan.data.charsets import Charset, from_chars, resolve_charset
from korean_gan.data.fonts import bundled_font_dir

__all__ = [
    "ARUCO_DICTIONARY",
    "PAGE_SIZES_MM",
    "Cell",
    "Layout",
    "TemplateConfig",
    "TemplateError",
    "TemplateResult",
    "layout_path_for",
    "load_layout",
    "make_layout",
    "render_page",
    "write_template",
]

FORMAT = "korean-gan-template"
FORMAT_VERSION = 1
#: Page sizes (width, height) in millimetres.
PAGE_SIZES_MM = {"A4": (210.0, 297.0), "letter": (215.9, 279.4)}
#: The OpenCV ArUco dictionary: 4×4 bits is the coarsest (most blur-tolerant) and 1000 ids leave
#: room for ~1000 pages and a template code.
ARUCO_DICTIONARY = "DICT_4X4_1000"
CORNER_IDS = (0, 1, 2, 3)
CORNER_NAMES = ("top-left", "top-right", "bottom-right", "bottom-left")
FIRST_CODE_ID = 4
N_CODE_IDS = 996

# Print levels (0 = black). The box outline is light so that a photo's ink threshold drops it
# even where it strays into the cropped writing area; the guide syllable sits outside the box.
GUIDE_GRAY = 110
BOX_GRAY = 200
TEXT_GRAY = 60
# Default face for guide syllables and sheet text: a plain, very legible display face that
# also draws Latin letters and digits.
GUIDE_FONT = "DoHyeon-Regular.ttf"

# Geometry in millimetres.
_EDGE_MM = 10.0        # paper edge to the markers (printers leave ~5 mm unprinted)
_MARKER_MM = 12.0      # marker side
_GAP_MM = 4.0          # markers to the grid
_HEADER_MM = 5.0       # guide syllable strip above each box
_COL_GAP_MM = 3.0
_ROW_GAP_MM = 2.5
_LINE_MM = 0.25        # box outline width


class TemplateError(ValueError):
    """A template request or layout file that cannot be used, with the reason."""


@dataclass(frozen=True)
class Cell:
    """One syllable's place on a page.

    Attributes:
        index: Position on its page, row by row.
        row: Grid row.
        col: Grid column.
        char: The syllable to write.
        label: Its index in the template's charset.
        box: The writing box ``(x0, y0, x1, y1)`` in page pixels (outline included).
        guide: Where the guide syllable is printed, ``(x0, y0, x1, y1)``.
    """

    index: int
    row: int
    col: int
    char: str
    label: int
    box: tuple[int, int, int, int]
    guide: tuple[int, int, int, int]


@dataclass(frozen=True)
class Layout:
    """Where everything is on every page of a template (all coordinates in page pixels).

    Attributes:
        charset: The template's syllables (labels index into it).
        page_name: ``A4`` or ``letter``.
        dpi: Pixels per inch of the page coordinates.
        width: Page width in pixels.
        height: Page height in pixels.
        box_px: Side of a writing box.
        line_px: Width of a box outline.
        rows: Grid rows per page.
        cols: Grid columns per page.
        markers: Marker squares ``(x0, y0, side)`` by role: the four corners and the ``page``
            and ``template`` code markers.
        pages: The cells of each page.
        template_id: sha256 (hex, 12 digits) of the layout's content.
    """

    charset: Charset
    page_name: str
    dpi: int
    width: int
    height: int
    box_px: int
    line_px: int
    rows: int
    cols: int
    markers: dict[str, tuple[int, int, int]]
    pages: tuple[tuple[Cell, ...], ...]
    template_id: str = field(default="")

    @property
    def code(self) -> int:
        """The template marker's id."""
        return FIRST_CODE_ID + int(self.template_id, 16) % N_CODE_IDS

    @property
    def n_cells(self) -> int:
        """Cells over all pages."""
        return sum(len(page) for page in self.pages)

    def page_marker_id(self, page_index: int) -> int:
        """The page marker's id on page ``page_index`` (0-based)."""
        return FIRST_CODE_ID + page_index

    def marker_corners(self, role: str) -> np.ndarray:
        """The marker's four corners (top-left, top-right, bottom-right, bottom-left) as a
        ``(4, 2)`` float array in pixel-centre coordinates (OpenCV's convention)."""
        x0, y0, side = self.markers[role]
        left, top = x0 - 0.5, y0 - 0.5
        return np.array([[left, top], [left + side, top], [left + side, top + side],
                         [left, top + side]], np.float64)

    def to_json(self) -> dict:
        """The layout as a JSON-serialisable dict (what :func:`load_layout` reads)."""
        return {"format": FORMAT, "version": FORMAT_VERSION, "template_id": self.template_id,
                "code": self.code, **_content(self)}

    @classmethod
    def from_json(cls, obj: dict, source: str = "layout") -> Layout:
        """Rebuilds a layout from :meth:`to_json` output and checks its id.

        Raises:
            TemplateError: not a template layout, or a damaged one.
        """
        if not isinstance(obj, dict) or obj.get("format") != FORMAT:
            raise TemplateError(f"{source} is not a korean-gan template layout; give the .json "
                                "that `korean-gan template` wrote beside the sheet")
        if obj.get("version") != FORMAT_VERSION:
            raise TemplateError(f"{source} has layout version {obj.get('version')}; this "
                                f"version of korean-gan reads version {FORMAT_VERSION}")
        try:
            # from_chars, not resolve_charset: a long literal must not be tried as a path.
            charset = from_chars(obj["charset"]["chars"], name=str(obj["charset"]["name"]),
                                 source=source)
            pages = tuple(
                tuple(Cell(int(c["index"]), int(c["row"]), int(c["col"]), str(c["char"]),
                           int(c["label"]), tuple(int(v) for v in c["box"]),
                           tuple(int(v) for v in c["guide"]))
                      for c in page["cells"])
                for page in obj["pages"])
            layout = cls(charset, str(obj["page"]["name"]), int(obj["page"]["dpi"]),
                         int(obj["page"]["width_px"]), int(obj["page"]["height_px"]),
                         int(obj["grid"]["box_px"]), int(obj["grid"]["line_px"]),
                         int(obj["grid"]["rows"]), int(obj["grid"]["cols"]),
                         {role: tuple(int(v) for v in m) for role, m in obj["markers"].items()},
                         pages)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise TemplateError(f"{source} is a damaged template layout ({type(err).__name__}: "
                                f"{err}); write it again with `korean-gan template`") from None
        layout = _with_id(layout)
        if layout.template_id != obj.get("template_id"):
            raise TemplateError(f"{source} was changed after it was written (its content does "
                                f"not match template id {obj.get('template_id')}); write it "
                                "again with `korean-gan template`")
        return layout


def _content(layout: Layout) -> dict:
    """Everything that defines the layout (the id is the hash of this)."""
    width_mm, height_mm = PAGE_SIZES_MM[layout.page_name]
    return {
        "charset": {"name": layout.charset.name, "chars": layout.charset.text},
        "page": {"name": layout.page_name, "width_mm": width_mm, "height_mm": height_mm,
                 "dpi": layout.dpi, "width_px": layout.width, "height_px": layout.height},
        "aruco": {"dictionary": ARUCO_DICTIONARY, "corner_ids": list(CORNER_IDS),
                  "page_marker_id": f"{FIRST_CODE_ID} + page index",
                  "template_marker_id": f"{FIRST_CODE_ID} + template id mod {N_CODE_IDS}"},
        "markers": {role: list(m) for role, m in layout.markers.items()},
        "grid": {"rows": layout.rows, "cols": layout.cols, "box_px": layout.box_px,
                 "line_px": layout.line_px},
        "pages": [{"number": i + 1, "cells": [
            {"index": c.index, "row": c.row, "col": c.col, "char": c.char, "label": c.label,
             "box": list(c.box), "guide": list(c.guide)} for c in page]}
            for i, page in enumerate(layout.pages)],
    }


def _with_id(layout: Layout) -> Layout:
    text = json.dumps(_content(layout), ensure_ascii=False, sort_keys=True)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return Layout(**{**{f: getattr(layout, f) for f in layout.__dataclass_fields__},
                     "template_id": digest})


@dataclass
class TemplateConfig:
    """A handwriting sheet to make.

    Attributes:
        charset: The syllables (``seed16``, ``ks2350``, a UTF-8 file or literal syllables).
        page: ``A4`` or ``letter``.
        dpi: Resolution of the page images and of the layout's pixel coordinates.
        box_mm: Side of a writing box in millimetres.
        out: The sheet: a ``.pdf`` (all pages) or a ``.png`` (``name.png`` for one page,
            ``name-01.png``, ... for more). The layout goes to ``<stem>.json`` beside it.
        font: Font file for the guide syllables and the sheet's text (default: a bundled face).
    """

    charset: str = "seed16"
    page: str = "A4"
    dpi: int = 200
    box_mm: float = 20.0
    out: str = "sheet.pdf"
    font: str | None = None


@dataclass
class TemplateResult:
    """What :func:`write_template` wrote."""

    sheets: list[Path]
    layout_path: Path
    layout: Layout


def _mm(value: float, dpi: int) -> int:
    return round(value * dpi / 25.4)


def make_layout(charset: str | Charset, page: str = "A4", dpi: int = 200,
                box_mm: float = 20.0) -> Layout:
    """Lays a charset out over pages: the same arguments always give the same layout.

    Args:
        charset: The syllables (anything :func:`korean_gan.data.charsets.resolve_charset` takes).
        page: ``A4`` or ``letter``.
        dpi: Pixels per inch of the layout's coordinates (100 to 600).
        box_mm: Writing box side in millimetres (12 to 60).

    Raises:
        TemplateError: an unknown page size, a resolution or box size out of range, or more
            pages than the markers can number.
        CharsetError: a bad charset.
    """
    charset = resolve_charset(charset)
    if page not in PAGE_SIZES_MM:
        raise TemplateError(f"unknown page size {page!r}; use {' or '.join(PAGE_SIZES_MM)}")
    if not isinstance(dpi, int) or not 100 <= dpi <= 600:
        raise TemplateError(f"dpi must be an integer from 100 to 600, got {dpi!r}")
    if not 12 <= box_mm <= 60:
        raise TemplateError(f"box size must be 12 to 60 mm, got {box_mm!r}")
    width_mm, height_mm = PAGE_SIZES_MM[page]
    width, height = _mm(width_mm, dpi), _mm(height_mm, dpi)
    edge, side = _mm(_EDGE_MM, dpi), _mm(_MARKER_MM, dpi)
    markers = {
        "top-left": (edge, edge, side),
        "top-right": (width - edge - side, edge, side),
        "bottom-right": (width - edge - side, height - edge - side, side),
        "bottom-left": (edge, height - edge - side, side),
        # The code markers sit on the bottom edge, either side of the page number text.
        "page": (width // 2 - _mm(35, dpi) - side, height - edge - side, side),
        "template": (width // 2 + _mm(35, dpi), height - edge - side, side),
    }
    box, header = _mm(box_mm, dpi), _mm(_HEADER_MM, dpi)
    col_gap, row_gap = _mm(_COL_GAP_MM, dpi), _mm(_ROW_GAP_MM, dpi)
    top = edge + side + _mm(_GAP_MM, dpi)
    bottom = height - edge - side - _mm(_GAP_MM, dpi)
    left, right = edge, width - edge
    cols = (right - left + col_gap) // (box + col_gap)
    rows = (bottom - top + row_gap) // (header + box + row_gap)
    per_page = rows * cols
    n_pages = math.ceil(len(charset) / per_page)
    if n_pages > N_CODE_IDS:
        raise TemplateError(f"charset {charset.name!r} needs {n_pages} pages; a template holds "
                            f"at most {N_CODE_IDS}: split it into several charset files")
    # Centre the grid horizontally; rows start at the top.
    x_start = left + (right - left - (cols * (box + col_gap) - col_gap)) // 2
    pages = []
    for p in range(n_pages):
        cells = []
        for i, char in enumerate(charset.chars[p * per_page:(p + 1) * per_page]):
            row, col = divmod(i, cols)
            x0 = x_start + col * (box + col_gap)
            y0 = top + row * (header + box + row_gap)
            cells.append(Cell(i, row, col, char, p * per_page + i,
                              (x0, y0 + header, x0 + box, y0 + header + box),
                              (x0, y0, x0 + box, y0 + header)))
        pages.append(tuple(cells))
    layout = Layout(charset, page, dpi, width, height, box, max(1, _mm(_LINE_MM, dpi)), rows,
                    cols, markers, tuple(pages))
    return _with_id(layout)


def _aruco_marker(marker_id: int, side: int) -> np.ndarray:
    import cv2

    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, ARUCO_DICTIONARY))
    # Draw at a multiple of the marker's 6 modules (4 bits + 1 border each side), then resize
    # with nearest neighbour, so every module has whole, sharp pixels.
    module = max(1, side // 6)
    image = cv2.aruco.generateImageMarker(dictionary, marker_id, module * 6)
    return np.asarray(Image.fromarray(image).resize((side, side), Image.Resampling.NEAREST))


def _font(path: str | os.PathLike | None, size: int) -> ImageFont.FreeTypeFont:
    path = Path(path) if path else bundled_font_dir() / GUIDE_FONT
    try:
        return ImageFont.truetype(str(path), size)
    except OSError as err:
        raise TemplateError(f"font {path} cannot be used for the sheet's text ({err})") from None


def render_page(layout: Layout, page_index: int, font: str | os.PathLike | None = None
                ) -> Image.Image:
    """Draws one page of the sheet as a grayscale image of ``layout.width × layout.height``.

    Args:
        layout: The template layout.
        page_index: Which page (0-based).
        font: Font file for the guides and text (default: the bundled guide face).
    """
    if not 0 <= page_index < len(layout.pages):
        raise TemplateError(f"page {page_index + 1} does not exist; the template has "
                            f"{len(layout.pages)}")
    image = Image.new("L", (layout.width, layout.height), 255)
    draw = ImageDraw.Draw(image)
    ids = {"top-left": 0, "top-right": 1, "bottom-right": 2, "bottom-left": 3,
           "page": layout.page_marker_id(page_index), "template": layout.code}
    for role, (x0, y0, side) in layout.markers.items():
        image.paste(Image.fromarray(_aruco_marker(ids[role], side)), (x0, y0))
    header = layout.pages[0][0].guide[3] - layout.pages[0][0].guide[1]
    guide_font = _font(font, round(header * 0.85))
    for cell in layout.pages[page_index]:
        x0, y0, x1, y1 = cell.box
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), outline=BOX_GRAY, width=layout.line_px)
        gx0, gy0, _, gy1 = cell.guide
        draw.text((gx0 + layout.line_px, (gy0 + gy1) // 2), cell.char, font=guide_font,
                  fill=GUIDE_GRAY, anchor="lm")
    # Sheet text: what it is and how to fill it in (top), page and template (bottom).
    text_px = _mm(3.2, layout.dpi)
    text_font = _font(font, text_px)
    tl_x, tl_y, side = layout.markers["top-left"]
    x = tl_x + side + _mm(4, layout.dpi)
    n_pages = len(layout.pages)
    lines = [
        f"korean-gan handwriting sheet: {layout.charset.name}, {len(layout.charset)} "
        f"syllables, page {page_index + 1} of {n_pages}",
        "Write each syllable large inside its box with a dark felt-tip pen.",
        "Photograph or scan the whole page, flat, with all four corner squares visible.",
        "칸 안에 글자를 크게 쓰세요. 네 모서리 표시가 모두 보이게 찍으세요.",
    ]
    line_h = round(text_px * 1.0)
    y = tl_y + (side - line_h * len(lines)) // 2
    for i, line in enumerate(lines):
        draw.text((x, y + i * line_h), line, font=text_font, fill=TEXT_GRAY)
    bx, by, bside = layout.markers["page"]
    draw.text((layout.width // 2, by + bside // 2),
              f"page {page_index + 1} / {n_pages}   template {layout.template_id}",
              font=text_font, fill=TEXT_GRAY, anchor="mm")
    return image


def layout_path_for(sheet: str | os.PathLike) -> Path:
    """The layout sidecar written beside a sheet: ``sheet.pdf`` → ``sheet.json``."""
    sheet = Path(sheet)
    return sheet.with_suffix(".json")


def load_layout(path: str | os.PathLike) -> Layout:
    """Reads a layout sidecar written by :func:`write_template`.

    Raises:
        TemplateError: missing, not JSON, not a layout, or changed since it was written.
    """
    path = Path(path)
    if not path.is_file():
        raise TemplateError(f"layout {path} does not exist; give the .json that `korean-gan "
                            "template` wrote beside the sheet")
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TemplateError(f"layout {path} is not JSON ({err})") from None
    return Layout.from_json(obj, source=str(path))


def write_template(config: TemplateConfig | None = None, **overrides) -> TemplateResult:
    """Makes a printable handwriting sheet (PDF or PNG pages) and its layout sidecar.

    Args:
        config: What to make (default: seed16 on A4 as ``sheet.pdf``).
        **overrides: Fields of :class:`TemplateConfig` to change.

    Returns:
        The files written and the layout.

    Raises:
        TemplateError, CharsetError, OutputError: bad input, before anything is written.
    """
    config = TemplateConfig(**{**asdict(config or TemplateConfig()), **overrides})
    out = Path(config.out)
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".png"):
        raise TemplateError(f"sheet {out} must end in .pdf or .png")
    layout = make_layout(config.charset, config.page, config.dpi, config.box_mm)
    layout_path = layout_path_for(out)
    check_output_path(out)
    check_output_path(layout_path)
    _font(config.font, 12)  # refuse a bad font before drawing anything
    pages = [render_page(layout, i, config.font) for i in range(len(layout.pages))]
    if suffix == ".pdf":
        sheets = [out]
        with atomic_path(out, suffix=".pdf") as tmp:
            # Pillow stores grayscale pages as JPEG; at quality 92 the markers stay crisp.
            pages[0].save(tmp, format="PDF", save_all=True, append_images=pages[1:],
                          resolution=float(layout.dpi), quality=92,
                          title=f"korean-gan handwriting sheet {layout.template_id}")
    else:
        sheets = ([out] if len(pages) == 1 else
                  [out.with_name(f"{out.stem}-{i + 1:02d}.png") for i in range(len(pages))])
        for page, path in zip(pages, sheets, strict=True):
            with atomic_path(path, suffix=".png") as tmp:
                page.save(tmp, format="PNG", dpi=(layout.dpi, layout.dpi), optimize=True)
    # The layout last: a sheet without its layout is useless, a layout without a sheet is not
    # written at all if drawing failed.
    write_json_atomic(layout_path, layout.to_json())
    return TemplateResult(sheets, layout_path, layout)
