"""Text lines for OCR: labelled images of handwritten Korean lines, in the formats recognizers
train on.

:func:`make_lines` writes one image per line of a corpus (or per random line): the line is set
with its style's font metrics (:mod:`korean_gan.data.layout`), every Hangul syllable drawn by
the conditional model and the upsampler, every other character (digits, punctuation, Latin) by
a font, then made to look written by hand (:mod:`korean_gan.data.lineaug`: per-glyph jitter in
size, baseline, spacing and rotation; line slant, ink weight, paper, blur, noise, JPEG). Each
line's label holds the text (NFC), every character's box, the style and the augmentation
parameters; :mod:`korean_gan.data.linesets` writes them as a PaddleOCR folder, a Hugging Face
``imagefolder`` or WebDataset shards.

Line ``i`` depends only on ``(seed, i)``: its text (for random lines), style, noise and
augmentation come from ``numpy.random.default_rng([seed, i])``. So ``shard="K/N"`` makes the
lines of block K of N, and the shards together equal the single run, line for line, however
they are run (one process, ``workers``, or Ray tasks: :mod:`korean_gan.lines_ray`).
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from korean_gan._budget import TimeLimit
from korean_gan._progress import ProgressCallback, StageBar
from korean_gan.data.lineaug import LineAugment
from korean_gan.generate import Handwriting, check_size, int8_or_float32, resolve_runtime

__all__ = ["LinesConfig", "LinesError", "LinesResult", "augment_from_spec", "make_lines",
           "parse_shard", "parse_styles"]


class LinesError(ValueError):
    """A line set that cannot be made as asked, with the reason."""


#: Most worker processes that ``workers=None`` starts.
MAX_AUTO_WORKERS = 8


@dataclass
class LinesConfig:
    """What :func:`make_lines` makes.

    Attributes:
        out: The output folder.
        text: A corpus file: one line per image (UTF-8; normalised to NFC).
        random: Instead of ``text``: this many random lines of Hangul words.
        frequency_from: With ``random``: a corpus whose syllable frequencies the random lines
            follow (default: every KS X 1001 syllable equally often).
        styles: Comma-separated style entries, each optionally weighted ``name:weight``:
            ``fonts`` (every training font, weight 1 each), a font's name or number,
            ``random`` (a new style per line), ``mix`` (a new blend of two fonts per line),
            ``mean``, or a style file / name from ``korean-gan adapt``.
        height: Pixels per em the line is drawn at (32, 64 or 128), and the height of the
            finished image.
        count: Lines to make (default: each corpus line once, or ``random``).
        seed: Seed of everything random; line ``i`` depends on ``(seed, i)`` only.
        format: ``paddle``, ``imagefolder`` or ``webdataset``.
        shard: ``K/N``: make only block K (0-based) of N equal blocks of the lines.
        workers: Processes that draw lines (each loads the model); None: one per core (at
            most :data:`MAX_AUTO_WORKERS`), but no more than there are batches of lines.
        augment: How lines are made to look handwritten (see ``LineAugment``).
        latin_from: Font for digits, punctuation and Latin letters (``auto``: the style's own
            font, then Gamja Flower).
        model: ``default`` or another model name or run folder.
        threads: ONNX Runtime's threads in each worker, each running a block of glyphs (None:
            the cores shared out among the workers). The lines are the same whatever the count.
        precision: What the generator computes in: ``int8`` (ONNX Runtime's 8-bit
            convolutions, 2.3x float32's glyphs per second, the same content accuracy and FCD
            within 1%; exact integer sums, so the same lines on every CPU with VNNI),
            ``float32``, or a mixed policy; None: ``int8`` where the model has its export and
            the runtime is not ``tensorflow``, else ``float32``.
        runtime: What runs the networks (``auto``, ``tensorflow``, ``onnx``; see
            :data:`korean_gan.generate.RUNTIMES`). ONNX Runtime starts each worker in about a
            second where TensorFlow takes five; lines differ from TensorFlow's by a grey level
            or two in a few pixels.
        batch_lines: Lines drawn together (their syllables go through the model in one call).
        progress: Show a progress bar.
        max_hours: Stop with :class:`korean_gan._budget.BudgetError` if the pace of the first
            20 s says the lines would take longer (nothing is kept); None: no limit.
    """

    out: str = "data/lines"
    text: str | None = None
    random: int | None = None
    frequency_from: str | None = None
    styles: str = "fonts"
    height: int = 64
    count: int | None = None
    seed: int = 0
    format: str = "paddle"
    shard: str | None = None
    workers: int | None = 1  # the command line's default is None
    threads: int | None = None
    augment: LineAugment = field(default_factory=LineAugment)
    latin_from: str = "auto"
    model: str = "default"
    precision: str | None = None  # int8 where the model has its export, else float32
    runtime: str = "auto"  # onnx where the model has its export (the bundled one does)
    batch_lines: int = 64
    progress: bool = True
    max_hours: float | None = None  # the command line sets 24 unless --yes


@dataclass
class LinesResult:
    """What :func:`make_lines` wrote."""

    path: Path
    lines: int
    skipped: int
    seconds: float
    manifest: dict = field(repr=False)


def augment_from_spec(spec: str) -> LineAugment:
    """The augmentation a ``--augment`` value names: ``default``, ``none`` or a JSON file of
    :class:`korean_gan.data.lineaug.LineAugment` fields (the others keep their defaults).

    Raises:
        LinesError: a missing or unreadable file, or not a JSON object of its fields;
            ``LineAugError``: a field out of its range.
    """
    import json

    if spec == "default":
        return LineAugment()
    if spec == "none":
        return LineAugment.none()
    path = Path(spec)
    if not path.is_file():
        raise LinesError(f"--augment {spec}: give default, none or a JSON file of LineAugment "
                         "fields")
    try:
        fields = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(fields, dict):
            raise TypeError("not a JSON object")
        return LineAugment(**fields)
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError) as err:
        raise LinesError(f"--augment {spec}: not a JSON object of LineAugment fields "
                         f"({err})") from None


def parse_shard(shard: str | None, count: int) -> range:
    """The line indices of shard ``K/N`` (block K of N nearly equal blocks), or all.

    Raises:
        LinesError: not ``K/N`` with ``0 <= K < N``.
    """
    if shard is None:
        return range(count)
    try:
        k, n = (int(v) for v in shard.split("/"))
    except ValueError:
        raise LinesError(f"--shard {shard!r}: give K/N, e.g. 0/4 (block K of N, from 0)") \
            from None
    if not 0 <= k < n:
        raise LinesError(f"--shard {shard}: K must be 0 to N-1")
    return range(k * count // n, (k + 1) * count // n)


def parse_styles(spec: str, writer: Handwriting) -> list[tuple[str, float]]:
    """``(name, weight)`` entries of a ``styles`` specification, names made canonical.

    Raises:
        LinesError: an empty list, a bad weight; HandwritingError: an unknown style.
    """
    entries: list[tuple[str, float]] = []
    for part in (p.strip() for p in str(spec).split(",")):
        if not part:
            continue
        name, _, weight_text = part.partition(":")
        try:
            weight = float(weight_text) if weight_text else 1.0
        except ValueError:
            raise LinesError(f"--styles {part!r}: the weight after ':' must be a number") \
                from None
        if not weight > 0:
            raise LinesError(f"--styles {part!r}: the weight must be positive")
        if name == "fonts":
            entries += [(font, weight) for font in writer.fonts]
        elif name in ("random", "mix"):
            entries.append((name, weight))
        else:
            entries.append((writer.style_name(name), weight))
    if not entries:
        raise LinesError("--styles is empty: give fonts, random, mix or style names")
    return entries


def make_lines(config: LinesConfig | None = None, writer: Handwriting | None = None,
               on_progress: ProgressCallback | None = None, **overrides) -> LinesResult:
    """Writes a labelled set of handwritten line images.

    Args:
        config: What to make (see :class:`LinesConfig`).
        writer: An already loaded model (default: load ``config.model``; with ``workers``
            > 1 each worker loads its own).
        on_progress: Called as ``on_progress("lines", done, total)`` as lines are drawn.
        **overrides: Fields of :class:`LinesConfig` to change.

    Returns:
        Where it went, how many lines were written and skipped (a character nothing can
        draw: each is a warning naming it), and the manifest.

    Raises:
        LinesError: a bad count, shard, format or style list, before any work starts (so do
            ``HandwritingError`` for an unknown style, ``CorpusError`` for a corpus that cannot
            be read and ``LineSetError`` for an output folder that is not a line set).
    """
    from korean_gan.data.linesets import FORMATS, LineSetWriter, check_lineset_target

    config = LinesConfig(**{**asdict(config or LinesConfig()), **overrides})
    config.out = str(config.out)
    if isinstance(config.augment, dict):
        config.augment = LineAugment(**config.augment)
    check_size(config.height)
    if config.format not in FORMATS:
        raise LinesError(f"--format {config.format!r}: choose one of {', '.join(FORMATS)}")
    if (config.text is None) == (config.random is None):
        raise LinesError("give either --text CORPUS.txt or --random N")
    for name in ("count", "random"):
        value = getattr(config, name)
        if value is not None and (not isinstance(value, int) or value < 1):
            raise LinesError(f"--{name} must be a positive integer, got {value!r}")
    if config.workers is not None and (not isinstance(config.workers, int)
                                       or config.workers < 1):
        raise LinesError(f"--workers must be a positive integer, got {config.workers!r}")
    if writer is not None:  # a passed model computes in the precision it was loaded in
        config.precision = writer.precision
    elif config.precision is None:
        config.precision = int8_or_float32(config.model, config.runtime)
    # A passed model runs in the runtime it was loaded in.
    runtime = writer.runtime if writer is not None else resolve_runtime(
        config.model, config.precision, config.runtime)
    plan = _Plan(config)
    indices = parse_shard(config.shard, plan.count)
    if config.workers is None:
        # A passed model is used here, in one process; otherwise a worker per core, while
        # each has at least one batch (a worker costs a second to start, more with TensorFlow).
        batches = -(-len(indices) // config.batch_lines)
        config.workers = 1 if writer is not None else max(1, min(
            os.cpu_count() or 1, MAX_AUTO_WORKERS, batches))
    out = check_lineset_target(config.out, config.format)
    from korean_gan._budget import check_disk

    # Measured: about 16 KB a line of ten syllables at height 64 (PNG), growing with the area.
    check_disk(f"{len(indices):,} lines at height {config.height}",
               len(indices) * 16_000 * (config.height / 64) ** 2, out.parent,
               "free some disk, make fewer lines (--count, --shard) or write elsewhere")
    started = time.perf_counter()
    # One process: load the model and read the styles now, so a bad style is refused before
    # anything is written or a bar is shown.
    drawer = _LineDrawer(config, plan, writer) if config.workers == 1 else None
    written = skipped = 0
    limit = None if config.max_hours is None else TimeLimit(
        f"{len(indices):,} lines at height {config.height}", config.max_hours,
        "pass --yes to run it anyway, or make them in parts (--count, --shard)")
    with LineSetWriter(out, config.format) as sink, \
            StageBar("lines", len(indices), config.progress, on_progress, unit="line",
                     limit=limit) as bar:
        for records, skips in _drawn_batches(config, plan, indices, drawer):
            for record in records:
                sink.write(record)
            written += len(records)
            skipped += len(skips)
            for message in skips:
                warnings.warn(message, stacklevel=2)
            bar.update(len(records) + len(skips))
        seconds = time.perf_counter() - started
        sink.manifest.update({
            "kind": "lines",
            "parameters": {**asdict(config), "out": str(out), "augment": asdict(config.augment)},
            "lines": {"index_first": indices.start, "index_stop": indices.stop,
                      "of": plan.count, "written": written, "skipped": skipped},
            "build": {"runtime": runtime, "precision": config.precision,
                      "workers": config.workers,
                      "seconds": round(seconds, 3),
                      "lines_per_second": round(written / max(seconds, 1e-9), 1)},
        })
    return LinesResult(out, written, skipped, seconds, sink.manifest)


class _Plan:
    """What every line index means: its text source and the style entries."""

    def __init__(self, config: LinesConfig):
        from korean_gan.data.corpus import SyllableDistribution, read_corpus

        self.corpus = read_corpus(config.text) if config.text is not None else None
        if config.random is not None:
            self.distribution = (SyllableDistribution.from_corpus(read_corpus(
                config.frequency_from)) if config.frequency_from
                else SyllableDistribution.uniform_ks2350())
        self.count = config.count or (len(self.corpus) if self.corpus is not None
                                      else config.random)

    def text(self, index: int, rng: np.random.Generator) -> str:
        from korean_gan.data.corpus import random_line

        if self.corpus is not None:
            return self.corpus[index % len(self.corpus)]
        return random_line(rng, self.distribution)


def _drawn_batches(config: LinesConfig, plan: _Plan, indices: range, drawer):
    """``(records, skip messages)`` per batch of lines, in index order (drawn by ``drawer``
    in this process, or by worker processes when it is None)."""
    batches = [indices[i:i + config.batch_lines]
               for i in range(0, len(indices), config.batch_lines)]
    if drawer is not None:
        for batch in batches:
            yield drawer.draw(batch)
        return
    from korean_gan._workers import worker_pool

    # Each worker imports TensorFlow afresh and loads the model.
    with worker_pool(config.workers, initializer=_init_worker, initargs=(config,)) as pool:
        yield from pool.imap(_draw_in_worker, [(b.start, b.stop) for b in batches])


_WORKER: dict = {}


def _init_worker(config: LinesConfig) -> None:
    _WORKER["drawer"] = _LineDrawer(config, _Plan(config), None)


def _draw_in_worker(bounds: tuple[int, int]):
    return _WORKER["drawer"].draw(range(*bounds))


class _LineDrawer:
    """Draws batches of lines with one loaded model."""

    def __init__(self, config: LinesConfig, plan: _Plan, writer: Handwriting | None):
        self.config = config
        self.plan = plan
        # Workers share the cores: ONNX Runtime's threads are split between them.
        threads = config.threads
        if threads is None and config.workers > 1:
            threads = max(1, (os.cpu_count() or 1) // config.workers)
        self.writer = writer or Handwriting.load(config.model, precision=config.precision,
                                                 runtime=config.runtime, threads=threads)
        self.entries = parse_styles(config.styles, self.writer)
        weights = np.array([w for _, w in self.entries])
        self.p = weights / weights.sum()
        self.px = config.height
        self._fonts: dict[Path, object] = {}
        self._latin_paths: dict[int, list[Path]] = {}
        self._named: dict[str, object] = {}

    def _style(self, rng: np.random.Generator) -> tuple[str, np.ndarray]:
        from korean_gan.models.styles import mixed_styles, random_styles

        name = self.entries[int(rng.choice(len(self.entries), p=self.p))][0]
        seed = int(rng.integers(2**31))
        if name == "random":
            return name, random_styles(self.writer.styles, 1, seed)[0]
        if name == "mix":
            return name, mixed_styles(self.writer.styles, 1, seed)[0]
        return name, self.writer.style_vectors(name, 1)[0]

    def _layout_fonts(self, weights: np.ndarray) -> list:
        # The Latin fonts depend only on the heaviest font of the blend: found once per font,
        # each file opened once (reading its cmap takes ~10 ms).
        from korean_gan.data.layout import FontGlyphs, LayoutError

        heaviest = int(np.argmax(weights))
        if heaviest not in self._latin_paths:  # globbing the font folder per line costs
            self._latin_paths[heaviest] = self.writer.latin_font_paths(self.config.latin_from,
                                                                       weights)
        fonts = []
        for path in self._latin_paths[heaviest]:
            if path not in self._fonts:
                try:
                    self._fonts[path] = FontGlyphs(path, self.px)
                except LayoutError as err:
                    raise LinesError(str(err)) from None
            fonts.append(self._fonts[path])
        return fonts

    def _blend(self, name: str, vector: np.ndarray):
        """The style's blend weights over the fonts and its metrics (a named style's are the
        same on every line: worked out once)."""
        if name in self._named:
            return self._named[name]
        weights = self.writer.style_weights(vector[None])[0]
        blend = weights, self.writer.font_metrics.blend(weights)
        if name not in ("random", "mix"):
            self._named[name] = blend
        return blend

    def draw(self, indices: range):
        from korean_gan.data.layout import LayoutError, layout_text

        lines, skips = [], []
        hangul_chars, hangul_styles, hangul_noise = [], [], []
        for index in indices:
            rng = np.random.default_rng([self.config.seed, index])
            text = self.plan.text(index, rng)
            name, vector = self._style(rng)
            weights, metrics = self._blend(name, vector)
            fonts = self._layout_fonts(weights)
            try:
                width, height, placements = layout_text(text, metrics, fonts, self.px,
                                                        pad=round(self.px / 8))
            except LayoutError as err:
                skips.append(f"line {index} skipped: {err}")
                continue
            hangul = [p for p in placements if p.source == "hangul"]
            noise = rng.standard_normal((len(hangul), self.writer.noise_dim)).astype(np.float32)
            hangul_chars += [p.char for p in hangul]
            hangul_styles += [vector] * len(hangul)
            hangul_noise.append(noise)
            lines.append((index, text, name, (width, height), placements, fonts, rng))
        glyphs = iter(())
        if hangul_chars:
            # Glyphs of a line up to 64 px high are smaller than 64 px: the 64 px upsampler
            # draws them in a quarter of the 128 px one's time.
            glyphs = iter(self.writer.draw_hangul(hangul_chars, np.stack(hangul_styles),
                                                  np.concatenate(hangul_noise),
                                                  size=64 if self.px <= 64 else 128))
        return [self._finish(line, glyphs) for line in lines], skips

    def _finish(self, line, glyphs):
        import cv2

        from korean_gan.data.layout import paste_ink
        from korean_gan.data.lineaug import (
            glyph_jitter,
            glyph_quads,
            line_effects,
            rotate_glyph,
            slant_quads,
        )
        from korean_gan.data.linesets import LineRecord

        index, text, name, (width, height), placements, fonts, rng = line
        aug = self.config.augment
        boxes, angles = glyph_jitter([p.box for p in placements], self.px, aug, rng)
        quads = glyph_quads(boxes, angles)
        # The layout's margin (an eighth of an em) holds the jitter of all but the rarest
        # draws; ink past the page is cut, and line_effects clips the boxes to the page.
        # Glyphs kept apart may have moved the last one right: the page grows to keep its margin.
        width = max([width] + [box[2] + self.px // 8 for box in boxes])
        page = np.full((height, width), 255, np.uint8)
        by_name = {font.name: font for font in fonts}
        for placement, box, angle in zip(placements, boxes, angles, strict=True):
            glyph = next(glyphs) if placement.source == "hangul" else \
                by_name[placement.source].glyph(placement.char)[0]
            paste_ink(page, rotate_glyph(glyph, angle) if angle else glyph, box)
        shape = page.shape
        page, boxes, params = line_effects(page, boxes, self.px, aug, rng)
        quads = slant_quads(quads, params["slant"], shape)
        scale = self.px / page.shape[0]
        new_width = max(1, round(page.shape[1] * scale))
        image = cv2.resize(page, (new_width, self.px), interpolation=cv2.INTER_AREA)
        boxes = [tuple(int(round(v * scale)) for v in box) for box in boxes]
        quads = [tuple(round(v * scale, 1) + 0.0 for v in quad) for quad in quads]
        return LineRecord(key=f"{index:09d}", image=image, text=text,
                          boxes=boxes, chars=[p.char for p in placements], style=name,
                          params=params, quads=quads)
