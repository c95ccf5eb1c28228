"""Do new random styles write the syllables asked for? ``random-one`` screened and unscreened.

``write --style random`` and ``font --style random`` use one new style, ``random-one``, which
``Handwriting.crisp_random_style`` screens: a draw must write its probe syllables with solid
strokes and have them read right by the evaluator's jamo heads. This measures what the screen
buys, on syllables that are not in the probe:

* for each of ``--seeds`` seeds, the style ``random-one`` gives and the unscreened first draw
  (``random_styles(styles, 1, seed)``, what the seed gave before the screen and what a line of
  ``lines --styles random`` gets) write the same ``--chars`` random syllables of ks2350-train
  that are not probe syllables, with the same noise;
* two readers read them: the ks2350 evaluator (syllable accuracy; the screen used its jamo
  heads, so it is not an independent judge) and a reader with no network, the nearest real
  glyph by pixel distance among every bundled font's render of all 2,350 KS X 1001 syllables
  (coarse, but a screen fitted to one network cannot flatter it);
* the time the screen takes per style, in the runtime ``write`` uses (ONNX Runtime, float32).

Needs ``data/ks2350.npz`` (``korean-gan data build --charset ks2350 --augment none --out
data/ks2350.npz``). About 3 minutes on 2 cores::

    python benchmarks/random_styles.py --json benchmarks/results/random_styles.json
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from provenance import write_result  # this folder is on sys.path when run as a script


def pixel_reader(real_path: Path):
    """A function reading uint8 glyphs ``(N, 32, 32)`` as the syllable of the nearest real glyph
    (pixel L2) among every font's render in ``real_path``."""
    from korean_gan.data.dataset import load_dataset

    real = load_dataset(real_path)
    ref = real.images.reshape(len(real.images), -1).astype(np.float32)
    norms = (ref ** 2).sum(axis=1)
    names = np.array(real.charset.chars)[real.labels]

    def read(glyphs: np.ndarray) -> np.ndarray:
        flat = glyphs.reshape(len(glyphs), -1).astype(np.float32)
        return np.concatenate([names[(norms[None] - 2 * flat[i:i + 1024] @ ref.T).argmin(1)]
                               for i in range(0, len(flat), 1024)])

    return read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--seeds", type=int, default=200, help="styles: seeds 0..N-1")
    parser.add_argument("--chars", type=int, default=60, help="syllables each style writes")
    parser.add_argument("--real-data", type=Path, default=Path("data/ks2350.npz"))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if not args.real_data.is_file():
        raise SystemExit(f"{args.real_data} not found: build it with korean-gan data build "
                         "--charset ks2350 --augment none --out data/ks2350.npz")

    from korean_gan.data.charsets import jamo_table, ks2350_train
    from korean_gan.evaluation.evaluator import Evaluator
    from korean_gan.generate import PROBE_SYLLABLES, Handwriting
    from korean_gan.models.styles import random_styles

    hw = Handwriting.load(args.model, precision="float32", runtime="onnx")
    evaluator = Evaluator.load("ks2350")
    index = {c: i for i, c in enumerate(evaluator.charset.chars)}
    pool = [c for c in ks2350_train().chars if c not in PROBE_SYLLABLES]
    chars = "".join(np.random.default_rng(1).choice(pool, args.chars, replace=False))
    read_pixels = pixel_reader(args.real_data)

    started = time.perf_counter()
    screened = np.stack([hw.crisp_random_style(seed) for seed in range(args.seeds)])
    screen_ms = 1000 * (time.perf_counter() - started) / args.seeds
    first = np.concatenate([random_styles(hw.styles, 1, seed) for seed in range(args.seeds)])
    kept = np.all(screened == first, axis=1)

    k, n = len(chars), args.seeds
    jamo = np.tile(jamo_table(chars), (n, 1))
    noise = np.tile(hw._noise(k, 5), (n, 1))
    want = np.tile(list(chars), n)
    rows = {}
    for name, styles in (("unscreened", first), ("random-one", screened)):
        glyphs = hw._generate(jamo, np.repeat(styles, k, axis=0), noise)
        probs = evaluator.predict(glyphs)[1]
        by_evaluator = (probs.argmax(1) == [index[c] for c in want]).reshape(n, k).mean(1)
        by_pixels = (read_pixels(glyphs) == want).reshape(n, k).mean(1)
        rows[name] = {"evaluator": round(float(by_evaluator.mean()), 4),
                      "pixel_reader": round(float(by_pixels.mean()), 4),
                      "styles_with_a_misread_glyph": int((by_evaluator < 1).sum()),
                      "worst_style_evaluator": round(float(by_evaluator.min()), 4)}
        print(f"{name:>11}: evaluator {by_evaluator.mean():.2%}, pixel reader "
              f"{by_pixels.mean():.2%}, styles with a misread glyph "
              f"{int((by_evaluator < 1).sum())} of {n}")
    f = len(hw.fonts)
    fonts = hw._generate(np.tile(jamo_table(chars), (f, 1)), np.repeat(hw.styles, k, axis=0),
                         np.tile(hw._noise(k, 5), (f, 1)))
    font_want = np.tile(list(chars), len(hw.fonts))
    rows["font_styles"] = {
        "evaluator": round(float(np.mean(evaluator.predict(fonts)[1].argmax(1)
                                         == [index[c] for c in font_want])), 4),
        "pixel_reader": round(float(np.mean(read_pixels(fonts) == font_want)), 4)}
    print(f"the 18 font styles: evaluator {rows['font_styles']['evaluator']:.2%}, pixel reader "
          f"{rows['font_styles']['pixel_reader']:.2%}")
    print(f"seeds whose first draw passes the screen: {int(kept.sum())} of {n}; "
          f"the screen takes {screen_ms:.0f} ms a style")
    if args.json:
        write_result(args.json, {
            "model": args.model, "runtime": "onnx", "precision": "float32",
            "seeds": n, "chars": chars, "evaluator": evaluator.name,
            "readings": rows, "first_draw_kept": int(kept.sum()),
            "screen_ms_per_style": round(screen_ms, 1),
            "pixel_reader": "nearest real glyph (pixel L2) among every bundled font's render "
                            f"of the 2,350 KS X 1001 syllables ({args.real_data})"})


if __name__ == "__main__":
    main()
