"""Training the glyph upsampler on pairs of font renders: the same syllable of the same font at
32 px and at 128 px.

The pairs are free and exact: ``data build --size 32`` and ``data build --size 128`` (both
``fit`` placement, the generator's) render the same glyphs at two sizes. The 32 px input is
degraded a little at random (blur, noise, contrast) so that the network learns to draw what a
font would draw from glyphs that are only close to a font's, as the generator's are. Fonts
named in ``held_out_fonts`` (the evaluators' held-out fonts by default) are left out, so the
benchmark can measure the upsampler on pens it never saw.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = ["UpsamplerConfig", "calibrate_stroke_bias", "pair_datasets", "train_upsampler"]

#: The fonts the committed evaluators were validated on and that no model trains on.
EVALUATOR_HELD_OUT_FONTS = ("NanumPenScript-Regular", "Dokdo-Regular", "BMYeonsung-Regular")


@dataclass
class UpsamplerConfig:
    """How the upsampler is trained.

    Attributes:
        small: The 32 px dataset (``data build --size 32 --augment none``).
        large: The same build at 128 px.
        charset: Syllables to train on (the rest of the build is kept for measuring).
        held_out_fonts: Fonts never trained on.
        filters: Channels of the network (``models.upsampler.build_upsampler``).
        blocks: Residual blocks.
        epochs: Passes over the pairs.
        batch_size: Pairs per step.
        learning_rate: Peak Adam learning rate, decayed to zero on a cosine.
        degrade: Blur, noise and contrast changes on the inputs.
        seed: Seed of shuffling, degradation and initial weights.
        out: The model folder to write.
    """

    small: str = "data/ks2350-32.npz"
    large: str = "data/ks2350-128.npz"
    charset: str = "ks2350-train"  # its 235 held-out syllables stay unseen
    held_out_fonts: tuple[str, ...] = field(default=EVALUATOR_HELD_OUT_FONTS)
    filters: int = 48
    blocks: int = 3
    epochs: int = 6
    batch_size: int = 64
    learning_rate: float = 2e-3
    degrade: bool = True
    seed: int = 0
    out: str = "runs/upsampler"


def pair_datasets(small, large, charset_chars=None, fonts=None, exclude_fonts=()):
    """Aligns two builds of the same glyphs at two sizes.

    Args:
        small: A loaded ``GlyphDataset`` (the input size).
        large: The same build at the output size.
        charset_chars: Keep only these syllables (None keeps all).
        fonts: Keep only these fonts (None keeps all).
        exclude_fonts: Fonts to leave out.

    Returns:
        ``(x, y, chars, font_names)``: uint8 input and target images (255 = paper) and, per
        pair, its syllable and font.

    Raises:
        ValueError: the builds do not hold the same glyphs.
    """
    def index(data):
        return {(data.fonts[f], data.charset.chars[c]): i
                for i, (f, c) in enumerate(zip(data.font_ids, data.labels, strict=True))
                if data.aug_ids[i] == 0}

    small_at, large_at = index(small), index(large)
    keys = [k for k in small_at if k in large_at]
    if not keys:
        raise ValueError("the two builds share no glyph (same charset and fonts, sizes "
                         "32 and 128, are needed)")
    keep_chars = set(charset_chars) if charset_chars is not None else None
    keep_fonts = set(fonts) if fonts is not None else None
    excluded = set(exclude_fonts)
    keys = [(f, c) for f, c in keys
            if (keep_chars is None or c in keep_chars) and (keep_fonts is None or f in keep_fonts)
            and f not in excluded]
    x = small.images[[small_at[k] for k in keys]]
    y = large.images[[large_at[k] for k in keys]]
    return x, y, [c for _, c in keys], [f for f, _ in keys]


def _degrade(ink, seed):
    """Random blur, noise and contrast on a batch of ink images in [0, 1] (N, S, S, 1)."""
    import tensorflow as tf

    n = tf.shape(ink)[0]
    seeds = tf.random.experimental.stateless_split(seed, 4)
    kernel = tf.constant([[1., 2., 1.], [2., 4., 2.], [1., 2., 1.]], tf.float32) / 16.0
    blurred = tf.nn.conv2d(ink, kernel[:, :, None, None], 1, "SAME")
    amount = tf.random.stateless_uniform((n, 1, 1, 1), seeds[0], 0.0, 0.6)
    ink = ink + amount * (blurred - ink)
    gamma = tf.exp(tf.random.stateless_uniform((n, 1, 1, 1), seeds[1], -0.25, 0.25))
    ink = tf.pow(tf.clip_by_value(ink, 1e-6, 1.0), gamma)
    noise = tf.random.stateless_normal(tf.shape(ink), seeds[2]) * \
        tf.random.stateless_uniform((n, 1, 1, 1), seeds[3], 0.0, 0.04)
    return tf.clip_by_value(ink + noise, 0.0, 1.0)


def train_upsampler(config: UpsamplerConfig | None = None, progress: bool = True, **overrides):
    """Trains the upsampler and writes its model folder.

    Args:
        config: The training config (default :class:`UpsamplerConfig`).
        progress: Show Keras's progress bar.
        **overrides: Fields of the config to change.

    Returns:
        ``(folder, card)``: the model folder and its model card.
    """
    import keras
    import tensorflow as tf

    from korean_gan.artifacts import write_upsampler_folder
    from korean_gan.data.charsets import resolve_charset
    from korean_gan.data.dataset import load_dataset
    from korean_gan.models.upsampler import build_upsampler

    config = UpsamplerConfig(**{**asdict(config or UpsamplerConfig()), **overrides})
    started = time.perf_counter()
    small, large = load_dataset(config.small), load_dataset(config.large)
    chars = resolve_charset(config.charset).chars
    x, y, _, font_names = pair_datasets(small, large, chars, exclude_fonts=config.held_out_fonts)
    keras.utils.set_random_seed(config.seed)
    model = build_upsampler(config.filters, config.blocks, factor=y.shape[1] // x.shape[1],
                            input_size=x.shape[1])
    steps = config.epochs * (len(x) // config.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(config.learning_rate, steps)
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=keras.losses.BinaryCrossentropy(), metrics=["mae"])

    base_seed = tf.constant([config.seed, 7], tf.int64)

    def to_ink(images):
        return 1.0 - tf.cast(images, tf.float32)[..., None] / 255.0

    def prepare(step, pair):
        inputs, targets = to_ink(pair[0]), to_ink(pair[1])
        if config.degrade:
            inputs = _degrade(inputs, tf.random.experimental.stateless_fold_in(base_seed, step))
        return inputs, targets

    data = (tf.data.Dataset.from_tensor_slices((x, y))
            .shuffle(len(x), seed=config.seed, reshuffle_each_iteration=True)
            .batch(config.batch_size, drop_remainder=True)
            .enumerate().map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE))
    history = model.fit(data, epochs=config.epochs, verbose=1 if progress else 2, shuffle=False)
    minutes = (time.perf_counter() - started) / 60
    card = {
        "description": f"Glyph upsampler: redraws a {x.shape[1]} px glyph at {y.shape[1]} px",
        "training": {
            "pairs": int(len(x)),
            "fonts": sorted(set(font_names)),
            "never_seen_fonts": list(config.held_out_fonts),
            "charset": config.charset,
            "data": [config.small, config.large],
            "epochs": config.epochs,
            "minutes_on_2_cpu_cores": round(minutes, 1),
            "final_loss": round(float(history.history["loss"][-1]), 5),
            "final_mae": round(float(history.history["mae"][-1]), 5),
        },
    }
    bias = calibrate_stroke_bias(model, x, y, font_names)
    folder = write_upsampler_folder(config.out, model, asdict(config), card, bias)
    return folder, card


def calibrate_stroke_bias(model, small: np.ndarray, large: np.ndarray, fonts,
                          per_font: int = 150, seed: int = 0) -> dict[str, float]:
    """Per font, the logit offset that makes the upsampler's strokes as wide as the font's.

    Upsampling a thin, varying brush stroke from 32 px is uncertain at its edges, and the ink
    probability crosses one half a little outside the true edge (about 10% too wide for the
    thinnest brushes). Shifting the logits by a constant per pen fixes that: the offset is
    found by bisection so that the median stroke width
    (:func:`korean_gan.evaluation.metrics.stroke_width`) of the upsampled training glyphs equals
    that of the real 128 px renders. Styles between fonts take the blend of the offsets.

    Args:
        model: The upsampler.
        small: uint8 (N, 32, 32) inputs (255 = paper), training glyphs.
        large: uint8 (N, 128, 128) real renders of the same glyphs.
        fonts: Per glyph, its font's name.
        per_font: Glyphs per font to calibrate on.
        seed: Seed of the choice of glyphs.

    Returns:
        ``{font: offset}``: subtract the offset from the logits (positive thins strokes).
    """
    from korean_gan.evaluation.metrics import stroke_width

    rng = np.random.default_rng(seed)
    fonts = np.asarray(fonts)
    out = {}
    for name in sorted(set(fonts.tolist())):
        rows = np.flatnonzero(fonts == name)
        rows = np.sort(rng.choice(rows, min(per_font, len(rows)), replace=False))
        target = float(np.nanmedian(stroke_width(large[rows])))
        prob = model.predict(1.0 - small[rows, :, :, None].astype(np.float32) / 255.0,
                             verbose=0)[..., 0].astype(np.float64)
        logit = np.log(np.clip(prob, 1e-7, 1.0)) - np.log(np.clip(1.0 - prob, 1e-7, 1.0))

        def width(offset: float, logit=logit) -> float:
            ink = logit - offset > 0.0  # ink probability above one half
            return float(np.nanmedian(stroke_width(np.where(ink, 0, 255).astype(np.uint8))))

        low, high = -3.0, 3.0  # wider strokes at low, thinner at high
        for _ in range(12):
            middle = (low + high) / 2
            if width(middle) > target:
                low = middle
            else:
                high = middle
        out[name] = round((low + high) / 2, 4)
    return out
