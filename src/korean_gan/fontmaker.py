"""Font export: a handwriting style as an installable font (TTF, OTF, WOFF2 or WOFF).

:func:`make_font` writes every syllable of a charset (default all 11,172) in one style:

1. **generate**: the conditional model draws each syllable at 32 px;
2. **upsample**: the glyph upsampler redraws it at 128 px with the style's stroke width
   (:meth:`korean_gan.generate.Handwriting.upsample`);
3. **trace**: potrace turns each 128 px glyph into smooth contours, placed in the em box where
   the style's font metrics put that syllable (:mod:`korean_gan.data.trace`);
4. **build** and **save**: fontTools assembles the font with the style's line metrics and
   advance widths, overlaps removed by skia-pathops and quadratics made by cu2qu for TrueType,
   digits, punctuation and Latin letters copied from a font, compressed for the web formats
   (:mod:`korean_gan.data.fontfile`).

A style is anything ``write`` takes: a bundled font's style, ``random``, ``mix``, ``mean`` or a
style file from ``korean-gan adapt``. For a style fitted to your own handwriting, the
syllables you wrote are kept as you wrote them (traced from the scan, through the same
upsampler) and the model writes the rest: ``written="auto"`` finds the ingested dataset that
``adapt`` recorded in the style file.

The metrics (line height, each syllable's advance and ink box) are those ``write`` uses, so a
line typed in the font is laid out as ``write`` lays it out.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from korean_gan._progress import StageBar
from korean_gan.generate import Handwriting, HandwritingError

__all__ = ["FontConfig", "FontMakerError", "FontResult", "default_family", "make_font"]

# The image side the tracer reads (the upsampler's output).
TRACE_SIZE = 128
# Pixels darker than this are ink when tracing. Below the midpoint: heavy styles keep the small
# counters of ㅂ, ㅊ, ㅌ open (a random heavy style read back 0.975x its glyphs' accuracy at 80,
# 0.953x at 128), and thin pens lose nothing measurable (Gaegu 0.999x, HiMelody 0.997x).
TRACE_LEVEL = 80


class FontMakerError(ValueError):
    """A font that cannot be made as asked, with the reason."""


@dataclass
class FontConfig:
    """What :func:`make_font` makes.

    Attributes:
        out: The font file; its suffix picks the format: ``.ttf``, ``.otf``, ``.woff2``,
            ``.woff``.
        style: A bundled font's number or name, ``random`` (one new style from ``seed``),
            ``mix`` (one new blend of two fonts), ``mean``, or a style file / name from
            ``korean-gan adapt``.
        charset: ``all11172`` (every syllable), ``ks2350`` (the common 2,350), a file or
            literal syllables; Hangul syllables only.
        family: The family name users pick the font by (default: from the style, see
            :func:`default_family`).
        seed: Seed of the noise (and of a random style): same seed, same font.
        model: ``default`` (the pretrained model), another committed model or a run folder.
        latin_from: Font file or bundled font name for space, digits, punctuation and Latin
            letters; ``auto``: the style's own font if it has them all, else Gamja Flower.
        written: For a style fitted to your handwriting, the ingested dataset whose syllables
            are kept as written: ``auto`` (the dataset the style file names, if it exists),
            ``none`` (the model writes every syllable) or a path.
        version: The font version, ``major.minor``.
        license_text: The licence description in the name table (default: the SIL OFL 1.1
            notice and URL).
        precision: What the generator computes in (``float32`` gives the same bytes on every
            machine of the same kind).
        batch_size: Glyphs per generator call.
        progress: Show a progress bar per stage.
    """

    out: str = "my-hand.ttf"
    style: str = "random"  # as `write --style`
    charset: str = "all11172"  # every syllable
    family: str | None = None  # default: from the style
    seed: int = 0
    model: str = "default"
    latin_from: str = "auto"  # the style's own font, else Gamja Flower
    written: str = "auto"  # keep your written syllables when the style file names its data
    version: str = "1.000"
    license_text: str | None = None  # default: SIL OFL 1.1
    precision: str = "float32"  # the same font on every machine
    batch_size: int = 512
    progress: bool = True


@dataclass
class FontResult:
    """What :func:`make_font` wrote."""

    path: Path
    family: str
    syllables: int
    written: int  # syllables kept as written in your handwriting
    latin_from: list[Path]  # where the non-Hangul characters came from, in order
    seconds: float
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage
    bytes: int = 0


def default_family(style: str, seed: int = 0) -> str:
    """The family name of a style's font when none is given: ``Korean GAN`` and the style
    (``Korean GAN Gaegu``, ``Korean GAN random 3``, ``Korean GAN mine``), at most 31
    characters of printable ASCII and Hangul."""
    name = Path(style).stem if style.endswith(".npz") else style
    name = re.sub(r"-Regular$", "", name)
    if name in ("random", "random-one", "mix", "mix-one"):
        name = f"{name.removesuffix('-one')} {seed}"
    name = "".join(c if (" " <= c <= "~" or "가" <= c <= "힣") else " " for c in name)
    return " ".join(f"Korean GAN {name}".split())[:31].strip()


def make_font(config: FontConfig | None = None, writer: Handwriting | None = None,
              on_progress: Callable[[str, int, int], None] | None = None,
              **overrides) -> FontResult:
    """Writes a font of one handwriting style, atomically.

    Args:
        config: What to make (see :class:`FontConfig`).
        writer: An already loaded model (default: load ``config.model``).
        on_progress: Called as ``on_progress(stage, done, total)`` when a stage starts and as
            its glyphs are done (stages ``generate``, ``upsample``, ``trace``, ``build``), e.g.
            for a web page's progress bar; the bars of ``config.progress`` are separate.
        **overrides: Fields of :class:`FontConfig` to change.

    Returns:
        What was written, with the seconds of each stage (generate, upsample, trace, build,
        save).

    Raises:
        FontMakerError, HandwritingError: a bad style, charset, family name, output or missing
            potrace, before any long work starts.
        korean_gan._io.OutputError: the output cannot be written.
    """
    from korean_gan._io import check_output_path
    from korean_gan.data.charsets import CharsetError, jamo_table, resolve_charset
    from korean_gan.data.fontfile import (
        FORMATS,
        FontFileError,
        build_font,
        check_family,
        check_version,
    )
    from korean_gan.data.trace import TraceError, potrace_program

    config = FontConfig(**{**asdict(config or FontConfig()), **overrides})
    started = time.perf_counter()
    out = Path(config.out)
    if out.suffix.lower() not in FORMATS:
        raise FontMakerError(f"--out {out}: give a font file name ending in "
                             f"{', '.join(FORMATS)} (the suffix picks the format)")
    style = {"random": "random-one", "mix": "mix-one"}.get(config.style, config.style)
    family = config.family if config.family is not None else default_family(style, config.seed)
    try:
        check_family(family)
        check_version(config.version)
        potrace_program()
        charset = resolve_charset(config.charset)
    except (FontFileError, TraceError, CharsetError) as err:
        raise FontMakerError(str(err)) from None
    check_output_path(out)
    writer = writer or Handwriting.load(config.model, precision=config.precision)
    vector = writer.style_vectors(style, 1, config.seed)
    weights = writer.style_weights(vector)
    metrics = writer.font_metrics.blend(weights[0])
    latin = _latin_fonts(writer, config.latin_from, weights[0])
    chars = list(charset.chars)
    written = _written_glyphs(writer, style, config.written, vector, chars)

    def bar(stage: str, total: int):
        return StageBar(stage, total, config.progress, on_progress)

    stages: dict[str, float] = {}
    todo = [c for c in chars if c not in written]
    n = len(chars)
    clock = time.perf_counter()
    with bar("generate", len(todo)) as progress:
        index = {c: i for i, c in enumerate(chars)}
        noise = writer._noise(n, config.seed)[[index[c] for c in todo]]
        small = writer._generate(jamo_table(todo), np.repeat(vector, len(todo), axis=0), noise,
                                 config.batch_size, progress) if todo else np.empty(
            (0, 32, 32), np.uint8)
    stages["generate"] = time.perf_counter() - clock
    clock = time.perf_counter()
    with bar("upsample", len(todo)) as progress:
        large = writer.upsample(small, progress=progress,
                                styles=np.repeat(vector, len(todo), axis=0)) if todo else small
    stages["upsample"] = time.perf_counter() - clock
    images = dict(zip(todo, large, strict=True))
    images.update(written)
    clock = time.perf_counter()
    with bar("trace", n) as progress:
        contours = _trace(images, chars, metrics, progress)
    stages["trace"] = time.perf_counter() - clock
    timings: dict[str, float] = {}
    with bar("build", n) as progress:
        try:
            build_font(dict(zip(chars, contours, strict=True)), metrics, family, out,
                       version=config.version, license_text=config.license_text,
                       latin_from=latin, progress=progress, timings=timings)
        except FontFileError as err:
            raise FontMakerError(str(err)) from None
    stages.update(timings)
    return FontResult(out, family, n, len(written), latin, time.perf_counter() - started,
                      {k: round(v, 3) for k, v in stages.items()}, out.stat().st_size)


def _trace(images: dict, chars: list[str], metrics, progress) -> list:
    """Each syllable's 128 px glyph traced into the ink box its metrics give it."""
    from korean_gan.data.trace import TraceError, trace_glyphs

    try:
        return trace_glyphs((images[c] for c in chars), (metrics.box(c) for c in chars),
                            level=TRACE_LEVEL, progress=progress)
    except TraceError as err:
        raise FontMakerError(str(err)) from None


def _latin_fonts(writer: Handwriting, latin_from: str, weights: np.ndarray) -> list[Path]:
    """The fonts whose space, digits, punctuation and Latin letters the font copies, each
    character from the first that has it (:meth:`Handwriting.latin_font_paths`)."""
    try:
        return writer.latin_font_paths(latin_from, weights)
    except HandwritingError as err:
        raise FontMakerError(str(err)) from None


def _written_glyphs(writer: Handwriting, style: str, written: str, vector: np.ndarray,
                    chars: list[str]) -> dict[str, np.ndarray]:
    """Syllable -> its 128 px glyph as you wrote it, for the syllables of ``chars`` in the
    ingested dataset (32 px glyphs go through the upsampler with the style's stroke width)."""
    from korean_gan.artifacts import STYLE_DIR, ArtifactError, style_data_source
    from korean_gan.data.dataset import DatasetError, load_dataset

    if written in (None, "none"):
        return {}
    if written == "auto":
        style_file = Path(style) if style.endswith(".npz") else STYLE_DIR / f"{style}.npz"
        if not style_file.is_file():
            return {}
        try:
            source = style_data_source(style_file)
        except ArtifactError as err:
            raise FontMakerError(str(err)) from None
        if source is None or not Path(source).is_file():
            return {}
        written = source
    try:
        data = load_dataset(written)
    except (DatasetError, OSError) as err:
        raise FontMakerError(f"--written {written}: {err}") from None
    if "orig" in data.augmentations:
        data = data.originals()
    first: dict[str, np.ndarray] = {}
    wanted = set(chars)
    for image, label in zip(data.images, data.labels, strict=True):
        char = data.charset[int(label)]
        if char in wanted and char not in first:
            first[char] = image
    if not first:
        return {}
    keys = list(first)
    images = np.stack([first[c] for c in keys])
    if images.shape[1:] == (writer.image_size, writer.image_size):
        large = writer.upsample(images, styles=np.repeat(vector, len(keys), axis=0))
    else:
        from PIL import Image

        large = np.stack([np.asarray(Image.fromarray(im).resize(
            (TRACE_SIZE, TRACE_SIZE), Image.Resampling.LANCZOS)) for im in images])
    return dict(zip(keys, large, strict=True))
