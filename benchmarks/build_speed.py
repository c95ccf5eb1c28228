"""Dataset build speed: ks2350 × the bundled fonts with the reference augmentation.

Builds into a temporary folder (deleted afterwards) with one worker process per CPU core and
prints fonts, glyphs, images, seconds and images/s. With ``--compare`` it also times a plain
single-process loop in the style of the reference project (Pillow draws the syllable, then the
four scikit-image transforms: two ``rotate`` and two wrap ``warp`` calls) over a subset of the
syllables, for comparison.

    .venv/bin/python benchmarks/build_speed.py [--charset ks2350] [--workers N] [--compare]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def build(charset: str, fonts: list[str], workers: int, augment: str) -> None:
    from korean_gan.data.dataset import build_dataset

    with tempfile.TemporaryDirectory(prefix="korean-gan-bench-") as tmp:
        result = build_dataset(charset=charset, fonts=tuple(fonts), augment=augment,
                               out=str(Path(tmp) / "bench.npz"), workers=workers,
                               progress=False, preview=False)
        size_mb = result.path.stat().st_size / 1e6
    print(f"build     charset {charset}, augment {augment}, workers {workers}")
    print(f"          fonts {result.n_fonts}, glyphs {result.n_glyphs:,}, "
          f"images {result.n_images:,} ({size_mb:.1f} MB npz)")
    print(f"          {result.seconds:.1f} s, {result.images_per_second:,.0f} images/s")


def baseline(charset: str, fonts: list[str], n_chars: int, n_fonts: int) -> None:
    """The reference project's way: one process, Pillow + scikit-image per glyph."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont
    from skimage.transform import AffineTransform, rotate, warp

    from korean_gan.data.charsets import resolve_charset
    from korean_gan.data.fonts import drawn_syllables, load_faces

    chars = resolve_charset(charset).chars[:n_chars]
    faces = load_faces(fonts[:n_fonts])
    shift_x, shift_y = AffineTransform(translation=(27, 0)), AffineTransform(translation=(0, 27))
    images = 0
    started = time.perf_counter()
    for face in faces:
        drawn, _ = drawn_syllables(face, chars)
        font = ImageFont.truetype(str(face.path), 28, index=face.index)
        for char in drawn:
            canvas = Image.new("L", (32, 32), 255)
            ImageDraw.Draw(canvas).text((16, 16), char, font=font, fill=0, anchor="mm")
            unit = np.asarray(canvas, dtype=np.float64) / 255.0
            variants = [unit, rotate(unit, 15, cval=1), rotate(unit, -15, cval=1),
                        warp(unit, shift_x, mode="wrap"), warp(unit, shift_y, mode="wrap")]
            batch = [np.rint(v * 255).astype(np.uint8) for v in variants]
            images += len(batch)
    seconds = time.perf_counter() - started
    print(f"baseline  single process, Pillow + scikit-image: {len(faces)} fonts × "
          f"{len(chars)} syllables, images {images:,}")
    print(f"          {seconds:.1f} s, {images / seconds:,.0f} images/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--charset", default="ks2350", help="charset to build (default ks2350)")
    parser.add_argument("--fonts", nargs="+", default=["bundled"],
                        help="font files or folders (default: the bundled corpus)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes (default: all cores)")
    parser.add_argument("--augment", default="reference",
                        help="augmentation policies (default reference)")
    parser.add_argument("--compare", action="store_true",
                        help="also time a plain single-process Pillow + scikit-image loop")
    parser.add_argument("--compare-chars", type=int, default=300,
                        help="syllables for the baseline (default 300)")
    parser.add_argument("--compare-fonts", type=int, default=3,
                        help="fonts for the baseline (default 3)")
    args = parser.parse_args()

    from korean_gan.data.fonts import find_font_files

    fonts = [str(p) for p in find_font_files(args.fonts)]
    print(f"{os.cpu_count()} CPU cores")
    build(args.charset, fonts, args.workers, args.augment)
    if args.compare:
        baseline(args.charset, fonts, args.compare_chars, args.compare_fonts)


if __name__ == "__main__":  # the builder's worker processes are spawned and re-import this file
    main()
