"""Distillation into a narrower last block, on a small untrained teacher."""

from __future__ import annotations

import json

import numpy as np
import pytest

FONTS = ["Alpha-Regular", "Beta-Bold", "Gamma-Regular"]


@pytest.fixture(scope="module")
def teacher_dir(tmp_path_factory, make_conditional_model_dir):
    """A conditional model folder with random weights: 32 channels in the first feature map,
    so 4 in the last block."""
    return make_conditional_model_dir(tmp_path_factory.mktemp("teacher"), FONTS, g_filters=32,
                                      seed=5)


def _grey_difference(a, b) -> float:
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


def test_distilled_model_loads_draws_like_its_teacher_and_is_reproducible(teacher_dir, tmp_path):
    from korean_gan.distill import DistillConfig, distill
    from korean_gan.handwriting import Handwriting

    config = DistillConfig(model=str(teacher_dir), out=str(tmp_path / "fast"), last_filters=2,
                           steps=60, batch_size=64, learning_rate=1e-2,
                           validation_glyphs=128, progress=False)
    result = distill(config)
    assert result.path == tmp_path / "fast"
    assert (result.teacher_filters, result.last_filters) == (4, 2)
    # Training brings the student closer to the teacher than the warm start was.
    assert result.difference_end < result.difference_start

    student = Handwriting.load(result.path, precision="float32")
    teacher = Handwriting.load(teacher_dir, precision="float32")
    assert student.generator.get_layer("conv_3").filters == 2
    assert student.fonts == teacher.fonts
    np.testing.assert_array_equal(student.styles, teacher.styles)
    saved = json.loads((result.path / "config.json").read_text())
    assert saved["g_last_filters"] == 2 and saved["g_filters"] == 32
    assert saved["distill"]["difference_end"] == result.difference_end
    # Its glyphs, of syllables it never trained on by name, are near the teacher's: closer
    # than the teacher's glyphs in another style are.
    text = "똠방각하"
    near = _grey_difference(student.glyphs(text, style=1, seed=2),
                            teacher.glyphs(text, style=1, seed=2))
    far = _grey_difference(teacher.glyphs(text, style=0, seed=2),
                           teacher.glyphs(text, style=1, seed=2))
    assert near < far

    # Same seed, same weights.
    again = distill(config, out=str(tmp_path / "again"))
    assert again.difference_end == result.difference_end
    np.testing.assert_array_equal(student.glyphs(text, style="mix", seed=4),
                                  Handwriting.load(again.path, precision="float32").glyphs(
                                      text, style="mix", seed=4))


def test_distill_refuses_bad_settings_before_work(teacher_dir, tmp_path):
    from korean_gan.distill import distill
    from korean_gan.handwriting import HandwritingError

    out = tmp_path / "fast"
    with pytest.raises(HandwritingError, match="last block has 4 channels; last_filters must "
                                               "be fewer, got 4"):
        distill(model=str(teacher_dir), out=str(out), last_filters=4, progress=False)
    with pytest.raises(HandwritingError, match="steps must be a positive integer, got 0"):
        distill(model=str(teacher_dir), out=str(out), steps=0)
    with pytest.raises(HandwritingError, match="is the teacher's"):
        distill(model=str(teacher_dir), out=str(teacher_dir))
    with pytest.raises(HandwritingError, match="is not a model folder"):
        distill(model=str(tmp_path / "nothing"), out=str(out))
    assert not out.exists()


def test_cli_distill(teacher_dir, tmp_path, capsys):
    from korean_gan.cli import main

    out = tmp_path / "cli-fast"
    assert main(["distill", "--model", str(teacher_dir), "--out", str(out), "--last-filters",
                 "1", "--steps", "3", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "last block 4 channels) into 1 channels" in printed and str(out) in printed
    assert main(["synth", "--model", str(out), "--charset", "가각", "--per-class", "2",
                 "--styles", "mix", "--out", str(tmp_path / "s.npz"), "--quiet",
                 "--no-preview"]) == 0
    assert main(["distill", "--model", str(teacher_dir), "--out", str(out),
                 "--last-filters", "9"]) == 2
    assert "last_filters must be fewer, got 9" in capsys.readouterr().err
