"""Distillation into a narrower last block, on a small untrained teacher."""

from __future__ import annotations

import json

import numpy as np
import pytest

FONTS = ["Alpha-Regular", "Beta-Bold", "Gamma-Regular"]


@pytest.fixture(scope="module")
def teacher_dir(tmp_path_factory, make_conditional_model_dir):
    """A conditional model folder with random weights: 32 channels in the first feature map,
    so blocks of 16, 8 and 4."""
    return make_conditional_model_dir(tmp_path_factory.mktemp("teacher"), FONTS, g_filters=32,
                                      seed=5)


def _grey_difference(a, b) -> float:
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


def test_distilled_model_loads_draws_like_its_teacher_and_is_reproducible(teacher_dir, tmp_path):
    from korean_gan.generate import Handwriting
    from korean_gan.training.distill import DistillConfig, distill

    config = DistillConfig(model=str(teacher_dir), out=str(tmp_path / "fast"),
                           block_filters=(16, 5, 2),
                           steps=60, batch_size=64, learning_rate=3e-3,
                           validation_glyphs=128, progress=False)
    result = distill(config)
    assert result.path == tmp_path / "fast"
    assert (result.teacher_block_filters, result.block_filters) == ((16, 8, 4), (16, 5, 2))
    # Training brings the student closer to the teacher than the warm start was.
    assert result.difference_end < result.difference_start

    student = Handwriting.load(result.path, precision="float32")
    teacher = Handwriting.load(teacher_dir, precision="float32")
    assert [student.generator.get_layer(f"conv_{b}").filters for b in (1, 2, 3)] == [16, 5, 2]
    # Block 1 was not narrowed: it is the teacher's, untouched.
    for name in ("dense", "conv_1", "cbn_1"):
        for a, b in zip(student.generator.get_layer(name).get_weights(),
                        teacher.generator.get_layer(name).get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
    assert student.fonts == teacher.fonts
    np.testing.assert_array_equal(student.styles, teacher.styles)
    saved = json.loads((result.path / "config.json").read_text())
    assert saved["g_block_filters"] == [16, 5, 2] and saved["g_filters"] == 32
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
    from korean_gan.training.distill import DistillError, distill

    out = tmp_path / "fast"
    with pytest.raises(DistillError, match=r"blocks have \(16, 8, 4\) channels; block_filters "
                                               r"must be narrower somewhere and wider nowhere, "
                                               r"got \(16, 8, 4\)"):
        distill(model=str(teacher_dir), out=str(out), block_filters=(16, 8, 4), progress=False)
    with pytest.raises(DistillError, match=r"wider nowhere, got \(16, 9, 2\)"):
        distill(model=str(teacher_dir), out=str(out), block_filters=(16, 9, 2), progress=False)
    with pytest.raises(DistillError, match="block_filters must be three positive integers"):
        distill(model=str(teacher_dir), out=str(out), block_filters=(16, 2))
    with pytest.raises(DistillError, match="steps must be a positive integer, got 0"):
        distill(model=str(teacher_dir), out=str(out), steps=0)
    with pytest.raises(DistillError, match="is the teacher's"):
        distill(model=str(teacher_dir), out=str(teacher_dir))
    with pytest.raises(DistillError, match="is not a model folder"):
        distill(model=str(tmp_path / "nothing"), out=str(out))
    assert not out.exists()


def test_cli_distill(teacher_dir, tmp_path, capsys):
    from korean_gan.cli import main

    out = tmp_path / "cli-fast"
    assert main(["distill", "--model", str(teacher_dir), "--out", str(out), "--filters",
                 "8,8,1", "--steps", "3", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "(blocks of 16,8,4 channels) into 8,8,1" in printed and str(out) in printed
    assert main(["synth", "--model", str(out), "--charset", "가각", "--per-class", "2",
                 "--styles", "mix", "--out", str(tmp_path / "s.npz"), "--quiet",
                 "--no-preview"]) == 0
    assert main(["distill", "--model", str(teacher_dir), "--out", str(out),
                 "--filters", "16,8,9"]) == 2
    assert "wider nowhere, got (16, 8, 9)" in capsys.readouterr().err
    assert main(["distill", "--model", str(teacher_dir), "--out", str(out),
                 "--filters", "16,8,x"]) == 2
    assert "--filters 16,8,x: give three whole numbers" in capsys.readouterr().err
