"""The glyph upsampler: its network, its training on font render pairs, its folder, and the
committed one's quality on a font it never saw."""

from __future__ import annotations

import json

import numpy as np
import pytest

from korean_gan.data.fonts import bundled_font_dir


def test_network_shapes_and_dims_round_trip():
    from korean_gan.models.upsampler import build_upsampler, upsampler_dims

    model = build_upsampler(filters=8, blocks=1)
    out = model(np.zeros((2, 32, 32, 1), np.float32))
    assert tuple(out.shape) == (2, 128, 128, 1)
    assert float(np.min(out)) >= 0.0 and float(np.max(out)) <= 1.0
    assert upsampler_dims(model) == {"filters": 8, "blocks": 1, "factor": 4, "input_size": 32}
    with pytest.raises(ValueError, match="filters must be a positive integer"):
        build_upsampler(filters=0)


@pytest.fixture(scope="module")
def pair_builds(tmp_path_factory):
    from korean_gan.data.dataset import build_dataset

    folder = tmp_path_factory.mktemp("pairs")
    fonts = tuple(str(bundled_font_dir() / f) for f in ("Gaegu-Regular.ttf",
                                                         "BMJua-Regular.ttf"))
    paths = {}
    for size in (32, 128):
        paths[size] = folder / f"p{size}.npz"
        build_dataset(charset="가나다라마바사아자차카타파하", fonts=fonts, augment=("none",),
                      size=size, out=str(paths[size]), workers=1, preview=False,
                      progress=False)
    return paths


def test_pairs_align_the_same_glyph_at_two_sizes(pair_builds):
    from PIL import Image

    from korean_gan.data.dataset import load_dataset
    from korean_gan.training.upsample import pair_datasets

    small, large = load_dataset(pair_builds[32]), load_dataset(pair_builds[128])
    x, y, chars, fonts = pair_datasets(small, large, exclude_fonts=("BMJua-Regular",))
    assert x.shape == (14, 32, 32) and y.shape == (14, 128, 128)
    assert set(fonts) == {"Gaegu-Regular"} and chars[0] == "가"
    # The 128 px render averaged down is the 32 px render, up to rounding and hinting.
    down = np.stack([np.asarray(Image.fromarray(i).resize((32, 32), Image.Resampling.BOX))
                     for i in y]).astype(float)
    assert np.abs(down - x).mean() < 6.0


def test_training_writes_a_folder_that_loads_and_is_checked(pair_builds, tmp_path):
    from korean_gan.artifacts import ArtifactError, load_upsampler
    from korean_gan.training.upsample import train_upsampler

    folder, card = train_upsampler(small=str(pair_builds[32]), large=str(pair_builds[128]),
                                   charset="가나다라마바사", held_out_fonts=("BMJua-Regular",),
                                   filters=8, blocks=1, epochs=1, batch_size=4,
                                   out=str(tmp_path / "up"), progress=False)
    assert card["training"]["pairs"] == 7 and card["training"]["fonts"] == ["Gaegu-Regular"]
    offsets = json.loads((folder / "stroke_bias.json").read_text())
    assert list(offsets) == ["Gaegu-Regular"] and -3 <= offsets["Gaegu-Regular"] <= 3
    model = load_upsampler(folder)
    assert model.output_shape == (None, 128, 128, 1)
    settings = json.loads((folder / "config.json").read_text())
    assert settings["architecture"] == {"filters": 8, "blocks": 1, "factor": 4,
                                        "input_size": 32}
    weights = folder / "upsampler.weights.h5"
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="does not match the sha256 in model.json"):
        load_upsampler(folder)
    with pytest.raises(ArtifactError, match="is not an upsampler folder"):
        load_upsampler(tmp_path)


def test_committed_upsampler_beats_resampling_on_a_font_it_never_saw():
    """Dokdo is one of the evaluators' held-out fonts, never trained on."""
    from PIL import Image

    from korean_gan.artifacts import load_upsampler
    from korean_gan.data.fonts import load_faces
    from korean_gan.data.render import GlyphRenderer, RenderConfig

    face = load_faces([bundled_font_dir() / "Dokdo-Regular.ttf"])[0]
    chars = "곪읊닭꽃쥐햇달빛"  # all drawn by Dokdo
    small = np.stack([GlyphRenderer(face, RenderConfig(size=32)).render(c) for c in chars])
    large = np.stack([GlyphRenderer(face, RenderConfig(size=128)).render(c) for c in chars])
    model = load_upsampler()
    ink = model(1.0 - small[..., None].astype(np.float32) / 255).numpy()[..., 0]
    ours = np.rint(255 * (1 - ink))
    bicubic = np.stack([np.asarray(Image.fromarray(i).resize((128, 128),
                                                             Image.Resampling.BICUBIC))
                        for i in small])

    def iou(a, b):
        a, b = a < 128, b < 128
        return (a & b).sum() / (a | b).sum()

    assert iou(ours, large) > iou(bicubic, large) + 0.02
    assert np.abs(ours - large).mean() < np.abs(bicubic.astype(float) - large).mean()


def test_committed_64px_upsampler_draws_as_the_128px_one_averaged_down():
    """The smaller upsampler that text lines up to 64 px high use, on a font neither saw:
    as close to the real 64 px render as the 128 px upsampler averaged down, and closer than
    resampling."""
    from PIL import Image

    from korean_gan.artifacts import UPSAMPLER64_DIR, load_upsampler
    from korean_gan.data.fonts import load_faces
    from korean_gan.data.render import GlyphRenderer, RenderConfig

    face = load_faces([bundled_font_dir() / "Dokdo-Regular.ttf"])[0]
    chars = "곪읊닭꽃쥐햇달빛"

    def renders(size):
        return np.stack([GlyphRenderer(face, RenderConfig(size=size)).render(c) for c in chars])

    def redraw(model, images):
        ink = model(1.0 - images[..., None].astype(np.float32) / 255).numpy()[..., 0]
        return np.rint(255 * (1 - ink))

    def shrink(images, size, method):
        return np.stack([np.asarray(Image.fromarray(np.uint8(i)).resize((size, size), method))
                         for i in images])

    small, real = renders(32), renders(64)
    model = load_upsampler(UPSAMPLER64_DIR)
    assert model.output_shape == (None, 64, 64, 1)
    ours = redraw(model, small)
    averaged = shrink(redraw(load_upsampler(), small), 64, Image.Resampling.BOX)
    bicubic = shrink(small, 64, Image.Resampling.BICUBIC)

    def iou(a, b):
        a, b = a < 128, b < 128
        return (a & b).sum() / (a | b).sum()

    assert iou(ours, real) > iou(bicubic, real) + 0.01
    assert abs(iou(ours, real) - iou(averaged, real)) < 0.01


def test_stroke_calibration_finds_the_offset_that_gives_the_fonts_width(pair_builds):
    """A stand-in upsampler that draws every stroke too wide (ink probability crossing one
    half outside the true edge): the offset found thins it back to the real width."""
    from scipy.ndimage import gaussian_filter

    from korean_gan.data.dataset import load_dataset
    from korean_gan.evaluation.metrics import stroke_width
    from korean_gan.training.upsample import calibrate_stroke_bias, pair_datasets

    x, y, _, fonts = pair_datasets(load_dataset(pair_builds[32]), load_dataset(pair_builds[128]))
    ink = 1.0 - y.astype(np.float64) / 255.0
    soft = np.stack([gaussian_filter(i, 2.0) for i in ink])
    logits = 12.0 * (soft - 0.3)  # ink where the blur passes 0.3: too wide

    class TooWide:
        def predict(self, inputs, verbose=0):
            rows = [int(np.flatnonzero((x == np.rint(255 * (1 - i[..., 0]))).all(axis=(1, 2)))[0])
                    for i in inputs]
            return (1 / (1 + np.exp(-logits[rows])))[..., None]

    offsets = calibrate_stroke_bias(TooWide(), x, y, fonts, per_font=14)
    assert set(offsets) == {"Gaegu-Regular", "BMJua-Regular"}
    for name, offset in offsets.items():
        rows = [i for i, f in enumerate(fonts) if f == name]
        real = np.nanmedian(stroke_width(y[rows]))
        before = np.nanmedian(stroke_width(np.where(logits[rows] > 0, 0, 255)))
        after = np.nanmedian(stroke_width(np.where(logits[rows] - offset > 0, 0, 255)))
        assert offset > 0 and before > 1.1 * real
        assert after == pytest.approx(real, rel=0.05)
