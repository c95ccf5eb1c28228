"""Datasets: build labelled glyph images from fonts, save and load them, feed them to TensorFlow.

A built dataset is one ``.npz`` file (read it with :func:`load_dataset`) holding:

==================  ===========================  ============================================
key                 dtype, shape                 meaning
==================  ===========================  ============================================
``images``          uint8 ``(N, S, S)``          glyphs, 255 = paper, 0 = ink
``labels``          int32 ``(N,)``               index into ``charset``
``charset``         str ``(C,)``                 the syllables; label ``i`` is ``charset[i]``
``font_ids``        int32 ``(N,)``               index into ``fonts``
``fonts``           str ``(F,)``                 font face names (file stems)
``aug_ids``         int32 ``(N,)``               index into ``augmentations``
``augmentations``   str ``(A,)``                 ``orig``, ``rot+15``, ...
==================  ===========================  ============================================

Beside it, ``<name>.json`` (the manifest: fonts with sha256, skipped glyphs per font, parameters,
counts, time) and ``<name>.preview.png`` (a grid: fonts down, syllables across).

Builds are reproducible: the same fonts, charset, parameters and seed give a byte-identical
``.npz`` and preview, whatever the number of worker processes.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from korean_gan._io import (
    atomic_dir,
    atomic_path,
    check_output_path,
    npz_problem,
    save_npz,
    sha256_file,
    stream_target,
    write_json_atomic,
)
from korean_gan.data.augment import AugmentConfig, augment_glyph, augmentation_names
from korean_gan.data.charsets import Charset, CharsetError, resolve_charset
from korean_gan.data.fonts import FontFace, load_faces
from korean_gan.data.render import GlyphRenderer, RenderConfig

__all__ = [
    "BuildConfig",
    "BuildResult",
    "DatasetError",
    "GlyphDataset",
    "build_dataset",
    "load_dataset",
    "check_dataset_target",
    "parse_repeat_fonts",
    "preview_grid",
    "save_dataset",
    "sidecar_paths",
    "to_tf_dataset",
]

FORMAT_VERSION = 1
_REQUIRED = {
    "images": np.uint8, "labels": np.integer, "charset": np.str_, "font_ids": np.integer,
    "fonts": np.str_, "aug_ids": np.integer, "augmentations": np.str_,
}
# Syllables per work unit: small enough to share the work of a few fonts over both cores, large
# enough that the per-unit cost (opening the font) is small.
_CHUNK = 400


class DatasetError(ValueError):
    """A dataset file or build request that cannot be used, with the reason."""


@dataclass
class BuildConfig:
    """Everything that determines a dataset build.

    Attributes:
        charset: A charset name, text file or literal syllables (see ``korean_gan.data.charsets``).
        fonts: Font files or folders; ``"bundled"`` is the bundled corpus.
        augment: Augmentation policy names (see ``korean_gan.data.augment``);
            ``("reference",)`` is the reference project's.
        copies: Variants per glyph for the random augmentation policies.
        size: Glyph side in pixels.
        placement: ``fit`` (each glyph's ink fills the box, the reference's) or ``em`` (as the
            font draws it: one scale per font, each glyph at its own position; see
            ``korean_gan.data.render``).
        seed: Seed of the random augmentations.
        out: The ``.npz`` path (``npz`` format) or folder (``imagefolder`` format); ``None``
            means ``data/<charset>.npz`` (or ``data/<charset>/``).
        format: ``npz``, or ``imagefolder`` (class subfolders of PNG files for
            ``keras.utils.image_dataset_from_directory``).
        workers: Processes to render with; 0 means one per CPU core.
        strict: Fail on an unusable font file instead of skipping it with a warning.
        extra: Datasets (``.npz``, e.g. from ``korean-gan ingest``) whose original glyphs join
            the build, each of their styles as a font of its own, augmented like the rest;
            their syllables outside the charset are left out.
        exclude_fonts: Font names (file stems) to leave out, e.g. an evaluator's held-out
            fonts, so that a model trained on the set never sees them.
        preview: Also write the preview grid PNG.
        progress: Show a progress bar.
    """

    charset: str = "seed16"
    fonts: tuple[str, ...] = ("bundled",)
    augment: tuple[str, ...] = ("reference",)
    copies: int = 3
    size: int = 32
    placement: str = "fit"  # the reference's
    seed: int = 0
    out: str | None = None
    format: str = "npz"
    workers: int = 0
    strict: bool = False
    exclude_fonts: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    preview: bool = True
    progress: bool = True

    def output_path(self, charset_name: str) -> Path:
        """Where the build writes, with the default filled in."""
        if self.out is not None:
            return Path(self.out)
        return Path("data") / (f"{charset_name}.npz" if self.format == "npz" else charset_name)


@dataclass
class BuildResult:
    """What a build produced."""

    path: Path
    manifest_path: Path
    preview_path: Path | None
    n_images: int
    n_glyphs: int
    n_fonts: int
    n_classes: int
    seconds: float
    manifest: dict = field(repr=False, default_factory=dict)

    @property
    def images_per_second(self) -> float:
        """Build throughput, images written per wall-clock second."""
        return self.n_images / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class GlyphDataset:
    """A loaded dataset (see the module docstring for the fields)."""

    images: np.ndarray
    labels: np.ndarray
    charset: Charset
    fonts: list[str]
    font_ids: np.ndarray
    augmentations: list[str]
    aug_ids: np.ndarray

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def image_size(self) -> int:
        """Side of the square images."""
        return int(self.images.shape[1])

    def subset(self, mask: np.ndarray) -> GlyphDataset:
        """The images where ``mask`` is true (a boolean array or indices)."""
        return GlyphDataset(self.images[mask], self.labels[mask], self.charset, self.fonts,
                            self.font_ids[mask], self.augmentations, self.aug_ids[mask])

    def originals(self) -> GlyphDataset:
        """Only the un-augmented glyphs."""
        return self.subset(self.aug_ids == self.augmentations.index("orig"))

    def repeat_fonts(self, repeats: dict[str, int]) -> GlyphDataset:
        """The dataset with each named font's images ``k`` times over (the copies after the
        original rows, in order): more training steps on styles a model draws badly.

        Args:
            repeats: Font name -> how many times its images appear (an integer ≥ 1).

        Raises:
            DatasetError: a font the dataset does not hold, or a count that is not ≥ 1.
        """
        extra = []
        for font, k in repeats.items():
            if font not in self.fonts:
                raise DatasetError(f"repeat-font: {font!r} is not a font of the dataset "
                                   f"({', '.join(self.fonts)})")
            if not isinstance(k, int) or isinstance(k, bool) or k < 1:
                raise DatasetError(f"repeat-font: {font} must repeat a whole number of times "
                                   f"(1 or more), got {k!r}")
            extra += [np.flatnonzero(self.font_ids == self.fonts.index(font))] * (k - 1)
        return self.subset(np.concatenate([np.arange(len(self)), *extra]))


def parse_repeat_fonts(specs) -> dict[str, int]:
    """``NAME=K`` texts (``--repeat-font``) as ``{NAME: K}`` for
    :meth:`GlyphDataset.repeat_fonts`.

    Raises:
        DatasetError: a text that is not NAME=K with K a whole number.
    """
    repeats = {}
    for spec in specs:
        name, _, count = spec.rpartition("=")
        if not name or not count.isdigit():
            raise DatasetError(f"--repeat-font {spec}: give NAME=K, e.g. "
                               "NanumBrushScript-Regular=4")
        repeats[name] = int(count)
    return repeats


# --- building ---------------------------------------------------------------------------------

# Per-process cache of renderers: a worker renders many chunks of the same fonts.
_RENDERERS: dict[tuple[str, int, RenderConfig], GlyphRenderer] = {}


def _renderer(face: FontFace, config: RenderConfig) -> GlyphRenderer:
    key = (str(face.path), face.index, config)
    if key not in _RENDERERS:
        _RENDERERS[key] = GlyphRenderer(face, config)
    return _RENDERERS[key]


def _render_chunk(task: tuple) -> tuple:
    """Renders and augments one font × chunk of syllables (runs in a worker process)."""
    face, font_id, chars, first_label, render_cfg, aug_cfg, seed = task
    renderer = _renderer(face, render_cfg)
    skipped = renderer.check(chars)
    images: list[np.ndarray] = []
    labels: list[int] = []
    for offset, char in enumerate(chars):
        label = first_label + offset
        if char in skipped:
            continue
        glyph = renderer.render_unchecked(char)
        if glyph is None:
            skipped[char] = "blank image"
            continue
        # Seeded per (font, syllable): results do not depend on chunking or worker count.
        rng = np.random.default_rng([seed, font_id, label])
        variants = augment_glyph(glyph, aug_cfg, rng)
        images.extend(variants)
        labels.extend([label] * len(variants))
    n_aug = len(augmentation_names(aug_cfg))
    size = render_cfg.size
    stacked = np.stack(images) if images else np.zeros((0, size, size), np.uint8)
    return font_id, stacked, np.asarray(labels, np.int32), n_aug, skipped


def _progress(total: int, enabled: bool, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="glyph", disable=not enabled or None,
                dynamic_ncols=True, leave=True)


def _run_tasks(tasks: list[tuple], workers: int, progress: bool) -> list[tuple]:
    results: list[tuple | None] = [None] * len(tasks)
    with _progress(sum(len(t[2]) for t in tasks), progress, "rendering") as bar:
        if workers <= 1:
            for i, task in enumerate(tasks):
                results[i] = _render_chunk(task)
                bar.update(len(task[2]))
        else:
            from korean_gan._workers import worker_pool

            with worker_pool(workers) as pool:
                for i, result in pool.imap_unordered(_render_indexed, enumerate(tasks)):
                    results[i] = result
                    bar.update(len(tasks[i][2]))
    return results  # type: ignore[return-value]


def _render_indexed(item: tuple[int, tuple]) -> tuple[int, tuple]:
    index, task = item
    return index, _render_chunk(task)


def build_dataset(config: BuildConfig | None = None, **overrides) -> BuildResult:
    """Renders, augments and saves a labelled glyph dataset.

    Args:
        config: The build configuration (defaults: seed16 × bundled fonts × seed policy).
        **overrides: Fields of :class:`BuildConfig` to change, e.g. ``charset="ks2350"``.

    Returns:
        A :class:`BuildResult` with paths and counts.

    Raises:
        CharsetError, FontError, DatasetError, OutputError: bad input, before any work starts.
    """
    config = BuildConfig(**{**asdict(config or BuildConfig()), **overrides})
    if isinstance(config.fonts, str):
        config.fonts = (config.fonts,)
    if isinstance(config.augment, str):
        config.augment = tuple(p for p in config.augment.split(",") if p)
    if config.format not in ("npz", "imagefolder"):
        raise DatasetError(f"unknown format {config.format!r}; use npz or imagefolder")
    started = time.perf_counter()
    charset = resolve_charset(config.charset)
    render_cfg = RenderConfig(size=config.size, placement=config.placement)
    aug_cfg = AugmentConfig(tuple(config.augment), config.copies)
    out = config.output_path(charset.name)
    check_dataset_target(out, config.format)
    faces = load_faces(config.fonts, strict=config.strict)
    if config.exclude_fonts:
        names = {face.name for face in faces}
        unknown = sorted(set(config.exclude_fonts) - names)
        if unknown:
            raise DatasetError(f"--exclude-fonts names {', '.join(unknown)}, which are not among "
                               f"the fonts ({', '.join(sorted(names))})")
        faces = [face for face in faces if face.name not in set(config.exclude_fonts)]
        if not faces:
            raise DatasetError("--exclude-fonts leaves no font to render")
    extras = _load_extras(config.extra, charset, config.size, [face.name for face in faces])
    # Every image is held until the set is saved (twice over while it is stacked).
    from korean_gan._budget import check_memory

    variants = len(augmentation_names(aug_cfg))
    n = len(faces) * len(charset) * variants
    check_memory(f"a build of {n:,} images of {config.size} px", 2 * n * config.size ** 2,
                 "lower --copies, --size or the charset, or build in parts")

    tasks = [
        (face, font_id, charset.chars[start:start + _CHUNK], start, render_cfg, aug_cfg,
         config.seed)
        for font_id, face in enumerate(faces)
        for start in range(0, len(charset), _CHUNK)
    ]
    workers = config.workers or os.cpu_count() or 1
    # Spawning workers costs about a second; not worth it for a small build.
    workers = min(workers, len(tasks)) if len(charset) * len(faces) > 2000 else 1
    results = _run_tasks(tasks, workers, config.progress)

    aug_names = augmentation_names(aug_cfg)
    images, labels, font_ids = [], [], []
    skipped: dict[int, dict[str, str]] = {i: {} for i in range(len(faces))}
    for font_id, chunk_images, chunk_labels, _, chunk_skipped in results:
        images.append(chunk_images)
        labels.append(chunk_labels)
        font_ids.append(np.full(len(chunk_labels), font_id, np.int32))
        skipped[font_id].update(chunk_skipped)
    font_names = [face.name for face in faces]
    for _, style, style_images, style_labels in extras:
        font_id = len(font_names)
        font_names.append(style)
        skipped[font_id] = {}
        variants: list[np.ndarray] = []
        for n, (image, label) in enumerate(zip(style_images, style_labels, strict=True)):
            # Seeded per (style, syllable, sample), like the fonts' glyphs.
            rng = np.random.default_rng([config.seed, font_id, int(label), n])
            variants.extend(augment_glyph(image, aug_cfg, rng))
        images.append(np.stack(variants))
        labels.append(np.repeat(style_labels, len(aug_names)).astype(np.int32))
        font_ids.append(np.full(len(variants), font_id, np.int32))
    images_arr = np.concatenate(images)
    labels_arr = np.concatenate(labels)
    font_ids_arr = np.concatenate(font_ids)
    aug_ids_arr = np.tile(np.arange(len(aug_names), dtype=np.int32), len(labels_arr) // len(
        aug_names)) if len(labels_arr) else np.zeros(0, np.int32)
    if len(images_arr) == 0:
        raise DatasetError(f"no font draws any syllable of charset {charset.name!r}; nothing to "
                           "build")

    dataset = GlyphDataset(images_arr, labels_arr, charset, font_names, font_ids_arr, aug_names,
                           aug_ids_arr)
    font_entries = []
    for font_id, face in enumerate(faces):
        drawn = int(np.count_nonzero((font_ids_arr == font_id) & (aug_ids_arr == 0)))
        reasons: dict[str, list[str]] = {}
        for char, reason in sorted(skipped[font_id].items(), key=lambda kv: charset.index(kv[0])):
            reasons.setdefault(reason, []).append(char)
        font_entries.append({
            "name": face.name, "family": face.family, "file": face.path.name,
            "index": face.index, "sha256": face.sha256, "glyphs": drawn,
            "skipped": {reason: "".join(chars) for reason, chars in reasons.items()},
        })
    for offset, (path, style, _, _) in enumerate(extras):
        font_id = len(faces) + offset
        font_entries.append({
            "name": style, "family": "handwriting", "file": path.name, "index": 0,
            "sha256": sha256_file(path), "source": str(path),
            "glyphs": int(np.count_nonzero((font_ids_arr == font_id) & (aug_ids_arr == 0))),
            "skipped": {},
        })
    manifest = {
        "format_version": FORMAT_VERSION,
        "charset": {"name": charset.name, "size": len(charset),
                    "chars": charset.text if len(charset) <= 2350 else None},
        "parameters": {"size": config.size, "placement": render_cfg.placement,
                       "margin": render_cfg.margin,
                       "oversample": render_cfg.oversample, "augment": list(aug_cfg.policies),
                       "copies": aug_cfg.copies, "seed": config.seed, "format": config.format,
                       "exclude_fonts": list(config.exclude_fonts),
                       "extra": [str(p) for p in config.extra]},
        "augmentations": aug_names,
        "counts": {
            "images": int(len(images_arr)), "glyphs": int(np.count_nonzero(aug_ids_arr == 0)),
            "fonts": len(font_names), "classes": len(charset),
            "per_class_min": int(np.bincount(labels_arr, minlength=len(charset)).min()),
            "glyphs_skipped": int(sum(len(s) for s in skipped.values())),
        },
        "fonts": font_entries,
    }
    preview_written = save_dataset(dataset, out, manifest, config.format, config.preview)
    seconds = time.perf_counter() - started
    manifest["build"] = {"seconds": round(seconds, 3), "workers": workers,
                         "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    manifest_path = sidecar_paths(out, config.format)[0]
    write_json_atomic(manifest_path, manifest)
    return BuildResult(out, manifest_path, preview_written, len(images_arr),
                       manifest["counts"]["glyphs"], len(font_names), len(charset), seconds,
                       manifest)


def _load_extras(paths, charset: Charset, size: int, font_names: list[str]) -> list[tuple]:
    """Loads ``--extra`` datasets before any rendering: ``[(path, style, images, labels)]``
    per style, labels mapped onto ``charset`` by syllable.

    Raises:
        DatasetError: an unreadable set, another image size, a style named like a font, or a
            set with no syllable of the charset.
    """
    out: list[tuple] = []
    names = set(font_names)
    index = {char: i for i, char in enumerate(charset.chars)}
    for path in map(Path, paths):
        extra = load_dataset(path)
        if extra.image_size != size:
            raise DatasetError(f"extra dataset {path} has {extra.image_size} px images; the "
                               f"build makes {size} px (pass --size {extra.image_size})")
        originals = extra.originals() if "orig" in extra.augmentations else extra
        mapped = np.array([index.get(extra.charset[label], -1) for label in originals.labels],
                          np.int64)
        if not (mapped >= 0).any():
            raise DatasetError(f"extra dataset {path} holds no syllable of charset "
                               f"{charset.name!r}")
        for local_id, style in enumerate(extra.fonts):
            if style in names:
                raise DatasetError(f"extra dataset {path}: its style {style!r} is already a "
                                   "font of the build; ingest it with another --style")
            names.add(style)
            rows = (originals.font_ids == local_id) & (mapped >= 0)
            if rows.any():
                out.append((path, style, originals.images[rows], mapped[rows].astype(np.int32)))
    return out


def save_dataset(dataset: GlyphDataset, out: str | os.PathLike, manifest: dict,
                 format: str = "npz", preview: bool = True) -> Path | None:
    """Writes a dataset as ``.npz`` or an image folder, atomically, and its preview grid.

    The caller writes the manifest last (``<stem>.json`` beside an ``.npz``, ``manifest.json``
    inside a folder): a failed write then leaves any previous dataset and its manifest together.
    For the image folder, ``manifest`` is also written inside the swapped-in folder.

    Args:
        dataset: What to write.
        out: The ``.npz`` path or the folder.
        manifest: The manifest (JSON-serialisable).
        format: ``npz`` or ``imagefolder``.
        preview: Also write the preview PNG.

    Returns:
        The preview's path, or None.
    """
    out = Path(out)
    preview_path = sidecar_paths(out, format)[1] if preview else None
    if format == "npz":
        if preview_path is not None:
            preview_grid(dataset, preview_path)
        save_npz(out, {
            "images": dataset.images,
            "labels": dataset.labels,
            "charset": np.array(dataset.charset.chars),
            "font_ids": dataset.font_ids,
            "fonts": np.array(dataset.fonts),
            "aug_ids": dataset.aug_ids,
            "augmentations": np.array(dataset.augmentations),
        })
    else:
        _write_imagefolder(out, dataset, manifest)
        if preview_path is not None:  # inside the folder, so after it is swapped in
            preview_grid(dataset, preview_path)
    return preview_path


def sidecar_paths(out: str | os.PathLike, fmt: str = "npz") -> tuple[Path, Path]:
    """The manifest and preview paths of a dataset written to ``out`` in format ``fmt``.

    A dataset streamed to a device or FIFO (``--out /dev/null``) has no place beside it: its
    sidecars go to the null device too.
    """
    out = Path(out)
    if fmt == "npz" and stream_target(out):
        return Path(os.devnull), Path(os.devnull)
    if fmt == "npz":
        stem = out.name[:-4] if out.name.endswith(".npz") else out.name
        return out.with_name(stem + ".json"), out.with_name(stem + ".preview.png")
    return out / "manifest.json", out / "preview.png"


def check_dataset_target(out: str | os.PathLike, format: str = "npz") -> None:
    """Refuses, before any work, an output a dataset cannot be written to.

    Raises:
        DatasetError, OutputError: an unknown format, an unwritable place, or a folder that
            holds something other than an earlier dataset.
    """
    if format not in ("npz", "imagefolder"):
        raise DatasetError(f"unknown format {format!r}; use npz or imagefolder")
    if format == "npz":
        check_output_path(Path(out))
    else:
        _check_imagefolder_target(Path(out))


def _check_imagefolder_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise DatasetError(f"output {out} is a file; imagefolder needs a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "manifest.json").is_file():
        raise DatasetError(f"output folder {out} is not empty and not an earlier build; choose "
                           "another --out")
    check_output_path(out / "manifest.json")


def _write_imagefolder(out: Path, dataset: GlyphDataset, manifest: dict) -> None:
    """Writes class subfolders ``00000_가/`` of PNGs into a fresh folder, then swaps it in.

    The zero-padded index prefix makes the alphabetical class order that
    ``keras.utils.image_dataset_from_directory`` uses equal to the charset's label order.
    """
    from PIL import Image

    with atomic_dir(out) as tmp:
        width = len(str(len(dataset.charset) - 1))
        class_dirs = [tmp / f"{i:0{width}d}_{c}" for i, c in enumerate(dataset.charset)]
        for directory in class_dirs:
            directory.mkdir()
        for n in range(len(dataset)):
            name = (f"{dataset.fonts[dataset.font_ids[n]]}_"
                    f"{dataset.augmentations[dataset.aug_ids[n]]}.png")
            Image.fromarray(dataset.images[n]).save(class_dirs[dataset.labels[n]] / name)
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2),
                                           encoding="utf-8")


def preview_grid(dataset: GlyphDataset, path: str | os.PathLike, max_fonts: int = 12,
                 max_chars: int = 16, scale: int = 2) -> Path:
    """Writes a PNG grid of original glyphs: fonts down (evenly chosen), syllables across.

    Missing glyphs (a font that does not draw a syllable) stay as light grey cells.
    """
    from PIL import Image

    # Generated sets (korean-gan synth) have no originals: one sample per cell stands in.
    originals = dataset.originals() if "orig" in dataset.augmentations else dataset
    n_fonts = len(dataset.fonts)
    font_rows = np.unique(np.linspace(0, n_fonts - 1, min(max_fonts, n_fonts)).round().astype(int))
    labels = list(range(min(max_chars, len(dataset.charset))))
    from korean_gan.data.images import tile

    lookup = {(int(f), int(lab)): i
              for i, (f, lab) in enumerate(zip(originals.font_ids, originals.labels, strict=True))}
    size = dataset.image_size
    missing = np.full((size, size), 215, np.uint8)
    cells = np.stack([
        originals.images[lookup[(int(f), label)]] if (int(f), label) in lookup else missing
        for f in font_rows for label in labels])
    grid = tile(cells, cols=len(labels))
    image = Image.fromarray(grid).resize((grid.shape[1] * scale, grid.shape[0] * scale),
                                         Image.Resampling.NEAREST)
    with atomic_path(path, suffix=".png") as tmp:
        image.save(tmp, format="PNG")
    return Path(path)


# --- loading ----------------------------------------------------------------------------------

def load_dataset(path: str | os.PathLike) -> GlyphDataset:
    """Loads and validates a dataset ``.npz`` (never unpickles anything).

    Raises:
        DatasetError: the file is missing, damaged, or its arrays are inconsistent; the message
            names the file and the problem.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"dataset {path} does not exist; build one with `korean-gan data "
                           "build`")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = sorted(set(_REQUIRED) - set(npz.files))
            if missing:
                raise DatasetError(f"dataset {path} lacks the arrays {missing}; rebuild it with "
                                   "`korean-gan data build`")
            arrays = {key: npz[key] for key in _REQUIRED}
    except DatasetError:
        raise
    except Exception as err:  # zipfile.BadZipFile, ValueError (pickled), EOFError, ...
        raise DatasetError(f"dataset {path} cannot be read ({npz_problem(err)}); "
                           "rebuild it") from None
    for key, kind in _REQUIRED.items():
        if not np.issubdtype(arrays[key].dtype, kind):
            raise DatasetError(f"dataset {path}: {key} has dtype {arrays[key].dtype}, expected "
                               f"{np.dtype(kind).name if kind is not np.integer else 'integer'}")
    images = arrays["images"]
    if images.ndim != 3 or images.shape[1] != images.shape[2] or images.shape[0] == 0:
        raise DatasetError(f"dataset {path}: images have shape {images.shape}, expected "
                           "(N, S, S) with N > 0")
    n = images.shape[0]
    for key, table in (("labels", "charset"), ("font_ids", "fonts"), ("aug_ids", "augmentations")):
        ids = arrays[key]
        if ids.shape != (n,):
            raise DatasetError(f"dataset {path}: {key} has shape {ids.shape}, expected ({n},)")
        if ids.min() < 0 or ids.max() >= len(arrays[table]):
            raise DatasetError(f"dataset {path}: {key} out of range [0, {len(arrays[table])})")
    try:
        charset = resolve_charset(list(arrays["charset"]))
    except CharsetError as err:
        raise DatasetError(f"dataset {path}: its charset is not valid ({err})") from None
    return GlyphDataset(
        images=images,
        labels=arrays["labels"].astype(np.int32),
        charset=Charset(path.stem, charset.chars),
        fonts=[str(f) for f in arrays["fonts"]],
        font_ids=arrays["font_ids"].astype(np.int32),
        augmentations=[str(a) for a in arrays["augmentations"]],
        aug_ids=arrays["aug_ids"].astype(np.int32),
    )


def to_tf_dataset(data: GlyphDataset | str | os.PathLike, batch_size: int = 256,
                  shuffle: bool = True, seed: int = 0, with_labels: bool = False,
                  drop_remainder: bool = True):
    """A batched ``tf.data.Dataset`` of images scaled to [-1, 1] (1 = paper), shape (S, S, 1).

    The uint8 images are cached in memory; scaling runs in graph ops; batches are prefetched.

    Args:
        data: A loaded dataset or the path of a ``.npz``.
        batch_size: Images per batch.
        shuffle: Reshuffle every epoch (seeded).
        seed: Shuffle seed.
        with_labels: Yield ``(images, labels)`` instead of images.
        drop_remainder: Drop the last partial batch (keeps batch shapes static for training).

    Raises:
        DatasetError: ``batch_size`` is not positive or larger than the dataset.
    """
    import tensorflow as tf

    if not isinstance(data, GlyphDataset):
        data = load_dataset(data)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise DatasetError(f"batch size must be a positive integer, got {batch_size!r}")
    if drop_remainder and batch_size > len(data):
        raise DatasetError(f"batch size {batch_size} is larger than the dataset ({len(data)} "
                           "images); lower --batch-size or build more data")
    tensors = (data.images, data.labels) if with_labels else data.images
    ds = tf.data.Dataset.from_tensor_slices(tensors).cache()
    if shuffle:
        ds = ds.shuffle(len(data), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)

    def scale(images):
        return tf.cast(images, tf.float32)[..., None] / 127.5 - 1.0

    if with_labels:
        ds = ds.map(lambda x, y: (scale(x), y), num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = ds.map(scale, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
