"""Lines for a recognizer: is generated line data useful to train a text-line recognizer?

A small CRNN (Shi et al. 2015, https://arxiv.org/abs/1507.05717) with CTC is trained from
scratch on one of three training sets of height-32 line images, and its character error rate
(CER = edit distance / reference length, over all characters including spaces) is measured on
two test sets in handwriting it never saw:

Training sets (N lines each; C has 2N):

* **A synthetic**: ``make_lines(random=N, styles="fonts", height=32, seed=1)``: every Hangul
  syllable drawn by the model (the 18 training fonts' styles), default ``LineAugment``.
* **B real-font**: the same texts, line for line, typeset in the 18 real training fonts (line
  ``i`` in font ``i mod 18``) with the same layout code (the font's own metrics, the same
  Latin fonts for digits and punctuation) and the same ``lineaug`` augmentation (glyph
  jitter, rotation, line effects; each line with its own generator): what a font-based
  generator such as trdg gives, with only the glyph source different.
* **C real + synthetic**: A and B together.

Test sets:

* **T1**: 500 lines of fresh random text (another seed) typeset in the evaluators' three
  held-out fonts (Nanum Pen Script, Dokdo, BM Yeonsung, in turn) with *light* augmentation
  (every ``LineAugment`` setting at half its default).
* **T2**: "handwriting" read by the photo pipeline: ``--t2-pages`` (3) pages of the
  ``ks2350`` template (72 consecutive syllables each, pages spread over the charset, 216
  syllables per font) are filled with each held-out font
  (``tests/test_template_ingest.py``'s ``fill_page``: glyphs at 72-88 % of the box, shifted
  at random), photographed (``photograph``: turned 4°,
  perspective, blur, uneven light, noise, JPEG) and ingested (``ingest_photos``: 32 px
  glyphs). 500 lines of random text restricted to the ingested syllables are laid out with
  the font's metrics and the ingested glyphs pasted into the boxes (digits and punctuation
  from the font itself); no further augmentation.

The recognizer: four Conv-BN-ReLU blocks with pooling collapse the 32 px height to 2 rows and
the width by 4, a Dense projection, two bidirectional LSTMs and a Dense softmax. The output
units are, by default, **jamo** (``--units jamo``): each Hangul syllable's label is its
initial, medial and (if any) final jamo (19 + 21 + 27 classes), other characters (digits,
punctuation, space) are their own classes; greedy CTC decoding and recomposition give back
syllables, and CER is computed on the characters of the text. ``--units chars`` uses one
class per character of the label texts (about 2,350 syllables) instead: with uniform random
syllables every syllable is seen only some 35 times in N = 8,000 lines, likely too few for a
CRNN to learn in a few CPU-minutes (not run for the result file). All three models get the
same architecture, initial weights (``keras.utils.set_random_seed``), batch size,
learning-rate schedule and number of batches (``--epochs`` passes over N lines: C, with 2N
lines, sees each line half as often; ``--max-minutes`` stops a model early, recorded as
``stopped_early``).

Sets are cached in ``--work`` (A is the slow one: the GAN draws ~14 lines/s on 2 cores; a
cached A of at least N lines made with the same seed and height is reused, its first N
lines being exactly ``random=N``'s lines).

Usage::

    python benchmarks/lines_recognizer.py [--n 8000] [--epochs 4] [--max-minutes 12] \
        [--work /tmp/lines_recognizer] [--json benchmarks/results/lines_recognizer.json]
    python benchmarks/lines_recognizer.py --quick      # smoke run: 300 lines, 1 epoch
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provenance import write_result  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
HELD_OUT_FONTS = ("NanumPenScript-Regular", "Dokdo-Regular", "BMYeonsung-Regular")
HEIGHT = 32
TRAIN_SEED, T1_SEED, T2_SEED, B_AUG_SEED = 1, 2, 3, 4
LIGHT = dict(size_jitter=0.03, baseline_jitter=0.015, spacing_jitter=0.015, rotation=1.0,
             slant=0.06, ink_weight=0.25, paper=0.25, blur=0.15, noise=0.15, jpeg=0.15)

# --- Hangul jamo units ------------------------------------------------------------------------

SYL0, N_L, N_V, N_T = 0xAC00, 19, 21, 28


def to_units(text: str, mode: str) -> list[str]:
    """The label of ``text`` as output units: characters, or jamo (``L3``, ``V0``, ``T5``)."""
    if mode == "chars":
        return list(text)
    out = []
    for ch in text:
        code = ord(ch) - SYL0
        if 0 <= code < N_L * N_V * N_T:
            out += [f"L{code // (N_V * N_T)}", f"V{code // N_T % N_V}"]
            if code % N_T:
                out.append(f"T{code % N_T}")
        else:
            out.append(ch)
    return out


def from_units(units: list[str], mode: str) -> str:
    """Text from decoded units; jamo are composed into syllables (a stray jamo is dropped)."""
    if mode == "chars":
        return "".join(units)
    out, i = [], 0
    while i < len(units):
        u = units[i]
        if len(u) > 1 and u[0] == "L" and i + 1 < len(units) and units[i + 1][0] == "V" \
                and len(units[i + 1]) > 1:
            t = 0
            if i + 2 < len(units) and len(units[i + 2]) > 1 and units[i + 2][0] == "T":
                t = int(units[i + 2][1:])
            out.append(chr(SYL0 + (int(u[1:]) * N_V + int(units[i + 1][1:])) * N_T + t))
            i += 3 if t else 2
        elif len(u) > 1:  # a jamo that makes no syllable
            i += 1
        else:
            out.append(u)
            i += 1
    return "".join(out)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


# --- making the sets --------------------------------------------------------------------------

def _metrics():
    from korean_gan.artifacts import FONT_METRICS_FILE, UPSAMPLER_DIR
    from korean_gan.data.metrics import MetricsTable

    return MetricsTable.load(UPSAMPLER_DIR / FONT_METRICS_FILE)


def _font_path(name: str) -> Path:
    from korean_gan.data.fonts import bundled_font_dir

    return sorted(bundled_font_dir().glob(f"{name}*.[to]tf"))[0]


class FontSet:
    """A font's metrics and its layout fonts (itself, then Gamja Flower), as ``make_lines``
    uses them for a font's own style with ``latin_from="auto"``."""

    def __init__(self, name: str, table, px: int = HEIGHT):
        from korean_gan.data.layout import FontGlyphs
        from korean_gan.generate import FALLBACK_FONT

        self.name = name
        self.metrics = table.font(name)
        self.own = FontGlyphs(_font_path(name), px)
        self.others = [self.own] + ([FontGlyphs(_font_path(FALLBACK_FONT), px)]
                                    if name != FALLBACK_FONT else [])


def render_line(text: str, fonts: FontSet, hangul_glyph, aug, rng, px: int = HEIGHT):
    """One line laid out and drawn exactly as ``textlines._LineDrawer`` does, but with the
    Hangul glyphs from ``hangul_glyph(char)`` (None: the line cannot be drawn)."""
    import cv2

    from korean_gan.data.layout import layout_text, paste_ink
    from korean_gan.data.lineaug import glyph_jitter, line_effects, rotate_glyph

    width, height, placements = layout_text(text, fonts.metrics, fonts.others, px,
                                            pad=round(px / 8))
    by_name = {f.name: f for f in fonts.others}
    glyphs = []
    for p in placements:
        glyph = hangul_glyph(p.char) if p.source == "hangul" else \
            by_name[p.source].glyph(p.char)[0]
        if glyph is None:
            return None
        glyphs.append(glyph)
    boxes, angles = glyph_jitter([p.box for p in placements], px, aug, rng)
    width = max([width] + [box[2] + px // 8 for box in boxes])
    page = np.full((height, width), 255, np.uint8)
    for glyph, box, angle in zip(glyphs, boxes, angles, strict=True):
        paste_ink(page, rotate_glyph(glyph, angle) if angle else glyph, box)
    page, _, _ = line_effects(page, boxes, px, aug, rng)
    scale = px / page.shape[0]
    return cv2.resize(page, (max(1, round(page.shape[1] * scale)), px),
                      interpolation=cv2.INTER_AREA)


def synthetic_set(n: int, work: Path) -> tuple[list, dict]:
    """Set A: ``make_lines(random=N, styles="fonts", height=32, seed=1)``, cached."""
    from korean_gan.data.linesets import read_lineset
    from korean_gan.textlines import LinesConfig, make_lines

    cached = sorted((p for p in work.glob(f"A_h{HEIGHT}_n*") if (p / "manifest.json").is_file()
                     and int(p.name.rsplit("n", 1)[1]) >= n),
                    key=lambda p: int(p.name.rsplit("n", 1)[1]))
    if cached:
        folder = cached[0]
    else:
        folder = work / f"A_h{HEIGHT}_n{n}"
        make_lines(LinesConfig(out=str(folder), random=n, styles="fonts", height=HEIGHT,
                               seed=TRAIN_SEED, progress=False))
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    lines = [(r.image, r.text, int(r.key), r.style) for r in read_lineset(folder)
             if int(r.key) < n]
    made = manifest["lines"]
    info = {"folder": str(folder), "made_lines": made["written"],
            "made_seconds": manifest["build"]["seconds"],
            "lines_per_second": manifest["build"]["lines_per_second"],
            "reused_cache": bool(cached)}
    return lines, info


def real_font_set(synthetic: list, fonts: list[str], table) -> tuple[list, dict]:
    """Set B: A's texts typeset in the real training fonts, line i in font i mod 18 (the
    next font if that one lacks a glyph), with the default augmentation."""
    from korean_gan.data.lineaug import LineAugment

    started = time.perf_counter()
    sets = [FontSet(name, table) for name in fonts]
    aug = LineAugment()
    out, moved = [], 0
    for _, text, index, _ in synthetic:
        rng = np.random.default_rng([B_AUG_SEED, index])
        for k in range(len(sets)):
            fs = sets[(index + k) % len(sets)]
            image = render_line(text, fs, lambda c, fs=fs: (fs.own.glyph(c) or (None,))[0],
                                aug, rng)
            if image is not None:
                out.append((image, text, index, fs.name))
                moved += k > 0
                break
    return out, {"seconds": round(time.perf_counter() - started, 1),
                 "lines_in_next_font": moved}


def font_test_set(n: int, table) -> list:
    """T1: fresh random lines in the held-out fonts, light augmentation."""
    from korean_gan.data.corpus import SyllableDistribution, random_line
    from korean_gan.data.lineaug import LineAugment

    dist = SyllableDistribution.uniform_ks2350()
    sets = [FontSet(name, table) for name in HELD_OUT_FONTS]
    aug = LineAugment(**LIGHT)
    out, i = [], 0
    while len(out) < n:
        rng = np.random.default_rng([T1_SEED, i])
        text = random_line(rng, dist)
        fs = sets[len(out) % len(sets)]
        image = render_line(text, fs, lambda c, fs=fs: (fs.own.glyph(c) or (None,))[0], aug,
                            rng)
        if image is not None:
            out.append((image, text, i, fs.name))
        i += 1
    return out


def photo_test_set(n: int, table, pages_per_font: int, work: Path) -> tuple[list, dict]:
    """T2: lines composed of glyphs ingested from synthetic photos of filled template pages."""
    from korean_gan.data.corpus import SyllableDistribution, random_line
    from korean_gan.data.fonts import load_faces
    from korean_gan.data.lineaug import LineAugment
    from korean_gan.data.render import GlyphRenderer, RenderConfig
    from korean_gan.handwriting.ingest import ingest_photos
    from korean_gan.handwriting.template import make_layout

    sys.path.insert(0, str(REPO / "tests"))
    from test_template_ingest import fill_page, photograph

    started = time.perf_counter()
    layout = make_layout("ks2350")
    n_pages = len(layout.pages)
    folder = work / "t2_photos"
    folder.mkdir(parents=True, exist_ok=True)
    glyph_sets, info = [], {"pages": {}, "ingested": {}, "cells_not_ok": {}}
    for k, name in enumerate(HELD_OUT_FONTS):
        rng = np.random.default_rng([T2_SEED, k])
        # Pages spread over the charset, different for each font.
        pages = sorted({(k + len(HELD_OUT_FONTS) * j) * max(1, n_pages // (
            len(HELD_OUT_FONTS) * pages_per_font)) % n_pages for j in range(pages_per_font)})
        renderer = GlyphRenderer(load_faces([_font_path(name)])[0], RenderConfig(size=128))
        photos = []
        for page in pages:
            path = folder / f"{name}-p{page:02d}.jpg"
            path.write_bytes(photograph(fill_page(layout, page, renderer, rng), rng))
            photos.append(path)
        renderer.close()
        data, reports, _ = ingest_photos(photos, layout, size=32, style=name)
        chars = list(data.charset.chars)
        glyphs = {}
        for image, label in zip(data.images, data.labels, strict=True):
            glyphs.setdefault(chars[int(label)], image)
        glyph_sets.append((FontSet(name, table), glyphs))
        info["pages"][name] = pages
        info["ingested"][name] = len(glyphs)
        info["cells_not_ok"][name] = sum(r.status != "ok" for r in reports)
    aug = LineAugment.none()
    out, i = [], 0
    while len(out) < n:
        fs, glyphs = glyph_sets[len(out) % len(glyph_sets)]
        rng = np.random.default_rng([T2_SEED, 100, i])
        text = random_line(rng, SyllableDistribution(sorted(glyphs)))
        image = render_line(text, fs, glyphs.get, aug, rng)
        if image is not None:
            out.append((image, text, i, fs.name))
        i += 1
    info["seconds"] = round(time.perf_counter() - started, 1)
    return out, info


# --- the recognizer ---------------------------------------------------------------------------

def build_model(n_classes: int, lstm_units: int = 128):
    """CRNN: (32, W, 1) ink in [0, 1] -> (W/4, n_classes + 1) logits, blank = class 0."""
    import keras
    from keras import layers

    def block(x, filters, pool):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        return layers.MaxPooling2D(pool)(x) if pool else x

    inputs = keras.Input((HEIGHT, None, 1))
    x = block(inputs, 32, (2, 2))       # 16 x W/2
    x = block(x, 64, (2, 2))            # 8 x W/4
    x = block(x, 128, (2, 1))           # 4 x W/4
    x = block(x, 160, (2, 1))           # 2 x W/4
    x = layers.Permute((2, 1, 3))(x)    # W/4 x 2 x 160
    x = layers.Reshape((-1, 2 * 160))(x)
    x = layers.Dense(160, activation="relu")(x)
    x = layers.Dropout(0.2)(x)
    for _ in range(2):
        x = layers.Bidirectional(layers.LSTM(lstm_units, return_sequences=True))(x)
    outputs = layers.Dense(n_classes + 1)(x)
    return keras.Model(inputs, outputs, name="crnn")


def _batch(images: list, pad_to: int = 32) -> np.ndarray:
    width = max(im.shape[1] for im in images)
    width = -(-width // pad_to) * pad_to
    x = np.zeros((len(images), HEIGHT, width, 1), np.float32)
    for i, im in enumerate(images):
        x[i, :, :im.shape[1], 0] = (255.0 - im) / 255.0
    return x


def _batches(lines: list, batch_size: int, rng) -> list[list[int]]:
    """Index batches of similar width (less padding): shuffled, sorted in pools of 50."""
    order = rng.permutation(len(lines))
    pool = batch_size * 50
    out = []
    for s in range(0, len(order), pool):
        chunk = sorted(order[s:s + pool], key=lambda i: lines[i][0].shape[1])
        out += [chunk[j:j + batch_size] for j in range(0, len(chunk), batch_size)]
    rng.shuffle(out)
    return out


def train(lines: list, vocab: dict, units: str, steps: int, batch_size: int, seed: int,
          lr: float = 1e-3, max_seconds: float = float("inf"), log_every: int = 50) -> tuple:
    """Trains a fresh CRNN with CTC for ``steps`` batches (Adam, cosine decay of the learning
    rate), passing over ``lines`` as often as that takes; stops early after ``max_seconds``."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    model = build_model(len(vocab))
    rng = np.random.default_rng(seed)
    labels = [[vocab[u] for u in to_units(text, units) if u in vocab] for _, text, _, _ in lines]
    schedule = keras.optimizers.schedules.CosineDecay(lr, steps, alpha=0.05,
                                                      warmup_target=None)
    optimizer = keras.optimizers.Adam(schedule, clipnorm=5.0)

    @tf.function(input_signature=[tf.TensorSpec([None, HEIGHT, None, 1], tf.float32),
                                  tf.TensorSpec([None, None], tf.int32),
                                  tf.TensorSpec([None], tf.int32)])
    def step(x, y, y_len):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            t = tf.shape(logits)[1]
            loss = tf.reduce_mean(tf.nn.ctc_loss(
                y, logits, y_len, tf.fill([tf.shape(x)[0]], t), logits_time_major=False,
                blank_index=0))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
        return loss

    started = time.perf_counter()
    history, k, epoch = [], 0, 0
    while k < steps and time.perf_counter() - started < max_seconds:
        losses = []
        epoch += 1
        for idx in _batches(lines, batch_size, rng):
            if k >= steps or time.perf_counter() - started > max_seconds:
                break
            x = _batch([lines[i][0] for i in idx])
            y_len = np.array([len(labels[i]) for i in idx], np.int32)
            y = np.zeros((len(idx), max(1, y_len.max())), np.int32)
            for r, i in enumerate(idx):
                y[r, :y_len[r]] = labels[i]
            losses.append(float(step(x, y, y_len)))
            k += 1
            if k % log_every == 0:
                print(f"  step {k}/{steps} loss {np.mean(losses[-log_every:]):.3f} "
                      f"{time.perf_counter() - started:.0f}s", flush=True)
        history.append({"pass": epoch, "batches": len(losses),
                        "loss": round(float(np.mean(losses)), 4),
                        "seconds": round(time.perf_counter() - started, 1)})
        print(f"  pass {epoch}: loss {history[-1]['loss']:.3f} "
              f"({history[-1]['seconds']:.0f}s)", flush=True)
    return model, {"steps": k, "planned_steps": steps, "stopped_early": k < steps,
                   "epochs": round(k * batch_size / len(lines), 2),
                   "seconds": round(time.perf_counter() - started, 1), "history": history}


def evaluate(model, lines: list, vocab: dict, units: str, batch_size: int = 64) -> dict:
    """Greedy CTC decoding; CER overall and per font, and a few examples."""
    inverse = {v: u for u, v in vocab.items()}
    order = sorted(range(len(lines)), key=lambda i: lines[i][0].shape[1])
    predictions = {}
    for s in range(0, len(order), batch_size):
        idx = order[s:s + batch_size]
        best = np.asarray(model(_batch([lines[i][0] for i in idx]), training=False)).argmax(-1)
        for r, i in enumerate(idx):
            t = -(-lines[i][0].shape[1] // 4)
            seq = best[r, :t]
            keep = seq[(seq != 0) & np.r_[True, seq[1:] != seq[:-1]]]
            predictions[i] = from_units([inverse[int(c)] for c in keep], units)
    errors, total, per_font = 0, 0, {}
    for i, (_, text, _, font) in enumerate(lines):
        e = edit_distance(predictions[i], text)
        errors += e
        total += len(text)
        f = per_font.setdefault(font, [0, 0])
        f[0] += e
        f[1] += len(text)
    return {"cer": round(errors / total, 4), "characters": total,
            "line_accuracy": round(float(np.mean([predictions[i] == lines[i][1]
                                                  for i in range(len(lines))])), 4),
            "cer_per_font": {f: round(e / t, 4) for f, (e, t) in per_font.items()},
            "examples": [{"truth": lines[i][1], "read": predictions[i]} for i in range(3)]}


# --- the benchmark ----------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=8000, help="lines in A and in B")
    parser.add_argument("--epochs", type=float, default=4,
                        help="passes over N lines; every model trains for the same number of "
                             "batches, so C sees its 2N lines half as often")
    parser.add_argument("--max-minutes", type=float, default=float("inf"),
                        help="stop a model's training after this long (a safety net)")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--units", choices=("jamo", "chars"), default="jamo")
    parser.add_argument("--test-lines", type=int, default=500)
    parser.add_argument("--t2-pages", type=int, default=3,
                        help="ks2350 template pages (72 syllables each) per held-out font")
    parser.add_argument("--models", default="A,B,C")
    parser.add_argument("--seed", type=int, default=0, help="model initialisation and order")
    parser.add_argument("--work", default="/tmp/lines_recognizer")
    parser.add_argument("--json", default=str(REPO / "benchmarks/results/lines_recognizer.json"))
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 300 lines, 1 epoch, 60 test lines, 1 page per font")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.epochs, args.test_lines, args.t2_pages = 300, 1.0, 60, 1
        args.json = str(Path(args.work) / "quick.json")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    from korean_gan.generate import Handwriting

    fonts = Handwriting.load().fonts
    table = _metrics()
    print(f"A: {args.n} synthetic lines", flush=True)
    set_a, info_a = synthetic_set(args.n, work)
    print(f"B: the same texts in {len(fonts)} fonts", flush=True)
    set_b, info_b = real_font_set(set_a, fonts, table)
    print("T1, T2", flush=True)
    t1 = font_test_set(args.test_lines, table)
    t2, info_t2 = photo_test_set(args.test_lines, table, args.t2_pages, work)
    print(f"sets ready: A {len(set_a)} B {len(set_b)} T1 {len(t1)} T2 {len(t2)} "
          f"({time.perf_counter() - started:.0f}s)", flush=True)

    texts = [text for _, text, _, _ in set_a]
    units = sorted({u for text in texts for u in to_units(text, args.units)})
    if args.units == "jamo":  # every jamo, seen or not
        units = sorted(set(units) | {f"L{i}" for i in range(N_L)} | {f"V{i}" for i in range(N_V)}
                       | {f"T{i}" for i in range(1, N_T)})
    vocab = {u: i + 1 for i, u in enumerate(units)}
    train_sets = {"A": ("synthetic (model-drawn)", set_a), "B": ("real fonts", set_b),
                  "C": ("real fonts + synthetic", set_a + set_b)}

    def describe(lines):
        widths = [im.shape[1] for im, *_ in lines]
        return {"lines": len(lines), "characters": sum(len(t) for _, t, _, _ in lines),
                "mean_width_px": round(float(np.mean(widths)), 1)}

    steps = round(args.epochs * args.n / args.batch)
    result = {
        "what": "CER of a CRNN+CTC line recognizer trained on generated (A), real-font (B) "
                "and both (C) line images, on held-out-font lines (T1) and lines of "
                "photo-ingested handwriting glyphs (T2)",
        "settings": {"n": args.n, "height": HEIGHT, "epochs_over_n": args.epochs,
                     "steps_per_model": steps, "batch": args.batch, "lr": args.lr,
                     "lr_schedule": "cosine to 5%", "units": args.units,
                     "classes": len(vocab) + 1, "seed": args.seed, "quick": args.quick,
                     "t1_augment": LIGHT, "t2_augment": "none",
                     "held_out_fonts": list(HELD_OUT_FONTS)},
        "sets": {"A": {**describe(set_a), **info_a}, "B": {**describe(set_b), **info_b},
                 "T1": describe(t1), "T2": {**describe(t2), **info_t2}},
        "models": {},
    }
    for name in args.models.split(","):
        label, lines = train_sets[name]
        print(f"model {name}: {label}, {len(lines)} lines", flush=True)
        model, log = train(lines, vocab, args.units, steps, args.batch, args.seed, args.lr,
                           max_seconds=60 * args.max_minutes)
        row = {"trained_on": label, "train_lines": len(lines), "epochs": log["epochs"],
               "parameters": int(model.count_params()), "train": log,
               "T1": evaluate(model, t1, vocab, args.units),
               "T2": evaluate(model, t2, vocab, args.units)}
        result["models"][name] = row
        print(f"model {name}: T1 CER {row['T1']['cer']:.4f}  T2 CER {row['T2']['cer']:.4f}  "
              f"{log['seconds']:.0f}s", flush=True)
        write_result(args.json, result)  # partial results survive an interruption

    m = result["models"]
    if {"A", "B"} <= m.keys():
        goals = {}
        for t in ("T1", "T2"):
            goals[t] = {"synthetic_within_1.1x_real":
                        m["A"][t]["cer"] <= 1.1 * m["B"][t]["cer"],
                        "synthetic_over_real_cer": round(m["A"][t]["cer"] / m["B"][t]["cer"], 3)}
            if "C" in m:
                goals[t]["real_plus_synthetic_better_than_real"] = \
                    m["C"][t]["cer"] < m["B"][t]["cer"]
        result["goals"] = goals
    result["seconds_total"] = round(time.perf_counter() - started, 1)
    write_result(args.json, result)
    print(json.dumps({k: {t: v[t]["cer"] for t in ("T1", "T2")} for k, v in m.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
