"""Line sets: labelled images of handwritten text lines, on disk, for OCR recognisers.

This module owns the on-disk formats of line datasets; it knows nothing of models. A line set is
a folder holding ``manifest.json`` (``{"kind": "lines", "format": ..., "version": 1,
"count": N, ...}`` plus whatever the writer's caller added) and one of three layouts:

===============  ===============================================================================
format           layout
===============  ===============================================================================
``paddle``       ``images/<key>.png``; ``labels.txt``, one ``images/<key>.png<TAB><text>`` line
                 per image (PaddleOCR's recognition format); ``labels.jsonl``, the full labels
``imagefolder``  ``images/<key>.png`` and ``metadata.jsonl`` (Hugging Face ``imagefolder``:
                 ``datasets.load_dataset("imagefolder", data_dir=...)``); ``params`` is a JSON
                 string so that the column's type is the same on every line
``webdataset``   tar shards ``lines-000000.tar``, ``lines-000001.tar``, ... of at most
                 ``shard_size`` lines, each line ``<key>.png``, ``<key>.txt``, ``<key>.json``
                 (``webdataset.WebDataset(urls)``)
===============  ===============================================================================

A line's full labels (``labels.jsonl``, ``metadata.jsonl``, the ``.json`` members) are its
``key``, ``text``, ``boxes`` (the ink box ``[x0, y0, x1, y1]`` of each character with ink, in
text order), ``quads`` (the same boxes as they were turned and slanted with their glyphs: the
corners ``[x0, y0, x1, y1, x2, y2, x3, y3]``, top left, top right, bottom right, bottom left;
:func:`crop_quad` turns one upright), ``chars`` (the character of each box), ``style`` and
``params`` (the augmentation parameters). Keys are the lines' global indices zero-padded to 9
digits and are written in increasing order, so every file lists the lines in key order.

Writes are reproducible: the same records give byte-identical files in every format (PNGs without
metadata, tar members with a fixed time and owner). They are atomic: the set is written into a
temporary folder beside its destination that replaces it only when the writer's ``with`` block
ends without error. Images are written as they come, so a set of any size needs little memory.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import tarfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from korean_gan._io import atomic_dir, write_json_atomic

__all__ = [
    "FORMATS",
    "LineRecord",
    "LineSetError",
    "LineSetWriter",
    "check_lineset_target",
    "crop_quad",
    "read_lineset",
]

FORMATS = ("paddle", "imagefolder", "webdataset")
FORMAT_VERSION = 1
_KIND = "lines"
_KEY = re.compile(r"\d{9}")
# Characters that end a line for str.splitlines (PaddleOCR's label readers split on them too).
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
_SHARD = "lines-{:06d}.tar"
# zlib level 3 through OpenCV: on lines at height 64 it encodes in a third of the time of
# Pillow's default (level 6), for files 7% larger.
_PNG_LEVEL = 3


class LineSetError(ValueError):
    """A line set, line record or output folder that cannot be used, with what to do about it."""


@dataclass(eq=False)
class LineRecord:
    """One labelled line image.

    Attributes:
        key: The line's global index, zero-padded to 9 digits (``"000000042"``).
        image: uint8 ``(H, W)`` grayscale, 255 = paper.
        text: The label, NFC-normalised.
        boxes: The ink box ``(x0, y0, x1, y1)`` of each character with ink, in text order.
        chars: The character of each box (as many as ``boxes``).
        style: The style's name.
        params: Augmentation parameters (JSON-serialisable: numbers, strings, lists, dicts).
        quads: Each box as it was turned and slanted with its glyph, as four corners
            ``(x0, y0, x1, y1, x2, y2, x3, y3)``: top left, top right, bottom right, bottom left
            (as many as ``boxes``; empty in sets written before quads were recorded).
    """

    key: str
    image: np.ndarray
    text: str
    boxes: list[tuple[int, int, int, int]]
    chars: list[str]
    style: str
    params: dict = field(default_factory=dict)
    quads: list[tuple[float, ...]] = field(default_factory=list)

    def __eq__(self, other: object) -> bool:
        # The generated __eq__ would compare the images with ==, which has no single truth value.
        if not isinstance(other, LineRecord):
            return NotImplemented
        return (self.key == other.key and self.text == other.text
                and [tuple(b) for b in self.boxes] == [tuple(b) for b in other.boxes]
                and list(self.chars) == list(other.chars) and self.style == other.style
                and self.params == other.params
                and [tuple(q) for q in self.quads] == [tuple(q) for q in other.quads]
                and np.asarray(self.image).dtype == np.asarray(other.image).dtype
                and np.array_equal(self.image, other.image))


def _json_default(value):
    """Lets numpy numbers and arrays in ``params`` serialise as the plain values they hold."""
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _dumps(obj, key: str, what: str) -> str:
    try:
        return json.dumps(obj, ensure_ascii=False, allow_nan=False, default=_json_default)
    except (TypeError, ValueError) as error:
        raise LineSetError(f"line {key}: {what} cannot be written as JSON ({error}); use "
                           "numbers, strings, lists and dicts") from None


def _png_bytes(image: np.ndarray) -> bytes:
    """The PNG of a grayscale image; the same pixels always give the same bytes."""
    import cv2

    # OpenCV writes no metadata chunks (time, dpi, text): the bytes depend on the pixels.
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(image, np.uint8),
                               [cv2.IMWRITE_PNG_COMPRESSION, _PNG_LEVEL])
    if not ok:
        raise LineSetError(f"an image of shape {image.shape} cannot be written as PNG")
    return encoded.tobytes()


def _png_array(data: bytes | os.PathLike | str) -> np.ndarray:
    from PIL import Image

    source = io.BytesIO(data) if isinstance(data, bytes) else data
    with Image.open(source) as image:
        return np.asarray(image.convert("L"), dtype=np.uint8)


def crop_quad(image: np.ndarray, quad, scale: float = 1.0) -> np.ndarray:
    """A character's quad (from :attr:`LineRecord.quads`) cut out of its line and turned
    upright: warped onto a rectangle as wide and high as the quad's sides, times ``scale``.

    A turned or slanted quad is resampled (bicubic). To resize the crop further (to a
    recogniser's input size, say), cut it at ``scale=2`` first: resampling from the finer grid
    keeps strokes that cutting at the line's own resolution blurs.

    Args:
        image: The line, uint8 ``(H, W)``, 255 = paper.
        quad: ``(x0, y0, x1, y1, x2, y2, x3, y3)``: top left, top right, bottom right, bottom
            left.
        scale: Size of the crop relative to the quad's.

    Returns:
        uint8 ``(h, w)``, at least 1 × 1; parts outside the line are paper.
    """
    import cv2

    if not (isinstance(scale, int | float) and math.isfinite(scale) and 0 < scale <= 16):
        raise LineSetError(f"crop_quad: scale must be a number in (0, 16], got {scale!r}")
    corners = np.asarray(quad, np.float32).reshape(4, 2)
    width = max(1, round(scale * max(np.linalg.norm(corners[1] - corners[0]),
                                     np.linalg.norm(corners[2] - corners[3]))))
    height = max(1, round(scale * max(np.linalg.norm(corners[3] - corners[0]),
                                      np.linalg.norm(corners[2] - corners[1]))))
    target = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    # Corners are in edge coordinates; OpenCV samples at pixel centres.
    matrix = cv2.getPerspectiveTransform(corners - 0.5, target - 0.5)
    return cv2.warpPerspective(image, matrix, (width, height), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=255)


def _is_lineset(folder: Path) -> dict | None:
    """The manifest of the line set in ``folder``, or None if it holds none."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(manifest, dict) and manifest.get("kind") == _KIND:
        return manifest
    return None


def check_lineset_target(out: str | os.PathLike, format: str) -> Path:
    """Refuses, before any long work, an output a line set cannot be written to.

    An earlier line set at ``out`` (a folder whose ``manifest.json`` says ``"kind": "lines"``)
    is fine: a writer replaces it as a whole, and only once the new set is complete. Nothing is
    created here.

    Args:
        out: The line set's folder.
        format: One of :data:`FORMATS`.

    Returns:
        ``out`` as a Path.

    Raises:
        LineSetError: an unknown format, ``out`` is a file or a non-empty folder that is not a
            line set, or the folder it would go in cannot be written.
    """
    if format not in FORMATS:
        raise LineSetError(f"unknown line set format {format!r}; use one of {', '.join(FORMATS)}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise LineSetError(f"output {out} is a file; a line set is a folder, choose another "
                           "output path")
    if out.is_dir() and any(out.iterdir()) and _is_lineset(out) is None:
        raise LineSetError(f"output folder {out} is not empty and not a line set (no "
                           "manifest.json with \"kind\": \"lines\"); choose another or empty it")
    # The set is written beside `out` first, so the nearest existing folder above it must be
    # writable (missing folders in between are created then).
    ancestor = out.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise LineSetError(f"cannot write {out}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise LineSetError(f"cannot write {out}: folder {ancestor} is not writable")
    return out


class LineSetWriter:
    """Writes line records into a line set folder, atomically.

    Use it as a context manager. It writes into a temporary folder beside ``out``; when the
    ``with`` block ends without error, ``manifest.json`` is written and the folder becomes
    ``out`` (replacing an earlier line set there). On an exception or Ctrl-C nothing is left
    and an earlier set at ``out`` stays as it was.

    Records must come in increasing key order; each image is written as it comes.

    Example::

        with LineSetWriter("data/lines", "paddle") as writer:
            for record in records:
                writer.write(record)
            writer.manifest["charset"] = "ks2350"

    Attributes:
        out: The destination folder.
        format: One of :data:`FORMATS`.
        shard_size: Most lines per tar shard (``webdataset`` only).
        manifest: Entries the caller adds to ``manifest.json``; ``kind``, ``format``,
            ``version`` and ``count`` (and ``shards``, ``shard_size`` for ``webdataset``) are
            the writer's own and take precedence.
        count: Lines written so far.
    """

    def __init__(self, out: str | os.PathLike, format: str, shard_size: int = 5000):
        """Checks the destination (see :func:`check_lineset_target`); nothing is written yet.

        Raises:
            LineSetError: an unusable destination or format, or a shard size below 1.
        """
        self.out = check_lineset_target(out, format)
        self.format = format
        if isinstance(shard_size, bool) or not isinstance(shard_size, int) or shard_size < 1:
            raise LineSetError(f"shard size must be a whole number of lines, 1 or more; got "
                               f"{shard_size!r}")
        self.shard_size = shard_size
        self.manifest: dict = {}
        self.count = 0
        self._atomic = None
        self._tmp: Path | None = None
        self._files: dict[str, io.TextIOBase] = {}
        self._tar: tarfile.TarFile | None = None
        self._shards: list[str] = []
        self._last_key: str | None = None
        self._open = False

    def __enter__(self) -> LineSetWriter:
        if self._atomic is not None:
            raise RuntimeError("a LineSetWriter can be used for one with-block only")
        self._atomic = atomic_dir(self.out)
        self._tmp = self._atomic.__enter__()
        try:
            if self.format in ("paddle", "imagefolder"):
                (self._tmp / "images").mkdir()
            # newline="\n": the same bytes on every platform.
            names = {"paddle": ("labels.txt", "labels.jsonl"), "imagefolder": ("metadata.jsonl",),
                     "webdataset": ()}[self.format]
            for name in names:
                self._files[name] = open(self._tmp / name, "w", encoding="utf-8", newline="\n")
        except BaseException as error:
            self._close()
            self._atomic.__exit__(type(error), error, error.__traceback__)
            raise
        self._open = True
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self._open = False
        try:
            self._close()
            if exc_type is None:
                write_json_atomic(self._tmp / "manifest.json", self._final_manifest())
        except BaseException as error:
            # Removes the temporary folder, then the error goes on.
            self._atomic.__exit__(type(error), error, error.__traceback__)
            raise
        return bool(self._atomic.__exit__(exc_type, exc, tb))

    def _close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files = {}
        if self._tar is not None:
            self._tar.close()
            self._tar = None

    def _final_manifest(self) -> dict:
        own = {"kind": _KIND, "format": self.format, "version": FORMAT_VERSION,
               "count": self.count}
        if self.format == "webdataset":
            own.update(shard_size=self.shard_size, shards=list(self._shards))
        return {**own, **{k: v for k, v in self.manifest.items() if k not in own}}

    def _check(self, record: LineRecord) -> tuple[list[list[int]], list[str]]:
        key = record.key
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise LineSetError(f"line key {key!r} is not a 9-digit index such as '000000042'")
        if self._last_key is not None and key <= self._last_key:
            raise LineSetError(f"line {key} comes after line {self._last_key}; write lines in "
                               "increasing key order")
        image = record.image
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 2 \
                or 0 in image.shape:
            shape = getattr(image, "shape", None)
            dtype = getattr(image, "dtype", type(image).__name__)
            raise LineSetError(f"line {key}: image must be a non-empty uint8 (H, W) array, got "
                               f"{dtype} {shape}")
        if not isinstance(record.text, str) or unicodedata.normalize("NFC", record.text) \
                != record.text:
            raise LineSetError(f"line {key}: text {record.text!r} is not an NFC string; "
                               "normalise it with unicodedata.normalize('NFC', text)")
        if self.format == "paddle" and ("\t" in record.text
                                        or _LINE_BREAKS.intersection(record.text)):
            raise LineSetError(f"line {key}: text {record.text!r} holds a tab or line break, "
                               "which labels.txt cannot hold; use another format or remove it")
        try:
            boxes = [[int(v) for v in box] for box in record.boxes]
        except (TypeError, ValueError):
            raise LineSetError(f"line {key}: boxes must be (x0, y0, x1, y1) integers") from None
        if any(len(box) != 4 for box in boxes):
            raise LineSetError(f"line {key}: every box must be (x0, y0, x1, y1)")
        chars = list(record.chars)
        if len(chars) != len(boxes) or not all(isinstance(c, str) for c in chars):
            raise LineSetError(f"line {key}: {len(boxes)} boxes but {len(chars)} chars; give "
                               "one character (a string) per box")
        try:
            quads = [[float(v) for v in quad] for quad in record.quads]
        except (TypeError, ValueError):
            raise LineSetError(f"line {key}: quads must be 8 numbers each") from None
        if quads and (len(quads) != len(boxes) or any(len(q) != 8 for q in quads)
                      or not all(math.isfinite(v) for q in quads for v in q)):
            raise LineSetError(f"line {key}: give one quad of 8 finite numbers per box "
                               f"({len(boxes)}), or none")
        if not isinstance(record.style, str):
            raise LineSetError(f"line {key}: style must be a string, got {record.style!r}")
        if not isinstance(record.params, dict):
            raise LineSetError(f"line {key}: params must be a dict, got "
                               f"{type(record.params).__name__}")
        return boxes, quads, chars

    def write(self, record: LineRecord) -> None:
        """Writes one line (its image now, not at the end).

        Raises:
            LineSetError: a malformed record (key not 9 digits or not after the previous one,
                image not uint8 (H, W), text not NFC, a tab or line break in a ``paddle``
                label, boxes and chars that do not match, params not JSON-serialisable).
            RuntimeError: called outside the ``with`` block.
        """
        if not self._open:
            raise RuntimeError("LineSetWriter.write must be called inside its with-block")
        boxes, quads, chars = self._check(record)
        key = record.key
        labels = {"key": key, "text": record.text, "boxes": boxes, "quads": quads,
                  "chars": chars, "style": record.style, "params": record.params}
        png = _png_bytes(record.image)
        name = f"images/{key}.png"
        if self.format == "paddle":
            line = _dumps({"key": key, "file": name, **{k: v for k, v in labels.items()
                                                         if k != "key"}}, key, "labels")
            (self._tmp / name).write_bytes(png)
            self._files["labels.txt"].write(f"{name}\t{record.text}\n")
            self._files["labels.jsonl"].write(line + "\n")
        elif self.format == "imagefolder":
            params = _dumps(record.params, key, "params")
            line = _dumps({"file_name": name, "key": key, "text": record.text, "boxes": boxes,
                           "quads": quads, "chars": chars, "style": record.style,
                           "params": params}, key, "labels")
            (self._tmp / name).write_bytes(png)
            self._files["metadata.jsonl"].write(line + "\n")
        else:
            data = _dumps(labels, key, "labels").encode("utf-8")
            if self._tar is None or self.count % self.shard_size == 0:
                self._next_shard()
            for member, content in ((f"{key}.png", png), (f"{key}.txt",
                                                           record.text.encode("utf-8")),
                                    (f"{key}.json", data)):
                self._add_member(member, content)
        self._last_key = key
        self.count += 1

    def _next_shard(self) -> None:
        if self._tar is not None:
            self._tar.close()
        name = _SHARD.format(len(self._shards))
        self._tar = tarfile.open(self._tmp / name, "w", format=tarfile.USTAR_FORMAT)
        self._shards.append(name)

    def _add_member(self, name: str, content: bytes) -> None:
        # A fixed time, owner and mode: the tar bytes depend on the records only.
        info = tarfile.TarInfo(name)
        info.size = len(content)
        info.mtime = 0
        info.mode = 0o644
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        self._tar.addfile(info, io.BytesIO(content))


def _record(labels: dict, image: np.ndarray, text: str | None = None) -> LineRecord:
    return LineRecord(key=labels["key"], image=image,
                      text=labels["text"] if text is None else text,
                      boxes=[tuple(box) for box in labels["boxes"]], chars=list(labels["chars"]),
                      style=labels["style"], params=labels["params"],
                      quads=[tuple(quad) for quad in labels.get("quads", [])])


def _jsonl(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError:
                    raise LineSetError(f"{path}, line {number}: not valid JSON") from None


def read_lineset(path: str | os.PathLike) -> Iterator[LineRecord]:
    """Reads a line set back, in any of the formats, one line at a time in key order.

    Args:
        path: The line set's folder (its format is read from ``manifest.json``).

    Yields:
        The lines as :class:`LineRecord`. ``params`` comes back as parsed JSON (tuples in it
        become lists, numpy numbers plain numbers).

    Raises:
        LineSetError: ``path`` is not a line set written by this module.
    """
    path = Path(path)
    manifest = _is_lineset(path) if path.is_dir() else None
    if manifest is None:
        raise LineSetError(f"{path} is not a line set (no manifest.json with \"kind\": "
                           "\"lines\"); give a folder written by korean-gan lines")
    fmt = manifest.get("format")
    if fmt == "paddle":
        for labels in _jsonl(path / "labels.jsonl"):
            yield _record(labels, _png_array(path / labels["file"]))
    elif fmt == "imagefolder":
        for meta in _jsonl(path / "metadata.jsonl"):
            key = meta.get("key") or Path(meta["file_name"]).stem
            labels = {**meta, "key": key, "params": json.loads(meta["params"])}
            yield _record(labels, _png_array(path / meta["file_name"]))
    elif fmt == "webdataset":
        shards = manifest.get("shards") or sorted(p.name for p in path.glob("lines-*.tar"))
        for shard in shards:
            yield from _read_shard(path / shard)
    else:
        raise LineSetError(f"{path}: unknown line set format {fmt!r} in manifest.json; "
                           f"expected one of {', '.join(FORMATS)}")


def _read_shard(shard: Path) -> Iterator[LineRecord]:
    """The lines of one tar shard; a line's members are consecutive, ending with its .json."""
    sample: dict[str, bytes] = {}
    with tarfile.open(shard, "r") as tar:
        for member in tar:
            if not member.isfile():
                continue
            key, _, ext = member.name.partition(".")
            sample[ext] = tar.extractfile(member).read()
            if ext == "json":
                if "png" not in sample or "txt" not in sample:
                    raise LineSetError(f"{shard}: line {key} lacks its .png or .txt member")
                labels = json.loads(sample["json"])
                yield _record(labels, _png_array(sample["png"]), sample["txt"].decode("utf-8"))
                sample = {}
