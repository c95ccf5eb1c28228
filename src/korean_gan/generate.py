"""Generated handwriting: ask a trained conditional model for syllables, lines of text and
labelled datasets.

:class:`Handwriting` wraps the sampling generator of a conditional run (``--preset hangul``) or
the committed pretrained model (``korean_gan/pretrained/hangul``), with the training fonts'
learned style vectors:

* :meth:`Handwriting.glyphs`: images of any Hangul syllables (all 11,172 can be asked for: the
  model composes them from jamo) in a style, at 32 px (the model's own) or 64 / 128 px (redrawn
  by the glyph upsampler and placed as the style's font places them);
* :meth:`Handwriting.write`: any text as one image, set as the style's font sets it, at 32, 64
  or 128 px per em (:meth:`Handwriting.typeset` also says where each character went);
* :meth:`Handwriting.synthesize`: a labelled dataset in the ``data build`` format (``.npz`` or an
  image folder) with a manifest, ready to train a classifier on.

A style is a training font (its index or name), ``random`` (a new style drawn from a Gaussian
fitted to the fonts' styles), ``mix`` (a random blend of two training fonts), ``mean`` (their
average), or a style vector. Loading reads weights only, into an architecture built from the
model folder's config (:mod:`korean_gan.artifacts` reads and checks the folder).

:func:`sample_images` samples the reference (unconditional) GAN.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from korean_gan._budget import TimeLimit
from korean_gan._progress import ProgressCallback, StageBar
from korean_gan.artifacts import STYLE_DIR, ArtifactError, load_style, read_conditional_model
from korean_gan.data.charsets import Charset, is_hangul_syllable, jamo_table, ks2350
from korean_gan.models.styles import mixed_styles, random_styles

__all__ = ["INT8", "PROBE_SYLLABLES", "RUNTIMES", "SIZES", "Handwriting", "HandwritingError",
           "SynthConfig", "check_size", "export_onnx", "grey_share", "int8_or_float32",
           "resolve_runtime", "sample_images"]


class HandwritingError(ValueError):
    """A model that cannot be loaded, or a request (text, style, charset) it cannot serve."""


# Syllables that a style's probe writes: simple and complex ones, with every kind of stroke.
PROBE_SYLLABLES = "가나다람쥐헌쳇바퀴에타고파읊뷁곪"


def grey_share(images: np.ndarray) -> np.ndarray:
    """The share of mid-grey pixels (40-214) among the ink pixels (< 215) of uint8 glyphs,
    over the last three axes: 0.2-0.5 for solid strokes, more for grey, broken ones."""
    images = np.asarray(images)
    ink = (images < 215).sum(axis=(-3, -2, -1))
    grey = ((images >= 40) & (images < 215)).sum(axis=(-3, -2, -1))
    return grey / np.maximum(ink, 1)


def _describe(char: str) -> str:
    return f"{char!r} (U+{ord(char):04X})"


def _check_syllables(chars, what: str = "syllables") -> list[str]:
    out = []
    for position, char in enumerate(chars, start=1):
        if not isinstance(char, str) or not is_hangul_syllable(char):
            raise HandwritingError(f"character {position} of the {what}, "
                                   f"{_describe(str(char)) if len(str(char)) == 1 else repr(char)}"
                                   ", is not a Hangul syllable; the model draws only Hangul "
                                   "syllables (가-힣); write takes any text")
        out.append(char)
    return out


@dataclass
class SynthConfig:
    """What :meth:`Handwriting.synthesize` makes.

    Attributes:
        charset: The syllables (a charset name, file or literal; see ``korean_gan.data.charsets``).
        per_class: Images per syllable.
        styles: Style specifications, shared out in turn over the images (each syllable going
            on from where the one before stopped, so every one is used):
            ``fonts`` (every training font in turn), a font's index or name, ``random`` (a new
            random style for every image), ``mix`` (a new blend of two training fonts for
            every image) or ``mean``.
        seed: Seed of noise and random styles: same seed, same bytes.
        out: The ``.npz`` path or image folder (default ``data/synth-<charset>.npz``).
        format: ``npz`` or ``imagefolder``.
        batch_size: Images per generator call.
        preview: Also write a preview grid PNG.
        progress: Show a progress bar.
        size: Glyph side in pixels: 32 (the model's own output, each glyph's ink fitting the
            box, as ``data build`` makes by default) or 64 / 128 (redrawn by the upsampler and
            placed as the style's font places it, as ``data build --placement em`` does).
        keep_legible: Keep only the glyphs that the committed evaluator for the charset
            (``ks2350`` reads its subsets too) reads as the syllable asked for, so that every
            label is one a recogniser agrees with; a syllable may then have fewer than
            ``per_class`` images, or none (the manifest counts them).
        max_hours: Stop with :class:`korean_gan._budget.BudgetError` if the pace of the first
            20 s says the set would take longer (before anything is written); None: no limit.
    """

    charset: str = "ks2350"
    per_class: int = 100
    styles: tuple[str, ...] = ("fonts",)
    seed: int = 0
    out: str | None = None
    format: str = "npz"
    batch_size: int = 1024
    preview: bool = True
    progress: bool = True
    keep_legible: bool = False
    size: int = 32  # the model's own; existing datasets stay the same
    max_hours: float | None = None  # the command line sets 24 unless --yes


#: Glyph sides in pixels that glyphs, write and synth can make.
SIZES = (32, 64, 128)
#: The side the upsampler draws at; 64 px is drawn from it by area averaging.
UPSAMPLED_SIZE = 128
#: Sides that :meth:`Handwriting.draw_hangul` draws at: 128 px by the upsampler, 64 px by the
#: smaller one that text lines up to 64 px high use (with the generator, twice as fast).
DRAW_SIZES = (64, 128)
#: What sampling can run on: ``tensorflow`` (the Keras networks, any precision) or ``onnx``
#: (their ONNX exports in ONNX Runtime, float32: loads in a tenth of the time); ``auto`` picks
#: ``onnx`` for float32 when the model folder has its export.
RUNTIMES = ("auto", "tensorflow", "onnx")
#: The precision that runs the generator's convolutions in 8-bit integers (ONNX Runtime only):
#: 2.3x the glyphs per second of float32 on one core, glyphs within a grey level on average.
INT8 = "int8"
#: Largest image write makes (pixels): a page of text at 128 px per em is far below it.
MAX_PAGE_PIXELS = 100_000_000
#: Drawing size of write when none is given: big enough to read at, strokes crisp.
WRITE_SIZE = 128
#: The font that draws what a style's own font cannot (digits, punctuation, Latin letters):
#: a bundled OFL handwriting font that has every ASCII character and common typography marks.
FALLBACK_FONT = "GamjaFlower-Regular"


def resolve_runtime(source: str | os.PathLike, precision: str, runtime: str) -> str:
    """The runtime (``tensorflow`` or ``onnx``) that :meth:`Handwriting.load` uses for these
    arguments, without loading anything.

    Raises:
        HandwritingError: an unknown runtime or model, or ``onnx`` where it cannot run.
    """
    from korean_gan.artifacts import model_folder, stale_source

    if runtime not in RUNTIMES:
        raise HandwritingError(f"runtime {runtime!r}: choose one of {', '.join(RUNTIMES)}")
    if precision == INT8 and runtime == "tensorflow":
        raise HandwritingError("precision int8 runs in ONNX Runtime only: pass --runtime onnx "
                               "(or auto), or another --precision")
    if runtime == "tensorflow":
        return runtime
    try:
        folder = model_folder(source)
    except ValueError as err:
        raise HandwritingError(str(err)) from None
    name = onnx_generator_file(precision)
    path = folder / name
    # An export older than the weights (a run trained on after it) is not used.
    stale = stale_source(folder, name) if path.is_file() else None
    if runtime == "auto" and precision != INT8:
        usable = precision == "float32" and path.is_file() and stale is None
        return "onnx" if usable else "tensorflow"
    if precision not in ("float32", INT8):
        raise HandwritingError(f"the onnx runtime computes in float32 or int8, not {precision}: "
                               "pass --precision float32, or --runtime tensorflow")
    if not path.is_file() or stale is not None:
        why = "does not exist" if stale is None else f"is older than {folder / stale}"
        raise HandwritingError(f"{path} {why}: export it with `korean-gan export-onnx --model "
                               f"{source}`, or use --runtime tensorflow"
                               + (" and another --precision" if precision == INT8 else ""))
    return "onnx"


def int8_or_float32(source: str | os.PathLike, runtime: str) -> str:
    """``int8`` where the model has a current int8 export and ``runtime`` can run it, else
    ``float32``: the precision of commands that default to the fastest one (``lines``)."""
    from korean_gan.artifacts import ONNX_GENERATOR_INT8_FILE, model_folder, stale_source

    if runtime == "tensorflow":
        return "float32"
    try:
        folder = model_folder(source)
    except ValueError:
        return "float32"  # resolve_runtime names the problem
    usable = (folder / ONNX_GENERATOR_INT8_FILE).is_file() and stale_source(
        folder, ONNX_GENERATOR_INT8_FILE) is None
    return INT8 if usable else "float32"


def onnx_generator_file(precision: str) -> str:
    """The model folder's ONNX generator for ``precision`` (``int8`` or float32)."""
    from korean_gan.artifacts import ONNX_GENERATOR_FILE, ONNX_GENERATOR_INT8_FILE

    return ONNX_GENERATOR_INT8_FILE if precision == INT8 else ONNX_GENERATOR_FILE


def check_size(size) -> int:
    """Returns ``size`` if glyphs can be made at it.

    Raises:
        HandwritingError: any other size, naming the supported ones.
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size not in SIZES:
        raise HandwritingError(f"size {size!r} is not supported; choose one of "
                               f"{', '.join(map(str, SIZES))}")
    return int(size)


#: Style specifications that make new styles instead of naming a training font's.
NEW_STYLES = ("random", "random-one", "mix", "mix-one", "mean")


class StyleTable:
    """The learned style vectors of a model's training fonts, and what a style specification
    (a font's number or name, ``random``, ``mix``, ``mean``, a style file, a vector) means.

    Args:
        styles: ``(F, D)`` style vectors.
        fonts: The training fonts' names (row order of ``styles``).
    """

    def __init__(self, styles: np.ndarray, fonts: list[str]):
        self.styles = np.asarray(styles, np.float32)
        self.fonts = list(fonts)
        self.style_dim = int(self.styles.shape[1])

    def vectors(self, style, n: int, seed: int = 0) -> np.ndarray:
        """``(n, D)`` style vectors for a style specification.

        Args:
            style: A training font's index or name (a unique prefix will do), ``random`` (a new
                style per row), ``random-one`` (one new style for all rows), ``mix`` (a new
                blend of two training fonts per row), ``mix-one``, ``mean``, a
                style file (``.npz`` path, or a name in ``styles/``), or a vector of length D.
            n: Rows.
            seed: Seed of random styles.
        """
        if isinstance(style, np.ndarray) or (isinstance(style, (list, tuple))
                                             and not isinstance(style, str)):
            vector = np.asarray(style, np.float32).reshape(-1)
            if vector.shape != (self.style_dim,):
                raise HandwritingError(f"a style vector needs {self.style_dim} numbers, got "
                                       f"{vector.size}")
            return np.repeat(vector[None], n, axis=0)
        if isinstance(style, (int, np.integer)) or (isinstance(style, str) and style.isdigit()):
            index = int(style)
            if not 0 <= index < len(self.fonts):
                raise HandwritingError(f"style {index} does not exist; styles are 0-"
                                       f"{len(self.fonts) - 1} ({', '.join(self.fonts)}), "
                                       "random, mix or mean")
            return np.repeat(self.styles[index][None], n, axis=0)
        if style == "random":
            return random_styles(self.styles, n, seed)
        if style == "random-one":
            return np.repeat(random_styles(self.styles, 1, seed), n, axis=0)
        if style == "mix":
            return mixed_styles(self.styles, n, seed)
        if style == "mix-one":
            return np.repeat(mixed_styles(self.styles, 1, seed), n, axis=0)
        if style == "mean":
            return np.repeat(self.styles.mean(axis=0, keepdims=True), n, axis=0)
        if isinstance(style, str) and (style.endswith(".npz") or
                                       (STYLE_DIR / f"{style}.npz").is_file()):
            try:
                vector = load_style(style if style.endswith(".npz")
                                    else STYLE_DIR / f"{style}.npz")
            except ArtifactError as err:
                raise HandwritingError(str(err)) from None
            if vector.shape != (self.style_dim,):
                raise HandwritingError(f"style file for {style!r} holds {vector.size} numbers; "
                                       f"this model's styles have {self.style_dim}")
            return np.repeat(vector[None], n, axis=0)
        if isinstance(style, str):
            matches = [i for i, f in enumerate(self.fonts) if f == style]
            matches = matches or [i for i, f in enumerate(self.fonts)
                                  if f.lower().startswith(style.lower())]
            if len(matches) == 1:
                return np.repeat(self.styles[matches[0]][None], n, axis=0)
            if len(matches) > 1:
                raise HandwritingError(f"style {style!r} matches several fonts: "
                                       f"{', '.join(self.fonts[i] for i in matches)}")
        raise HandwritingError(f"unknown style {style!r}; give a number 0-{len(self.fonts) - 1}, "
                               f"a font name ({', '.join(self.fonts)}), random, mix or mean")

    def name(self, style: str) -> str:
        """The canonical name of a style specification: the font's name for a font's number
        or name prefix, else the specification itself (``random``, ``mean``).

        Raises:
            HandwritingError: an unknown style.
        """
        vector = self.vectors(style, 1)
        if style not in NEW_STYLES:
            for font, row in zip(self.fonts, self.styles, strict=True):
                if np.array_equal(row, vector[0]):
                    return font
        return style


class Handwriting:
    """A conditional generator with its font styles, ready to write.

    Args:
        generator: The conditional generator (``models.build_conditional_generator``), or its
            ONNX export in a session (``models.onnx_io.OnnxNetwork``): sampling then runs in
            ONNX Runtime, upsamplers included.
        styles: ``(F, D)`` style vectors of the training fonts.
        fonts: The training fonts' names (row order of ``styles``).
        info: Where the model came from and what it was trained on.
        threads: Glyph blocks each ONNX network runs at once, one thread each (None: one per
            core); TensorFlow's threads are set by ``TF_NUM_INTRAOP_THREADS``.
    """

    def __init__(self, generator, styles: np.ndarray, fonts: list[str], info: dict,
                 threads: int | None = None):
        from korean_gan.models.onnx_io import OnnxNetwork

        self.generator = generator
        self.styles = np.asarray(styles, np.float32)
        self.fonts = list(fonts)
        self.info = info
        self.threads = threads
        if isinstance(generator, OnnxNetwork):
            self.runtime = "onnx"
            self.noise_dim = int(generator.input_shapes["noise"][-1])
            self.style_dim = int(generator.input_shapes["style"][-1])
            self.image_size = int(generator.output_shape[-1])
        else:
            self.runtime = "tensorflow"
            self.noise_dim = int(generator.inputs[0].shape[-1])
            self.style_dim = int(generator.inputs[2].shape[-1])
            self.image_size = int(generator.output_shape[1])
        if self.styles.shape != (len(self.fonts), self.style_dim):
            raise HandwritingError(f"styles have shape {self.styles.shape}; the generator needs "
                                   f"({len(self.fonts)}, {self.style_dim})")
        self.style_table = StyleTable(self.styles, self.fonts)
        self._forward = None
        self._upsamplers: dict[int, tuple] = {}  # side -> (network call, stroke offsets)
        self._metrics = None
        self._frames = None
        self._grey_limit: float | None = None
        self._reader = None  # the jamo reader that screens random styles, loaded once
        self._probe_known: np.ndarray | None = None

    @property
    def precision(self) -> str:
        """The dtype policy the generator computes in (``float32``, ``mixed_bfloat16``, ...)."""
        if self.runtime == "onnx":
            return self.generator.precision
        return self.generator.dtype_policy.name

    # --- loading ------------------------------------------------------------------------------

    @classmethod
    def load(cls, source: str | os.PathLike = "default", precision: str = "auto",
             runtime: str = "tensorflow", threads: int | None = None) -> Handwriting:
        """Loads the pretrained model (``default``) or a conditional run folder.

        Args:
            source: ``default`` (the committed model), a name under ``korean_gan/pretrained``,
                or a run folder of ``korean-gan train --preset hangul`` (its final
                ``generator.weights.h5`` and ``styles.npz``).
            precision: What the generator computes in: ``auto`` (``mixed_float16`` with a
                GPU; ``mixed_bfloat16`` on a CPU where bf16 is measured faster, see
                :func:`korean_gan.training.distribute.resolve_precision`; else ``float32``),
                ``float32``, a mixed policy, or ``int8`` (ONNX Runtime: the model folder's
                ``generator-int8.onnx``). The weights stay float32 either way; bf16
                glyphs differ from float32's by 0.2 grey levels on average. Pass ``float32``
                for output that is the same byte for byte on machines with the same kind of
                CPU and the same TensorFlow thread count (``TF_NUM_INTRAOP_THREADS``).
            runtime: One of :data:`RUNTIMES`: ``tensorflow``; ``onnx`` (float32 only: the
                model folder's ``generator.onnx`` and the upsamplers' exports in ONNX Runtime,
                ready in a tenth of TensorFlow's start-up; glyphs within a grey level or
                two of TensorFlow's, the same with any thread count); or ``auto``, ``onnx``
                when that is possible.
            threads: Glyph blocks each ONNX network runs at once, one thread each (None: one
                per core).

        Raises:
            HandwritingError: nothing loadable there, a file whose sha256 does not match the
                model card, a run of another model, or a runtime that cannot run it.
        """
        runtime = resolve_runtime(source, precision, runtime)
        if runtime == "onnx":
            from korean_gan.models.onnx_io import OnnxNetwork

            try:
                model = read_conditional_model(source)
            except ValueError as err:
                raise HandwritingError(str(err)) from None
            info = {"source": str(model.folder), "config": model.config, **model.card}
            network = OnnxNetwork(model.folder / onnx_generator_file(precision), threads)
            return cls(network, model.styles, model.fonts, info, threads)

        from korean_gan.models.networks import with_fast_upsampling
        from korean_gan.training.distribute import dtype_policy, resolve_precision

        try:
            policy = resolve_precision(precision)
            model = read_conditional_model(source)
            with dtype_policy(policy):
                generator = model.build_generator()
        except ValueError as err:  # ArtifactError, an unknown precision
            raise HandwritingError(str(err)) from None
        # Sampling uses the generator's fast form: the same function, 2x the glyphs per second
        # (models.build_conditional_generator's fast_upsampling).
        generator = with_fast_upsampling(generator)
        info = {"source": str(model.folder), "config": model.config, **model.card}
        return cls(generator, model.styles, model.fonts, info)

    # --- styles -------------------------------------------------------------------------------

    def style_vectors(self, style, n: int, seed: int = 0) -> np.ndarray:
        """``(n, D)`` style vectors for a style specification (see :meth:`StyleTable.vectors`).

        ``random-one`` (the one new style of ``write`` and ``font``) is screened: a draw whose
        strokes come out grey and broken, or that writes a probe syllable as another, is
        replaced (see :meth:`crisp_random_style`).

        Raises:
            HandwritingError: an unknown style, or a style file of another size.
        """
        if isinstance(style, str) and style == "random-one":
            return np.repeat(self.crisp_random_style(seed)[None], n, axis=0)
        return self.style_table.vectors(style, n, seed)

    def crisp_random_style(self, seed: int = 0, candidates: int = 16) -> np.ndarray:
        """One new style from the fonts' style Gaussian whose strokes are solid and read right.

        Some draws from the Gaussian land where the generator writes grey, broken strokes
        (about 2 in 100), and many where some syllables come out as others (unscreened, 8% of
        a random style's glyphs are read as another syllable, against 0.1% in the fonts'
        styles). Each candidate writes :data:`PROBE_SYLLABLES` with fixed noise. It passes if
        the share of grey pixels among the ink (:func:`grey_share`) is at most 1.1 times that
        of the greyest training font, and the committed evaluator's jamo heads
        (:class:`~korean_gan.evaluation.reader.JamoReader`) read every probe syllable of KS X
        1001 (the ones it was trained on) as itself. The first draw is the one ``random``
        gives for ``seed``, so a seed whose draw passes keeps its style; the others come from
        ``(seed, k)``.

        Args:
            seed: Seed of the draw.
            candidates: Draws to try; if none passes, the one with the fewest misread probe
                syllables, then the least grey.

        Returns:
            ``(D,)`` float32.
        """
        seeds = [seed] + [int(np.random.SeedSequence([seed, k]).generate_state(1)[0])
                          for k in range(1, candidates)]
        draws = np.concatenate([random_styles(self.styles, 1, s) for s in seeds])
        if self._grey_limit is None:
            self._grey_limit = 1.1 * float(self._probe(self.styles, read=False)[0].max())
        # The first draw alone (3 seeds in 10 keep it), then the others a few at a time: most
        # seeds stop within the first few, and each probe costs its glyphs.
        grey: list[float] = []
        misread: list[int] = []
        for start in [0, *range(1, len(draws), 5)]:
            batch = draws[start:1 if start == 0 else start + 5]
            batch_grey, batch_misread = self._probe(batch)
            for k in range(len(batch)):
                if batch_grey[k] <= self._grey_limit and batch_misread[k] == 0:
                    return batch[k]
            grey += batch_grey.tolist()
            misread += batch_misread.tolist()
        return draws[min(range(len(grey)), key=lambda i: (misread[i], grey[i]))]

    def _probe(self, styles: np.ndarray, read: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Each style's probe glyphs: their :func:`grey_share` ``(F,)`` and how many of the
        KS X 1001 ones the jamo reader reads as another syllable ``(F,)`` (zeros without
        ``read``)."""
        k = len(PROBE_SYLLABLES)
        jamo = np.tile(jamo_table(PROBE_SYLLABLES), (len(styles), 1))
        images = self._generate(jamo, np.repeat(np.asarray(styles, np.float32), k, axis=0),
                                np.tile(self._noise(k, 0), (len(styles), 1)))
        grey = grey_share(images.reshape(len(styles), k, *images.shape[1:]))
        if self._reader is None and read:
            from korean_gan.evaluation.reader import JamoReader

            self._reader = JamoReader.load("ks2350")
            # It learned the KS X 1001 syllables: only those probe syllables count.
            self._probe_known = np.isin(list(PROBE_SYLLABLES), ks2350().chars)
        if not read or self._reader.image_size != self.image_size:  # another size: grey only
            return grey, np.zeros(len(styles), np.int64)
        known = np.tile(self._probe_known, len(styles))
        wrong = (self._reader.read(images) != jamo).any(axis=1) & known
        return grey, wrong.reshape(len(styles), k).sum(axis=1)

    def style_name(self, style: str) -> str:
        """The canonical name of a style specification (see :meth:`StyleTable.name`)."""
        return self.style_table.name(style)


    def _generate(self, jamo: np.ndarray, styles: np.ndarray, noise: np.ndarray,
                  batch_size: int = 1024, progress=None) -> np.ndarray:
        """uint8 images (N, S, S), 255 = paper, batch by batch through one traced graph."""
        from korean_gan.data.images import from_model_output

        if self._forward is None:
            self._forward = self._generator_call()
        n = len(jamo)
        out = np.empty((n, self.image_size, self.image_size), np.uint8)
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            batch = (noise[start:stop].astype(np.float32, copy=False),
                     jamo[start:stop].astype(np.int32, copy=False),
                     styles[start:stop].astype(np.float32, copy=False))
            images = self._forward(*(batch if self.runtime == "onnx" else _padded(batch)))
            out[start:stop] = from_model_output(images[:stop - start])
            if progress is not None:
                progress.update(stop - start)
        return out

    def _generator_call(self):
        """``(noise, jamo, style) -> (B, S, S, 1)`` float32 images in [-1, 1], numpy in and out."""
        generator = self.generator
        if self.runtime == "onnx":
            return lambda z, j, s: generator(z, j, s)[..., None]
        import tensorflow as tf

        # One graph for every batch size: a free batch dimension in the signature (batches
        # are padded to a multiple of _BATCH_MULTIPLE: the XLA-fused layers compile per shape).
        traced = tf.function(
            lambda z, j, s: generator([z, j, s], training=False),
            input_signature=[tf.TensorSpec((None, self.noise_dim), tf.float32),
                             tf.TensorSpec((None, 3), tf.int32),
                             tf.TensorSpec((None, self.style_dim), tf.float32)])
        return lambda z, j, s: traced(tf.constant(z), tf.constant(j), tf.constant(s)).numpy()

    def _noise(self, n: int, seed: int) -> np.ndarray:
        return np.random.default_rng(seed).standard_normal((n, self.noise_dim)).astype(
            np.float32)

    def glyphs(self, chars, style="random-one", seed: int = 0, batch_size: int = 1024,
               size: int = 32) -> np.ndarray:
        """Images of syllables, as uint8 (N, size, size) with 255 = paper.

        Args:
            chars: A string or sequence of Hangul syllables (any of the 11,172).
            style: A style specification (see :meth:`style_vectors`); the default draws one new
                random style for all of them.
            seed: Seed of noise and random style: same seed, same images.
            batch_size: Images per generator call.
            size: 32 (the model's own glyphs, each one's ink fitting the box) or 64 / 128
                (redrawn by the upsampler and placed as the style's font places them: one
                scale for the style, each glyph at its own position; see :meth:`upsample`).

        Raises:
            HandwritingError: a character that is not a Hangul syllable, or an unsupported size.
        """
        size = check_size(size)
        chars = _check_syllables(list(chars), "syllables")
        if not chars:
            raise HandwritingError("no syllables to draw")
        jamo = jamo_table(chars)
        styles = self.style_vectors(style, len(chars), seed)
        images = self._generate(jamo, styles, self._noise(len(chars), seed), batch_size)
        if size == self.image_size:
            return images
        return self._upsample_placed(images, chars, styles, size)

    # --- high resolution ----------------------------------------------------------------------

    def upsample(self, images: np.ndarray, batch_size: int = 512, progress=None,
                 styles: np.ndarray | None = None) -> np.ndarray:
        """Redraws 32 px glyphs at 128 px with the committed upsampler
        (:mod:`korean_gan.models.upsampler`); the ink keeps filling the box as at 32 px.

        Args:
            images: uint8 (N, 32, 32), 255 = paper.
            batch_size: Glyphs per network call.
            progress: A tqdm bar to advance, or None.
            styles: ``(N, D)`` the glyphs' style vectors: each style's strokes then keep its
                fonts' width (the upsampler's per-font stroke offsets, blended like the
                metrics); None leaves the upsampler's own output.

        Returns:
            uint8 (N, 128, 128), 255 = paper.
        """
        offsets = None
        if styles is not None:
            offsets = self._stroke_offsets(self.style_weights(styles))
        return self._upsample(images, offsets, batch_size, progress)

    def _load_upsampler(self, size: int = UPSAMPLED_SIZE) -> tuple:
        """The committed upsampler that draws at ``size`` px, as ``(small uint8 (N, S, S),
        offsets (N,)) -> uint8 (N, size, size)`` on numpy arrays, and its per-font stroke
        offsets (loaded once)."""
        if size in self._upsamplers:
            return self._upsamplers[size]
        from korean_gan.artifacts import (
            UPSAMPLER_DIRS,
            load_upsampler,
            read_stroke_bias,
            upsampler_onnx,
        )

        try:
            bias = read_stroke_bias(UPSAMPLER_DIRS[size])
            if self.runtime == "onnx":
                from korean_gan.models.onnx_io import OnnxNetwork

                network = OnnxNetwork(upsampler_onnx(UPSAMPLER_DIRS[size]), self.threads)
                self._upsamplers[size] = network, bias
                return self._upsamplers[size]
            model = load_upsampler(UPSAMPLER_DIRS[size])
        except ArtifactError as err:
            raise HandwritingError(str(err)) from None
        import keras
        import tensorflow as tf

        # The network up to its logits: the offset moves them before the one sigmoid.
        logits = keras.Model(model.input, model.get_layer("depth_to_space").output)

        def forward(small, offsets):
            ink = 1.0 - tf.cast(small, tf.float32)[..., None] / 255.0
            prob = tf.sigmoid(logits(ink, training=False) - offsets[:, None, None, None])
            return tf.cast(tf.round(255.0 * (1.0 - prob[..., 0])), tf.uint8)

        traced = tf.function(
            forward,
            input_signature=[tf.TensorSpec((None, self.image_size, self.image_size), tf.uint8),
                             tf.TensorSpec((None,), tf.float32)])
        self._upsamplers[size] = (lambda small, offsets: traced(tf.constant(small),
                                                                tf.constant(offsets)).numpy(),
                                  bias)
        return self._upsamplers[size]

    def _upsample(self, images: np.ndarray, offsets: np.ndarray | None, batch_size: int = 512,
                  progress=None, size: int = UPSAMPLED_SIZE) -> np.ndarray:
        """32 px glyphs redrawn at ``size`` px. ``offsets``: per glyph a stroke offset
        ``(N,)``, or its blend weights over the fonts ``(N, F)`` (turned into the offsets of
        the upsampler at ``size``), or None for none."""
        upsampler, bias = self._load_upsampler(size)
        n = len(images)
        if offsets is None:
            offsets = np.zeros(n, np.float32)
        elif offsets.ndim == 2:
            offsets = self._stroke_offsets(offsets, bias)
        out = np.empty((n, size, size), np.uint8)
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            batch = (images[start:stop], offsets[start:stop].astype(np.float32, copy=False))
            small, offset = batch if self.runtime == "onnx" else _padded(batch)
            out[start:stop] = upsampler(small, offset)[:stop - start]
            if progress is not None:
                progress.update(stop - start)
        return out

    def draw_hangul(self, chars, styles: np.ndarray, noise: np.ndarray,
                    batch_size: int = 512, size: int = UPSAMPLED_SIZE) -> np.ndarray:
        """Syllables drawn at ``size`` px: the model's 32 px glyphs redrawn by an upsampler with
        each style's stroke width (the ink fills the image, as at 32 px).

        Args:
            chars: The syllables (already checked: Hangul syllables).
            styles: ``(N, D)`` a style vector per syllable.
            noise: ``(N, noise_dim)`` a noise vector per syllable.
            batch_size: Glyphs per network call.
            size: 128 (the upsampler) or 64 (the smaller, faster one, for glyphs that end up
                64 px or smaller).

        Returns:
            uint8 ``(N, size, size)``, 255 = paper.

        Raises:
            HandwritingError: a size other than those of :data:`DRAW_SIZES`.
        """
        if size not in DRAW_SIZES:
            raise HandwritingError(f"draw_hangul size {size!r}: choose one of "
                                   f"{', '.join(map(str, DRAW_SIZES))}")
        styles = np.asarray(styles, np.float32)
        small = self._generate(jamo_table(list(chars)), styles, np.asarray(noise, np.float32),
                               batch_size)
        return self._upsample(small, self.style_weights(styles), batch_size, size=size)

    def _stroke_offsets(self, weights: np.ndarray, bias: dict[str, float] | None = None
                        ) -> np.ndarray:
        """Per glyph, an upsampler's stroke offset (default the 128 px one's): its fonts'
        offsets in its blend."""
        if bias is None:
            bias = self._load_upsampler()[1]
        table = np.array([bias.get(f, 0.0) for f in self.font_metrics.names], np.float32)
        return (weights @ table).astype(np.float32)

    def _upsample_placed(self, images: np.ndarray, chars, styles: np.ndarray,
                         size: int) -> np.ndarray:
        """32 px glyphs upsampled and placed in their style's frame, ``size`` px."""
        weights = self.style_weights(styles)
        return self._place_in_frames(self._upsample(images, weights), chars, weights, size)

    @property
    def font_metrics(self):
        """The layout metrics (``korean_gan.data.metrics.MetricsTable``) of the model's fonts
        that the committed table knows (all bundled fonts)."""
        if self._metrics is None:
            from korean_gan.artifacts import FONT_METRICS_FILE, UPSAMPLER_DIR
            from korean_gan.data.metrics import MetricsError, MetricsTable

            try:
                table = MetricsTable.load(UPSAMPLER_DIR / FONT_METRICS_FILE)
            except MetricsError as err:
                raise HandwritingError(str(err)) from None
            known = [f for f in self.fonts if f in table.names]
            self._metrics = table.select(known) if known else table
        return self._metrics

    def style_weights(self, vectors: np.ndarray) -> np.ndarray:
        """``(n, F)`` blend weights over the fonts of :attr:`font_metrics` for style vectors:
        a font's own style is that font alone; a new style (random, mix, your own handwriting)
        is the blend of fonts whose style vectors make it up best, and takes the same blend of
        their metrics (:func:`korean_gan.models.styles.convex_weights`)."""
        from korean_gan.models.styles import convex_weights

        table = self.font_metrics
        basis = np.stack([self.styles[self.fonts.index(f)] for f in table.names]) \
            if all(f in self.fonts for f in table.names) else None
        if basis is None:  # a model trained on fonts the table does not know
            return np.full((len(vectors), len(table.names)), 1.0 / len(table.names))
        # One solve per distinct style: a line or a font's glyphs share theirs.
        distinct, inverse = np.unique(np.asarray(vectors, np.float64), axis=0,
                                      return_inverse=True)
        return convex_weights(distinct, basis.astype(np.float64))[inverse.reshape(-1)]

    def _place_in_frames(self, large: np.ndarray, chars, weights: np.ndarray,
                         size: int) -> np.ndarray:
        """Upsampled glyphs placed as their style's font places them, in ``size`` px images.

        The image holds the style's frame (the union of the ink boxes of all its syllables),
        scaled into the box inside the margin and centred, as ``data build --placement em``
        renders a font.
        """
        from korean_gan.data.charsets import SYLLABLE_FIRST
        from korean_gan.data.layout import paste_ink
        from korean_gan.data.render import RenderConfig

        table = self.font_metrics
        if self._frames is None:  # (F, 4) in em: each font's union of ink boxes
            self._frames = np.concatenate([table.boxes[:, :, :2].min(axis=1),
                                           table.boxes[:, :, 2:].max(axis=1)], axis=1)
        frames = self._frames
        index = np.array([ord(c) - SYLLABLE_FIRST for c in chars])
        boxes = np.einsum("nf,nfk->nk", weights, table.boxes[:, index].transpose(1, 0, 2))
        frame = weights @ frames
        box_px = RenderConfig(size=size).box
        out = np.full((len(chars), size, size), 255, np.uint8)
        for i in range(len(chars)):
            fx0, fy0, fx1, fy1 = frame[i]
            scale = box_px / max(fx1 - fx0, fy1 - fy0)
            # The frame centred in the image; y grows down on the page, up in the font.
            left = (size - (fx1 - fx0) * scale) / 2 - fx0 * scale
            top = (size - (fy1 - fy0) * scale) / 2 + fy1 * scale
            x0, y0, x1, y1 = boxes[i]
            paste_ink(out[i], large[i], (round(left + x0 * scale), round(top - y1 * scale),
                                         round(left + x1 * scale), round(top - y0 * scale)))
        return out

    def latin_font_paths(self, latin_from, weights: np.ndarray) -> list[Path]:
        """The font files that draw what is not Hangul, in order of preference: ``latin_from``
        if given (a file or a bundled font's name), else the style's own font (the heaviest in
        its blend ``weights`` over :attr:`font_metrics`), then the fallback font.

        Raises:
            HandwritingError: ``latin_from`` is neither a file nor a bundled font.
        """
        from korean_gan.data.fonts import bundled_font_dir

        folder = bundled_font_dir()
        names = []
        if latin_from not in (None, "auto"):
            names.append(str(latin_from))
        elif set(self.font_metrics.names) <= set(self.fonts):  # the style's own fonts
            names.append(self.font_metrics.names[int(np.argmax(weights))])
        names.append(FALLBACK_FONT)
        paths = []
        for name in dict.fromkeys(names):
            path = Path(name)
            if not path.is_file():
                matches = sorted(folder.glob(f"{name}*.[to]tf"))
                if not matches:
                    raise HandwritingError(f"--latin-from {name}: no such font file or bundled "
                                           f"font (bundled fonts are in {folder})")
                path = matches[0]
            paths.append(path)
        return paths

    def layout_fonts(self, latin_from, weights: np.ndarray, px_per_em: int):
        """:meth:`latin_font_paths` opened for :func:`korean_gan.data.layout.layout_text` at
        ``px_per_em`` (``korean_gan.data.layout.FontGlyphs``).

        Raises:
            HandwritingError: ``latin_from`` is neither a file nor a bundled font, or cannot
                be opened.
        """
        from korean_gan.data.layout import FontGlyphs, LayoutError

        try:
            return [FontGlyphs(path, px_per_em)
                    for path in self.latin_font_paths(latin_from, weights)]
        except LayoutError as err:
            raise HandwritingError(str(err)) from None

    def write(self, text: str, style="random-one", seed: int = 0, size: int = WRITE_SIZE,
              latin_from: str | None = "auto", scale: int = 1) -> np.ndarray:
        """Text in generated handwriting, as one uint8 image (255 = paper): the image of
        :meth:`typeset`, which describes the layout and the other arguments.

        Args:
            scale: Upscaling of the final image (Lanczos).

        Raises:
            HandwritingError: as :meth:`typeset`, or a scale that is not a positive integer.
        """
        from PIL import Image

        if not isinstance(scale, int) or isinstance(scale, bool) or scale < 1:
            raise HandwritingError(f"scale must be a positive integer, got {scale!r}")
        page, _ = self.typeset(text, style, seed, size, latin_from)
        if scale == 1:
            return page
        if page.size * scale * scale > MAX_PAGE_PIXELS:
            raise HandwritingError(f"scale {scale} makes an image of {page.shape[1] * scale:,}"
                                   f"×{page.shape[0] * scale:,} px, more than "
                                   f"{MAX_PAGE_PIXELS // 10**6} megapixels: lower the scale, "
                                   "or write at --size 128 and scale less")
        image = Image.fromarray(page).resize((page.shape[1] * scale, page.shape[0] * scale),
                                             Image.Resampling.LANCZOS)
        return np.asarray(image)

    def typeset(self, text: str, style="random-one", seed: int = 0, size: int = WRITE_SIZE,
                latin_from: str | None = "auto"):
        """Text in generated handwriting with where every character went.

        The text is set as the style's font sets it (:mod:`korean_gan.data.layout`): each
        syllable's size and place from the font's metrics, its advance width, the font's word
        space and line spacing; a new style (random, mix, your own) takes the blend of fonts
        that makes up its style. Hangul syllables are drawn by the model and the upsampler;
        every other character (digits, punctuation, Latin letters) by a font: ``latin_from``,
        or by default the style's own font, then the bundled fallback (Gamja Flower).

        Args:
            text: The text, e.g. ``"2026년 12월 6일, 오늘은 Hello!"``; ``\\n`` starts a line.
            style: A style specification; the default is one new random style for the text.
            seed: Seed of noise and style.
            size: Pixels per em: 32, 64 or 128 (default; crisp strokes at reading size).
            latin_from: A font file or bundled font name for the characters that are not
                Hangul, or ``auto``.

        Returns:
            ``(image, placements)``: the uint8 page (255 = paper) and one
            :class:`korean_gan.data.layout.Placement` per character with ink (its ink box on
            the page and what drew it), in text order.

        Raises:
            HandwritingError: empty text, a character that no font can draw (named), an
                unsupported size or an unknown style.
        """
        import unicodedata

        from korean_gan.data.layout import LayoutError, layout_text, paste_ink

        size = check_size(size)
        if not isinstance(text, str) or not text.strip():
            raise HandwritingError("nothing to write: give some text")
        text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\t", " "))
        n_hangul = sum(1 for c in text if is_hangul_syllable(c))
        vectors = self.style_vectors(style, max(1, n_hangul), seed)
        weights = self.style_weights(vectors)
        metrics = self.font_metrics.blend(weights.mean(axis=0))
        others = self.layout_fonts(latin_from, weights.mean(axis=0), size)
        try:
            width, height, placements = layout_text(text, metrics, others, size)
        except LayoutError as err:
            raise HandwritingError(str(err)) from None
        if width * height > MAX_PAGE_PIXELS:
            raise HandwritingError(f"the text makes an image of {width:,}×{height:,} px, more "
                                   f"than {MAX_PAGE_PIXELS // 10**6} megapixels: break it into "
                                   "lines (\\n), or write a smaller --size")
        hangul = [p for p in placements if p.source == "hangul"]
        page = np.full((height, width), 255, np.uint8)
        if hangul:
            chars = [p.char for p in hangul]
            small = self._generate(jamo_table(chars), vectors[:len(chars)],
                                   self._noise(len(chars), seed))
            for placement, glyph in zip(hangul, self._upsample(small, weights[:len(chars)]),
                                        strict=True):
                paste_ink(page, glyph, placement.box)
        fonts = {font.name: font for font in others}
        for placement in placements:
            if placement.source != "hangul":
                paste_ink(page, fonts[placement.source].glyph(placement.char)[0],
                          placement.box)
        return page, placements

    def _legibility_evaluator(self, charset):
        """The committed evaluator that reads ``charset``, for ``keep_legible``."""
        from korean_gan.evaluation.evaluator import EvaluationError, find_evaluator

        try:
            evaluator = find_evaluator(charset)
        except EvaluationError as err:
            raise HandwritingError(f"keep-legible needs an evaluator: {err}") from None
        if evaluator.image_size != self.image_size:
            raise HandwritingError(f"keep-legible: the evaluator {evaluator.name} reads "
                                   f"{evaluator.image_size}-px glyphs, this model draws "
                                   f"{self.image_size}-px ones")
        return evaluator

    def synthesize(self, config: SynthConfig | None = None,
                   on_progress: ProgressCallback | None = None, **overrides):
        """Writes a labelled synthetic dataset (the ``data build`` format) and its manifest.

        Args:
            config: What to make (default :class:`SynthConfig`).
            on_progress: Called as ``on_progress("synth", done, total)`` as glyphs are made
                (at 64 and 128 px each glyph counts twice: drawn, then upsampled).
            **overrides: Fields of :class:`SynthConfig` to change.

        Returns:
            ``(path, manifest)``.

        Raises:
            HandwritingError, CharsetError, DatasetError, OutputError: bad input, before any
                work starts.
        """
        from korean_gan._io import write_json_atomic
        from korean_gan.data.charsets import resolve_charset
        from korean_gan.data.dataset import (
            GlyphDataset,
            check_dataset_target,
            save_dataset,
            sidecar_paths,
        )

        config = SynthConfig(**{**asdict(config or SynthConfig()), **overrides})
        check_size(config.size)
        if isinstance(config.styles, str):
            config.styles = tuple(s for s in config.styles.split(",") if s)
        if not config.styles:
            raise HandwritingError("--styles is empty: give fonts, random, mix, mean or font "
                                   "names, comma-separated")
        if not isinstance(config.per_class, int) or config.per_class < 1:
            raise HandwritingError(f"per-class must be a positive integer, got "
                                   f"{config.per_class!r}")
        charset = resolve_charset(config.charset)
        out = Path(config.out) if config.out else Path("data") / (
            f"synth-{charset.name}.npz" if config.format == "npz" else f"synth-{charset.name}")
        check_dataset_target(out, config.format)
        self._check_synth_budget(len(charset) * config.per_class, config.size, out)
        evaluator = self._legibility_evaluator(charset) if config.keep_legible else None
        started = time.perf_counter()
        n_classes = len(charset)
        labels, font_ids, copy, names, styles = self._synth_plan(config, n_classes)
        jamo = jamo_table(charset.chars)[labels]
        noise = np.random.default_rng([config.seed, 1]).standard_normal(
            (len(labels), self.noise_dim)).astype(np.float32)
        large = config.size != self.image_size
        limit = None if config.max_hours is None else TimeLimit(
            f"synth of {len(labels):,} glyphs at {config.size} px", config.max_hours,
            "pass --yes to run it anyway, or make it in parts (--charset, --per-class)")
        with StageBar("synth", len(labels) * (2 if large else 1), config.progress,
                      on_progress, limit=limit) as bar:
            images = self._generate(jamo, styles, noise, config.batch_size, bar)
            generated = len(images)
            legibility = None
            if evaluator is not None:  # it reads the model's own 32 px glyphs
                keep, legibility = _legible(evaluator, charset, images, labels)
                images, labels, font_ids, copy, styles = (
                    a[keep] for a in (images, labels, font_ids, copy, styles))
                bar.total = len(labels) * (2 if large else 1) + generated - len(labels)
            if large:
                spill = self._spill_large(images, labels, charset, styles, config, out, bar)
                images = np.memmap(spill, np.uint8, "r",
                                   shape=(len(labels), config.size, config.size))
        seconds = time.perf_counter() - started
        n_copies = int(copy.max()) + 1
        dataset = GlyphDataset(images, labels, Charset(charset.name, charset.chars), names,
                               font_ids, [f"gen{i:03d}" for i in range(n_copies)], copy)
        manifest = {
            "format_version": 1,
            "kind": "synthetic",
            "charset": {"name": charset.name, "size": n_classes,
                        "chars": charset.text if n_classes <= 2350 else None},
            "model": {"source": self.info.get("source"), "sha256": self.info.get("sha256", {}),
                      "fonts": self.fonts, "precision": self.precision},
            "parameters": {**asdict(config), "out": str(out)},
            "styles": names,
            "augmentations_mean": "sample number within its (syllable, style)",
            "counts": {"images": int(len(images)), "classes": n_classes,
                       "per_class": config.per_class, "styles": len(names)},
            "keep_legible": legibility,
            "build": {"seconds": round(seconds, 3), "runtime": self.runtime,
                      "glyphs_per_second": round(generated / max(seconds, 1e-9), 1),
                      "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
        }
        try:
            save_dataset(dataset, out, manifest, config.format, config.preview)
        finally:
            if large:
                del dataset, images  # close the map before the file goes
                os.unlink(spill)
        write_json_atomic(sidecar_paths(out, config.format)[0], manifest)
        return out, manifest

    def _check_synth_budget(self, n: int, size: int, out: Path) -> None:
        """Refuses a set larger than this machine's memory (the 32 px glyphs and their noise
        are held whole) or disk (64 and 128 px glyphs stream to a file, then the output)."""
        from korean_gan._budget import check_disk, check_memory

        what = f"synth of {n:,} glyphs at {size} px"
        per_glyph = self.image_size ** 2 + 4 * self.noise_dim + 64  # image, noise, labels
        check_memory(what, n * per_glyph, "lower --per-class or make the set in parts "
                     "(--seed differs per part)")
        if size != self.image_size:
            check_disk(what, n * size * size * 3 // 2, Path(out).parent,
                       "free some disk, lower --per-class or --size, or write elsewhere")

    def _spill_large(self, images, labels, charset, styles, config, out, bar) -> str:
        """Upsamples and places glyphs batch by batch into a raw file beside ``out``, so that
        a large set never sits in memory whole; returns the file's path (the caller removes
        it)."""
        import tempfile

        from korean_gan._io import stream_target, sweep_stale_temps, temp_prefix

        chars = [charset.chars[i] for i in labels]
        # Beside the output (the same disk), unless that is a device such as /dev/null.
        folder = None if stream_target(out) else Path(out).parent
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            sweep_stale_temps(out)
        handle, spill = tempfile.mkstemp(prefix=temp_prefix(out), suffix=".raw", dir=folder)
        step = 256
        try:
            with os.fdopen(handle, "wb") as fh:
                for start in range(0, len(images), step):
                    stop = min(start + step, len(images))
                    fh.write(self._upsample_placed(images[start:stop], chars[start:stop],
                                                   styles[start:stop], config.size).tobytes())
                    bar.update(stop - start)
        except BaseException:
            os.unlink(spill)
            raise
        return spill

    def _synth_plan(self, config: SynthConfig, n_classes: int):
        """Which syllable, style and copy number each image of a synthetic set has.

        Returns:
            ``(labels, font_ids, copy, names, styles)``: per image its class, its style
            entry's index into ``names``, its number within its (syllable, style), the style
            entries' names, and its style vector ``(N, D)``.

        Raises:
            HandwritingError: an unknown style.
        """
        entries: list[str] = []
        for spec in config.styles or ("fonts",):
            # Font numbers and prefixes become the font's name (refusing unknown styles now).
            entries.extend(self.fonts if spec == "fonts" else [self.style_name(str(spec))])
        per = config.per_class
        labels = np.repeat(np.arange(n_classes, dtype=np.int32), per)
        slot = np.tile(np.arange(per), n_classes)
        # Each syllable's images go to the style entries in turn, each syllable going on from
        # where the one before stopped: every entry gets its share even when there are fewer
        # images per syllable than entries.
        offset = (labels.astype(np.int64) * per) % len(entries)
        entry = (offset + slot) % len(entries)
        # The image's number within its (syllable, entry).
        copy = ((offset + slot) // len(entries) - (entry < offset)).astype(np.int32)
        names = sorted(set(entries), key=entries.index)
        font_ids = np.array([names.index(entries[e]) for e in entry], np.int32)
        rng = np.random.default_rng(config.seed)
        styles = np.empty((len(labels), self.style_dim), np.float32)
        for font_id, name in enumerate(names):
            rows = font_ids == font_id
            styles[rows] = self.style_vectors(name, int(rows.sum()),
                                              int(rng.integers(2**31)))
        return labels, font_ids, copy, names, styles


# Batches go through the networks padded to a multiple of this many rows. oneDNN keeps the
# kernels it prepared for every input shape it has seen: a long-running process (the web app,
# a million text lines) fed batches of every size grew by ~30 MB per thousand lines, and a
# bounded set of shapes bounds it. Each row's output does not depend on its batch.
_BATCH_MULTIPLE = 64


def export_onnx(model: str | os.PathLike | None = "default",
                upsamplers: tuple[str | os.PathLike, ...] = ()) -> list[Path]:
    """Exports a conditional model's generator and upsamplers to ONNX for ``--runtime onnx``.

    Each export is run in ONNX Runtime beside its Keras network on a batch of random inputs
    before it is written; it is written (atomically, its sha256 added to the folder's model
    card) only if they agree: the generator within 1e-4, the upsampler within one grey level,
    the int8 generator within :data:`INT8_TOLERANCE` grey levels on average.

    Args:
        model: ``default``, a pretrained model's name or a run folder (None: none); its
            ``generator.onnx`` and ``generator-int8.onnx`` are written (the int8 one
            calibrated on :data:`INT8_CALIBRATION` glyphs of random syllables in the fonts'
            styles and random ones).
        upsamplers: Upsampler folders (``korean-gan train-upsampler`` output); each one's
            ``upsampler.onnx`` is written.

    Returns:
        The files written.

    Raises:
        HandwritingError: nothing loadable there, or an export that does not agree.
    """
    import keras

    from korean_gan.artifacts import (
        GENERATOR_FILE,
        ONNX_GENERATOR_FILE,
        ONNX_GENERATOR_INT8_FILE,
        ONNX_UPSAMPLER_FILE,
        STYLES_FILE,
        UPSAMPLER_FILE,
        add_card_file,
        load_upsampler,
    )
    from korean_gan.models.onnx_io import (
        OnnxNetwork,
        export_generator,
        export_generator_int8,
        export_upsampler,
    )

    rng = np.random.default_rng(0)
    written = []
    try:
        if model is not None:
            writer = Handwriting.load(model, precision="float32", runtime="tensorflow")
            data = export_generator(writer.generator)
            n = 64
            noise = rng.standard_normal((n, writer.noise_dim)).astype(np.float32)
            jamo = jamo_table([chr(0xAC00 + int(i)) for i in rng.integers(0, 11172, n)])
            styles = writer.styles[rng.integers(0, len(writer.styles), n)]
            expected = writer.generator([noise, jamo, styles], training=False).numpy()[..., 0]
            got = OnnxNetwork(data)(noise, jamo.astype(np.int32), styles)
            _check_export("generator", np.abs(got - expected).max(), 1e-4)
            folder = Path(writer.info["source"])
            data8 = export_generator_int8(writer.generator, *_int8_calibration(writer))
            got = OnnxNetwork(data8)(noise, jamo.astype(np.int32), styles)
            grey = np.abs(np.round(127.5 * (got - expected)))  # both in [-1, 1]
            _check_export("int8 generator (mean grey levels)", grey.mean(), INT8_TOLERANCE)
            written.append(add_card_file(folder, ONNX_GENERATOR_FILE, data,
                                         sources=(GENERATOR_FILE, STYLES_FILE)))
            written.append(add_card_file(folder, ONNX_GENERATOR_INT8_FILE, data8,
                                         sources=(GENERATOR_FILE, STYLES_FILE)))
        for folder in upsamplers:
            network = load_upsampler(folder)
            data = export_upsampler(network)
            size = int(network.input_shape[1])
            small = rng.integers(0, 256, (16, size, size)).astype(np.uint8)
            offsets = rng.normal(0.0, 1.0, 16).astype(np.float32)
            ink = 1.0 - small[..., None].astype(np.float32) / 255.0
            logits = keras.Model(network.input, network.get_layer("depth_to_space").output)(
                ink, training=False).numpy()[..., 0].astype(np.float64)
            expected = np.round(255.0 / (1.0 + np.exp(logits - offsets[:, None, None])))
            got = OnnxNetwork(data)(small, offsets).astype(np.float64)
            _check_export(f"upsampler {folder}", np.abs(got - expected).max(), 1.0)
            written.append(add_card_file(folder, ONNX_UPSAMPLER_FILE, data,
                                         sources=(UPSAMPLER_FILE,)))
    except ValueError as err:  # ArtifactError
        raise HandwritingError(str(err)) from None
    return written


#: Glyphs the int8 generator's activation ranges are measured on.
INT8_CALIBRATION = 1024
#: Mean grey-level difference (of 255) that an int8 export may have from float32's glyphs.
INT8_TOLERANCE = 2.0


def _int8_calibration(writer: Handwriting) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs to calibrate the int8 generator on: random syllables of all 11,172, half in the
    fonts' styles and half in random ones (``write --style random``), fixed seed."""
    from korean_gan.models.styles import random_styles

    n = INT8_CALIBRATION
    rng = np.random.default_rng(1)
    chars = [chr(0xAC00 + int(i)) for i in rng.integers(0, 11172, n)]
    styles = np.concatenate([writer.styles[rng.integers(0, len(writer.styles), n // 2)],
                             random_styles(writer.styles, n - n // 2, seed=1)])
    return (rng.standard_normal((n, writer.noise_dim)).astype(np.float32),
            jamo_table(chars).astype(np.int32), styles.astype(np.float32))


def _check_export(what: str, difference: float, tolerance: float) -> None:
    if not difference <= tolerance:
        raise HandwritingError(f"the ONNX export of the {what} differs from it by "
                               f"{difference:.3g} (more than {tolerance:g}); nothing was "
                               "written: report this with your onnx and onnxruntime versions")


def _padded(arrays):
    """The arrays (same length n) with their last row repeated up to the next multiple of
    :data:`_BATCH_MULTIPLE`."""
    n = len(arrays[0])
    extra = -n % _BATCH_MULTIPLE
    if extra == 0:
        return arrays
    return tuple(np.concatenate([a, np.repeat(a[-1:], extra, axis=0)]) for a in arrays)


def _legible(evaluator, charset: Charset, images: np.ndarray,
             labels: np.ndarray) -> tuple[np.ndarray, dict]:
    """Which glyphs the evaluator reads as the syllable asked for, and a summary for the
    manifest.

    Raises:
        HandwritingError: it reads none of them as asked.
    """
    _, probs = evaluator.predict(images)
    keep = probs.argmax(axis=1) == evaluator.label_map(charset)[labels]
    if not keep.any():
        raise HandwritingError(f"keep-legible: the evaluator {evaluator.name} read none "
                               "of the glyphs as asked; nothing was written")
    summary = {"evaluator": evaluator.name, "kept": int(keep.sum()),
               "dropped": int((~keep).sum()),
               "syllables_without_images": int(len(charset) - len(np.unique(labels[keep])))}
    return keep, summary


def sample_images(generator, n: int, seed: int = 0, batch_size: int = 1024) -> np.ndarray:
    """Generates ``n`` images of the reference (unconditional) generator as uint8 (n, S, S),
    255 = paper, from seeded noise.

    The same generator, ``n`` and ``seed`` give the same images.

    Raises:
        ValueError: ``n`` is not a positive integer.
    """
    from korean_gan.data.images import from_model_output

    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"number of samples must be a positive integer, got {n!r}")
    noise_dim = generator.input_shape[-1]
    noise = np.random.default_rng(seed).standard_normal((n, noise_dim)).astype(np.float32)
    out = [from_model_output(generator(noise[i:i + batch_size], training=False))
           for i in range(0, n, batch_size)]
    return np.concatenate(out)
