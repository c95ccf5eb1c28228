"""Generated handwriting: ask a trained conditional model for syllables, lines of text and
labelled datasets.

:class:`Handwriting` wraps the sampling generator of a conditional run (``--preset hangul``) or
the committed pretrained model (``korean_gan/pretrained/hangul``), with the training fonts'
learned style vectors:

* :meth:`Handwriting.glyphs`: images of any Hangul syllables (all 11,172 can be asked for: the
  model composes them from jamo) in a style;
* :meth:`Handwriting.write`: a line (or lines) of text as one image, spaces kept;
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

from korean_gan.artifacts import STYLE_DIR, ArtifactError, load_style, read_conditional_model
from korean_gan.data.charsets import Charset, is_hangul_syllable, jamo_table
from korean_gan.models.styles import mixed_styles, random_styles

__all__ = ["Handwriting", "HandwritingError", "SynthConfig", "sample_images"]


class HandwritingError(ValueError):
    """A model that cannot be loaded, or a request (text, style, charset) it cannot serve."""


def _describe(char: str) -> str:
    return f"{char!r} (U+{ord(char):04X})"


def _check_syllables(chars, what: str = "text") -> list[str]:
    out = []
    for position, char in enumerate(chars, start=1):
        if not isinstance(char, str) or not is_hangul_syllable(char):
            raise HandwritingError(f"character {position} of the {what}, "
                                   f"{_describe(str(char)) if len(str(char)) == 1 else repr(char)}"
                                   ", is not a Hangul syllable; only Hangul syllables (가-힣), "
                                   "spaces and line breaks can be written")
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
        keep_legible: Keep only the glyphs that the committed evaluator for the charset
            (``ks2350`` reads its subsets too) reads as the syllable asked for, so that every
            label is one a recogniser agrees with; a syllable may then have fewer than
            ``per_class`` images, or none (the manifest counts them).
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
        generator: The conditional generator (``models.build_conditional_generator``).
        styles: ``(F, D)`` style vectors of the training fonts.
        fonts: The training fonts' names (row order of ``styles``).
        info: Where the model came from and what it was trained on.
    """

    def __init__(self, generator, styles: np.ndarray, fonts: list[str], info: dict):
        self.generator = generator
        self.styles = np.asarray(styles, np.float32)
        self.fonts = list(fonts)
        self.info = info
        self.noise_dim = int(generator.inputs[0].shape[-1])
        self.style_dim = int(generator.inputs[2].shape[-1])
        self.image_size = int(generator.output_shape[1])
        if self.styles.shape != (len(self.fonts), self.style_dim):
            raise HandwritingError(f"styles have shape {self.styles.shape}; the generator needs "
                                   f"({len(self.fonts)}, {self.style_dim})")
        self.style_table = StyleTable(self.styles, self.fonts)
        self._forward = None

    @property
    def precision(self) -> str:
        """The dtype policy the generator computes in (``float32``, ``mixed_bfloat16``, ...)."""
        return self.generator.dtype_policy.name

    # --- loading ------------------------------------------------------------------------------

    @classmethod
    def load(cls, source: str | os.PathLike = "default",
             precision: str = "auto") -> Handwriting:
        """Loads the pretrained model (``default``) or a conditional run folder.

        Args:
            source: ``default`` (the committed model), a name under ``korean_gan/pretrained``,
                or a run folder of ``korean-gan train --preset hangul`` (its final
                ``generator.weights.h5`` and ``styles.npz``).
            precision: What the generator computes in: ``auto`` (``mixed_float16`` with a
                GPU; ``mixed_bfloat16`` on a CPU where bf16 is measured faster, see
                :func:`korean_gan.training.distribute.resolve_precision`; else ``float32``),
                ``float32`` or a mixed policy. The weights stay float32 either way; bf16
                glyphs differ from float32's by 0.2 grey levels on average. Pass ``float32``
                for output that is the same byte for byte on machines with the same kind of
                CPU and the same TensorFlow thread count (``TF_NUM_INTRAOP_THREADS``).

        Raises:
            HandwritingError: nothing loadable there, a file whose sha256 does not match the
                model card, or a run of another model.
        """
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

        Raises:
            HandwritingError: an unknown style, or a style file of another size.
        """
        return self.style_table.vectors(style, n, seed)

    def style_name(self, style: str) -> str:
        """The canonical name of a style specification (see :meth:`StyleTable.name`)."""
        return self.style_table.name(style)


    def _generate(self, jamo: np.ndarray, styles: np.ndarray, noise: np.ndarray,
                  batch_size: int = 1024, progress=None) -> np.ndarray:
        """uint8 images (N, S, S), 255 = paper, batch by batch through one traced graph."""
        import tensorflow as tf

        from korean_gan.data.images import from_model_output

        if self._forward is None:
            generator = self.generator
            # One graph for every batch size: a free batch dimension in the signature.
            self._forward = tf.function(
                lambda z, j, s: generator([z, j, s], training=False),
                input_signature=[tf.TensorSpec((None, self.noise_dim), tf.float32),
                                 tf.TensorSpec((None, 3), tf.int32),
                                 tf.TensorSpec((None, self.style_dim), tf.float32)])
        n = len(jamo)
        out = np.empty((n, self.image_size, self.image_size), np.uint8)
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            images = self._forward(tf.constant(noise[start:stop], tf.float32),
                                   tf.constant(jamo[start:stop], tf.int32),
                                   tf.constant(styles[start:stop], tf.float32))
            out[start:stop] = from_model_output(images.numpy())
            if progress is not None:
                progress.update(stop - start)
        return out

    def _noise(self, n: int, seed: int) -> np.ndarray:
        return np.random.default_rng(seed).standard_normal((n, self.noise_dim)).astype(
            np.float32)

    def glyphs(self, chars, style="random-one", seed: int = 0,
               batch_size: int = 1024) -> np.ndarray:
        """Images of syllables, as uint8 (N, S, S) with 255 = paper.

        Args:
            chars: A string or sequence of Hangul syllables (any of the 11,172).
            style: A style specification (see :meth:`style_vectors`); the default draws one new
                random style for all of them.
            seed: Seed of noise and random style: same seed, same images.
            batch_size: Images per generator call.
        """
        chars = _check_syllables(list(chars), "syllables")
        if not chars:
            raise HandwritingError("no syllables to draw")
        jamo = jamo_table(chars)
        styles = self.style_vectors(style, len(chars), seed)
        return self._generate(jamo, styles, self._noise(len(chars), seed), batch_size)

    def write(self, text: str, style="random-one", seed: int = 0, scale: int = 2,
              tracking: float = -0.08) -> np.ndarray:
        """Text in generated handwriting, as one uint8 image (255 = paper).

        Spaces are kept (half a glyph wide), line breaks start a new line; any other character
        that is not a Hangul syllable is refused.

        Args:
            text: The text, e.g. ``"안녕하세요"``.
            style: A style specification; the default is one new random style for the text.
            seed: Seed of noise and style.
            scale: Upscaling of the final image (smooth resampling).
            tracking: Extra space between glyphs, as a fraction of the glyph size (negative
                tightens, as handwriting does).

        Raises:
            HandwritingError: empty text or a character that is not Hangul.
        """
        from PIL import Image

        if not isinstance(text, str) or not text.strip():
            raise HandwritingError("nothing to write: give some Hangul text")
        lines = text.replace("\r\n", "\n").split("\n")
        syllables = [c for c in text if c not in " \n\r"]
        _check_syllables(syllables)
        images = iter(self.glyphs(syllables, style, seed))
        size = self.image_size
        advance = max(1, round(size * (1 + tracking)))
        space = size // 2
        widths = [sum(space if c == " " else advance for c in line) for line in lines]
        line_height = round(size * 1.15)
        pad = size // 4
        page = np.full((2 * pad + line_height * len(lines),
                        2 * pad + max(widths) + size - advance), 255, np.uint8)
        for row, line in enumerate(lines):
            x, y = pad, pad + row * line_height
            for char in line:
                if char == " ":
                    x += space
                    continue
                # Darkest wins where neighbouring cells overlap (ink over paper).
                cell = page[y:y + size, x:x + size]
                np.minimum(cell, next(images), out=cell)
                x += advance
        image = Image.fromarray(page)
        if scale != 1:
            image = image.resize((page.shape[1] * scale, page.shape[0] * scale),
                                 Image.Resampling.LANCZOS)
        return np.asarray(image)

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

    def synthesize(self, config: SynthConfig | None = None, **overrides):
        """Writes a labelled synthetic dataset (the ``data build`` format) and its manifest.

        Args:
            config: What to make (default :class:`SynthConfig`).
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
        if isinstance(config.styles, str):
            config.styles = tuple(s for s in config.styles.split(",") if s)
        if not isinstance(config.per_class, int) or config.per_class < 1:
            raise HandwritingError(f"per-class must be a positive integer, got "
                                   f"{config.per_class!r}")
        charset = resolve_charset(config.charset)
        out = Path(config.out) if config.out else Path("data") / (
            f"synth-{charset.name}.npz" if config.format == "npz" else f"synth-{charset.name}")
        check_dataset_target(out, config.format)
        evaluator = self._legibility_evaluator(charset) if config.keep_legible else None
        started = time.perf_counter()
        n_classes = len(charset)
        labels, font_ids, copy, names, styles = self._synth_plan(config, n_classes)
        jamo = jamo_table(charset.chars)[labels]
        noise = np.random.default_rng([config.seed, 1]).standard_normal(
            (len(labels), self.noise_dim)).astype(np.float32)
        from tqdm.auto import tqdm

        with tqdm(total=len(labels), unit="glyph", desc="synth",
                  disable=not config.progress) as bar:
            images = self._generate(jamo, styles, noise, config.batch_size, bar)
        seconds = time.perf_counter() - started
        generated = len(images)
        legibility = None
        if evaluator is not None:
            keep, legibility = _legible(evaluator, charset, images, labels)
            images, labels, font_ids, copy = (a[keep] for a in (images, labels, font_ids, copy))
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
            "build": {"seconds": round(seconds, 3),
                      "glyphs_per_second": round(generated / max(seconds, 1e-9), 1),
                      "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
        }
        save_dataset(dataset, out, manifest, config.format, config.preview)
        write_json_atomic(sidecar_paths(out, config.format)[0], manifest)
        return out, manifest

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
