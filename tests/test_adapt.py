"""Tests for :mod:`korean_gan.handwriting.adapt`: fitting a style vector to glyphs, on a tiny
generator.

The generator is a small, untrained conditional generator: fitting must find back a style that
made the target glyphs, which needs no trained model.
"""

from __future__ import annotations

import numpy as np
import pytest

from korean_gan.data.charsets import Charset
from korean_gan.generate import Handwriting, HandwritingError
from korean_gan.models.styles import random_styles

CHARS = "가나다라마바아사자차타파하전미정"


@pytest.fixture(scope="module")
def writer() -> Handwriting:
    import keras

    from korean_gan.models.networks import build_conditional_generator

    # Little noise, a style that weighs as much as the content: an untrained network whose
    # glyphs depend on the style clearly enough to be fitted.
    keras.utils.set_random_seed(0)
    generator = build_conditional_generator(noise_dim=2, style_dim=8, jamo_dim=4,
                                            base_filters=32)
    styles = (3 * np.random.default_rng(0).standard_normal((6, 8))).astype(np.float32)
    return Handwriting(generator, styles, [f"font{i}" for i in range(6)], {"source": "tiny"})


def _targets(writer, seed=1):
    true = random_styles(writer.styles, 1, seed=seed)[0]
    return true, writer.glyphs(CHARS, style=true, seed=seed)


def test_fit_style_finds_back_the_style_that_drew_the_glyphs(writer):
    from korean_gan.handwriting.adapt import fit_style

    true, images = _targets(writer)
    vector, report = fit_style(writer, images, CHARS, steps=150, seed=0)
    start = writer.styles[writer.fonts.index(report["start"])] if report["start"] != "mean" \
        else writer.styles.mean(axis=0)
    # Measured: loss 0.080 -> 0.043 (the rest is the noise's share); distance to the true
    # style 2.84 -> 0.07.
    assert report["loss_end"] < 0.8 * report["loss_start"], report
    assert np.linalg.norm(vector - true) < 0.25 * np.linalg.norm(start - true)


def test_adapt_saves_a_style_that_write_finds(tmp_path, writer):
    from korean_gan.data.dataset import GlyphDataset, save_dataset
    from korean_gan.handwriting.adapt import adapt

    _, images = _targets(writer, seed=2)
    zeros = np.zeros(len(CHARS), np.int32)
    save_dataset(GlyphDataset(images, np.arange(len(CHARS), dtype=np.int32),
                              Charset("mine", tuple(CHARS)), ["mine"], zeros, ["orig"],
                              zeros.copy()), tmp_path / "mine.npz", {}, preview=False)
    calls = []
    result = adapt(writer=writer, data=str(tmp_path / "mine.npz"), steps=20,
                   out=str(tmp_path / "styles" / "mine.npz"),
                   on_progress=lambda *call: calls.append(call))
    assert result.name == "mine" and result.n_glyphs == 16
    # Progress before the first step and after each one.
    assert calls == [("adapt", done, 20) for done in range(21)]
    found = writer.style_vectors(str(result.path), 3)
    assert np.allclose(found, result.vector[None])
    image = writer.write("안녕", style=str(result.path))
    assert image.dtype == np.uint8 and image.ndim == 2


def test_adapt_refuses_bad_input(tmp_path, writer):
    from korean_gan.handwriting.adapt import adapt, fit_style

    with pytest.raises(HandwritingError, match="model draws 32 px"):
        fit_style(writer, np.full((2, 48, 48), 255, np.uint8), "가나", steps=1)
    with pytest.raises(HandwritingError, match="no glyphs"):
        fit_style(writer, np.zeros((0, 32, 32), np.uint8), "", steps=1)
    from korean_gan.data.dataset import DatasetError

    with pytest.raises(DatasetError, match="does not exist"):
        adapt(writer=writer, data=str(tmp_path / "missing.npz"))


def test_from_template_to_write_in_your_style(tmp_path, monkeypatch, capsys, font_dir):
    """The README's commands, in order: template, (a synthetic photo), ingest, adapt, write,
    with a tiny conditional model folder standing in for the pretrained one."""
    import json

    import keras

    from korean_gan.cli import main
    from korean_gan.data.fonts import load_faces
    from korean_gan.data.render import GlyphRenderer, RenderConfig
    from korean_gan.handwriting.template import load_layout
    from korean_gan.models.networks import build_conditional_generator
    from test_template_ingest import fill_page, photograph

    monkeypatch.chdir(tmp_path)
    keras.utils.set_random_seed(0)
    model = tmp_path / "tiny-model"
    model.mkdir()
    generator = build_conditional_generator(noise_dim=2, style_dim=8, base_filters=32)
    generator.save_weights(str(model / "generator.weights.h5"))
    np.savez(model / "styles.npz", styles=np.random.default_rng(0).standard_normal((3, 8)),
             fonts=np.array(["a", "b", "c"]))
    (model / "config.json").write_text(json.dumps({"model": "conditional", "noise_dim": 2,
                                                   "g_filters": 32}))

    assert main(["template", "--charset", "seed16", "--out", "sheet.pdf"]) == 0
    face = load_faces([font_dir / "CuteFont-Regular.ttf"])[0]
    rng = np.random.default_rng(0)
    page = fill_page(load_layout("sheet.json"), 0, GlyphRenderer(face, RenderConfig(size=128)),
                     rng)
    (tmp_path / "photo.jpg").write_bytes(photograph(page, rng))
    assert main(["ingest", "photo.jpg", "--layout", "sheet.json", "--out", "data/mine.npz"]) == 0
    assert main(["adapt", "--style-from", "data/mine.npz", "--model", str(model),
                 "--steps", "5"]) == 0
    assert (tmp_path / "styles" / "mine.npz").is_file()
    out = capsys.readouterr().out
    assert "--style mine" in out
    assert main(["write", "안녕하세요", "--style", "mine", "--model", str(model),
                 "--out", "hello.png"]) == 0
    assert (tmp_path / "hello.png").is_file()

    # ... and font: the 16 syllables you wrote are kept as written (traced from the photo).
    import ots
    from fontTools.ttLib import TTFont

    from korean_gan.data.charsets import SEED16
    from korean_gan.data.fonts import load_faces as faces_of
    from korean_gan.data.render import GlyphRenderer as Renderer

    for written in ("auto", "none"):
        assert main(["font", "--style", "mine", "--model", str(model), "--charset", "seed16",
                     "--written", written, "--out", f"mine-{written}.ttf", "--quiet"]) == 0
        assert ots.sanitize(f"mine-{written}.ttf", "checked.ttf",
                            capture_output=True).returncode == 0
    assert "16 syllables, 16 as you wrote them" in capsys.readouterr().out
    assert TTFont("mine-auto.ttf").getBestCmap().keys() >= {ord(c) for c in SEED16}
    # Kept as written, the font's glyphs look like the handwriting (here a font's renders),
    # not like the untrained model's blobs.
    hand = GlyphRenderer(face, RenderConfig(size=32))
    kept = Renderer(faces_of([tmp_path / "mine-auto.ttf"])[0], RenderConfig(size=32))
    model_drawn = Renderer(faces_of([tmp_path / "mine-none.ttf"])[0], RenderConfig(size=32))

    def iou(a, b):
        return float(((a < 128) & (b < 128)).sum() / max(((a < 128) | (b < 128)).sum(), 1))

    for char in SEED16:
        assert iou(kept.render(char), hand.render(char)) > 0.5, char
        assert iou(kept.render(char), hand.render(char)) > \
            iou(model_drawn.render(char), hand.render(char)), char
