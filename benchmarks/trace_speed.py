"""Tracing speed: the potrace program (run by korean_gan.data.trace) against potracer, the
pure-Python port, on 200 Gaegu syllables rendered at 128 px.

    python benchmarks/trace_speed.py        # needs potrace (apt-get) and potracer (pip)

Prints glyphs per second for each. The program enlarges each glyph 2x before tracing (as the
font export does); potracer traces it at 1x, a quarter of the pixels.
"""

from __future__ import annotations

import time

import numpy as np


def main() -> int:
    import potrace  # potracer (GPL; not a dependency of the project)

    from korean_gan.data.fonts import bundled_font_dir, load_faces
    from korean_gan.data.render import GlyphRenderer, RenderConfig
    from korean_gan.data.trace import trace_glyphs

    face = load_faces([bundled_font_dir() / "Gaegu-Regular.ttf"])[0]
    renderer = GlyphRenderer(face, RenderConfig(size=128))
    candidates = (renderer.render(chr(0xAC00 + i * 37)) for i in range(300))
    images = [image for image in candidates if image is not None][:200]
    started = time.perf_counter()
    trace_glyphs(images, [(0, 0, 1, 1)] * len(images))
    program = len(images) / (time.perf_counter() - started)
    started = time.perf_counter()
    for image in images[:50]:
        potrace.Bitmap(np.asarray(image) < 128).trace(turdsize=4, alphamax=1.0, opticurve=True,
                                                       opttolerance=0.2)
    port = 50 / (time.perf_counter() - started)
    print(f"potrace program: {program:.0f} glyphs/s; potracer (pure Python, 1x): {port:.1f} "
          "glyphs/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
